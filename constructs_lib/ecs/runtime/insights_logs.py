"""Keeps Container Insights' performance log group of one ECS cluster under its stack's control.

Container Insights writes performance events to the fixed name
`/aws/ecs/containerinsights/<cluster>/performance` and creates that group itself when it is
missing; events of tasks that stop while the stack is deleted can arrive after CloudFormation
deleted the stack's group. The shared `log_group_guard` does the work (see its docstring). On
Create, a group of an active cluster of that name is left alone rather than refused: that is the
case when the guard is added to a stack deployed before it (its own cluster), and a foreign
cluster's group makes the stack's own group fail with "already exists" anyway.
"""

from __future__ import annotations

import logging
from typing import Any

import log_group_guard

logger = logging.getLogger()
logger.setLevel(logging.INFO)


def log_group_name(cluster_name: str) -> str:
    """The name Container Insights writes performance events to (fixed by ECS, not configurable)."""
    return f"/aws/ecs/containerinsights/{cluster_name}/performance"


def cluster_is_active(ecs: Any, cluster_name: str) -> bool:
    """True unless the cluster is missing or INACTIVE (ECS keeps deleted clusters INACTIVE a while)."""
    clusters = ecs.describe_clusters(clusters=[cluster_name]).get("clusters", [])
    return any(cluster.get("status") != "INACTIVE" for cluster in clusters)


# The shared guard, declared for this unit's group as the EKS unit declares it for the control plane.
GUARDED = log_group_guard.Guarded(
    service="ecs",
    owner="ECS cluster",
    log_group_name=log_group_name,
    is_live=cluster_is_active,
    id_prefix="ecs-insights-logs",
)
# The CloudFormation custom resource entry point: answers every request, SUCCESS or one-line FAILED.
handler = GUARDED.lambda_handler
