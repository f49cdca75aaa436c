"""Copyability: a folder of constructs_lib/ depends on aws_cdk, constructs, the standard library
and itself, never on stacks/, the configuration, the app, the tests, or another unit."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

LIBRARY = Path(__file__).resolve().parents[1] / "constructs_lib"
THIRD_PARTY = {"aws_cdk", "constructs", "boto3", "botocore", "jsii"}
MODULES = sorted(path for path in LIBRARY.rglob("*.py") if "__pycache__" not in path.parts)


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


def unit_of(path: Path) -> str:
    """`constructs_lib/eks/karpenter/x.py` -> `eks`: the top folder is the copyable unit."""
    return path.relative_to(LIBRARY).parts[0]


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(LIBRARY)))
def test_library_module_imports_only_its_own_unit_and_allowed_packages(path: Path) -> None:
    for line, module in imported_modules(path):
        top = module.split(".")[0]
        if top in sys.stdlib_module_names or top in THIRD_PARTY or top == "__future__":
            continue
        if path.parent == LIBRARY:
            continue
        if path.parent.name == "runtime" and (path.parent / f"{module}.py").is_file():
            # Lambda packages a runtime/ folder as its root: a sibling is imported by its bare name.
            continue
        parts = module.split(".")
        assert parts[0] == "constructs_lib" and len(parts) > 1 and parts[1] == unit_of(path), (
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
