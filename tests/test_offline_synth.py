"""Synth needs no credentials and no network: no context lookups, no boto3, no sockets.

This is also the one test that keeps CDK's built-in CloudFormation schema validation on
(`@aws-cdk/core:validateAgainstDefaultRules` turns its findings into errors), as `make synth` does.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk import aws_sqs as sqs

import app as app_module
from stacks.config import load_config
from tests.conftest import Synthesized
from tests.helpers import ROOT, run_python

# Runs app.py as the CDK CLI would, after making every socket connection and any import of
# boto3 or botocore fail loudly, so that a lookup or an SDK call at synth cannot go unnoticed.
GUARDED_ENTRY = """
import importlib.abc, runpy, socket, sys

def refuse(*args, **kwargs):
    raise OSError("network access during synth")

socket.socket.connect = refuse
socket.create_connection = refuse

class NoSdk(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.split(".")[0] in ("boto3", "botocore"):
            raise ImportError(f"{name} imported during synth")
        return None

sys.meta_path.insert(0, NoSdk())
sys.argv = ["app.py"]
runpy.run_path("app.py", run_name="__main__")
"""


def test_synth_with_an_account_known_makes_no_lookup_and_no_network_call(tmp_path: Path) -> None:
    outdir = tmp_path / "cdk.out"
    env = {key: value for key, value in os.environ.items() if not key.startswith(("AWS_", "CDK_"))}
    env.update(
        HOME=str(tmp_path),
        AWS_CONFIG_FILE=str(tmp_path / "none"),
        AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "none"),
        # What the CLI sets when it finds credentials: the account makes stacks environment-
        # specific, which is when CDK would otherwise ask for availability-zone lookups.
        CDK_DEFAULT_ACCOUNT="111122223333",
        CDK_DEFAULT_REGION="eu-west-1",
        CDK_OUTDIR=str(outdir),
        CDK_CONTEXT_JSON=json.dumps(json.loads((ROOT / "cdk.json").read_text())["context"]),
    )
    result = run_python("-c", GUARDED_ENTRY, env=env, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Node 20 is end-of-life" not in result.stderr
    manifest = json.loads((outdir / "manifest.json").read_text())
    assert "missing" not in manifest, f"synth asked for context lookups: {manifest.get('missing')}"
    stacks = {name: a for name, a in manifest["artifacts"].items() if a["type"] == "aws:cloudformation:stack"}
    assert "Network" in stacks
    environments = {name: artifact["environment"] for name, artifact in stacks.items()}
    # The replication template lives in the destination region, whatever the CLI's region.
    assert environments.pop("RegistryReplica") == "aws://111122223333/ap-northeast-3"
    assert set(environments.values()) == {"aws://111122223333/eu-west-1"}


def test_without_credentials_stacks_use_the_configured_region(sandbox: Synthesized) -> None:
    manifest = json.loads((sandbox.outdir / "manifest.json").read_text())
    assert "missing" not in manifest
    environments = {
        name: artifact["environment"]
        for name, artifact in manifest["artifacts"].items()
        if artifact["type"] == "aws:cloudformation:stack"
    }
    assert environments.pop("RegistryReplica") == "aws://unknown-account/ap-northeast-3"
    assert set(environments.values()) == {"aws://unknown-account/ap-northeast-1"}


def test_cli_region_is_used_only_together_with_credentials() -> None:
    config = load_config()
    assert (
        app_module.resolve_environment(config, {"CDK_DEFAULT_REGION": "us-east-1"}).region == "ap-northeast-1"
    )
    env = app_module.resolve_environment(
        config, {"CDK_DEFAULT_ACCOUNT": "1", "CDK_DEFAULT_REGION": "us-east-1"}
    )
    assert (env.account, env.region) == ("1", "us-east-1")


def test_builtin_validation_with_the_project_flags_fails_synth_on_a_schema_violation(tmp_path: Path) -> None:
    # What makes the passing synth above mean something: with cdk.json's flags, CloudFormation
    # schema findings are errors, not warnings.
    app = cdk.App(context=json.loads((ROOT / "cdk.json").read_text())["context"], outdir=str(tmp_path))
    queue = sqs.CfnQueue(cdk.Stack(app, "Probe"), "Queue")
    queue.add_property_override("MessageRetentionPeriod", "forever")
    with pytest.raises(RuntimeError, match=r"MessageRetentionPeriod: .forever. is not of type .integer."):
        app.synth()
