"""What a fork needs: a valid GitHub Actions workflow that runs what CI runs, and the licence.

`action-validator` (npm, pinned in package-lock.json) checks the workflow against GitHub's
published workflow schema; the tests below check what a schema cannot: every action is pinned by
commit, the Python versions are the ones the project supports, and the job runs `make test`.
"""

from __future__ import annotations

import re
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
VALIDATOR = ROOT / "node_modules" / ".bin" / "action-validator"
PINNED = re.compile(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}")


def _steps(workflow: dict[str, Any]) -> list[dict[str, Any]]:
    return [step for job in workflow["jobs"].values() for step in job.get("steps", [])]


def test_there_is_a_workflow() -> None:
    assert [path.name for path in WORKFLOWS] == ["test.yml"]


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_workflow_passes_the_schema_validator(path: Path) -> None:
    if not VALIDATOR.exists():
        pytest.fail("node_modules/.bin/action-validator is missing: run `make setup`")
    completed = subprocess.run([str(VALIDATOR), str(path)], capture_output=True, text=True, timeout=60)
    assert completed.returncode == 0, completed.stdout + completed.stderr


def test_validator_rejects_a_broken_workflow(tmp_path: Path) -> None:
    # Proves the check above can fail: a misspelt key is a schema error.
    broken = tmp_path / "broken.yml"
    broken.write_text("on: push\njobs:\n  test:\n    runs-on: ubuntu-24.04\n    stepz: []\n")
    completed = subprocess.run([str(VALIDATOR), str(broken)], capture_output=True, text=True, timeout=60)
    assert completed.returncode != 0


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_every_action_is_pinned_by_commit(path: Path) -> None:
    uses = [step["uses"] for step in _steps(yaml.safe_load(path.read_text())) if "uses" in step]
    assert uses, "the workflow uses no action: checkout at least"
    assert [use for use in uses if not PINNED.fullmatch(use)] == []


def test_workflow_tests_every_supported_python_minor() -> None:
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "test.yml").read_text())
    [job] = workflow["jobs"].values()
    versions = job["strategy"]["matrix"]["python"]
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    oldest = re.fullmatch(r">=3\.(\d+)", project["requires-python"])
    assert oldest is not None
    assert versions[0] == f"3.{oldest.group(1)}", "the oldest supported Python must be tested"
    assert [step["run"] for step in _steps(workflow) if "run" in step] == [
        "make test PYTHON=python${{ matrix.python }}"
    ]


def test_licence_file_matches_the_package_metadata() -> None:
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["license"]
    assert declared == {"text": "MIT-0"}
    assert (ROOT / "LICENSE").read_text().startswith("MIT No Attribution\n")


@pytest.mark.parametrize("readme", ["README.md", "README.ja.md"])
def test_readme_shows_the_workflows_status_badge(readme: str) -> None:
    # Relative to the README's page on GitHub, so every fork shows its own workflow's status.
    badge = "[![test](../../actions/workflows/test.yml/badge.svg)](../../actions/workflows/test.yml)"
    assert badge in (ROOT / readme).read_text(encoding="utf-8").split("\n\n")[1]
