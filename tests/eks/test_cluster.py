"""Item 1: the IPv6 cluster, its access entries, encryption, logs, endpoint and add-ons."""

from __future__ import annotations

from typing import cast

from aws_cdk import aws_ec2 as ec2
from aws_cdk.assertions import Capture, Match

from tests.eks.conftest import ADMIN_ARN, EksSynth
from tests.helpers import logical_id

CLUSTER = "AWS::EKS::Cluster"
CLUSTER_ADMIN_POLICY = {
    "Fn::Join": [
        "",
        ["arn:", {"Ref": "AWS::Partition"}, ":eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"],
    ]
}


def test_cluster_is_ipv6_on_self_managed_compute_without_auto_mode(eks_sandbox: EksSynth) -> None:
    eks_sandbox.template.has_resource_properties(
        CLUSTER,
        {
            "Name": "containers-update-sandbox",
            "Version": "1.36",
            "KubernetesNetworkConfig": {"IpFamily": "ipv6", "ElasticLoadBalancing": {"Enabled": False}},
            "ComputeConfig": {"Enabled": False},
            "StorageConfig": {"BlockStorage": {"Enabled": False}},
            "BootstrapSelfManagedAddons": False,
        },
    )
    # NODEGROUP with zero default capacity: the only node group is the system one.
    eks_sandbox.template.resource_count_is("AWS::EKS::Nodegroup", 1)


def test_cluster_version_follows_configuration(eks_variant: EksSynth) -> None:
    eks_variant.template.has_resource_properties(CLUSTER, {"Name": "ml-experiments", "Version": "1.35"})


def test_access_is_by_access_entries_with_no_creator_admin(eks_sandbox: EksSynth) -> None:
    eks_sandbox.template.has_resource_properties(
        CLUSTER,
        {"AccessConfig": {"AuthenticationMode": "API", "BootstrapClusterCreatorAdminPermissions": False}},
    )


def test_admin_role_gets_cluster_admin_through_an_access_entry(eks_sandbox: EksSynth) -> None:
    admin_role = eks_sandbox.stack.cluster.admin_role
    assert admin_role is not None
    eks_sandbox.template.has_resource_properties(
        "AWS::EKS::AccessEntry",
        {
            "PrincipalArn": {"Fn::GetAtt": [logical_id(admin_role), "Arn"]},
            "AccessPolicies": [{"PolicyArn": CLUSTER_ADMIN_POLICY, "AccessScope": {"Type": "cluster"}}],
        },
    )
    # Assumable by principals of this account only (those with sts:AssumeRole on it).
    eks_sandbox.template.has_resource_properties(
        "AWS::IAM::Role",
        {
            "AssumeRolePolicyDocument": {
                "Statement": [
                    {
                        "Action": "sts:AssumeRole",
                        "Effect": "Allow",
                        "Principal": {"AWS": {"Fn::Join": ["", Match.array_with([":root"])]}},
                    }
                ]
            },
            "Description": Match.string_like_regexp("Cluster admin"),
        },
    )


def test_configured_principal_gets_cluster_admin_and_no_admin_role_is_made(eks_variant: EksSynth) -> None:
    assert eks_variant.stack.cluster.admin_role is None
    eks_variant.template.has_resource_properties(
        "AWS::EKS::AccessEntry",
        {
            "PrincipalArn": ADMIN_ARN,
            "AccessPolicies": [{"PolicyArn": CLUSTER_ADMIN_POLICY, "AccessScope": {"Type": "cluster"}}],
        },
    )
    eks_variant.template.resource_properties_count_is(
        "AWS::IAM::Role", {"Description": Match.string_like_regexp("Cluster admin")}, 0
    )


def test_secrets_are_enveloped_with_a_rotating_kms_key(eks_sandbox: EksSynth) -> None:
    key = Capture()
    eks_sandbox.template.has_resource_properties(
        CLUSTER,
        {
            "EncryptionConfig": [
                {"Provider": {"KeyArn": {"Fn::GetAtt": [key, "Arn"]}}, "Resources": ["secrets"]}
            ]
        },
    )
    assert key.as_string() == logical_id(eks_sandbox.stack.cluster.secrets_key)
    eks_sandbox.template.has_resource(
        "AWS::KMS::Key", {"Properties": {"EnableKeyRotation": True}, "DeletionPolicy": "Delete"}
    )


def test_control_plane_logs_go_to_a_group_made_first_with_retention(eks_sandbox: EksSynth) -> None:
    eks_sandbox.template.has_resource_properties(
        CLUSTER,
        {
            "Logging": {
                "ClusterLogging": {
                    "EnabledTypes": [{"Type": "api"}, {"Type": "audit"}, {"Type": "authenticator"}]
                }
            }
        },
    )
    log_group = eks_sandbox.stack.cluster.log_group
    eks_sandbox.template.has_resource(
        "AWS::Logs::LogGroup",
        {
            "Properties": {
                "LogGroupName": "/aws/eks/containers-update-sandbox/cluster",
                "RetentionInDays": 7,
            },
            "DeletionPolicy": "Delete",
        },
    )
    assert logical_id(log_group) in eks_sandbox.depends_on(eks_sandbox.stack.cluster.cluster)


def test_sandbox_endpoint_is_public_from_the_allow_list_and_private(eks_sandbox: EksSynth) -> None:
    eks_sandbox.template.has_resource_properties(
        CLUSTER,
        {
            "ResourcesVpcConfig": Match.object_like(
                {
                    "EndpointPublicAccess": True,
                    "EndpointPrivateAccess": True,
                    "PublicAccessCidrs": ["0.0.0.0/0"],
                }
            )
        },
    )


def test_private_endpoint_has_no_public_access(eks_variant: EksSynth) -> None:
    eks_variant.template.has_resource_properties(
        CLUSTER,
        {
            "ResourcesVpcConfig": Match.object_like(
                {
                    "EndpointPublicAccess": False,
                    "EndpointPrivateAccess": True,
                    "PublicAccessCidrs": Match.absent(),
                }
            )
        },
    )


def test_control_plane_sits_in_private_subnets_only(eks_sandbox: EksSynth) -> None:
    subnets = eks_sandbox.json["Resources"][logical_id(eks_sandbox.stack.cluster.cluster)]["Properties"][
        "ResourcesVpcConfig"
    ]["SubnetIds"]
    outputs = [s["Fn::GetStackOutput"]["OutputName"] for s in subnets]
    assert len(outputs) == 2 and all("PrivateSubnet" in o for o in outputs), outputs


def test_four_managed_addons_with_eks_default_versions_unless_pinned(
    eks_sandbox: EksSynth, eks_variant: EksSynth
) -> None:
    for name in ("vpc-cni", "kube-proxy", "coredns", "eks-pod-identity-agent"):
        eks_sandbox.template.has_resource_properties(
            "AWS::EKS::Addon", {"AddonName": name, "AddonVersion": Match.absent()}
        )
    eks_sandbox.template.resource_count_is("AWS::EKS::Addon", 4)
    eks_variant.template.has_resource_properties(
        "AWS::EKS::Addon", {"AddonName": "vpc-cni", "AddonVersion": "v1.20.4-eksbuild.2"}
    )
    eks_variant.template.has_resource_properties(
        "AWS::EKS::Addon", {"AddonName": "eks-pod-identity-agent", "AddonVersion": "v1.3.8-eksbuild.2"}
    )
    # One Pod Identity agent, shared with the Karpenter controller's service account.
    eks_variant.template.resource_count_is("AWS::EKS::Addon", 4)


def test_coredns_stays_on_system_nodes(eks_sandbox: EksSynth) -> None:
    eks_sandbox.template.has_resource_properties(
        "AWS::EKS::Addon",
        {
            "AddonName": "coredns",
            "ConfigurationValues": Match.serialized_json(
                {
                    "nodeSelector": {"role": "system"},
                    "tolerations": [
                        {"key": "CriticalAddonsOnly", "operator": "Exists", "effect": "NoSchedule"}
                    ],
                }
            ),
        },
    )


def test_network_addons_come_before_nodes_and_coredns_after(eks_sandbox: EksSynth) -> None:
    cluster = eks_sandbox.stack.cluster
    nodegroup_deps = eks_sandbox.depends_on(cluster.system_nodes.nodegroup)
    for name in ("vpc-cni", "kube-proxy", "eks-pod-identity-agent"):
        assert logical_id(cluster.addons[name]) in nodegroup_deps, name
    coredns_deps = eks_sandbox.depends_on(cluster.addons["coredns"])
    assert logical_id(cluster.system_nodes.nodegroup) in coredns_deps


def test_kubectl_provider_uses_the_v36_layer_inside_the_vpc(eks_sandbox: EksSynth) -> None:
    eks_sandbox.template.has_resource_properties(
        "AWS::Lambda::LayerVersion", {"Description": Match.string_like_regexp(r"kubectl 1\.36\.")}
    )
    eks_sandbox.template.has_resource_properties(
        "AWS::Lambda::Function",
        {
            "Description": "onEvent handler for EKS kubectl resource provider",
            "VpcConfig": Match.object_like({"SubnetIds": Match.any_value()}),
        },
    )


def test_stateful_resources_keep_their_logical_ids(eks_sandbox: EksSynth) -> None:
    cluster = eks_sandbox.stack.cluster
    assert {
        "cluster": logical_id(cluster.cluster),
        "secrets_key": logical_id(cluster.secrets_key),
        "log_group": logical_id(cluster.log_group),
    } == {
        "cluster": "Cluster9EE0221C",
        "secrets_key": "ClusterSecretsKey462B29B5",
        "log_group": "ClusterControlPlaneLogsDCEEB876",
    }


def test_outputs_tell_how_to_connect_and_watch_karpenter(eks_sandbox: EksSynth) -> None:
    admin_role = eks_sandbox.stack.cluster.admin_role
    assert admin_role is not None
    eks_sandbox.template.has_output(
        "UpdateKubeconfigCommand",
        {
            "Value": {
                "Fn::Join": [
                    "",
                    [
                        "aws eks update-kubeconfig --name containers-update-sandbox --region ap-northeast-1 "
                        "--role-arn ",
                        {"Fn::GetAtt": [logical_id(admin_role), "Arn"]},
                    ],
                ]
            }
        },
    )
    eks_sandbox.template.has_output(
        "WatchKarpenterCommand", {"Value": Match.string_like_regexp("nodeclaims.* -w$")}
    )
    eks_sandbox.template.has_output(
        "KarpenterLogsCommand", {"Value": Match.string_like_regexp("^kubectl logs -n kube-system -l")}
    )


def test_kubeconfig_command_has_no_role_for_a_configured_principal(eks_variant: EksSynth) -> None:
    eks_variant.template.has_output(
        "UpdateKubeconfigCommand",
        {"Value": "aws eks update-kubeconfig --name ml-experiments --region ap-northeast-1"},
    )


def test_fails_when_system_nodes_have_no_labels_to_select_them_by() -> None:
    import aws_cdk as cdk
    import pytest
    from aws_cdk import aws_eks_v2 as eks
    from aws_cdk import aws_lambda as lambda_

    from constructs_lib.eks import BottlerocketNodegroupProps, Ipv6Cluster, Ipv6ClusterProps

    stack = cdk.Stack(cdk.App(), "Props")
    props = Ipv6ClusterProps(
        cluster_name="c",
        version=eks.KubernetesVersion.V1_36,
        kubectl_layer=cast(lambda_.ILayerVersion, None),
        system_nodes=BottlerocketNodegroupProps(labels={}),
    )
    with pytest.raises(ValueError, match=r"^system_nodes.labels must not be empty"):
        Ipv6Cluster(stack, "Cluster", vpc=cast(ec2.IVpc, None), props=props)
