"""Self-managed Karpenter 1.14.1 on an `aws_eks_v2.Cluster`: IAM, interruption queue, chart, pools, teardown.

One copyable unit for the talk's "EKS with Karpenter" slide. It creates, in deploy order:

1. the node role (EKS worker, ECR pull, SSM, and the VPC CNI's IPv6 permissions) and its
   `EC2_LINUX` access entry;
2. the interruption queue (SQS-managed encryption, TLS only, 5 minutes' retention) and the five
   EventBridge rules of the upstream getting-started template that feed it;
3. the controller's Pod Identity service account and role, carrying the six upstream policies;
4. the cleanup custom resource (a teardown backstop, see `runtime/cleanup.py`);
5. the `karpenter-crd` chart, then the `karpenter` chart;
6. the EC2NodeClass, then the NodePools.

CloudFormation deletes in the reverse order, and that order is the teardown design: NodePools
first while the controller still runs (it drains and terminates their nodes; the EC2NodeClass
finalizer waits for them and deletes the instance profile), then the controller chart, then the
CRD chart, then the cleanup resource terminates whatever is still tagged for the cluster, and only
then the node role, the cluster and (in its own stack) the VPC. Each `kubectl delete` runs in the
cluster's kubectl handler (15 minutes at most, delete errors only logged), so the NodePools carry
a `terminationGracePeriod` (5 minutes) that bounds every drain, PodDisruptionBudgets included.

Lambda-backed custom resources: one function of its own (the cleanup, called directly by
CloudFormation: no provider framework, no state machine); the service account, both charts and
the manifests reuse the cluster's kubectl provider. Only when the cluster's name is a token
(CloudFormation-generated) do the policies need `cdk.CfnJson` (ten resources on CDK's one shared
CfnUtils function), because that name sits inside IAM condition keys.

CRDs: installed and upgraded through the separate `karpenter-crd` chart, which Karpenter's
upgrade guide recommends, because `helm upgrade` never touches a chart's `crds/` directory: with
the CRDs as ordinary templates of their own release, raising `chart_version` upgrades CRDs before
the controller that needs them (the controller chart depends on it). One `chart_version` serves
both charts, so that they cannot drift apart (see the controller chart below for why that matters).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, cast

import aws_cdk as cdk
from aws_cdk import aws_eks_v2 as eks
from aws_cdk import aws_logs as logs
from constructs import Construct, IConstruct

from .cleanup import KarpenterCleanup
from .cluster_checks import check_controller_nodes, check_not_auto_mode
from .controller_policies import controller_policies
from .interruption import InterruptionQueue
from .node_pools import (
    GpuNodePoolSpec,
    NodeClassSpec,
    NodePoolSpec,
    check_bottlerocket_release,
    ec2_node_class_manifest,
    general_node_pool_manifest,
    gpu_node_pool_manifest,
)
from .node_role import node_role

KARPENTER_VERSION = "1.14.1"
CHART_REPOSITORY = "oci://public.ecr.aws/karpenter/karpenter"
CRD_CHART_REPOSITORY = "oci://public.ecr.aws/karpenter/karpenter-crd"
DISCOVERY_TAG_KEY = "karpenter.sh/discovery"
CONTROLLER_LABEL = "karpenter.sh/controller"


@dataclass(frozen=True)
class KarpenterProps:
    """Settings of `Karpenter`; the defaults are a cheap sandbox that scales from zero.

    `discovery_tag_value` must equal the value of the `karpenter.sh/discovery` tag on the
    private subnets. The controller runs on nodes labelled `controller_node_selector` (the
    system managed node group must carry that label; the chart already tolerates
    `CriticalAddonsOnly`, so that taint on the system nodes keeps other pods off them). The chart
    requires nodes that Karpenter did not launch, spreads replicas across zones and keeps them
    on different hosts: `replicas=2` needs two system nodes in two AZs, a sandbox with one
    system node passes `replicas=1`.
    """

    discovery_tag_value: str
    # Both charts, `karpenter-crd` and `karpenter`: one version, so that they cannot drift apart.
    chart_version: str = KARPENTER_VERSION
    # kube-system, as the upstream getting-started guide installs it: the controller is a
    # cluster-critical add-on, and its pods get system-cluster-critical priority there.
    namespace: str = "kube-system"
    service_account_name: str = "karpenter"
    replicas: int = 2
    controller_node_selector: Mapping[str, str] = field(default_factory=lambda: {CONTROLLER_LABEL: "true"})
    controller_tolerations: tuple[Mapping[str, str], ...] = ()
    # Requests sized for a small cluster; the memory limit equals the request (no overcommit of
    # the one pod that adds capacity), and no CPU limit (throttling slows scheduling decisions).
    controller_cpu: str = "500m"
    controller_memory: str = "1Gi"
    log_level: str = "info"
    node_class: NodeClassSpec = field(default_factory=NodeClassSpec)
    node_pool: NodePoolSpec = field(default_factory=NodePoolSpec)
    gpu_node_pool: GpuNodePoolSpec = field(default_factory=GpuNodePoolSpec)
    # The interruption queue holds only transient events; the sandbox deletes it with the stack.
    removal_policy: cdk.RemovalPolicy = cdk.RemovalPolicy.DESTROY
    cleanup_log_retention: logs.RetentionDays = logs.RetentionDays.ONE_WEEK
    # The cleanup's time budget; it must stay below Lambda's 15 minutes so that CloudFormation
    # always gets an answer (success, or a failure naming what is left).
    cleanup_timeout: cdk.Duration = field(default_factory=lambda: cdk.Duration.minutes(10))

    def __post_init__(self) -> None:
        if not self.discovery_tag_value:
            raise ValueError(f"discovery_tag_value must not be empty, got {self.discovery_tag_value!r}")
        if not self.chart_version or not self.chart_version[0].isdigit():
            raise ValueError(f"chart_version must be a chart version like 1.14.1, got {self.chart_version!r}")
        if not 1 <= self.replicas <= 3:
            raise ValueError(f"replicas must be between 1 and 3, got {self.replicas}")
        if not self.controller_node_selector:
            raise ValueError(
                "controller_node_selector must name the system nodes' label, "
                f"got {self.controller_node_selector!r}"
            )
        if self.log_level not in ("debug", "info", "error"):
            raise ValueError(f"log_level must be one of debug, info, error, got {self.log_level!r}")
        minutes = self.cleanup_timeout.to_seconds() / 60
        if not 2 <= minutes <= 14:
            raise ValueError(f"cleanup_timeout must be between 2 and 14 minutes, got {minutes:g} minutes")


class Karpenter(Construct):
    """Karpenter on an IPv6 `aws_eks_v2.Cluster`, with a teardown that leaves nothing behind.

    The cluster must have a kubectl provider (`kubectl_provider_options` with the kubectl layer
    of its Kubernetes version), authentication through access entries, no EKS Auto Mode, and a
    managed node group labelled as `props.controller_node_selector` says, added before Karpenter
    (both checked at synth, see `cluster_checks.py`). Pod Identity: the construct's
    `ServiceAccount` applies the service account itself, so the chart is told not to create one
    (`serviceAccount.create=false`).

    Attributes: `node_role`, `interruption` (queue and rules), `interruption_queue`,
    `controller_role`, `controller_policies`, `service_account`, `crd_chart`, `chart`,
    `node_class_manifest`, `node_pool_manifests` (by pool name), `cleanup` (`KarpenterCleanup`),
    `namespace`, `service_account_name`, `general_node_pool_name`. To have a workload deleted
    before the NodePools (so that its pods leave before Karpenter's nodes drain), call
    `karpenter.add_workload(manifest)`: the workload
    then depends on every NodePool, and CloudFormation deletes it first.
    """

    def __init__(
        self, scope: Construct, construct_id: str, *, cluster: eks.Cluster, props: KarpenterProps
    ) -> None:
        super().__init__(scope, construct_id)
        check_not_auto_mode(cluster)
        check_controller_nodes(cluster, props.controller_node_selector)
        self.cluster = cluster
        # jsii's Python stubs omit `kubectl_provider_options` from `Cluster`, so mypy does not see
        # that it implements `ICluster`; it does.
        icluster = cast(eks.ICluster, cluster)
        self.namespace = props.namespace
        self.service_account_name = props.service_account_name
        self.general_node_pool_name = props.node_pool.name
        self.cluster_name = _literal_cluster_name(cluster)
        kubernetes_version = getattr(cluster.node.default_child, "version", None)
        if isinstance(kubernetes_version, str) and not cdk.Token.is_unresolved(kubernetes_version):
            check_bottlerocket_release(props.node_class.bottlerocket_version, kubernetes_version)
        ipv6 = cluster.ip_family == eks.IpFamily.IP_V6

        self.node_role, self.node_cni_policy = node_role(self, ipv6=ipv6)
        self.node_access_entry = eks.AccessEntry(
            self,
            "NodeAccessEntry",
            cluster=icluster,
            principal=self.node_role.role_arn,
            # Nodes join through an EC2_LINUX entry; EKS allows access policies only on STANDARD
            # entries: https://docs.aws.amazon.com/eks/latest/userguide/creating-access-entries.html
            access_entry_type=eks.AccessEntryType.EC2_LINUX,
            access_policies=[],
        )

        self.interruption = InterruptionQueue(self, "Interruption", removal_policy=props.removal_policy)
        self.interruption_queue = self.interruption.queue

        self.service_account = eks.ServiceAccount(
            self,
            "ServiceAccount",
            cluster=icluster,
            name=props.service_account_name,
            namespace=props.namespace,
            identity_type=eks.IdentityType.POD_IDENTITY,
        )
        # The service account manifest that CDK writes also carries the IRSA role annotation;
        # when a Pod Identity association exists, EKS's pod identity webhook injects only the
        # container credentials ("container credentials take precedence", aws/amazon-eks-pod-
        # identity-webhook pkg/handler/testdata/containercredentials/rawPodWithRoleArn.pod.yaml).
        self.controller_role = self.service_account.role
        self.controller_policies = controller_policies(
            Construct(self, "ControllerPolicies"),
            cluster_name=self.cluster_name,
            node_role=self.node_role,
            interruption_queue=self.interruption_queue,
        )
        for policy in self.controller_policies.values():
            self.controller_role.add_managed_policy(policy)

        self.cleanup = KarpenterCleanup(
            self,
            "Cleanup",
            cluster_name=self.cluster_name,
            timeout=props.cleanup_timeout,
            log_retention=props.cleanup_log_retention,
            removal_policy=props.removal_policy,
        )
        # Deleted before the node role (its instance profiles must be gone first) and the cluster.
        self.cleanup.resource.node.add_dependency(self.node_role, cluster)

        # Both releases in one namespace at the one `chart_version`, so that they cannot drift apart.
        same_release: dict[str, Any] = {
            "cluster": icluster,
            "version": props.chart_version,
            "namespace": props.namespace,
            "create_namespace": False,
        }

        def release(construct_id: str, chart: str, repository: str, **options: Any) -> eks.HelmChart:
            """The release of `chart`, named after it."""
            return eks.HelmChart(
                self,
                construct_id,
                chart=chart,
                repository=repository,
                release=chart,
                **same_release,
                **options,
            )

        self.crd_chart = release("CrdChart", "karpenter-crd", CRD_CHART_REPOSITORY)
        self.chart = release(
            "Chart",
            "karpenter",
            CHART_REPOSITORY,
            # Declares intent only: aws_eks_v2's Helm handler (2.275) reads SkipCrds but does not
            # pass it to helm. The kubectl layer's Helm is v4, whose install applies a chart's
            # crds/ with server-side apply, updating CRDs that already exist (helm/helm
            # pkg/action/install.go installCRDs, pkg/kube/client.go Create); an upgrade leaves
            # crds/ alone. So this chart's first install re-applies the CRDs that the karpenter-crd
            # release installed: harmless only because both charts take the one `chart_version`.
            skip_crds=True,
            # Wait for the webhook-free controller to become ready, so that the NodePools
            # applied next are reconciled at once and a broken release fails the deployment.
            wait=True,
            timeout=cdk.Duration.minutes(10),
            values=self._chart_values(props),
        )
        for dependency in (
            self.crd_chart,
            self.service_account,
            self.node_access_entry,
            self.cleanup.resource,
            *self.controller_policies.values(),
        ):
            self.chart.node.add_dependency(dependency)
        # Pod Identity credentials come from the agent DaemonSet (the add-on that the service
        # account made sure of); the controller starts after it and is removed before it.
        pod_identity_agent = cluster.eks_pod_identity_agent
        if pod_identity_agent is not None:
            self.chart.node.add_dependency(pod_identity_agent)
        # The controller chart is deleted before the CRDs it serves; the CRDs before the cleanup.
        self.crd_chart.node.add_dependency(self.cleanup.resource)

        node_class = ec2_node_class_manifest(
            props.node_class,
            role_name=self.node_role.role_name,
            cluster_name=self.cluster_name,
            discovery_tag=(DISCOVERY_TAG_KEY, props.discovery_tag_value),
            ipv6=ipv6,
        )
        self.node_class_manifest = eks.KubernetesManifest(
            self, "NodeClass", cluster=icluster, manifest=[node_class], overwrite=True
        )
        self.node_class_manifest.node.add_dependency(self.chart)
        if self.node_cni_policy is not None:
            # Nodes launched from this class run the CNI with the node role: the IPv6 policy must
            # outlive them (deleted after the NodeClass, whose finalizer waits for the nodes).
            self.node_class_manifest.node.add_dependency(self.node_cni_policy)

        pools = [general_node_pool_manifest(props.node_pool, props.node_class)]
        if props.gpu_node_pool.enabled:
            pools.append(gpu_node_pool_manifest(props.gpu_node_pool, props.node_class))
        self.node_pool_manifests: dict[str, eks.KubernetesManifest] = {}
        for pool in pools:
            name = pool["metadata"]["name"]
            manifest = eks.KubernetesManifest(
                self, f"NodePool-{name}", cluster=icluster, manifest=[pool], overwrite=True
            )
            # Deleted before the EC2NodeClass: NodePools go first so their NodeClaims drain,
            # and the EC2NodeClass's finalizer then waits for them to be gone.
            manifest.node.add_dependency(self.node_class_manifest)
            self.node_pool_manifests[name] = manifest

    @property
    def node_class_manifests(self) -> list[eks.KubernetesManifest]:
        return [self.node_class_manifest]

    def add_workload(self, workload: IConstruct) -> None:
        """Make `workload` (a `KubernetesManifest` or `HelmChart`) depend on every NodePool.

        CloudFormation then creates it after the pools and deletes it before them, so its pods
        are gone before Karpenter drains and terminates the nodes they ran on.
        """
        for manifest in self.node_pool_manifests.values():
            workload.node.add_dependency(manifest)

    def _chart_values(self, props: KarpenterProps) -> dict[str, Any]:
        return {
            "replicas": props.replicas,
            "logLevel": props.log_level,
            # Created by CDK with the Pod Identity association; the chart must not make another.
            "serviceAccount": {"create": False, "name": props.service_account_name},
            "settings": {
                "clusterName": self.cluster_name,
                "interruptionQueue": self.interruption_queue.queue_name,
            },
            "controller": {
                # The region from the stack, not from instance metadata: the system nodes allow
                # one IMDS hop, which a pod cannot reach, and Karpenter otherwise asks IMDS for it.
                "env": [{"name": "AWS_REGION", "value": cdk.Stack.of(self).region}],
                "resources": {
                    "requests": {"cpu": props.controller_cpu, "memory": props.controller_memory},
                    "limits": {"memory": props.controller_memory},
                },
            },
            "nodeSelector": {"kubernetes.io/os": "linux", **props.controller_node_selector},
            **(
                {"tolerations": [dict(t) for t in props.controller_tolerations]}
                if props.controller_tolerations
                else {}
            ),
        }


def _literal_cluster_name(cluster: eks.Cluster) -> str:
    """The cluster's name as a plain string when it was given one, else the `Ref` token.

    `cluster.cluster_name` is always a token (a reference to the cluster resource). The name in
    the `AWS::EKS::Cluster` resource is the plain string when the caller named the cluster, and a
    plain name keeps the policies free of `CfnJson` custom resources.
    """
    cfn = cluster.node.default_child
    name = getattr(cfn, "name", None)
    if isinstance(name, str) and name and not cdk.Token.is_unresolved(name):
        return name
    return cluster.cluster_name
