"""The teardown backstop against moto: the same boto3 calls it makes in a real account."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from typing import Any
from unittest import mock

import boto3
import pytest
from moto import mock_aws

from constructs_lib.eks.karpenter.runtime import cleanup as handler_module
from constructs_lib.eks.karpenter.runtime.cleanup import CleanupError, cleanup, handler

REGION = "ap-northeast-1"
CLUSTER = "containers-update"
OTHER = "someone-else"


def _karpenter_tags(cluster: str, nodepool: str = "general") -> list[dict[str, str]]:
    return [
        {"Key": f"kubernetes.io/cluster/{cluster}", "Value": "owned"},
        {"Key": "karpenter.sh/nodepool", "Value": nodepool},
        {"Key": "eks:eks-cluster-name", "Value": cluster},
        {"Key": "karpenter.k8s.aws/cluster", "Value": cluster},
    ]


@pytest.fixture(scope="module")
def mocked_aws() -> Iterator[None]:
    """One moto mock for the module (starting it costs most of a test); each test its own account."""
    with pytest.MonkeyPatch.context() as patch:
        for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SECURITY_TOKEN", "AWS_SESSION_TOKEN"):
            patch.setenv(key, "testing")
        patch.setenv("AWS_DEFAULT_REGION", REGION)
        patch.setenv("AWS_REGION", REGION)
        # The handler never reads AMIs; loading moto's thousands of default AMIs costs a second.
        patch.setenv("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")
        with mock_aws():
            yield


_accounts = itertools.count(100000000001)


@pytest.fixture
def aws(mocked_aws: None, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    # moto keeps separate state per account, so a fresh account is a fresh, empty AWS.
    monkeypatch.setenv("MOTO_ACCOUNT_ID", str(next(_accounts)))
    return {
        "ec2": boto3.client("ec2", region_name=REGION),
        "iam": boto3.client("iam"),
        "image": "ami-0123456789abcdef0",
    }


def _launch(aws: dict[str, Any], tags: list[dict[str, str]], count: int = 1) -> list[str]:
    response = aws["ec2"].run_instances(
        ImageId=aws["image"],
        MinCount=count,
        MaxCount=count,
        InstanceType="m7g.large",
        TagSpecifications=[{"ResourceType": "instance", "Tags": tags}],
    )
    return [i["InstanceId"] for i in response["Instances"]]


def _template(aws: dict[str, Any], name: str, tags: list[dict[str, str]]) -> str:
    response = aws["ec2"].create_launch_template(
        LaunchTemplateName=name,
        LaunchTemplateData={"ImageId": aws["image"]},
        TagSpecifications=[{"ResourceType": "launch-template", "Tags": tags}],
    )
    return str(response["LaunchTemplate"]["LaunchTemplateId"])


def _profile(
    aws: dict[str, Any], name: str, cluster: str, region: str = REGION, role: str | None = None
) -> None:
    aws["iam"].create_instance_profile(
        InstanceProfileName=name,
        Tags=[
            {"Key": f"kubernetes.io/cluster/{cluster}", "Value": "owned"},
            {"Key": "topology.kubernetes.io/region", "Value": region},
            {"Key": "karpenter.k8s.aws/ec2nodeclass", "Value": "default"},
            {"Key": "eks:eks-cluster-name", "Value": cluster},
        ],
    )
    if role:
        aws["iam"].add_role_to_instance_profile(InstanceProfileName=name, RoleName=role)


def _states(aws: dict[str, Any], ids: list[str]) -> dict[str, str]:
    reservations = aws["ec2"].describe_instances(InstanceIds=ids)["Reservations"]
    return {i["InstanceId"]: i["State"]["Name"] for r in reservations for i in r["Instances"]}


def _run(aws: dict[str, Any], **kwargs: Any) -> handler_module.CleanupReport:
    return cleanup(
        CLUSTER,
        region=REGION,
        deadline=kwargs.pop("deadline", 1e12),
        ec2=aws["ec2"],
        iam=aws["iam"],
        poll_seconds=0,
        **kwargs,
    )


def test_terminates_this_clusters_instances_and_leaves_others_running(aws: dict[str, Any]) -> None:
    ours = _launch(aws, _karpenter_tags(CLUSTER), count=3)
    theirs = _launch(aws, _karpenter_tags(OTHER))
    # Tagged for this cluster but not launched by Karpenter (a managed node group's node).
    node_group = _launch(aws, [{"Key": f"kubernetes.io/cluster/{CLUSTER}", "Value": "owned"}])

    report = _run(aws)

    assert sorted(report.terminated_instances) == sorted(ours)
    states = _states(aws, ours + theirs + node_group)
    assert {states[i] for i in ours} == {"terminated"}
    assert states[theirs[0]] == "running"
    assert states[node_group[0]] == "running"


def test_deletes_this_clusters_launch_templates_only(aws: dict[str, Any]) -> None:
    _template(aws, "karpenter.k8s.aws/1111", _karpenter_tags(CLUSTER))
    other = _template(aws, "karpenter.k8s.aws/2222", _karpenter_tags(OTHER))
    untagged = _template(aws, "handmade", [{"Key": "team", "Value": "x"}])

    report = _run(aws)

    assert report.deleted_launch_templates == ["karpenter.k8s.aws/1111"]
    left = {t["LaunchTemplateId"] for t in aws["ec2"].describe_launch_templates()["LaunchTemplates"]}
    assert left == {other, untagged}


def test_deletes_this_clusters_instance_profiles_after_removing_the_role(aws: dict[str, Any]) -> None:
    aws["iam"].create_role(
        RoleName="node", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []})
    )
    _profile(aws, f"{CLUSTER}_123", CLUSTER, role="node")
    _profile(aws, f"{OTHER}_456", OTHER)
    _profile(aws, f"{CLUSTER}_789", CLUSTER, region="us-east-1")  # same name, another region's cluster
    aws["iam"].create_instance_profile(InstanceProfileName="unrelated")

    report = _run(aws)

    assert report.deleted_instance_profiles == [f"{CLUSTER}_123"]
    left = {p["InstanceProfileName"] for p in aws["iam"].list_instance_profiles()["InstanceProfiles"]}
    assert left == {f"{OTHER}_456", f"{CLUSTER}_789", "unrelated"}
    # The node role is free to be deleted by CloudFormation now.
    assert aws["iam"].list_instance_profiles_for_role(RoleName="node")["InstanceProfiles"] == []


def test_reads_profile_tags_separately_when_the_profile_comes_without_them(aws: dict[str, Any]) -> None:
    _profile(aws, f"{CLUSTER}_123", CLUSTER)
    real_get = aws["iam"].get_instance_profile
    tags = real_get(InstanceProfileName=f"{CLUSTER}_123")["InstanceProfile"]["Tags"]

    def get_without_tags(**kwargs: Any) -> dict[str, Any]:
        response = real_get(**kwargs)
        response["InstanceProfile"].pop("Tags", None)
        return response

    paginator = mock.Mock()
    paginator.paginate.return_value = [{"Tags": tags}]
    with (
        mock.patch.object(aws["iam"], "get_instance_profile", side_effect=get_without_tags),
        mock.patch.object(aws["iam"], "get_paginator", wraps=aws["iam"].get_paginator) as get_paginator,
    ):
        get_paginator.side_effect = lambda name: (
            paginator
            if name == "list_instance_profile_tags"
            else aws["iam"].__class__.get_paginator(aws["iam"], name)
        )
        report = _run(aws)
    assert report.deleted_instance_profiles == [f"{CLUSTER}_123"]
    paginator.paginate.assert_called_once_with(InstanceProfileName=f"{CLUSTER}_123")


def test_is_idempotent(aws: dict[str, Any]) -> None:
    _launch(aws, _karpenter_tags(CLUSTER))
    _template(aws, "karpenter.k8s.aws/1111", _karpenter_tags(CLUSTER))
    _profile(aws, f"{CLUSTER}_123", CLUSTER)
    first = _run(aws)
    second = _run(aws)
    assert (
        first.summary() == "terminated 1 instance(s), deleted 1 launch template(s) and 1 instance profile(s)"
    )
    assert (
        second.summary() == "terminated 0 instance(s), deleted 0 launch template(s) and 0 instance profile(s)"
    )


def test_fails_when_instances_outlive_the_deadline(aws: dict[str, Any]) -> None:
    stuck = _launch(aws, _karpenter_tags(CLUSTER))
    now = [0.0]

    def clock() -> float:
        return now[0]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    # Termination is requested but the instance never leaves `running` (as with a stuck API).
    with (
        mock.patch.object(aws["ec2"], "terminate_instances", return_value={}),
        pytest.raises(CleanupError, match=f"still not terminated at the deadline: {stuck[0]}"),
    ):
        cleanup(
            CLUSTER,
            region=REGION,
            deadline=60.0,
            ec2=aws["ec2"],
            iam=aws["iam"],
            poll_seconds=10,
            clock=clock,
            sleep=sleep,
        )
    assert now[0] <= 60.0


def test_fails_when_the_cluster_name_is_empty(aws: dict[str, Any]) -> None:
    with pytest.raises(CleanupError, match="ClusterName is empty"):
        cleanup("", region=REGION, deadline=1e12, ec2=aws["ec2"], iam=aws["iam"])


class _Context:
    def __init__(self, remaining_ms: int) -> None:
        self.remaining_ms = remaining_ms

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


def _event(request_type: str) -> dict[str, Any]:
    return {
        "RequestType": request_type,
        "ResponseURL": "https://cloudformation-custom-resource-response.example/signed",
        "StackId": "arn:aws:cloudformation:ap-northeast-1:111122223333:stack/Eks/guid",
        "RequestId": "req-1",
        "LogicalResourceId": "KarpenterCleanup",
        "ResourceType": "Custom::KarpenterCleanup",
        "ResourceProperties": {"ServiceToken": "arn", "ClusterName": CLUSTER},
    }


def test_handler_answers_create_without_touching_anything(aws: dict[str, Any]) -> None:
    ours = _launch(aws, _karpenter_tags(CLUSTER))
    with mock.patch.object(handler_module, "_send") as send:
        handler(_event("Create"), _Context(600_000))
    send.assert_called_once()
    _, status, _, physical_id = send.call_args.args
    assert (status, physical_id) == ("SUCCESS", f"karpenter-cleanup-{CLUSTER}")
    assert _states(aws, ours)[ours[0]] == "running"


def test_handler_cleans_up_on_delete_and_reports_success(aws: dict[str, Any]) -> None:
    ours = _launch(aws, _karpenter_tags(CLUSTER))
    event = {**_event("Delete"), "PhysicalResourceId": f"karpenter-cleanup-{CLUSTER}"}
    with mock.patch.object(handler_module, "_send") as send, mock.patch.object(handler_module.time, "sleep"):
        handler(event, _Context(600_000))
    _, status, reason, _ = send.call_args.args
    assert status == "SUCCESS"
    assert reason.startswith("terminated 1 instance(s)")
    assert _states(aws, ours)[ours[0]] == "terminated"


def test_handler_reports_a_clear_failure(aws: dict[str, Any]) -> None:
    event = {**_event("Delete"), "PhysicalResourceId": f"karpenter-cleanup-{CLUSTER}"}
    with (
        mock.patch.object(handler_module, "_send") as send,
        mock.patch.object(
            handler_module, "cleanup", side_effect=CleanupError("instances still running: i-1")
        ),
    ):
        handler(event, _Context(600_000))
    _, status, reason, _ = send.call_args.args
    assert status == "FAILED"
    assert reason == f"karpenter cleanup for cluster {CLUSTER}: instances still running: i-1"


def test_handler_sends_the_response_cloudformation_expects(aws: dict[str, Any]) -> None:
    with mock.patch.object(handler_module.urllib.request, "urlopen") as urlopen:
        urlopen.return_value.__enter__.return_value.status = 200
        handler(_event("Create"), _Context(600_000))
    request = urlopen.call_args.args[0]
    assert request.get_method() == "PUT"
    assert request.full_url == _event("Create")["ResponseURL"]
    body = json.loads(request.data)
    assert body["Status"] == "SUCCESS"
    assert body["RequestId"] == "req-1"
    assert body["LogicalResourceId"] == "KarpenterCleanup"
