"""The dated price table behind `make cost`: on-demand list prices in USD, per region.

Compiled on 2026-11-30 for the AWS pricing pages named in `source` (Tokyo: the pages' Asia
Pacific (Tokyo) figures). Only some figures were checked against a copy of their page (the ALB
and x86 Fargate prices in Tokyo, Fargate and NAT gateway prices in us-east-1); the others are
list prices as known when compiled and are estimates until checked. Prices change: check them
against those pages before relying on an estimate, and move `AS_OF` when you edit a figure. A
price missing for a region falls back to us-east-1's, and the estimate says so on that line.
"""

from __future__ import annotations

from dataclasses import dataclass

AS_OF = "2026-11-30"
HOURS_PER_MONTH = 730  # AWS's own convention for monthly estimates
FALLBACK_REGION = "us-east-1"


@dataclass(frozen=True)
class Price:
    unit: str
    by_region: dict[str, float]
    source: str
    # "*": the same in every region (the pricing page gives one figure).


PRICES: dict[str, Price] = {
    "nat_gateway_hour": Price(
        "NAT gateway-hour",
        {"us-east-1": 0.045, "ap-northeast-1": 0.062},
        "https://aws.amazon.com/vpc/pricing/",
    ),
    "public_ipv4_hour": Price(
        "public IPv4 address-hour",
        {"*": 0.005},
        "https://aws.amazon.com/vpc/pricing/",
    ),
    "interface_endpoint_hour": Price(
        "interface endpoint-hour per AZ",
        {"us-east-1": 0.01, "ap-northeast-1": 0.014},
        "https://aws.amazon.com/privatelink/pricing/",
    ),
    "alb_hour": Price(
        "Application Load Balancer-hour",
        {"us-east-1": 0.0225, "ap-northeast-1": 0.0243},
        "https://aws.amazon.com/elasticloadbalancing/pricing/",
    ),
    "nlb_hour": Price(
        "Network Load Balancer-hour",
        {"us-east-1": 0.0225, "ap-northeast-1": 0.0243},
        "https://aws.amazon.com/elasticloadbalancing/pricing/",
    ),
    "eks_cluster_hour": Price(
        "EKS cluster-hour (standard support)",
        {"*": 0.10},
        "https://aws.amazon.com/eks/pricing/",
    ),
    "fargate_linux_arm_vcpu_hour": Price(
        "Fargate Linux/ARM vCPU-hour",
        {"us-east-1": 0.03238, "ap-northeast-1": 0.04045},
        "https://aws.amazon.com/fargate/pricing/",
    ),
    "fargate_linux_arm_gb_hour": Price(
        "Fargate Linux/ARM GB-hour",
        {"us-east-1": 0.00356, "ap-northeast-1": 0.00442},
        "https://aws.amazon.com/fargate/pricing/",
    ),
    "fargate_linux_x86_vcpu_hour": Price(
        "Fargate Linux/x86 vCPU-hour",
        {"us-east-1": 0.04048, "ap-northeast-1": 0.05056},
        "https://aws.amazon.com/fargate/pricing/",
    ),
    "fargate_linux_x86_gb_hour": Price(
        "Fargate Linux/x86 GB-hour",
        {"us-east-1": 0.004445, "ap-northeast-1": 0.00553},
        "https://aws.amazon.com/fargate/pricing/",
    ),
    # Windows: the vCPU price plus the per-vCPU OS license fee.
    "fargate_windows_vcpu_hour": Price(
        "Fargate Windows vCPU-hour incl. license",
        {"us-east-1": 0.09148 + 0.046},
        "https://aws.amazon.com/fargate/pricing/",
    ),
    "fargate_windows_gb_hour": Price(
        "Fargate Windows GB-hour", {"us-east-1": 0.01005}, "https://aws.amazon.com/fargate/pricing/"
    ),
    "kms_key_month": Price(
        "KMS customer-managed key-month",
        {"*": 1.0},
        "https://aws.amazon.com/kms/pricing/",
    ),
    "secret_month": Price(
        "Secrets Manager secret-month",
        {"*": 0.40},
        "https://aws.amazon.com/secrets-manager/pricing/",
    ),
    "ebs_gp3_gb_month": Price(
        "EBS gp3 GB-month",
        {"us-east-1": 0.08, "ap-northeast-1": 0.096},
        "https://aws.amazon.com/ebs/pricing/",
    ),
    "aurora_serverless_v2_acu_hour": Price(
        "Aurora Serverless v2 ACU-hour",
        {"us-east-1": 0.12, "ap-northeast-1": 0.15},
        "https://aws.amazon.com/rds/aurora/pricing/",
    ),
    # ElastiCache Serverless bills at least 100 MB (Valkey) or 1 GB (Redis OSS, Memcached) of data.
    "elasticache_serverless_valkey_gb_hour": Price(
        "ElastiCache Serverless Valkey GB-hour",
        {"us-east-1": 0.084},
        "https://aws.amazon.com/elasticache/pricing/",
    ),
    "elasticache_serverless_redis_gb_hour": Price(
        "ElastiCache Serverless Redis OSS GB-hour",
        {"us-east-1": 0.125},
        "https://aws.amazon.com/elasticache/pricing/",
    ),
    # An idle App Runner service keeps its instances' memory provisioned.
    "app_runner_provisioned_gb_hour": Price(
        "App Runner provisioned GB-hour", {"us-east-1": 0.007}, "https://aws.amazon.com/apprunner/pricing/"
    ),
    "waf_web_acl_month": Price("AWS WAF web ACL-month", {"*": 5.0}, "https://aws.amazon.com/waf/pricing/"),
    "waf_rule_month": Price(
        "AWS WAF rule-month (a managed rule group counts as one)",
        {"*": 1.0},
        "https://aws.amazon.com/waf/pricing/",
    ),
    "ecs_anywhere_instance_hour": Price(
        "ECS Anywhere managed instance-hour",
        {"*": 0.01025},
        "https://aws.amazon.com/ecs/anywhere/pricing/",
    ),
}

# EC2 Linux on-demand, per instance-hour (https://aws.amazon.com/ec2/pricing/on-demand/).
INSTANCE_HOUR: dict[str, dict[str, float]] = {
    "t4g.small": {"us-east-1": 0.0168, "ap-northeast-1": 0.0216},
    "t4g.medium": {"us-east-1": 0.0336, "ap-northeast-1": 0.0432},
    "t4g.large": {"us-east-1": 0.0672, "ap-northeast-1": 0.0864},
    "m7g.large": {"us-east-1": 0.0816, "ap-northeast-1": 0.1052},
    "g6.xlarge": {"us-east-1": 0.8048},
}
INSTANCE_SOURCE = "https://aws.amazon.com/ec2/pricing/on-demand/"

# Priced by use, not at rest: named in the estimate with their unit prices (us-east-1 / Tokyo).
USAGE_PRICED: dict[str, str] = {
    "nat": "NAT data processing 0.045 / 0.062 USD per GB",
    "alb": "load balancer capacity units 0.008 USD per LCU-hour",
    "endpoint": "interface endpoint data 0.01 USD per GB",
    "logs": "CloudWatch Logs ingestion 0.50 / 0.76 USD per GB",
    "inspector": "Inspector ECR scans 0.09 USD per image pushed, 0.01 per continuous rescan (us-east-1)",
    "ecr": "ECR storage 0.10 USD per GB-month; replication cross-region transfer per GB",
    "spot": "tasks above the on-demand base run on Fargate Spot (up to 70 % off)",
    "karpenter": "nodes Karpenter launches for pending pods (the sample needs one small Spot node)",
    "build": "CodeBuild arm64 build minutes (a few cents a build)",
    "guardduty": "GuardDuty per GB of EKS audit logs and per vCPU-hour of runtime monitoring",
    "aurora": "Aurora storage and I/O per GB; ACUs above the minimum while active",
    "elasticache": "ElastiCache ECPUs per million and data stored above the minimum",
    "apprunner": "App Runner active vCPU and memory while serving requests",
    "anywhere": "ECS Anywhere per registered instance-hour (0.01025 USD)",
    "waf": "AWS WAF 0.60 USD per million requests inspected",
}
