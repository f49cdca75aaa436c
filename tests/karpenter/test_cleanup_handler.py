"""The teardown backstop against moto: the same boto3 calls it makes in a real account.

moto's CloudFormation finishes a stack delete at once, so it never shows DELETE_IN_PROGRESS:
botocore's Stubber answers DescribeStacks for the guard, through a real client that validates the
request and the response against the service model.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from unittest import mock

import boto3
import cfn_response
import pytest
from botocore.stub import Stubber

from constructs_lib.eks.karpenter.runtime import cleanup as handler_module
from constructs_lib.eks.karpenter.runtime.cleanup import CleanupError, cleanup, handler, profile_path
from tests.helpers import LambdaContext, answer_stack_status, cloudformation_event

REGION = "ap-northeast-1"
CLUSTER = "containers-update"
OTHER = "someone-else"
STACK_ID = "arn:aws:cloudformation:ap-northeast-1:111122223333:stack/Eks/guid"


def _karpenter_tags(cluster: str, nodepool: str = "general") -> list[dict[str, str]]:
    return [
        {"Key": f"kubernetes.io/cluster/{cluster}", "Value": "owned"},
        {"Key": "karpenter.sh/nodepool", "Value": nodepool},
        {"Key": "eks:eks-cluster-name", "Value": cluster},
        {"Key": "karpenter.k8s.aws/cluster", "Value": cluster},
    ]


@pytest.fixture
def aws(moto_account: str) -> dict[str, Any]:
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
    aws: dict[str, Any],
    name: str,
    cluster: str,
    region: str = REGION,
    role: str | None = None,
    path: str | None = None,
) -> None:
    aws["iam"].create_instance_profile(
        InstanceProfileName=name,
        # Where Karpenter 1.14 puts them: /karpenter/<region>/<cluster>/<EC2NodeClass uid>/.
        Path=path or f"{profile_path(cluster, region)}0f1e2d3c-uid/",
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
        out_of_time=kwargs.pop("out_of_time", lambda: False),
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
    # Tagged like ours, but not where Karpenter creates profiles: not Karpenter's.
    _profile(aws, "lookalike", CLUSTER, path="/")

    report = _run(aws)

    assert report.deleted_instance_profiles == [f"{CLUSTER}_123"]
    left = {p["InstanceProfileName"] for p in aws["iam"].list_instance_profiles()["InstanceProfiles"]}
    assert left == {f"{OTHER}_456", f"{CLUSTER}_789", "unrelated", "lookalike"}
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


def test_lists_instance_profiles_by_the_clusters_path_only(aws: dict[str, Any]) -> None:
    real = aws["iam"].get_paginator("list_instance_profiles")
    with (
        mock.patch.object(aws["iam"], "get_paginator", return_value=real),
        mock.patch.object(real, "paginate", wraps=real.paginate) as paginate,
    ):
        handler_module.delete_instance_profiles(aws["iam"], CLUSTER, REGION, out_of_time=lambda: False)
    paginate.assert_called_once_with(PathPrefix=f"/karpenter/{REGION}/{CLUSTER}/")


def test_fails_when_instances_outlive_the_deadline(aws: dict[str, Any]) -> None:
    stuck = _launch(aws, _karpenter_tags(CLUSTER))
    checks = iter([False, False, True])  # time runs out on the third check, while waiting
    sleeps: list[float] = []
    # Termination is requested but the instance never leaves `running` (as with a stuck API).
    with (
        mock.patch.object(aws["ec2"], "terminate_instances", return_value={}),
        pytest.raises(CleanupError, match=f"still not terminated when time ran out: {stuck[0]}"),
    ):
        _run(aws, out_of_time=lambda: next(checks), sleep=sleeps.append)
    assert len(sleeps) == 1


def test_stops_between_instance_profiles_when_time_runs_out(aws: dict[str, Any]) -> None:
    for i in range(3):
        _profile(aws, f"{CLUSTER}_{i}", CLUSTER)
    checks = iter([False, True])
    with pytest.raises(CleanupError, match=r"instance profiles of cluster .* left when time ran out"):
        handler_module.delete_instance_profiles(aws["iam"], CLUSTER, REGION, out_of_time=lambda: next(checks))
    left = aws["iam"].list_instance_profiles()["InstanceProfiles"]
    assert len(left) == 2


def test_stops_between_launch_templates_when_time_runs_out(aws: dict[str, Any]) -> None:
    for i in range(2):
        _template(aws, f"karpenter.k8s.aws/{i}", _karpenter_tags(CLUSTER))
    with pytest.raises(CleanupError, match=r"launch templates of cluster .* left when time ran out"):
        handler_module.delete_launch_templates(aws["ec2"], CLUSTER, out_of_time=lambda: True)
    assert len(aws["ec2"].describe_launch_templates()["LaunchTemplates"]) == 2


def test_fails_when_the_cluster_name_is_empty(aws: dict[str, Any]) -> None:
    with pytest.raises(CleanupError, match="ClusterName is empty"):
        cleanup("", region=REGION, out_of_time=lambda: False, ec2=aws["ec2"], iam=aws["iam"])


def _event(request_type: str) -> dict[str, Any]:
    properties = {"ClusterName": CLUSTER}
    return cloudformation_event(
        request_type, stack_id=STACK_ID, logical_id="KarpenterCleanup", properties=properties
    )


@pytest.fixture
def stack_status(aws: dict[str, Any]) -> Iterator[Any]:
    """Answers the guard's DescribeStacks with the status a test sets (see `answer_stack_status`)."""
    cloudformation = boto3.client("cloudformation", region_name=REGION)
    # The guard makes its own client; EC2 and IAM are the moto clients of the test's account.
    clients = {"cloudformation": cloudformation, "ec2": aws["ec2"], "iam": aws["iam"]}
    with (
        Stubber(cloudformation) as stubber,
        mock.patch.object(boto3, "client", side_effect=lambda service, **_: clients[service]),
    ):
        yield lambda status: answer_stack_status(stubber, STACK_ID, status)


def _handle(event: dict[str, Any]) -> tuple[str, str, str]:
    with mock.patch.object(cfn_response.urllib.request, "urlopen") as urlopen:
        urlopen.return_value.__enter__.return_value.status = 200
        handler(event, LambdaContext(600_000))
    body = json.loads(urlopen.call_args.args[0].data)
    return body["Status"], body["Reason"], body["PhysicalResourceId"]


def test_handler_answers_create_without_touching_anything(aws: dict[str, Any]) -> None:
    ours = _launch(aws, _karpenter_tags(CLUSTER))
    status, _, physical_id = _handle(_event("Create"))
    assert (status, physical_id) == ("SUCCESS", "KarpenterCleanup-r1")
    assert _states(aws, ours)[ours[0]] == "running"


@pytest.mark.parametrize("torn_down", ["DELETE_IN_PROGRESS", "ROLLBACK_IN_PROGRESS"])
def test_handler_cleans_up_when_the_stack_is_deleted_or_rolled_back(
    aws: dict[str, Any], stack_status: Any, torn_down: str
) -> None:
    ours = _launch(aws, _karpenter_tags(CLUSTER))
    stack_status(torn_down)
    with mock.patch.object(handler_module.time, "sleep"):
        status, reason, physical_id = _handle({**_event("Delete"), "PhysicalResourceId": "cleanup-1"})
    assert (status, physical_id) == ("SUCCESS", "cleanup-1")
    assert reason.startswith("terminated 1 instance(s)")
    assert _states(aws, ours)[ours[0]] == "terminated"


# Laid out like the test above on purpose: the same Delete, under the statuses where it must not act.
@pytest.mark.parametrize("live", ["UPDATE_COMPLETE", "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS"])
def test_handler_deletes_nothing_when_an_update_removes_the_resource(
    aws: dict[str, Any], stack_status: Any, live: str
) -> None:
    ours = _launch(aws, _karpenter_tags(CLUSTER))
    _template(aws, "karpenter.k8s.aws/1111", _karpenter_tags(CLUSTER))
    _profile(aws, f"{CLUSTER}_123", CLUSTER)
    stack_status(live)
    status, reason, _ = _handle({**_event("Delete"), "PhysicalResourceId": "cleanup-1"})
    assert status == "SUCCESS"
    assert "not being deleted or rolled back" in reason
    assert _states(aws, ours)[ours[0]] == "running"
    assert len(aws["ec2"].describe_launch_templates()["LaunchTemplates"]) == 1
    assert len(aws["iam"].list_instance_profiles()["InstanceProfiles"]) == 1


def test_handler_deletes_nothing_when_the_stack_status_is_unreadable(aws: dict[str, Any]) -> None:
    ours = _launch(aws, _karpenter_tags(CLUSTER))
    cloudformation = boto3.client("cloudformation", region_name=REGION)
    with Stubber(cloudformation) as stubber:
        stubber.add_client_error("describe_stacks", service_error_code="Throttling", http_status_code=400)
        assert not cfn_response.stack_is_being_torn_down(_event("Delete"), cloudformation)
    with mock.patch.object(cfn_response, "stack_is_being_torn_down", return_value=False):
        status, _, _ = _handle({**_event("Delete"), "PhysicalResourceId": "cleanup-1"})
    assert status == "SUCCESS"
    assert _states(aws, ours)[ours[0]] == "running"


def test_handler_reports_a_clear_failure(aws: dict[str, Any]) -> None:
    with (
        mock.patch.object(cfn_response, "stack_is_being_torn_down", return_value=True),
        mock.patch.object(
            handler_module, "cleanup", side_effect=CleanupError("instances still running: i-1")
        ),
    ):
        status, reason, _ = _handle({**_event("Delete"), "PhysicalResourceId": "cleanup-1"})
    assert status == "FAILED"
    assert reason == f"karpenter cleanup for cluster {CLUSTER}: instances still running: i-1"
