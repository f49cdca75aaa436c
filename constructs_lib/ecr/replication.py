"""Cross-region replication of the private registry, for the ECR part of the talk.

The replication configuration is one per account and region: exactly one stack may own it.
Only images pushed after it is in place are replicated; the repository keeps its name in the
destination. https://docs.aws.amazon.com/AmazonECR/latest/userguide/replication.html
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import aws_cdk as cdk
from aws_cdk import aws_ecr as ecr
from constructs import Construct

# ReplicationConfiguration RepositoryFilter (PREFIX_MATCH): 2 to 256 characters.
_FILTER = re.compile(r"(?:[a-z0-9]+(?:[._-][a-z0-9]*)*/)*[a-z0-9]*(?:[._-][a-z0-9]*)*")
_REGION = re.compile(r"[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d")


class CrossRegionReplication(Construct):
    """Replicates repositories whose names start with `repository_prefixes` to `destination_region`.

    Same account, one rule. A prefix is a plain string prefix (`app/` matches `app/web`, while
    `app` would also match `apple`). Deleting the resource removes the replication
    configuration; replicas already made in the destination region stay there.

    Attributes: `configuration`, `destination_region`, `repository_prefixes`.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        destination_region: str,
        repository_prefixes: Sequence[str],
    ) -> None:
        super().__init__(scope, construct_id)
        if not _REGION.fullmatch(destination_region):
            raise ValueError(
                f"destination_region must be a region name such as ap-northeast-3, got {destination_region!r}"
            )
        region = cdk.Stack.of(self).region
        if not cdk.Token.is_unresolved(region) and region == destination_region:
            raise ValueError(
                f"destination_region must differ from the stack's region, got {destination_region!r}"
            )
        if isinstance(repository_prefixes, str) or not 1 <= len(repository_prefixes) <= 100:
            raise ValueError(f"repository_prefixes must list 1 to 100 prefixes, got {repository_prefixes!r}")
        for prefix in repository_prefixes:
            if not (2 <= len(prefix) <= 256 and _FILTER.fullmatch(prefix)):
                raise ValueError(f"repository_prefixes must be repository name prefixes, got {prefix!r}")
        self.destination_region = destination_region
        # Exactly the filters, as written: whatever cleans up the replicas must cover these.
        self.repository_prefixes = tuple(repository_prefixes)

        self.configuration = ecr.CfnReplicationConfiguration(
            self,
            "Resource",
            replication_configuration=ecr.CfnReplicationConfiguration.ReplicationConfigurationProperty(
                rules=[
                    ecr.CfnReplicationConfiguration.ReplicationRuleProperty(
                        destinations=[
                            ecr.CfnReplicationConfiguration.ReplicationDestinationProperty(
                                region=destination_region, registry_id=cdk.Aws.ACCOUNT_ID
                            )
                        ],
                        repository_filters=[
                            ecr.CfnReplicationConfiguration.RepositoryFilterProperty(
                                filter=prefix, filter_type="PREFIX_MATCH"
                            )
                            for prefix in repository_prefixes
                        ],
                    )
                ]
            ),
        )
