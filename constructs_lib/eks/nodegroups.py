"""Bottlerocket managed node groups for the IPv6 EKS cluster: Graviton system nodes, optional NVIDIA.

Bottlerocket in a managed node group takes its settings as TOML user data in a launch template;
EKS merges that TOML with the settings it generates to join the node to the cluster (API server,
CA, cluster DNS IP, max pods), and ours win where both set a key. No MIME multipart and no
shell script: Bottlerocket has no shell to run one.
https://docs.aws.amazon.com/eks/latest/userguide/launch-templates.html (section "Amazon EC2 user
data", Bottlerocket) and https://bottlerocket.dev/en/os/1.53.x/api/settings/ for the keys.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_eks_v2 as eks
from aws_cdk import aws_iam as iam
from constructs import Construct

from .._shared.nag import acknowledge, wildcard
from .._shared.resources import service_role
from .karpenter.node_role import ipv6_cni_statements

# The system node group's label and taint. Only pods that tolerate `CriticalAddonsOnly` (CoreDNS,
# the Karpenter controller and the AWS Load Balancer Controller, configured so) run there; every
# other pod stays pending until Karpenter launches a node for it. DaemonSets (aws-node, kube-proxy,
# the Pod Identity agent) tolerate every taint and run on every node.
SYSTEM_NODE_LABELS: Mapping[str, str] = {"role": "system"}
SYSTEM_NODE_TAINT = eks.TaintSpec(effect=eks.TaintEffect.NO_SCHEDULE, key="CriticalAddonsOnly", value="true")
# The same taint as Kubernetes pod tolerations (for Helm values and manifests).
SYSTEM_POD_TOLERATIONS: Sequence[Mapping[str, str]] = (
    {"key": "CriticalAddonsOnly", "operator": "Exists", "effect": "NoSchedule"},
)
# GPU nodes carry the taint that Bottlerocket's NVIDIA device plugin resources are requested with,
# so only pods that ask for a GPU (and tolerate it) land on these expensive instances.
GPU_NODE_TAINT = eks.TaintSpec(effect=eks.TaintEffect.NO_SCHEDULE, key="nvidia.com/gpu", value="true")

# Bottlerocket settings for the system nodes. Every key is in the settings reference above.
# - Kernel lockdown `integrity` (no unsigned modules, no writes to kernel memory). It is already
#   the default of the standard variants; pinning it makes a later change a reviewed diff.
# - SCTP and UDF kernel modules may not load: nothing on these nodes needs them, and the CIS
#   Bottlerocket benchmark asks for both to be off.
# - No admin container (it would allow SSH-like root access); the control container stays on
#   so an operator can still reach a node through SSM Session Manager if one misbehaves.
SYSTEM_SETTINGS_TOML = """\
[settings.kernel]
lockdown = "integrity"

[settings.kernel.modules.sctp]
allowed = false

[settings.kernel.modules.udf]
allowed = false

[settings.host-containers.admin]
enabled = false

[settings.host-containers.control]
enabled = true
"""

# NVIDIA variants default to lockdown `none` (the driver's kernel modules) and ship the NVIDIA
# device plugin, so their TOML only turns the admin container off and keeps SSM access.
GPU_SETTINGS_TOML = """\
[settings.host-containers.admin]
enabled = false

[settings.host-containers.control]
enabled = true
"""


@dataclass(frozen=True)
class BottlerocketNodegroupProps:
    """Settings of a `BottlerocketNodegroup`.

    The defaults are the system node group: two Graviton t4g.medium on-demand nodes (Karpenter's
    controller runs two replicas that must not share a node), labelled and tainted for system
    pods. On-demand, not spot: losing both controller replicas to one spot reclaim would stop
    every scale-out of the cluster.
    """

    instance_types: Sequence[str] = ("t4g.medium",)
    ami_type: eks.NodegroupAmiType = eks.NodegroupAmiType.BOTTLEROCKET_ARM_64
    capacity_type: eks.CapacityType = eks.CapacityType.ON_DEMAND
    min_size: int = 2
    desired_size: int = 2
    max_size: int = 3
    # Bottlerocket keeps the OS on /dev/xvda and images and container storage on /dev/xvdb.
    data_volume_gib: int = 20
    labels: Mapping[str, str] = field(default_factory=lambda: dict(SYSTEM_NODE_LABELS))
    taints: Sequence[eks.TaintSpec] = (SYSTEM_NODE_TAINT,)
    settings_toml: str = SYSTEM_SETTINGS_TOML


class BottlerocketNodegroup(Construct):
    """A managed node group of Bottlerocket nodes launched from our own launch template.

    The launch template requires IMDSv2 with a hop limit of 1, so containers that are not on the
    host network cannot reach the node role's credentials; the data volume (/dev/xvdb, images and
    containers) is gp3 and encrypted, the small OS volume keeps the AMI's own settings.
    The node role is the worker minimum plus the VPC CNI's IPv6 permissions (see `node_role`).

    Attributes: `nodegroup` (`eks.Nodegroup`), `node_role`, `launch_template`.
    """

    def __init__(
        self, scope: Construct, construct_id: str, *, cluster: eks.ICluster, props: BottlerocketNodegroupProps
    ) -> None:
        super().__init__(scope, construct_id)
        if not props.ami_type.value.startswith("BOTTLEROCKET_"):
            raise ValueError(f"ami_type must be a Bottlerocket AMI type, got {props.ami_type.value}")
        if not props.instance_types:
            raise ValueError(
                f"instance_types must list at least one instance type, got {list(props.instance_types)}"
            )
        if not props.min_size <= props.desired_size <= props.max_size:
            raise ValueError(
                f"desired_size must lie between min_size ({props.min_size}) and max_size ({props.max_size}), "
                f"got {props.desired_size}"
            )
        if props.data_volume_gib < 20:
            raise ValueError(f"data_volume_gib must be at least 20, got {props.data_volume_gib}")

        self.node_role = node_role(self, "NodeRole")
        # Shaped like DualStackVpc's ec2.Vpc call, nothing shared: each L2 takes its own settings.
        self.launch_template = ec2.LaunchTemplate(
            self,
            "LaunchTemplate",
            user_data=ec2.UserData.custom(props.settings_toml),
            http_tokens=ec2.LaunchTemplateHttpTokens.REQUIRED,
            http_endpoint=True,
            http_put_response_hop_limit=1,
            block_devices=[
                ec2.BlockDevice(
                    device_name="/dev/xvdb",
                    volume=ec2.BlockDeviceVolume.ebs(
                        props.data_volume_gib,
                        volume_type=ec2.EbsDeviceVolumeType.GP3,
                        encrypted=True,
                        delete_on_termination=True,
                    ),
                )
            ],
        )
        # Arguments by name, shaped like other L2 calls (the Karpenter service account, the Graviton
        # load balancer): each is its own resource.
        self.nodegroup = eks.Nodegroup(
            self,
            "Resource",
            cluster=cluster,
            ami_type=props.ami_type,
            capacity_type=props.capacity_type,
            instance_types=[ec2.InstanceType(t) for t in props.instance_types],
            min_size=props.min_size,
            desired_size=props.desired_size,
            max_size=props.max_size,
            labels=dict(props.labels),
            taints=list(props.taints),
            node_role=self.node_role,
            launch_template_spec=eks.LaunchTemplateSpec(
                id=self.launch_template.launch_template_id or "",
                version=self.launch_template.latest_version_number,
            ),
        )
        # The CNI on these nodes needs the IPv6 policy from its first minute to its last: the nodes
        # join after it exists and are gone before it is removed.
        self.nodegroup.node.add_dependency(self.node.find_child("NodeRoleIpv6Cni"))


def node_role(scope: Construct, construct_id: str) -> iam.Role:
    """The IAM role of Bottlerocket nodes in an IPv6 cluster.

    - `AmazonEKSWorkerNodePolicy` and `AmazonEC2ContainerRegistryPullOnly`: join the cluster and
      pull images (pull only, where CDK's default role grants the wider ECR read-only policy).
    - `AmazonSSMManagedInstanceCore`: Bottlerocket's control container registers with SSM.
    - The VPC CNI's IPv6 policy, on the node role rather than a Pod Identity role for `aws-node`:
      the CNI must assign addresses before the node is Ready, while the Pod Identity agent that
      would serve its credentials is itself a pod on that node, a start-up race that leaves new
      nodes NotReady (terraform-aws-modules/terraform-aws-eks#3260, aws/amazon-vpc-cni-k8s#3840).
      The IMDS hop limit of 1 keeps these credentials from ordinary pods.
    """
    role = service_role(
        scope,
        construct_id,
        "ec2.amazonaws.com",
        description="Bottlerocket EKS nodes: join the cluster, pull images, IPv6 VPC CNI, SSM",
        managed_policies={
            "AmazonEKSWorkerNodePolicy": "The AWS managed worker node policy is what EKS documents for "
            "every node role; AWS keeps it in step with EKS.",
            "AmazonEC2ContainerRegistryPullOnly": "The AWS managed pull-only ECR policy is the narrowest "
            "AWS grant that lets nodes pull any image the cluster runs.",
            "AmazonSSMManagedInstanceCore": "Bottlerocket's control container needs the SSM core policy so "
            "operators can reach nodes through Session Manager instead of SSH.",
        },
    )
    ipv6_cni = iam.Policy(scope, f"{construct_id}Ipv6Cni", statements=ipv6_cni_statements())
    role.attach_inline_policy(ipv6_cni)
    acknowledge(
        ipv6_cni,
        {
            wildcard("*"): "The EKS user guide's IPv6 CNI policy grants AssignIpv6Addresses and EC2 "
            "Describe calls on all resources; Describe calls support no resource-level scoping.",
            wildcard("arn:<AWS::Partition>:ec2:*:*:network-interface/*"): "The CNI tags the network "
            "interfaces it manages on any node; their ids are unknown until the node launches.",
        },
    )
    return role
