"""`make verify` for EcsFargate: the Graviton service steady on arm64, its Spot share and its URL."""

from __future__ import annotations

from collections.abc import Iterator

from ops.report import Result, failed, passed, skipped, warned
from ops.verify import DeployedStack, checks_for, reachable


@checks_for("EcsFargate")
def fargate_services(stack: DeployedStack) -> Iterator[Result]:
    clusters = stack.physical_ids("AWS::ECS::Cluster")
    services = stack.physical_ids("AWS::ECS::Service")
    if not clusters or not services:
        yield failed(stack.name("ECS services"), "none in the stack", "redeploy EcsFargate")
        return
    yield from services_steady(stack, clusters[0], services, graviton=True)


def services_steady(
    stack: DeployedStack, cluster: str, services: list[str], *, graviton: bool = False
) -> Iterator[Result]:
    """Each service with tasks is steady (all running, one completed deployment), with its tasks' evidence."""
    if not services:
        return
    ecs = stack.client("ecs")
    for service in ecs.describe_services(cluster=cluster, services=services)["services"]:
        label = service["serviceName"]
        name = stack.name(f"service {label}")
        if service["desiredCount"] == 0:
            yield skipped(name, "desired count 0")
            continue
        rollout = [d.get("rolloutState", "") for d in service.get("deployments", [])]
        steady = service["runningCount"] == service["desiredCount"] and rollout == ["COMPLETED"]
        counts = f"{service['runningCount']}/{service['desiredCount']} running, deployments {rollout}"
        if steady:
            yield passed(name, f"steady: {counts}")
        else:
            yield warned(name, f"not steady yet: {counts}", "wait, or read the service's events")
        arns = ecs.list_tasks(cluster=cluster, serviceName=label, desiredStatus="RUNNING")["taskArns"]
        if not arns:
            continue
        tasks = ecs.describe_tasks(cluster=cluster, tasks=arns[:100])["tasks"]
        arch = sorted(
            {
                a.get("value", "")
                for t in tasks
                for a in t.get("attributes", [])
                if a["name"] == "ecs.cpu-architecture"
            }
        )
        spot = sum(1 for t in tasks if t.get("capacityProviderName") == "FARGATE_SPOT")
        detail = f"{len(tasks)} tasks on {', '.join(arch) or 'unknown'}; {spot} on FARGATE_SPOT"
        windows = any("windows" in t.get("platformFamily", "").lower() for t in tasks)
        if not graviton or windows:
            yield passed(stack.name(f"{label} tasks"), detail)
        elif arch == ["arm64"]:
            yield passed(stack.name(f"{label} tasks on Graviton"), detail)
        else:
            yield failed(
                stack.name(f"{label} tasks on Graviton"),
                detail,
                "check the task definition's runtimePlatform",
            )


@checks_for("EcsFargate")
def service_url(stack: DeployedStack) -> Iterator[Result]:
    yield from reachable(stack, "ServiceUrl", "ServiceUrl")
