"""Teardown backstop for the AWS Load Balancer Controller: what it created goes with the stack.

The controller deletes an Ingress's load balancer, target groups and security groups when the
Ingress is deleted. CDK's kubectl handler logs and swallows errors of a Kubernetes delete, so a
failed or timed-out Ingress delete lets CloudFormation go on and uninstall the controller; its
AWS resources then stay in the VPC and the VPC delete fails (DependencyViolation). This custom
resource is deleted after the controller's chart and before the cluster, and deletes what the
controller left (see `runtime/load_balancer_cleanup.py`).
"""

from __future__ import annotations

from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from constructs import Construct

from .._shared.custom_resource import DirectCustomResource
from .._shared.nag import acknowledge, wildcard

# The tag the controller puts on every AWS resource it creates (kubernetes-sigs/
# aws-load-balancer-controller `pkg/deploy/tracking/provider.go`, `clusterNameTagKey`).
CLUSTER_TAG = "elbv2.k8s.aws/cluster"
# Load balancer network interfaces take minutes to go after the delete; the security groups wait.
DEFAULT_TIMEOUT = cdk.Duration.minutes(10)

RUNTIME = Path(__file__).parent / "runtime"


class LoadBalancerControllerCleanup(DirectCustomResource):
    """One Lambda function called directly by CloudFormation (no provider framework).

    On stack delete only (the function checks that its stack is DELETE_IN_PROGRESS), it deletes
    the load balancers, target groups and security groups tagged `elbv2.k8s.aws/cluster=<cluster>`
    and the rules of other security groups of the VPC that reference them. Create and Update do
    nothing. The resource depends on the cluster, so it is deleted before it; make the
    controller's chart depend on it (`Ipv6Cluster` does) so it is deleted after the controller.

    Defaults: a ten-minute function timeout (load balancer network interfaces take minutes to go),
    logs kept a week, and the log group deleted with the stack.

    Attributes: `resource` (the custom resource), `function`, `role`, `policy`, `log_group`.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        cluster_name: str,
        vpc: ec2.IVpc,
        timeout: cdk.Duration = DEFAULT_TIMEOUT,
        log_retention: logs.RetentionDays = logs.RetentionDays.ONE_WEEK,
        removal_policy: cdk.RemovalPolicy = cdk.RemovalPolicy.DESTROY,
    ) -> None:
        if not cluster_name or cdk.Token.is_unresolved(cluster_name):
            raise ValueError(f"cluster_name must be a literal cluster name, got {cluster_name!r}")
        if not 2 <= timeout.to_minutes() <= 15:
            raise ValueError(f"timeout must be between 2 and 15 minutes, got {timeout.to_human_string()}")

        super().__init__(
            scope,
            construct_id,
            runtime=RUNTIME,
            handler_module="load_balancer_cleanup",
            resource_type="Custom::LoadBalancerControllerCleanup",
            properties={"ClusterName": cluster_name, "VpcId": vpc.vpc_id},
            statements=_statements(cluster_name, vpc),
            timeout=timeout,
            service_timeout=timeout.plus(cdk.Duration.minutes(2)),
            description=f"Deletes the load balancers, target groups and security groups that the AWS Load "
            f"Balancer Controller left for EKS cluster {cluster_name}, on stack delete",
            log_retention=log_retention,
            removal_policy=removal_policy,
        )

        acknowledge(
            self.policy,
            {
                wildcard("*"): "ELBv2 DescribeLoadBalancers, DescribeTargetGroups and DescribeTags and EC2 "
                "DescribeSecurityGroups support no resource-level permissions, and they only read.",
                wildcard(
                    "arn:<AWS::Partition>:elasticloadbalancing:<AWS::Region>:<AWS::AccountId>:loadbalancer/*"
                ): "The controller names its load balancers at run time; a condition limits deletion to "
                f"those tagged {CLUSTER_TAG}={cluster_name}, as the controller's own policy does.",
                wildcard(
                    "arn:<AWS::Partition>:elasticloadbalancing:<AWS::Region>:<AWS::AccountId>:targetgroup/*"
                ): "The controller names its target groups at run time; a condition limits deletion to those "
                f"tagged {CLUSTER_TAG}={cluster_name}, as the controller's own policy does.",
                wildcard(
                    "arn:<AWS::Partition>:ec2:<AWS::Region>:<AWS::AccountId>:security-group/*"
                ): "Security group ids exist only at run time; deletion is limited to groups tagged "
                f"{CLUSTER_TAG}={cluster_name} in this VPC, and revoking ingress rules to groups of "
                "this VPC.",
            },
        )


def _statements(cluster_name: str, vpc: ec2.IVpc) -> list[iam.PolicyStatement]:
    """Describe on `*` (no resource-level scoping); deletes only on this cluster's tagged resources.

    https://docs.aws.amazon.com/service-authorization/latest/reference/list_awselasticloadbalancingv2.html:
    DeleteLoadBalancer and DeleteTargetGroup take `aws:ResourceTag/${TagKey}`; the Describe* actions
    have no resource type. https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonec2.html:
    DeleteSecurityGroup and RevokeSecurityGroupIngress (resource `security-group`) take
    `aws:ResourceTag/${TagKey}` and `ec2:Vpc` (used the same way in "Manage security group rules
    for a specific VPC", https://docs.aws.amazon.com/vpc/latest/userguide/vpc-policy-examples.html).
    The rule to revoke sits on a node security group that the controller did not create (so it
    lacks the tag); that grant is limited to this VPC.
    """
    partition, region, account = cdk.Aws.PARTITION, cdk.Aws.REGION, cdk.Aws.ACCOUNT_ID
    elb = f"arn:{partition}:elasticloadbalancing:{region}:{account}"
    security_groups = f"arn:{partition}:ec2:{region}:{account}:security-group/*"
    in_vpc = {"ec2:Vpc": f"arn:{partition}:ec2:{region}:{account}:vpc/{vpc.vpc_id}"}
    tagged = {f"aws:ResourceTag/{CLUSTER_TAG}": cluster_name}
    return [
        iam.PolicyStatement(
            sid="DescribeLoadBalancerResources",
            actions=[
                "elasticloadbalancing:DescribeLoadBalancers",
                "elasticloadbalancing:DescribeTargetGroups",
                "elasticloadbalancing:DescribeTags",
                "ec2:DescribeSecurityGroups",
            ],
            resources=["*"],
        ),
        iam.PolicyStatement(
            sid="DeleteClusterLoadBalancersAndTargetGroups",
            actions=["elasticloadbalancing:DeleteLoadBalancer", "elasticloadbalancing:DeleteTargetGroup"],
            resources=[f"{elb}:loadbalancer/*", f"{elb}:targetgroup/*"],
            conditions={"StringEquals": tagged},
        ),
        iam.PolicyStatement(
            sid="DeleteClusterSecurityGroups",
            actions=["ec2:DeleteSecurityGroup"],
            resources=[security_groups],
            conditions={"StringEquals": {**tagged, **in_vpc}},
        ),
        iam.PolicyStatement(
            sid="RevokeReferencesInVpc",
            actions=["ec2:RevokeSecurityGroupIngress"],
            resources=[security_groups],
            conditions={"StringEquals": in_vpc},
        ),
        iam.PolicyStatement(
            sid="ReadOwnStack",
            actions=["cloudformation:DescribeStacks"],
            # The function reads only its own stack's status.
            resources=[cdk.Aws.STACK_ID],
        ),
    ]
