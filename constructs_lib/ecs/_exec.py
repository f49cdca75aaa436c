"""ECS Exec as this unit's clusters set it up: every session encrypted with a key and logged to a group.

Sessions are encrypted with a customer managed KMS key on top of TLS, and each session's input
and output goes to a CloudWatch log group (logging OVERRIDE):
https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs-exec.html
"""

from __future__ import annotations

from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs


def audited_exec(
    key: kms.IKey, log_group: logs.ILogGroup, *, cloud_watch_encryption_enabled: bool
) -> ecs.ExecuteCommandConfiguration:
    """Sessions encrypted with `key` and logged to `log_group`.

    `cloud_watch_encryption_enabled` makes ECS check that the group is encrypted, and makes every
    service with ECS Exec add a key policy statement admitting CloudWatch Logs for any log group of
    the account (aws-ecs BaseService.enableExecuteCommand): leave it off where the key's own policy
    already admits CloudWatch Logs for the stack's groups only.
    """
    return ecs.ExecuteCommandConfiguration(
        kms_key=key,
        logging=ecs.ExecuteCommandLogging.OVERRIDE,
        log_configuration=ecs.ExecuteCommandLogConfiguration(
            cloud_watch_log_group=log_group,
            cloud_watch_encryption_enabled=cloud_watch_encryption_enabled,
        ),
    )
