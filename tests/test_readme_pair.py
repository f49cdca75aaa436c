"""README.md and README.ja.md say the same things: sections, commands, stack names, configuration keys.

The Japanese README is a translation, so prose differs by design; what a reader acts on must not.
Besides those four, each section must hold as many paragraphs, list items and table rows, which
catches a sentence block added to one file only. Each test prints exactly what differs (a unified
diff, English first), so that bringing the Japanese file back in step after an edit of the English
one is mechanical.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EN = ROOT / "README.md"
JA = ROOT / "README.ja.md"

FENCE = re.compile(r"^\s*(`{3,}|~{3,})\s*([\w+-]*)")
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
BACKTICKED = re.compile(r"`([^`]+)`")
# A shell or YAML comment: from a `#` at the start of a line or after whitespace.
COMMENT = re.compile(r"(^|\s)#.*$")


@dataclass
class Block:
    """A fenced code block: its info string (`sh`, `yaml`, `text`, ...) and its lines."""

    info: str
    lines: list[str] = field(default_factory=list)


# Laid out like ops/cost.py's StackCost only by chance (two fields, then lists): nothing to share.
@dataclass
class Section:
    """What lies under one heading, down to the next heading of any level."""

    level: int
    title: str
    prose: list[str] = field(default_factory=list)
    blocks: list[Block] = field(default_factory=list)


def parse(text: str) -> list[Section]:
    """Split a README into sections by heading; `#` lines inside code blocks are not headings."""
    sections = [Section(0, "(before the first heading)")]
    fence: str | None = None
    for line in text.splitlines():
        opening = FENCE.match(line)
        if fence is None and opening:
            fence = opening.group(1)
            sections[-1].blocks.append(Block(opening.group(2)))
        elif fence is not None:
            if line.strip().startswith(fence) and not line.strip().strip(fence[0]):
                fence = None
            else:
                sections[-1].blocks[-1].lines.append(line)
        elif heading := HEADING.match(line):
            sections.append(Section(len(heading.group(1)), heading.group(2)))
        else:
            sections[-1].prose.append(line)
    return sections


def command_lines(block: Block) -> list[str]:
    """The lines of a block a reader would type or paste, without comments and annotations.

    Comments are prose and get translated. A `text` block is an annotated listing (a file tree):
    only its first column, the paths, must stay the same.
    """
    lines = []
    for line in block.lines:
        if block.info == "text":
            kept = line.split()[0] if line.strip() else ""
        elif block.info == "mermaid":
            kept = line.rstrip()
        else:
            kept = COMMENT.sub("", line).rstrip()
        if kept.strip():
            lines.append(kept)
    return lines


def require_equal(english: list[str], japanese: list[str], what: str, hint: str = "") -> None:
    """Fail with only the difference (no locals dump): what to change in README.ja.md, and where."""
    if english != japanese:
        pytest.fail(f"{what} differ:\n{diff(english, japanese)}{hint}", pytrace=False)


def diff(english: Iterable[str], japanese: Iterable[str]) -> str:
    return "\n".join(
        difflib.unified_diff(list(english), list(japanese), str(EN.name), str(JA.name), lineterm="", n=2)
    )


def heading_skeleton(sections: list[Section]) -> list[str]:
    """One line per heading: its level, and the code it names (`RegistryReplica`, `network`)."""
    skeleton = []
    for section in sections[1:]:
        codes = " ".join(f"`{code}`" for code in BACKTICKED.findall(section.title))
        skeleton.append(f"{'#' * section.level} {codes}".rstrip())
    return skeleton


def chapters(sections: list[Section]) -> list[list[Section]]:
    """Sections grouped by second-level heading (the first group is what precedes the first one)."""
    grouped: list[list[Section]] = [[]]
    for section in sections:
        if section.level == 2:
            grouped.append([])
        grouped[-1].append(section)
    return grouped


def stack_ids(sections: list[Section]) -> set[str]:
    """The stack ids of the feature table in "What is here": its second column, backticked."""
    [chapter] = [group for group in chapters(sections) if group[0].title == "What is here"]
    ids: set[str] = set()
    for line in chapter[0].prose:
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if line.startswith("|") and len(cells) > 2:
            ids.update(code for code in BACKTICKED.findall(cells[1]) if code[:1].isupper())
    return ids


def configuration_keys(chapter: list[Section]) -> list[str]:
    """Per subsection of the configuration reference, the backticked keys of its tables' first column."""
    keys = []
    for number, section in enumerate(chapter):
        for line in section.prose:
            if not line.startswith("|"):
                continue
            found = BACKTICKED.findall(line.strip().strip("|").split("|")[0])
            if found:
                keys.append(f"subsection {number}: {' '.join(found)}")
    return keys


@pytest.fixture(scope="module")
def english() -> list[Section]:
    return parse(EN.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def japanese() -> list[Section]:
    return parse(JA.read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    ("readme", "other"), [(EN, "README.ja.md"), (JA, "README.md")], ids=["en-links-ja", "ja-links-en"]
)
def test_each_readme_links_to_the_other_at_the_top(readme: Path, other: str) -> None:
    top = "\n".join(readme.read_text(encoding="utf-8").splitlines()[:5])
    assert f"]({other})" in top, f"{readme.name}: link to {other} in the first lines"


def test_both_readmes_have_the_same_headings_in_the_same_order(
    english: list[Section], japanese: list[Section]
) -> None:
    en, ja = heading_skeleton(english), heading_skeleton(japanese)
    titles = "\n".join(
        f"  {index:3} {e.title!r:60.60} | {j.title!r}"
        for index, (e, j) in enumerate(zip(english[1:], japanese[1:], strict=False), start=1)
    )
    require_equal(en, ja, "heading levels and the code they name", f"\nside by side:\n{titles}")


def test_every_code_block_holds_the_same_commands(english: list[Section], japanese: list[Section]) -> None:
    def listing(sections: list[Section]) -> list[str]:
        lines = []
        for number, block in enumerate((block for section in sections for block in section.blocks), 1):
            lines.append(f"--- block {number} ({block.info or 'no language'})")
            lines += command_lines(block)
        return lines

    en, ja = listing(english), listing(japanese)
    require_equal(en, ja, "code blocks (comments excepted)")


def test_every_chapter_names_the_same_stacks(english: list[Section], japanese: list[Section]) -> None:
    ids = stack_ids(english)
    assert {"Network", "Registry", "Eks"} <= ids, ids

    # Chapters are labelled with the English titles on both sides (the heading test keeps them aligned).
    titles = [chapter[0].title for chapter in chapters(english)]

    def named(sections: list[Section]) -> list[str]:
        lines = []
        for title, chapter in zip(titles, chapters(sections), strict=False):
            text = "\n".join(line for section in chapter for line in [section.title, *section.prose])
            lines.append(f"{title[:40]}: {' '.join(sorted(ids & set(BACKTICKED.findall(text))))}")
        return lines

    en, ja = named(english), named(japanese)
    require_equal(en, ja, "backticked stack ids per chapter")


def test_the_configuration_reference_lists_the_same_keys(
    english: list[Section], japanese: list[Section]
) -> None:
    [index] = [i for i, chapter in enumerate(chapters(english)) if chapter[0].title == "Configuration"]
    en = configuration_keys(chapters(english)[index])
    ja = configuration_keys(chapters(japanese)[index])
    assert len(en) > 50, "the configuration tables were not found"
    require_equal(en, ja, "configuration keys")


LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d+\.)\s")


def shape(section: Section) -> str:
    """How much a section says: its paragraphs, list items and table rows (prose is translated)."""
    paragraphs = sum(
        1
        for before, line in zip(["", *section.prose], section.prose, strict=False)
        if line.strip() and not before.strip()
    )
    items = sum(1 for line in section.prose if LIST_ITEM.match(line))
    rows = sum(1 for line in section.prose if line.startswith("|"))
    return f"{paragraphs} paragraphs, {items} list items, {rows} table rows"


def test_every_section_has_as_many_paragraphs_list_items_and_table_rows(
    english: list[Section], japanese: list[Section]
) -> None:
    # Catches a paragraph, bullet or table row added to one README and not yet to the other.
    en = [f"{e.title[:50]}: {shape(e)}" for e in english[1:]]
    ja = [f"{e.title[:50]}: {shape(j)}" for e, j in zip(english[1:], japanese[1:], strict=False)]
    require_equal(en, ja, "paragraphs, list items or table rows per section (English titles on both sides)")


def test_the_comparison_sees_a_changed_command_and_a_missing_heading() -> None:
    english = parse("# T\n\n## A\n\n```sh\nmake test   # runs it\n```\n\n### `x`\n")
    japanese = parse("# T\n\n## A\n\n```sh\nmake test   # 実行する\n```\n")
    assert [command_lines(b) for s in english for b in s.blocks] == [["make test"]]
    assert [command_lines(b) for s in japanese for b in s.blocks] == [["make test"]]
    assert heading_skeleton(english) == ["#", "##", "### `x`"]
    assert heading_skeleton(japanese) == ["#", "##"]
    # `#` inside a fence is a comment, not a heading; `text` listings compare by path only.
    listing = parse("```text\napp.py   composition root\n# not a heading\n```\n")
    assert len(listing) == 1 and command_lines(listing[0].blocks[0]) == ["app.py", "#"]
