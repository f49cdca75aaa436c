"""The code of a unit's Lambda function: one handler and the modules it imports, nothing else.

A unit's `runtime/` folder holds its handlers; `constructs_lib/_shared/runtime/` holds the runtime
modules every unit shares (`cfn_response`, the custom-resource protocol, and the helpers beside
it). A function's package is built at synth by copying, into the root of the package, the handler
module and every module it imports by top-level name from its own `runtime/` folder or the shared
one, transitively. So a handler imports `import cfn_response` in Lambda as in the tests (which put
the shared folder on `sys.path`), and a change to one handler, or to a shared module it does not
use, leaves the code of the unit's other functions unchanged.

The copy is CDK's local bundling (`ILocalBundling`): no Docker
(https://docs.aws.amazon.com/cdk/api/v2/docs/aws-cdk-lib.ILocalBundling.html). The asset hash is
that of the package's file names and contents: CDK keys its bundling cache on the source folder and
the options, which two handlers of one folder share, so the hash must tell their packages apart.
"""

from __future__ import annotations

import ast
import hashlib
import shutil
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import jsii
from aws_cdk import aws_lambda as lambda_

SHARED_RUNTIME = Path(__file__).parent / "runtime"


def package_files(runtime: Path, handler_module: str) -> list[Path]:
    """The handler's file and those of the modules it needs from `runtime` and the shared folder."""
    folders = (runtime, SHARED_RUNTIME)
    start = runtime / f"{handler_module}.py"
    if not start.is_file():
        raise ValueError(f"handler_module must name a file of {runtime}, got {handler_module!r}")
    found: list[Path] = []
    pending = [start]
    while pending:
        path = pending.pop()
        if path in found:
            continue
        found.append(path)
        for name in _top_level_imports(path):
            pending += [folder / f"{name}.py" for folder in folders if (folder / f"{name}.py").is_file()]
    names = [path.name for path in found]
    clashes = sorted({name for name in names if names.count(name) > 1})
    if clashes:
        raise ValueError(f"{runtime} has modules named like shared runtime modules: {', '.join(clashes)}")
    return sorted(found, key=lambda path: path.name)


def _top_level_imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            names.add(node.module.split(".")[0])
    return names


@jsii.implements(cdk.ILocalBundling)
class _CopyFiles:
    """Local bundling that copies a fixed list of files into the asset's output folder."""

    def __init__(self, files: list[Path]) -> None:
        self._files = files

    def try_bundle(self, output_dir: str, *_args: Any, **_options: Any) -> bool:
        for path in self._files:
            shutil.copyfile(path, Path(output_dir) / path.name)
        return True


def handler_code(runtime: Path, handler_module: str) -> lambda_.Code:
    """The code of a function whose handler is `<handler_module>.handler` (see the module docstring)."""
    files = package_files(runtime, handler_module)
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return lambda_.Code.from_asset(
        str(runtime),
        asset_hash=digest.hexdigest(),
        bundling=cdk.BundlingOptions(
            # Never pulled: the local copy always succeeds. It is the image CDK would use to build
            # Python functions in a container.
            image=lambda_.Runtime.PYTHON_3_14.bundling_image,
            local=_CopyFiles(files),
        ),
    )
