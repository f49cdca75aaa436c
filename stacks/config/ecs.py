"""Configuration of the EcsFargate stack: Graviton service, arm64 builds, Windows on Fargate."""

from __future__ import annotations

from dataclasses import dataclass, field

from constructs_lib.ecs._fargate import LINUX_SIZES, WINDOWS_SIZES, check_task_size
from constructs_lib.ecs.graviton_service import is_root
from stacks.config.loader import fail, setting

# An ACM certificate in the stack's region: arn:<partition>:acm:<region>:<account>:certificate/<id>.
CERTIFICATE_ARN_PATTERN = r"arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate/[A-Za-z0-9-]+"
# Fargate task sizes in CPU units, from the ECS unit's tables of the documented sizes: Linux 0.25
# to 16 vCPU, Windows 1, 2 or 4 vCPU (the 8 and 16 vCPU sizes are Linux only).
LINUX_CPU_CHOICES = tuple(LINUX_SIZES)
WINDOWS_CPU_CHOICES = tuple(WINDOWS_SIZES)


@dataclass(frozen=True)
class GravitonServiceConfig:
    """The arm64 web service behind the dual-stack load balancer."""

    # 0.25 vCPU and 0.5 GB: the smallest Fargate size, so a burst of hundreds of tasks stays cheap.
    cpu: int = setting(256, choices=LINUX_CPU_CHOICES)
    memory_mib: int = setting(512, minimum=512, maximum=122880)
    # The upstream image, pulled through the Registry stack's ECR Public cache; it must be arm64
    # or multi-arch (an amd64-only image fails with `exec format error`). NGINX's unprivileged
    # image runs as uid 101 and listens on 8080.
    image: str = setting(
        "public.ecr.aws/nginx/nginx-unprivileged:stable",
        pattern=r"public\.ecr\.aws/[a-z0-9._/-]+:[A-Za-z0-9._-]+",
    )
    # The non-root user the container runs as (uid, name or uid:gid); the image's files must
    # belong to it. ECS Exec sessions still run as root.
    user: str = setting(
        "101", pattern=r"[A-Za-z0-9_][A-Za-z0-9_.-]*(:[A-Za-z0-9_][A-Za-z0-9_.-]*)?", example="101:101"
    )
    # Above 1023: a non-root process cannot bind lower ports.
    container_port: int = setting(8080, minimum=1024, maximum=65535)
    health_check_path: str = setting("/", pattern=r"/[A-Za-z0-9._~/-]*", example="/healthz", max_length=1024)
    # One task is enough to look at in a sandbox; the maximum is high enough to watch a burst of
    # hundreds of tasks launch (README: "Watch the fast scale-out"). Fargate vCPU quotas apply.
    min_tasks: int = setting(1, minimum=0, maximum=5000)
    max_tasks: int = setting(300, minimum=1, maximum=5000)
    # Target tracking on ALB requests per target (per minute) and on average CPU.
    requests_per_target: int = setting(600, minimum=1, maximum=1_000_000)
    cpu_target_percent: int = setting(60, minimum=10, maximum=90)
    scale_out_cooldown_seconds: int = setting(30, minimum=0, maximum=3600)
    scale_in_cooldown_seconds: int = setting(300, minimum=0, maximum=3600)
    # 20-second CPU and memory metrics, and the high-resolution CPU target tracking policy.
    high_resolution_metrics: bool = True
    # Capacity provider strategy: the first `on_demand_base` tasks on FARGATE, the rest split by
    # weight. Weight 0 on demand with weight 1 on Spot puts everything above the base on Spot.
    on_demand_base: int = setting(1, minimum=0, maximum=100000)
    on_demand_weight: int = setting(0, minimum=0, maximum=1000)
    spot_weight: int = setting(1, minimum=0, maximum=1000)
    # Seconds the load balancer keeps sending in-flight requests to a task that is stopping.
    deregistration_delay_seconds: int = setting(15, minimum=0, maximum=3600)
    # An ACM certificate in the stack's region: HTTPS on 443 and a redirect from 80.
    certificate_arn: str | None = setting(
        None,
        pattern=CERTIFICATE_ARN_PATTERN,
        example="arn:aws:acm:ap-northeast-1:111122223333:certificate/1a2b3c4d-0000-1111-2222-333344445555",
    )
    # Without certificate_arn the public listener is plain HTTP on 80: allowed only when this
    # says so (one-line error otherwise).
    plain_http: bool = False
    # An AWS WAF web ACL with AWS managed rule groups on the load balancer (a monthly fee and
    # per-request charges).
    web_acl: bool = False
    # ALB access logs to an S3 bucket the stack creates (kept by the stage's removal policy).
    access_logs: bool = False

    def check(self, path: str) -> None:
        if self.max_tasks < self.min_tasks:
            fail(f"{path}.max_tasks", f"must be at least min_tasks ({self.min_tasks})", self.max_tasks)
        if self.on_demand_weight == 0 and self.spot_weight == 0:
            fail(f"{path}.spot_weight", "must be above 0 when on_demand_weight is 0", self.spot_weight)
        if is_root(self.user):
            fail(f"{path}.user", "must name a non-root user (a uid other than 0)", self.user)
        _check_fargate_size(self.cpu, self.memory_mib, LINUX_SIZES, path)


@dataclass(frozen=True)
class WindowsServiceConfig:
    """The Windows Server 2022 Core service that shows ECS Exec on Windows.

    Declared apart from the Graviton service: the same kind of settings (a Fargate size and an
    image), but other choices, bounds, image source and size table.
    """

    # Windows on Fargate needs at least 1 vCPU and 2 GB; 1 vCPU allows 2 to 8 GB.
    cpu: int = setting(1024, choices=WINDOWS_CPU_CHOICES)
    memory_mib: int = setting(2048, minimum=2048, maximum=122880)
    image: str = setting(
        "mcr.microsoft.com/windows/servercore/iis:windowsservercore-ltsc2022",
        pattern=r"[a-z0-9.-]+(:\d+)?/[a-z0-9._/-]+:[A-Za-z0-9._-]+",
    )
    # 0 in the sandbox: a Windows task costs more per hour than the rest of the stack together
    # and takes minutes to pull its image, so it is opt-in (set 1 to try ECS Exec on Windows).
    desired_count: int = setting(0, minimum=0, maximum=100)

    def check(self, path: str) -> None:
        _check_fargate_size(self.cpu, self.memory_mib, WINDOWS_SIZES, path)


def _check_fargate_size(cpu: int, memory_mib: int, sizes: dict[int, tuple[int, ...]], path: str) -> None:
    """Name the service whose size Fargate would refuse (the construct's message cannot know it)."""
    try:
        check_task_size(cpu, memory_mib, sizes, "this service")
    except ValueError:
        fail(
            f"{path}.memory_mib",
            f"must be one of {', '.join(map(str, sizes[cpu]))} for cpu {cpu} on Fargate",
            memory_mib,
        )


@dataclass(frozen=True)
class ImageBuildConfig:
    """The CodeBuild project that builds the sample app on Graviton into the app repository."""

    # Also build linux/amd64 and push a manifest list, so one tag runs on Graviton and x86.
    multi_arch: bool = True
    build_timeout_minutes: int = setting(20, minimum=5, maximum=480)


@dataclass(frozen=True)
class EcsConfig:
    """ECS on Fargate."""

    enabled: bool = True
    # Create the ECS service-linked role before the cluster when the account lacks it (a new
    # account); false where the deploying role may not call iam:CreateServiceLinkedRole.
    ensure_service_linked_role: bool = True
    # Subsections, declared as every section declares its own (see AppConfig).
    graviton: GravitonServiceConfig = field(default_factory=GravitonServiceConfig)
    windows: WindowsServiceConfig = field(default_factory=WindowsServiceConfig)
    image_build: ImageBuildConfig = field(default_factory=ImageBuildConfig)

    def check(self, path: str) -> None:
        # Here rather than in the graviton section, so that it holds when that section is left out.
        graviton = self.graviton
        if self.enabled and graviton.certificate_arn is None and not graviton.plain_http:
            fail(
                f"{path}.graviton.certificate_arn",
                f"must be set for an https listener (or set {path}.graviton.plain_http: true to serve "
                "plain http on the internet)",
                None,
            )
