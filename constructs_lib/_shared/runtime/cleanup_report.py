"""What a cleanup handler deleted and what it left, in the one line CloudFormation shows.

Cleanups that delete what a service made outside the stack (load balancers, GuardDuty's endpoint)
try everything, record each failure, and answer FAILED naming what is left, so that the stack
stops there rather than later on the VPC.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from botocore.exceptions import ClientError


@dataclass
class Report:
    """What the cleanup deleted, and what is left with the last error for each."""

    # What the deleted things are, for the summary: "load balancer resource".
    what: str = "resource"
    deleted: list[str] = field(default_factory=list)
    left: dict[str, str] = field(default_factory=dict)

    def summary(self) -> str:
        if not self.left:
            return f"deleted {len(self.deleted)} {self.what}(s): {', '.join(self.deleted) or 'none'}"
        left = ", ".join(f"{name} ({problem})" for name, problem in self.left.items())
        return f"deleted {len(self.deleted)}, left {len(self.left)}: {left}"


def error_code(error: Exception) -> str:
    """The AWS error code of a failed call (`AccessDenied`), or the exception's type."""
    if isinstance(error, ClientError):
        return str(error.response.get("Error", {}).get("Code") or type(error).__name__)
    return type(error).__name__
