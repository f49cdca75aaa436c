"""A sample workload on Fargate that writes one JSON log line every few seconds.

With the `aws-logging` ConfigMap's kubernetes filter, each line reaches CloudWatch Logs as one
record: the JSON fields merged at the top level (`level`, `message`, `order_id`, ...) beside a
`kubernetes` object with the pod's namespace, name, labels and container image.
"""

from __future__ import annotations

from typing import Any

NAME = "json-logger"
# Multi-arch and small; the shell loop needs nothing else.
IMAGE = "public.ecr.aws/docker/library/busybox:1.37"
LABELS = {"app.kubernetes.io/name": NAME}

# One structured line per iteration; `$RANDOM` gives the line a varying latency to query on.
_SCRIPT = (
    "i=0; while true; do i=$((i+1)); "
    'printf \'{"level":"info","message":"order processed","order_id":%d,"duration_ms":%d}\\n\' '
    "$i $((RANDOM % 500)); "
    "if [ $((i % 10)) -eq 0 ]; then "
    'printf \'{"level":"warn","message":"slow downstream","order_id":%d}\\n\' $i; fi; '
    "sleep 5; done"
)


def json_logger_manifests(*, namespace: str, image: str = IMAGE, replicas: int = 1) -> list[dict[str, Any]]:
    """The workload's Namespace and Deployment, in apply order."""
    return [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}},
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": NAME, "namespace": namespace, "labels": LABELS},
            "spec": {
                "replicas": replicas,
                "selector": {"matchLabels": LABELS},
                "template": {
                    "metadata": {"labels": LABELS},
                    "spec": {
                        "securityContext": {"runAsNonRoot": True, "runAsUser": 65534},
                        "containers": [
                            {
                                "name": NAME,
                                "image": image,
                                "command": ["/bin/sh", "-c", _SCRIPT],
                                # The smallest Fargate size (0.25 vCPU, 0.5 GB).
                                "resources": {
                                    "requests": {"cpu": "100m", "memory": "64Mi"},
                                    "limits": {"memory": "64Mi"},
                                },
                                "securityContext": {
                                    "allowPrivilegeEscalation": False,
                                    "readOnlyRootFilesystem": True,
                                    "capabilities": {"drop": ["ALL"]},
                                },
                            }
                        ],
                    },
                },
            },
        },
    ]
