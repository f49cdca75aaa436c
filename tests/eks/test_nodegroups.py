"""Item 2: Bottlerocket managed node groups (Graviton system nodes, optional NVIDIA nodes)."""

from __future__ import annotations

import tomllib
from typing import Any, cast

import pytest
from aws_cdk import aws_eks_v2 as eks
from aws_cdk.assertions import Capture, Match

from constructs_lib.eks import BottlerocketNodegroup, BottlerocketNodegroupProps
from constructs_lib.eks.karpenter.node_role import ipv6_cni_statements
from tests.eks.conftest import EksSynth
from tests.helpers import IPV6_CNI_STATEMENTS, has_role_policy, logical_id

NODEGROUP = "AWS::EKS::Nodegroup"


def _user_data_toml(synth: EksSynth, nodegroup: BottlerocketNodegroup) -> dict[str, Any]:
    data = synth.json["Resources"][logical_id(nodegroup.launch_template)]["Properties"]
    user_data = data["LaunchTemplateData"]["UserData"]["Fn::Base64"]
    assert isinstance(user_data, str), "Bottlerocket user data must be plain TOML, no tokens"
    return tomllib.loads(user_data)


def test_system_nodes_are_graviton_bottlerocket_on_demand_labelled_and_tainted(eks_sandbox: EksSynth) -> None:
    eks_sandbox.template.has_resource_properties(
        NODEGROUP,
        {
            "AmiType": "BOTTLEROCKET_ARM_64",
            "CapacityType": "ON_DEMAND",
            "InstanceTypes": ["t4g.medium"],
            "ScalingConfig": {"MinSize": 2, "DesiredSize": 2, "MaxSize": 3},
            "Labels": {"role": "system"},
            "Taints": [{"Key": "CriticalAddonsOnly", "Value": "true", "Effect": "NO_SCHEDULE"}],
            # Disk size lives in the launch template; EKS rejects it in both places.
            "DiskSize": Match.absent(),
        },
    )


def test_system_nodes_launch_from_our_template_with_imdsv2_and_encrypted_gp3(eks_sandbox: EksSynth) -> None:
    nodes = eks_sandbox.stack.cluster.system_nodes
    lt_id = logical_id(nodes.launch_template)
    eks_sandbox.template.has_resource_properties(
        NODEGROUP,
        {
            "LaunchTemplate": {
                "Id": {"Ref": lt_id},
                "Version": {"Fn::GetAtt": [lt_id, "LatestVersionNumber"]},
            }
        },
    )
    eks_sandbox.template.has_resource_properties(
        "AWS::EC2::LaunchTemplate",
        {
            "LaunchTemplateData": Match.object_like(
                {
                    "MetadataOptions": {
                        "HttpEndpoint": "enabled",
                        "HttpTokens": "required",
                        "HttpPutResponseHopLimit": 1,
                    },
                    "BlockDeviceMappings": [
                        {
                            "DeviceName": "/dev/xvdb",
                            "Ebs": {
                                "VolumeSize": 20,
                                "VolumeType": "gp3",
                                "Encrypted": True,
                                "DeleteOnTermination": True,
                            },
                        }
                    ],
                    # EKS forbids these in a managed node group's template; the node group sets them.
                    "IamInstanceProfile": Match.absent(),
                    "NetworkInterfaces": Match.absent(),
                    "ImageId": Match.absent(),
                }
            )
        },
    )


def test_system_nodes_bottlerocket_settings_are_the_chosen_toml(eks_sandbox: EksSynth) -> None:
    settings = _user_data_toml(eks_sandbox, eks_sandbox.stack.cluster.system_nodes)["settings"]
    assert settings == {
        "kernel": {
            "lockdown": "integrity",
            "modules": {"sctp": {"allowed": False}, "udf": {"allowed": False}},
        },
        "host-containers": {"admin": {"enabled": False}, "control": {"enabled": True}},
    }
    # EKS fills in the cluster's own settings; ours must not pin them to something stale.
    assert "kubernetes" not in settings


def test_node_role_carries_the_documented_ipv6_cni_policy_and_no_ipv4_cni_policy(
    eks_sandbox: EksSynth,
) -> None:
    nodes = eks_sandbox.stack.cluster.system_nodes
    role_id = logical_id(nodes.node_role)
    eks_sandbox.template.has_resource_properties(
        NODEGROUP, {"NodeRole": {"Fn::GetAtt": [role_id, "Arn"]}, "AmiType": "BOTTLEROCKET_ARM_64"}
    )
    managed = Capture()
    eks_sandbox.template.has_resource_properties(
        "AWS::IAM::Role",
        {"Description": Match.string_like_regexp("^Bottlerocket EKS nodes"), "ManagedPolicyArns": managed},
    )
    names = sorted(str(arn["Fn::Join"][1][-1]).rsplit("/", 1)[-1] for arn in managed.as_array())
    assert names == [
        "AmazonEC2ContainerRegistryPullOnly",
        "AmazonEKSWorkerNodePolicy",
        "AmazonSSMManagedInstanceCore",
    ]
    # The policy document, reviewed like a diff: exactly the EKS user guide's IPv6 CNI policy.
    has_role_policy(eks_sandbox.template, role_id, IPV6_CNI_STATEMENTS, Version="2012-10-17")
    assert len(ipv6_cni_statements()) == 2


def test_gpu_node_group_is_off_by_default(eks_sandbox: EksSynth) -> None:
    eks_sandbox.template.resource_properties_count_is(
        NODEGROUP, {"AmiType": Match.string_like_regexp("NVIDIA")}, 0
    )


def test_gpu_node_group_is_nvidia_bottlerocket_tainted_for_gpu_pods(eks_variant: EksSynth) -> None:
    eks_variant.template.has_resource_properties(
        NODEGROUP,
        {
            # g5g is Graviton with NVIDIA T4G GPUs.
            "AmiType": "BOTTLEROCKET_ARM_64_NVIDIA",
            "InstanceTypes": ["g5g.xlarge"],
            "ScalingConfig": {"MinSize": 0, "DesiredSize": 1, "MaxSize": 2},
            "Labels": {"role": "gpu"},
            "Taints": [{"Key": "nvidia.com/gpu", "Value": "true", "Effect": "NO_SCHEDULE"}],
        },
    )
    gpu_nodes = eks_variant.stack.gpu_nodes
    assert gpu_nodes is not None
    settings = _user_data_toml(eks_variant, gpu_nodes)["settings"]
    assert settings == {"host-containers": {"admin": {"enabled": False}, "control": {"enabled": True}}}
    deps = eks_variant.depends_on(gpu_nodes.nodegroup)
    assert logical_id(eks_variant.stack.cluster.addons["vpc-cni"]) in deps


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"ami_type": eks.NodegroupAmiType.AL2023_ARM_64_STANDARD},
            "ami_type must be a Bottlerocket AMI type",
        ),
        ({"instance_types": ()}, "instance_types must list at least one instance type"),
        (
            {"min_size": 3, "desired_size": 2},
            "desired_size must lie between min_size (3) and max_size (3), got 2",
        ),
        ({"data_volume_gib": 8}, "data_volume_gib must be at least 20, got 8"),
    ],
)
def test_fails_when_nodegroup_props_are_invalid(changes: dict[str, Any], message: str) -> None:
    import aws_cdk as cdk

    stack = cdk.Stack(cdk.App(), "Props")
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        BottlerocketNodegroup(
            stack, "Nodes", cluster=cast(eks.ICluster, None), props=BottlerocketNodegroupProps(**changes)
        )
