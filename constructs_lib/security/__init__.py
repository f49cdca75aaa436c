"""GuardDuty for the containers: detector with EKS and ECS protection, findings to people, agent teardown."""

from .agent_endpoint_cleanup import MANAGED_TAG, GuardDutyAgentEndpointCleanup
from .detector import OTHER_PROTECTION_PLANS, GuardDutyDetector, GuardDutyFeatures
from .findings import SEVERITY_LEVELS, GuardDutyFindingAlerts

__all__ = [
    "MANAGED_TAG",
    "OTHER_PROTECTION_PLANS",
    "SEVERITY_LEVELS",
    "GuardDutyAgentEndpointCleanup",
    "GuardDutyDetector",
    "GuardDutyFeatures",
    "GuardDutyFindingAlerts",
]
