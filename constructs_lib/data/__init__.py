"""Private data stores for the web front ends: Aurora Serverless v2 PostgreSQL and Valkey serverless."""

from .aurora import (
    AURORA_POSTGRES_VERSIONS,
    ServerlessPostgres,
    ServerlessPostgresProps,
    check_capacity,
    supports_auto_pause,
)
from .valkey import (
    DATA_STORAGE_GB,
    ECPU_PER_SECOND,
    VALKEY_MAJOR_VERSIONS,
    ServerlessValkey,
    ServerlessValkeyProps,
    check_usage_limits,
)

__all__ = [
    "AURORA_POSTGRES_VERSIONS",
    "DATA_STORAGE_GB",
    "ECPU_PER_SECOND",
    "VALKEY_MAJOR_VERSIONS",
    "ServerlessPostgres",
    "ServerlessPostgresProps",
    "ServerlessValkey",
    "ServerlessValkeyProps",
    "check_capacity",
    "check_usage_limits",
    "supports_auto_pause",
]
