"""The Load Balancer Controller teardown backstop: its handler against moto, and its template wiring.

moto's CloudFormation finishes a stack delete at once, so it never shows DELETE_IN_PROGRESS:
botocore's Stubber answers DescribeStacks instead, through a real client that validates the
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
from botocore.exceptions import ClientError
from botocore.stub import Stubber
from moto import mock_aws

from constructs_lib.eks.runtime import load_balancer_cleanup as handler_module
from tests.eks.conftest import EksSynth
from tests.helpers import answer_stack_status, cloudformation_event, logical_id

REGION = "ap-northeast-1"
STACK_ID = "arn:aws:cloudformation:ap-northeast-1:123456789012:stack/Eks/0b1c2d3e"
MARGIN_SECONDS = cfn_response.MARGIN_MS / 1000
CLUSTER = "containers-update"
OTHER = "another-cluster"
TAG = "elbv2.k8s.aws/cluster"


class FakeClock:
    def __init__(self) -> None:
        self.time = 1000.0
        self.slept = 0.0

    def now(self) -> float:
        return self.time

    def sleep(self, seconds: float) -> None:
        self.time += seconds
        self.slept += seconds


def _controller_resources(
    ec2: Any, elbv2: Any, vpc_id: str, subnets: list[str], cluster: str
) -> dict[str, Any]:
    """What the controller makes for one Ingress: SGs, an ALB, a target group, a listener, a rule."""
    tags = [{"Key": TAG, "Value": cluster}]
    spec = [{"ResourceType": "security-group", "Tags": tags}]
    frontend = ec2.create_security_group(
        GroupName=f"k8s-web-{cluster}", Description="frontend", VpcId=vpc_id, TagSpecifications=spec
    )["GroupId"]
    backend = ec2.create_security_group(
        GroupName=f"k8s-traffic-{cluster}", Description="backend", VpcId=vpc_id, TagSpecifications=spec
    )["GroupId"]
    lb = elbv2.create_load_balancer(
        Name=f"k8s-web-{cluster}"[:32], Subnets=subnets, SecurityGroups=[frontend, backend], Tags=tags
    )["LoadBalancers"][0]["LoadBalancerArn"]
    tg = elbv2.create_target_group(
        Name=f"k8s-tg-{cluster}"[:32], Protocol="HTTP", Port=80, VpcId=vpc_id, TargetType="ip", Tags=tags
    )["TargetGroups"][0]["TargetGroupArn"]
    elbv2.create_listener(
        LoadBalancerArn=lb,
        Protocol="HTTP",
        Port=80,
        DefaultActions=[{"Type": "forward", "TargetGroupArn": tg}],
    )
    return {"lb": lb, "tg": tg, "sgs": {frontend, backend}, "backend": backend}


@pytest.fixture
def aws() -> Iterator[dict[str, Any]]:
    with mock_aws():
        ec2 = boto3.client("ec2", region_name=REGION)
        elbv2 = boto3.client("elbv2", region_name=REGION)
        vpc_id = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        subnets = [
            ec2.create_subnet(VpcId=vpc_id, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=f"{REGION}{az}")[
                "Subnet"
            ]["SubnetId"]
            for i, az in enumerate("ac")
        ]
        # The node (cluster) security group, which the controller opens to its backend group.
        node_sg = ec2.create_security_group(GroupName="eks-cluster-sg", Description="nodes", VpcId=vpc_id)[
            "GroupId"
        ]
        ours = _controller_resources(ec2, elbv2, vpc_id, subnets, CLUSTER)
        theirs = _controller_resources(ec2, elbv2, vpc_id, subnets, OTHER)
        for backend in (ours["backend"], theirs["backend"]):
            ec2.authorize_security_group_ingress(
                GroupId=node_sg,
                IpPermissions=[
                    {
                        "IpProtocol": "tcp",
                        "FromPort": 80,
                        "ToPort": 80,
                        "UserIdGroupPairs": [{"GroupId": backend}],
                    }
                ],
            )
        cloudformation = boto3.client("cloudformation", region_name=REGION)
        with Stubber(cloudformation) as stubber:
            clients = {"ec2": ec2, "elbv2": elbv2, "cloudformation": cloudformation}
            with mock.patch.object(handler_module, "client", side_effect=lambda s, r: clients[s]):
                yield {
                    "vpc_id": vpc_id,
                    "ec2": ec2,
                    "elbv2": elbv2,
                    "stubber": stubber,
                    "clients": clients,
                    "ours": ours,
                    "theirs": theirs,
                    "node_sg": node_sg,
                }


def stack_status(stubber: Stubber, status: str) -> None:
    answer_stack_status(stubber, STACK_ID, status)


def event(request_type: str, vpc_id: str = "vpc-0123456789abcdef0") -> dict[str, Any]:
    return cloudformation_event(
        request_type,
        stack_id=STACK_ID,
        logical_id="LoadBalancerCleanup",
        properties={"ClusterName": CLUSTER, "VpcId": vpc_id},
        PhysicalResourceId=f"load-balancer-controller-cleanup-{CLUSTER}",
    )


def load_balancers(elbv2: Any) -> set[str]:
    return {lb["LoadBalancerArn"] for lb in elbv2.describe_load_balancers()["LoadBalancers"]}


def target_groups(elbv2: Any) -> set[str]:
    return {tg["TargetGroupArn"] for tg in elbv2.describe_target_groups()["TargetGroups"]}


def security_groups(ec2: Any) -> set[str]:
    return {sg["GroupId"] for sg in ec2.describe_security_groups()["SecurityGroups"]}


def referenced_groups(ec2: Any, group_id: str) -> set[str]:
    [group] = ec2.describe_security_groups(GroupIds=[group_id])["SecurityGroups"]
    return {pair["GroupId"] for p in group["IpPermissions"] for pair in p.get("UserIdGroupPairs", [])}


@pytest.mark.parametrize("torn_down", ["DELETE_IN_PROGRESS", "ROLLBACK_IN_PROGRESS"])
def test_deletes_this_clusters_load_balancers_target_groups_and_security_groups_only(
    aws: dict[str, Any], torn_down: str
) -> None:
    # ROLLBACK_IN_PROGRESS: a first deploy that failed deletes the Ingress too, and its ALB with it.
    stack_status(aws["stubber"], torn_down)
    clock = FakeClock()
    status, reason = handler_module.on_delete(
        event("Delete", aws["vpc_id"]),
        remaining_seconds=600,
        clock=handler_module.Clock(clock.now, clock.sleep),
    )
    assert (status, clock.slept) == ("SUCCESS", 0.0), reason
    ours, theirs, ec2, elbv2 = aws["ours"], aws["theirs"], aws["ec2"], aws["elbv2"]
    assert load_balancers(elbv2) == {theirs["lb"]}
    assert target_groups(elbv2) == {theirs["tg"]}
    assert not ours["sgs"] & security_groups(ec2)
    assert theirs["sgs"] <= security_groups(ec2)
    # The node group's rule from our backend group is revoked; the other cluster's stays.
    assert referenced_groups(ec2, aws["node_sg"]) == {theirs["backend"]}
    assert reason.startswith("deleted 4 load balancer resource(s): ")


def test_second_delete_finds_nothing_and_succeeds(aws: dict[str, Any]) -> None:
    for _ in range(2):
        stack_status(aws["stubber"], "DELETE_IN_PROGRESS")
        status, reason = handler_module.on_delete(event("Delete", aws["vpc_id"]), remaining_seconds=600)
        assert status == "SUCCESS", reason
    assert reason == "deleted 0 load balancer resource(s): none"
    assert aws["theirs"]["lb"] in load_balancers(aws["elbv2"])


def test_leaves_groups_tagged_for_the_cluster_in_another_vpc(aws: dict[str, Any]) -> None:
    ec2 = aws["ec2"]
    other_vpc = ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
    spec = [{"ResourceType": "security-group", "Tags": [{"Key": TAG, "Value": CLUSTER}]}]
    elsewhere = ec2.create_security_group(
        GroupName="k8s-elsewhere", Description="x", VpcId=other_vpc, TagSpecifications=spec
    )["GroupId"]
    stack_status(aws["stubber"], "DELETE_IN_PROGRESS")
    status, reason = handler_module.on_delete(event("Delete", aws["vpc_id"]), remaining_seconds=600)
    assert status == "SUCCESS", reason
    assert elsewhere in security_groups(ec2)


@pytest.mark.parametrize(
    "status", ["UPDATE_COMPLETE", "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS", "UPDATE_ROLLBACK_IN_PROGRESS"]
)
def test_delete_during_an_update_deletes_nothing(aws: dict[str, Any], status: str) -> None:
    stack_status(aws["stubber"], status)
    before = load_balancers(aws["elbv2"]), target_groups(aws["elbv2"]), security_groups(aws["ec2"])
    result, reason = handler_module.on_delete(event("Delete", aws["vpc_id"]), remaining_seconds=600)
    assert result == "SUCCESS"
    assert reason.startswith("stack is not being deleted or rolled back")
    assert (load_balancers(aws["elbv2"]), target_groups(aws["elbv2"]), security_groups(aws["ec2"])) == before


def test_deletes_nothing_when_the_stack_status_is_unknown(aws: dict[str, Any]) -> None:
    aws["stubber"].add_client_error("describe_stacks", service_error_code="Throttling", http_status_code=400)
    status, reason = handler_module.on_delete(event("Delete", aws["vpc_id"]), remaining_seconds=600)
    assert status == "SUCCESS"
    assert reason.startswith("stack is not being deleted or rolled back")
    assert aws["ours"]["lb"] in load_balancers(aws["elbv2"])


def _delete_in_stack_delete(aws: dict[str, Any], *, remaining_seconds: float) -> tuple[str, str, FakeClock]:
    """A Delete during a stack delete, on a clock that only the handler's waits move."""
    stack_status(aws["stubber"], "DELETE_IN_PROGRESS")
    clock = FakeClock()
    request = event("Delete", aws["vpc_id"])
    status, reason = handler_module.on_delete(
        request, remaining_seconds=remaining_seconds, clock=handler_module.Clock(clock.now, clock.sleep)
    )
    return status, reason, clock


class _StuckSecurityGroups:
    """The EC2 client, but the load balancers' network interfaces never go away."""

    def __init__(self, ec2: Any) -> None:
        self._ec2 = ec2
        self.attempts = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._ec2, name)

    def delete_security_group(self, **kwargs: Any) -> None:
        self.attempts += 1
        raise ClientError(
            {"Error": {"Code": "DependencyViolation", "Message": "resource has a dependent object"}},
            "DeleteSecurityGroup",
        )


def test_retries_dependency_violation_until_the_deadline_then_fails_naming_the_groups(
    aws: dict[str, Any],
) -> None:
    stuck = _StuckSecurityGroups(aws["ec2"])
    aws["clients"]["ec2"] = stuck
    status, reason, clock = _delete_in_stack_delete(aws, remaining_seconds=300)
    assert status == "FAILED"
    # Stopped before the reserve kept to answer CloudFormation, after retrying all along.
    assert clock.slept >= 300 - MARGIN_SECONDS - handler_module.POLL_SECONDS
    assert clock.slept <= 300 - MARGIN_SECONDS
    assert stuck.attempts > 2 * 20
    assert "\n" not in reason
    for group_id in aws["ours"]["sgs"]:
        assert f"{group_id} (DependencyViolation until the deadline)" in reason
    # The load balancer and target group went anyway.
    assert aws["ours"]["lb"] not in load_balancers(aws["elbv2"])
    assert aws["ours"]["tg"] not in target_groups(aws["elbv2"])


def _answer(request: dict[str, Any]) -> dict[str, Any]:
    """The body the handler PUT to CloudFormation."""
    context = mock.Mock(get_remaining_time_in_millis=lambda: 600_000)
    with mock.patch.object(cfn_response.urllib.request, "urlopen") as urlopen:
        handler_module.handler(request, context)
    [call] = urlopen.call_args_list
    return dict(json.loads(call.args[0].data))


def test_create_and_update_answer_success_without_calling_aws() -> None:
    with mock.patch.object(handler_module, "client") as client:
        created = _answer({**event("Create"), "PhysicalResourceId": None})
        updated = _answer(event("Update"))
    client.assert_not_called()
    assert (created["Status"], created["PhysicalResourceId"]) == ("SUCCESS", "LoadBalancerCleanup-r1")
    assert (updated["Status"], updated["PhysicalResourceId"]) == (
        "SUCCESS",
        f"load-balancer-controller-cleanup-{CLUSTER}",
    )


def test_unexpected_error_is_a_one_line_failure() -> None:
    with mock.patch.object(handler_module, "on_delete", side_effect=RuntimeError("boom\nsecond line")):
        body = _answer(event("Delete"))
    assert (body["Status"], body["Reason"]) == (
        "FAILED",
        "load balancer cleanup: RuntimeError: boom second line",
    )


# --- Template ---------------------------------------------------------------------------------


def _cleanup(synth: EksSynth) -> Any:
    cleanup = synth.stack.cluster.load_balancer_cleanup
    assert cleanup is not None
    return cleanup


def test_controller_chart_is_deleted_before_the_cleanup_and_the_cleanup_before_the_cluster(
    eks_sandbox: EksSynth,
) -> None:
    cleanup = _cleanup(eks_sandbox)
    cluster = eks_sandbox.stack.cluster
    assert cluster.alb_controller is not None
    chart = cluster.alb_controller.node.find_child("Resource")
    cleanup_id = logical_id(cleanup.resource)
    assert cleanup_id in eks_sandbox.depends_on(chart)
    deps = eks_sandbox.depends_on(cleanup.resource)
    for needed in (cluster.cluster, cleanup.policy, cleanup.role, cleanup.log_group):
        assert logical_id(needed) in deps
    resource = eks_sandbox.json["Resources"][cleanup_id]
    assert resource["Type"] == "Custom::LoadBalancerControllerCleanup"
    assert resource["Properties"]["ClusterName"] == cluster.cluster_name == "containers-update-sandbox"
    assert resource["Properties"]["VpcId"] == eks_sandbox.stack.resolve(cluster.cluster.vpc.vpc_id)
    function = eks_sandbox.json["Resources"][logical_id(cleanup.function)]["Properties"]
    assert (function["Timeout"], resource["Properties"]["ServiceTimeout"]) == (600, "720")
    assert resource["Properties"]["ServiceToken"] == {"Fn::GetAtt": [logical_id(cleanup.function), "Arn"]}
    assert function["Handler"] == "load_balancer_cleanup.handler"
    log_group = eks_sandbox.json["Resources"][logical_id(cleanup.log_group)]
    assert log_group["DeletionPolicy"] == "Delete"
    assert log_group["Properties"]["RetentionInDays"] == 7
    assert function["LoggingConfig"]["LogGroup"] == {"Ref": logical_id(cleanup.log_group)}


def test_production_retains_the_cleanup_logs(eks_production: EksSynth) -> None:
    cleanup = _cleanup(eks_production)
    log_group = eks_production.json["Resources"][logical_id(cleanup.log_group)]
    assert log_group["DeletionPolicy"] == "Retain"


def _statements(synth: EksSynth) -> dict[str, dict[str, Any]]:
    policy = synth.json["Resources"][logical_id(_cleanup(synth).policy)]
    return {s["Sid"]: s for s in policy["Properties"]["PolicyDocument"]["Statement"]}


def test_deletes_are_conditioned_on_the_controllers_cluster_tag(eks_sandbox: EksSynth) -> None:
    statements = _statements(eks_sandbox)
    name = eks_sandbox.stack.cluster.cluster_name
    vpc_id = eks_sandbox.stack.resolve(eks_sandbox.stack.cluster.cluster.vpc.vpc_id)
    account = [
        "arn:",
        {"Ref": "AWS::Partition"},
        ":ec2:",
        {"Ref": "AWS::Region"},
        ":",
        {"Ref": "AWS::AccountId"},
    ]
    vpc_arn = {"Fn::Join": ["", [*account, ":vpc/", vpc_id]]}
    assert set(statements) == {
        "DescribeLoadBalancerResources",
        "DeleteClusterLoadBalancersAndTargetGroups",
        "DeleteClusterSecurityGroups",
        "RevokeReferencesInVpc",
        "ReadOwnStack",
    }
    describe = statements["DescribeLoadBalancerResources"]
    assert describe["Resource"] == "*"
    assert all(":Describe" in action for action in describe["Action"])
    elb = statements["DeleteClusterLoadBalancersAndTargetGroups"]
    assert elb["Action"] == [
        "elasticloadbalancing:DeleteLoadBalancer",
        "elasticloadbalancing:DeleteTargetGroup",
    ]
    assert elb["Condition"] == {"StringEquals": {f"aws:ResourceTag/{TAG}": name}}
    sg = statements["DeleteClusterSecurityGroups"]
    assert sg["Action"] == "ec2:DeleteSecurityGroup"
    assert sg["Condition"] == {"StringEquals": {f"aws:ResourceTag/{TAG}": name, "ec2:Vpc": vpc_arn}}
    revoke = statements["RevokeReferencesInVpc"]
    assert revoke["Action"] == "ec2:RevokeSecurityGroupIngress"
    assert revoke["Condition"] == {"StringEquals": {"ec2:Vpc": vpc_arn}}
    assert statements["ReadOwnStack"] == {
        "Sid": "ReadOwnStack",
        "Action": "cloudformation:DescribeStacks",
        "Effect": "Allow",
        "Resource": {"Ref": "AWS::StackId"},
    }


def test_cleanup_role_writes_only_its_own_log_group(eks_sandbox: EksSynth) -> None:
    cleanup = _cleanup(eks_sandbox)
    role = eks_sandbox.json["Resources"][logical_id(cleanup.role)]["Properties"]
    assert "ManagedPolicyArns" not in role


def test_rejects_a_token_cluster_name() -> None:
    import aws_cdk as cdk
    from aws_cdk import aws_ec2 as ec2

    from constructs_lib.eks import LoadBalancerControllerCleanup

    stack = cdk.Stack(cdk.App())
    vpc = ec2.Vpc(stack, "Vpc")
    with pytest.raises(ValueError, match="cluster_name must be a literal cluster name"):
        LoadBalancerControllerCleanup(stack, "Cleanup", cluster_name=cdk.Aws.STACK_NAME, vpc=vpc)


class _SlowLoadBalancers:
    """The ELBv2 client, but a deleted load balancer never disappears."""

    def __init__(self, elbv2: Any) -> None:
        self._elbv2 = elbv2

    def __getattr__(self, name: str) -> Any:
        return getattr(self._elbv2, name)

    def delete_load_balancer(self, **kwargs: Any) -> None:
        return None


def test_waits_for_load_balancers_only_until_the_deadline(aws: dict[str, Any]) -> None:
    aws["clients"]["elbv2"] = _SlowLoadBalancers(aws["elbv2"])
    status, reason, clock = _delete_in_stack_delete(aws, remaining_seconds=120)
    assert status == "FAILED"
    assert clock.slept <= 120 - MARGIN_SECONDS
    assert f"{aws['ours']['lb']} (still deleting at the deadline)" in reason
    assert aws["theirs"]["lb"] not in reason
