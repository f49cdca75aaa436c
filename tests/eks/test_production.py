"""The production stage: private endpoint, retained key and logs, no sample workload."""

from __future__ import annotations

from aws_cdk.assertions import Match

from tests.eks.conftest import EksSynth
from tests.helpers import logical_id


def test_production_endpoint_is_private(eks_production: EksSynth) -> None:
    eks_production.template.has_resource_properties(
        "AWS::EKS::Cluster",
        {
            "ResourcesVpcConfig": Match.object_like(
                {"EndpointPublicAccess": False, "EndpointPrivateAccess": True}
            )
        },
    )


def test_production_retains_the_secrets_key_and_every_log_group(eks_production: EksSynth) -> None:
    resources = eks_production.json["Resources"]
    control_plane = logical_id(eks_production.stack.cluster.log_group)
    # The control-plane group's key goes with the group: retained, except on a failed first create.
    logs_key = logical_id(eks_production.stack.logs_key.key)
    for resource_id, resource in resources.items():
        if resource["Type"] == "AWS::KMS::Key":
            expected = "RetainExceptOnCreate" if resource_id == logs_key else "Retain"
            assert resource["DeletionPolicy"] == expected, resource_id
        elif resource["Type"] == "AWS::Logs::LogGroup":
            # The control-plane group and the Fargate and Container Insights groups have fixed
            # names: retained, except when a first create rolls back (a plain Retain would block
            # the next create).
            fixed = resource_id == control_plane or isinstance(
                resource["Properties"].get("LogGroupName"), str
            )
            expected = "RetainExceptOnCreate" if fixed else "Retain"
            assert resource["DeletionPolicy"] == expected, resource_id
            assert resource["Properties"]["RetentionInDays"] == 365, resource_id


def test_production_has_no_sample_and_larger_system_nodes(eks_production: EksSynth) -> None:
    assert eks_production.stack.sample is None
    eks_production.template.resource_count_is("Custom::AWSCDK-EKS-KubernetesObjectValue", 0)
    eks_production.template.has_resource_properties(
        "AWS::EKS::Nodegroup",
        {"InstanceTypes": ["m7g.large"], "ScalingConfig": {"MinSize": 2, "DesiredSize": 3, "MaxSize": 4}},
    )
    eks_production.template.has_output("UpdateKubeconfigCommand", Match.any_value())
