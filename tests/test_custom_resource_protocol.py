"""Every unit's Lambda-backed custom resources speak one protocol, from one shared module.

`constructs_lib/_shared/runtime/cfn_response.py` is the only copy; each function's package gets it
at synth, beside the handler, with whatever else the handler imports and nothing more.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from constructs_lib._shared.lambda_package import SHARED_RUNTIME, package_files
from tests.conftest import Synthesized

LIBRARY = Path(__file__).resolve().parents[1] / "constructs_lib"
RUNTIMES = sorted({path.parent for path in LIBRARY.rglob("runtime/*.py") if path.parent != SHARED_RUNTIME})
# Custom resource types whose handlers live in constructs_lib (CDK's own providers are not ours),
# by stack of the sandbox stage, and the unit folder of each one's handler.
OURS = {
    "Registry": ("Custom::CreatedRepositoryCleanup",),
    "EcsFargate": ("Custom::EcsInsightsLogsGuard", "Custom::EcsServiceLinkedRole"),
    "Eks": (
        "Custom::KarpenterCleanup",
        "Custom::LoadBalancerControllerCleanup",
        "Custom::EksControlPlaneLogsGuard",
    ),
    "EcsAnywhere": ("Custom::EcsAnywhereActivation",),
    "AppRunner": ("Custom::AppRunnerLogCleanup",),
    "GuardDuty": ("Custom::GuardDutyDetector", "Custom::GuardDutyAgentEndpointCleanup"),
}
RUNTIME_OF = {
    "Registry/Custom::CreatedRepositoryCleanup": LIBRARY / "ecr" / "runtime",
    "EcsFargate/Custom::EcsInsightsLogsGuard": LIBRARY / "ecs" / "runtime",
    "EcsFargate/Custom::EcsServiceLinkedRole": LIBRARY / "ecs" / "runtime",
    "Eks/Custom::KarpenterCleanup": LIBRARY / "eks" / "karpenter" / "runtime",
    "Eks/Custom::LoadBalancerControllerCleanup": LIBRARY / "eks" / "runtime",
    "Eks/Custom::EksControlPlaneLogsGuard": LIBRARY / "eks" / "runtime",
    "EcsAnywhere/Custom::EcsAnywhereActivation": LIBRARY / "ecs" / "anywhere" / "runtime",
    "AppRunner/Custom::AppRunnerLogCleanup": LIBRARY / "web" / "runtime",
    "GuardDuty/Custom::GuardDutyDetector": LIBRARY / "security" / "runtime",
    "GuardDuty/Custom::GuardDutyAgentEndpointCleanup": LIBRARY / "security" / "runtime",
}


def our_functions(synthesized: Synthesized) -> dict[str, tuple[str, dict]]:
    """`<stack>/<custom resource type>` -> (logical id, resource) of the function that serves it."""
    found = {}
    for stack_id, types in OURS.items():
        resources = synthesized.template_json(stack_id)["Resources"]
        for resource in resources.values():
            if resource["Type"] in types:
                logical_id = resource["Properties"]["ServiceToken"]["Fn::GetAtt"][0]
                found[f"{stack_id}/{resource['Type']}"] = (logical_id, resources[logical_id])
    return found


def package_dir(synthesized: Synthesized, function: dict) -> Path:
    return synthesized.outdir / f"asset.{function['Properties']['Code']['S3Key'].removesuffix('.zip')}"


def test_the_protocol_module_exists_once() -> None:
    copies = sorted(str(p.relative_to(LIBRARY)) for p in LIBRARY.rglob("cfn_response.py"))
    assert copies == ["_shared/runtime/cfn_response.py"]
    tree = ast.parse((SHARED_RUNTIME / "cfn_response.py").read_text())
    functions = {node.name: node for node in tree.body if isinstance(node, ast.FunctionDef)}
    assert {"respond", "out_of_time", "stack_is_being_torn_down"} <= set(functions)
    respond = functions["respond"].args
    assert [a.arg for a in respond.args] == ["event", "context", "status"]
    assert {"reason", "data", "physical_id"} <= {a.arg for a in respond.kwonlyargs}


@pytest.mark.parametrize("runtime", RUNTIMES, ids=lambda p: str(p.relative_to(LIBRARY)))
def test_every_handler_answers_through_the_shared_module(runtime: Path) -> None:
    handlers = [p for p in runtime.glob("*.py") if p.name != "__init__.py"]
    assert handlers
    for handler in handlers:
        assert SHARED_RUNTIME / "cfn_response.py" in package_files(runtime, handler.stem), handler


def test_every_function_of_ours_is_served_and_not_retried(sandbox: Synthesized) -> None:
    functions = our_functions(sandbox)
    assert sorted(functions) == sorted(f"{s}/{t}" for s, types in OURS.items() for t in types)
    for name, (logical_id, _) in functions.items():
        resources = sandbox.template_json(name.split("/")[0])["Resources"]
        retries = [
            r["Properties"]["MaximumRetryAttempts"]
            for r in resources.values()
            if r["Type"] == "AWS::Lambda::EventInvokeConfig"
            and r["Properties"]["FunctionName"] == {"Ref": logical_id}
        ]
        assert retries == [0], name


def test_each_package_holds_its_handler_and_what_it_imports_only(sandbox: Synthesized) -> None:
    functions = our_functions(sandbox)
    packages = {
        name: sorted(p.name for p in package_dir(sandbox, function).iterdir())
        for name, (_, function) in functions.items()
    }
    # The EKS, ECS and GuardDuty units' runtime/ folders hold two handlers each: each function's
    # package has its own handler only.
    assert packages["Eks/Custom::LoadBalancerControllerCleanup"] == [
        "cfn_response.py",
        "cleanup_report.py",
        "load_balancer_cleanup.py",
    ]
    assert packages["Eks/Custom::EksControlPlaneLogsGuard"] == [
        "cfn_response.py",
        "control_plane_logs.py",
        "log_group_guard.py",
    ]
    for name, (_, function) in functions.items():
        module = function["Properties"]["Handler"].removesuffix(".handler")
        expected = sorted(path.name for path in package_files(RUNTIME_OF[name], module))
        assert packages[name] == expected, name
        assert "cfn_response.py" in expected and f"{module}.py" in expected, name


def test_every_package_imports_as_lambda_loads_it(sandbox: Synthesized) -> None:
    # Lambda imports the handler as a top-level module of the package's root; -I keeps this
    # project's folders and PYTHONPATH off sys.path, so only the package (and boto3) can answer.
    code = ["import sys"]
    for _, function in our_functions(sandbox).values():
        module = function["Properties"]["Handler"].removesuffix(".handler")
        folder = package_dir(sandbox, function)
        code += [
            f"sys.path.insert(0, {str(folder)!r})",
            f"import {module}",
            f"assert callable({module}.handler)",
            "sys.path.pop(0)",
            *(f"del sys.modules[{p.stem!r}]" for p in folder.glob("*.py")),
        ]
    subprocess.run([sys.executable, "-I", "-c", "\n".join(code)], cwd=sandbox.outdir, check=True)


def test_a_package_follows_imports_and_refuses_a_shadowed_shared_module(tmp_path: Path) -> None:
    (tmp_path / "handler.py").write_text("import json\nimport helper\n")
    (tmp_path / "helper.py").write_text("from cfn_response import respond\n")
    (tmp_path / "unused.py").write_text("")
    files = package_files(tmp_path, "handler")
    assert [path.name for path in files] == ["cfn_response.py", "handler.py", "helper.py"]
    assert SHARED_RUNTIME / "cfn_response.py" in files
    (tmp_path / "cfn_response.py").write_text("")
    with pytest.raises(ValueError, match=r"named like shared runtime modules: cfn_response\.py"):
        package_files(tmp_path, "handler")
    with pytest.raises(ValueError, match=r"handler_module must name a file of .*, got 'missing'"):
        package_files(tmp_path, "missing")
