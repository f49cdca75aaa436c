"""EcsAnywhere stack: machines outside AWS join an ECS cluster and run Linux, GPU and Windows tasks.

Slides 8-10 of the talk (ECS Anywhere; GPU workloads; ECS Exec; Windows hosts), composed from
`constructs_lib/ecs/anywhere`. Only the optional test host uses the Network stack's VPC.
"""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from constructs import Construct

from constructs_lib.ecs.anywhere import (
    ExternalCluster,
    ExternalClusterProps,
    ExternalGpuTask,
    ExternalGpuTaskProps,
    ExternalLinuxService,
    ExternalLinuxServiceProps,
    ExternalTestHost,
    ExternalTestHostProps,
    ExternalWindowsService,
    ExternalWindowsServiceProps,
    SsmActivation,
    SsmActivationProps,
)
from stacks.config.ecs_anywhere import EcsAnywhereConfig
from stacks.stage import StageStack


class EcsAnywhereStack(StageStack):
    """The external-instance cluster, its activation, its workloads and, optionally, a test host.

    Attributes: `cluster`, `activation`, `linux`, `gpu`, `windows`, `test_host`.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        vpc: ec2.IVpc,
        config: EcsAnywhereConfig,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        retention, removal_policy = self.settings.log_retention, self.settings.removal_policy
        self.cluster = ExternalCluster(
            self,
            "Cluster",
            vpc=vpc,
            props=ExternalClusterProps(exec_log_retention=retention, removal_policy=removal_policy),
        )
        key = self.cluster.key
        cluster = self.cluster.cluster
        self.activation = SsmActivation(
            self,
            "Activation",
            instance_role=self.cluster.instance_role,
            cluster=cluster,
            encryption_key=key,
            props=SsmActivationProps(
                registration_limit=config.activation.registration_limit,
                expiration_days=config.activation.expiration_days,
                renewal=config.activation.renewal,
                log_retention=retention,
                removal_policy=removal_policy,
            ),
        )

        self.test_host = (
            ExternalTestHost(
                self,
                "TestHost",
                vpc=vpc,
                cluster=cluster,
                secret=self.activation.secret,
                props=ExternalTestHostProps(instance_type=ec2.InstanceType(config.test_host.instance_type)),
            )
            if config.test_host.enabled
            else None
        )
        if self.test_host is not None:
            # The host reads the activation at boot, so it starts after the activation exists.
            self.test_host.instance.instance.node.add_dependency(self.activation.resource)

        linux = config.linux
        self.linux = ExternalLinuxService(
            self,
            "Linux",
            cluster=cluster,
            props=ExternalLinuxServiceProps(
                image=ecs.ContainerImage.from_registry(linux.image),
                container_port=linux.container_port,
                cpu=linux.cpu,
                memory_mib=linux.memory_mib,
                # With the test host, one task shows the host running the service after one deploy.
                desired_count=max(linux.desired_count, 1 if self.test_host else 0),
                log_retention=retention,
                log_key=key,
                removal_policy=removal_policy,
            ),
        )
        self.gpu = (
            ExternalGpuTask(
                self,
                "Gpu",
                props=ExternalGpuTaskProps(
                    image=ecs.ContainerImage.from_registry(config.gpu.image),
                    gpu_count=config.gpu.gpu_count,
                    log_retention=retention,
                    log_key=key,
                    removal_policy=removal_policy,
                ),
            )
            if config.gpu.enabled
            else None
        )
        # Shaped like the Linux service above and EcsFargate's Windows service, but another construct
        # with its own props: each setting is passed by name, and mypy checks each against its field.
        windows = config.windows
        self.windows = (
            ExternalWindowsService(
                self,
                "Windows",
                cluster=cluster,
                props=ExternalWindowsServiceProps(
                    image=ecs.ContainerImage.from_registry(windows.image),
                    cpu=windows.cpu,
                    memory_mib=windows.memory_mib,
                    desired_count=windows.desired_count,
                    log_retention=retention,
                    log_key=key,
                    removal_policy=removal_policy,
                ),
            )
            if windows.enabled
            else None
        )

        # On delete, the services go first (their tasks stop while the agents still answer), then
        # the activation's Delete deregisters the hosts, then the cluster can be deleted.
        for workload in (self.linux, self.windows):
            if workload is not None:
                workload.service.node.add_dependency(self.activation.resource)
                if self.test_host is not None:
                    workload.service.node.add_dependency(self.test_host.instance.instance)
        self._outputs()

    def _outputs(self) -> None:
        cluster = self.cluster.cluster.cluster_name
        cdk.CfnOutput(
            self, "ClusterName", value=cluster, description="The ECS cluster external instances join"
        )
        cdk.CfnOutput(
            self,
            "ActivationSecretArn",
            value=self.activation.secret.secret_arn,
            description="Secret with the SSM activation id and code (JSON); the code is never in an output",
        )
        cdk.CfnOutput(
            self,
            "LinuxInstallCommand",
            value=self.activation.linux_install_command(),
            description="Run on a Linux host (AWS CLI, jq and credentials to read the secret needed)",
        )
        cdk.CfnOutput(
            self,
            "LinuxGpuInstallCommand",
            value=self.activation.linux_install_command(gpu=True),
            description="Run on a Linux host with NVIDIA GPUs and driver (adds --enable-gpu)",
        )
        cdk.CfnOutput(
            self,
            "WindowsInstallCommand",
            value=self.activation.windows_install_command(),
            description="Run in PowerShell as Administrator on a Windows Server 2022 host",
        )
        task = (
            f"$(aws ecs list-tasks --region {self.region} --cluster {cluster} "
            f"--service-name {self.linux.service.service_name} --query 'taskArns[0]' --output text)"
        )
        cdk.CfnOutput(
            self,
            "LinuxExecCommand",
            value=(
                f"aws ecs execute-command --region {self.region} --cluster {cluster} --task {task} "
                "--container web --interactive --command /bin/sh"
            ),
            description="Opens a shell in the first task of the Linux service (ECS Exec)",
        )
        if self.gpu is not None:
            cdk.CfnOutput(
                self,
                "GpuRunTaskCommand",
                value=(
                    f"aws ecs run-task --region {self.region} --cluster {cluster} --launch-type EXTERNAL "
                    f"--task-definition {self.gpu.task_definition.task_definition_arn}"
                ),
                description="Runs nvidia-smi once on a GPU host; its output goes to the task's log group",
            )
