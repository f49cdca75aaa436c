"""The ids of the subnets a `SubnetSelection` picks, for L1 resources that take subnet ids.

An L2 construct takes an `ec2.SubnetSelection` itself; an L1 resource (a serverless cache, an App
Runner VPC connector, an Express Mode service) takes subnet ids, and in Python `IVpc.select_subnets`
takes the selection's fields as keywords rather than the selection.
"""

from __future__ import annotations

from aws_cdk import aws_ec2 as ec2

# Every field of `ec2.SubnetSelection` (aws-cdk-lib 2.275), each a keyword of `select_subnets`.
SELECTION_FIELDS = (
    "availability_zones",
    "one_per_az",
    "subnet_filters",
    "subnet_group_name",
    "subnet_type",
    "subnets",
)


def subnet_ids(vpc: ec2.IVpc, selection: ec2.SubnetSelection) -> list[str]:
    """The ids of the subnets of `vpc` that `selection` picks."""
    return vpc.select_subnets(**{name: getattr(selection, name) for name in SELECTION_FIELDS}).subnet_ids
