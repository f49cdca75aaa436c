"""The transcribed upstream policies equal Karpenter's own getting-started template.

`upstream_policies.py` is what the parity tests compare the synthesized policies with. Where the
upstream template itself is at hand (the shared reference folder beside the checkout, or the
file downloaded there with the command in the skip reason), this test reads it and proves the
transcription has not drifted or been mistyped. A fresh clone, and CI, skip it.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.karpenter.upstream_policies import UPSTREAM_POLICIES

REFERENCE = (
    Path(__file__).resolve().parents[3]
    / "shared"
    / "reference"
    / "karpenter-v1.14.1"
    / "getting-started-cloudformation.yaml"
)


class _CfnLoader(yaml.SafeLoader):
    """Reads CloudFormation short-form tags (`!Sub`, `!GetAtt`, ...) as their plain values."""


def _plain(loader: yaml.SafeLoader, _suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node)
    return loader.construct_mapping(node)  # type: ignore[arg-type]


_CfnLoader.add_multi_constructor("!", _plain)


def _sorted(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _sorted(item) for key, item in value.items()}
    if isinstance(value, list):
        return sorted(_sorted(item) for item in value)
    return value


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def upstream_from_reference() -> dict[str, dict[str, dict[str, Any]]]:
    template = yaml.load(REFERENCE.read_text(), Loader=_CfnLoader)
    policies: dict[str, dict[str, dict[str, Any]]] = {}
    for resource in template["Resources"].values():
        if resource["Type"] != "AWS::IAM::ManagedPolicy":
            continue
        name = re.fullmatch(
            r"KarpenterController(\w+)Policy-\$\{ClusterName\}", resource["Properties"]["ManagedPolicyName"]
        )
        assert name, resource["Properties"]["ManagedPolicyName"]
        document = json.loads(resource["Properties"]["PolicyDocument"])
        policies[name.group(1)] = {
            statement["Sid"]: {
                "Action": sorted(_as_list(statement["Action"])),
                "Resource": sorted(_as_list(statement["Resource"])),
                "Condition": _sorted(statement.get("Condition", {})),
            }
            for statement in document["Statement"]
        }
    return policies


# Karpenter's own download command for this file (its getting-started guide), at the pinned tag.
UPSTREAM_URL = (
    "https://raw.githubusercontent.com/aws/karpenter-provider-aws/v1.14.1/website/content/en/"
    "docs/getting-started/getting-started-with-karpenter/cloudformation.yaml"
)


@pytest.mark.skipif(
    not REFERENCE.exists(),
    reason=(
        f"runs only when Karpenter's getting-started template is at {REFERENCE} (the shared folder "
        f"beside this checkout); to run it: mkdir -p {REFERENCE.parent} && "
        f"curl -fsSL {UPSTREAM_URL} -o {REFERENCE}"
    ),
)
def test_transcribed_policies_equal_the_upstream_template() -> None:
    reference = upstream_from_reference()
    assert len(reference) == 6
    assert _sorted(UPSTREAM_POLICIES) == reference
