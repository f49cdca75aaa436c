"""EcsFargate stack: a fast-scaling Graviton service, arm64 image builds, Windows with ECS Exec.

Slides 5-10 of the talk, composed from `constructs_lib/ecs`. The Graviton service pulls its
image through the Registry stack's pull-through cache, and the image build pushes to the
Registry stack's application repository; both come in as objects from `app.py`.
"""

from __future__ import annotations

from typing import Any, Protocol

import aws_cdk as cdk
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from constructs import Construct

from constructs_lib.ecs import (
    FargateCluster,
    FargateClusterProps,
    GravitonWebService,
    GravitonWebServiceProps,
    LogEncryptionKey,
    MultiArchImageBuild,
    MultiArchImageBuildProps,
    WindowsFargateService,
    WindowsFargateServiceProps,
    on_demand_base_then_spot,
)
from constructs_lib.ecs.access_logs import access_log_bucket
from constructs_lib.ecs.graviton_service import CONTAINER_NAME as GRAVITON_CONTAINER
from constructs_lib.ecs.windows_service import CONTAINER_NAME as WINDOWS_CONTAINER
from stacks.config.ecs import EcsConfig
from stacks.stage import StageStack


class ImageCache(Protocol):
    """What this stack needs from the Registry stack's pull-through cache."""

    def image_uri(self, upstream_image: str) -> str: ...

    def grant_pull(self, grantee: iam.IGrantable, upstream_image: str) -> iam.Grant:
        """Grants, and acknowledges for cdk-nag, the pull through the cache (its wildcards included)."""
        ...


class EcsFargateStack(StageStack):
    """The ECS cluster, its Graviton and Windows services, and the arm64 image build.

    Attributes: `cluster`, `graviton`, `windows`, `image_build`, `logs_key`.
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
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        graviton, windows = config.graviton, config.windows
        settings = self.settings
        log_retention, removal_policy = settings.log_retention, settings.removal_policy

        # One key for the stack's log groups (application, build, Container Insights, custom
        # resources); ECS Exec sessions keep the cluster's own exec key.
        self.logs_key = LogEncryptionKey(self, "LogsKey", removal_policy=removal_policy)
        self.cluster = FargateCluster(
            self,
            "Cluster",
            vpc=vpc,
            props=FargateClusterProps(
                exec_log_retention=log_retention,
                removal_policy=removal_policy,
                log_encryption_key=self.logs_key.key,
                ensure_service_linked_role=config.ensure_service_linked_role,
            ),
        )
        # Container Insights' group has a name fixed by ECS, outside the stack's generated names.
        self.logs_key.admit_log_group(self.cluster.insights_log_group_name)

        access_logs_bucket = (
            access_log_bucket(self, "AccessLogs", retention_days=settings.log_retention_days)
            if graviton.access_logs
            else None
        )
        self.graviton = GravitonWebService(
            self,
            "Graviton",
            cluster=self.cluster.cluster,
            vpc=vpc,
            props=GravitonWebServiceProps(
                image=ecs.ContainerImage.from_registry(pull_through_cache.image_uri(graviton.image)),
                user=graviton.user,
                # A cached tag follows its upstream and the cache expires the untagged image it
                # replaced (registry.lifecycle.untagged_expiry_days): a digest pinned at deploy
                # would become unpullable, so every task pulls the tag instead.
                version_consistency=ecs.VersionConsistency.DISABLED,
                # Settings by name, as in the ExpressMode stack: other props, checked field by field.
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
                allow_plain_http=graviton.plain_http,
                web_acl=graviton.web_acl,
                access_logs_bucket=access_logs_bucket,
                deletion_protection=settings.deletion_protection,
                log_retention=log_retention,
                log_encryption_key=self.logs_key.key,
                removal_policy=removal_policy,
            ),
        )
        # The ECS agent pulls with the task execution role; a first pull through the cache also
        # creates the cached repository, which the grant covers (and acknowledges for cdk-nag).
        execution_role = self.graviton.task_definition.obtain_execution_role()
        pull_through_cache.grant_pull(execution_role, graviton.image)

        # Shaped like the Graviton service above: another construct with its own props, set by name.
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
                log_encryption_key=self.logs_key.key,
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
                log_encryption_key=self.logs_key.key,
                removal_policy=removal_policy,
            ),
        )

        self._outputs()

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
