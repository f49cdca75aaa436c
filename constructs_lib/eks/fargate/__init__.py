"""EKS on Fargate with Fluent Bit logging and ADOT Container Insights: one copyable folder.

Copy `constructs_lib/eks/fargate/` into another project; it depends only on `aws_cdk` and
`constructs`.
"""

from .aws_logging import MAX_CHARACTERS, check_aws_logging, render_aws_logging
from .fargate import CLOUDWATCH_ADDON, INSIGHTS_GROUPS, EksFargate, EksFargateProps
from .profiles import (
    DNS_1123_LABEL,
    MAX_LABELS_PER_SELECTOR,
    MAX_SELECTORS_PER_PROFILE,
    FargateSelector,
    SequentialFargateProfiles,
    check_selectors,
)

__all__ = [
    "CLOUDWATCH_ADDON",
    "DNS_1123_LABEL",
    "INSIGHTS_GROUPS",
    "MAX_CHARACTERS",
    "MAX_LABELS_PER_SELECTOR",
    "MAX_SELECTORS_PER_PROFILE",
    "EksFargate",
    "EksFargateProps",
    "FargateSelector",
    "SequentialFargateProfiles",
    "check_aws_logging",
    "check_selectors",
    "render_aws_logging",
]
