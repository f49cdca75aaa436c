"""Aurora Serverless v2 PostgreSQL in isolated subnets, paused at 0 ACU while nobody uses it.

Slide 28 of the talk: the private database that App Runner (through its VPC connector) and ECS
Express Mode reach inside the customer's VPC.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_rds as rds
from constructs import Construct

from .._shared.log_key import admit_group
from .._shared.nag import acknowledge
from .._shared.names import physical_name
from .._shared.resources import log_group, rotating_key
from .._shared.security_groups import closed_security_group, ingress_from

# Aurora PostgreSQL releases this construct offers (aws-cdk-lib 2.275 knows them all).
AURORA_POSTGRES_VERSIONS: dict[str, rds.AuroraPostgresEngineVersion] = {
    "15.4": rds.AuroraPostgresEngineVersion.VER_15_4,
    "15.10": rds.AuroraPostgresEngineVersion.VER_15_10,
    "16.1": rds.AuroraPostgresEngineVersion.VER_16_1,
    "16.6": rds.AuroraPostgresEngineVersion.VER_16_6,
    "17.5": rds.AuroraPostgresEngineVersion.VER_17_5,
    "17.9": rds.AuroraPostgresEngineVersion.VER_17_9,
}
# Scaling to 0 ACU with auto-pause needs Aurora PostgreSQL 16.3+, 15.7+, 14.12+ or 13.15+:
# https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/aurora-serverless-v2-auto-pause.html
# (aws-cdk-lib checks the same rule at synth: `ServerlessV2AutoPauseNotSupported`).
_AUTO_PAUSE_FROM = {13: 15, 14: 12, 15: 7, 16: 3}
MAX_ACU = 256.0
POSTGRES_PORT = 5432


def supports_auto_pause(version: str) -> bool:
    """Whether Aurora PostgreSQL `version` (major.minor) can scale to 0 ACU and pause."""
    major, minor = (int(part) for part in version.split(".")[:2])
    return major > 16 or minor >= _AUTO_PAUSE_FROM.get(major, 10**6)


def check_capacity(version: str, min_capacity: float, max_capacity: float, *, prefix: str = "") -> None:
    """Raise ValueError (one line naming `<prefix><setting>` and its value) for a range Aurora refuses."""
    if version not in AURORA_POSTGRES_VERSIONS:
        raise ValueError(
            f"{prefix}engine_version must be one of {', '.join(AURORA_POSTGRES_VERSIONS)}, got {version!r}"
        )
    for name, value in (("min_capacity", min_capacity), ("max_capacity", max_capacity)):
        # ACUs come in steps of 0.5 between 0 and 256:
        # https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/aurora-serverless-v2.setting-capacity.html
        if not 0 <= value <= MAX_ACU or (value * 2) % 1:
            raise ValueError(f"{prefix}{name} must be a multiple of 0.5 from 0 to {MAX_ACU:g}, got {value:g}")
    if max_capacity < max(min_capacity, 1):
        raise ValueError(
            f"{prefix}max_capacity must be at least 1 and at least min_capacity ({min_capacity:g}), "
            f"got {max_capacity:g}"
        )
    if min_capacity == 0 and not supports_auto_pause(version):
        raise ValueError(
            f"{prefix}engine_version must support auto-pause (16.3+, 15.7+, 14.12+ or 13.15+) when "
            f"min_capacity is 0, got {version!r}"
        )


@dataclass(frozen=True)
class ServerlessPostgresProps:
    """Settings of a `ServerlessPostgres`."""

    # A key of AURORA_POSTGRES_VERSIONS; 0 ACU needs one that supports auto-pause.
    engine_version: str = "17.5"
    # 0: the writer pauses after `auto_pause` without connections and costs nothing for
    # capacity until the next connection wakes it (about 15 s).
    min_capacity: float = 0
    max_capacity: float = 2
    auto_pause: cdk.Duration = field(default_factory=lambda: cdk.Duration.minutes(5))
    database_name: str = "app"
    # Encrypts the storage, the generated secret and the exported logs; None creates a rotating key.
    encryption_key: kms.IKey | None = None
    log_retention: logs.RetentionDays = logs.RetentionDays.ONE_WEEK
    # DESTROY: nothing stays, no final snapshot (a sandbox). SNAPSHOT: a final snapshot stays,
    # and the key and secret are retained with it so the snapshot can be restored.
    removal_policy: cdk.RemovalPolicy = cdk.RemovalPolicy.DESTROY
    deletion_protection: bool = False
    # None: a name made from the construct path. Fixed at synth so that the exported log group
    # (named after the cluster) can be created here first.
    cluster_identifier: str | None = None


class ServerlessPostgres(Construct):
    """An Aurora PostgreSQL cluster with one Serverless v2 writer, reachable only from admitted groups.

    - Credentials generated into Secrets Manager (CDK's `DatabaseSecret`, which also records
      host, port and database name), encrypted with the key; IAM database authentication on.
    - Storage encrypted with the customer-managed key; isolated subnets; a security group
      with no ingress until `admit` adds one, and no egress.
    - PostgreSQL logs exported to `/aws/rds/cluster/<cluster>/postgresql`, created here (with
      the retention, encrypted) before the cluster: RDS would otherwise create it itself,
      with no retention, outside the stack.

    Attributes: `cluster`, `secret` (username, password, host, port; not the database name),
    `database_name`, `security_group`, `log_group`, `key`, `port`.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        vpc: ec2.IVpc,
        props: ServerlessPostgresProps | None = None,
        vpc_subnets: ec2.SubnetSelection | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        props = props or ServerlessPostgresProps()
        check_capacity(props.engine_version, props.min_capacity, props.max_capacity)
        # What a kept snapshot needs to be restored (its key, the credentials) is kept with it.
        keeps = props.removal_policy in (cdk.RemovalPolicy.SNAPSHOT, cdk.RemovalPolicy.RETAIN)
        kept = cdk.RemovalPolicy.RETAIN if keeps else cdk.RemovalPolicy.DESTROY
        self.port = POSTGRES_PORT
        self.database_name = props.database_name

        self.key = props.encryption_key or rotating_key(
            self,
            "Key",
            description="Encrypts the Aurora cluster's storage, its credentials and its logs",
            removal_policy=kept,
        )
        identifier = props.cluster_identifier or _identifier(physical_name(self, max_length=50))
        if not re.fullmatch(r"[a-z][a-z0-9]*(-[a-z0-9]+)*", identifier) or len(identifier) > 63:
            raise ValueError(f"cluster_identifier must be a lowercase DB identifier, got {identifier!r}")

        self.security_group = closed_security_group(
            self, vpc, description="Aurora PostgreSQL: admits only the front ends given to admit()"
        )
        # Arguments by name, as DataStoresStack passes its props: different objects.
        log_group_name = f"/aws/rds/cluster/{identifier}/postgresql"
        self.log_group = log_group(
            self,
            "PostgresqlLogs",
            name=log_group_name,
            encryption_key=self.key,
            retention=props.log_retention,
            removal_policy=kept,
        )
        admit_group(self.key, self.log_group, name=log_group_name, sid="CloudWatchLogsForPostgresqlLogs")

        self.cluster = rds.DatabaseCluster(
            self,
            "Resource",
            engine=rds.DatabaseClusterEngine.aurora_postgres(
                version=AURORA_POSTGRES_VERSIONS[props.engine_version]
            ),
            cluster_identifier=identifier,
            writer=rds.ClusterInstance.serverless_v2("Writer", auto_minor_version_upgrade=True),
            serverless_v2_min_capacity=props.min_capacity,
            serverless_v2_max_capacity=props.max_capacity,
            serverless_v2_auto_pause_duration=props.auto_pause if props.min_capacity == 0 else None,
            credentials=rds.Credentials.from_generated_secret("postgres", encryption_key=self.key),
            default_database_name=props.database_name,
            storage_encrypted=True,
            storage_encryption_key=self.key,
            iam_authentication=True,
            # No `cloudwatch_logs_retention`: it adds a Lambda-backed LogRetention resource; the
            # group above carries the retention instead.
            cloudwatch_logs_exports=["postgresql"],
            vpc=vpc,
            vpc_subnets=vpc_subnets or ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED),
            security_groups=[self.security_group],
            port=POSTGRES_PORT,
            removal_policy=props.removal_policy,
            deletion_protection=props.deletion_protection,
            backup=rds.BackupProps(
                retention=cdk.Duration.days(1 if kept == cdk.RemovalPolicy.DESTROY else 7)
            ),
        )
        self.cluster.node.add_dependency(self.log_group)
        assert self.cluster.secret is not None  # generated credentials always make one
        self.secret = self.cluster.secret
        # The generated secret itself (`secret` is its attachment to the cluster).
        generated = self.cluster.node.find_child("Secret")
        assert isinstance(generated, rds.DatabaseSecret)
        generated.apply_removal_policy(kept)
        self._acknowledge(props)

    def admit(
        self, scope: Construct, construct_id: str, *, peer: ec2.ISecurityGroup, description: str
    ) -> None:
        """Let `peer` connect on the PostgreSQL port, with the rule created in `scope`.

        Give the front end's own stack as `scope`: the rule then lives and dies with the front
        end, so either front end deploys and destroys alone and the data stores never depend on it.
        """
        ingress_from(
            scope, construct_id, group=self.security_group, peer=peer, port=self.port, description=description
        )

    def _acknowledge(self, props: ServerlessPostgresProps) -> None:
        reasons = {
            "AwsSolutions-RDS11": "The security group admits only the front ends' own groups, from "
            "isolated subnets; a non-default port adds no protection and breaks client defaults.",
        }
        if not props.deletion_protection:
            reasons["AwsSolutions-RDS10"] = (
                "Deletion protection is off only in the sandbox stage, so that `cdk destroy` leaves "
                "nothing behind; production turns it on (deletion_protection: true)."
            )
        acknowledge(self.cluster.node.default_child, reasons)  # type: ignore[arg-type]
        acknowledge(
            self.cluster.node.find_child("Secret").node.default_child,  # type: ignore[arg-type]
            {
                "AwsSolutions-SMG4": "No rotation Lambda: its scheduled connections would wake the "
                "auto-paused cluster and bill capacity; the password is generated, never leaves "
                "Secrets Manager and IAM database authentication is available instead.",
            },
        )


def _identifier(name: str) -> str:
    """A DB cluster identifier from a construct-path name: lowercase, letters first, single hyphens."""
    cleaned = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return cleaned if cleaned[:1].isalpha() else f"db-{cleaned}"
