"""The `aws-logging` ConfigMap of EKS on Fargate's built-in Fluent Bit, and the rules Fargate checks it by.

Fargate runs Fluent Bit beside every pod and configures it from the ConfigMap `aws-logging` in
the namespace `aws-observability` (labelled `aws-observability: enabled`). Fargate accepts only
what the EKS user guide lists, and a ConfigMap it rejects silently disables logging for new pods
(the reason appears only as a pod annotation): "Start AWS Fargate logging for your cluster",
https://docs.aws.amazon.com/eks/latest/userguide/fargate-logging.html. `check_aws_logging`
encodes those rules so that a bad configuration fails at synth instead.

The configuration rendered here: the CRI parser (containerd writes `<time> <stream> <P|F> <line>`),
the kubernetes filter (pod metadata, the JSON line merged into the record, the raw line dropped)
and the `cloudwatch_logs` output to one existing group (`auto_create_group false`, so Fluent Bit
never creates a group the stack does not own).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

NAMESPACE = "aws-observability"
NAMESPACE_LABELS: Mapping[str, str] = {"aws-observability": "enabled"}
CONFIG_MAP_NAME = "aws-logging"

# Fargate's rules (EKS user guide, fargate-logging):
MAX_CHARACTERS = 5300
SECTION_OF_KEY = {"filters.conf": "FILTER", "output.conf": "OUTPUT", "parsers.conf": "PARSER"}
# `flb_log_cw: "true"` ships Fluent Bit's own logs to a group EKS creates (`<cluster>-fluent-bit-logs`).
FLAG_KEYS = ("flb_log_cw",)
REQUIRED_KEYS = {"FILTER": ("name", "match"), "OUTPUT": ("name", "match"), "PARSER": ("name", "format")}
SUPPORTED_FILTERS = (
    "grep",
    "parser",
    "record_modifier",
    "rewrite_tag",
    "throttle",
    "nest",
    "modify",
    "kubernetes",
)
SUPPORTED_OUTPUTS = ("es", "firehose", "kinesis_firehose", "cloudwatch", "cloudwatch_logs", "kinesis")
# Fargate fills these in itself and rejects them ("service owned configuration parameters").
SERVICE_OWNED_KUBERNETES_KEYS = ("kube_url", "kube_ca_file", "kube_token_command", "kube_token_file")

# Fargate's fixed input tags container logs `kube.*`.
INPUT_TAG_MATCH = "kube.*"
PARSER_NAME = "cri"
# How long Fluent Bit caches pod metadata before asking the API server again; Fargate's own
# default when unset is 30 minutes, which hides label changes for that long.
DEFAULT_METADATA_CACHE_TTL = "300s"

_SECTION = re.compile(r"^(\s*)\[([A-Za-z]+)\]\s*$")
_KEY_VALUE = re.compile(r"^(\s*)(\S+)\s+(.+?)\s*$")


def _section(kind: str, entries: list[tuple[str, str]]) -> str:
    width = max(len(key) for key, _ in entries)
    lines = [f"[{kind}]"] + [f"    {key.ljust(width)} {value}" for key, value in entries]
    return "\n".join(lines) + "\n"


def render_aws_logging(
    *,
    region: str,
    log_group_name: str,
    log_stream_prefix: str = "fargate-",
    metadata_cache_ttl: str = DEFAULT_METADATA_CACHE_TTL,
) -> dict[str, str]:
    """The `data` of the `aws-logging` ConfigMap: CRI parser, kubernetes filter, CloudWatch Logs output."""
    parsers = _section(
        "PARSER",
        [
            ("Name", PARSER_NAME),
            ("Format", "regex"),
            # The CRI log format of containerd: time, stream, partial/full tag, the line itself.
            ("Regex", r"^(?<time>[^ ]+) (?<stream>stdout|stderr) (?<logtag>P|F) (?<log>.*)$"),
            ("Time_Key", "time"),
            ("Time_Format", "%Y-%m-%dT%H:%M:%S.%L%z"),
        ],
    )
    filters = _section(
        "FILTER",
        [("Name", "parser"), ("Match", INPUT_TAG_MATCH), ("Key_Name", "log"), ("Parser", PARSER_NAME)],
    ) + _section(
        "FILTER",
        [
            ("Name", "kubernetes"),
            ("Match", INPUT_TAG_MATCH),
            # A JSON line becomes fields of the record; the raw line is then dropped.
            ("Merge_Log", "On"),
            ("Keep_Log", "Off"),
            # No limit on the API server's metadata response (the EKS guide's setting).
            ("Buffer_Size", "0"),
            ("Kube_Meta_Cache_TTL", metadata_cache_ttl),
        ],
    )
    output = _section(
        "OUTPUT",
        [
            ("Name", "cloudwatch_logs"),
            ("Match", INPUT_TAG_MATCH),
            ("region", region),
            ("log_group_name", log_group_name),
            ("log_stream_prefix", log_stream_prefix),
            # The group is the stack's (retention, encryption, deleted with the stack).
            ("auto_create_group", "false"),
        ],
    )
    return {"flb_log_cw": "false", "filters.conf": filters, "output.conf": output, "parsers.conf": parsers}


def check_aws_logging(data: Mapping[str, str], *, token_allowance: int = 0) -> None:
    """Raise `ValueError` (one line) where `data` breaks a rule Fargate validates the ConfigMap by.

    `token_allowance`: characters added to the size for each unresolved CDK token in `data`
    (a token's final text, such as a region, is unknown at synth).
    """
    unknown = sorted(set(data) - set(SECTION_OF_KEY) - set(FLAG_KEYS))
    if unknown:
        raise ValueError(
            f"aws-logging may hold only {', '.join([*SECTION_OF_KEY, *FLAG_KEYS])}, got {unknown}"
        )
    size = sum(len(key) + len(value) for key, value in data.items()) + token_allowance
    if size > MAX_CHARACTERS:
        raise ValueError(f"aws-logging must not exceed {MAX_CHARACTERS} characters, got {size}")
    for key in FLAG_KEYS:
        if key in data and data[key] not in ("true", "false"):
            raise ValueError(f'aws-logging {key} must be "true" or "false", got {data[key]!r}')
    outputs = 0
    for key, kind in SECTION_OF_KEY.items():
        if key not in data:
            continue
        if "${" in data[key]:
            raise ValueError(f"aws-logging {key} must not use environment variables, got {data[key]!r}")
        for section in _parse_sections(key, data[key]):
            found, entries = section
            if found != kind:
                raise ValueError(f"aws-logging {key} may hold only [{kind}] sections, got [{found}]")
            missing = [name for name in REQUIRED_KEYS[kind] if name not in entries]
            if missing:
                raise ValueError(
                    f"aws-logging {key} [{kind}] must set {', '.join(missing)}, got {dict(entries)}"
                )
            plugin = entries["name"].lower()
            if kind == "FILTER" and plugin not in SUPPORTED_FILTERS:
                raise ValueError(
                    f"aws-logging filter must be one of {', '.join(SUPPORTED_FILTERS)}, got {plugin!r}"
                )
            if kind == "OUTPUT":
                if plugin not in SUPPORTED_OUTPUTS:
                    raise ValueError(
                        f"aws-logging output must be one of {', '.join(SUPPORTED_OUTPUTS)}, got {plugin!r}"
                    )
                outputs += 1
            if plugin == "kubernetes":
                owned = sorted(set(entries) & set(SERVICE_OWNED_KUBERNETES_KEYS))
                if owned:
                    raise ValueError(
                        f"aws-logging kubernetes filter must not set {', '.join(owned)} (Fargate sets them)"
                    )
    if outputs == 0:
        raise ValueError("aws-logging output.conf must hold at least one supported [OUTPUT], got none")


def _parse_sections(key: str, text: str) -> list[tuple[str, dict[str, str]]]:
    """`[KIND]` headers and their `key value` lines (keys lowercased: Fargate ignores their case).

    Fargate also requires one indentation for every header and a deeper one for every entry.
    """
    sections: list[tuple[str, dict[str, str]]] = []
    header_indent: int | None = None
    entry_indent: int | None = None
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        header = _SECTION.match(line)
        if header:
            indent = len(header.group(1))
            if header_indent is not None and indent != header_indent:
                raise ValueError(f"aws-logging {key} must indent every section header alike, got {line!r}")
            header_indent = indent
            sections.append((header.group(2).upper(), {}))
            continue
        entry = _KEY_VALUE.match(line)
        if entry is None or not sections:
            raise ValueError(
                f"aws-logging {key} must hold `[SECTION]` headers and `key value` lines, got {line!r}"
            )
        indent = len(entry.group(1))
        if entry_indent is not None and indent != entry_indent:
            raise ValueError(f"aws-logging {key} must indent every entry alike, got {line!r}")
        if header_indent is not None and indent <= header_indent:
            raise ValueError(f"aws-logging {key} must indent entries deeper than headers, got {line!r}")
        entry_indent = indent
        sections[-1][1][entry.group(2).lower()] = entry.group(3)
    return sections


def aws_logging_manifests(data: Mapping[str, str]) -> list[dict[str, Any]]:
    """The `aws-observability` namespace and the `aws-logging` ConfigMap, in apply order."""
    return [
        {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {"name": NAMESPACE, "labels": dict(NAMESPACE_LABELS)},
        },
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": CONFIG_MAP_NAME, "namespace": NAMESPACE},
            "data": dict(data),
        },
    ]
