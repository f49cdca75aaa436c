"""Configuration of the GuardDuty stack: the detector's container features and where findings go."""

from __future__ import annotations

from dataclasses import dataclass, field

from constructs_lib._shared.notifications import EMAIL_PATTERN
from constructs_lib.security import SEVERITY_LEVELS, GuardDutyFeatures
from stacks.config.loader import ConfigError, setting


@dataclass(frozen=True)
class GuardDutyFindingsConfig:
    """Where GuardDuty findings go."""

    minimum_severity: str = setting("HIGH", choices=tuple(SEVERITY_LEVELS))
    # Subscribed to the findings topic (AWS sends a confirmation mail first); none by default.
    email: str | None = setting(None, pattern=EMAIL_PATTERN, example="you@example.com")


@dataclass(frozen=True)
class GuardDutyConfig:
    """The region's GuardDuty detector (created, or adopted and put back on destroy) and its findings."""

    enabled: bool = True
    # true: the stack creates the detector or adopts the existing one and sets `features`.
    # false: features are left as they are (a member account whose GuardDuty the Organization's
    # delegated administrator manages may not change them); the detector must exist.
    manage_features: bool = True
    # The construct's own settings (constructs_lib/security/detector.py, GuardDutyFeatures).
    features: GuardDutyFeatures = field(default_factory=GuardDutyFeatures)
    findings: GuardDutyFindingsConfig = field(default_factory=GuardDutyFindingsConfig)

    def check(self, path: str) -> None:
        try:
            self.features.validate()
        except ValueError as error:
            raise ConfigError(f"{path}.features.{error}") from None
