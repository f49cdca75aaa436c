"""ECR enhanced scanning (Amazon Inspector) for the registry, for the ECR part of the talk.

Enhanced scanning scans operating-system and language packages, on push and continuously, and
rescans when Amazon Inspector learns of a new vulnerability. The registry scanning
configuration is one per account and region: exactly one stack may own it.
https://docs.aws.amazon.com/AmazonECR/latest/userguide/image-scanning-enhanced.html
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import aws_cdk as cdk
from aws_cdk import aws_ecr as ecr
from constructs import Construct

# ScanningRepositoryFilter.filter: 1 to 255 characters, `*` matches zero or more characters.
# A filter without a wildcard matches every repository whose name contains it.
# https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_ScanningRepositoryFilter.html
SCAN_FILTER_PATTERN = r"[a-z0-9*](?:[._\-/a-z0-9*]?[a-z0-9*]+)*"
MAX_FILTERS_PER_RULE = 100


class EnhancedScanning(Construct):
    """The registry's scanning configuration: ENHANCED, with a continuous and an on-push rule.

    Repositories matched by `continuous_filters` are scanned on push and then continuously
    (Inspector rescans them when new vulnerabilities are published, for its re-scan duration,
    14 days after push by default for new accounts). Repositories matched by
    `scan_on_push_filters` (every repository by default, `*`) are scanned once, on push.
    Inspector bills each scan and rescan, which is why the continuous filters default to
    nothing and a stack should list only the repositories it deploys from.

    By default (`removal_policy` DESTROY) deleting it turns the registry back to BASIC
    scanning, so `cdk destroy` leaves no Inspector bill behind. CloudFormation does that by
    calling Amazon Inspector's Disable for the account (its delete handler needs
    `inspector2:Disable`; https://github.com/aws-cloudformation/cloudformation-coverage-roadmap/issues/2516).
    A member account of an AWS Organization cannot deactivate Inspector
    (https://docs.aws.amazon.com/inspector/latest/user/deactivating-best-practices.html), so
    there the delete fails and the stack stops in DELETE_FAILED. In such an account, or wherever
    Inspector is managed centrally, pass `cdk.RemovalPolicy.RETAIN`: the stack delete then
    leaves the registry's scanning configuration as it is and never calls Inspector.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        continuous_filters: Sequence[str] = (),
        scan_on_push_filters: Sequence[str] = ("*",),
        removal_policy: cdk.RemovalPolicy = cdk.RemovalPolicy.DESTROY,
    ) -> None:
        super().__init__(scope, construct_id)
        _check_filters("continuous_filters", continuous_filters)
        _check_filters("scan_on_push_filters", scan_on_push_filters)
        if not continuous_filters and not scan_on_push_filters:
            raise ValueError("continuous_filters or scan_on_push_filters must list a filter, got neither")

        rules = []
        for frequency, filters in (
            ("CONTINUOUS_SCAN", continuous_filters),
            ("SCAN_ON_PUSH", scan_on_push_filters),
        ):
            if filters:
                rules.append(
                    ecr.CfnRegistryScanningConfiguration.ScanningRuleProperty(
                        scan_frequency=frequency,
                        repository_filters=[
                            ecr.CfnRegistryScanningConfiguration.RepositoryFilterProperty(
                                filter=value, filter_type="WILDCARD"
                            )
                            for value in filters
                        ],
                    )
                )
        if removal_policy not in (cdk.RemovalPolicy.DESTROY, cdk.RemovalPolicy.RETAIN):
            raise ValueError(f"removal_policy must be DESTROY or RETAIN, got {removal_policy}")
        self.configuration = ecr.CfnRegistryScanningConfiguration(
            self, "Resource", scan_type="ENHANCED", rules=rules
        )
        self.configuration.apply_removal_policy(removal_policy)


def _check_filters(prop: str, filters: Sequence[str]) -> None:
    if isinstance(filters, str):
        raise ValueError(f"{prop} must be a list of filters, got {filters!r}")
    if len(filters) > MAX_FILTERS_PER_RULE:
        raise ValueError(f"{prop} must list at most {MAX_FILTERS_PER_RULE} filters, got {len(filters)}")
    for value in filters:
        if not (len(value) <= 255 and re.fullmatch(SCAN_FILTER_PATTERN, value)):
            raise ValueError(f"{prop} must be lowercase repository names with * wildcards, got {value!r}")
