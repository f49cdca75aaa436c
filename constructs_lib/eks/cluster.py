"""The IPv6 EKS cluster of the talk: `aws_eks_v2`, access entries, KMS secrets, logs and add-ons.

What `Ipv6Cluster` decides on top of `aws_eks_v2.Cluster`:
- IPv6 IP family: pods and services get IPv6 addresses only, pods from the VPC's IPv6 CIDR
  through the VPC CNI (https://docs.aws.amazon.com/eks/latest/userguide/cni-ipv6.html). The VPC
  must already be dual-stack, with IPv6 routes and `AssignIpv6AddressOnCreation` on node subnets.
- Self-managed compute: `default_capacity_type=NODEGROUP` with zero default nodes, because the
  module otherwise turns on EKS Auto Mode, which would run its own Karpenter beside ours.
- Access entries only (the module's authentication mode is `API`), and no admin for the cluster
  creator (see `bootstrap_cluster_creator_admin_permissions` below).
- Managed add-ons installed by us rather than EKS's unmanaged bootstrap copies, so that their
  versions and configuration live in the template and are deleted with it.
- The AWS Load Balancer Controller through the module's `alb_controller` option, with a teardown
  backstop (`LoadBalancerControllerCleanup`) that deletes what the controller left on stack delete.
- The control-plane log group made by the stack before the cluster; in a stack deleted with it
  (DESTROY), a small custom resource (`runtime/control_plane_logs.py`) keeps EKS from leaving a
  re-created group behind that would block the next deploy (`ControlPlaneLogsGuard`, `control_plane_logs.py`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import cast

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_eks_v2 as eks
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from .._shared.resources import log_group, rotating_key
from ._nag import acknowledge_cdk_internals
from .control_plane_logs import ControlPlaneLogsGuard
from .load_balancer_cleanup import LoadBalancerControllerCleanup
from .nodegroups import (
    SYSTEM_POD_TOLERATIONS,
    BottlerocketNodegroup,
    BottlerocketNodegroupProps,
)

DEFAULT_CONTROL_PLANE_LOGS = (
    eks.ClusterLoggingTypes.API,
    eks.ClusterLoggingTypes.AUDIT,
    eks.ClusterLoggingTypes.AUTHENTICATOR,
)
ADDONS = ("vpc-cni", "kube-proxy", "coredns", "eks-pod-identity-agent")


def control_plane_log_group_name(cluster_name: str) -> str:
    """The group EKS writes control-plane logs to (a name EKS fixes)."""
    return f"/aws/eks/{cluster_name}/cluster"


@dataclass(frozen=True)
class Ipv6ClusterProps:
    """Settings of an `Ipv6Cluster`.

    `kubectl_layer` must match `version` (for example `KubectlV36Layer` for 1.35 or 1.36): the
    kubectl provider applies Helm charts and manifests with it.
    """

    cluster_name: str
    version: eks.KubernetesVersion
    kubectl_layer: lambda_.ILayerVersion
    # The IAM role or user ARN given cluster admin. None: a `AdminRole` that any principal of this
    # account allowed to call sts:AssumeRole on it may assume (attribute `admin_role`).
    admin_principal_arn: str | None = None
    # CIDR blocks allowed to reach the public endpoint; an empty list makes the endpoint private
    # only, and then kubectl must run inside the VPC (CDK's kubectl provider always does).
    public_access_cidrs: Sequence[str] = ("0.0.0.0/0",)
    control_plane_logs: Sequence[eks.ClusterLoggingTypes] = DEFAULT_CONTROL_PLANE_LOGS
    log_retention: logs.RetentionDays = logs.RetentionDays.ONE_WEEK
    # Encrypts the control-plane log group (it holds the audit log). Its policy must admit
    # CloudWatch Logs for `/aws/eks/<cluster_name>/cluster` (`LogEncryptionKey` does). None:
    # CloudWatch Logs' own encryption.
    log_encryption_key: kms.IKey | None = None
    # For the secrets key and the control-plane log group; the cluster is always deleted with
    # the stack. A sandbox leaves nothing behind (DESTROY also adds the control-plane log guard);
    # production passes RETAIN (the control-plane group then becomes RetainExceptOnCreate).
    removal_policy: cdk.RemovalPolicy = cdk.RemovalPolicy.DESTROY
    # Add-on versions by name (`vpc-cni`, `kube-proxy`, `coredns`, `eks-pod-identity-agent`).
    # Unlisted add-ons get the default version EKS picks for the cluster's Kubernetes version when
    # the add-on is created (the version EKS validated for it). Pin them in production: an
    # unpinned add-on is not upgraded by a later Kubernetes upgrade of the cluster.
    addon_versions: Mapping[str, str] = field(default_factory=dict)
    system_nodes: BottlerocketNodegroupProps = field(default_factory=BottlerocketNodegroupProps)
    # The AWS Load Balancer Controller's version; None leaves the controller out.
    alb_controller_version: eks.AlbControllerVersion | None = eks.AlbControllerVersion.V3_2_2
    # Tags on the cluster resource itself.
    tags: Mapping[str, str] = field(default_factory=dict)


class Ipv6Cluster(Construct):
    """An IPv6 EKS cluster with Bottlerocket system nodes, ready for Karpenter and dual-stack ingress.

    Attributes: `cluster`, `cluster_name` (the literal name), `secrets_key`, `log_group`,
    `control_plane_logs_guard` (None unless the removal policy is DESTROY), `admin_role` (None when
    an existing principal was given), `admin_access`, `addons` (by name), `system_nodes`,
    `alb_controller`, `load_balancer_cleanup` (None without the controller).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        vpc: ec2.IVpc,
        props: Ipv6ClusterProps,
    ) -> None:
        super().__init__(scope, construct_id)
        unknown = sorted(set(props.addon_versions) - set(ADDONS))
        if unknown:
            raise ValueError(f"addon_versions may name only {', '.join(ADDONS)}, got {unknown}")
        missing_logs = [t.value for t in DEFAULT_CONTROL_PLANE_LOGS if t not in props.control_plane_logs]
        if missing_logs:
            raise ValueError(
                f"control_plane_logs must include api, audit and authenticator, missing {missing_logs}"
            )
        if not props.system_nodes.labels:
            raise ValueError(
                "system_nodes.labels must not be empty (CoreDNS and the controllers select the system "
                f"nodes by them), got {dict(props.system_nodes.labels)}"
            )
        self.cluster_name = props.cluster_name

        self.secrets_key = rotating_key(
            self,
            "SecretsKey",
            description=f"Envelope encryption of Kubernetes secrets in EKS cluster {props.cluster_name}",
            removal_policy=props.removal_policy,
        )
        # EKS writes control-plane logs to this fixed group name and would create it with no
        # retention, outside the stack (left behind on delete). Creating it first gives it a
        # retention and a removal policy, and the cluster depends on it. A retained group is
        # retained except on create (RetainExceptOnCreate): a first deploy that rolls back deletes
        # it, instead of leaving a name that makes the retry fail with "already exists".
        self.log_group = log_group(
            self,
            "ControlPlaneLogs",
            name=control_plane_log_group_name(props.cluster_name),
            retention=props.log_retention,
            # The group references the key: CloudFormation creates the key first and deletes it last.
            encryption_key=props.log_encryption_key,
            removal_policy=props.removal_policy,
        )
        self.control_plane_logs_guard: ControlPlaneLogsGuard | None = None
        if props.removal_policy == cdk.RemovalPolicy.DESTROY:
            # Retained groups (production) get no guard: their logs are meant to outlive the stack.
            self.control_plane_logs_guard = ControlPlaneLogsGuard(
                self,
                "ControlPlaneLogsGuard",
                cluster_name=props.cluster_name,
                log_retention=props.log_retention,
                removal_policy=props.removal_policy,
            )
            # Deleted after the control-plane group, which depends on it.
            self.log_group.node.add_dependency(self.control_plane_logs_guard.resource)

        endpoint_access = (
            eks.EndpointAccess.PUBLIC_AND_PRIVATE.only_from(*props.public_access_cidrs)
            if props.public_access_cidrs
            else eks.EndpointAccess.PRIVATE
        )
        alb_controller = (
            eks.AlbControllerOptions(
                version=props.alb_controller_version,
                # The chart's own default image (eks-charts `aws-load-balancer-controller/values.yaml`),
                # the same in every region; CDK's default is a us-west-2 ECR repository.
                repository="public.ecr.aws/eks/aws-load-balancer-controller",
                additional_helm_chart_values={
                    # On the system nodes: the controller must outlive the Karpenter nodes and the
                    # Ingress on delete, so that it is still there to delete the ALB.
                    "nodeSelector": dict(props.system_nodes.labels),
                    "tolerations": [dict(t) for t in SYSTEM_POD_TOLERATIONS],
                    # Its Service mutating webhook (failurePolicy Fail) intercepts every Service
                    # create in the cluster; while the controller starts, that fails other charts'
                    # installs (Karpenter's). It only turns type-LoadBalancer Services into NLBs by
                    # default, which nothing here needs.
                    "enableServiceMutatorWebhook": False,
                },
            )
            if props.alb_controller_version is not None
            else None
        )
        self.cluster = eks.Cluster(
            self,
            "Resource",
            cluster_name=props.cluster_name,
            version=props.version,
            vpc=vpc,
            # Control-plane network interfaces in the private subnets only.
            vpc_subnets=[ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS)],
            ip_family=eks.IpFamily.IP_V6,
            default_capacity_type=eks.DefaultCapacityType.NODEGROUP,
            default_capacity=0,
            # The creator is CloudFormation's execution role from `cdk bootstrap`, which no person
            # uses; an admin entry for it would be invisible in the template. Admin access goes to
            # the configured principal below, and the kubectl provider gets its own entry from CDK.
            # Changing this later replaces the cluster.
            bootstrap_cluster_creator_admin_permissions=False,
            # No unmanaged vpc-cni, kube-proxy and CoreDNS from EKS: we install them as managed
            # add-ons below, in the order the nodes need them.
            bootstrap_self_managed_addons=False,
            secrets_encryption_key=self.secrets_key,
            cluster_logging=list(props.control_plane_logs),
            endpoint_access=endpoint_access,
            kubectl_provider_options=eks.KubectlProviderOptions(kubectl_layer=props.kubectl_layer),
            alb_controller=alb_controller,
            tags=dict(props.tags),
        )
        # The same cluster typed as the interface that add-ons and node groups take (jsii's Python
        # stubs leave `kubectl_provider_options` off `Cluster`, so mypy would not see the match).
        self._icluster = cast(eks.ICluster, self.cluster)
        cfn_cluster = self.cluster.node.default_child
        assert isinstance(cfn_cluster, cdk.CfnResource)
        cfn_cluster.node.add_dependency(self.log_group)

        self.admin_role: iam.Role | None = None
        admin_principal = props.admin_principal_arn
        if admin_principal is None:
            self.admin_role = iam.Role(
                self,
                "AdminRole",
                assumed_by=iam.AccountRootPrincipal(),
                description=f"Cluster admin of EKS cluster {props.cluster_name} (kubectl via access entry)",
            )
            admin_principal = self.admin_role.role_arn
        self.admin_access = self.cluster.grant_cluster_admin("AdminAccess", admin_principal)

        # Add-ons. The DaemonSets (CNI, kube-proxy, Pod Identity agent) go first: with zero
        # nodes they are healthy at once, and a node becomes Ready only once the CNI runs on it.
        # CoreDNS is a Deployment and becomes healthy only when nodes exist, so it waits for the
        # system nodes. On delete the order reverses: CoreDNS, nodes, then the DaemonSets.
        self.addons: dict[str, eks.IAddon] = {}
        for name, construct_name in (("vpc-cni", "VpcCni"), ("kube-proxy", "KubeProxy")):
            self.addons[name] = eks.Addon(
                self,
                construct_name,
                cluster=self._icluster,
                addon_name=name,
                addon_version=props.addon_versions.get(name),
            )
        # Created through the cluster's own accessor so that service accounts with Pod Identity
        # (the Karpenter controller's) reuse this add-on instead of adding a second one.
        pod_identity_agent = self.cluster.eks_pod_identity_agent
        assert isinstance(pod_identity_agent, eks.Addon)
        if "eks-pod-identity-agent" in props.addon_versions:
            cfn_addon = pod_identity_agent.node.default_child
            assert isinstance(cfn_addon, eks.CfnAddon)
            cfn_addon.addon_version = props.addon_versions["eks-pod-identity-agent"]
        self.addons["eks-pod-identity-agent"] = pod_identity_agent

        self.system_nodes = self.add_bottlerocket_nodegroup("SystemNodes", props.system_nodes)
        self.addons["coredns"] = eks.Addon(
            self,
            "CoreDns",
            cluster=self._icluster,
            addon_name="coredns",
            addon_version=props.addon_versions.get("coredns"),
            # DNS stays on the system nodes, out of the way of Karpenter's consolidation.
            configuration_values={
                "nodeSelector": dict(props.system_nodes.labels),
                "tolerations": [dict(t) for t in SYSTEM_POD_TOLERATIONS],
            },
        )
        self.addons["coredns"].node.add_dependency(self.system_nodes.nodegroup)
        self.alb_controller: eks.AlbController | None = self.cluster.alb_controller
        acknowledge_cdk_internals(self.cluster)
        self._manage_kubectl_provider_logs(props.removal_policy)
        self.load_balancer_cleanup: LoadBalancerControllerCleanup | None = None
        if self.alb_controller is not None:
            # The controller calls AWS APIs by name, so it needs cluster DNS (CDK already makes it
            # wait for the node groups).
            self.alb_controller.node.add_dependency(self.addons["coredns"])
            # Teardown backstop: deleted after the controller's chart (which depends on it) and
            # before the cluster (which it depends on), it removes load balancers, target groups
            # and security groups that the controller failed to delete with their Ingress.
            self.load_balancer_cleanup = LoadBalancerControllerCleanup(
                self,
                "LoadBalancerCleanup",
                cluster_name=props.cluster_name,
                vpc=vpc,
                log_retention=props.log_retention,
                removal_policy=props.removal_policy,
            )
            self.load_balancer_cleanup.resource.node.add_dependency(self.cluster)
            self.alb_controller.node.find_child("Resource").node.add_dependency(self.load_balancer_cleanup)

    def _manage_kubectl_provider_logs(self, removal_policy: cdk.RemovalPolicy) -> None:
        """Give the kubectl provider's log groups our retention and removal policy.

        CDK makes them (flag `@aws-cdk/aws-lambda:useCdkManagedLogGroup`) with two years of
        retention and RETAIN, which would leave them behind after every sandbox `cdk destroy`.
        They must also be deleted after the last kubectl call: a function that logs after its
        group is gone makes Lambda create a new group, outside the stack. Every Kubernetes
        resource depends on the cluster's kubectl barrier, so the barrier depends on the groups.
        """
        barrier = self.cluster.node.find_child("KubectlReadyBarrier")
        control_plane = self.log_group.node.default_child
        assert isinstance(control_plane, logs.CfnLogGroup)
        provider = self.cluster.node.find_child("KubectlProvider")
        for function in (
            provider.node.find_child("Handler"),
            provider.node.find_child("Provider").node.find_child("framework-onEvent"),
        ):
            log_group = function.node.try_find_child("LogGroup")
            if isinstance(log_group, logs.LogGroup):
                log_group.apply_removal_policy(removal_policy)
                cfn_log_group = log_group.node.default_child
                assert isinstance(cfn_log_group, logs.CfnLogGroup)
                cfn_log_group.retention_in_days = control_plane.retention_in_days
                barrier.node.add_dependency(log_group)

    def add_bottlerocket_nodegroup(
        self, construct_id: str, props: BottlerocketNodegroupProps
    ) -> BottlerocketNodegroup:
        """Add a Bottlerocket node group that joins only once the network add-ons exist."""
        nodegroup = BottlerocketNodegroup(self, construct_id, cluster=self._icluster, props=props)
        for name in ("vpc-cni", "kube-proxy", "eks-pod-identity-agent"):
            nodegroup.nodegroup.node.add_dependency(self.addons[name])
        return nodegroup

    def update_kubeconfig_command(self) -> str:
        """`aws eks update-kubeconfig ...` for the admin principal (a token when the name is)."""
        region = cdk.Stack.of(self).region
        command = f"aws eks update-kubeconfig --name {self.cluster_name} --region {region}"
        if self.admin_role is not None:
            command += f" --role-arn {self.admin_role.role_arn}"
        return command
