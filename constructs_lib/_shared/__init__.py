"""Helpers that every unit of `constructs_lib/` shares: copy this folder along with a unit.

CDK side: `custom_resource` (a Lambda function that CloudFormation invokes directly),
`log_group_guard` (such a function keeping a service-named log group from outliving the stack),
`lambda_package` (a function's code: its handler and the modules it imports), `resources` (the
conventions for keys, log groups and service roles), `log_key` (a rotating KMS key whose policy
admits CloudWatch Logs for one stack's log groups only), `notifications` (findings sent to people
through an encrypted, TLS-only topic), `subnets` (the subnet ids a selection picks), `nag` (cdk-nag
acknowledgments on one resource, with CDK's own `Validations` API) and `names` (physical names
fixed at synth, unique per construct path and stack name).

Runtime side: `runtime/` holds the modules the units' Lambda handlers share (`cfn_response`, the
custom-resource protocol; `log_group_guard`; `cleanup_report`). It is not a package: its modules
are top-level modules in each function's package, where `lambda_package` copies the ones a handler
imports, and in the tests, which put the folder on `sys.path`.
"""
