"""Every unit's Lambda-backed custom resources speak one protocol, from one module per `runtime/`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import Synthesized

LIBRARY = Path(__file__).resolve().parents[1] / "constructs_lib"
RUNTIMES = sorted(path.parent for path in LIBRARY.rglob("runtime/cfn_response.py"))
# Custom resource types whose handlers live in constructs_lib (CDK's own providers are not ours).
OURS = (
    "Custom::KarpenterCleanup",
    "Custom::LoadBalancerControllerCleanup",
    "Custom::EksControlPlaneLogsGuard",
    "Custom::CreatedRepositoryCleanup",
)


def test_every_runtime_folder_has_the_same_response_module() -> None:
    handlers = {p.parent for p in LIBRARY.rglob("runtime/*.py") if p.name not in ("__init__.py",)}
    assert handlers == set(RUNTIMES)
    texts = {(runtime / "cfn_response.py").read_text() for runtime in RUNTIMES}
    assert len(texts) == 1, "the copies of cfn_response.py differ; keep them identical"


@pytest.mark.parametrize("runtime", RUNTIMES, ids=lambda p: str(p.relative_to(LIBRARY)))
def test_handlers_import_as_lambda_loads_them(runtime: Path) -> None:
    # Lambda puts the folder at the root of the package and imports the handler as a top-level module.
    modules = sorted(p.stem for p in runtime.glob("*.py") if p.stem not in ("__init__", "cfn_response"))
    code = "; ".join(f"import {m}; assert callable({m}.handler)" for m in modules)
    subprocess.run([sys.executable, "-c", code], cwd=runtime, check=True, capture_output=True)


def test_no_custom_resource_function_of_ours_is_retried_by_lambda(sandbox: Synthesized) -> None:
    checked = 0
    for stack_id in ("Eks", "Registry"):
        resources = sandbox.template_json(stack_id)["Resources"]
        retries = {
            r["Properties"]["FunctionName"]["Ref"]: r["Properties"]["MaximumRetryAttempts"]
            for r in resources.values()
            if r["Type"] == "AWS::Lambda::EventInvokeConfig"
        }
        for resource in resources.values():
            if resource["Type"] in OURS:
                function = resource["Properties"]["ServiceToken"]["Fn::GetAtt"][0]
                assert retries.get(function) == 0, f"{resource['Type']} in {stack_id}"
                checked += 1
    assert checked == len(OURS)


def test_each_eks_handler_ships_alone_with_the_response_module(sandbox: Synthesized) -> None:
    # The EKS unit's runtime/ holds two handlers; each function's package has its own only.
    resources = sandbox.template_json("Eks")["Resources"]
    packages = {}
    for resource in resources.values():
        if resource["Type"] in ("Custom::LoadBalancerControllerCleanup", "Custom::EksControlPlaneLogsGuard"):
            function = resources[resource["Properties"]["ServiceToken"]["Fn::GetAtt"][0]]
            asset = sandbox.outdir / f"asset.{function['Properties']['Code']['S3Key'].removesuffix('.zip')}"
            packages[function["Properties"]["Handler"]] = sorted(p.name for p in asset.iterdir())
    assert packages == {
        "load_balancer_cleanup.handler": ["__init__.py", "cfn_response.py", "load_balancer_cleanup.py"],
        "control_plane_logs.handler": ["__init__.py", "cfn_response.py", "control_plane_logs.py"],
    }
