"""The production stage: private endpoint, retained key and logs, no sample workload."""

from __future__ import annotations

from aws_cdk.assertions import Match

from tests.eks.conftest import EksSynth


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
    kept = {
        resource["Type"]: resource["DeletionPolicy"]
        for resource in resources.values()
        if resource["Type"] in ("AWS::KMS::Key", "AWS::Logs::LogGroup")
    }
    assert kept == {"AWS::KMS::Key": "Retain", "AWS::Logs::LogGroup": "Retain"}
    for resource in resources.values():
        if resource["Type"] == "AWS::Logs::LogGroup":
            assert resource["Properties"]["RetentionInDays"] == 365


def test_production_has_no_sample_and_larger_system_nodes(eks_production: EksSynth) -> None:
    assert eks_production.stack.sample is None
    eks_production.template.resource_count_is("Custom::AWSCDK-EKS-KubernetesObjectValue", 0)
    eks_production.template.has_resource_properties(
        "AWS::EKS::Nodegroup",
        {"InstanceTypes": ["m7g.large"], "ScalingConfig": {"MinSize": 2, "DesiredSize": 3, "MaxSize": 4}},
    )
    eks_production.template.has_output("UpdateKubeconfigCommand", Match.any_value())
