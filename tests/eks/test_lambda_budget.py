"""Every Lambda-backed custom resource costs deploy time: the stack holds exactly the ones it needs.

- kubectl provider (handler + CDK Provider framework): Helm charts, manifests, the ALB address;
- CDK's CfnJson function: the ALB controller's IRSA trust conditions (OIDC issuer as a key);
- Karpenter's cleanup function: the teardown backstop, a direct custom resource;
- the control-plane log guard (sandbox only, where the stack deletes its log groups): a direct
  custom resource that keeps EKS from leaving a re-created log group behind;
- the Load Balancer Controller cleanup: the teardown backstop for what the controller created,
  a direct custom resource.

EKS on Fargate adds no function: its three manifests (Fargate logging, the ADOT collector, the
JSON-logging sample) run on the kubectl provider, and the collector's IRSA trust conditions on
the CfnJson function that the ALB controller's role already brought; the CloudWatch add-on is a
native `AWS::EKS::Addon`.
"""

from __future__ import annotations

from collections import Counter

from tests.eks.conftest import EksSynth


def _custom_resources_by_type(synth: EksSynth) -> tuple[set[str], Counter[str]]:
    resources = synth.json["Resources"]
    functions = {k for k, v in resources.items() if v["Type"] == "AWS::Lambda::Function"}
    by_type: Counter[str] = Counter()
    for resource in resources.values():
        if resource["Type"].startswith("Custom::"):
            [function, _] = resource["Properties"]["ServiceToken"]["Fn::GetAtt"]
            assert function in functions
            by_type[resource["Type"]] += 1
    return functions, by_type


def test_six_functions_serve_seventeen_custom_resources_in_the_sandbox(eks_sandbox: EksSynth) -> None:
    functions, by_type = _custom_resources_by_type(eks_sandbox)
    assert len(functions) == 6, sorted(functions)
    assert by_type == {
        "Custom::AWSCDK-EKS-HelmChart": 3,
        "Custom::AWSCDK-EKS-KubernetesResource": 5 + 3,  # + Fargate logging, collector, sample
        "Custom::AWSCDK-EKS-KubernetesObjectValue": 1,
        "Custom::AWSCDKCfnJson": 1 + 1,  # + the collector's IRSA trust conditions
        "Custom::KarpenterCleanup": 1,
        "Custom::EksControlPlaneLogsGuard": 1,
        "Custom::LoadBalancerControllerCleanup": 1,
    }


def test_five_functions_serve_thirteen_custom_resources_in_production(eks_production: EksSynth) -> None:
    # No samples (the ALB one's Ingress and address lookup, the Fargate one) and retained logs
    # (so no log guard).
    functions, by_type = _custom_resources_by_type(eks_production)
    assert len(functions) == 5, sorted(functions)
    assert by_type == {
        "Custom::AWSCDK-EKS-HelmChart": 3,
        "Custom::AWSCDK-EKS-KubernetesResource": 4 + 2,  # + Fargate logging, collector
        "Custom::AWSCDKCfnJson": 1 + 1,  # + the collector's IRSA trust conditions
        "Custom::KarpenterCleanup": 1,
        "Custom::LoadBalancerControllerCleanup": 1,
    }
