"""Every unit's Lambda-backed custom resources speak one protocol, from one module per `runtime/`."""

from __future__ import annotations

import ast
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


def test_every_runtime_folder_has_a_response_module_with_the_shared_contract() -> None:
    handlers = {p.parent for p in LIBRARY.rglob("runtime/*.py") if p.name not in ("__init__.py",)}
    assert handlers == set(RUNTIMES)
    for runtime in RUNTIMES:
        tree = ast.parse((runtime / "cfn_response.py").read_text())
        functions = {node.name: node for node in tree.body if isinstance(node, ast.FunctionDef)}
        assert {"respond", "out_of_time", "stack_is_being_torn_down"} <= set(functions), runtime
        respond = functions["respond"].args
        assert [a.arg for a in respond.args] == ["event", "context", "status"], runtime
        assert {"reason", "data", "physical_id"} <= {a.arg for a in respond.kwonlyargs}, runtime
        limits = [
            node.value.value
            for node in tree.body
            if isinstance(node, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == "MAX_REASON" for t in node.targets)
            and isinstance(node.value, ast.Constant)
        ]
        assert limits == [1000], runtime


# Folders packaged as the root of their Lambda package (handler `module.handler`); the others are
# packaged from their unit's folder (handler `runtime.module.handler`) and import relatively.
PACKAGE_ROOTS = [
    r for r in RUNTIMES if any("    import cfn_response" in p.read_text() for p in r.glob("*.py"))
]


@pytest.mark.parametrize("runtime", PACKAGE_ROOTS, ids=lambda p: str(p.relative_to(LIBRARY)))
def test_handlers_import_as_lambda_loads_them(runtime: Path) -> None:
    # Lambda imports the handler as a top-level module of the package's root.
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


def test_every_runtime_folder_holds_the_same_response_module() -> None:
    # Copied per unit (each Lambda package holds only its own folder), so the copies must not drift.
    copies = {r.relative_to(LIBRARY): (r / "cfn_response.py").read_bytes() for r in RUNTIMES}
    assert len(copies) > 1 and len(set(copies.values())) == 1, sorted(map(str, copies))
