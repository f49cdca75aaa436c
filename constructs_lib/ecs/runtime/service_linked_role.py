"""Makes sure the ECS service-linked role (AWSServiceRoleForECS) exists before the first cluster.

ECS creates the role itself when a cluster is created through its API with enough permissions,
but not always in time: in a brand-new account a CloudFormation-made cluster and its capacity
provider association can fail with "Unable to assume the service linked role. Please verify that
the ECS service linked role exists"
(https://docs.aws.amazon.com/AmazonECS/latest/developerguide/using-service-linked-roles.html;
aws-samples/baseline-environment-on-aws issue 238). Creating it first, idempotently, removes
the race.

- Create and Update: CreateServiceLinkedRole for ecs.amazonaws.com; a role that already exists
  (the usual case) is success. After a fresh creation it waits a few seconds for IAM to
  propagate, so that the cluster created next can assume it.
- Delete: nothing, ever. The role is shared by every ECS cluster and service of the account,
  was usually there before this stack, and IAM refuses to delete it while any ECS resource of
  the account uses it.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from typing import Any

import boto3
import cfn_response
from botocore.exceptions import BotoCoreError, ClientError

logger = logging.getLogger()
logger.setLevel(logging.INFO)

SERVICE = "ecs.amazonaws.com"
# IAM is eventually consistent: a role just created may not be assumable at once.
PROPAGATION_SECONDS = 15.0


def already_exists(error: ClientError) -> bool:
    """IAM answers a second create with InvalidInput ("... has been taken in this account")."""
    code = error.response["Error"]["Code"]
    message = str(error.response["Error"].get("Message", ""))
    return code == "EntityAlreadyExists" or (code == "InvalidInput" and "has been taken" in message)


def ensure_role(iam: Any, *, sleep: Callable[[float], None] = time.sleep) -> str:
    """Create the role unless it exists; returns what happened, for CloudFormation's reason."""
    try:
        role = iam.create_service_linked_role(AWSServiceName=SERVICE)["Role"]
    except ClientError as error:
        if already_exists(error):
            return f"the service-linked role for {SERVICE} already exists"
        raise
    sleep(PROPAGATION_SECONDS)
    return f"created {role['Arn']}"


def handler(event: dict[str, Any], context: Any) -> None:
    """CloudFormation custom resource entry point: answers every request, SUCCESS or one-line FAILED."""
    logger.info("event: %s", json.dumps({k: v for k, v in event.items() if k != "ResponseURL"}))
    status = "SUCCESS"
    try:
        if event["RequestType"] == "Delete":
            reason = "the service-linked role is shared by the account: left in place"
        else:
            reason = ensure_role(boto3.client("iam"))
        logger.info(reason)
    except (ClientError, BotoCoreError) as error:
        status, reason = "FAILED", f"ECS service-linked role: AWS error {error}"
    except Exception as error:
        logger.exception("unexpected error")
        status, reason = "FAILED", f"ECS service-linked role: {type(error).__name__}: {error}"
    cfn_response.respond(event, context, status, reason=reason)
