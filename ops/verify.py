"""`make verify [STACK=...]`: read-only evidence, after a deploy, that each stack's feature is live.

Each stack contributes its own checks through `@checks_for("<stack id>")`; a stack added later
plugs in by registering checks under its id. The checks read stack outputs, the stack's resource
list (CloudFormation's physical ids) and tags, never the project's constructs.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import botocore.exceptions

from ops import probe
from ops.assembly import StackInfo
from ops.aws import Account, error_code
from ops.report import Check, Result, failed, passed, skipped, warned
from stacks.config import AppConfig


@dataclass
class DeployedStack:
    """What one deployed stack offers its checks: outputs, resources by type, clients in its region."""

    account: Account
    info: StackInfo
    config: AppConfig
    outputs: dict[str, str]
    resources: list[dict[str, Any]]
    prober: probe.Prober = probe.fetch
    _cache: dict[str, Any] = field(default_factory=dict)

    def client(self, service: str) -> Any:
        return self.account.client(service, self.info.region)

    def physical_ids(self, resource_type: str) -> list[str]:
        return [
            str(r["PhysicalResourceId"])
            for r in self.resources
            if r["ResourceType"] == resource_type and r.get("PhysicalResourceId")
        ]

    def name(self, what: str) -> str:
        return f"{self.info.id}: {what}"


StackCheck = Callable[[DeployedStack], Iterator[Result]]
CHECKS: dict[str, list[StackCheck]] = {}


def checks_for(stack_id: str) -> Callable[[StackCheck], StackCheck]:
    """Register a check for the stack with this construct id; it runs only where that stack exists."""

    def register(check: StackCheck) -> StackCheck:
        CHECKS.setdefault(stack_id, []).append(check)
        return check

    return register


@dataclass
class Verify:
    account: Account
    config: AppConfig
    stacks: list[StackInfo]
    prober: probe.Prober = probe.fetch

    def checks(self) -> list[Check]:
        return [lambda info=info: self.verify_stack(info) for info in self.stacks]  # type: ignore[misc]

    def verify_stack(self, info: StackInfo) -> Iterator[Result]:
        cloudformation = self.account.client("cloudformation", info.region)
        name = f"{info.id}: stack {info.stack_name} in {info.region}"
        try:
            stack = cloudformation.describe_stacks(StackName=info.stack_name)["Stacks"][0]
        except botocore.exceptions.ClientError as error:
            if "does not exist" in str(error):
                yield skipped(name, "not deployed")
            else:
                yield failed(
                    name, f"cannot read it ({error_code(error)})", "check cloudformation:DescribeStacks"
                )
            return
        status = stack["StackStatus"]
        if status not in ("CREATE_COMPLETE", "UPDATE_COMPLETE", "IMPORT_COMPLETE"):
            yield failed(name, status, "see the stack's events; redeploy or destroy it")
            return
        yield passed(name, status)
        resources: list[dict[str, Any]] = []
        for page in cloudformation.get_paginator("list_stack_resources").paginate(StackName=info.stack_name):
            resources += page["StackResourceSummaries"]
        deployed = DeployedStack(
            account=self.account,
            info=info,
            config=self.config,
            outputs={o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])},
            resources=resources,
            prober=self.prober,
        )
        for check in CHECKS.get(info.id, []):
            try:
                yield from check(deployed)
            except botocore.exceptions.ClientError as error:
                yield failed(
                    deployed.name(check.__name__.replace("_", " ")),
                    f"cannot read it ({error_code(error)})",
                    "check the permissions of your credentials",
                )


def reachable(stack: DeployedStack, output: str, label: str) -> Iterator[Result]:
    """The URL in `output` answers over IPv4 and over IPv6 (dual-stack load balancers)."""
    url = stack.outputs.get(output)
    if not url:
        yield skipped(stack.name(label), f"no {output} output")
        return
    for family, version in ((socket.AF_INET, "IPv4"), (socket.AF_INET6, "IPv6")):
        name = stack.name(f"{label} over {version}")
        try:
            outcome = stack.prober(url, family)
        except OSError as error:
            yield failed(name, f"{url}: {error}", "wait a minute for DNS and targets; check the listener")
            continue
        if outcome.startswith("HTTP 5"):
            yield failed(name, f"{url}: {outcome}", "no healthy targets yet: check the service's tasks")
        else:
            yield passed(name, f"{url}: {outcome}")


# --- Network ---
@checks_for("Network")
def dual_stack_vpc(stack: DeployedStack) -> Iterator[Result]:
    ec2 = stack.client("ec2")
    for vpc in ec2.describe_vpcs(VpcIds=stack.physical_ids("AWS::EC2::VPC"))["Vpcs"]:
        ipv6 = [
            a["Ipv6CidrBlock"]
            for a in vpc.get("Ipv6CidrBlockAssociationSet", [])
            if a.get("Ipv6CidrBlockState", {}).get("State") == "associated"
        ]
        name = stack.name(f"VPC {vpc['VpcId']} dual-stack")
        if ipv6:
            yield passed(name, f"{vpc['CidrBlock']} and {', '.join(ipv6)}")
        else:
            yield failed(name, f"{vpc['CidrBlock']} has no IPv6 block", "redeploy Network")
    subnets = ec2.describe_subnets(SubnetIds=stack.physical_ids("AWS::EC2::Subnet"))["Subnets"]
    without = [s["SubnetId"] for s in subnets if not s.get("Ipv6CidrBlockAssociationSet")]
    name = stack.name("every subnet has an IPv6 block")
    if without:
        yield failed(
            name, f"{len(without)} of {len(subnets)} lack one: {', '.join(without)}", "redeploy Network"
        )
    else:
        yield passed(name, f"{len(subnets)} subnets")
    nat_ids = stack.physical_ids("AWS::EC2::NatGateway")
    if nat_ids:
        gateways = ec2.describe_nat_gateways(NatGatewayIds=nat_ids)["NatGateways"]
        down = [g["NatGatewayId"] for g in gateways if g["State"] != "available"]
        name = stack.name("NAT gateways")
        if down:
            yield failed(
                name, f"not available: {', '.join(down)}", "see the gateways' state in the VPC console"
            )
        else:
            yield passed(name, f"{len(gateways)} available")


# --- Registry ---
@checks_for("Registry")
def enhanced_scanning(stack: DeployedStack) -> Iterator[Result]:
    scanning = stack.client("ecr").get_registry_scanning_configuration()["scanningConfiguration"]
    rules = {
        r["scanFrequency"]: [f["filter"] for f in r.get("repositoryFilters", [])]
        for r in scanning.get("rules", [])
    }
    name = stack.name("enhanced scanning")
    if scanning.get("scanType") != "ENHANCED":
        yield failed(name, f"scan type is {scanning.get('scanType')}", "redeploy Registry")
        return
    evidence = "; ".join(f"{frequency} {', '.join(filters)}" for frequency, filters in sorted(rules.items()))
    configured = stack.config.registry.scanning
    if configured.continuous_filters and "CONTINUOUS_SCAN" not in rules:
        yield failed(name, f"no CONTINUOUS_SCAN rule ({evidence})", "redeploy Registry")
    elif configured.scan_on_push_filters and "SCAN_ON_PUSH" not in rules:
        yield failed(name, f"no SCAN_ON_PUSH rule ({evidence})", "redeploy Registry")
    else:
        yield passed(name, evidence)


@checks_for("Registry")
def pull_through_cache(stack: DeployedStack) -> Iterator[Result]:
    ecr = stack.client("ecr")
    rules = {}
    for page in ecr.get_paginator("describe_pull_through_cache_rules").paginate():
        rules.update(
            {r["ecrRepositoryPrefix"]: r["upstreamRegistryUrl"] for r in page["pullThroughCacheRules"]}
        )
    prefixes = [
        output_value.rstrip("/").rsplit("/", 1)[-1]
        for key, output_value in stack.outputs.items()
        if key.startswith("CachePrefix")
    ]
    for prefix in prefixes:
        name = stack.name(f"pull-through cache rule {prefix}/")
        if prefix in rules:
            yield passed(name, f"from {rules[prefix]}")
        else:
            yield failed(name, "missing", "redeploy Registry")
    templates: dict[str, list[str]] = {}
    for page in ecr.get_paginator("describe_repository_creation_templates").paginate():
        templates.update({t["prefix"]: t.get("appliedFor", []) for t in page["repositoryCreationTemplates"]})
    name = stack.name("repository creation templates")
    cached = [p for p in prefixes if "PULL_THROUGH_CACHE" not in templates.get(p, [])]
    if cached:
        yield failed(name, f"no PULL_THROUGH_CACHE template for {', '.join(cached)}", "redeploy Registry")
    else:
        yield passed(
            name, ", ".join(f"{p} ({'/'.join(a)})" for p, a in sorted(templates.items())) or "none needed"
        )


@checks_for("Registry")
def replication(stack: DeployedStack) -> Iterator[Result]:
    configured = stack.config.registry.replication
    name = stack.name("cross-region replication")
    if not configured.enabled:
        yield skipped(name, "registry.replication.enabled is false")
        return
    rules = stack.client("ecr").describe_registry().get("replicationConfiguration", {}).get("rules", [])
    destinations = {d["region"] for r in rules for d in r.get("destinations", [])}
    filters = [f["filter"] for r in rules for f in r.get("repositoryFilters", [])]
    if configured.destination_region in destinations:
        yield passed(
            name, f"to {configured.destination_region} for {', '.join(filters) or 'every repository'}"
        )
    else:
        yield failed(name, f"no rule to {configured.destination_region}", "redeploy Registry")


# --- RegistryReplica ---
@checks_for("RegistryReplica")
def replica_templates(stack: DeployedStack) -> Iterator[Result]:
    templates: dict[str, list[str]] = {}
    for page in stack.client("ecr").get_paginator("describe_repository_creation_templates").paginate():
        templates.update({t["prefix"]: t.get("appliedFor", []) for t in page["repositoryCreationTemplates"]})
    for prefix in stack.config.registry.replication.template_prefixes:
        name = stack.name(f"REPLICATION template {prefix} in {stack.info.region}")
        if "REPLICATION" in templates.get(prefix, []):
            yield passed(name, "present")
        else:
            yield failed(name, "missing", "redeploy Registry (it deploys RegistryReplica first)")


# --- EcsFargate ---
@checks_for("EcsFargate")
def fargate_services(stack: DeployedStack) -> Iterator[Result]:
    ecs = stack.client("ecs")
    clusters = stack.physical_ids("AWS::ECS::Cluster")
    services = stack.physical_ids("AWS::ECS::Service")
    if not clusters or not services:
        yield failed(stack.name("ECS services"), "none in the stack", "redeploy EcsFargate")
        return
    cluster = clusters[0]
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
        if "windows" in (t.get("platformFamily", "").lower() for t in tasks):
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


# --- Eks ---
@checks_for("Eks")
def eks_cluster(stack: DeployedStack) -> Iterator[Result]:
    cluster_name = stack.outputs.get("ClusterName", "")
    eks = stack.client("eks")
    cluster = eks.describe_cluster(name=cluster_name)["cluster"]
    family = cluster.get("kubernetesNetworkConfig", {}).get("ipFamily", "ipv4")
    name = stack.name(f"cluster {cluster_name}")
    detail = f"{cluster['status']}, Kubernetes {cluster['version']}, IP family {family}"
    if cluster["status"] == "ACTIVE" and family == "ipv6":
        yield passed(name, detail)
    else:
        yield failed(name, detail, "see the cluster in the EKS console")
    for nodegroup_name in eks.list_nodegroups(clusterName=cluster_name)["nodegroups"]:
        nodegroup = eks.describe_nodegroup(clusterName=cluster_name, nodegroupName=nodegroup_name)[
            "nodegroup"
        ]
        name = stack.name(f"node group {nodegroup_name}")
        ami = nodegroup.get("amiType", "")
        scaling = nodegroup.get("scalingConfig", {})
        types = ", ".join(nodegroup.get("instanceTypes", []))
        detail = f"{nodegroup['status']}, {ami}, {scaling.get('desiredSize')} nodes of {types}"
        if nodegroup["status"] == "ACTIVE" and ami.startswith("BOTTLEROCKET"):
            yield passed(name, detail)
        else:
            yield failed(name, detail, "see the node group's health issues in the EKS console")
    instances = [
        i
        for r in stack.client("ec2").describe_instances(
            Filters=[
                {"Name": "tag:eks:eks-cluster-name", "Values": [cluster_name]},
                {"Name": "tag-key", "Values": ["karpenter.sh/nodepool"]},
                {"Name": "instance-state-name", "Values": ["pending", "running"]},
            ]
        )["Reservations"]
        for i in r["Instances"]
    ]
    described = ", ".join(
        f"{i['InstanceType']} ({i.get('InstanceLifecycle', 'on-demand')})" for i in instances
    )
    yield passed(
        stack.name("nodes Karpenter launched"), described or "none now (it launches them for pending pods)"
    )


@checks_for("Eks")
def karpenter_interruption_queue(stack: DeployedStack) -> Iterator[Result]:
    sqs = stack.client("sqs")
    queues = stack.physical_ids("AWS::SQS::Queue")
    name = stack.name("Karpenter interruption queue")
    if not queues:
        yield failed(name, "no queue in the stack", "redeploy Eks")
        return
    attributes = sqs.get_queue_attributes(
        QueueUrl=queues[0], AttributeNames=["QueueArn", "KmsMasterKeyId", "SqsManagedSseEnabled"]
    )["Attributes"]
    rules = stack.physical_ids("AWS::Events::Rule")
    events = stack.client("events")
    enabled = 0
    for rule in rules:
        # The physical id of an AWS::Events::Rule on the default bus is its name.
        if events.describe_rule(Name=rule.split("|")[-1]).get("State") == "ENABLED":
            enabled += 1
    detail = f"{attributes['QueueArn'].rsplit(':', 1)[-1]}, fed by {enabled} enabled EventBridge rule(s)"
    if enabled:
        yield passed(name, detail)
    else:
        yield failed(name, detail, "redeploy Eks: without the rules Karpenter misses Spot interruptions")


@checks_for("Eks")
def sample_url(stack: DeployedStack) -> Iterator[Result]:
    if "SampleUrl" in stack.outputs:
        yield from reachable(stack, "SampleUrl", "SampleUrl")
    else:
        yield skipped(stack.name("SampleUrl"), "eks.sample_app.enabled is false")


def by_id(stacks: list[StackInfo], wanted: str | None) -> list[StackInfo]:
    if wanted is None:
        return stacks
    return [s for s in stacks if s.id == wanted]


def warn_unknown(stack_id: str) -> Result:
    return warned(stack_id, "no checks registered for this stack yet", "add them to ops/verify.py")
