"""The stage-wide settings that every stack applies to what it creates, and the stacks' base.

The configuration names them as a user writes them (`removal_policy: retain`,
`log_retention_days: 30`); `app.py` turns them into one `StageSettings` and hands it to every
stack (a `StageStack`), so that no stack re-derives a removal policy or a retention period from
the file's words, and all of them read the retention in the same type.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_logs as logs
from constructs import Construct

from stacks.config import AppConfig
from stacks.config.common import LOG_RETENTION_DAYS, REMOVAL_POLICIES


@dataclass(frozen=True)
class StageSettings:
    """What every stack of a stage applies.

    `removal_policy`: what stateful resources (keys, repositories, log groups) do on `cdk destroy`;
    `log_retention_days`: the retention of every log group (`log_retention` as CDK's enum);
    `deletion_protection`: on the resources that have it (load balancers, databases).
    """

    removal_policy: cdk.RemovalPolicy
    log_retention_days: int
    deletion_protection: bool

    def __post_init__(self) -> None:
        if self.log_retention_days not in LOG_RETENTION_DAYS:
            raise ValueError(
                f"log_retention_days must be one of {', '.join(map(str, LOG_RETENTION_DAYS))} "
                f"(the periods CloudWatch Logs accepts), got {self.log_retention_days}"
            )

    @classmethod
    def of(cls, config: AppConfig) -> StageSettings:
        """The settings of the stage that `config` describes."""
        return cls(
            removal_policy=REMOVAL_POLICIES[config.removal_policy],
            log_retention_days=config.log_retention_days,
            deletion_protection=config.deletion_protection,
        )

    @property
    def log_retention(self) -> logs.RetentionDays:
        """`log_retention_days` as the value CDK's log groups take."""
        return LOG_RETENTION_DAYS[self.log_retention_days]

    @property
    def sandbox(self) -> bool:
        """Whether the stage destroys what it made (`removal_policy: destroy`), as the sandbox does.

        Such a stage also deletes what CloudFormation would leave behind (images in repositories,
        repositories ECR created) and keeps no final database snapshot.
        """
        return self.removal_policy == cdk.RemovalPolicy.DESTROY


class StageStack(cdk.Stack):
    """A stack of the architecture: CDK's stack props, plus the stage's settings as `settings`.

    Every subclass has the same signature: scope and id, then by keyword the objects it takes
    from other stacks and its configuration section (`config`), handing the rest on (`settings`
    included). Those signatures look alike by design.
    """

    def __init__(
        self, scope: Construct, construct_id: str, *, settings: StageSettings, **kwargs: Any
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.settings = settings
