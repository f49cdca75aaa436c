"""Eks stack: IPv6 EKS with Bottlerocket system nodes, Karpenter and a dual-stack ALB sample.

Delete order (CloudFormation deletes dependants first), which is the teardown design:
1. the sample workload: its Ingress goes while the Load Balancer Controller still runs, so the
   controller deletes the ALB and its target group; its pods leave before the nodes drain;
   the Fargate sample, the ADOT collector and the `aws-logging` ConfigMap (the Fargate profiles go
   only after every Kubernetes object, one after the other, then their log groups);
2. Karpenter's NodePools (Karpenter drains and terminates their nodes), EC2NodeClass, charts,
   and its cleanup backstop; the Load Balancer Controller;
3. CoreDNS, the system node group, the network add-ons, and the cluster;
4. the VPC, in the Network stack, last.
"""

from __future__ import annotations

from typing import Any, cast

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_eks_v2 as eks
from aws_cdk.lambda_layer_kubectl_v36 import KubectlV36Layer
from constructs import Construct

from constructs_lib.eks import (
    GPU_NODE_TAINT,
    GPU_SETTINGS_TOML,
    SYSTEM_NODE_LABELS,
    SYSTEM_POD_TOLERATIONS,
    BottlerocketNodegroup,
    BottlerocketNodegroupProps,
    DualStackWebApp,
    DualStackWebAppProps,
    Ipv6Cluster,
    Ipv6ClusterProps,
    LogEncryptionKey,
    control_plane_log_group_name,
)
from constructs_lib.eks.fargate import EksFargate, EksFargateProps, FargateSelector
from constructs_lib.eks.karpenter import Karpenter, KarpenterProps, NodeClassSpec
from stacks.config.eks import EksConfig, NodeGroupConfig
from stacks.stage import StageSettings, StageStack

KUBERNETES_VERSIONS = {"1.35": eks.KubernetesVersion.V1_35, "1.36": eks.KubernetesVersion.V1_36}
CONTROL_PLANE_LOGS = {
    "api": eks.ClusterLoggingTypes.API,
    "audit": eks.ClusterLoggingTypes.AUDIT,
    "authenticator": eks.ClusterLoggingTypes.AUTHENTICATOR,
    "controllerManager": eks.ClusterLoggingTypes.CONTROLLER_MANAGER,
    "scheduler": eks.ClusterLoggingTypes.SCHEDULER,
}


class EksStack(StageStack):
    """Composes the cluster, the GPU node group, Karpenter and the sample, and orders their delete."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        vpc: ec2.IVpc,
        config: EksConfig,
        cluster_name: str,
        discovery_tag: str,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        settings = self.settings
        removal_policy = settings.removal_policy
        # The stack's log key; the control-plane group (the audit log) is its named group.
        self.logs_key = LogEncryptionKey(
            self,
            "LogsKey",
            log_group_names=[control_plane_log_group_name(cluster_name)],
            removal_policy=removal_policy,
        )
        self.cluster = Ipv6Cluster(
            self,
            "Cluster",
            vpc=vpc,
            props=Ipv6ClusterProps(
                cluster_name=cluster_name,
                version=KUBERNETES_VERSIONS[config.kubernetes_version],
                # kubectl 1.36 talks to 1.35 and 1.36 API servers (one minor version of skew).
                kubectl_layer=KubectlV36Layer(self, "KubectlLayer"),
                admin_principal_arn=config.admin_principal_arn,
                public_access_cidrs=config.endpoint.public_access_cidrs
                if config.endpoint.access == "public_and_private"
                else (),
                control_plane_logs=[CONTROL_PLANE_LOGS[name] for name in config.control_plane_logs],
                log_retention=settings.log_retention,
                log_encryption_key=self.logs_key.key,
                removal_policy=removal_policy,
                addon_versions=config.addon_versions,
                system_nodes=_nodegroup_props(config.system_nodes),
            ),
        )
        self.gpu_nodes: BottlerocketNodegroup | None = None
        if config.gpu_nodes.enabled:
            self.gpu_nodes = self.cluster.add_bottlerocket_nodegroup(
                "GpuNodes", _gpu_nodegroup_props(config.gpu_nodes)
            )

        self.karpenter = Karpenter(
            self,
            "Karpenter",
            cluster=self.cluster.cluster,
            props=_karpenter_props(config, discovery_tag, settings),
        )
        # The controller runs on the system nodes and resolves AWS endpoints through CoreDNS: it
        # is installed after both and uninstalled before them (after its NodePools are gone).
        self.karpenter.chart.node.add_dependency(
            self.cluster.system_nodes.nodegroup, self.cluster.addons["coredns"]
        )

        self.sample: DualStackWebApp | None = None
        if config.sample_app.enabled:
            self.sample = DualStackWebApp(
                self,
                "SampleApp",
                cluster=cast(eks.ICluster, self.cluster.cluster),
                props=DualStackWebAppProps(
                    image=config.sample_app.image,
                    replicas=config.sample_app.replicas,
                    node_selector={"karpenter.sh/nodepool": self.karpenter.general_node_pool_name},
                ),
            )
            # Deleted before the NodePools and before the Load Balancer Controller.
            self.karpenter.add_workload(self.sample.manifest)
            assert self.cluster.alb_controller is not None
            self.sample.manifest.node.add_dependency(self.cluster.alb_controller)
            cdk.CfnOutput(self, "SampleUrl", value=f"http://{self.sample.load_balancer_address}")

        self.fargate: EksFargate | None = None
        if config.fargate.enabled:
            self.fargate = _fargate(self, config, vpc)
            # The add-on's controller may land on a Karpenter node: it goes before the NodePools.
            if self.fargate.cloudwatch_addon is not None:
                self.karpenter.add_workload(self.fargate.cloudwatch_addon)
            cdk.CfnOutput(self, "FargatePodLogGroup", value=self.fargate.pod_log_group.log_group_name)

        cdk.CfnOutput(self, "ClusterName", value=self.cluster.cluster.cluster_name)
        cdk.CfnOutput(self, "UpdateKubeconfigCommand", value=self.cluster.update_kubeconfig_command())
        cdk.CfnOutput(
            self,
            "WatchKarpenterCommand",
            description="Deploy a workload, then watch Karpenter create NodeClaims and their nodes join",
            value="kubectl get nodepools,nodeclaims,nodes "
            "-L karpenter.sh/nodepool,node.kubernetes.io/instance-type -w",
        )
        cdk.CfnOutput(
            self,
            "KarpenterLogsCommand",
            value=f"kubectl logs -n {self.karpenter.namespace} "
            "-l app.kubernetes.io/name=karpenter -c controller -f",
        )


def _nodegroup_props(config: NodeGroupConfig) -> BottlerocketNodegroupProps:
    return BottlerocketNodegroupProps(
        instance_types=config.instance_types,
        min_size=config.min_size,
        desired_size=config.desired_size,
        max_size=config.max_size,
        data_volume_gib=config.disk_size_gib,
    )


def _gpu_nodegroup_props(config: NodeGroupConfig) -> BottlerocketNodegroupProps:
    graviton = config.instance_types[0].split(".")[0].endswith("g")  # g5g: Graviton with NVIDIA T4G
    return BottlerocketNodegroupProps(
        instance_types=config.instance_types,
        ami_type=eks.NodegroupAmiType.BOTTLEROCKET_ARM_64_NVIDIA
        if graviton
        else eks.NodegroupAmiType.BOTTLEROCKET_X86_64_NVIDIA,
        min_size=config.min_size,
        desired_size=config.desired_size,
        max_size=config.max_size,
        data_volume_gib=config.disk_size_gib,
        labels={"role": "gpu"},
        taints=(GPU_NODE_TAINT,),
        settings_toml=GPU_SETTINGS_TOML,
    )


def _karpenter_props(config: EksConfig, discovery_tag: str, settings: StageSettings) -> KarpenterProps:
    return KarpenterProps(
        discovery_tag_value=discovery_tag,
        # Two replicas need two system nodes (the chart keeps replicas on different hosts).
        replicas=2 if config.system_nodes.desired_size >= 2 else 1,
        controller_node_selector=SYSTEM_NODE_LABELS,
        controller_tolerations=tuple(SYSTEM_POD_TOLERATIONS),
        node_class=NodeClassSpec(bottlerocket_version=config.karpenter.bottlerocket_version),
        node_pool=config.karpenter.general,
        gpu_node_pool=config.karpenter.gpu,
        removal_policy=settings.removal_policy,
        cleanup_log_retention=settings.log_retention,
    )


def _fargate(stack: EksStack, config: EksConfig, vpc: ec2.IVpc) -> EksFargate:
    fargate, insights = config.fargate, config.container_insights
    return EksFargate(
        stack,
        "Fargate",
        cluster=stack.cluster.cluster,
        vpc=vpc,
        props=EksFargateProps(
            workload_selectors=tuple(
                FargateSelector(s.namespace, dict(s.labels)) for s in fargate.workload_selectors
            ),
            sample_workload=fargate.sample_app,
            fargate_container_insights=fargate.container_insights,
            node_container_insights=insights.ec2_nodes,
            cloudwatch_addon_version=insights.addon_version,
            metadata_cache_ttl=fargate.metadata_cache_ttl,
            log_retention=stack.settings.log_retention,
            removal_policy=stack.settings.removal_policy,
        ),
    )
