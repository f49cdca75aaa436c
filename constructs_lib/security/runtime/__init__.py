"""Lambda handlers of the GuardDuty unit; `cfn_response` speaks the custom-resource protocol for all."""
