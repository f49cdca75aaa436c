"""EcsFargate stack: a fast-scaling Graviton service, arm64 image builds, Windows with ECS Exec.

Slides 5-10 of the talk, composed from `constructs_lib/ecs`. The Graviton service pulls its
image through the Registry stack's pull-through cache, and the image build pushes to the
Registry stack's application repository; both come in as objects from `app.py`.
"""

from __future__ import annotations

import json
from typing import Any, Protocol

import aws_cdk as cdk
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from constructs import Construct, IConstruct

from constructs_lib.ecs import (
    FargateCluster,
    FargateClusterProps,
    GravitonWebService,
    GravitonWebServiceProps,
    MultiArchImageBuild,
    MultiArchImageBuildProps,
    WindowsFargateService,
    WindowsFargateServiceProps,
    on_demand_base_then_spot,
)
from constructs_lib.ecs.graviton_service import CONTAINER_NAME as GRAVITON_CONTAINER
from constructs_lib.ecs.windows_service import CONTAINER_NAME as WINDOWS_CONTAINER
from stacks.config.common import LOG_RETENTION_DAYS
from stacks.config.ecs import EcsConfig


class ImageCache(Protocol):
    """What this stack needs from the Registry stack's pull-through cache."""

    def image_uri(self, upstream_image: str) -> str: ...

    def grant_pull(self, grantee: iam.IGrantable, upstream_image: str) -> iam.Grant: ...


class EcsFargateStack(cdk.Stack):
    """The ECS cluster, its Graviton and Windows services, and the arm64 image build.

    Attributes: `cluster`, `graviton`, `windows`, `image_build`.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        vpc: ec2.IVpc,
        pull_through_cache: ImageCache,
        app_repository: ecr.IRepository,
        config: EcsConfig,
        log_retention_days: int,
        removal_policy: cdk.RemovalPolicy,
        deletion_protection: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        graviton, windows = config.graviton, config.windows
        log_retention = LOG_RETENTION_DAYS[log_retention_days]

        self.cluster = FargateCluster(
            self,
            "Cluster",
            vpc=vpc,
            props=FargateClusterProps(exec_log_retention=log_retention, removal_policy=removal_policy),
        )

        access_logs_bucket = self._access_logs_bucket(log_retention_days) if graviton.access_logs else None
        self.graviton = GravitonWebService(
            self,
            "Graviton",
            cluster=self.cluster.cluster,
            vpc=vpc,
            props=GravitonWebServiceProps(
                image=ecs.ContainerImage.from_registry(pull_through_cache.image_uri(graviton.image)),
                container_port=graviton.container_port,
                cpu=graviton.cpu,
                memory_mib=graviton.memory_mib,
                min_tasks=graviton.min_tasks,
                max_tasks=graviton.max_tasks,
                requests_per_target=graviton.requests_per_target,
                cpu_target_percent=graviton.cpu_target_percent,
                scale_out_cooldown=cdk.Duration.seconds(graviton.scale_out_cooldown_seconds),
                scale_in_cooldown=cdk.Duration.seconds(graviton.scale_in_cooldown_seconds),
                high_resolution_metrics=graviton.high_resolution_metrics,
                capacity_provider_strategies=on_demand_base_then_spot(
                    on_demand_base=graviton.on_demand_base,
                    on_demand_weight=graviton.on_demand_weight,
                    spot_weight=graviton.spot_weight,
                ),
                health_check_path=graviton.health_check_path,
                deregistration_delay=cdk.Duration.seconds(graviton.deregistration_delay_seconds),
                certificate=(
                    acm.Certificate.from_certificate_arn(self, "Certificate", graviton.certificate_arn)
                    if graviton.certificate_arn
                    else None
                ),
                access_logs_bucket=access_logs_bucket,
                deletion_protection=deletion_protection,
                log_retention=log_retention,
                removal_policy=removal_policy,
            ),
        )
        # The ECS agent pulls with the task execution role; a first pull through the cache also
        # creates the cached repository, which the grant covers.
        pull_through_cache.grant_pull(self.graviton.task_definition.obtain_execution_role(), graviton.image)

        self.windows = WindowsFargateService(
            self,
            "Windows",
            cluster=self.cluster.cluster,
            vpc=vpc,
            props=WindowsFargateServiceProps(
                # Microsoft's registry: ECR's pull-through cache has no rule type for MCR.
                image=ecs.ContainerImage.from_registry(windows.image),
                cpu=windows.cpu,
                memory_mib=windows.memory_mib,
                desired_count=windows.desired_count,
                log_retention=log_retention,
                removal_policy=removal_policy,
            ),
        )

        self.image_build = MultiArchImageBuild(
            self,
            "ImageBuild",
            props=MultiArchImageBuildProps(
                repository=app_repository,
                multi_arch=config.image_build.multi_arch,
                timeout=cdk.Duration.minutes(config.image_build.build_timeout_minutes),
                log_retention=log_retention,
                removal_policy=removal_policy,
            ),
        )

        self._outputs()
        # `<registry>/<cache prefix>/<upstream path>`: the prefix names the cached repositories.
        cache_path = pull_through_cache.image_uri(graviton.image).split("/", 1)[1]
        upstream_path = graviton.image.split("/", 1)[1]
        self._acknowledge(
            access_logs_enabled=access_logs_bucket is not None,
            cache_prefix=cache_path.removesuffix(f"/{upstream_path}"),
        )

    def _access_logs_bucket(self, retention_days: int) -> s3.Bucket:
        """The ALB access log bucket. ELB writes with SSE-S3 only (no KMS), so it uses S3-managed keys.

        It is retained on `cdk destroy` whatever the stage: access logs are audit data, and a
        non-empty bucket would otherwise fail the stack's deletion.
        https://docs.aws.amazon.com/elasticloadbalancing/latest/application/enable-access-logging.html
        """
        bucket = s3.Bucket(
            self,
            "AccessLogs",
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            removal_policy=cdk.RemovalPolicy.RETAIN,
            lifecycle_rules=[s3.LifecycleRule(expiration=cdk.Duration.days(retention_days))],
        )
        cdk.Validations.of(bucket).acknowledge(
            cdk.Acknowledgment(
                id="AwsSolutions-S1",
                reason="This bucket is the load balancer's access log destination; logging its own access "
                "would need another bucket for no added audit value.",
            )
        )
        return bucket

    def _outputs(self) -> None:
        cluster = self.cluster.cluster.cluster_name
        cdk.CfnOutput(self, "ServiceUrl", value=self.graviton.url, description="The Graviton service's URL")
        for name, service, container, shell in (
            ("GravitonExecCommand", self.graviton.service, GRAVITON_CONTAINER, "/bin/sh"),
            ("WindowsExecCommand", self.windows.service, WINDOWS_CONTAINER, "powershell.exe"),
        ):
            task = (
                f"$(aws ecs list-tasks --region {self.region} --cluster {cluster} "
                f"--service-name {service.service_name} --query 'taskArns[0]' --output text)"
            )
            cdk.CfnOutput(
                self,
                name,
                value=(
                    f"aws ecs execute-command --region {self.region} --cluster {cluster} --task {task} "
                    f"--container {container} --interactive --command {shell}"
                ),
                description=f"Opens a shell in the first task of {service.node.path.split('/')[-2]}",
            )
        cdk.CfnOutput(
            self,
            "BuildCommand",
            value=self.image_build.start_build_command,
            description="Builds the sample app on Graviton and pushes it to the application repository",
        )

    def _acknowledge(self, *, access_logs_enabled: bool, cache_prefix: str) -> None:
        """cdk-nag findings that the features need, each scoped to one resource, with its reason."""

        def ack(construct: IConstruct, rule: str, reason: str) -> None:
            cdk.Validations.of(construct).acknowledge(cdk.Acknowledgment(id=rule, reason=reason))

        lb_security_group = self.graviton.load_balancer.connections.security_groups[0]
        ack(
            lb_security_group,
            "AwsSolutions-EC23",
            "An internet-facing web service: its load balancer accepts HTTP(S) from any IPv4 and IPv6 "
            "address, on the listener ports only.",
        )
        if not access_logs_enabled:
            ack(
                self.graviton.load_balancer,
                "AwsSolutions-ELB2",
                "Access logs are off in this stage by configuration (ecs.graviton.access_logs) so that "
                "cdk destroy leaves no bucket behind; the production configuration turns them on.",
            )

        exec_streams = self._nag_text(
            self.format_arn(
                service="logs",
                resource="log-group",
                resource_name=f"{self.cluster.exec_log_group.log_group_name}:*",
                arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
            )
        )
        for service in (self.graviton, self.windows):
            task_policy = service.task_definition.task_role.node.find_child("DefaultPolicy")
            ack(
                task_policy,
                "AwsSolutions-IAM5[Resource::*]",
                "ECS Exec: ssmmessages:Create/Open Control/Data Channel and logs:DescribeLogGroups have no "
                "resource-level permissions (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/"
                "ecs-exec.html#ecs-exec-required-iam-permissions).",
            )
            ack(
                task_policy,
                f"AwsSolutions-IAM5[Resource::{exec_streams}]",
                "ECS Exec writes each session to a new log stream of the cluster's session log group; "
                "stream names are made per session, so the grant covers the streams of that one group.",
            )

        execution_policy = self.graviton.task_definition.obtain_execution_role().node.find_child(
            "DefaultPolicy"
        )
        ack(
            execution_policy,
            "AwsSolutions-IAM5[Resource::*]",
            "ecr:GetAuthorizationToken has no resource-level permissions; it is required to pull from any "
            "private ECR repository.",
        )
        cache_repositories = self._nag_text(
            f"arn:{cdk.Aws.PARTITION}:ecr:{cdk.Aws.REGION}:{cdk.Aws.ACCOUNT_ID}:repository/{cache_prefix}/*"
        )
        ack(
            execution_policy,
            f"AwsSolutions-IAM5[Resource::{cache_repositories}]",
            "Pull-through cache: ECR creates the cached repository on the first pull, so the pull, "
            "BatchImportUpstreamImage and CreateRepository grant covers the cache's prefix, not one name "
            "(https://docs.aws.amazon.com/AmazonECR/latest/userguide/pull-through-cache-iam.html).",
        )

        project = self.image_build.project
        build_policy = project.role.node.find_child("DefaultPolicy") if project.role else None
        assert build_policy is not None
        codebuild_logs = self._nag_text(
            self.format_arn(
                service="logs",
                resource="log-group",
                resource_name=f"/aws/codebuild/{project.project_name}:*",
                arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
            )
        )
        report_groups = self._nag_text(
            self.format_arn(
                service="codebuild", resource="report-group", resource_name=f"{project.project_name}-*"
            )
        )
        for finding, reason in (
            (
                "Resource::*",
                "ecr:GetAuthorizationToken has no resource-level permissions; docker login to the "
                "application repository needs it.",
            ),
            *(
                (
                    f"Action::s3:{action}",
                    "CDK's read grant on the build's source asset: scoped to the asset's bucket and its one "
                    "object key.",
                )
                for action in ("GetBucket*", "GetObject*", "List*")
            ),
            *(
                (
                    f"Action::kms:{action}",
                    "CDK's encrypt/decrypt grant on the build's own KMS key (one key ARN), used for its "
                    "artifacts and logs.",
                )
                for action in ("GenerateDataKey*", "ReEncrypt*")
            ),
            (
                f"Resource::{codebuild_logs}",
                "CodeBuild's default log group of this one project (CDK grants it even when logs go to "
                "the project's own group); streams are named per build.",
            ),
            (
                f"Resource::{report_groups}",
                "CodeBuild test report groups of this one project, named <project>-<report> by CodeBuild.",
            ),
        ):
            ack(build_policy, f"AwsSolutions-IAM5[{finding}]", reason)

    def _nag_text(self, value: str) -> str:
        """How cdk-nag writes a resource ARN in a granular finding id (its flattenCfnReference)."""

        def visit(node: Any) -> str:
            if isinstance(node, str):
                return node.replace("${", "<").replace("}", ">")
            if isinstance(node, dict) and "Fn::Join" in node:
                delimiter, items = node["Fn::Join"]
                return str(delimiter).join(visit(item) for item in items)
            if isinstance(node, dict) and "Fn::Sub" in node:
                return visit(node["Fn::Sub"])
            if isinstance(node, dict) and "Fn::GetAtt" in node:
                resource, attribute = node["Fn::GetAtt"]
                return f"<{visit(resource)}.{visit(attribute)}>"
            if isinstance(node, dict) and "Ref" in node:
                return f"<{visit(node['Ref'])}>"
            return json.dumps(node, separators=(",", ":"))

        return visit(self.resolve(value))
