"""`make verify` for Registry and RegistryReplica: scanning, cache rules, templates, replication."""

from __future__ import annotations

from collections.abc import Iterator

from ops.report import Result, failed, passed, skipped
from ops.verify import DeployedStack, checks_for


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
