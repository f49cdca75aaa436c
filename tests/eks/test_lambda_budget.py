"""Every Lambda-backed custom resource costs deploy time: the stack holds exactly the ones it needs.

- kubectl provider (handler + CDK Provider framework): Helm charts, manifests, the ALB address;
- CDK's CfnJson function: the ALB controller's IRSA trust conditions (OIDC issuer as a key);
- Karpenter's cleanup function: the teardown backstop, a direct custom resource.
"""

from __future__ import annotations

from collections import Counter

from tests.eks.conftest import EksSynth


def test_four_functions_serve_eleven_custom_resources(eks_sandbox: EksSynth) -> None:
    resources = eks_sandbox.json["Resources"]
    functions = {k for k, v in resources.items() if v["Type"] == "AWS::Lambda::Function"}
    assert len(functions) == 4, sorted(functions)
    by_function: Counter[str] = Counter()
    for resource in resources.values():
        if resource["Type"].startswith("Custom::"):
            [function, _] = resource["Properties"]["ServiceToken"]["Fn::GetAtt"]
            assert function in functions
            by_function[resource["Type"]] += 1
    assert by_function == {
        "Custom::AWSCDK-EKS-HelmChart": 3,
        "Custom::AWSCDK-EKS-KubernetesResource": 5,
        "Custom::AWSCDK-EKS-KubernetesObjectValue": 1,
        "Custom::AWSCDKCfnJson": 1,
        "Custom::KarpenterCleanup": 1,
    }
