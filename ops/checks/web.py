"""`make verify` for DataStores, AppRunner and ExpressMode: the stores available, the front ends answering."""

from __future__ import annotations

from collections.abc import Iterator

from ops.report import Result, failed, passed, warned
from ops.verify import DeployedStack, checks_for, reachable


@checks_for("DataStores")
def data_stores(stack: DeployedStack) -> Iterator[Result]:
    rds = stack.client("rds")
    for identifier in stack.physical_ids("AWS::RDS::DBCluster"):
        cluster = rds.describe_db_clusters(DBClusterIdentifier=identifier)["DBClusters"][0]
        scaling = cluster.get("ServerlessV2ScalingConfiguration", {})
        detail = (
            f"{cluster['Status']}, {cluster.get('Engine')} {cluster.get('EngineVersion')}, "
            f"{scaling.get('MinCapacity', '?')}-{scaling.get('MaxCapacity', '?')} ACU"
        )
        name = stack.name(f"Aurora cluster {identifier}")
        if cluster["Status"] == "available":
            yield passed(name, detail)
        else:
            yield warned(name, detail, "wait for it to become available")
    elasticache = stack.client("elasticache")
    for cache_name in stack.physical_ids("AWS::ElastiCache::ServerlessCache"):
        cache = elasticache.describe_serverless_caches(ServerlessCacheName=cache_name)["ServerlessCaches"][0]
        name = stack.name(f"{cache.get('Engine', 'cache')} serverless cache {cache_name}")
        endpoint = cache.get("Endpoint", {})
        detail = f"{cache['Status']}, {endpoint.get('Address', '?')}:{endpoint.get('Port', '?')}"
        if cache["Status"] == "available":
            yield passed(name, detail)
        else:
            yield warned(name, detail, "wait for it to become available")


@checks_for("AppRunner")
def app_runner_service(stack: DeployedStack) -> Iterator[Result]:
    apprunner = stack.client("apprunner")
    for arn in stack.physical_ids("AWS::AppRunner::Service"):
        service = apprunner.describe_service(ServiceArn=arn)["Service"]
        name = stack.name(f"App Runner service {service['ServiceName']}")
        if service["Status"] == "RUNNING":
            yield passed(name, "RUNNING")
        else:
            yield failed(name, service["Status"], "see the service's event log in the App Runner console")
    # The public endpoint is dual-stack (the stack sets DUAL_STACK); the data page reaches both stores.
    yield from reachable(stack, "ServiceUrl", "ServiceUrl", scheme="https")
    yield from reachable(stack, "DataUrl", "DataUrl", ipv6=False, scheme="https")


@checks_for("ExpressMode")
def express_service(stack: DeployedStack) -> Iterator[Result]:
    ecs = stack.client("ecs")
    for arn in stack.physical_ids("AWS::ECS::ExpressGatewayService"):
        service = ecs.describe_express_gateway_service(serviceArn=arn)["service"]
        status = service.get("status", {}).get("statusCode", "UNKNOWN")
        name = stack.name(f"Express Mode service {service.get('serviceName', arn)}")
        if status == "ACTIVE":
            yield passed(name, "ACTIVE")
        else:
            yield failed(
                name, status, service.get("status", {}).get("statusReason", "see the service's events")
            )
    # The load balancer Express Mode makes is its own; only IPv4 is promised.
    yield from reachable(stack, "Endpoint", "Endpoint", ipv6=False, scheme="https")
