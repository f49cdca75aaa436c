"""An EC2 instance that registers itself as an ECS Anywhere external instance, for trying without hardware.

Slide 9 of the talk, without a machine of one's own: a small Amazon Linux 2023 instance in a
private subnet runs AWS's install script at boot, with the activation read from the secret by the
instance's own role. For testing only: an EC2 instance posing as an on-premises machine.

AWS asks that an external instance have no credential chain of its own, which would interfere
with the registration (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs-anywhere.html,
Considerations). On EC2 that chain is the instance profile behind the instance metadata service
(IMDS), so once the activation is read the host blocks IMDS for itself, before the SSM and ECS
agents start and on every boot after (a systemd unit), and containers cannot reach it either
(IMDSv2 only, with a hop limit of 1). The agents then work with the hybrid activation's
credentials alone, as on a machine outside AWS.
"""

from __future__ import annotations

from dataclasses import dataclass

import jsii
from aws_cdk import Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from ..._shared.nag import acknowledge
from ..._shared.security_groups import client_security_group
from .activation import LINUX_INSTALL_SCRIPT

# https://docs.aws.amazon.com/linux/al2023/ug/ec2.html#launch-via-aws-cli
AL2023_IMAGE_PARAMETER = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-{arch}"
# IPv4 and IPv6 (Nitro) addresses of the instance metadata service.
IMDS_ADDRESSES = ("169.254.169.254", "fd00:ec2::254")

_BLOCK_IMDS_UNIT = """[Unit]
Description=Keep the ECS Anywhere agents off the EC2 instance profile
Before=docker.service amazon-ssm-agent.service ecs.service
[Service]
Type=oneshot
ExecStart=/usr/sbin/iptables -I OUTPUT -d {v4} -j DROP
ExecStart=/usr/sbin/ip6tables -I OUTPUT -d {v6} -j DROP
RemainAfterExit=yes
[Install]
WantedBy=multi-user.target
"""


@jsii.implements(ec2.IMachineImage)
class _PublicParameterImage:
    """The image named by an AWS public SSM parameter, read by CloudFormation when it deploys.

    A dynamic reference: no CloudFormation parameter (what `MachineImage.latest_amazon_linux2023`
    adds) and no lookup at synth.
    https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/dynamic-references-ssm.html
    """

    # Optional props defaulted after super().__init__, as every construct of the library does.
    def __init__(self, parameter_name: str) -> None:
        self.parameter_name = parameter_name

    def get_image(self, scope: Construct) -> ec2.MachineImageConfig:
        return ec2.MachineImageConfig(
            image_id=f"{{{{resolve:ssm:{self.parameter_name}}}}}",
            os_type=ec2.OperatingSystemType.LINUX,
            user_data=ec2.UserData.for_linux(),
        )


@dataclass(frozen=True)
class ExternalTestHostProps:
    """Settings of an `ExternalTestHost`."""

    # Graviton and 2 GiB: enough for Docker, the two agents and a small service.
    instance_type: ec2.InstanceType = ec2.InstanceType("t4g.small")  # noqa: RUF009 (an immutable value)
    root_volume_gib: int = 20


class ExternalTestHost(Construct):
    """A private EC2 instance that registers with `cluster` through the activation in `secret`.

    The activation code is neither in the template nor in the user data: the user data holds the
    secret's ARN, and the instance reads the code with its own role at boot.

    Attributes: `instance`, `security_group`.
    """

    # The library's construct signature (see constructs_lib/__init__.py), as SsmActivation's.
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        vpc: ec2.IVpc,
        cluster: ecs.ICluster,
        secret: secretsmanager.ISecret,
        props: ExternalTestHostProps | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        props = props or ExternalTestHostProps()
        if props.root_volume_gib < 8:
            raise ValueError(f"root_volume_gib must be at least 8, got {props.root_volume_gib}")
        arm = props.instance_type.architecture == ec2.InstanceArchitecture.ARM_64

        self.security_group = client_security_group(
            self,
            vpc,
            description="ECS Anywhere test host: no inbound traffic; agents, images and logs go out",
            ipv6=True,
        )
        user_data = ec2.UserData.for_linux()
        user_data.add_commands(*self._boot_script(Stack.of(self).region, cluster, secret))
        self.instance = ec2.Instance(
            self,
            "Resource",
            vpc=vpc,
            vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS),
            instance_type=props.instance_type,
            machine_image=_PublicParameterImage(
                AL2023_IMAGE_PARAMETER.format(arch="arm64" if arm else "x86_64")
            ),
            security_group=self.security_group,
            require_imdsv2=True,
            user_data=user_data,
            user_data_causes_replacement=True,
            block_devices=[
                ec2.BlockDevice(
                    device_name="/dev/xvda",
                    volume=ec2.BlockDeviceVolume.ebs(props.root_volume_gib, encrypted=True),
                )
            ],
        )
        secret.grant_read(self.instance.role)
        acknowledge(
            self.instance,
            {
                "AwsSolutions-EC28": "A short-lived sandbox test host; its health shows as an ECS container "
                "instance, so detailed (one-minute, billed) EC2 monitoring adds nothing.",
                "AwsSolutions-EC29": "A sandbox test host that `cdk destroy` must remove; termination "
                "protection would make the teardown fail.",
            },
        )

    @staticmethod
    def _boot_script(region: str, cluster: ecs.ICluster, secret: secretsmanager.ISecret) -> list[str]:
        unit = _BLOCK_IMDS_UNIT.format(v4=IMDS_ADDRESSES[0], v6=IMDS_ADDRESSES[1])
        return [
            # No `set -x`: the activation code must not reach the console or cloud-init's log.
            "set -euo pipefail",
            "dnf install -y jq iptables-nft",
            f"SECRET=$(aws secretsmanager get-secret-value --region {region} --secret-id {secret.secret_arn} "
            "--query SecretString --output text)",
            'ACTIVATION_ID=$(jq -r .ActivationId <<<"$SECRET")',
            'ACTIVATION_CODE=$(jq -r .ActivationCode <<<"$SECRET")',
            "unset SECRET",
            f"cat > /etc/systemd/system/block-imds.service <<'UNIT'\n{unit}UNIT",
            "systemctl daemon-reload",
            "systemctl enable --now block-imds.service",
            f'curl --proto "https" -fsS -o /tmp/ecs-anywhere-install.sh "{LINUX_INSTALL_SCRIPT}"',
            f"bash /tmp/ecs-anywhere-install.sh --region {region} --cluster {cluster.cluster_name} "
            '--activation-id "$ACTIVATION_ID" --activation-code "$ACTIVATION_CODE"',
        ]
