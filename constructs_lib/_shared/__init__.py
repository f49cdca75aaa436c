"""CDK-side helpers that every unit of `constructs_lib/` shares: copy this folder along with a unit.

`custom_resource` (a Lambda function that CloudFormation invokes directly), `log_group_guard` (such
a function keeping a service-named log group from outliving the stack), `resources` (the
conventions for keys, log groups and service roles), `log_key` (a rotating
KMS key whose policy admits CloudWatch Logs for one stack's log groups only), `notifications` (the
findings topic and its dead-letter queue), `nag` (cdk-nag acknowledgments on one resource, with
CDK's own `Validations` API) and `names` (physical names fixed at synth, unique per construct path
and stack name). Runtime code is not shared: each Lambda package holds only its own unit's
`runtime/` folder.
"""
