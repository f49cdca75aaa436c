"""What `Karpenter` requires of the cluster it is added to, checked at synth rather than at deploy.

Both mistakes pass CloudFormation and fail late: an EKS Auto Mode cluster (the `aws_eks_v2.Cluster`
default) already runs AWS's own Karpenter, so a second one would fight it over the same pods; and a
controller whose node selector matches no node group waits out Helm's ten minutes, Pending.
"""

from __future__ import annotations

from collections.abc import Mapping

import aws_cdk as cdk
from aws_cdk import aws_eks_v2 as eks


def check_not_auto_mode(cluster: eks.Cluster) -> None:
    """Raise if the cluster has EKS Auto Mode's compute turned on."""
    cfn = cluster.node.default_child
    compute = getattr(cfn, "compute_config", None)
    if getattr(compute, "enabled", None) is True:
        raise ValueError(
            "cluster must not use EKS Auto Mode, which runs its own Karpenter (create it with "
            "default_capacity_type=DefaultCapacityType.NODEGROUP), got compute_config.enabled=True"
        )


def check_controller_nodes(cluster: eks.Cluster, node_selector: Mapping[str, str]) -> None:
    """Raise unless a managed node group of `cluster`, added before Karpenter, carries `node_selector`.

    A node group whose labels are only known at deploy time (a token) is given the benefit of the
    doubt.
    """
    wanted = dict(node_selector)
    found: list[dict[str, str]] = []
    for construct in cdk.Stack.of(cluster).node.find_all():
        if not isinstance(construct, eks.CfnNodegroup) or construct.cluster_name != cluster.cluster_name:
            continue
        labels = construct.labels
        if labels is None:
            found.append({})
            continue
        if cdk.Token.is_unresolved(labels) or not isinstance(labels, Mapping):
            return
        if all(labels.get(key) == value for key, value in wanted.items()):
            return
        found.append(dict(labels))
    raise ValueError(
        "controller_node_selector must match the labels of a managed node group of the cluster "
        f"added before Karpenter (the controller runs there), got {wanted} with node groups labelled {found}"
    )
