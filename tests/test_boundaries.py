"""Copyability: a folder of constructs_lib/ depends on aws_cdk, constructs, the standard library,
itself and the shared helpers of `constructs_lib/_shared/`, never on stacks/, the configuration,
the app, the tests, or another unit.

Runtime code (a `runtime/` folder) is what a Lambda function runs: besides the standard library
and boto3 it may import, by top-level name, its siblings and the shared runtime modules of
`_shared/runtime/`, which are copied into its package at synth; never CDK-side code.

`eks/karpenter/` is a unit of its own inside `eks/`: its README promise is that the folder copies
(with `_shared/`) onto any `aws_eks_v2.Cluster`, so it may not import the rest of `eks/` (the rest
of `eks/` may use it).
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

LIBRARY = Path(__file__).resolve().parents[1] / "constructs_lib"
THIRD_PARTY = {"aws_cdk", "constructs", "boto3", "botocore", "jsii"}
MODULES = sorted(path for path in LIBRARY.rglob("*.py") if "__pycache__" not in path.parts)
# The one helper package every unit may import (and a copy takes along).
SHARED = ("constructs_lib", "_shared")
SHARED_RUNTIME = LIBRARY / "_shared" / "runtime"


def imported_modules(path: Path) -> list[tuple[int, str]]:
    """Absolute module names imported by `path`, with relative imports resolved."""
    tree = ast.parse(path.read_text(), filename=str(path))
    package = path.relative_to(LIBRARY.parent).parts[:-1] if path.is_relative_to(LIBRARY) else ()
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                found.append((node.lineno, ".".join((*base, node.module or "")).rstrip(".")))
            else:
                found.append((node.lineno, node.module or ""))
    return found


# Units nested in another unit's folder, copyable alone.
NESTED_UNITS = (("eks", "karpenter"),)


def unit_of(path: Path) -> tuple[str, ...]:
    """`constructs_lib/eks/x.py` -> ("eks",), `constructs_lib/eks/karpenter/x.py` -> ("eks", "karpenter")."""
    parts = path.relative_to(LIBRARY).parts
    for nested in NESTED_UNITS:
        if parts[: len(nested)] == nested:
            return nested
    return parts[:1]


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(LIBRARY)))
def test_library_module_imports_only_its_own_unit_and_allowed_packages(path: Path) -> None:
    for line, module in imported_modules(path):
        top = module.split(".")[0]
        if top in sys.stdlib_module_names or top in THIRD_PARTY or top == "__future__":
            continue
        if path.parent == LIBRARY:
            continue
        if path.parent.name == "runtime" and any(
            (folder / f"{module}.py").exists() for folder in (path.parent, SHARED_RUNTIME)
        ):
            continue
        unit = unit_of(path)
        parts = tuple(module.split("."))
        if parts[:2] == SHARED and "runtime" not in path.relative_to(LIBRARY).parts:
            continue
        assert parts[0] == "constructs_lib" and parts[1 : 1 + len(unit)] == unit, (
            f"{path.relative_to(LIBRARY.parent)}:{line} imports {module}; a unit must be copyable alone"
        )


def test_the_check_sees_a_forbidden_import(tmp_path: Path) -> None:
    module = LIBRARY / "network" / "dual_stack_vpc.py"
    names = [name for _, name in imported_modules(module)]
    assert "aws_cdk.aws_ec2" in names or "aws_cdk" in names
    assert not any(name.startswith(("stacks", "app")) for name in names)
    probe = tmp_path / "probe.py"
    probe.write_text("from stacks.config import AppConfig\nimport app\n")
    assert [name for _, name in imported_modules(probe)] == ["stacks.config", "app"]


def test_the_nested_karpenter_unit_may_not_import_the_rest_of_eks() -> None:
    karpenter = LIBRARY / "eks" / "karpenter"
    assert unit_of(karpenter / "karpenter.py") == ("eks", "karpenter")
    assert unit_of(LIBRARY / "eks" / "cluster.py") == ("eks",)
    names = [name for path in karpenter.rglob("*.py") for _, name in imported_modules(path)]
    assert not [
        n
        for n in names
        if n.startswith("constructs_lib.eks.") and not n.startswith("constructs_lib.eks.karpenter")
    ]
