"""The journey's commands: stack selection, the Makefile's stage handling, and one-line errors."""

from __future__ import annotations

import dataclasses
import json
import subprocess
from pathlib import Path

import pytest

from ops import assembly
from ops.__main__ import main
from ops.aws import JourneyError, connect
from stacks.config import AppConfig, ConfigError, load_config
from stacks.config.loader import build
from tests.conftest import Synthesized
from tests.ops.conftest import ACCOUNT, REGION, FakeAws, stack_info

ROOT = Path(__file__).resolve().parents[2]


def test_reads_the_stacks_this_synth_wrote_in_dependency_order(sandbox: Synthesized) -> None:
    stacks = assembly.read(sandbox.outdir)
    ids = [s.id for s in stacks]
    assert set(ids) == set(sandbox.stacks)
    assert ids.index("RegistryReplica") < ids.index("Registry") < ids.index("EcsFargate")
    assert ids.index("Network") < ids.index("Eks")
    replica = next(s for s in stacks if s.id == "RegistryReplica")
    assert replica.region == "ap-northeast-3" and replica.account is None


def test_destroying_registry_names_its_replica_too() -> None:
    stacks = [
        stack_info("Network"),
        stack_info("RegistryReplica"),
        stack_info("Registry", dependencies=("RegistryReplica",)),
    ]
    assert assembly.destroy_selection(stacks, "Registry") == ["Registry", "RegistryReplica"]
    assert assembly.destroy_selection(stacks, "Network") == ["Network"]
    assert assembly.destroy_selection(stacks) == ["Network", "RegistryReplica", "Registry"]
    with pytest.raises(JourneyError, match=r"STACK must be one of the stage's stacks \(.*\), got 'Nope'"):
        assembly.destroy_selection(stacks, "Nope")


def test_app_runner_is_deployed_only_when_asked() -> None:
    stacks = [
        stack_info("Network"),
        stack_info("DataStores"),
        stack_info("AppRunner"),
        stack_info("ExpressMode"),
    ]
    assert assembly.deploy_selection(stacks, with_app_runner=False) == [
        "Network",
        "DataStores",
        "ExpressMode",
    ]
    assert "AppRunner" in assembly.deploy_selection(stacks, with_app_runner=True)


def test_synthesized_lists_only_the_manifests_stacks(
    sandbox: Synthesized, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--assembly", str(sandbox.outdir), "synthesized"]) == 0
    assert capsys.readouterr().out.split() == [s.id for s in assembly.read(sandbox.outdir)]
    assert main(["--assembly", str(tmp_path), "synthesized"]) == 1
    assert (
        capsys.readouterr().err
        == "error: no synthesized app in " + str(tmp_path) + "/: run `make synth` first\n"
    )


def test_a_bad_stage_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--stage", "nope", "cost"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: stage must name a file in config/") and err.count("\n") == 1


def test_fails_without_credentials(
    monkeypatch: pytest.MonkeyPatch, sandbox_config: AppConfig, tmp_path: Path
) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_REGION", REGION)
    with pytest.raises(JourneyError, match="no AWS credentials found"):
        connect(sandbox_config)


def test_fails_in_another_region_than_the_stages(
    fake_aws: FakeAws, monkeypatch: pytest.MonkeyPatch, sandbox_config: AppConfig
) -> None:
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    with pytest.raises(
        JourneyError,
        match=f"region eu-west-1 but stage 'sandbox' deploys to {REGION}: set AWS_REGION={REGION}",
    ):
        connect(sandbox_config, fake_aws.client)


def test_fails_in_an_account_the_stage_does_not_allow(
    fake_aws: FakeAws, monkeypatch: pytest.MonkeyPatch, sandbox_config: AppConfig
) -> None:
    monkeypatch.setenv("AWS_REGION", REGION)
    allowed = dataclasses.replace(sandbox_config, accounts=("111122223333",))
    with pytest.raises(JourneyError, match=f"account {ACCOUNT}, which stage 'sandbox' does not allow"):
        connect(allowed, fake_aws.client)
    assert (
        connect(dataclasses.replace(sandbox_config, accounts=(ACCOUNT,)), fake_aws.client).account_id
        == ACCOUNT
    )


def test_fails_when_an_allowed_account_is_not_twelve_digits() -> None:
    with pytest.raises(ConfigError, match=r"^accounts\[0\] must look like '111122223333', got '1234'$"):
        build(AppConfig, {"accounts": ["1234"]})
    assert load_config().accounts == ()


def _make(*args: str) -> str:
    result = subprocess.run(["make", "-n", *args], cwd=ROOT, capture_output=True, text=True, check=False)
    return result.stdout + result.stderr


def test_make_passes_the_stage_as_users_type_it() -> None:
    assert "cdk synth --quiet -c stage=production" in _make("synth", "STAGE=production")
    assert "cdk synth --quiet -c stage=production" in _make("synth", "stage=production")
    assert "cdk synth --quiet -c config=config/production.yaml" in _make(
        "synth", "CONFIG=config/production.yaml"
    )
    assert "ops --stage production target" in _make("deploy", "STACK=Network", "stage=production")
    assert "not both" in _make("synth", "STAGE=production", "CONFIG=x.yaml")


def test_make_synth_skips_the_builtin_validation_unless_asked_and_deploy_all_keeps_it() -> None:
    assert "SYNTH_VALIDATION=off node_modules/.bin/cdk synth" in _make("synth")
    assert "SYNTH_VALIDATION" not in _make("synth", "VALIDATE=1")
    assert "SYNTH_VALIDATION" not in _make("deploy-all")


def test_make_destroy_names_the_companions_and_destroy_all_lists_leftovers() -> None:
    destroy = _make("destroy", "STACK=Registry", "STAGE=production")
    assert "ops --stage production select destroy --stack Registry" in destroy
    assert "ops --stage production leftovers" in _make("destroy-all", "STAGE=production")
    assert "select deploy --with-app-runner" in _make("deploy-all", "WITH_APP_RUNNER=1")


def test_synthesized_ignores_templates_an_earlier_synth_left(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "Eks.template.json").write_text("{}")  # from an earlier synth of another stage
    (tmp_path / "Network.template.json").write_text("{}")
    manifest = {
        "version": "48.0.0",
        "artifacts": {
            "Network": {
                "type": "aws:cloudformation:stack",
                "environment": "aws://unknown-account/ap-northeast-1",
                "properties": {"templateFile": "Network.template.json"},
            }
        },
    }
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    assert main(["--assembly", str(tmp_path), "synthesized"]) == 0
    assert capsys.readouterr().out.split() == ["Network"]
