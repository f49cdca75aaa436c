"""ECR registry features: enhanced scanning, alerts, pull-through cache, creation templates, replication.

Each is a copyable construct over CloudFormation's registry-level ECR resources (CDK has only
their L1 classes). Scanning and replication configurations are one per account and region.
"""

from .application_repository import ApplicationRepository
from .cleanup import CleanupTarget, CreatedRepositoryCleanup
from .creation_templates import RepositoryCreationTemplates, lifecycle_policy
from .findings import SEVERITIES, ScanFindingAlerts
from .pull_through_cache import CREDENTIAL_SECRET_PREFIX, UPSTREAMS, PullThroughCache, Upstream
from .replication import CrossRegionReplication
from .scanning import EnhancedScanning

__all__ = [
    "CREDENTIAL_SECRET_PREFIX",
    "SEVERITIES",
    "UPSTREAMS",
    "ApplicationRepository",
    "CleanupTarget",
    "CreatedRepositoryCleanup",
    "CrossRegionReplication",
    "EnhancedScanning",
    "PullThroughCache",
    "RepositoryCreationTemplates",
    "ScanFindingAlerts",
    "Upstream",
    "lifecycle_policy",
]
