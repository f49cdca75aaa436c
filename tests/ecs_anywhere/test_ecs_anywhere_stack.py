"""The EcsAnywhere stack's template, read from the session's sandbox and production synths.

One extra small synth (Network and EcsAnywhere only) turns the optional test host on.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from aws_cdk.assertions import Capture, Match, Template
from cfnlint.api import ManualArgs, lint_file

from stacks.config import load_config
from stacks.ecs_anywhere_stack import EcsAnywhereStack
from tests.conftest import Synthesized
from tests.helpers import (
    has_role_policy,
    logical_id,
    logs_of_stack_condition,
    only_network,
    render,
    with_anywhere_test_host,
)

STACK = "EcsAnywhere"


def stack_of(synth: Synthesized) -> EcsAnywhereStack:
    stack = synth.stacks[STACK]
    assert isinstance(stack, EcsAnywhereStack)
    return stack


def resources_of(template: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == resource_type}


@pytest.fixture(scope="module")
def with_test_host(synth_with: Any) -> Iterator[Synthesized]:
    yield synth_with(with_anywhere_test_host(only_network(load_config(stage="sandbox"))))


# --- 1. Registration ----------------------------------------------------------------------------


def test_instance_role_is_trusted_by_ssm_with_the_two_documented_managed_policies(
    sandbox: Synthesized,
) -> None:
    role = logical_id(stack_of(sandbox).cluster.instance_role)
    resource = sandbox.template_json(STACK)["Resources"][role]["Properties"]
    assert resource["AssumeRolePolicyDocument"]["Statement"] == [
        {"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"Service": "ssm.amazonaws.com"}}
    ]
    assert sorted(render(arn) for arn in resource["ManagedPolicyArns"]) == [
        "arn:<AWS::Partition>:iam::aws:policy/AmazonSSMManagedInstanceCore",
        "arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role",
    ]


def test_activation_takes_its_limit_and_expiry_from_the_configuration_and_the_code_goes_to_a_secret(
    sandbox: Synthesized, sandbox_config: Any
) -> None:
    stack = stack_of(sandbox)
    template = sandbox.template(STACK)
    template.has_resource_properties(
        "Custom::EcsAnywhereActivation",
        {
            "ServiceToken": {"Fn::GetAtt": [logical_id(stack.activation.function), "Arn"]},
            "IamRoleName": {"Ref": logical_id(stack.cluster.instance_role)},
            "RegistrationLimit": sandbox_config.ecs_anywhere.activation.registration_limit,
            "ExpirationDays": sandbox_config.ecs_anywhere.activation.expiration_days,
            "SecretArn": {"Ref": logical_id(stack.activation.secret)},
            "ClusterName": {"Ref": logical_id(stack.cluster.cluster)},
        },
    )
    key = {"Fn::GetAtt": [logical_id(stack.cluster.key), "Arn"]}
    template.has_resource_properties("AWS::SecretsManager::Secret", {"KmsKeyId": key})
    # CloudFormation does not retry; a retried Create would make a second, unrecorded activation.
    template.has_resource_properties(
        "AWS::Lambda::EventInvokeConfig",
        {"FunctionName": {"Ref": logical_id(stack.activation.function)}, "MaximumRetryAttempts": 0},
    )


def test_no_output_or_template_value_can_carry_the_activation_code(sandbox: Synthesized) -> None:
    template = sandbox.template_json(STACK)
    activation = logical_id(stack_of(sandbox).activation.resource)
    secret = logical_id(stack_of(sandbox).activation.secret)
    # The handler answers with no Data, so nothing can read an attribute of the custom resource.
    get_atts: list[Any] = []

    def visit(node: Any) -> None:
        if isinstance(node, dict):
            if "Fn::GetAtt" in node:
                get_atts.append(node["Fn::GetAtt"])
            for value in node.values():
                visit(value)
        elif isinstance(node, list):
            for value in node:
                visit(value)

    visit(template)
    assert [target for target in get_atts if target[0] == activation] == []
    # The host commands read the code from the secret when they run; no output is the code itself.
    for name in ("LinuxInstallCommand", "LinuxGpuInstallCommand", "WindowsInstallCommand"):
        parts = template["Outputs"][name]["Value"]["Fn::Join"][1]
        assert {"Ref": secret} in parts
        text = "".join(part for part in parts if isinstance(part, str))
        assert "aws secretsmanager get-secret-value" in text
        assert "--cluster " in text or "-Cluster " in text
    linux = "".join(
        p for p in template["Outputs"]["LinuxGpuInstallCommand"]["Value"]["Fn::Join"][1] if isinstance(p, str)
    )
    assert linux.endswith("--enable-gpu")
    assert "https://amazon-ecs-agent.s3.amazonaws.com/ecs-anywhere-install-latest.sh" in linux
    windows = "".join(
        p for p in template["Outputs"]["WindowsInstallCommand"]["Value"]["Fn::Join"][1] if isinstance(p, str)
    )
    assert "https://amazon-ecs-agent.s3.amazonaws.com/ecs-anywhere-install.ps1" in windows


def test_stack_key_rotates_and_admits_cloudwatch_logs_for_this_stacks_groups_only(
    sandbox: Synthesized,
) -> None:
    key = sandbox.template_json(STACK)["Resources"][logical_id(stack_of(sandbox).cluster.key)]
    assert key["Properties"]["EnableKeyRotation"] is True
    logs = [
        s
        for s in key["Properties"]["KeyPolicy"]["Statement"]
        if s["Principal"].get("Service") == "logs.ap-northeast-1.amazonaws.com"
    ]
    assert len(logs) == 1
    assert logs[0]["Condition"] == logs_of_stack_condition(stack_of(sandbox).stack_name)


def test_every_log_group_is_encrypted_with_the_stack_key_and_has_a_retention(sandbox: Synthesized) -> None:
    key = {"Fn::GetAtt": [logical_id(stack_of(sandbox).cluster.key), "Arn"]}
    groups = resources_of(sandbox.template_json(STACK), "AWS::Logs::LogGroup")
    assert len(groups) == 5  # ECS Exec sessions, the activation function, Linux, GPU, Windows
    for group in groups.values():
        assert group["Properties"]["KmsKeyId"] == key
        assert group["Properties"]["RetentionInDays"] == 7
        assert "LogGroupName" not in group["Properties"], "generated names match the key policy"


def test_cluster_encrypts_and_logs_ecs_exec_sessions_with_the_stack_key(sandbox: Synthesized) -> None:
    # The session log group itself is encrypted with the key (see the log group test).
    cluster = stack_of(sandbox).cluster
    sandbox.template(STACK).has_resource_properties(
        "AWS::ECS::Cluster",
        {
            "Configuration": {
                "ExecuteCommandConfiguration": {
                    "KmsKeyId": {"Fn::GetAtt": [logical_id(cluster.key), "Arn"]},
                    "Logging": "OVERRIDE",
                    "LogConfiguration": {
                        "CloudWatchEncryptionEnabled": False,
                        "CloudWatchLogGroupName": {"Ref": logical_id(cluster.exec_log_group)},
                    },
                }
            }
        },
    )


# --- 3. Workloads -------------------------------------------------------------------------------


def test_external_task_definitions_never_use_awsvpc(sandbox: Synthesized) -> None:
    definitions = resources_of(sandbox.template_json(STACK), "AWS::ECS::TaskDefinition")
    assert len(definitions) == 3
    for definition in definitions.values():
        assert definition["Properties"]["RequiresCompatibilities"] == ["EXTERNAL"]
        assert definition["Properties"].get("NetworkMode") != "awsvpc"


def test_linux_service_is_bridged_with_ecs_exec_on_linux_hosts_and_starts_at_zero(
    sandbox: Synthesized,
) -> None:
    stack = stack_of(sandbox)
    template = sandbox.template(STACK)
    template.has_resource_properties(
        "AWS::ECS::TaskDefinition",
        {
            "NetworkMode": "bridge",
            "PlacementConstraints": [{"Type": "memberOf", "Expression": "attribute:ecs.os-type == linux"}],
            "ContainerDefinitions": [
                Match.object_like(
                    {
                        "Name": "web",
                        "PortMappings": [{"ContainerPort": 80, "HostPort": 0, "Protocol": "tcp"}],
                        "LinuxParameters": {"InitProcessEnabled": True},
                        "LogConfiguration": Match.object_like(
                            {
                                "Options": Match.object_like(
                                    {"awslogs-group": {"Ref": logical_id(stack.linux.log_group)}}
                                )
                            }
                        ),
                    }
                )
            ],
        },
    )
    service = sandbox.template_json(STACK)["Resources"][logical_id(stack.linux.service)]
    assert service["Properties"]["LaunchType"] == "EXTERNAL"
    assert service["Properties"]["EnableExecuteCommand"] is True
    assert service["Properties"]["DesiredCount"] == 0
    # Deleted before the activation's Delete deregisters the hosts its tasks run on.
    assert logical_id(stack.activation.resource) in service["DependsOn"]


def test_gpu_task_requests_a_gpu_runs_nvidia_smi_and_only_on_hosts_registered_with_gpu_support(
    sandbox: Synthesized,
) -> None:
    sandbox.template(STACK).has_resource_properties(
        "AWS::ECS::TaskDefinition",
        {
            "PlacementConstraints": [
                {"Type": "memberOf", "Expression": "attribute:ecs.capability.gpu-driver-version exists"}
            ],
            "ContainerDefinitions": [
                Match.object_like(
                    {"Command": ["nvidia-smi"], "ResourceRequirements": [{"Type": "GPU", "Value": "1"}]}
                )
            ],
        },
    )
    outputs = sandbox.template_json(STACK)["Outputs"]
    run_task = "".join(p for p in outputs["GpuRunTaskCommand"]["Value"]["Fn::Join"][1] if isinstance(p, str))
    assert "aws ecs run-task" in run_task and "--launch-type EXTERNAL" in run_task


def test_windows_service_uses_the_default_network_mode_on_windows_hosts_without_ecs_exec(
    sandbox: Synthesized,
) -> None:
    stack = stack_of(sandbox)
    assert stack.windows is not None
    resources = sandbox.template_json(STACK)["Resources"]
    definition = resources[logical_id(stack.windows.task_definition)]["Properties"]
    assert "NetworkMode" not in definition
    assert definition["PlacementConstraints"] == [
        {"Type": "memberOf", "Expression": "attribute:ecs.os-type == windows"}
    ]
    assert definition["ContainerDefinitions"][0]["Image"].endswith("windowsservercore-ltsc2022")
    service = resources[logical_id(stack.windows.service)]["Properties"]
    assert service["LaunchType"] == "EXTERNAL"
    assert service["DesiredCount"] == 0
    assert "EnableExecuteCommand" not in service or service["EnableExecuteCommand"] is False


# --- Stateful resources, custom resources, production ------------------------------------------


def test_logical_ids_of_stateful_resources_are_pinned(sandbox: Synthesized) -> None:
    stack = stack_of(sandbox)
    assert logical_id(stack.cluster.key) == "ClusterKeyB247D7DD"
    assert logical_id(stack.activation.secret) == "ActivationSecret8A6FD9E5"
    assert logical_id(stack.activation.resource) == "ActivationBE1E1650"
    assert logical_id(stack.cluster.cluster) == "ClusterC2E21B66"


def test_one_function_serves_the_one_lambda_backed_custom_resource(sandbox: Synthesized) -> None:
    template = sandbox.template_json(STACK)
    assert len(resources_of(template, "AWS::Lambda::Function")) == 1
    custom = [r["Type"] for r in template["Resources"].values() if r["Type"].startswith("Custom::")]
    assert custom == ["Custom::EcsAnywhereActivation"]


def test_production_retains_the_key_secret_and_logs_and_has_no_test_host(production: Synthesized) -> None:
    template = production.template_json(STACK)
    for resource_type in ("AWS::KMS::Key", "AWS::SecretsManager::Secret", "AWS::Logs::LogGroup"):
        for resource in resources_of(template, resource_type).values():
            assert resource["DeletionPolicy"] == "Retain", resource_type
    assert resources_of(template, "AWS::EC2::Instance") == {}


# --- 5. The optional test host ------------------------------------------------------------------


def test_test_host_reads_the_code_with_its_own_role_and_blocks_imds_before_registering(
    with_test_host: Synthesized,
) -> None:
    stack = stack_of(with_test_host)
    assert stack.test_host is not None
    template = with_test_host.template_json(STACK)
    instance = template["Resources"][logical_id(stack.test_host.instance)]
    properties = instance["Properties"]
    assert (
        properties["ImageId"]
        == "{{resolve:ssm:/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64}}"
    )
    assert properties["InstanceType"] == "t4g.small"
    assert logical_id(stack.activation.resource) in instance["DependsOn"]
    parts = properties["UserData"]["Fn::Base64"]["Fn::Join"][1]
    assert {"Ref": logical_id(stack.activation.secret)} in parts
    script = "".join(part for part in parts if isinstance(part, str))
    assert "set -x" not in script
    assert (
        script.index("get-secret-value")
        < script.index("block-imds.service")
        < script.index("ecs-anywhere-install.sh --region")
    )
    assert "iptables -I OUTPUT -d 169.254.169.254 -j DROP" in script
    assert "ip6tables -I OUTPUT -d fd00:ec2::254 -j DROP" in script
    Template.from_json(template).has_resource_properties(
        "AWS::EC2::LaunchTemplate",
        {"LaunchTemplateData": {"MetadataOptions": {"HttpTokens": "required"}}},
    )


def test_test_host_may_read_the_activation_secret_and_nothing_else(with_test_host: Synthesized) -> None:
    stack = stack_of(with_test_host)
    assert stack.test_host is not None
    statements = Capture()
    has_role_policy(with_test_host.template(STACK), logical_id(stack.test_host.instance.role), statements)
    assert [sorted(s["Action"]) for s in statements.as_array()] == [
        ["secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue"]
    ]
    assert statements.as_array()[0]["Resource"] == {"Ref": logical_id(stack.activation.secret)}


def test_test_host_runs_one_linux_task_after_it_has_started(with_test_host: Synthesized) -> None:
    stack = stack_of(with_test_host)
    assert stack.test_host is not None
    service = with_test_host.template_json(STACK)["Resources"][logical_id(stack.linux.service)]
    assert service["Properties"]["DesiredCount"] == 1
    assert logical_id(stack.test_host.instance) in service["DependsOn"]


def test_test_host_variant_passes_cfn_lint_and_cdk_nag(with_test_host: Synthesized) -> None:
    matches = lint_file(
        with_test_host.outdir / stack_of(with_test_host).template_file,
        config=ManualArgs(regions=["ap-northeast-1"], ignore_checks=["W3005"]),
    )
    assert [str(m) for m in matches] == []
    assert with_test_host.error is None, str(with_test_host.error)
