"""Deletes, on `cdk destroy`, the repositories that ECR created by itself (talk: ECR, teardown).

Repositories made by a pull-through cache pull or by replication are not CloudFormation
resources, so a plain stack delete leaves them behind: still billed for storage, and encrypted
with a key that the stack schedules for deletion. This construct is meant for sandboxes; in
production, leave it out and keep the caches.

Deleting a KMS-encrypted repository makes ECR retire its grants on the key with the caller's
permissions, so the caller needs `kms:RetireGrant` on that key besides `ecr:DeleteRepository`
("Required IAM permissions" in
https://docs.aws.amazon.com/AmazonECR/latest/userguide/encryption-at-rest.html; see also
https://github.com/aws/containers-roadmap/issues/1152).

Not built on `_shared/custom_resource.py` on purpose: its log group's id (`Logs`) and its role's
default policy predate that helper, and moving to the helper's ids would replace the deployed log
group and change the template.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from .._shared.lambda_package import handler_code
from .._shared.resources import log_group, service_role

# The function's own limit, and how long CloudFormation waits for its answer. The handler stops
# starting deletions 30 s before the limit and always answers; if the function dies anyway
# (out of memory), CloudFormation fails the resource after the service timeout instead of the
# default hour.
FUNCTION_TIMEOUT = cdk.Duration.minutes(5)
SERVICE_TIMEOUT = cdk.Duration.minutes(7)
# A repository-name prefix of at least 2 characters (ECR's replication filter minimum): never empty,
# which would match every repository of the region.
_PREFIX = re.compile(r"[a-z0-9][a-z0-9._/-]+")


@dataclass(frozen=True)
class CleanupTarget:
    """Repositories whose names start with `prefix` in `region` (None: the stack's region).

    `prefix` is a plain string prefix, as in a replication filter: `app/` matches `app/web`,
    while `app` also matches `apple` and `app-web`. Give exactly the prefixes that the cache
    rules (`<cache prefix>/`) or the replication rule (its filters, as written) create
    repositories under, so that whatever they create is cleaned up.

    `encryption_key` is the key those repositories are encrypted with, when it is in this
    stack: the role may then retire grants on that key only. Without it (a key in another
    region or stack, which cannot be referenced here), the role may retire grants on any key of
    the target's region, but only through ECR (`kms:ViaService`), which is what a repository
    deletion does.
    """

    prefix: str
    region: str | None = None
    encryption_key: kms.IKey | None = None


class CreatedRepositoryCleanup(Construct):
    """A custom resource that force-deletes the repositories under `targets` when its stack is deleted.

    Make it depend on what creates those repositories (the cache rules, the replication
    configuration) and on the keys that encrypt them, so that CloudFormation deletes it first.
    It deletes only while its stack is DELETE_IN_PROGRESS: an update that replaces or removes
    it (CloudFormation sends Delete then too) leaves the repositories alone. It tries every
    repository of every target and answers FAILED, naming what is left, if any deletion
    fails: the stack delete stops with the keys still in place rather than orphaning
    repositories that nothing can decrypt (the handler's docstring has the details).

    Its role may list repositories, delete only those under the targets' prefixes, retire
    grants on the targets' keys (see `CleanupTarget`) and describe its own stack.
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
        for target in targets:
            if target.encryption_key is not None and target.region not in (None, stack.region):
                raise ValueError(
                    "encryption_key must be in the stack's region (leave it out for a target in "
                    f"another region), got a key for target region {target.region!r}"
                )
        for target in targets:
            if not _PREFIX.fullmatch(target.prefix):
                raise ValueError(
                    f"prefix must be a repository name prefix of at least 2 characters, got {target.prefix!r}"
                )
        resolved = [(t.region or stack.region, t.prefix) for t in targets]

        function_logs = log_group(self, "Logs", retention=log_retention, removal_policy=removal_policy)
        # Its own role, with log rights on its own log group only (not the broad managed policy).
        role = service_role(
            self,
            "Role",
            "lambda.amazonaws.com",
            description="Deletes the repositories ECR created under the stack's prefixes",
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[f"{function_logs.log_group_arn}:*"],
            )
        )
        self.function = lambda_.Function(
            self,
            "Function",
            runtime=lambda_.Runtime.PYTHON_3_14,
            architecture=lambda_.Architecture.ARM_64,
            handler="delete_repositories.handler",
            code=handler_code(Path(__file__).parent / "runtime", "delete_repositories"),
            timeout=FUNCTION_TIMEOUT,
            memory_size=256,
            log_group=function_logs,
            role=role,
            # CloudFormation invokes it asynchronously; a retry would race the ServiceTimeout
            # failure that CloudFormation already reports, so a dead run is not retried.
            retry_attempts=0,
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
                    f"arn:{cdk.Aws.PARTITION}:ecr:{r}:{cdk.Aws.ACCOUNT_ID}:repository/{p}*"
                    for r, p in resolved
                ],
            )
        )
        # ECR retires the repository's grants on its KMS key with the caller's permissions.
        # https://docs.aws.amazon.com/AmazonECR/latest/userguide/encryption-at-rest.html#encryption-at-rest-iam
        keys = {k.key_arn: k for t in targets if (k := t.encryption_key) is not None}
        if keys:
            role.add_to_principal_policy(
                iam.PolicyStatement(actions=["kms:RetireGrant"], resources=list(keys))
            )
        keyless_regions = sorted({t.region or stack.region for t in targets if t.encryption_key is None})
        for region in keyless_regions:
            # Keys in another region cannot be referenced from this stack: any key of that
            # region, but only in requests that ECR makes there on the role's behalf.
            role.add_to_principal_policy(
                iam.PolicyStatement(
                    actions=["kms:RetireGrant"],
                    resources=[f"arn:{cdk.Aws.PARTITION}:kms:{region}:{cdk.Aws.ACCOUNT_ID}:key/*"],
                    conditions={"StringEquals": {"kms:ViaService": f"ecr.{region}.amazonaws.com"}},
                )
            )
        # The handler deletes only while its own stack is DELETE_IN_PROGRESS.
        role.add_to_principal_policy(
            iam.PolicyStatement(actions=["cloudformation:DescribeStacks"], resources=[cdk.Aws.STACK_ID])
        )
        self._acknowledge(role, function_logs, regions, resolved, keyless_regions)
        self.resource = cdk.CustomResource(
            self,
            "Resource",
            service_token=self.function.function_arn,
            resource_type="Custom::CreatedRepositoryCleanup",
            properties={"Targets": [{"Region": r, "Prefix": p} for r, p in resolved]},
            service_timeout=SERVICE_TIMEOUT,
        )
        # The role's policy must outlive the custom resource, or the delete runs without rights.
        self.resource.node.add_dependency(role)

    def _acknowledge(
        self,
        role: iam.Role,
        log_group: logs.LogGroup,
        regions: list[str],
        resolved: list[tuple[str, str]],
        keyless_regions: list[str],
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
                id=f"AwsSolutions-IAM5[Resource::{repository.format(region=shown(r), pattern=p + '*')}]",
                reason=f"Deletes only the repositories ECR itself created under the prefix {p}, whose names "
                "are not known at deploy time; nothing outside the prefix.",
            )
            for r, p in resolved
        ]
        acknowledgments += [
            cdk.Acknowledgment(
                id=f"AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:kms:{shown(r)}:<AWS::AccountId>:key/*]",
                reason="RetireGrant only in requests ECR makes in this region (kms:ViaService) while it "
                "deletes a repository; that region's key cannot be referenced from this stack.",
            )
            for r in keyless_regions
        ]
        cdk.Validations.of(policy).acknowledge(*acknowledgments)
