"""Keeps the EKS control-plane log group `/aws/eks/<cluster>/cluster` under the stack's control.

EKS writes control-plane logs to that fixed name and, through its service-linked role, re-creates
the group when it is missing, with no retention, also while the cluster is being deleted (a deny
on the cluster role does not help, as the service-linked role writes:
terraform-aws-modules/terraform-aws-eks issue #2446). The shared `log_group_guard` does the work
(see its docstring). On Create, a cluster of that name that already exists fails the request: the
group is then that cluster's, not stale, and the stack's own group could not be created anyway.
"""

from __future__ import annotations

import logging
from typing import Any

import log_group_guard

logger = logging.getLogger()
logger.setLevel(logging.INFO)


def log_group_name(cluster_name: str) -> str:
    """The name EKS writes control-plane logs to (fixed by EKS, not configurable)."""
    return f"/aws/eks/{cluster_name}/cluster"


def cluster_exists(eks: Any, cluster_name: str) -> bool:
    return log_group_guard.found(lambda: eks.describe_cluster(name=cluster_name))


# The shared guard, declared for this unit's group as the ECS unit declares it for Container Insights.
GUARDED = log_group_guard.Guarded(
    service="eks",
    owner="EKS cluster",
    log_group_name=log_group_name,
    is_live=cluster_exists,
    id_prefix="eks-control-plane-logs",
    refuse_in_use=True,
)
# The CloudFormation custom resource entry point: answers every request, SUCCESS or one-line FAILED.
handler = GUARDED.lambda_handler
