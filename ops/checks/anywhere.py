"""`make verify` for EcsAnywhere: external instances registered and connected, the services steady."""

from __future__ import annotations

from collections.abc import Iterator

from ops.checks.ecs import services_steady
from ops.report import Result, failed, passed, warned
from ops.verify import DeployedStack, checks_for


@checks_for("EcsAnywhere")
def external_instances(stack: DeployedStack) -> Iterator[Result]:
    cluster = stack.outputs.get("ClusterName", "")
    ecs = stack.client("ecs")
    arns = ecs.list_container_instances(cluster=cluster)["containerInstanceArns"]
    name = stack.name(f"external instances in {cluster}")
    if not arns:
        yield warned(name, "none registered yet", "run the LinuxInstallCommand output on a host")
        return
    instances = ecs.describe_container_instances(cluster=cluster, containerInstances=arns)[
        "containerInstances"
    ]
    connected = [i for i in instances if i.get("agentConnected") and i.get("status") == "ACTIVE"]
    # External instances are SSM managed instances: their ids start with `mi-`.
    described = ", ".join(f"{i.get('ec2InstanceId', '?')} ({i.get('status')})" for i in instances)
    if connected:
        yield passed(name, f"{len(connected)} of {len(instances)} connected: {described}")
    else:
        yield failed(
            name, f"no agent connected: {described}", "check the ECS agent on the host (journalctl -u ecs)"
        )


@checks_for("EcsAnywhere")
def external_services(stack: DeployedStack) -> Iterator[Result]:
    yield from services_steady(
        stack, stack.outputs.get("ClusterName", ""), stack.physical_ids("AWS::ECS::Service")
    )
