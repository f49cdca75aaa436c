"""A Graviton (arm64) web service on Fargate behind a dual-stack ALB, tuned to scale out fast.

Slides 5-8 of the talk: Fargate launches up to 500 tasks per minute per service, and Graviton2
tasks give up to 40% better price-performance. The service scales on ALB requests per target and
on CPU (20-second metrics where enabled), and new tasks take traffic seconds after they start.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import aws_cdk as cdk
from aws_cdk import aws_applicationautoscaling as appscaling
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

from .._shared.nag import acknowledge
from ._fargate import (
    LINUX_SIZES,
    check_task_size,
    on_demand_base_then_spot,
    private_exec_service,
    task_definition_with_container,
)
from ._nag import acknowledge_ecs_exec

CONTAINER_NAME = "web"
# Graviton: arm64 Linux tasks.
PLATFORM = ecs.RuntimePlatform(
    cpu_architecture=ecs.CpuArchitecture.ARM64, operating_system_family=ecs.OperatingSystemFamily.LINUX
)
# Target tracking on 20-second CPU metrics. aws-cdk-lib 2.275's `appscaling.PredefinedMetric` has
# no member for it (its enum lists only the 60-second ECS metrics), so the policy's L1 property is
# overridden: https://docs.aws.amazon.com/AmazonECS/latest/developerguide/target-tracking-faster-auto-scaling.html
HIGH_RESOLUTION_CPU_METRIC = "ECSServiceAverageCPUUtilizationHighResolution"
HIGH_RESOLUTION_SECONDS = 20
# AWS managed rule groups of the web ACL (no charge beyond the web ACL's own rule units):
# core protections, requests known to be malicious, and addresses Amazon's threat intelligence
# lists as bad actors. https://docs.aws.amazon.com/waf/latest/developerguide/aws-managed-rule-groups-list.html
MANAGED_RULE_GROUPS = (
    "AWSManagedRulesCommonRuleSet",
    "AWSManagedRulesKnownBadInputsRuleSet",
    "AWSManagedRulesAmazonIpReputationList",
)


def is_root(user: str) -> bool:
    """Whether a container `user` (name, uid, `user:group` or `uid:gid`) names root."""
    return user.split(":", 1)[0] in ("", "0", "root")


@dataclass(frozen=True)
class GravitonWebServiceProps:
    """Settings of a `GravitonWebService`; the defaults are a cheap sandbox that still bursts."""

    # The image must be arm64 or multi-arch: an amd64-only image stops with `exec format error`.
    image: ecs.ContainerImage
    # The non-root user (uid, name, `uid:gid`) the container runs as; root is refused. Required:
    # only the image's author knows which user owns its files (nginx-unprivileged: 101).
    # ECS Exec still works: its agent and sessions run as root whatever this says
    # (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs-exec.html#ecs-exec-considerations).
    user: str
    # A non-root process cannot bind ports below 1024: listen on a high port.
    container_port: int = 8080
    # ENABLED (ECS's default): a deployment resolves the image tag to a digest once and every later
    # task (scale-out, Spot replacement) pulls that digest. Set DISABLED for a mutable tag pulled
    # through an ECR pull-through cache: the cache re-points the tag when upstream moves it, its
    # lifecycle policy expires the untagged old image, and the pinned digest can then no longer be
    # pulled (CannotPullContainerError). With DISABLED every task pulls the tag as it is then.
    # https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-type-ecs.html#deployment-container-image-stability
    version_consistency: ecs.VersionConsistency = ecs.VersionConsistency.ENABLED
    # 0.25 vCPU and 0.5 GB, the smallest Fargate size: a burst of hundreds of tasks stays cheap.
    cpu: int = 256
    memory_mib: int = 512
    min_tasks: int = 1
    max_tasks: int = 300
    # Target tracking: ALB requests per target per minute, and average CPU percent.
    requests_per_target: int = 600
    cpu_target_percent: int = 60
    # A short scale-out cooldown lets the next step follow as soon as new tasks report; the long
    # scale-in cooldown stops a burst from flapping.
    scale_out_cooldown: cdk.Duration = field(default_factory=lambda: cdk.Duration.seconds(30))
    scale_in_cooldown: cdk.Duration = field(default_factory=lambda: cdk.Duration.minutes(5))
    # 20-second CPUUtilization and MemoryUtilization for the service, and CPU target tracking on them.
    high_resolution_metrics: bool = True
    # None: one task on demand, every other task on Fargate Spot (see `on_demand_base_then_spot`).
    capacity_provider_strategies: Sequence[ecs.CapacityProviderStrategy] | None = None
    health_check_path: str = "/"
    # How long the load balancer lets in-flight requests finish on a task that is stopping; a web
    # server that answers in milliseconds needs seconds, not ELB's default of 300.
    deregistration_delay: cdk.Duration = field(default_factory=lambda: cdk.Duration.seconds(15))
    # HTTPS on 443 with this certificate, and port 80 redirecting to it.
    certificate: acm.ICertificate | None = None
    # Without a certificate the internet-facing listener would be plain HTTP on 80: refused unless
    # this says so, so that no one ships an unencrypted public endpoint by leaving a setting out.
    allow_plain_http: bool = False
    # An AWS WAF web ACL (regional) with AWS managed rule groups in front of the load balancer.
    # Off by default: a web ACL costs a monthly fee plus per-request charges.
    web_acl: bool = False
    # Where the load balancer writes access logs. None: no access logs (and cdk-nag's ELB2 finding
    # is acknowledged as that choice).
    access_logs_bucket: s3.IBucket | None = None
    deletion_protection: bool = False
    log_retention: logs.RetentionDays = logs.RetentionDays.ONE_WEEK
    # Encrypts the container log group; its key policy must admit CloudWatch Logs for the group.
    # None: CloudWatch Logs' own encryption.
    log_encryption_key: kms.IKey | None = None
    # The container log group goes with the stack unless told otherwise.
    removal_policy: cdk.RemovalPolicy = cdk.RemovalPolicy.DESTROY


class GravitonWebService(Construct):
    """An ARM64/LINUX Fargate service in private subnets behind an internet-facing dual-stack ALB.

    Deployments keep full capacity (minimum healthy 100%, maximum 200%: Fargate needs no spare
    hosts for the extra tasks) and roll back on their own when new tasks fail (circuit breaker).
    ECS Exec is on; the cluster decides how sessions are encrypted and logged.
    The cdk-nag findings of what it creates (open load balancer, ECS Exec grants, access logs
    off when no bucket is given) are acknowledged here, each on its one resource.

    The container runs as a non-root user; its security group lets it out on HTTPS only.

    Attributes: `service`, `task_definition`, `load_balancer`, `listener`, `target_group`,
    `security_group`, `scaling`, `url`, `web_acl` (None unless asked for).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        cluster: ecs.ICluster,
        vpc: ec2.IVpc,
        props: GravitonWebServiceProps,
    ) -> None:
        super().__init__(scope, construct_id)
        check_task_size(props.cpu, props.memory_mib, LINUX_SIZES, "Linux", service=self.node.path)
        if props.min_tasks < 0:
            raise ValueError(f"min_tasks must not be negative, got {props.min_tasks}")
        if props.max_tasks < max(props.min_tasks, 1):
            raise ValueError(
                f"max_tasks must be at least min_tasks ({props.min_tasks}) and 1, got {props.max_tasks}"
            )
        strategies = list(props.capacity_provider_strategies or on_demand_base_then_spot())
        if not strategies:
            raise ValueError("capacity_provider_strategies must not be empty, got []")
        if is_root(props.user):
            raise ValueError(f"user must name a non-root user (a uid other than 0), got {props.user!r}")
        if props.certificate is None and not props.allow_plain_http:
            raise ValueError(
                "certificate must be given for the internet-facing listener (or allow_plain_http=True "
                "to serve plain http), got None"
            )

        self.task_definition = task_definition_with_container(
            self,
            props,
            platform=PLATFORM,
            container_name=CONTAINER_NAME,
            user=props.user,
            version_consistency=props.version_consistency,
            port_mappings=[ecs.PortMapping(container_port=props.container_port)],
            init_process=True,
            # The root file system stays writable: ECS Exec needs it.
            # https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs-exec.html
            readonly_root_filesystem=False,
        )

        self.load_balancer = elbv2.ApplicationLoadBalancer(
            self,
            "LoadBalancer",
            vpc=vpc,
            internet_facing=True,
            # IPv4 and IPv6 clients; with the feature flag
            # albDualstackWithoutPublicIpv4SecurityGroupRulesDefault an open listener also opens ::/0.
            ip_address_type=elbv2.IpAddressType.DUAL_STACK,
            vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PUBLIC),
            drop_invalid_header_fields=True,
            deletion_protection=props.deletion_protection,
        )
        if props.access_logs_bucket is not None:
            self.load_balancer.log_access_logs(props.access_logs_bucket, prefix="alb")

        self.target_group = elbv2.ApplicationTargetGroup(
            self,
            "TargetGroup",
            vpc=vpc,
            port=props.container_port,
            protocol=elbv2.ApplicationProtocol.HTTP,
            target_type=elbv2.TargetType.IP,
            deregistration_delay=props.deregistration_delay,
            # Two passing checks 10 seconds apart put a new task in service about 20 seconds after
            # its container listens (ELB's defaults: 5 checks 30 seconds apart, 2.5 minutes).
            health_check=elbv2.HealthCheck(
                path=props.health_check_path,
                interval=cdk.Duration.seconds(10),
                timeout=cdk.Duration.seconds(5),
                healthy_threshold_count=2,
                unhealthy_threshold_count=2,
                healthy_http_codes="200-399",
            ),
        )
        if props.certificate is not None:
            self.listener = self.load_balancer.add_listener(
                "Https",
                port=443,
                protocol=elbv2.ApplicationProtocol.HTTPS,
                certificates=[elbv2.ListenerCertificate.from_certificate_manager(props.certificate)],
                default_target_groups=[self.target_group],
                open=True,
            )
            self.load_balancer.add_redirect(source_port=80, target_port=443)
            self.url = f"https://{self.load_balancer.load_balancer_dns_name}/"
        else:
            self.listener = self.load_balancer.add_listener(
                "Http",
                port=80,
                protocol=elbv2.ApplicationProtocol.HTTP,
                default_target_groups=[self.target_group],
                open=True,
            )
            self.url = f"http://{self.load_balancer.load_balancer_dns_name}/"

        self.security_group, self.service = private_exec_service(
            self,
            cluster=cluster,
            task_definition=self.task_definition,
            vpc=vpc,
            description="Graviton web tasks: traffic from the load balancer only, HTTPS out",
            capacity_provider_strategies=strategies,
            # No DesiredCount: ECS starts one task on create and Application Auto Scaling raises it
            # to min_tasks; a later deploy then keeps the scaled-out count instead of resetting it
            # (https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-ecs-service.html#cfn-ecs-service-desiredcount).
            # Health checks fail while a container starts; ECS ignores them this long.
            health_check_grace_period=cdk.Duration.seconds(30),
        )
        self.service.attach_to_application_target_group(self.target_group)
        self.service.connections.allow_from(
            self.load_balancer, ec2.Port.tcp(props.container_port), "From the load balancer"
        )

        self._acknowledge(cluster, access_logs=props.access_logs_bucket is not None)
        self.web_acl = self._web_acl() if props.web_acl else None

        if props.high_resolution_metrics:
            # aws-cdk-lib 2.275's FargateService has no `monitoring` prop; CfnService has
            # MonitoringConfiguration: https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-properties-ecs-service-monitoringconfiguration.html
            cfn_service = self.service.node.default_child
            assert isinstance(cfn_service, ecs.CfnService)
            cfn_service.monitoring = ecs.CfnService.MonitoringConfigurationProperty(
                metric_configurations=[
                    ecs.CfnService.MetricConfigurationProperty(
                        metric_names=["CPUUtilization", "MemoryUtilization"],
                        resolution_seconds=HIGH_RESOLUTION_SECONDS,
                    )
                ]
            )

        self.scaling = self.service.auto_scale_task_count(
            min_capacity=props.min_tasks, max_capacity=props.max_tasks
        )
        self.scaling.scale_on_request_count(
            "RequestsPerTarget",
            requests_per_target=props.requests_per_target,
            target_group=self.target_group,
            scale_out_cooldown=props.scale_out_cooldown,
            scale_in_cooldown=props.scale_in_cooldown,
        )
        self.scaling.scale_on_cpu_utilization(
            "Cpu",
            target_utilization_percent=props.cpu_target_percent,
            scale_out_cooldown=props.scale_out_cooldown,
            scale_in_cooldown=props.scale_in_cooldown,
        )
        if props.high_resolution_metrics:
            # The L2 puts the policy under its (protected) scalable target: find it by construct id.
            (cpu_policy,) = (
                c
                for c in self.scaling.node.find_all()
                if isinstance(c, appscaling.CfnScalingPolicy)
                and c.node.scope is not None
                and c.node.scope.node.id == "Cpu"
            )
            cpu_policy.add_property_override(
                "TargetTrackingScalingPolicyConfiguration.PredefinedMetricSpecification.PredefinedMetricType",
                HIGH_RESOLUTION_CPU_METRIC,
            )

    def _web_acl(self) -> wafv2.CfnWebACL:
        """A regional web ACL of AWS managed rule groups, associated with the load balancer."""
        rules = [
            wafv2.CfnWebACL.RuleProperty(
                name=group,
                priority=priority,
                statement=wafv2.CfnWebACL.StatementProperty(
                    managed_rule_group_statement=wafv2.CfnWebACL.ManagedRuleGroupStatementProperty(
                        vendor_name="AWS", name=group
                    )
                ),
                # The groups' own actions (block) apply; `none` keeps them rather than counting.
                override_action=wafv2.CfnWebACL.OverrideActionProperty(none={}),
                visibility_config=wafv2.CfnWebACL.VisibilityConfigProperty(
                    cloud_watch_metrics_enabled=True, metric_name=group, sampled_requests_enabled=True
                ),
            )
            for priority, group in enumerate(MANAGED_RULE_GROUPS)
        ]
        web_acl = wafv2.CfnWebACL(
            self,
            "WebAcl",
            scope="REGIONAL",
            default_action=wafv2.CfnWebACL.DefaultActionProperty(allow={}),
            rules=rules,
            visibility_config=wafv2.CfnWebACL.VisibilityConfigProperty(
                cloud_watch_metrics_enabled=True,
                metric_name=f"{cdk.Names.unique_id(self)}WebAcl",
                sampled_requests_enabled=True,
            ),
        )
        wafv2.CfnWebACLAssociation(
            self,
            "WebAclAssociation",
            resource_arn=self.load_balancer.load_balancer_arn,
            web_acl_arn=web_acl.attr_arn,
        )
        return web_acl

    def _acknowledge(self, cluster: ecs.ICluster, *, access_logs: bool) -> None:
        """cdk-nag findings that an internet-facing service with ECS Exec needs, with their reasons."""
        acknowledge(
            self.load_balancer.connections.security_groups[0],
            {
                "AwsSolutions-EC23": "An internet-facing web service: its load balancer accepts HTTP(S) "
                "from any IPv4 and IPv6 address, on the listener ports only.",
            },
        )
        if not access_logs:
            acknowledge(
                self.load_balancer,
                {
                    "AwsSolutions-ELB2": "Access logs are off because no access_logs_bucket was given, so "
                    "that cdk destroy leaves no bucket behind; passing a bucket turns them on.",
                },
            )
        acknowledge_ecs_exec(self.service, cluster)
