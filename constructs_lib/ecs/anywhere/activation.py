"""An SSM hybrid activation for ECS Anywhere, made by a custom resource, its code kept in a secret.

Slide 9 of the talk: one command on a machine outside AWS registers it with SSM and then with the
ECS cluster. SSM hybrid activations have no CloudFormation resource, so a Lambda function that
CloudFormation invokes directly (no provider framework) makes one; see `runtime/activation.py`.
The activation code is written only to a Secrets Manager secret encrypted with the stack's key:
it is in no template value, output, response field or log line.

Its function is not `_shared/custom_resource.py`'s on purpose: its log-stream permission sits in its
own policy beside the secret's, and its Delete also needs the secret, so the helper's shape would
move statements between policies and change the deployed template.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from ..._shared.lambda_package import handler_code
from ..._shared.nag import acknowledge, nag_text
from ..._shared.resources import log_group, service_role

# SSM limits: an activation expires at most 30 days after it is made, and registers 1 to 1,000
# machines (https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_CreateActivation.html).
MAX_EXPIRATION_DAYS = 30
MAX_REGISTRATION_LIMIT = 1000

# AWS's install scripts and their arguments:
# https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs-anywhere-registration.html
LINUX_INSTALL_SCRIPT = "https://amazon-ecs-agent.s3.amazonaws.com/ecs-anywhere-install-latest.sh"
WINDOWS_INSTALL_SCRIPT = "https://amazon-ecs-agent.s3.amazonaws.com/ecs-anywhere-install.ps1"

RUNTIME = Path(__file__).parent / "runtime"
FUNCTION_TIMEOUT = cdk.Duration.minutes(5)


@dataclass(frozen=True)
class SsmActivationProps:
    """Settings of an `SsmActivation`."""

    # How many machines may register with the code (SSM's default is 1).
    registration_limit: int = 1
    # Days until the code stops working; SSM allows at most 30. The date is computed when the
    # custom resource runs, so synth stays the same from one day to the next.
    expiration_days: int = 7
    # Increase by one to replace an expired or leaked activation with a new one on the next deploy.
    renewal: int = 0
    # Retention of the function's own log group.
    log_retention: logs.RetentionDays = logs.RetentionDays.ONE_WEEK
    # The secret and the function's log group go with the stack by default.
    removal_policy: cdk.RemovalPolicy = cdk.RemovalPolicy.DESTROY

    def validate(self) -> None:
        if not 1 <= self.registration_limit <= MAX_REGISTRATION_LIMIT:
            raise ValueError(
                f"registration_limit must be 1 to {MAX_REGISTRATION_LIMIT}, got {self.registration_limit}"
            )
        if not 1 <= self.expiration_days <= MAX_EXPIRATION_DAYS:
            raise ValueError(
                f"expiration_days must be 1 to {MAX_EXPIRATION_DAYS} (SSM limit), got {self.expiration_days}"
            )
        if self.renewal < 0:
            raise ValueError(f"renewal must not be negative, got {self.renewal}")


class SsmActivation(Construct):
    """An SSM hybrid activation for `instance_role`, with its id and code in `secret`.

    The secret holds JSON: `ActivationId`, `ActivationCode`, `ExpirationDate` and
    `PreviousActivationIds` (activations this resource replaced, so that a stack delete can find
    every machine registered through any of them). When the stack is deleted, the function
    deregisters those machines from `cluster` and from SSM, and no others, so that the cluster
    can be deleted; see `runtime/activation.py` for every case.

    Attributes: `activation_id`, `secret`, `cluster`, `function`, `role`, `resource`.
    """

    # Optional props defaulted after super().__init__, as every construct of the library does.
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        instance_role: iam.IRole,
        cluster: ecs.ICluster,
        encryption_key: kms.IKey,
        props: SsmActivationProps | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        props = props or SsmActivationProps()
        props.validate()
        stack = cdk.Stack.of(self)

        # Its first value is a random string that the function replaces before anyone reads it.
        self.secret = secretsmanager.Secret(
            self,
            "Secret",
            description="ECS Anywhere: SSM activation id and code (JSON), written by the activation function",
            encryption_key=encryption_key,
            removal_policy=props.removal_policy,
        )
        acknowledge(
            self.secret,
            {
                "AwsSolutions-SMG4": "Secrets Manager cannot rotate an SSM activation code: SSM shows it "
                "once, at creation. It expires by itself within 30 days, and the construct's `renewal` "
                "setting replaces it with a new activation on the next deploy.",
            },
        )

        function_logs = log_group(
            self,
            "LogGroup",
            retention=props.log_retention,
            removal_policy=props.removal_policy,
            encryption_key=encryption_key,
        )
        # A service_role call like the web services' roles: the helper is shared, the role is this function's.
        self.role = service_role(
            self,
            "Role",
            "lambda.amazonaws.com",
            description="ECS Anywhere SSM activation; deregisters its instances on stack delete",
        )
        self.function = lambda_.Function(
            self,
            "Function",
            role=self.role,
            runtime=lambda_.Runtime.PYTHON_3_14,
            architecture=lambda_.Architecture.ARM_64,
            handler="activation.handler",
            code=handler_code(RUNTIME, "activation"),
            timeout=FUNCTION_TIMEOUT,
            memory_size=128,
            log_group=function_logs,
            # CloudFormation invokes it asynchronously; a retried Create would make a second
            # activation that nothing records.
            retry_attempts=0,
            description="ECS Anywhere: SSM hybrid activation (code kept in a secret)",
        )
        policy = iam.Policy(
            self,
            "Policy",
            roles=[self.role],
            statements=self._statements(
                stack, instance_role, cluster, function_logs, self.secret, encryption_key
            ),
        )
        # Read (the activation history, on Update and Delete) through CDK's grant; write by
        # PutSecretValue only, not grant_write's UpdateSecret, which could change the secret's key.
        self.secret.grant_read(self.role)

        self.resource = cdk.CustomResource(
            self,
            "Resource",
            service_token=self.function.function_arn,
            resource_type="Custom::EcsAnywhereActivation",
            properties={
                "IamRoleName": instance_role.role_name,
                "RegistrationLimit": props.registration_limit,
                "ExpirationDays": props.expiration_days,
                "Renewal": props.renewal,
                "SecretArn": self.secret.secret_arn,
                "ClusterName": cluster.cluster_name,
                "DefaultInstanceName": "ecs-anywhere",
                "Description": f"ECS Anywhere hosts of stack {stack.stack_name}",
            },
            service_timeout=FUNCTION_TIMEOUT.plus(cdk.Duration.minutes(1)),
        )
        # Its Delete still needs the function's permissions, its log group and the secret.
        for dependency in (policy, self.role, function_logs, self.secret):
            self.resource.node.add_dependency(dependency)
        self.activation_id = self.resource.ref
        self.cluster = cluster
        self._acknowledge(stack, policy)

    def _statements(
        self,
        stack: cdk.Stack,
        instance_role: iam.IRole,
        cluster: ecs.ICluster,
        log_group: logs.ILogGroup,
        secret: secretsmanager.ISecret,
        encryption_key: kms.IKey,
    ) -> list[iam.PolicyStatement]:
        return [
            iam.PolicyStatement(
                actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[f"{log_group.log_group_arn}:*"],
            ),
            # CreateActivation, DeleteActivation, DescribeInstanceInformation and
            # DeregisterManagedInstance take no resource ARN that is known before the call.
            iam.PolicyStatement(
                actions=[
                    "ssm:CreateActivation",
                    "ssm:AddTagsToResource",
                    "ssm:DeleteActivation",
                    "ssm:DescribeInstanceInformation",
                    "ssm:DeregisterManagedInstance",
                ],
                resources=["*"],
            ),
            iam.PolicyStatement(
                actions=["iam:PassRole"],
                resources=[instance_role.role_arn],
                conditions={"StringEquals": {"iam:PassedToService": "ssm.amazonaws.com"}},
            ),
            iam.PolicyStatement(
                actions=["ecs:ListContainerInstances", "ecs:DeregisterContainerInstance"],
                resources=[cluster.cluster_arn],
            ),
            iam.PolicyStatement(
                actions=["ecs:DescribeContainerInstances"],
                resources=["*"],
                conditions={"ArnEquals": {"ecs:cluster": cluster.cluster_arn}},
            ),
            iam.PolicyStatement(
                actions=["cloudformation:DescribeStacks"],
                resources=[stack.stack_id],
            ),
            iam.PolicyStatement(actions=["secretsmanager:PutSecretValue"], resources=[secret.secret_arn]),
            # Secrets Manager asks the key for a data key for each new version, on the caller's behalf.
            iam.PolicyStatement(
                actions=["kms:GenerateDataKey"],
                resources=[encryption_key.key_arn],
                conditions={
                    "StringEquals": {"kms:ViaService": f"secretsmanager.{stack.region}.amazonaws.com"}
                },
            ),
        ]

    def _acknowledge(self, stack: cdk.Stack, policy: iam.Policy) -> None:
        log_streams = nag_text(stack, f"{self.function.log_group.log_group_arn}:*")
        acknowledge(
            policy,
            {
                "AwsSolutions-IAM5[Resource::*]": (
                    "SSM CreateActivation, DeleteActivation, DescribeInstanceInformation and "
                    "DeregisterManagedInstance name no activation or instance known before the call; "
                    "the handler deregisters only instances whose ActivationId is this resource's, and "
                    "DescribeContainerInstances is bound to this cluster by the ecs:cluster condition."
                ),
                f"AwsSolutions-IAM5[Resource::{log_streams}]": (
                    "The function writes to new log streams of its own log group only; stream names are "
                    "made by Lambda per execution environment."
                ),
            },
        )

    def linux_install_command(self, *, gpu: bool = False) -> str:
        """The command to run on a Linux host: reads the code from the secret, then runs AWS's script.

        It needs the AWS CLI and jq, and credentials that may read the secret in that shell only
        (AWS asks that external instances have no local credential chain of their own).
        """
        stack = cdk.Stack.of(self)
        read = (
            f"SECRET=$(aws secretsmanager get-secret-value --region {stack.region} "
            f"--secret-id {self.secret.secret_arn} --query SecretString --output text)"
        )
        download = f'curl --proto "https" -o /tmp/ecs-anywhere-install.sh "{LINUX_INSTALL_SCRIPT}"'
        install = (
            f"sudo bash /tmp/ecs-anywhere-install.sh --region {stack.region} "
            f"--cluster {self.cluster.cluster_name} "
            '--activation-id "$(echo "$SECRET" | jq -r .ActivationId)" '
            '--activation-code "$(echo "$SECRET" | jq -r .ActivationCode)"'
        )
        return " && ".join([read, download, install + (" --enable-gpu" if gpu else "")])

    def windows_install_command(self) -> str:
        """The PowerShell command for a Windows Server host (run as Administrator)."""
        stack = cdk.Stack.of(self)
        return "; ".join(
            [
                f"$secret = aws secretsmanager get-secret-value --region {stack.region} "
                f"--secret-id {self.secret.secret_arn} --query SecretString --output text | ConvertFrom-Json",
                f'Invoke-RestMethod -URI "{WINDOWS_INSTALL_SCRIPT}" -OutFile "ecs-anywhere-install.ps1"',
                f".\\ecs-anywhere-install.ps1 -Region {stack.region} -Cluster {self.cluster.cluster_name} "
                "-ActivationID $secret.ActivationId -ActivationCode $secret.ActivationCode",
            ]
        )
