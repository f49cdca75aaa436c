"""Template tests of the Karpenter construct: IAM parity, queue wiring, access entry, delete order."""

from __future__ import annotations

import json
import re
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_eks_v2 as eks
from aws_cdk import aws_sqs as sqs
from aws_cdk.assertions import Capture, Match

from constructs_lib.eks.karpenter import (
    GpuNodePoolSpec,
    KarpenterProps,
    NodeClassSpec,
    NodePoolSpec,
    check_bottlerocket_release,
)
from tests.helpers import (
    IPV6_CNI_STATEMENTS,
    READ_OWN_STACK,
    has_role_policy,
    logical_id,
    parse_json_property,
)

from .conftest import CLUSTER_NAME, DISCOVERY, Built, build
from .upstream_policies import UPSTREAM_POLICIES


def _manifest(built: Built, construct: Any) -> list[dict[str, Any]]:
    """The manifest a KubernetesManifest applies, with deploy-time values shown as TOKEN."""
    return list(parse_json_property(_resources(built)[logical_id(construct)]["Properties"]["Manifest"]))


def _resources(built: Built) -> dict[str, Any]:
    return built.template.to_json()["Resources"]


def _normalize(value: Any, built: Built) -> Any:
    """Bring a synthesized policy value into the upstream template's placeholder form."""
    node_role = logical_id(built.karpenter.node_role)
    queue = logical_id(built.karpenter.interruption_queue)
    if isinstance(value, dict):
        if value == {"Ref": "AWS::Region"}:
            return "${AWS::Region}"
        if value == {"Fn::GetAtt": [node_role, "Arn"]}:
            return "${KarpenterNodeRole.Arn}"
        if value == {"Fn::GetAtt": [queue, "Arn"]}:
            return "${KarpenterInterruptionQueue.Arn}"
        if "Fn::Join" in value:
            # Only pseudo parameters are joined into these ARNs: {"Ref": "AWS::Partition"} etc.
            joined = "".join(p if isinstance(p, str) else "${" + p["Ref"] + "}" for p in value["Fn::Join"][1])
            return _normalize(joined, built)
        return {_normalize(k, built): _normalize(v, built) for k, v in value.items()}
    if isinstance(value, list):
        items = [_normalize(v, built) for v in value]
        return sorted(items) if all(isinstance(i, str) for i in items) else items
    if isinstance(value, str):
        return value.replace(CLUSTER_NAME, "${ClusterName}")
    return value


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


# --- Controller IAM ---------------------------------------------------------------------------


def test_controller_policies_match_upstream_statement_by_statement(built: Built) -> None:
    resources = _resources(built)
    for name, expected in UPSTREAM_POLICIES.items():
        policy = built.karpenter.controller_policies[name]
        document = resources[logical_id(policy)]["Properties"]["PolicyDocument"]
        actual = {
            statement["Sid"]: {
                "Action": sorted(_as_list(statement["Action"])),
                "Resource": _normalize(_as_list(statement["Resource"]), built),
                "Condition": _normalize(statement.get("Condition", {}), built),
            }
            for statement in document["Statement"]
        }
        assert actual == expected, name
        assert all(statement["Effect"] == "Allow" for statement in document["Statement"])


def test_controller_role_is_pod_identity_with_exactly_the_six_policies(built: Built) -> None:
    role = built.karpenter.controller_role
    properties = _resources(built)[logical_id(role)]["Properties"]
    assert properties["AssumeRolePolicyDocument"]["Statement"] == [
        {
            "Action": ["sts:AssumeRole", "sts:TagSession"],
            "Effect": "Allow",
            "Principal": {"Service": "pods.eks.amazonaws.com"},
        }
    ]
    expected = [{"Ref": logical_id(p)} for p in built.karpenter.controller_policies.values()]
    assert properties["ManagedPolicyArns"] == expected
    assert "Policies" not in properties
    built.template.has_resource_properties(
        "AWS::EKS::PodIdentityAssociation",
        {
            "Namespace": "kube-system",
            "ServiceAccount": "karpenter",
            "RoleArn": {"Fn::GetAtt": [logical_id(role), "Arn"]},
        },
    )


def test_token_cluster_name_goes_through_cfn_json() -> None:
    unnamed = build(cluster_name=None, gpu=False)
    resources = _resources(unnamed)
    cfn_json = [r for r in resources.values() if r["Type"] == "Custom::AWSCDKCfnJson"]
    # Eight controller condition blocks carry the name in a key, plus two in the cleanup policy.
    assert len(cfn_json) == 10
    cluster = {"Ref": logical_id(unnamed.cluster)}
    for resource in cfn_json:
        # A condition key: `aws:ResourceTag/` or `aws:RequestTag/kubernetes.io/cluster/` + the name.
        parts = resource["Properties"]["Value"]["Fn::Join"][1]
        assert cluster in parts
        assert any(isinstance(p, str) and p.endswith("Tag/kubernetes.io/cluster/") for p in parts)


def test_named_cluster_needs_no_cfn_json(built: Built) -> None:
    built.template.resource_count_is("Custom::AWSCDKCfnJson", 0)


# --- Node role and access entry ---------------------------------------------------------------


def test_node_role_has_worker_ecr_ssm_and_ipv6_cni_permissions(built: Built) -> None:
    role_id = logical_id(built.karpenter.node_role)
    properties = _resources(built)[role_id]["Properties"]
    assert properties["AssumeRolePolicyDocument"]["Statement"] == [
        {"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}}
    ]
    managed = sorted(arn["Fn::Join"][1][-1] for arn in properties["ManagedPolicyArns"])
    assert managed == [
        ":iam::aws:policy/AmazonEC2ContainerRegistryPullOnly",
        ":iam::aws:policy/AmazonEKSWorkerNodePolicy",
        ":iam::aws:policy/AmazonSSMManagedInstanceCore",
    ]
    has_role_policy(built.template, role_id, IPV6_CNI_STATEMENTS)


def test_node_role_has_an_ec2_linux_access_entry_without_policies(built: Built) -> None:
    built.template.has_resource_properties(
        "AWS::EKS::AccessEntry",
        {
            "ClusterName": {"Ref": logical_id(built.cluster)},
            "PrincipalArn": {"Fn::GetAtt": [logical_id(built.karpenter.node_role), "Arn"]},
            "Type": "EC2_LINUX",
            "AccessPolicies": [],
        },
    )


# --- Interruption queue, rules and chart settings ---------------------------------------------


def test_queue_is_encrypted_short_lived_and_tls_only(built: Built) -> None:
    queue_id = logical_id(built.karpenter.interruption_queue)
    assert queue_id == "KarpenterInterruptionQueue630CFBDB"  # stateful: renaming replaces it
    built.template.has_resource_properties(
        "AWS::SQS::Queue", {"MessageRetentionPeriod": 300, "SqsManagedSseEnabled": True}
    )
    built.template.has_resource_properties(
        "AWS::SQS::QueuePolicy",
        {
            "Queues": [{"Ref": queue_id}],
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        {
                            "Action": "sqs:*",
                            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                            "Effect": "Deny",
                            "Principal": {"AWS": "*"},
                            "Resource": {"Fn::GetAtt": [queue_id, "Arn"]},
                        }
                    ]
                )
            },
        },
    )


def test_five_rules_target_the_queue_named_in_the_chart_settings(built: Built) -> None:
    resources = _resources(built)
    rules = {k: r for k, r in resources.items() if r["Type"] == "AWS::Events::Rule"}
    patterns = sorted(
        (r["Properties"]["EventPattern"]["source"][0], r["Properties"]["EventPattern"]["detail-type"][0])
        for r in rules.values()
    )
    assert patterns == [
        ("aws.ec2", "EC2 Capacity Reservation Instance Interruption Warning"),
        ("aws.ec2", "EC2 Instance Rebalance Recommendation"),
        ("aws.ec2", "EC2 Instance State-change Notification"),
        ("aws.ec2", "EC2 Spot Instance Interruption Warning"),
        ("aws.health", "AWS Health Event"),
    ]
    # One queue behind all five rules: the interruption queue.
    queue_id = logical_id(built.karpenter.interruption_queue)
    arns = [target["Arn"] for rule in rules.values() for target in rule["Properties"]["Targets"]]
    assert arns == [{"Fn::GetAtt": [queue_id, "Arn"]}] * 5

    values = Capture()
    built.template.has_resource_properties(
        "Custom::AWSCDK-EKS-HelmChart", {"Release": "karpenter", "Values": values}
    )
    parts = values.as_object()["Fn::Join"][1]
    queue_in_settings = [p for p in parts if isinstance(p, dict)]
    assert queue_in_settings == [{"Fn::GetAtt": [queue_id, "QueueName"]}]
    assert parse_json_property(values.as_object())["settings"]["interruptionQueue"] == "TOKEN"
    assert queue_id == logical_id(built.karpenter.interruption_queue)


def test_chart_is_1_14_1_from_public_ecr_with_cdk_made_service_account(built: Built) -> None:
    values = Capture()
    built.template.has_resource_properties(
        "Custom::AWSCDK-EKS-HelmChart",
        {
            "Release": "karpenter",
            "Chart": "karpenter",
            "Repository": "oci://public.ecr.aws/karpenter/karpenter",
            "Version": "1.14.1",
            "Namespace": "kube-system",
            "SkipCrds": True,
            "Wait": True,
            "Values": values,
        },
    )
    chart_values = parse_json_property(values.as_object())
    assert chart_values["serviceAccount"] == {"create": False, "name": "karpenter"}
    assert chart_values["settings"] == {"clusterName": CLUSTER_NAME, "interruptionQueue": "TOKEN"}
    assert chart_values["controller"]["resources"] == {
        "requests": {"cpu": "500m", "memory": "1Gi"},
        "limits": {"memory": "1Gi"},
    }
    assert chart_values["nodeSelector"] == {"kubernetes.io/os": "linux", "karpenter.sh/controller": "true"}
    sa = built.karpenter.service_account
    manifest_construct = next(c for c in sa.node.children if isinstance(c, eks.KubernetesManifest))
    (service_account,) = _manifest(built, manifest_construct)
    assert service_account["kind"] == "ServiceAccount"
    assert service_account["metadata"]["name"] == "karpenter"
    assert service_account["metadata"]["namespace"] == "kube-system"


def test_crds_come_from_the_karpenter_crd_chart_of_the_same_version(built: Built) -> None:
    built.template.has_resource_properties(
        "Custom::AWSCDK-EKS-HelmChart",
        {
            "Release": "karpenter-crd",
            "Chart": "karpenter-crd",
            "Repository": "oci://public.ecr.aws/karpenter/karpenter-crd",
            "Version": "1.14.1",
            "Namespace": "kube-system",
            "SkipCrds": Match.absent(),
        },
    )
    # Helm v4 re-applies the controller chart's crds/ on install: both charts take one version.
    versions = {
        resource["Properties"]["Release"]: resource["Properties"]["Version"]
        for resource in built.template.find_resources("Custom::AWSCDK-EKS-HelmChart").values()
        if resource["Properties"]["Release"] in ("karpenter", "karpenter-crd")
    }
    assert versions == {
        "karpenter": KarpenterProps.chart_version,
        "karpenter-crd": KarpenterProps.chart_version,
    }


# --- Delete order -----------------------------------------------------------------------------


def _depends_on(built: Built, construct: Any) -> set[str]:
    return set(_resources(built)[logical_id(construct)].get("DependsOn", []))


def test_dependencies_give_the_teardown_order(built: Built) -> None:
    k = built.karpenter
    ids = {name: logical_id(m) for name, m in k.node_pool_manifests.items()}
    node_class = logical_id(k.node_class_manifest)
    chart, crd_chart = logical_id(k.chart), logical_id(k.crd_chart)
    cleanup = logical_id(k.cleanup)
    # Workload -> NodePools -> EC2NodeClass -> chart -> CRD chart -> cleanup -> node role, cluster.
    assert set(ids.values()) <= _depends_on(built, built.workload)
    for pool in k.node_pool_manifests.values():
        assert node_class in _depends_on(built, pool)
    assert chart in _depends_on(built, k.node_class_manifest)
    assert {crd_chart, cleanup} <= _depends_on(built, k.chart)
    assert cleanup in _depends_on(built, k.crd_chart)
    cleanup_deps = _depends_on(built, k.cleanup)
    assert {logical_id(k.node_role), logical_id(built.cluster)} <= cleanup_deps
    # The chart also needs its identity, permissions and the nodes' access entry while it runs.
    assert {logical_id(k.node_access_entry)} <= _depends_on(built, k.chart)
    agent = built.cluster.eks_pod_identity_agent
    assert agent is not None
    assert logical_id(agent) in _depends_on(built, k.chart)
    assert {logical_id(p) for p in k.controller_policies.values()} <= _depends_on(built, k.chart)


def test_node_pools_are_deleted_before_the_node_class_and_gpu_pool_is_tainted(built: Built) -> None:
    assert set(built.karpenter.node_pool_manifests) == {"general", "gpu"}
    for pool in built.karpenter.node_pool_manifests.values():
        (manifest,) = _manifest(built, pool)
        # A bounded drain keeps each NodePool delete inside the kubectl handler's 15 minutes.
        assert manifest["spec"]["template"]["spec"]["terminationGracePeriod"] == "5m"
    built.template.has_resource_properties(
        "Custom::AWSCDK-EKS-KubernetesResource",
        {
            "Manifest": Match.serialized_json(
                [
                    Match.object_like(
                        {
                            "kind": "NodePool",
                            "metadata": Match.object_like({"name": "gpu"}),
                            "spec": Match.object_like(
                                {
                                    "limits": {"cpu": "32", "nvidia.com/gpu": "2"},
                                    "template": Match.object_like(
                                        {
                                            "spec": Match.object_like(
                                                {
                                                    "taints": [
                                                        {
                                                            "key": "nvidia.com/gpu",
                                                            "value": "true",
                                                            "effect": "NoSchedule",
                                                        }
                                                    ]
                                                }
                                            )
                                        }
                                    ),
                                }
                            ),
                        }
                    )
                ]
            )
        },
    )


# --- Cleanup custom resource ------------------------------------------------------------------


def test_cleanup_is_one_function_without_provider_framework(built: Built) -> None:
    cleanup = _resources(built)[logical_id(built.karpenter.cleanup)]
    assert cleanup["Type"] == "Custom::KarpenterCleanup"
    function_id = cleanup["Properties"]["ServiceToken"]["Fn::GetAtt"][0]
    function = _resources(built)[function_id]
    assert function["Type"] == "AWS::Lambda::Function"
    assert function["Properties"]["Handler"] == "cleanup.handler"
    assert function["Properties"]["Timeout"] == 600
    assert cleanup["Properties"] == {
        "ServiceToken": {"Fn::GetAtt": [function_id, "Arn"]},
        "ServiceTimeout": "720",
        "ClusterName": CLUSTER_NAME,
    }
    # Functions in the construct: the cleanup only (the kubectl provider belongs to the cluster).
    karpenter_path = built.karpenter.node.path + "/"
    functions = [
        c
        for c in built.karpenter.node.find_all()
        if isinstance(c, cdk.CfnResource) and c.cfn_resource_type == "AWS::Lambda::Function"
    ]
    assert [f.node.path.removeprefix(karpenter_path) for f in functions] == ["Cleanup/Function/Resource"]
    assert not [c for c in built.karpenter.node.find_all() if c.node.id == "Provider"]


def test_cleanup_permissions_are_scoped_by_the_cluster_tags(built: Built) -> None:
    namespace = built.karpenter.node.find_child("Cleanup")
    role_id = logical_id(namespace.node.find_child("Role"))
    resources = _resources(built)
    document = resources[logical_id(namespace.node.find_child("Policy"))]["Properties"]
    assert document["Roles"] == [{"Ref": role_id}]
    statements = {s["Sid"]: s for s in document["PolicyDocument"]["Statement"]}
    # The role has nothing else but writing to its own log group (no AWSLambdaBasicExecutionRole).
    assert "ManagedPolicyArns" not in resources[role_id]["Properties"]
    log_group = logical_id(namespace.node.find_child("LogGroup"))
    has_role_policy(
        built.template,
        role_id,
        [
            {
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                "Effect": "Allow",
                "Resource": {"Fn::GetAtt": [log_group, "Arn"]},
            }
        ],
    )
    delete = statements["DeleteClusterInstancesAndLaunchTemplates"]
    assert delete["Action"] == ["ec2:DeleteLaunchTemplate", "ec2:TerminateInstances"]
    assert delete["Condition"] == {
        "StringEquals": {f"aws:ResourceTag/kubernetes.io/cluster/{CLUSTER_NAME}": "owned"},
        "StringLike": {"aws:ResourceTag/karpenter.sh/nodepool": "*"},
    }
    profiles = statements["DeleteClusterInstanceProfiles"]
    assert profiles["Condition"] == {
        "StringEquals": {
            f"aws:ResourceTag/kubernetes.io/cluster/{CLUSTER_NAME}": "owned",
            "aws:ResourceTag/topology.kubernetes.io/region": {"Ref": "AWS::Region"},
        },
        "StringLike": {"aws:ResourceTag/karpenter.k8s.aws/ec2nodeclass": "*"},
    }
    unscoped = {sid for sid, s in statements.items() if s["Resource"] == "*"}
    assert unscoped == {"DescribeClusterResources", "ListInstanceProfiles"}
    # The handler acts only while its own stack is being deleted or rolled back.
    assert statements["ReadOwnStack"] == READ_OWN_STACK


def test_cleanup_is_never_retried_by_lambda(built: Built) -> None:
    function = logical_id(built.karpenter.cleanup.function)
    built.template.has_resource_properties(
        "AWS::Lambda::EventInvokeConfig",
        {"FunctionName": {"Ref": function}, "MaximumRetryAttempts": 0, "Qualifier": "$LATEST"},
    )


def test_cleanup_asset_holds_only_the_runtime_folder(built: Built) -> None:
    # The handler module sits at the asset's root, so `cleanup.handler` resolves in Lambda, and
    # imports the unit's response module from there.
    import constructs_lib.eks.karpenter.runtime.cleanup as handler_module

    assert callable(handler_module.handler)
    assert handler_module.cfn_response.__name__.endswith("cfn_response")


# --- Node class -------------------------------------------------------------------------------


def test_node_class_uses_pinned_bottlerocket_discovery_tags_and_imdsv2(built: Built) -> None:
    built.template.has_resource_properties(
        "Custom::AWSCDK-EKS-KubernetesResource",
        {
            "Manifest": {
                "Fn::Join": [
                    "",
                    Match.array_with(
                        [
                            Match.string_like_regexp(r'"alias":"bottlerocket@v1\.65\.0"'),
                        ]
                    ),
                ]
            }
        },
    )
    node_class = _resources(built)[logical_id(built.karpenter.node_class_manifest)]
    parts = node_class["Properties"]["Manifest"]["Fn::Join"][1]
    assert parts[1] == {"Ref": logical_id(built.karpenter.node_role)}
    manifest = json.loads(parts[0] + "ROLE" + parts[2])[0]
    spec = manifest["spec"]
    assert spec["role"] == "ROLE"
    assert spec["subnetSelectorTerms"] == [{"tags": {"karpenter.sh/discovery": DISCOVERY}}]
    assert spec["securityGroupSelectorTerms"] == [{"tags": {"aws:eks:cluster-name": CLUSTER_NAME}}]
    assert spec["metadataOptions"]["httpTokens"] == "required"
    assert spec["metadataOptions"]["httpPutResponseHopLimit"] == 1
    assert all(b["ebs"]["encrypted"] and b["ebs"]["volumeType"] == "gp3" for b in spec["blockDeviceMappings"])


# --- Props validation -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (
            lambda: GpuNodePoolSpec(enabled=True, instance_families=(), gpu_limit=1, cpu_limit=8),
            "instance_families must not be empty",
        ),
        (
            lambda: GpuNodePoolSpec(enabled=True),
            "gpu_limit must be set when the GPU pool is enabled, got None",
        ),
        (
            lambda: GpuNodePoolSpec(enabled=True, gpu_limit=2),
            "cpu_limit must be set when the GPU pool is enabled",
        ),
        (lambda: NodePoolSpec(instance_categories=()), "instance_categories must not be empty"),
        (
            lambda: NodePoolSpec(architectures=("x86",)),
            "architectures must be a subset of amd64, arm64",
        ),
        (lambda: NodePoolSpec(cpu_limit=0), "cpu_limit must be a positive whole number, got 0"),
        (lambda: NodePoolSpec(expire_after="30 days"), "expire_after must be a duration"),
        (
            lambda: NodePoolSpec(termination_grace_period="Never"),
            "termination_grace_period must be a duration like 5m or 1h, got 'Never'",
        ),
        (
            lambda: NodeClassSpec(bottlerocket_version="latest"),
            "bottlerocket_version must be a pinned release",
        ),
        (lambda: NodeClassSpec(tags={"karpenter.sh/nodepool": "x"}), "must not set Karpenter's own tag keys"),
        (lambda: KarpenterProps(discovery_tag_value=""), "discovery_tag_value must not be empty"),
        (
            lambda: KarpenterProps(discovery_tag_value="x", replicas=0),
            "replicas must be between 1 and 3, got 0",
        ),
        (
            lambda: KarpenterProps(discovery_tag_value="x", cleanup_timeout=cdk.Duration.minutes(15)),
            "cleanup_timeout must be between 2 and 14 minutes, got 15 minutes",
        ),
    ],
)
def test_fails_when_props_are_invalid(make: Any, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        make()


def test_gpu_pool_is_off_by_default() -> None:
    spec = GpuNodePoolSpec()
    assert spec.enabled is False
    props = KarpenterProps(discovery_tag_value=DISCOVERY)
    assert props.gpu_node_pool.enabled is False


def test_queue_type_is_exposed(built: Built) -> None:
    assert isinstance(built.karpenter.interruption_queue, sqs.Queue)


def test_fails_when_the_bottlerocket_release_predates_the_clusters_kubernetes_version() -> None:
    with pytest.raises(
        ValueError,
        match=r"^node_class.bottlerocket_version must be v1.61.0 or newer for Kubernetes 1.36 \(older "
        r"releases have no aws-k8s-1.36 images\), got 'v1.60.2'$",
    ):
        check_bottlerocket_release("v1.60.2", "1.36")
    check_bottlerocket_release("v1.61.0", "1.36")
    check_bottlerocket_release("v1.53.0", "1.35")
