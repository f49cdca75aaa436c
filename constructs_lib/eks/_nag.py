"""cdk-nag acknowledgments of this unit, with CDK's own `Validations` API (no cdk-nag import).

The unit's constructs acknowledge what they create; `acknowledge_cdk_internals` acknowledges what
`aws_eks_v2.Cluster` itself creates (its roles and kubectl provider), which no construct here owns.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_eks_v2 as eks
from aws_cdk import aws_lambda as lambda_

from .._shared.nag import acknowledge, managed_policy, wildcard


def acknowledge_cdk_internals(cluster: eks.Cluster) -> None:
    """Acknowledge cdk-nag findings on the roles and functions that `aws_eks_v2` itself creates.

    They are CDK's implementation of the cluster role, the kubectl provider and the ALB
    controller's role, and cannot be changed from here; each acknowledgment sits on the one
    resource the finding is about.
    """
    stack = cdk.Stack.of(cluster)
    acknowledge(
        cluster.role,
        {
            managed_policy("AmazonEKSClusterPolicy"): "EKS requires its AWS managed cluster policy on the "
            "cluster role (https://docs.aws.amazon.com/eks/latest/userguide/cluster-iam-role.html).",
        },
    )
    provider = cluster.node.find_child("KubectlProvider")
    handler = provider.node.find_child("Handler")
    assert isinstance(handler, lambda_.Function) and handler.role is not None
    handler_id = stack.get_logical_id(handler.node.default_child)  # type: ignore[arg-type]
    ecr_public_condition = stack.get_logical_id(handler.node.find_child("HasEcrPublic"))  # type: ignore[arg-type]
    ecr_public = (
        '{"Fn::If":["' + ecr_public_condition + '",{"Fn::Join":["",["arn:",{"Ref":"AWS::Partition"},'
        '":iam::aws:policy/AmazonElasticContainerRegistryPublicReadOnly"]]},{"Ref":"AWS::NoValue"}]}'
    )
    lambda_logs = {
        managed_policy("service-role/AWSLambdaBasicExecutionRole"): "A CDK kubectl provider function "
        "writes its logs with the AWS managed basic execution policy.",
        managed_policy(
            "service-role/AWSLambdaVPCAccessExecutionRole"
        ): "A CDK kubectl provider function runs in the private subnets to reach the cluster endpoint, which "
        "needs the AWS managed VPC access policy for its network interfaces.",
    }
    acknowledge(
        handler.role,
        {
            **lambda_logs,
            managed_policy("AmazonEC2ContainerRegistryReadOnly"): "CDK's kubectl handler pulls OCI Helm "
            "charts from ECR registries with the AWS managed read-only policy.",
            # cdk-nag names this finding after the whole Fn::If that CDK writes for the ARN.
            f"AwsSolutions-IAM4[Policy::{ecr_public}]": "CDK's kubectl handler logs in to ECR Public to "
            "pull Karpenter's OCI charts from public.ecr.aws (AWS managed read-only policy, aws partition).",
        },
    )
    acknowledge(
        handler,
        {
            "AwsSolutions-L1": "CDK chooses the Python runtime of its kubectl handler (the layer's kubectl "
            "and helm are tested with it); upgrading aws-cdk-lib moves it.",
        },
    )
    framework = provider.node.find_child("Provider").node.find_child("framework-onEvent")
    assert isinstance(framework, lambda_.Function) and framework.role is not None
    acknowledge(framework.role, lambda_logs)
    acknowledge(
        framework.role.node.find_child("DefaultPolicy"),
        {
            wildcard(f"<{handler_id}.Arn>:*"): "CDK's provider framework may invoke any version "
            "of the one kubectl handler function it fronts; the wildcard is the version suffix only.",
        },
    )
    if cluster.alb_controller is not None:
        role = cluster.alb_controller.node.find_child("alb-sa").node.find_child("Role")
        reason = (
            "The AWS Load Balancer Controller's own published IAM policy (as CDK ships it for this "
            "version); it creates and tags load balancers, target groups and security groups whose "
            "ARNs exist only at run time; most write statements require the elbv2.k8s.aws/cluster tag."
        )
        acknowledge(
            role.node.find_child("DefaultPolicy"),
            {
                wildcard(resource): reason
                for resource in (
                    "*",
                    "arn:<AWS::Partition>:ec2:*:*:security-group/*",
                    "arn:<AWS::Partition>:elasticloadbalancing:*:*:loadbalancer/app/*/*",
                    "arn:<AWS::Partition>:elasticloadbalancing:*:*:loadbalancer/net/*/*",
                    "arn:<AWS::Partition>:elasticloadbalancing:*:*:targetgroup/*/*",
                    "arn:<AWS::Partition>:elasticloadbalancing:*:*:listener-rule/app/*/*/*",
                    "arn:<AWS::Partition>:elasticloadbalancing:*:*:listener-rule/net/*/*/*",
                    "arn:<AWS::Partition>:elasticloadbalancing:*:*:listener/app/*/*/*",
                    "arn:<AWS::Partition>:elasticloadbalancing:*:*:listener/net/*/*/*",
                )
            },
        )
