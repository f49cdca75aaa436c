"""The outcome of one read-only check, printed as it runs: PASS, WARN, FAIL or SKIP with the fix."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import TextIO


class Status(Enum):
    PASS = "PASS"
    WARN = "WARN"
    # A blocker: deploying now would fail or overwrite something, or the feature is not live.
    FAIL = "FAIL"
    # Not applicable here (the stack is not deployed, the feature is off).
    SKIP = "SKIP"


@dataclass(frozen=True)
class Result:
    """What one check found: a one-line summary, the evidence, and what to do about a problem."""

    status: Status
    name: str
    detail: str = ""
    fix: str = ""

    def line(self) -> str:
        text = f"{self.status.value:<4}  {self.name}"
        if self.detail:
            text += f": {self.detail}"
        if self.fix and self.status in (Status.WARN, Status.FAIL):
            text += f"\n      fix: {self.fix}"
        return text


def passed(name: str, detail: str = "") -> Result:
    return Result(Status.PASS, name, detail)


def warned(name: str, detail: str, fix: str = "") -> Result:
    return Result(Status.WARN, name, detail, fix)


def failed(name: str, detail: str, fix: str = "") -> Result:
    return Result(Status.FAIL, name, detail, fix)


def skipped(name: str, detail: str) -> Result:
    return Result(Status.SKIP, name, detail)


def fail_if_any(name: str, offenders: Sequence[str], *, problem: str, fix: str, otherwise: str) -> Result:
    """FAIL naming each offender after `problem` when there is any, else PASS with `otherwise`."""
    if offenders:
        return failed(name, f"{problem}: {', '.join(offenders)}", fix)
    return passed(name, otherwise)


Check = Callable[[], Iterable[Result]]


def run(checks: Iterable[Check], *, out: TextIO | None = None) -> list[Result]:
    """Run each check in turn, printing every result as soon as it is known."""
    out = out or sys.stdout
    results: list[Result] = []
    for check in checks:
        for result in check():
            print(result.line(), file=out, flush=True)
            results.append(result)
    return results


def summary(results: Iterable[Result]) -> tuple[str, int]:
    """The closing line and the exit code: 1 when any check failed."""
    counts = {status: 0 for status in Status}
    for result in results:
        counts[result.status] += 1
    line = ", ".join(f"{counts[s]} {s.value.lower()}" for s in Status if counts[s])
    return line or "no checks ran", 1 if counts[Status.FAIL] else 0
