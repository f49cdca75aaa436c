"""An App Runner service from a private ECR image whose traffic to the VPC leaves through a VPC connector.

Slides 26-28 of the talk: App Runner runs a web application from a container image, and the VPC
connector lets it reach private data stores (Aurora, ElastiCache) in the customer's VPC.
App Runner has been closed to new customers since 2026-04-30 (existing customers may still create
services): https://docs.aws.amazon.com/apprunner/latest/dg/apprunner-availability-change.html
aws-cdk-lib 2.275 has only L1 resources for App Runner (the L2 is the alpha package), so this
construct wires the L1s with CDK's grants.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from aws_cdk import aws_apprunner as apprunner
from aws_cdk import aws_ec2 as ec2
from constructs import Construct

from .._shared.names import physical_name
from .._shared.resources import service_role
from .._shared.security_groups import client_security_group
from .._shared.subnets import subnet_ids
from ._front_end import FrontEndProps, grant_image_pull
from ._grants import grant_secret_read, image_uri, name_value_pairs, secret_arns
from .app_runner_logs import AppRunnerLogCleanup

# The instance sizes App Runner offers, CPU to the memory sizes allowed with it
# (https://docs.aws.amazon.com/apprunner/latest/api/API_InstanceConfiguration.html gives the
# values; https://docs.aws.amazon.com/apprunner/latest/dg/manage-configure.html the pairs, as
# aws-cdk's apprunner-alpha `Memory` enum documents them).
APP_RUNNER_SIZES: dict[str, tuple[str, ...]] = {
    "0.25 vCPU": ("0.5 GB", "1 GB"),
    "0.5 vCPU": ("1 GB",),
    "1 vCPU": ("2 GB", "3 GB", "4 GB"),
    "2 vCPU": ("4 GB", "6 GB"),
    "4 vCPU": ("8 GB", "10 GB", "12 GB"),
}
# AWS::AppRunner::AutoScalingConfiguration: MinSize 1-25, MaxSize up to 25 (the default quota),
# MaxConcurrency 1-200 requests per instance:
# https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-apprunner-autoscalingconfiguration.html
INSTANCES = (1, 25)
CONCURRENCY = (1, 200)


def check_size(cpu: str, memory: str, *, prefix: str = "") -> None:
    """Raise ValueError (one line naming `<prefix><setting>` and its value) for a size App Runner lacks."""
    if cpu not in APP_RUNNER_SIZES:
        raise ValueError(f"{prefix}cpu must be one of {', '.join(APP_RUNNER_SIZES)}, got {cpu!r}")
    if memory not in APP_RUNNER_SIZES[cpu]:
        raise ValueError(
            f"{prefix}memory must be one of {', '.join(APP_RUNNER_SIZES[cpu])} with cpu {cpu!r}, "
            f"got {memory!r}"
        )


def check_scaling(min_instances: int, max_instances: int, max_concurrency: int, *, prefix: str = "") -> None:
    """Raise ValueError (one line naming `<prefix><setting>` and its value) for scaling App Runner refuses."""
    low, high = INSTANCES
    if not low <= min_instances <= high:
        raise ValueError(f"{prefix}min_instances must be between {low} and {high}, got {min_instances}")
    if not min_instances <= max_instances <= high:
        raise ValueError(
            f"{prefix}max_instances must be between min_instances ({min_instances}) and {high}, "
            f"got {max_instances}"
        )
    low, high = CONCURRENCY
    if not low <= max_concurrency <= high:
        raise ValueError(f"{prefix}max_concurrency must be between {low} and {high}, got {max_concurrency}")


@dataclass(frozen=True, kw_only=True)
class AppRunnerWebServiceProps(FrontEndProps):
    """Settings of an `AppRunnerWebService`; `log_retention` is that of its teardown helper's logs."""

    cpu: str = "0.25 vCPU"
    memory: str = "0.5 GB"
    # Provisioned instances stay warm (billed for memory) even without requests.
    min_instances: int = 1
    max_instances: int = 2
    # Concurrent requests per instance before App Runner adds one.
    max_concurrency: int = 100
    # Public endpoint on IPv4 and IPv6 (App Runner offers dual-stack for public endpoints only).
    dual_stack: bool = True
    # None: a name made from the construct path. Fixed at synth: App Runner names its log groups
    # after it, which is how the stack finds and deletes them.
    service_name: str | None = None


class AppRunnerWebService(Construct):
    """An App Runner service with a VPC connector, auto scaling, X-Ray tracing and secrets from its role.

    - Image from a private ECR repository, pulled with an access role trusted by
      `build.apprunner.amazonaws.com` (CDK's pull grant on that one repository).
    - Egress: all outbound traffic leaves through a VPC connector in `vpc_subnets` with its own
      security group (the data stores admit that group). The internet is then reached only
      through the VPC's NAT gateway, and connector subnets must have IPv4 (no IPv6-only subnets).
    - Ingress: a public endpoint (dual-stack by default); automatic deployments are off.

    App Runner writes its own log groups (`/aws/apprunner/<service>/<id>/application` and
    `/service`) with no retention, outside CloudFormation; `log_cleanup` deletes them after the
    service when the stack is deleted or rolled back.

    Attributes: `service`, `service_name`, `url`, `security_group`, `connector`, `access_role`,
    `instance_role`, `log_cleanup`.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        vpc: ec2.IVpc,
        props: AppRunnerWebServiceProps,
        vpc_subnets: ec2.SubnetSelection | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        check_size(props.cpu, props.memory)
        check_scaling(props.min_instances, props.max_instances, props.max_concurrency)

        self.service_name = props.service_name or physical_name(self, max_length=40)
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_-]{3,39}", self.service_name):
            raise ValueError(
                f"service_name must be 4 to 40 letters, digits, '-' or '_', got {self.service_name!r}"
            )
        self.security_group = client_security_group(
            self, vpc, description="App Runner VPC connector: traffic from the service into the VPC"
        )
        self.connector = apprunner.CfnVpcConnector(
            self,
            "Connector",
            subnets=subnet_ids(
                vpc, vpc_subnets or ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS)
            ),
            security_groups=[self.security_group.security_group_id],
        )

        # As ExpressWebService's execution role: each service's one role that pulls the image.
        self.access_role = service_role(
            self,
            "AccessRole",
            "build.apprunner.amazonaws.com",
            description="Lets App Runner pull the service's image from its ECR repository",
        )
        grant_image_pull(self.access_role, props.repository)
        self.instance_role = service_role(
            self,
            "InstanceRole",
            "tasks.apprunner.amazonaws.com",
            description="The running service's role: reads the secrets given to it, nothing else",
        )
        for secret in props.secrets.values():
            grant_secret_read(self.instance_role, secret)

        scaling = apprunner.CfnAutoScalingConfiguration(
            self,
            "Scaling",
            min_size=props.min_instances,
            max_size=props.max_instances,
            max_concurrency=props.max_concurrency,
        )
        observability = apprunner.CfnObservabilityConfiguration(
            self,
            "Observability",
            trace_configuration=apprunner.CfnObservabilityConfiguration.TraceConfigurationProperty(
                vendor="AWSXRAY"
            ),
        )

        self.service = apprunner.CfnService(
            self,
            "Resource",
            service_name=self.service_name,
            source_configuration=apprunner.CfnService.SourceConfigurationProperty(
                authentication_configuration=apprunner.CfnService.AuthenticationConfigurationProperty(
                    access_role_arn=self.access_role.role_arn
                ),
                auto_deployments_enabled=False,
                image_repository=apprunner.CfnService.ImageRepositoryProperty(
                    image_identifier=image_uri(props.repository, props.tag),
                    image_repository_type="ECR",
                    image_configuration=apprunner.CfnService.ImageConfigurationProperty(
                        port=str(props.port),
                        runtime_environment_variables=name_value_pairs(
                            props.environment, apprunner.CfnService.KeyValuePairProperty
                        ),
                        runtime_environment_secrets=name_value_pairs(
                            secret_arns(props.secrets), apprunner.CfnService.KeyValuePairProperty
                        ),
                    ),
                ),
            ),
            instance_configuration=apprunner.CfnService.InstanceConfigurationProperty(
                cpu=props.cpu, memory=props.memory, instance_role_arn=self.instance_role.role_arn
            ),
            network_configuration=apprunner.CfnService.NetworkConfigurationProperty(
                egress_configuration=apprunner.CfnService.EgressConfigurationProperty(
                    egress_type="VPC", vpc_connector_arn=self.connector.attr_vpc_connector_arn
                ),
                ingress_configuration=apprunner.CfnService.IngressConfigurationProperty(
                    is_publicly_accessible=True
                ),
                ip_address_type="DUAL_STACK" if props.dual_stack else "IPV4",
            ),
            health_check_configuration=apprunner.CfnService.HealthCheckConfigurationProperty(
                protocol="HTTP",
                path=props.health_check_path,
                interval=10,
                timeout=5,
                healthy_threshold=1,
                unhealthy_threshold=3,
            ),
            auto_scaling_configuration_arn=scaling.attr_auto_scaling_configuration_arn,
            observability_configuration=apprunner.CfnService.ServiceObservabilityConfigurationProperty(
                observability_enabled=True,
                observability_configuration_arn=observability.attr_observability_configuration_arn,
            ),
        )
        # The pull and secret grants must be in place before App Runner first pulls and starts.
        self.service.node.add_dependency(self.access_role, self.instance_role)
        # Created before the service and deleted after it: the groups go once nothing writes them.
        self.log_cleanup = AppRunnerLogCleanup(
            self,
            "LogCleanup",
            service_name=self.service_name,
            log_retention=props.log_retention,
            removal_policy=props.removal_policy,
        )
        self.service.node.add_dependency(self.log_cleanup)
        self.url = f"https://{self.service.attr_service_url}"
