"""ElastiCache Serverless for Valkey in isolated subnets, with usage limits that cap the bill.

Slide 28 of the talk: the private cache that App Runner and ECS Express Mode reach through the
customer's VPC. aws-cdk-lib 2.275 has only the L1 `CfnServerlessCache`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_elasticache as elasticache
from aws_cdk import aws_kms as kms
from constructs import Construct

from .._shared.names import physical_name
from .._shared.resources import rotating_key
from .._shared.security_groups import closed_security_group, ingress_from
from .._shared.subnets import subnet_ids

# Usage limits ElastiCache Serverless accepts: 1 to 5,000 GB of data, 1,000 to 15,000,000 ECPU/s
# (https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/Scaling.html, and the bounds aws-cdk's
# elasticache-alpha `CacheUsageLimitsProperty` documents).
DATA_STORAGE_GB = (1, 5000)
ECPU_PER_SECOND = (1000, 15_000_000)
VALKEY_MAJOR_VERSIONS = ("7", "8")
# The primary endpoint serves reads and writes on 6379; the reader endpoint serves reads on 6380:
# https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/set-up.html
PRIMARY_PORT, READER_PORT = 6379, 6380


def check_usage_limits(max_data_storage_gb: int, max_ecpu_per_second: int, *, prefix: str = "") -> None:
    """Raise ValueError (one line naming `<prefix><setting>` and its value) for limits the service refuses."""
    for name, value, (low, high) in (
        ("max_data_storage_gb", max_data_storage_gb, DATA_STORAGE_GB),
        ("max_ecpu_per_second", max_ecpu_per_second, ECPU_PER_SECOND),
    ):
        if not low <= value <= high:
            raise ValueError(f"{prefix}{name} must be between {low} and {high}, got {value}")


@dataclass(frozen=True)
class ServerlessValkeyProps:
    """Settings of a `ServerlessValkey`."""

    major_engine_version: str = "8"
    # Ceilings, not reservations: the cache bills what it stores and processes, up to these.
    max_data_storage_gb: int = 1
    max_ecpu_per_second: int = 5000
    # None creates a rotating key (at rest; TLS in transit is always on for serverless caches).
    encryption_key: kms.IKey | None = None
    # Daily snapshots kept this many days; 0 takes none (a sandbox).
    snapshot_retention_days: int = 0
    # DESTROY: the cache goes with the stack. RETAIN: it stays (serverless caches have no
    # deletion protection property, so this is the production guard).
    removal_policy: cdk.RemovalPolicy = cdk.RemovalPolicy.DESTROY
    # None: a name made from the construct path (CloudFormation requires one).
    cache_name: str | None = None


class ServerlessValkey(Construct):
    """A Valkey serverless cache, TLS only, reachable only from groups given to `admit`.

    Access is controlled by the security group (no user group): only the front ends' groups
    reach ports 6379 and 6380, over TLS.

    Attributes: `cache`, `security_group`, `key`, `endpoint` and `reader_endpoint` (host:port).
    """

    # ServerlessPostgres's signature, on purpose: both stores take the VPC, props and subnets alike.
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        vpc: ec2.IVpc,
        props: ServerlessValkeyProps | None = None,
        vpc_subnets: ec2.SubnetSelection | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        props = props or ServerlessValkeyProps()
        check_usage_limits(props.max_data_storage_gb, props.max_ecpu_per_second)
        if props.major_engine_version not in VALKEY_MAJOR_VERSIONS:
            raise ValueError(
                f"major_engine_version must be one of {', '.join(VALKEY_MAJOR_VERSIONS)}, "
                f"got {props.major_engine_version!r}"
            )
        if not 0 <= props.snapshot_retention_days <= 35:
            raise ValueError(
                f"snapshot_retention_days must be between 0 and 35, got {props.snapshot_retention_days}"
            )
        name = props.cache_name or _cache_name(physical_name(self, max_length=40))
        if not re.fullmatch(r"[a-z][a-z0-9-]{0,39}", name):
            raise ValueError(f"cache_name must be 1 to 40 lowercase letters, digits or '-', got {name!r}")

        self.key = props.encryption_key or rotating_key(
            self,
            "Key",
            description="Encrypts the Valkey serverless cache at rest",
            removal_policy=props.removal_policy,
        )
        self.security_group = closed_security_group(
            self, vpc, description="Valkey serverless: admits only the front ends given to admit()"
        )
        self.cache = elasticache.CfnServerlessCache(
            self,
            "Resource",
            engine="valkey",
            serverless_cache_name=name,
            description="Valkey for the web front ends (App Runner, ECS Express Mode)",
            major_engine_version=props.major_engine_version,
            cache_usage_limits=elasticache.CfnServerlessCache.CacheUsageLimitsProperty(
                data_storage=elasticache.CfnServerlessCache.DataStorageProperty(
                    maximum=props.max_data_storage_gb, unit="GB"
                ),
                ecpu_per_second=elasticache.CfnServerlessCache.ECPUPerSecondProperty(
                    maximum=props.max_ecpu_per_second
                ),
            ),
            kms_key_id=self.key.key_arn,
            security_group_ids=[self.security_group.security_group_id],
            subnet_ids=subnet_ids(
                vpc, vpc_subnets or ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)
            ),
            snapshot_retention_limit=props.snapshot_retention_days or None,
        )
        self.cache.apply_removal_policy(props.removal_policy)
        self.endpoint = f"{self.cache.attr_endpoint_address}:{self.cache.attr_endpoint_port}"
        self.reader_endpoint = (
            f"{self.cache.attr_reader_endpoint_address}:{self.cache.attr_reader_endpoint_port}"
        )

    def admit(
        self, scope: Construct, construct_id: str, *, peer: ec2.ISecurityGroup, description: str
    ) -> None:
        """Let `peer` reach the primary (6379) and reader (6380) endpoints; rules created in `scope`.

        Give the front end's own stack as `scope` (see `ServerlessPostgres.admit`).
        """
        holder = Construct(scope, construct_id)
        for port in (PRIMARY_PORT, READER_PORT):
            ingress_from(
                holder,
                f"Port{port}",
                group=self.security_group,
                peer=peer,
                port=port,
                description=f"{description} ({port})",
            )


def _cache_name(name: str) -> str:
    cleaned = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:40].rstrip("-")
    return cleaned if cleaned[:1].isalpha() else f"c{cleaned}"[:40]
