"""`make verify` for Eks: IPv6 cluster, Bottlerocket nodes, Karpenter, the sample, Fargate and its logs."""

from __future__ import annotations

from collections.abc import Iterator

from ops.report import Result, failed, passed, skipped, warned
from ops.verify import DeployedStack, checks_for, reachable


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


@checks_for("Eks")
def fargate_profiles_and_logs(stack: DeployedStack) -> Iterator[Result]:
    """EKS on Fargate: every profile ACTIVE, and Fluent Bit delivering pod logs to the stack's group."""
    if not stack.physical_ids("AWS::EKS::FargateProfile"):
        return
    cluster_name = stack.outputs.get("ClusterName", "")
    eks = stack.client("eks")
    for profile_name in eks.list_fargate_profiles(clusterName=cluster_name)["fargateProfileNames"]:
        profile = eks.describe_fargate_profile(clusterName=cluster_name, fargateProfileName=profile_name)[
            "fargateProfile"
        ]
        namespaces = ", ".join(s.get("namespace", "?") for s in profile.get("selectors", []))
        name = stack.name(f"Fargate profile {profile_name}")
        if profile["status"] == "ACTIVE":
            yield passed(name, f"ACTIVE for {namespaces}")
        else:
            yield failed(name, profile["status"], "see the profile's health in the EKS console")
    group = stack.outputs.get("FargatePodLogGroup")
    if not group:
        return
    streams = stack.client("logs").describe_log_streams(
        logGroupName=group, orderBy="LastEventTime", descending=True, limit=1
    )["logStreams"]
    name = stack.name(f"Fargate pod logs in {group}")
    if streams:
        yield passed(name, f"latest stream {streams[0]['logStreamName']}")
    else:
        yield warned(
            name,
            "no pod has logged yet",
            "logging applies to pods started after the aws-logging ConfigMap: restart the Fargate pods",
        )
