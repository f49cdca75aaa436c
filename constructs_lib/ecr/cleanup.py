"""Deletes, on `cdk destroy`, the repositories that ECR created by itself (talk: ECR, teardown).

Repositories made by a pull-through cache pull or by replication are not CloudFormation
resources, so a plain stack delete leaves them behind: still billed for storage, and encrypted
with a key that the stack schedules for deletion. This construct is meant for sandboxes; in
production, leave it out and keep the caches.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct


@dataclass(frozen=True)
class CleanupTarget:
    """Repositories under `prefix/` in `region` (None: the stack's region)."""

    prefix: str
    region: str | None = None


class CreatedRepositoryCleanup(Construct):
    """A custom resource that force-deletes the repositories under `targets` when it is deleted.

    Make it depend on what creates those repositories (the cache rules, the replication
    configuration) so that CloudFormation deletes it first. The handler reports success even
    if a deletion fails (it logs the error), so teardown never gets stuck on it. Its role may
    list repositories and delete only those under the targets' prefixes.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        targets: Sequence[CleanupTarget],
        log_retention: logs.RetentionDays = logs.RetentionDays.ONE_WEEK,
        removal_policy: cdk.RemovalPolicy = cdk.RemovalPolicy.DESTROY,
    ) -> None:
        super().__init__(scope, construct_id)
        if not targets:
            raise ValueError("targets must list at least one prefix, got none")
        stack = cdk.Stack.of(self)
        resolved = [(t.region or stack.region, t.prefix.rstrip("/")) for t in targets]

        log_group = logs.LogGroup(self, "Logs", retention=log_retention, removal_policy=removal_policy)
        # Its own role, with log rights on its own log group only (not the broad managed policy).
        role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description="Deletes the repositories ECR created under the stack's prefixes",
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[f"{log_group.log_group_arn}:*"],
            )
        )
        self.function = lambda_.Function(
            self,
            "Function",
            runtime=lambda_.Runtime.PYTHON_3_14,
            architecture=lambda_.Architecture.ARM_64,
            handler="delete_repositories.handler",
            code=lambda_.Code.from_asset(
                str(Path(__file__).parent / "runtime"), exclude=["__pycache__", "*.pyc"]
            ),
            timeout=cdk.Duration.minutes(5),
            memory_size=256,
            log_group=log_group,
            role=role,
            description="On stack delete, deletes the repositories ECR created under the stack's prefixes",
        )
        regions = sorted({region for region, _ in resolved})
        # DescribeRepositories without names is authorized against every repository of the region.
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["ecr:DescribeRepositories"],
                resources=[
                    f"arn:{cdk.Aws.PARTITION}:ecr:{r}:{cdk.Aws.ACCOUNT_ID}:repository/*" for r in regions
                ],
            )
        )
        # With force=true, ECR deletes the images itself: DeleteRepository is the only action.
        # https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_DeleteRepository.html
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["ecr:DeleteRepository"],
                resources=[
                    f"arn:{cdk.Aws.PARTITION}:ecr:{r}:{cdk.Aws.ACCOUNT_ID}:repository/{p}/*"
                    for r, p in resolved
                ],
            )
        )
        self._acknowledge(role, log_group, regions, resolved)
        self.resource = cdk.CustomResource(
            self,
            "Resource",
            service_token=self.function.function_arn,
            resource_type="Custom::CreatedRepositoryCleanup",
            properties={"Targets": [{"Region": r, "Prefix": p} for r, p in resolved]},
        )
        # The role's policy must outlive the custom resource, or the delete runs without rights.
        self.resource.node.add_dependency(role)

    def _acknowledge(
        self, role: iam.Role, log_group: logs.LogGroup, regions: list[str], resolved: list[tuple[str, str]]
    ) -> None:
        """Acknowledge each wildcard of the role's policy, one by one, with its reason."""
        policy = role.node.find_child("DefaultPolicy").node.default_child
        assert isinstance(policy, iam.CfnPolicy)
        stack = cdk.Stack.of(self)

        def shown(region: str) -> str:
            return "<AWS::Region>" if cdk.Token.is_unresolved(region) else region

        repository = "arn:<AWS::Partition>:ecr:{region}:<AWS::AccountId>:repository/{pattern}"
        log_group_id = stack.get_logical_id(log_group.node.default_child)  # type: ignore[arg-type]
        acknowledgments = [
            cdk.Acknowledgment(
                id=f"AwsSolutions-IAM5[Resource::<{log_group_id}.Arn>:*]",
                reason="Log streams of the function's own log group; Lambda names them at run time.",
            )
        ]
        acknowledgments += [
            cdk.Acknowledgment(
                id=f"AwsSolutions-IAM5[Resource::{repository.format(region=shown(r), pattern='*')}]",
                reason="DescribeRepositories without names (the listing the cleanup needs) is authorized "
                "against every repository of the region; it reads metadata only.",
            )
            for r in regions
        ]
        acknowledgments += [
            cdk.Acknowledgment(
                id=f"AwsSolutions-IAM5[Resource::{repository.format(region=shown(r), pattern=p + '/*')}]",
                reason=f"Deletes only the repositories ECR itself created under {p}/, whose names are "
                "not known at deploy time; nothing outside the prefix.",
            )
            for r, p in resolved
        ]
        cdk.Validations.of(policy).acknowledge(*acknowledgments)
