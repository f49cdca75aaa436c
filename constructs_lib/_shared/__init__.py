"""CDK-side helpers that every unit of `constructs_lib/` shares: copy this folder along with a unit.

`custom_resource` (a Lambda function that CloudFormation invokes directly), `resources` (the
conventions for keys and fixed-name groups), `log_key` (a rotating
KMS key whose policy admits CloudWatch Logs for one stack's log groups only), `nag` (cdk-nag
acknowledgments on one resource, with CDK's own `Validations` API) and `names` (physical names
fixed at synth, unique per construct path and stack name). Runtime code is not shared:
each Lambda package holds only its own unit's `runtime/` folder.
"""
