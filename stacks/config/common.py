"""Value sets shared by several configuration sections."""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping

import aws_cdk as cdk
from aws_cdk import aws_logs as logs

from stacks.config.loader import fail

# The retention periods CloudWatch Logs accepts (PutRetentionPolicy), in days.
LOG_RETENTION_DAYS: dict[int, logs.RetentionDays] = {
    1: logs.RetentionDays.ONE_DAY,
    3: logs.RetentionDays.THREE_DAYS,
    5: logs.RetentionDays.FIVE_DAYS,
    7: logs.RetentionDays.ONE_WEEK,
    14: logs.RetentionDays.TWO_WEEKS,
    30: logs.RetentionDays.ONE_MONTH,
    60: logs.RetentionDays.TWO_MONTHS,
    90: logs.RetentionDays.THREE_MONTHS,
    120: logs.RetentionDays.FOUR_MONTHS,
    150: logs.RetentionDays.FIVE_MONTHS,
    180: logs.RetentionDays.SIX_MONTHS,
    365: logs.RetentionDays.ONE_YEAR,
    400: logs.RetentionDays.THIRTEEN_MONTHS,
    545: logs.RetentionDays.EIGHTEEN_MONTHS,
    731: logs.RetentionDays.TWO_YEARS,
    1096: logs.RetentionDays.THREE_YEARS,
    1827: logs.RetentionDays.FIVE_YEARS,
    2192: logs.RetentionDays.SIX_YEARS,
    2557: logs.RetentionDays.SEVEN_YEARS,
    2922: logs.RetentionDays.EIGHT_YEARS,
    3288: logs.RetentionDays.NINE_YEARS,
    3653: logs.RetentionDays.TEN_YEARS,
}
LOG_RETENTION_CHOICES = tuple(LOG_RETENTION_DAYS)

# A region name as AWS spells it (ap-northeast-1, us-gov-west-1, eu-central-2).
REGION_PATTERN = r"[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d"

REMOVAL_POLICIES = {"destroy": cdk.RemovalPolicy.DESTROY, "retain": cdk.RemovalPolicy.RETAIN}

# Tag rules every taggable resource enforces at deploy (a bad key fails each resource it lands
# on, hundreds of errors for one typo): https://docs.aws.amazon.com/tag-editor/latest/userguide/tagging.html
TAG_KEY_MAX_LENGTH = 128
TAG_VALUE_MAX_LENGTH = 256
TAG_PUNCTUATION = set(" _.:/=+-@")
# A resource takes 50 tags; the stacks add their own (`stage`, `Name`, CDK's subnet tags, the
# load balancer and Karpenter discovery tags), so the stage's own tags must leave room for them.
MAX_STAGE_TAGS = 40


def _tag_text_is_allowed(text: str) -> bool:
    # Letters, numbers and separators in any script (\p{L}, \p{N}, \p{Z}), plus _ . : / = + - @.
    return all(unicodedata.category(ch)[0] in "LNZ" or ch in TAG_PUNCTUATION for ch in text)


def check_tags(tags: Mapping[str, str], path: str, reserved: tuple[str, ...] = ()) -> None:
    """Refuse, in one line, a tag that CloudFormation would reject on every resource it reaches."""
    if len(tags) > MAX_STAGE_TAGS:
        fail(
            path,
            f"may hold at most {MAX_STAGE_TAGS} tags (resources take 50, the stacks add some)",
            len(tags),
        )
    for key, value in tags.items():
        if not 1 <= len(key) <= TAG_KEY_MAX_LENGTH:
            fail(f"{path} key", f"must be 1 to {TAG_KEY_MAX_LENGTH} characters", key)
        if key.lower().startswith("aws:"):
            fail(f"{path} key", "must not start with aws: (reserved for AWS)", key)
        if key in reserved:
            fail(f"{path} key", "is set by the stacks themselves; remove it", key)
        if not _tag_text_is_allowed(key):
            fail(f"{path} key", "may hold only letters, numbers, spaces and _ . : / = + - @", key)
        if len(value) > TAG_VALUE_MAX_LENGTH:
            fail(f"{path}.{key}", f"must be at most {TAG_VALUE_MAX_LENGTH} characters", value)
        if not _tag_text_is_allowed(value):
            fail(f"{path}.{key}", "may hold only letters, numbers, spaces and _ . : / = + - @", value)
