"""An Amazon ECS Express Mode service in our own VPC, cluster, security group and log group.

Slide 27 of the talk, the path AWS recommends since App Runner closed to new customers: one
`AWS::ECS::ExpressGatewayService` (L1 only in aws-cdk-lib 2.275) turns an image into an HTTPS
service with a load balancer, auto scaling and canary deployments.

What Express Mode creates itself, outside CloudFormation
(https://docs.aws.amazon.com/AmazonECS/latest/developerguide/express-service-work.html): an
Application Load Balancer (shared by up to 25 Express services of the account, per scheme and
VPC) with an HTTPS listener, listener rules and target groups, an ACM certificate for the
`*.ecs.<region>.on.aws` endpoint, security groups for the load balancer, Application Auto
Scaling's scalable target and target-tracking policy, a metric alarm that rolls back faulty
deployments, and service-linked roles for Elastic Load Balancing and Application Auto Scaling.
Deleting the service (what CloudFormation does on `cdk destroy`) "removes the Application Load
Balancer, target groups, security groups, auto-scaling policies, and other managed infrastructure
components" (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DeleteExpressGatewayService.html);
the load balancer stays while another Express service still shares it. The service-linked roles
stay (account-wide, free, shared with every ECS and ELB user of the account).

What this construct owns so that Express Mode does not make them: the cluster (the default
cluster would be created and left behind), the log group (with retention, encrypted), the task
security group, and the three roles.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from constructs import Construct

from .._shared.log_key import admit_group
from .._shared.nag import acknowledge
from .._shared.resources import log_group, rotating_key, service_role
from .._shared.security_groups import client_security_group
from .._shared.subnets import subnet_ids
from ._front_end import FrontEndProps, grant_image_pull
from ._grants import grant_secret_read, image_uri, name_value_pairs, secret_arns

# AWS's managed policy for the Express Mode infrastructure role, trusted by ecs.amazonaws.com:
# https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AmazonECSInfrastructureRoleforExpressGatewayServices.html
# https://docs.aws.amazon.com/AmazonECS/latest/developerguide/express-service-getting-started.html
INFRASTRUCTURE_POLICY = "service-role/AmazonECSInfrastructureRoleforExpressGatewayServices"
SCALING_METRICS = ("AVERAGE_CPU", "AVERAGE_MEMORY", "REQUEST_COUNT_PER_TARGET")
# Fargate task sizes (Linux): CPU units to the memory (MiB) allowed with them:
# https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-tasks-services.html#fargate-tasks-size
FARGATE_SIZES: dict[int, tuple[int, ...]] = {
    256: (512, 1024, 2048),
    512: tuple(range(1024, 4097, 1024)),
    1024: tuple(range(2048, 8193, 1024)),
    2048: tuple(range(4096, 16385, 1024)),
    4096: tuple(range(8192, 30721, 1024)),
}


def check_task(cpu: int, memory_mib: int, min_tasks: int, max_tasks: int, *, prefix: str = "") -> None:
    """Raise ValueError (one line naming `<prefix><setting>` and its value) for a size or count refused."""
    if cpu not in FARGATE_SIZES:
        raise ValueError(f"{prefix}cpu must be one of {', '.join(map(str, FARGATE_SIZES))}, got {cpu}")
    allowed = FARGATE_SIZES[cpu]
    if memory_mib not in allowed:
        raise ValueError(
            f"{prefix}memory_mib must be one of {', '.join(map(str, allowed))} with cpu {cpu}, "
            f"got {memory_mib}"
        )
    # No documented scale to zero: 1 is the API's default and the smallest value it documents.
    if min_tasks < 1:
        raise ValueError(f"{prefix}min_tasks must be at least 1, got {min_tasks}")
    if max_tasks < min_tasks:
        raise ValueError(f"{prefix}max_tasks must be at least min_tasks ({min_tasks}), got {max_tasks}")


@dataclass(frozen=True, kw_only=True)
class ExpressWebServiceProps(FrontEndProps):
    """Settings of an `ExpressWebService`.

    The resource has no runtime-platform setting and its task definitions are X86_64
    (express-service-work.html, "Service-side defaults"); `log_retention` is the container logs'.
    """

    cpu: int = 256
    memory_mib: int = 512
    min_tasks: int = 1
    max_tasks: int = 2
    scaling_metric: str = "REQUEST_COUNT_PER_TARGET"
    scaling_target: int = 100


class ExpressWebService(Construct):
    """`CfnExpressGatewayService` in given subnets with our security group, cluster, roles and logs.

    Give public subnets for an internet-facing load balancer, private ones for an internal one
    (Express Mode picks the scheme from the subnets it is given); never leave the subnets out,
    or Express Mode uses the default VPC.

    Attributes: `service`, `endpoint`, `security_group`, `cluster`, `log_group`,
    `infrastructure_role`, `execution_role`, `task_role`.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        vpc: ec2.IVpc,
        vpc_subnets: ec2.SubnetSelection,
        props: ExpressWebServiceProps,
    ) -> None:
        super().__init__(scope, construct_id)
        check_task(props.cpu, props.memory_mib, props.min_tasks, props.max_tasks)
        if props.scaling_metric not in SCALING_METRICS:
            raise ValueError(
                f"scaling_metric must be one of {', '.join(SCALING_METRICS)}, got {props.scaling_metric!r}"
            )

        key = rotating_key(
            self,
            "LogKey",
            description="Encrypts the Express Mode service's container logs",
            removal_policy=props.removal_policy,
        )
        self.log_group = log_group(
            self,
            "Logs",
            encryption_key=key,
            retention=props.log_retention,
            removal_policy=props.removal_policy,
        )
        admit_group(key, self.log_group, sid="CloudWatchLogsForTheServiceLogs")
        self.cluster = ecs.CfnCluster(self, "Cluster")
        acknowledge(
            self.cluster,
            {
                "AwsSolutions-ECS4": "Container Insights is off: Express Mode publishes the service's "
                "metrics and alarms itself, and Container Insights would write a log group of its own "
                "that the stack does not own.",
            },
        )
        self.security_group = client_security_group(
            self, vpc, description="ECS Express Mode tasks (the data stores admit this group)"
        )

        self.infrastructure_role = service_role(
            self,
            "InfrastructureRole",
            "ecs.amazonaws.com",
            description="Lets ECS manage the Express service's load balancer, certificate and scaling",
            managed_policies={
                INFRASTRUCTURE_POLICY: "AWS's managed policy made for the Express Mode infrastructure role; "
                "AWS keeps it in step with what Express Mode creates (load balancers, certificates, "
                "scaling, alarms).",
            },
        )
        self.execution_role = service_role(
            self,
            "ExecutionRole",
            "ecs-tasks.amazonaws.com",
            description="Pulls the image, writes the container logs and reads the service's secrets",
        )
        grant_image_pull(self.execution_role, props.repository)
        self.log_group.grant_write(self.execution_role)
        for secret in props.secrets.values():
            grant_secret_read(self.execution_role, secret)
        self.task_role = service_role(
            self,
            "TaskRole",
            "ecs-tasks.amazonaws.com",
            description="The application's own AWS permissions (none: it uses only the data stores)",
        )

        self.service = ecs.CfnExpressGatewayService(
            self,
            "Resource",
            cluster=self.cluster.ref,
            infrastructure_role_arn=self.infrastructure_role.role_arn,
            execution_role_arn=self.execution_role.role_arn,
            task_role_arn=self.task_role.role_arn,
            cpu=str(props.cpu),
            memory=str(props.memory_mib),
            health_check_path=props.health_check_path,
            network_configuration=ecs.CfnExpressGatewayService.ExpressGatewayServiceNetworkConfigurationProperty(
                subnets=subnet_ids(vpc, vpc_subnets),
                security_groups=[self.security_group.security_group_id],
            ),
            primary_container=ecs.CfnExpressGatewayService.ExpressGatewayContainerProperty(
                image=image_uri(props.repository, props.tag),
                container_port=props.port,
                environment=name_value_pairs(
                    props.environment, ecs.CfnExpressGatewayService.KeyValuePairProperty
                ),
                secrets=name_value_pairs(secret_arns(props.secrets), _secret),
                aws_logs_configuration=ecs.CfnExpressGatewayService.ExpressGatewayServiceAwsLogsConfigurationProperty(
                    log_group=self.log_group.log_group_name, log_stream_prefix="web"
                ),
            ),
            scaling_target=ecs.CfnExpressGatewayService.ExpressGatewayScalingTargetProperty(
                min_task_count=props.min_tasks,
                max_task_count=props.max_tasks,
                auto_scaling_metric=props.scaling_metric,
                auto_scaling_target_value=props.scaling_target,
            ),
        )
        # Grants in place before the first task starts; on delete, the roles outlive the service
        # (the infrastructure role is what removes the load balancer).
        self.service.node.add_dependency(self.execution_role, self.infrastructure_role, self.log_group)
        self.endpoint = self.service.attr_endpoint


def _secret(*, name: str, value: str) -> ecs.CfnExpressGatewayService.SecretProperty:
    """Express Mode names a secret's ARN `valueFrom`, where App Runner says `value`."""
    return ecs.CfnExpressGatewayService.SecretProperty(name=name, value_from=value)
