"""Fargate profiles that EKS creates and deletes one at a time, sharing one pod execution role.

EKS runs one Fargate profile operation per cluster at a time ("one profile in DELETING blocks
creating others", https://docs.aws.amazon.com/eks/latest/userguide/fargate-profile.html), so
each profile depends on the one before it: CloudFormation creates them in order and deletes them
in reverse. Profiles are immutable (every property forces replacement), and pods run on Fargate
in private subnets only.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_eks_v2 as eks
from aws_cdk import aws_iam as iam
from constructs import Construct

from ..._shared.nag import acknowledge_resource

# EKS quotas (not adjustable below these defaults without a request):
# https://docs.aws.amazon.com/eks/latest/userguide/service-quotas.html
MAX_SELECTORS_PER_PROFILE = 5
MAX_LABELS_PER_SELECTOR = 5
# A Kubernetes namespace name is an RFC 1123 DNS label:
# https://kubernetes.io/docs/concepts/overview/working-with-objects/names/#dns-label-names
DNS_1123_LABEL = r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?"
_MANAGED = "arn:<AWS::Partition>:iam::aws:policy"


@dataclass(frozen=True)
class FargateSelector:
    """Pods in `namespace` carrying every one of `labels` run on the profile's Fargate capacity."""

    namespace: str
    labels: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not re.fullmatch(DNS_1123_LABEL, self.namespace):
            raise ValueError(
                f"namespace must be a Kubernetes namespace name (DNS-1123 label), got {self.namespace!r}"
            )
        if len(self.labels) > MAX_LABELS_PER_SELECTOR:
            raise ValueError(
                f"labels may list at most {MAX_LABELS_PER_SELECTOR} pairs per selector (EKS quota), "
                f"got {len(self.labels)}"
            )


def check_selectors(selectors: Sequence[FargateSelector]) -> None:
    """One profile's selectors: at least one, at most EKS's five."""
    if not 1 <= len(selectors) <= MAX_SELECTORS_PER_PROFILE:
        raise ValueError(
            f"selectors must list 1 to {MAX_SELECTORS_PER_PROFILE} selectors per profile (EKS quota), "
            f"got {len(selectors)}"
        )


class SequentialFargateProfiles(Construct):
    """Fargate profiles in the cluster's private subnets, created and deleted one after the other.

    `profiles` maps a construct id to the selectors of one profile. All share one pod execution
    role (attribute `pod_execution_role`), trusted by `eks-fargate-pods.amazonaws.com` for this
    cluster's profiles only (the confused-deputy condition of the EKS user guide's
    "Amazon EKS Pod execution IAM role"); grant it what Fargate's log router writes to.

    Attributes: `pod_execution_role`, `profiles` (by construct id, in creation order).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        cluster: eks.Cluster,
        cluster_name: str,
        vpc: ec2.IVpc,
        profiles: Mapping[str, Sequence[FargateSelector]],
    ) -> None:
        super().__init__(scope, construct_id)
        if not profiles:
            raise ValueError("profiles must name at least one profile, got none")
        for selectors in profiles.values():
            check_selectors(selectors)
        stack = cdk.Stack.of(self)
        self.pod_execution_role = iam.Role(
            self,
            "PodExecutionRole",
            assumed_by=iam.ServicePrincipal(
                "eks-fargate-pods.amazonaws.com",
                conditions={
                    "ArnLike": {
                        "aws:SourceArn": f"arn:{stack.partition}:eks:{stack.region}:{stack.account}"
                        f":fargateprofile/{cluster_name}/*"
                    }
                },
            ),
            managed_policies=[
                iam.ManagedPolicy.from_aws_managed_policy_name("AmazonEKSFargatePodExecutionRolePolicy")
            ],
            description=f"Pod execution role of the Fargate profiles of EKS cluster {cluster_name}",
        )
        acknowledge_resource(
            self.pod_execution_role,
            {
                f"AwsSolutions-IAM4[Policy::{_MANAGED}/AmazonEKSFargatePodExecutionRolePolicy]": (
                    "The AWS managed policy EKS documents for the pod execution role: it only lets Fargate "
                    "pull images from ECR; AWS keeps it current with Fargate."
                ),
            },
        )
        self.profiles: dict[str, eks.FargateProfile] = {}
        previous: eks.FargateProfile | None = None
        for profile_id, selectors in profiles.items():
            profile = eks.FargateProfile(
                self,
                profile_id,
                cluster=cluster,
                selectors=[
                    eks.Selector(namespace=s.namespace, labels=dict(s.labels) or None) for s in selectors
                ],
                pod_execution_role=self.pod_execution_role,
                vpc=vpc,
                # Fargate runs pods in private subnets only.
                subnet_selection=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS),
            )
            # aws_eks_v2 already chains the profiles of one `Cluster` (and makes its kubectl barrier
            # depend on each); stated here too, so that the order this unit needs reads here.
            if previous is not None:
                profile.node.default_child.node.add_dependency(previous)  # type: ignore[union-attr]
            self.profiles[profile_id] = profile
            previous = profile
