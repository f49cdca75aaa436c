"""`make preflight`: read-only checks of the account before a deploy, for the stacks the stage enables.

Each check prints as it runs, with the fix for a warning or a failure; a failure is a blocker
(the deploy would roll back, or would overwrite something this stage does not own).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import botocore.exceptions

from constructs_lib.ecr import UPSTREAMS
from ops.assembly import StackInfo
from ops.aws import Account, error_code
from ops.report import Check, Result, failed, passed, warned
from stacks.config import AppConfig

BOOTSTRAP_STACK = "CDKToolkit"
# The version the CDK's default synthesizer requires of the bootstrap stack (manifest
# `requiresBootstrapStackVersion`; asset lookups need 8).
MINIMUM_BOOTSTRAP_VERSION = 6

# Service Quotas codes of AWS Fargate's vCPU quotas (`aws service-quotas list-service-quotas
# --service-code fargate`): "Fargate On-Demand vCPU resource count" and "Fargate Spot vCPU resource count".
FARGATE_ON_DEMAND_QUOTA = "L-3032A538"
FARGATE_SPOT_QUOTA = "L-36FBB829"


ECS_ROLE = "AWSServiceRoleForECS"


@dataclass(frozen=True)
class ServiceLinkedRole:
    role_name: str
    service: str  # the --aws-service-name that creates it
    # True: the deploy fails without it (nothing creates it on the way); False: the service creates
    # it on first use, if the deploying role may call iam:CreateServiceLinkedRole.
    blocker: bool


# Names and service principals of service-linked roles:
# https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_aws-services-that-work-with-iam.html
# A brand-new account's first ECS cluster and capacity-provider association can race the role's
# creation and fail; creating it first avoids the rollback.
_ECS = ServiceLinkedRole(ECS_ROLE, "ecs.amazonaws.com", True)
_ELB = ServiceLinkedRole("AWSServiceRoleForElasticLoadBalancing", "elasticloadbalancing.amazonaws.com", False)

# Which service-linked roles each stack's resources use.
SERVICE_LINKED_ROLES: dict[str, tuple[ServiceLinkedRole, ...]] = {
    "Registry": (
        ServiceLinkedRole("AWSServiceRoleForECRReplication", "replication.ecr.amazonaws.com", False),
        ServiceLinkedRole("AWSServiceRoleForAmazonInspector2", "inspector2.amazonaws.com", False),
    ),
    "EcsFargate": (
        _ECS,
        _ELB,
        ServiceLinkedRole(
            "AWSServiceRoleForApplicationAutoScaling_ECSService",
            "ecs.application-autoscaling.amazonaws.com",
            False,
        ),
    ),
    "EcsAnywhere": (_ECS,),
    "Eks": (
        ServiceLinkedRole("AWSServiceRoleForAmazonEKS", "eks.amazonaws.com", False),
        ServiceLinkedRole("AWSServiceRoleForAmazonEKSNodegroup", "eks-nodegroup.amazonaws.com", False),
        ServiceLinkedRole("AWSServiceRoleForAutoScaling", "autoscaling.amazonaws.com", False),
        _ELB,
        # Karpenter launches Spot through CreateFleet, which fails without it; nothing in the stack
        # creates it (https://karpenter.sh/docs/getting-started/getting-started-with-karpenter/).
        ServiceLinkedRole("AWSServiceRoleForEC2Spot", "spot.amazonaws.com", True),
    ),
    "GuardDuty": (ServiceLinkedRole("AWSServiceRoleForAmazonGuardDuty", "guardduty.amazonaws.com", False),),
    "DataStores": (
        ServiceLinkedRole("AWSServiceRoleForRDS", "rds.amazonaws.com", False),
        ServiceLinkedRole("AWSServiceRoleForElastiCache", "elasticache.amazonaws.com", False),
    ),
    "AppRunner": (
        ServiceLinkedRole("AWSServiceRoleForAppRunner", "apprunner.amazonaws.com", False),
        ServiceLinkedRole(
            "AWSServiceRoleForAppRunnerNetworking", "networking.apprunner.amazonaws.com", False
        ),
    ),
    "ExpressMode": (_ECS, _ELB),
}


@dataclass
class Preflight:
    """The checks for one stage's stacks in one account; `checks()` lists them in the order they run."""

    account: Account
    config: AppConfig
    stacks: list[StackInfo]
    _deployed: dict[str, bool] = field(default_factory=dict)

    @property
    def stack_ids(self) -> set[str]:
        return {s.id for s in self.stacks}

    def checks(self) -> list[Check]:
        found: list[Check] = [self.bootstrap, self.service_linked_roles]
        plan: list[tuple[str, Callable[[], Iterator[Result]]]] = [
            ("EcsFargate", self.fargate_quotas),
            ("Eks", self.eks_version),
            ("Eks", self.bottlerocket_images),
            ("Eks", self.instance_type_offerings),
            ("Registry", self.registry_singletons),
            ("Registry", self.inspector_and_organization),
            ("GuardDuty", self.guardduty_detector),
            ("DataStores", self.aurora_version),
            ("AppRunner", self.app_runner_access),
        ]
        found += [check for stack_id, check in plan if stack_id in self.stack_ids]
        return found

    def deployed(self, stack_id: str) -> bool:
        """Whether this stage's stack already exists (then the singletons it would take are its own)."""
        if stack_id not in self._deployed:
            self._deployed[stack_id] = self._exists(stack_id)
        return self._deployed[stack_id]

    def _exists(self, stack_id: str) -> bool:
        info = next((s for s in self.stacks if s.id == stack_id), None)
        if info is None:
            return False
        try:
            found = self.account.client("cloudformation", info.region).describe_stacks(
                StackName=info.stack_name
            )
        except botocore.exceptions.ClientError:
            return False
        return any(s["StackStatus"] != "DELETE_COMPLETE" for s in found["Stacks"])

    # --- every stack ---
    def bootstrap(self) -> Iterator[Result]:
        for region in sorted({s.region for s in self.stacks}):
            name = f"CDK bootstrap in {region}"
            try:
                found = self.account.client("cloudformation", region).describe_stacks(
                    StackName=BOOTSTRAP_STACK
                )
            except botocore.exceptions.ClientError as error:
                if "does not exist" in str(error):
                    yield failed(
                        name, f"no {BOOTSTRAP_STACK} stack", "make bootstrap (every region the stage uses)"
                    )
                else:
                    yield failed(name, f"cannot read it ({error_code(error)})", "check your permissions")
                continue
            stack = found["Stacks"][0]
            outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
            version = int(outputs.get("BootstrapVersion", "0"))
            if not stack["StackStatus"].endswith("_COMPLETE") or "ROLLBACK" in stack["StackStatus"]:
                yield failed(name, f"{BOOTSTRAP_STACK} is {stack['StackStatus']}", "make bootstrap")
            elif version < MINIMUM_BOOTSTRAP_VERSION:
                yield failed(
                    name, f"version {version}, at least {MINIMUM_BOOTSTRAP_VERSION} needed", "make bootstrap"
                )
            else:
                yield passed(name, f"version {version}")

    def service_linked_roles(self) -> Iterator[Result]:
        needed: dict[str, tuple[ServiceLinkedRole, list[str]]] = {}
        for stack_id in [s.id for s in self.stacks]:
            for role in SERVICE_LINKED_ROLES.get(stack_id, ()):
                if role.role_name == "AWSServiceRoleForEC2Spot" and "spot" not in self._karpenter_capacity():
                    continue
                needed.setdefault(role.role_name, (role, []))[1].append(stack_id)
        iam = self.account.client("iam")
        for role, users in needed.values():
            name = f"service-linked role {role.role_name}"
            try:
                iam.get_role(RoleName=role.role_name)
            except botocore.exceptions.ClientError as error:
                if error_code(error) != "NoSuchEntity":
                    yield warned(
                        name, f"cannot read it ({error_code(error)})", "check iam:GetRole permission"
                    )
                    continue
                fix = f"aws iam create-service-linked-role --aws-service-name {role.service}"
                why = f"missing (used by {', '.join(users)})"
                if role.role_name == ECS_ROLE and users == ["EcsFargate"] and self._ecs_creates_its_role():
                    yield warned(name, "missing: the EcsFargate stack creates it before its cluster", fix)
                elif role.blocker:
                    yield failed(name, why, fix)
                else:
                    yield warned(name, why + "; the service creates it on first use if you may", fix)
                continue
            yield passed(name, "exists")

    def _ecs_creates_its_role(self) -> bool:
        # EcsFargate's cluster makes the role when missing (ecs.ensure_service_linked_role); the other
        # ECS stacks do not, and the CLI does not promise to deploy EcsFargate before them.
        return bool(getattr(self.config.ecs, "ensure_service_linked_role", False))

    def _karpenter_capacity(self) -> tuple[str, ...]:
        eks = self.config.eks
        return tuple(eks.karpenter.general.capacity_types) + (
            tuple(eks.karpenter.gpu.capacity_types) if eks.karpenter.gpu.enabled else ()
        )

    # --- EcsFargate ---
    def fargate_quotas(self) -> Iterator[Result]:
        graviton, windows = self.config.ecs.graviton, self.config.ecs.windows
        vcpu = graviton.cpu / 1024

        def on_demand_tasks(total: int) -> float:
            base = min(graviton.on_demand_base, total)
            weights = graviton.on_demand_weight + graviton.spot_weight
            return base + (total - base) * graviton.on_demand_weight / weights

        windows_vcpu = windows.desired_count * windows.cpu / 1024
        for code, label, share in (
            (FARGATE_ON_DEMAND_QUOTA, "On-Demand", on_demand_tasks),
            (FARGATE_SPOT_QUOTA, "Spot", lambda total: total - on_demand_tasks(total)),
        ):
            name = f"Fargate {label} vCPU quota"
            at_rest = share(graviton.min_tasks) * vcpu + (windows_vcpu if label == "On-Demand" else 0)
            at_max = share(graviton.max_tasks) * vcpu + (windows_vcpu if label == "On-Demand" else 0)
            try:
                quota = self.account.client("service-quotas").get_service_quota(
                    ServiceCode="fargate", QuotaCode=code
                )["Quota"]["Value"]
            except botocore.exceptions.ClientError as error:
                yield warned(
                    name, f"cannot read it ({error_code(error)})", "check servicequotas:GetServiceQuota"
                )
                continue
            fix = (
                "aws service-quotas request-service-quota-increase --service-code fargate "
                f"--quota-code {code} "
                f"--desired-value {int(at_max) + 1}"
            )
            if at_rest > quota:
                yield failed(name, f"{quota:g} vCPU, the deploy needs {at_rest:g}", fix)
            elif at_max > quota:
                yield warned(
                    name,
                    f"{quota:g} vCPU caps the burst below ecs.graviton.max_tasks={graviton.max_tasks} "
                    f"({at_max:g} vCPU)",
                    fix + " (or lower ecs.graviton.max_tasks)",
                )
            else:
                yield passed(name, f"{quota:g} vCPU, up to {at_max:g} needed at max_tasks")

    # --- Eks ---
    def eks_version(self) -> Iterator[Result]:
        version = self.config.eks.kubernetes_version
        name = f"EKS offers Kubernetes {version}"
        try:
            found = self.account.client("eks").describe_cluster_versions(clusterVersions=[version])
        except botocore.exceptions.ClientError as error:
            yield warned(name, f"cannot read it ({error_code(error)})", "check eks:DescribeClusterVersions")
            return
        versions = [v for v in found.get("clusterVersions", []) if v.get("clusterVersion") == version]
        if not versions:
            yield failed(
                name, f"not offered in {self.account.region}", "set eks.kubernetes_version to an offered one"
            )
            return
        status = str(versions[0].get("versionStatus") or versions[0].get("status", ""))
        if status.upper().startswith("EXTENDED"):
            yield warned(
                name,
                f"{status}: the control plane bills at the extended-support rate",
                "set eks.kubernetes_version to a version in standard support",
            )
        else:
            yield passed(name, status or "offered")

    def bottlerocket_images(self) -> Iterator[Result]:
        eks = self.config.eks
        release = eks.karpenter.bottlerocket_version.removeprefix("v")
        # Karpenter's `bottlerocket@vX.Y.Z` alias reads this public parameter; its variant and arch names
        # are Bottlerocket's (aws-k8s-<ver>[-nvidia], x86_64/arm64).
        wanted = {("", _bottlerocket_arch(a)) for a in eks.karpenter.general.architectures}
        if eks.karpenter.gpu.enabled:
            wanted |= {("-nvidia", _bottlerocket_arch(a)) for a in eks.karpenter.gpu.architectures}
        ssm = self.account.client("ssm")
        for variant, arch in sorted(wanted):
            flavour = f"aws-k8s-{eks.kubernetes_version}{variant}"
            parameter = f"/aws/service/bottlerocket/{flavour}/{arch}/{release}/image_id"
            name = f"Bottlerocket v{release} aws-k8s-{eks.kubernetes_version}{variant} {arch}"
            try:
                image = ssm.get_parameter(Name=parameter)["Parameter"]["Value"]
            except botocore.exceptions.ClientError as error:
                if error_code(error) == "ParameterNotFound":
                    yield failed(
                        name,
                        f"no image published ({parameter})",
                        "set eks.karpenter.bottlerocket_version to a release built for this version",
                    )
                else:
                    yield warned(
                        name, f"cannot read {parameter} ({error_code(error)})", "check ssm:GetParameter"
                    )
                continue
            yield passed(name, image)

    def instance_type_offerings(self) -> Iterator[Result]:
        eks = self.config.eks
        types = list(eks.system_nodes.instance_types) + (
            list(eks.gpu_nodes.instance_types) if eks.gpu_nodes.enabled else []
        )
        ec2 = self.account.client("ec2")
        zones = list(self.config.network.availability_zones)
        if not zones:
            # Fn::GetAZs lists the region's available zones in name order; the VPC takes the first max_azs.
            available = ec2.describe_availability_zones(
                Filters=[
                    {"Name": "state", "Values": ["available"]},
                    {"Name": "zone-type", "Values": ["availability-zone"]},
                ]
            )["AvailabilityZones"]
            zones = sorted(z["ZoneName"] for z in available)[: self.config.network.max_azs]
        offered: dict[str, set[str]] = {t: set() for t in types}
        pages = ec2.get_paginator("describe_instance_type_offerings").paginate(
            LocationType="availability-zone",
            Filters=[{"Name": "instance-type", "Values": types}, {"Name": "location", "Values": zones}],
        )
        for page in pages:
            for offering in page["InstanceTypeOfferings"]:
                offered[offering["InstanceType"]].add(offering["Location"])
        for instance_type in types:
            name = f"instance type {instance_type} in {', '.join(zones)}"
            missing = [z for z in zones if z not in offered[instance_type]]
            if len(missing) == len(zones):
                yield failed(
                    name, "offered in none of them", "pick another type in eks.system_nodes.instance_types"
                )
            elif missing:
                yield warned(
                    name,
                    f"not offered in {', '.join(missing)}: nodes land only in the others",
                    "pin network.availability_zones to zones that offer it",
                )
            else:
                yield passed(name, "offered in every zone")

    # --- Registry ---
    def registry_singletons(self) -> Iterator[Result]:
        ours = self.deployed("Registry")
        ecr = self.account.client("ecr")
        owner = "the Registry stack of this stage owns it" if ours else ""
        scanning = ecr.get_registry_scanning_configuration()["scanningConfiguration"]
        name = "registry scanning configuration"
        if ours or (scanning.get("scanType", "BASIC") == "BASIC" and not scanning.get("rules")):
            yield passed(name, owner or "basic, nothing to replace")
        else:
            rules = ", ".join(
                f"{r['scanFrequency']}:{len(r.get('repositoryFilters', []))} filters"
                for r in scanning["rules"]
            )
            yield warned(
                name,
                f"{scanning.get('scanType')} ({rules}) exists: deploying Registry replaces it "
                "(and destroying Registry resets it to basic)",
                "save it (aws ecr get-registry-scanning-configuration) or set registry.enabled: false",
            )
        rules = ecr.describe_registry().get("replicationConfiguration", {}).get("rules", [])
        name = "registry replication configuration"
        if ours or not rules:
            yield passed(name, owner or "none, nothing to replace")
        else:
            yield warned(
                name,
                f"{len(rules)} rule(s) exist: deploying Registry replaces them",
                "save them (aws ecr describe-registry) or set registry.replication.enabled: false",
            )
        prefixes = {UPSTREAMS[u].default_prefix for u in self.config.registry.pull_through_cache.upstreams}
        taken: list[str] = []
        for page in ecr.get_paginator("describe_pull_through_cache_rules").paginate():
            taken += [r["ecrRepositoryPrefix"] for r in page["pullThroughCacheRules"]]
        clash = sorted(prefixes & set(taken))
        name = "pull-through cache prefixes"
        if ours or not clash:
            yield passed(name, owner or f"{', '.join(sorted(prefixes))} free")
        else:
            yield failed(
                name,
                f"{', '.join(clash)} already have rules: creating Registry would fail",
                "aws ecr delete-pull-through-cache-rule --ecr-repository-prefix <p>, or drop the upstream",
            )

    def inspector_and_organization(self) -> Iterator[Result]:
        organization: dict[str, Any] | None = None
        try:
            organization = self.account.client("organizations").describe_organization()["Organization"]
        except botocore.exceptions.ClientError as error:
            if error_code(error) != "AWSOrganizationsNotInUseException":
                yield warned("AWS Organization membership", f"cannot read it ({error_code(error)})")
        retain = self.config.registry.scanning.retain_on_delete
        if organization is None:
            yield passed("AWS Organization membership", "standalone account")
        elif organization.get("MasterAccountId") != self.account.account_id and not retain:
            yield failed(
                "AWS Organization membership",
                f"member of {organization.get('Id')}: members may not disable Inspector, so "
                "destroying Registry would fail",
                "set registry.scanning.retain_on_delete: true",
            )
        else:
            yield passed("AWS Organization membership", f"in {organization.get('Id')}")
        name = "Amazon Inspector ECR scanning"
        try:
            status = self.account.client("inspector2").batch_get_account_status(
                accountIds=[self.account.account_id]
            )["accounts"]
        except botocore.exceptions.ClientError as error:
            yield warned(
                name, f"cannot read it ({error_code(error)})", "check inspector2:BatchGetAccountStatus"
            )
            return
        ecr_state = (
            status[0].get("resourceState", {}).get("ecr", {}).get("status", "DISABLED")
            if status
            else "DISABLED"
        )
        if ecr_state == "ENABLED" and not self.deployed("Registry"):
            yield warned(
                name,
                "already on (maybe by a delegated administrator): Registry takes over its scanning rules",
                "with a delegated administrator, set registry.scanning.retain_on_delete: true",
            )
        else:
            yield passed(name, ecr_state.lower())

    # --- GuardDuty ---
    def guardduty_detector(self) -> Iterator[Result]:
        """The GuardDuty stack creates the region's detector or adopts the existing one; an adopted
        detector that a delegated administrator manages refuses feature changes."""
        name = "GuardDuty detector"
        manage = getattr(getattr(self.config, "guardduty", None), "manage_features", True)
        guardduty = self.account.client("guardduty")
        detectors = guardduty.list_detectors().get("DetectorIds", [])
        if not detectors:
            if manage:
                yield passed(name, "none yet: the GuardDuty stack creates one")
            else:
                yield failed(
                    name,
                    "none, and guardduty.manage_features is false (the stack only reads an existing one)",
                    "set guardduty.manage_features: true, or have the Organization enable GuardDuty here",
                )
            return
        administrator = guardduty.get_administrator_account(DetectorId=detectors[0]).get("Administrator", {})
        admin_id = administrator.get("AccountId")
        if admin_id and manage and not self.deployed("GuardDuty"):
            yield failed(
                name,
                f"{detectors[0]} is managed by administrator {admin_id}, which refuses feature changes",
                "set guardduty.manage_features: false (the stack then reports the features as they are)",
            )
        elif admin_id:
            yield passed(name, f"{detectors[0]}, managed by {admin_id}")
        else:
            yield passed(
                name, f"{detectors[0]} exists: the stack adopts it and puts its features back on destroy"
            )

    # --- DataStores ---
    def aurora_version(self) -> Iterator[Result]:
        """The configured Aurora PostgreSQL version is offered here, with Serverless v2 at its minimum."""
        aurora = getattr(getattr(self.config, "web", None), "aurora", None)
        if aurora is None:
            return
        version, minimum = str(aurora.engine_version), float(aurora.min_capacity)
        name = f"Aurora PostgreSQL {version} Serverless v2"
        offered = self.account.client("rds").describe_db_engine_versions(
            Engine="aurora-postgresql", EngineVersion=version
        )["DBEngineVersions"]
        if not offered:
            yield failed(name, f"not offered in {self.account.region}", "set web.aurora.engine_version")
            return
        support = offered[0].get("ServerlessV2FeaturesSupport")
        if support is None:
            yield failed(name, "this version has no Serverless v2", "set web.aurora.engine_version")
        elif minimum < float(support.get("MinCapacity", 0.5)):
            yield failed(
                name,
                f"its minimum is {support.get('MinCapacity')} ACU, web.aurora.min_capacity is {minimum:g}",
                "raise web.aurora.min_capacity, or pick a version with auto-pause (0 ACU)",
            )
        else:
            yield passed(name, f"offered, {support.get('MinCapacity')} to {support.get('MaxCapacity')} ACU")

    # --- AppRunner ---
    def app_runner_access(self) -> Iterator[Result]:
        name = "App Runner access"
        try:
            services = (
                self.account.client("apprunner").list_services(MaxResults=1).get("ServiceSummaryList", [])
            )
        except botocore.exceptions.ClientError as error:
            yield failed(name, f"refused ({error_code(error)})", "use the ExpressMode stack instead")
            return
        except botocore.exceptions.EndpointConnectionError:
            yield failed(name, f"not offered in {self.account.region}", "use the ExpressMode stack instead")
            return
        if services:
            yield passed(name, "the account already runs App Runner services")
        else:
            # Closed to new customers since 2026-04-30: an account without services may be refused.
            yield warned(
                name,
                "no service yet: App Runner is closed to new customers, CreateService may be refused",
                "deploy ExpressMode instead, or WITH_APP_RUNNER=1 only in an account that used App Runner",
            )


def _bottlerocket_arch(kubernetes_arch: str) -> str:
    return {"amd64": "x86_64", "arm64": "arm64"}.get(kubernetes_arch, kubernetes_arch)
