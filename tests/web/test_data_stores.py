"""DataStores: Aurora Serverless v2 and Valkey serverless, private, encrypted, and torn down by stage."""

from __future__ import annotations

from aws_cdk.assertions import Capture, Match

from tests.conftest import Synthesized
from tests.helpers import logical_id
from tests.web.conftest import resources_of, subnet_refs, vpc


def test_aurora_scales_to_zero_and_pauses_in_the_sandbox(sandbox: Synthesized) -> None:
    sandbox.template("DataStores").has_resource_properties(
        "AWS::RDS::DBCluster",
        {
            "Engine": "aurora-postgresql",
            "EngineVersion": "17.5",
            "ServerlessV2ScalingConfiguration": {
                "MinCapacity": 0,
                "MaxCapacity": 2,
                "SecondsUntilAutoPause": 300,
            },
        },
    )
    sandbox.template("DataStores").has_resource_properties(
        "AWS::RDS::DBInstance", {"DBInstanceClass": "db.serverless", "PubliclyAccessible": False}
    )


def test_aurora_is_encrypted_with_the_stack_key_uses_iam_auth_and_generated_credentials(
    sandbox: Synthesized,
) -> None:
    template = sandbox.template("DataStores")
    key = Capture()
    template.has_resource_properties(
        "AWS::RDS::DBCluster",
        {
            "StorageEncrypted": True,
            "KmsKeyId": {"Fn::GetAtt": [key, "Arn"]},
            "EnableIAMDatabaseAuthentication": True,
            "MasterUserPassword": {"Fn::Join": ["", Match.array_with(["{{resolve:secretsmanager:"])]},
        },
    )
    assert resources_of(sandbox, "DataStores", "AWS::KMS::Key")[key.as_string()]["Properties"][
        "EnableKeyRotation"
    ]
    template.has_resource_properties(
        "AWS::SecretsManager::Secret",
        {
            "KmsKeyId": {"Fn::GetAtt": [key.as_string(), "Arn"]},
            "GenerateSecretString": Match.object_like({"GenerateStringKey": "password"}),
        },
    )


def test_postgresql_logs_go_to_a_group_the_stack_creates_first(sandbox: Synthesized) -> None:
    clusters = resources_of(sandbox, "DataStores", "AWS::RDS::DBCluster")
    (cluster,) = clusters.values()
    identifier = cluster["Properties"]["DBClusterIdentifier"]
    assert cluster["Properties"]["EnableCloudwatchLogsExports"] == ["postgresql"]
    groups = {
        logical_id: group
        for logical_id, group in resources_of(sandbox, "DataStores", "AWS::Logs::LogGroup").items()
        if group["Properties"].get("LogGroupName") == f"/aws/rds/cluster/{identifier}/postgresql"
    }
    ((group_id, group),) = groups.items()
    assert group["Properties"]["RetentionInDays"] == 7
    assert "KmsKeyId" in group["Properties"]
    assert group_id in cluster["DependsOn"]


def test_data_stores_live_in_the_isolated_subnets(sandbox: Synthesized) -> None:
    isolated = subnet_refs(sandbox, "DataStores", vpc(sandbox).isolated_subnets)
    template = sandbox.template("DataStores")
    template.has_resource_properties("AWS::RDS::DBSubnetGroup", {"SubnetIds": isolated})
    template.has_resource_properties("AWS::ElastiCache::ServerlessCache", {"SubnetIds": isolated})


def test_valkey_is_encrypted_and_capped_by_usage_limits(sandbox: Synthesized) -> None:
    sandbox.template("DataStores").has_resource_properties(
        "AWS::ElastiCache::ServerlessCache",
        {
            "Engine": "valkey",
            "MajorEngineVersion": "8",
            "KmsKeyId": {"Fn::GetAtt": [Match.string_like_regexp("^Key"), "Arn"]},
            "CacheUsageLimits": {
                "DataStorage": {"Maximum": 1, "Unit": "GB"},
                "ECPUPerSecond": {"Maximum": 5000},
            },
            "SnapshotRetentionLimit": Match.absent(),
        },
    )


def test_the_data_stores_admit_nobody_by_themselves(sandbox: Synthesized) -> None:
    assert resources_of(sandbox, "DataStores", "AWS::EC2::SecurityGroupIngress") == {}
    for group in resources_of(sandbox, "DataStores", "AWS::EC2::SecurityGroup").values():
        assert "SecurityGroupIngress" not in group["Properties"]


def test_sandbox_destroy_leaves_nothing(sandbox: Synthesized) -> None:
    template = sandbox.template("DataStores")
    for resource_type in (
        "AWS::RDS::DBCluster",
        "AWS::ElastiCache::ServerlessCache",
        "AWS::SecretsManager::Secret",
    ):
        template.has_resource(resource_type, {"DeletionPolicy": "Delete"})
    template.has_resource_properties("AWS::RDS::DBCluster", {"DeletionProtection": False})
    template.has_resource_properties("AWS::ECR::Repository", {"EmptyOnDelete": True})


def test_production_keeps_a_final_snapshot_the_cache_and_what_restores_them(production: Synthesized) -> None:
    template = production.template("DataStores")
    template.has_resource("AWS::RDS::DBCluster", {"DeletionPolicy": "Snapshot"})
    template.has_resource_properties("AWS::RDS::DBCluster", {"DeletionProtection": True})
    template.has_resource("AWS::ElastiCache::ServerlessCache", {"DeletionPolicy": "Retain"})
    template.has_resource_properties("AWS::ElastiCache::ServerlessCache", {"SnapshotRetentionLimit": 7})
    for resource_type in ("AWS::KMS::Key", "AWS::SecretsManager::Secret"):
        template.has_resource(resource_type, {"DeletionPolicy": "Retain"})


def test_stateful_logical_ids_are_pinned(sandbox: Synthesized) -> None:
    stack = sandbox.stacks["DataStores"]
    postgres, valkey = stack.postgres, stack.valkey  # type: ignore[attr-defined]
    # As written in the template: CDK overrides the generated secret's id.
    assert {
        "cluster": logical_id(postgres.cluster),
        "secret": logical_id(postgres.cluster.node.find_child("Secret")),
        "logs": logical_id(postgres.log_group),
        "cache": logical_id(valkey.cache),
        "key": logical_id(stack.key),  # type: ignore[attr-defined]
        "repository": logical_id(stack.repository),  # type: ignore[attr-defined]
    } == {
        "cluster": "Postgres101C52D7",
        "secret": "DataStoresPostgresSecret6FF803513fdaad7efa858a3daf9490cf0a702aeb",
        "logs": "PostgresPostgresqlLogs9CA9276A",
        "cache": "Valkey26DD46EF",
        "key": "Key961B73FD",
        "repository": "Repository22E53BBD",
    }


def test_the_web_sample_is_built_for_both_architectures_into_the_stack_repository(
    sandbox: Synthesized,
) -> None:
    build = sandbox.stacks["DataStores"].image_build  # type: ignore[attr-defined]
    template = sandbox.template("DataStores")
    template.has_resource_properties(
        "AWS::CodeBuild::Project",
        {
            "Source": Match.object_like({"Type": "S3"}),
            "EncryptionKey": {"Fn::GetAtt": ["Key961B73FD", "Arn"]},
        },
    )
    outputs = sandbox.template_json("DataStores")["Outputs"]
    assert outputs["BuildCommand"]["Value"]["Fn::Join"][1][-1].endswith("name=IMAGE_TAG,value=v1")
    assert build.project is not None
