"""EKS on Fargate beside the EC2 nodes: profiles, Fluent Bit logs with pod metadata, Container Insights.

The talk's slide on EKS on Fargate observability, as one construct (`EksFargate`):

1. two Fargate profiles (the workload namespace, the collector's namespace), created and deleted
   one after the other, with one pod execution role that may write to one log group only;
2. Fargate's built-in Fluent Bit configured by the `aws-logging` ConfigMap (CRI parser, kubernetes
   filter, CloudWatch Logs output to the stack's own group), checked against Fargate's rules;
3. a sample workload on Fargate writing JSON logs;
4. Container Insights for the Fargate pods: one ADOT collector on Fargate (IRSA);
5. optionally Container Insights for the EC2 nodes: the `amazon-cloudwatch-observability` add-on
   with EKS Pod Identity.

Every log group these write to is created here first, with the stage's retention, encrypted with
a rotating KMS key whose policy admits CloudWatch Logs for these groups only; nothing may create
a group (no `logs:CreateLogGroup` for Fluent Bit or the collector, `auto_create_group false`).

Delete order (CloudFormation deletes dependants first): the sample workload, the collector, the
`aws-logging` ConfigMap, the profiles one after the other (aws_eks_v2 makes the cluster's kubectl
barrier depend on every profile, so every Kubernetes object goes before them; deleting a profile
stops its pods, and Fargate releases their network interfaces), then the log groups and the key,
then the cluster. Kubernetes objects are grouped into three manifests applied by the cluster's
kubectl provider: no Lambda function of this construct's own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_eks_v2 as eks
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from constructs import Construct, IConstruct

from ..._shared.log_key import logs_key_statement
from ..._shared.nag import acknowledge_resource
from ..._shared.resources import log_group, rotating_key
from . import collector, sample
from .aws_logging import aws_logging_manifests, check_aws_logging, render_aws_logging
from .profiles import FargateSelector, SequentialFargateProfiles

CLOUDWATCH_ADDON = "amazon-cloudwatch-observability"
# The add-on's agent runs as this service account (Pod Identity from add-on version 3.1.0):
# https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Container-Insights-setup-EKS-addon.html
CLOUDWATCH_AGENT_SERVICE_ACCOUNT = "cloudwatch-agent"
# The groups Container Insights writes to for a cluster (the add-on: all four; ADOT on Fargate:
# performance): https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Container-Insights-view-metrics.html
INSIGHTS_GROUPS = ("performance", "application", "dataplane", "host")
# Characters counted for each unresolved token in the ConfigMap (a region or a name).
_TOKEN_ALLOWANCE = 64
_MANAGED = "arn:<AWS::Partition>:iam::aws:policy"


@dataclass(frozen=True)
class EksFargateProps:
    """Settings of `EksFargate`; the defaults suit a sandbox.

    `workload_selectors` pick the pods that run on Fargate (namespace, optional labels); the
    sample runs in the first selector's namespace and carries no labels, so that selector must
    have none when `sample_workload` is on.
    """

    workload_selectors: Sequence[FargateSelector] = (FargateSelector("fargate-apps"),)
    sample_workload: bool = True
    sample_image: str = sample.IMAGE
    # Container Insights for Fargate pods (ADOT collector, one Fargate pod: 0.25 vCPU, 1 GB).
    fargate_container_insights: bool = True
    collector_image: str = collector.IMAGE
    # Container Insights for the EC2 nodes: the amazon-cloudwatch-observability add-on (DaemonSets
    # on every node, billed per observation, plus every container log ingested).
    node_container_insights: bool = False
    # None: the default version EKS picks for the cluster's Kubernetes version at creation.
    cloudwatch_addon_version: str | None = None
    metadata_cache_ttl: str = "300s"
    log_retention: logs.RetentionDays = logs.RetentionDays.ONE_WEEK
    # For the log groups and their key. RETAIN: a fixed-name group is retained except when the
    # stack's first create rolls back (RetainExceptOnCreate), so a retry does not fail on it.
    removal_policy: cdk.RemovalPolicy = cdk.RemovalPolicy.DESTROY

    def __post_init__(self) -> None:
        if not self.workload_selectors:
            raise ValueError("workload_selectors must list at least one selector, got none")
        if self.sample_workload and self.workload_selectors[0].labels:
            raise ValueError(
                "workload_selectors[0] must have no labels when sample_workload is on (the sample's pods "
                f"carry none), got {dict(self.workload_selectors[0].labels)}"
            )


class EksFargate(Construct):
    """Fargate profiles, Fargate logging and Container Insights for an IPv6 `aws_eks_v2.Cluster`.

    The cluster needs a kubectl provider and an IAM OIDC provider is added if it has none (IRSA
    for the collector). Call `add_workload(manifest)` to have another Fargate workload deleted
    before the collector and the profiles.

    Attributes: `log_key`, `pod_log_group`, `insights_log_groups` (by name: performance, and with
    the add-on application, dataplane, host), `profiles` (`pod_execution_role`, `profiles`),
    `logging_manifest`, `collector_role` and `collector_manifest` (None without Fargate Container
    Insights), `sample_manifest` (None without the sample), `cloudwatch_addon` and
    `cloudwatch_agent_role` (None without node Container Insights).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        cluster: eks.Cluster,
        vpc: ec2.IVpc,
        props: EksFargateProps | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        props = props or EksFargateProps()
        icluster = cast_cluster(cluster)
        stack = cdk.Stack.of(self)
        cluster_name = _literal_cluster_name(cluster)

        # Log groups first: everything below writes to them, and they outlive every writer.
        pod_log_group_name = f"/aws/eks/{cluster_name}/fargate-pods"
        insights = ["performance"] if props.fargate_container_insights else []
        if props.node_container_insights:
            insights = list(INSIGHTS_GROUPS)
        insights_names = {name: f"/aws/containerinsights/{cluster_name}/{name}" for name in insights}
        self.log_key = rotating_key(
            self,
            "LogKey",
            description=f"Encrypts the Fargate pod and Container Insights logs of EKS cluster {cluster_name}",
            removal_policy=props.removal_policy,
        )
        # Only CloudWatch Logs in this region, and only for these groups (the encryption context
        # names the group): https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html
        self.log_key.add_to_resource_policy(
            logs_key_statement(self, [pod_log_group_name, *insights_names.values()])
        )

        def fixed_name_group(construct_id: str, name: str) -> logs.LogGroup:
            group = log_group(
                self,
                construct_id,
                name=name,
                retention=props.log_retention,
                encryption_key=self.log_key,
                removal_policy=props.removal_policy,
            )
            # The key policy must admit CloudWatch Logs before the group is created with it.
            group.node.add_dependency(self.log_key)
            return group

        self.pod_log_group = fixed_name_group("PodLogs", pod_log_group_name)
        self.insights_log_groups = {
            name: fixed_name_group(f"Insights{name.capitalize()}", group_name)
            for name, group_name in insights_names.items()
        }

        profiles: dict[str, Sequence[FargateSelector]] = {"Workloads": props.workload_selectors}
        if props.fargate_container_insights:
            profiles["Collector"] = (FargateSelector(collector.NAMESPACE),)
        self.profiles = SequentialFargateProfiles(
            self, "Profiles", cluster=cluster, cluster_name=cluster_name, vpc=vpc, profiles=profiles
        )
        pod_logs_policy = self._grant_write(
            "PodLogsPolicy", self.profiles.pod_execution_role, self.pod_log_group
        )

        # Fargate's Fluent Bit reads the ConfigMap when a pod starts: it exists before any pod.
        data = render_aws_logging(
            region=stack.region,
            log_group_name=pod_log_group_name,
            metadata_cache_ttl=props.metadata_cache_ttl,
        )
        check_aws_logging(
            data, token_allowance=_TOKEN_ALLOWANCE * sum(cdk.Token.is_unresolved(v) for v in data.values())
        )
        self.logging_manifest = eks.KubernetesManifest(
            self, "Logging", cluster=icluster, manifest=aws_logging_manifests(data), overwrite=True
        )
        self.logging_manifest.node.add_dependency(self.pod_log_group, pod_logs_policy)

        self.collector_role: iam.Role | None = None
        self.collector_manifest: eks.KubernetesManifest | None = None
        if props.fargate_container_insights:
            performance = self.insights_log_groups["performance"]
            self.collector_role = self._collector_role(cluster)
            collector_policy = self._grant_write("CollectorLogsPolicy", self.collector_role, performance)
            self.collector_manifest = eks.KubernetesManifest(
                self,
                "Collector",
                cluster=icluster,
                manifest=collector.collector_manifests(
                    cluster_name=cluster_name,
                    region=stack.region,
                    log_group_name=insights_names["performance"],
                    role_arn=self.collector_role.role_arn,
                    image=props.collector_image,
                ),
            )
            # Created after, deleted before: its log configuration, its group and its role.
            self.collector_manifest.node.add_dependency(self.logging_manifest, performance, collector_policy)

        self.sample_manifest: eks.KubernetesManifest | None = None
        if props.sample_workload:
            self.sample_manifest = eks.KubernetesManifest(
                self,
                "SampleApp",
                cluster=icluster,
                manifest=sample.json_logger_manifests(
                    namespace=props.workload_selectors[0].namespace, image=props.sample_image
                ),
            )
            self.add_workload(self.sample_manifest)

        self.cloudwatch_agent_role: iam.Role | None = None
        self.cloudwatch_addon: eks.CfnAddon | None = None
        if props.node_container_insights:
            self._cloudwatch_addon(cluster, props)

    def add_workload(self, workload: IConstruct) -> None:
        """Create `workload` after, and delete it before, the collector, the ConfigMap and its log group."""
        workload.node.add_dependency(self.logging_manifest, self.pod_log_group)
        if self.collector_manifest is not None:
            workload.node.add_dependency(self.collector_manifest)

    def _grant_write(self, construct_id: str, role: iam.IRole, group: logs.LogGroup) -> iam.Policy:
        """Write events to `group` only: no CreateLogGroup, so nothing re-creates a deleted group.

        The group's `Arn` attribute ends in `:*`, which covers its log streams (PutLogEvents and
        CreateLogStream are authorized against the stream).
        """
        return iam.Policy(
            self,
            construct_id,
            roles=[role],
            statements=[
                iam.PolicyStatement(
                    actions=["logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"],
                    resources=[group.log_group_arn],
                )
            ],
        )

    def _collector_role(self, cluster: eks.Cluster) -> iam.Role:
        """The collector's IRSA role: only its service account, through the cluster's OIDC issuer."""
        provider = cluster.open_id_connect_provider
        issuer = provider.open_id_connect_provider_issuer
        # The issuer is a token and sits in the condition keys: CfnJson resolves it at deploy time
        # (on CDK's shared CfnUtils function, already in the stack for the ALB controller's role).
        conditions = cdk.CfnJson(
            self,
            "CollectorTrustConditions",
            value={
                f"{issuer}:sub": f"system:serviceaccount:{collector.NAMESPACE}:{collector.NAME}",
                f"{issuer}:aud": "sts.amazonaws.com",
            },
        )
        return iam.Role(
            self,
            "CollectorRole",
            assumed_by=iam.OpenIdConnectPrincipal(provider, {"StringEquals": conditions}),
            description="IRSA role of the ADOT collector (Container Insights for Fargate pods)",
        )

    def _cloudwatch_addon(self, cluster: eks.Cluster, props: EksFargateProps) -> None:
        role = self.cloudwatch_agent_role = iam.Role(
            self,
            "CloudWatchAgentRole",
            assumed_by=iam.SessionTagsPrincipal(iam.ServicePrincipal("pods.eks.amazonaws.com")),
            managed_policies=[iam.ManagedPolicy.from_aws_managed_policy_name("CloudWatchAgentServerPolicy")],
            description="Pod Identity role of the amazon-cloudwatch-observability add-on's agent",
        )
        acknowledge_resource(
            role,
            {
                f"AwsSolutions-IAM4[Policy::{_MANAGED}/CloudWatchAgentServerPolicy]": (
                    "The AWS managed policy the CloudWatch add-on documents for its agent; the agent reads "
                    "EC2 and EKS metadata and writes metrics and Container Insights logs, whose groups "
                    "this stack creates beforehand."
                ),
            },
        )
        addon = self.cloudwatch_addon = eks.CfnAddon(
            self,
            "CloudWatchObservability",
            cluster_name=cluster.cluster_name,
            addon_name=CLOUDWATCH_ADDON,
            addon_version=props.cloudwatch_addon_version,
            pod_identity_associations=[
                eks.CfnAddon.PodIdentityAssociationProperty(
                    role_arn=role.role_arn, service_account=CLOUDWATCH_AGENT_SERVICE_ACCOUNT
                )
            ],
            # The add-on's resources go with it: a retained DaemonSet would keep writing.
            preserve_on_delete=False,
        )
        # Its agent writes to the groups created here (deleted after it) and gets its credentials
        # from the Pod Identity agent.
        addon.node.add_dependency(role, *self.insights_log_groups.values(), cluster)
        if cluster.eks_pod_identity_agent is not None:
            addon.node.add_dependency(cluster.eks_pod_identity_agent)


def cast_cluster(cluster: eks.Cluster) -> eks.ICluster:
    """The cluster as `ICluster` (jsii's Python stubs omit `kubectl_provider_options` from `Cluster`)."""
    return cast(eks.ICluster, cluster)


def _literal_cluster_name(cluster: eks.Cluster) -> str:
    """The cluster's plain name when it was given one (readable group names), else its token."""
    name = getattr(cluster.node.default_child, "name", None)
    if isinstance(name, str) and name and not cdk.Token.is_unresolved(name):
        return name
    return cluster.cluster_name
