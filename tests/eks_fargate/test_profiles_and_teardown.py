"""Item 1 and 6: Fargate profiles in private subnets, one at a time, and the delete order."""

from __future__ import annotations

from aws_cdk.assertions import Match

from tests.eks_fargate.conftest import FargateView
from tests.helpers import logical_id


def test_profiles_select_the_workload_and_collector_namespaces(fargate_sandbox: FargateView) -> None:
    role = logical_id(fargate_sandbox.fargate.profiles.pod_execution_role)
    for namespace in ("fargate-apps", "fargate-container-insights"):
        fargate_sandbox.template.has_resource_properties(
            "AWS::EKS::FargateProfile",
            {
                "Selectors": [Match.object_like({"Namespace": namespace})],
                "PodExecutionRoleArn": {"Fn::GetAtt": [role, "Arn"]},
            },
        )
    fargate_sandbox.template.resource_count_is("AWS::EKS::FargateProfile", 2)


def test_profiles_use_only_the_private_subnets(fargate_sandbox: FargateView) -> None:
    vpc = fargate_sandbox.stack.cluster.cluster.vpc
    private = [fargate_sandbox.stack.resolve(subnet.subnet_id) for subnet in vpc.private_subnets]
    assert private
    for profile in fargate_sandbox.fargate.profiles.profiles.values():
        subnets = fargate_sandbox.resources[logical_id(profile)]["Properties"]["Subnets"]
        assert subnets == private


def test_profiles_are_created_and_deleted_one_after_the_other(fargate_sandbox: FargateView) -> None:
    workloads, collector = fargate_sandbox.fargate.profiles.profiles.values()
    assert logical_id(workloads) in fargate_sandbox.depends_on(collector)


def test_pod_execution_role_is_for_this_clusters_profiles_only(fargate_sandbox: FargateView) -> None:
    fargate_sandbox.template.has_resource_properties(
        "AWS::IAM::Role",
        {
            "AssumeRolePolicyDocument": {
                "Statement": [
                    {
                        "Action": "sts:AssumeRole",
                        "Principal": {"Service": "eks-fargate-pods.amazonaws.com"},
                        "Condition": {
                            "ArnLike": {
                                "aws:SourceArn": Match.object_like(
                                    {
                                        "Fn::Join": [
                                            "",
                                            Match.array_with([":fargateprofile/containers-update-sandbox/*"]),
                                        ]
                                    }
                                )
                            }
                        },
                    }
                ]
            }
        },
    )


def test_delete_order_is_sample_collector_logging_profiles_cluster(fargate_sandbox: FargateView) -> None:
    view, fargate = fargate_sandbox, fargate_sandbox.fargate
    assert fargate.sample_manifest is not None and fargate.collector_manifest is not None
    # CloudFormation deletes a resource before everything it depends on.
    assert logical_id(fargate.collector_manifest) in view.depends_on(fargate.sample_manifest)
    assert logical_id(fargate.logging_manifest) in view.depends_on(fargate.collector_manifest)
    barrier = view.stack.cluster.cluster.node.find_child("KubectlReadyBarrier")
    barrier_id = logical_id(barrier)
    assert barrier_id in view.depends_on(fargate.logging_manifest)
    # Every Kubernetes object waits for the barrier, which waits for every profile: the profiles
    # (and the pods they run) go only after all manifests, then the cluster.
    profiles = {logical_id(p) for p in fargate.profiles.profiles.values()}
    assert profiles <= set(view.resources[barrier_id].get("DependsOn", []))
    cluster = logical_id(view.stack.cluster.cluster)
    for profile in fargate.profiles.profiles.values():
        assert view.resources[logical_id(profile)]["Properties"]["ClusterName"] == {"Ref": cluster}


def test_log_groups_outlive_every_writer(fargate_sandbox: FargateView) -> None:
    view, fargate = fargate_sandbox, fargate_sandbox.fargate
    assert fargate.sample_manifest is not None and fargate.collector_manifest is not None
    pod_logs = logical_id(fargate.pod_log_group)
    performance = logical_id(fargate.insights_log_groups["performance"])
    assert pod_logs in view.depends_on(fargate.logging_manifest)
    assert pod_logs in view.depends_on(fargate.sample_manifest)
    assert performance in view.depends_on(fargate.collector_manifest)


def test_stateful_resources_keep_their_logical_ids(fargate_production: FargateView) -> None:
    fargate = fargate_production.fargate
    assert {
        "log_key": logical_id(fargate.log_key),
        "pod_logs": logical_id(fargate.pod_log_group),
        **{name: logical_id(group) for name, group in fargate.insights_log_groups.items()},
    } == {
        "log_key": "FargateLogKeyD1331EE6",
        "pod_logs": "FargatePodLogs953DC7F9",
        "performance": "FargateInsightsPerformanceCFE6F16A",
        "application": "FargateInsightsApplicationF92C4476",
        "dataplane": "FargateInsightsDataplaneFFED5799",
        "host": "FargateInsightsHost219915BE",
    }
