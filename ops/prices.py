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

_US, _TOKYO = "us-east-1", "ap-northeast-1"
# The key of a price that is the same in every region (the pricing page gives one figure).
EVERY_REGION = "*"
FALLBACK_REGION = _US


@dataclass(frozen=True)
class Price:
    unit: str
    by_region: dict[str, float]  # USD; EVERY_REGION for one figure everywhere
    source: str

    def in_region(self, region: str) -> tuple[float, str]:
        """The price in `region` and a note: empty, or saying that us-east-1's price stands in."""
        amount = self.by_region.get(region, self.by_region.get(EVERY_REGION))
        if amount is None:
            return self.by_region[FALLBACK_REGION], f"{FALLBACK_REGION} price: none for {region} in the table"
        return amount, ""


# Per AWS pricing page (https://aws.amazon.com/<page>/pricing/), each price it gives: the key the
# estimate asks for, the unit, and the price by region.
_PRICES_BY_PAGE: dict[str, dict[str, tuple[str, dict[str, float]]]] = {
    "vpc": {
        "nat_gateway_hour": ("NAT gateway-hour", {_US: 0.045, _TOKYO: 0.062}),
        "public_ipv4_hour": ("public IPv4 address-hour", {EVERY_REGION: 0.005}),
    },
    "privatelink": {
        "interface_endpoint_hour": ("interface endpoint-hour per AZ", {_US: 0.01, _TOKYO: 0.014}),
    },
    "elasticloadbalancing": {
        "alb_hour": ("Application Load Balancer-hour", {_US: 0.0225, _TOKYO: 0.0243}),
        "nlb_hour": ("Network Load Balancer-hour", {_US: 0.0225, _TOKYO: 0.0243}),
    },
    "eks": {
        "eks_cluster_hour": ("EKS cluster-hour (standard support)", {EVERY_REGION: 0.10}),
    },
    "fargate": {
        "fargate_linux_arm_vcpu_hour": ("Fargate Linux/ARM vCPU-hour", {_US: 0.03238, _TOKYO: 0.04045}),
        "fargate_linux_arm_gb_hour": ("Fargate Linux/ARM GB-hour", {_US: 0.00356, _TOKYO: 0.00442}),
        "fargate_linux_x86_vcpu_hour": ("Fargate Linux/x86 vCPU-hour", {_US: 0.04048, _TOKYO: 0.05056}),
        "fargate_linux_x86_gb_hour": ("Fargate Linux/x86 GB-hour", {_US: 0.004445, _TOKYO: 0.00553}),
        # Windows: the vCPU price plus the per-vCPU OS license fee.
        "fargate_windows_vcpu_hour": ("Fargate Windows vCPU-hour incl. license", {_US: 0.09148 + 0.046}),
        "fargate_windows_gb_hour": ("Fargate Windows GB-hour", {_US: 0.01005}),
    },
    "kms": {
        "kms_key_month": ("KMS customer-managed key-month", {EVERY_REGION: 1.0}),
    },
    "secrets-manager": {
        "secret_month": ("Secrets Manager secret-month", {EVERY_REGION: 0.40}),
    },
    "ebs": {
        "ebs_gp3_gb_month": ("EBS gp3 GB-month", {_US: 0.08, _TOKYO: 0.096}),
    },
    "rds/aurora": {
        "aurora_serverless_v2_acu_hour": ("Aurora Serverless v2 ACU-hour", {_US: 0.12, _TOKYO: 0.15}),
    },
    # ElastiCache Serverless bills at least 100 MB (Valkey) or 1 GB (Redis OSS, Memcached) of data.
    "elasticache": {
        "elasticache_serverless_valkey_gb_hour": ("ElastiCache Serverless Valkey GB-hour", {_US: 0.084}),
        "elasticache_serverless_redis_gb_hour": ("ElastiCache Serverless Redis OSS GB-hour", {_US: 0.125}),
    },
    # An idle App Runner service keeps its instances' memory provisioned.
    "apprunner": {
        "app_runner_provisioned_gb_hour": ("App Runner provisioned GB-hour", {_US: 0.007}),
    },
    "waf": {
        "waf_web_acl_month": ("AWS WAF web ACL-month", {EVERY_REGION: 5.0}),
        "waf_rule_month": ("AWS WAF rule-month (a managed rule group counts as one)", {EVERY_REGION: 1.0}),
    },
    "ecs/anywhere": {
        "ecs_anywhere_instance_hour": ("ECS Anywhere managed instance-hour", {EVERY_REGION: 0.01025}),
    },
}

PRICES: dict[str, Price] = {
    key: Price(unit, by_region, f"https://aws.amazon.com/{page}/pricing/")
    for page, entries in _PRICES_BY_PAGE.items()
    for key, (unit, by_region) in entries.items()
}

# EC2 Linux on-demand, per instance-hour (https://aws.amazon.com/ec2/pricing/on-demand/).
INSTANCE_HOUR: dict[str, dict[str, float]] = {
    "t4g.small": {_US: 0.0168, _TOKYO: 0.0216},
    "t4g.medium": {_US: 0.0336, _TOKYO: 0.0432},
    "t4g.large": {_US: 0.0672, _TOKYO: 0.0864},
    "m7g.large": {_US: 0.0816, _TOKYO: 0.1052},
    "g6.xlarge": {_US: 0.8048},
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
