"""Container Insights for pods on EKS Fargate: one ADOT collector scraping cAdvisor through the API server.

Fargate runs no DaemonSets, so the `amazon-cloudwatch-observability` add-on (a DaemonSet) cannot
see Fargate pods, and a pod on Fargate cannot reach the kubelet of its own micro-VM. AWS's
documented design ("Container Insights EKS Fargate",
https://aws-otel.github.io/docs/getting-started/container-insights/eks-fargate/, and CloudWatch's
"Container Insights on Amazon EKS Fargate using AWS Distro for OpenTelemetry") is one collector
replica that discovers every node through the API server and scrapes each kubelet's cAdvisor
endpoint through the API server's node proxy (`/api/v1/nodes/<node>/proxy/metrics/cadvisor`),
turns the Fargate pods' series into Container Insights' pod metrics, and writes them with the EMF
exporter to `/aws/containerinsights/<cluster>/performance`, where CloudWatch extracts them into
the `ContainerInsights` namespace.

The collector runs on Fargate itself (its namespace needs a Fargate profile selector), so its AWS
credentials come through IRSA: EKS Pod Identity does not run on Fargate.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

NAMESPACE = "fargate-container-insights"
NAME = "adot-collector"
# The AWS Distro for OpenTelemetry collector from ECR Public (Docker Hub rate-limits anonymous
# pulls from Fargate's shared addresses); pinned: `latest` would change the collector under a
# running stack. Releases: https://github.com/aws-observability/aws-otel-collector/releases
IMAGE = "public.ecr.aws/aws-observability/aws-otel-collector:v0.50.0"
LABELS: Mapping[str, str] = {
    "app.kubernetes.io/name": NAME,
    "app.kubernetes.io/component": "container-insights",
}
CONFIG_FILE = "collector.yaml"

# What the collector reads, and nothing else: nodes (discovery) and the kubelet's cAdvisor
# metrics through the API server's node proxy.
RBAC_RULES: tuple[dict[str, Any], ...] = (
    {"apiGroups": [""], "resources": ["nodes"], "verbs": ["get", "list", "watch"]},
    {"apiGroups": [""], "resources": ["nodes/proxy"], "verbs": ["get"]},
)

# cAdvisor series -> Container Insights pod metrics (before the unit conversions below). Only
# the Fargate pods' own series: the pod-level cgroup has an empty `container` and `image`.
_POD_SERIES = {
    "container_cpu_usage_seconds_total": "pod_cpu_usage_seconds_total",
    "container_spec_cpu_quota": "pod_cpu_limit_raw",
    "container_spec_cpu_shares": "pod_cpu_request",
    "container_memory_working_set_bytes": "pod_memory_working_set",
    "container_spec_memory_limit_bytes": "pod_memory_limit",
    "container_memory_usage_bytes": "pod_memory_usage",
    "container_network_receive_bytes_total": "pod_network_rx_bytes",
    "container_network_transmit_bytes_total": "pod_network_tx_bytes",
}
# Counters that CloudWatch shows as per-second rates.
_RATES = ("pod_cpu_usage_seconds_total", "pod_network_rx_bytes", "pod_network_tx_bytes")
# The metrics CloudWatch extracts from the EMF events (the Container Insights Fargate pod view).
EXPORTED_METRICS = (
    "pod_cpu_utilization_over_pod_limit",
    "pod_cpu_usage_total",
    "pod_cpu_limit",
    "pod_memory_utilization_over_pod_limit",
    "pod_memory_working_set",
    "pod_memory_limit",
    "pod_network_rx_bytes",
    "pod_network_tx_bytes",
)


def collector_config(*, region: str, log_group_name: str) -> dict[str, Any]:
    """The collector's pipeline: Prometheus receiver -> Fargate pod metrics -> EMF to `log_group_name`."""
    service_account = "/var/run/secrets/kubernetes.io/serviceaccount"
    network_series = ("container_network_receive_bytes_total", "container_network_transmit_bytes_total")
    renames = [
        {
            "include": series,
            "new_name": metric,
            "action": "insert",
            # Network counters exist per pod only; the others also per container, so require
            # the pod-level cgroup (no container, no image).
            "experimental_match_labels": {"pod": "\\S", "LaunchType": "fargate"}
            if series in network_series
            else {"pod": "\\S", "container": "^$", "image": "^$", "LaunchType": "fargate"},
            "match_type": "regexp",
        }
        for series, metric in _POD_SERIES.items()
    ]
    return {
        "receivers": {
            "prometheus": {
                "config": {
                    "global": {"scrape_interval": "1m", "scrape_timeout": "40s"},
                    "scrape_configs": [
                        {
                            "job_name": "kubelet-cadvisor-through-api-server",
                            "sample_limit": 10000,
                            "scheme": "https",
                            "kubernetes_sd_configs": [{"role": "node"}],
                            "tls_config": {"ca_file": f"{service_account}/ca.crt"},
                            "bearer_token_file": f"{service_account}/token",
                            "relabel_configs": [
                                # Node labels (eks.amazonaws.com/compute-type among them) as labels.
                                {"action": "labelmap", "regex": "__meta_kubernetes_node_label_(.+)"},
                                # Every scrape goes to the API server, which proxies it to the node.
                                {"target_label": "__address__", "replacement": "kubernetes.default.svc:443"},
                                {
                                    "source_labels": ["__meta_kubernetes_node_name"],
                                    "regex": "(.+)",
                                    "target_label": "__metrics_path__",
                                    # `$$` is the collector's escape for a literal `$`.
                                    "replacement": "/api/v1/nodes/$${1}/proxy/metrics/cadvisor",
                                },
                            ],
                        }
                    ],
                }
            }
        },
        "processors": {
            "metricstransform/labels": {
                "transforms": [
                    {
                        "include": ".*",
                        "match_type": "regexp",
                        "action": "update",
                        "operations": [
                            {
                                "action": "update_label",
                                "label": "kubernetes_io_hostname",
                                "new_label": "NodeName",
                            },
                            {
                                "action": "update_label",
                                "label": "eks_amazonaws_com_compute_type",
                                "new_label": "LaunchType",
                            },
                        ],
                    }
                ]
            },
            # ClusterName from OTEL_RESOURCE_ATTRIBUTES (the `eks` detector would need to read
            # kube-system ConfigMaps, which the collector's RBAC does not allow).
            "resourcedetection": {"detectors": ["env"]},
            "metricstransform/pod_metrics": {"transforms": renames},
            "filter/pod_metrics": {
                "metrics": {"include": {"match_type": "regexp", "metric_names": ["pod_.*"]}}
            },
            "cumulativetodelta": {"include": {"metrics": list(_RATES), "match_type": "strict"}},
            "deltatorate": {"metrics": list(_RATES)},
            "metricsgeneration/scale": {
                "rules": [
                    # CPU seconds per second -> millicores; CFS quota (100 000 = 1 vCPU) -> millicores.
                    {
                        "name": "pod_cpu_usage_total",
                        "unit": "Millicore",
                        "type": "scale",
                        "metric1": "pod_cpu_usage_seconds_total",
                        "operation": "multiply",
                        "scale_by": 1000,
                    },
                    {
                        "name": "pod_cpu_limit",
                        "unit": "Millicore",
                        "type": "scale",
                        "metric1": "pod_cpu_limit_raw",
                        "operation": "divide",
                        "scale_by": 100,
                    },
                    {
                        "name": "pod_memory_utilization_over_pod_limit",
                        "unit": "Percent",
                        "type": "calculate",
                        "metric1": "pod_memory_working_set",
                        "metric2": "pod_memory_limit",
                        "operation": "percent",
                    },
                ]
            },
            "metricsgeneration/utilization": {
                "rules": [
                    {
                        "name": "pod_cpu_utilization_over_pod_limit",
                        "unit": "Percent",
                        "type": "calculate",
                        "metric1": "pod_cpu_usage_total",
                        "metric2": "pod_cpu_limit",
                        "operation": "percent",
                    },
                ]
            },
            "metricstransform/dimensions": {
                "transforms": [
                    {
                        "include": "pod_.*",
                        "match_type": "regexp",
                        "action": "update",
                        "operations": [
                            {"action": "add_label", "new_label": "Type", "new_value": "Pod"},
                            {"action": "update_label", "label": "namespace", "new_label": "Namespace"},
                            {"action": "update_label", "label": "pod", "new_label": "PodName"},
                        ],
                    }
                ]
            },
            "batch": {"timeout": "60s"},
        },
        "exporters": {
            "awsemf": {
                "region": region,
                "namespace": "ContainerInsights",
                # The group the stack created; `{ClusterName}` would be filled from the resource
                # attribute, the literal name makes the IAM scope and the group obviously one.
                "log_group_name": log_group_name,
                "log_stream_name": "{PodName}",
                "resource_to_telemetry_conversion": {"enabled": True},
                "eks_fargate_container_insights_enabled": True,
                "parse_json_encoded_attr_values": ["kubernetes"],
                "dimension_rollup_option": "NoDimensionRollup",
                "metric_declarations": [
                    {
                        "dimensions": [
                            ["ClusterName", "LaunchType"],
                            ["ClusterName", "Namespace", "LaunchType"],
                            ["ClusterName", "Namespace", "PodName", "LaunchType"],
                        ],
                        "metric_name_selectors": list(EXPORTED_METRICS),
                    }
                ],
            }
        },
        "extensions": {"health_check": {"endpoint": "[::]:13133"}},
        "service": {
            "extensions": ["health_check"],
            "pipelines": {
                "metrics": {
                    "receivers": ["prometheus"],
                    "processors": [
                        "metricstransform/labels",
                        "resourcedetection",
                        "metricstransform/pod_metrics",
                        "filter/pod_metrics",
                        "cumulativetodelta",
                        "deltatorate",
                        "metricsgeneration/scale",
                        "metricsgeneration/utilization",
                        "metricstransform/dimensions",
                        "batch",
                    ],
                    "exporters": ["awsemf"],
                }
            },
        },
    }


def collector_manifests(
    *, cluster_name: str, region: str, log_group_name: str, role_arn: str, image: str = IMAGE
) -> list[dict[str, Any]]:
    """Namespace, IRSA service account, read-only RBAC, configuration and the one-replica StatefulSet."""
    metadata = {"namespace": NAMESPACE, "labels": dict(LABELS)}
    # JSON is YAML: the collector reads it as its YAML configuration file.
    config = json.dumps(collector_config(region=region, log_group_name=log_group_name), indent=2)
    return [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}},
        {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": {**metadata, "name": NAME, "annotations": {"eks.amazonaws.com/role-arn": role_arn}},
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole",
            "metadata": {"name": NAME, "labels": dict(LABELS)},
            "rules": [dict(rule) for rule in RBAC_RULES],
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": {"name": NAME, "labels": dict(LABELS)},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": NAME},
            "subjects": [{"kind": "ServiceAccount", "name": NAME, "namespace": NAMESPACE}],
        },
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {**metadata, "name": NAME},
            "data": {CONFIG_FILE: config},
        },
        {
            # Headless: the StatefulSet's governing service; no traffic goes to the collector.
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {**metadata, "name": NAME},
            "spec": {
                "clusterIP": "None",
                "selector": dict(LABELS),
                "ports": [{"name": "health", "port": 13133}],
            },
        },
        {
            "apiVersion": "apps/v1",
            "kind": "StatefulSet",
            "metadata": {**metadata, "name": NAME},
            "spec": {
                # One replica: every replica would scrape every node and report each pod twice.
                "replicas": 1,
                "serviceName": NAME,
                "selector": {"matchLabels": dict(LABELS)},
                "template": {
                    "metadata": {"labels": dict(LABELS)},
                    "spec": {
                        "serviceAccountName": NAME,
                        "securityContext": {"runAsNonRoot": True, "runAsUser": 10001, "fsGroup": 65534},
                        "containers": [
                            {
                                "name": NAME,
                                "image": image,
                                "args": [f"--config=/conf/{CONFIG_FILE}"],
                                "env": [
                                    # ClusterName becomes a dimension; the region is the stack's.
                                    {
                                        "name": "OTEL_RESOURCE_ATTRIBUTES",
                                        "value": f"ClusterName={cluster_name}",
                                    },
                                    {"name": "AWS_REGION", "value": region},
                                ],
                                # Fargate sizes the pod from its requests plus 256 MB for its own
                                # components: 0.25 vCPU and 1 GB here.
                                "resources": {
                                    "requests": {"cpu": "250m", "memory": "512Mi"},
                                    "limits": {"memory": "512Mi"},
                                },
                                "livenessProbe": {"httpGet": {"path": "/", "port": 13133}},
                                "securityContext": {
                                    "allowPrivilegeEscalation": False,
                                    "readOnlyRootFilesystem": True,
                                    "capabilities": {"drop": ["ALL"]},
                                },
                                "volumeMounts": [{"name": "config", "mountPath": "/conf"}],
                            }
                        ],
                        "volumes": [{"name": "config", "configMap": {"name": NAME}}],
                    },
                },
            },
        },
    ]
