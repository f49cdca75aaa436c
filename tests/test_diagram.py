"""The architecture diagram in both READMEs is the one the app composes today."""

from __future__ import annotations

import pytest

from ops.diagram import READMES, block, render, replace_block
from tests.conftest import Synthesized


@pytest.fixture(scope="module")
def diagram(sandbox: Synthesized) -> str:
    return render(sandbox.stacks)


@pytest.mark.parametrize("readme", READMES, ids=lambda p: p.name)
def test_readme_diagram_matches_the_app(readme, diagram: str) -> None:
    assert block(readme.read_text(encoding="utf-8")) == diagram, "run `make diagram` and commit"


def test_diagram_shows_every_stack_and_its_dependencies(sandbox: Synthesized, diagram: str) -> None:
    lines = diagram.splitlines()
    for stack_id, stack in sandbox.stacks.items():
        assert any(line.startswith(f'  subgraph {stack_id}["') for line in lines)
        for needed in stack.dependencies:
            assert f"  {stack_id} --> {needed.node.id}" in lines
    # The Network's VPC construct and the folder a user copies for it.
    assert '    Network_Vpc["Vpc: DualStackVpc<br/>network/"]' in lines


def test_replacing_the_block_needs_both_markers() -> None:
    with pytest.raises(ValueError, match="markers exactly once"):
        replace_block("no markers here", "```mermaid\n```")
