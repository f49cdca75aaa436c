"""Credentials, the account and region they point to, and one-line errors instead of tracebacks."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import boto3
import botocore.exceptions

if TYPE_CHECKING:  # the configuration imports aws_cdk: only its type is needed here
    from stacks.config import AppConfig


class JourneyError(Exception):
    """A problem the user fixes before anything runs; printed as one line, never a traceback."""


# (service, region) -> a boto3 client. Tests pass their own (moto, or a Stubber's client).
ClientFactory = Callable[[str, str], Any]


@dataclass
class Account:
    """The account and region the credentials point to, and clients for any region of it."""

    account_id: str
    region: str
    factory: ClientFactory
    _clients: dict[tuple[str, str], Any] = field(default_factory=dict)

    def client(self, service: str, region: str | None = None) -> Any:
        key = (service, region or self.region)
        if key not in self._clients:
            self._clients[key] = self.factory(*key)
        return self._clients[key]


def connect(config: AppConfig, factory: ClientFactory | None = None) -> Account:
    """Resolve the credentials the way the CDK CLI does, and refuse an account or region the stage
    does not allow, with a one-line reason."""
    # The CDK CLI also reads AWS_REGION, which some botocore versions ignore.
    session = boto3.session.Session(region_name=os.environ.get("AWS_REGION") or None)
    region = session.region_name

    def from_session(service: str, region: str) -> Any:
        return session.client(service, region_name=region)  # type: ignore[call-overload]

    factory = factory or from_session

    if not region:
        raise JourneyError(
            f"no AWS region is configured: set AWS_REGION={config.region} (the region of stage "
            f"{config.stage!r}) or a region in your profile"
        )
    if region != config.region:
        # With credentials, app.py synthesizes for the CLI's region, not the file's: a mismatch would
        # deploy the stage somewhere its preflight, cost and verify did not look.
        raise JourneyError(
            f"your credentials point to region {region} but stage {config.stage!r} deploys to "
            f"{config.region}: set AWS_REGION={config.region}, or change region in the stage's file"
        )
    try:
        identity = factory("sts", region).get_caller_identity()
    except (botocore.exceptions.NoCredentialsError, botocore.exceptions.PartialCredentialsError):
        raise JourneyError(
            "no AWS credentials found: run `aws configure sso` or `aws sso login`, or set AWS_PROFILE"
        ) from None
    except botocore.exceptions.TokenRetrievalError:
        raise JourneyError("your AWS SSO session has expired: run `aws sso login`") from None
    except botocore.exceptions.ClientError as error:
        raise JourneyError(f"the credentials were refused ({error_code(error)}): renew them") from None
    except botocore.exceptions.BotoCoreError as error:
        raise JourneyError(f"could not reach AWS STS: {error}") from None
    account_id = str(identity["Account"])
    if config.accounts and account_id not in config.accounts:
        raise JourneyError(
            f"your credentials point to account {account_id}, which stage {config.stage!r} does not "
            f"allow (accounts: {', '.join(config.accounts)}): switch profile or pick another stage"
        )
    return Account(account_id=account_id, region=region, factory=factory)


def error_code(error: botocore.exceptions.ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", "Unknown"))
