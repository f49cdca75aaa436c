"""Lambda handlers of the ECS unit's custom resources (packaged alone, one module per function)."""
