"""Every copyable folder of constructs_lib/ says, in both READMEs, what a copy of it needs."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.test_readme_pair import EN, JA, chapters, parse

LIBRARY = Path(__file__).resolve().parents[1] / "constructs_lib"


def units() -> list[str]:
    """Folders with an `__init__.py`, except Lambda `runtime/` folders: each is copied whole."""
    return sorted(
        f"constructs_lib/{path.parent.relative_to(LIBRARY).as_posix()}/"
        for path in LIBRARY.rglob("__init__.py")
        if path.parent != LIBRARY and "runtime" not in path.relative_to(LIBRARY).parts
    )


def copying_chapter(readme: Path) -> str:
    """The text of the chapter at the place "Copying a construct" holds in the English README."""
    english = chapters(parse(EN.read_text(encoding="utf-8")))
    [index] = [i for i, chapter in enumerate(english) if chapter[0].title == "Copying a construct"]
    chapter = chapters(parse(readme.read_text(encoding="utf-8")))[index]
    return "\n".join(line for section in chapter for line in [section.title, *section.prose])


def test_the_library_has_the_units_we_know() -> None:
    assert {"constructs_lib/network/", "constructs_lib/eks/karpenter/"} <= set(units())
    assert not [unit for unit in units() if "runtime" in unit]


@pytest.mark.parametrize("readme", [EN, JA], ids=lambda p: p.name)
def test_copying_a_construct_names_every_unit(readme: Path) -> None:
    text = copying_chapter(readme)
    missing = [unit for unit in units() if f"`{unit}`" not in text]
    assert missing == [], f"{readme.name}, 'Copying a construct': add a row for each of {missing}"
