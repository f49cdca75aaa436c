"""The controller policies of Karpenter's v1.14.1 getting-started template, as test data.

Transcribed from aws/karpenter-provider-aws v1.14.1 (commit bde00654),
`website/content/en/docs/getting-started/getting-started-with-karpenter/cloudformation.yaml`:
per managed policy, per statement id, the actions, resources and conditions, with lists sorted.
`${ClusterName}`, `${AWS::Region}`, `${AWS::Partition}`, `${AWS::AccountId}` and the two `GetAtt`s
are the template's own placeholders; the tests normalize the synthesized policies to the same form.
"""

# What CreateFleet, CreateLaunchTemplate and RunInstances create: the template names the same
# resources for the statement that creates them and for the one that tags them on creation.
CREATED_WITH_TAGS = [
    "arn:${AWS::Partition}:ec2:${AWS::Region}:*:fleet/*",
    "arn:${AWS::Partition}:ec2:${AWS::Region}:*:instance/*",
    "arn:${AWS::Partition}:ec2:${AWS::Region}:*:launch-template/*",
    "arn:${AWS::Partition}:ec2:${AWS::Region}:*:network-interface/*",
    "arn:${AWS::Partition}:ec2:${AWS::Region}:*:spot-instances-request/*",
    "arn:${AWS::Partition}:ec2:${AWS::Region}:*:volume/*",
]

UPSTREAM_POLICIES: dict[str, dict[str, dict[str, object]]] = {
    "NodeLifecycle": {
        "AllowScopedEC2InstanceAccessActions": {
            "Action": ["ec2:CreateFleet", "ec2:RunInstances"],
            "Resource": [
                "arn:${AWS::Partition}:ec2:${AWS::Region}:*:capacity-reservation/*",
                "arn:${AWS::Partition}:ec2:${AWS::Region}:*:placement-group/*",
                "arn:${AWS::Partition}:ec2:${AWS::Region}:*:security-group/*",
                "arn:${AWS::Partition}:ec2:${AWS::Region}:*:subnet/*",
                "arn:${AWS::Partition}:ec2:${AWS::Region}::image/*",
                "arn:${AWS::Partition}:ec2:${AWS::Region}::snapshot/*",
            ],
            "Condition": {},
        },
        "AllowScopedEC2LaunchTemplateAccessActions": {
            "Action": ["ec2:CreateFleet", "ec2:RunInstances"],
            "Resource": ["arn:${AWS::Partition}:ec2:${AWS::Region}:*:launch-template/*"],
            "Condition": {
                "StringEquals": {"aws:ResourceTag/kubernetes.io/cluster/${ClusterName}": "owned"},
                "StringLike": {"aws:ResourceTag/karpenter.sh/nodepool": "*"},
            },
        },
        "AllowScopedEC2InstanceActionsWithTags": {
            "Action": ["ec2:CreateFleet", "ec2:CreateLaunchTemplate", "ec2:RunInstances"],
            "Resource": CREATED_WITH_TAGS,
            "Condition": {
                "StringEquals": {
                    "aws:RequestTag/kubernetes.io/cluster/${ClusterName}": "owned",
                    "aws:RequestTag/eks:eks-cluster-name": "${ClusterName}",
                },
                "StringLike": {"aws:RequestTag/karpenter.sh/nodepool": "*"},
            },
        },
        "AllowScopedResourceCreationTagging": {
            "Action": ["ec2:CreateTags"],
            "Resource": CREATED_WITH_TAGS,
            "Condition": {
                "StringEquals": {
                    "aws:RequestTag/kubernetes.io/cluster/${ClusterName}": "owned",
                    "aws:RequestTag/eks:eks-cluster-name": "${ClusterName}",
                    "ec2:CreateAction": ["CreateFleet", "CreateLaunchTemplate", "RunInstances"],
                },
                "StringLike": {"aws:RequestTag/karpenter.sh/nodepool": "*"},
            },
        },
        "AllowScopedResourceTagging": {
            "Action": ["ec2:CreateTags"],
            "Resource": ["arn:${AWS::Partition}:ec2:${AWS::Region}:*:instance/*"],
            "Condition": {
                "StringEquals": {"aws:ResourceTag/kubernetes.io/cluster/${ClusterName}": "owned"},
                "StringLike": {"aws:ResourceTag/karpenter.sh/nodepool": "*"},
                "StringEqualsIfExists": {"aws:RequestTag/eks:eks-cluster-name": "${ClusterName}"},
                "ForAllValues:StringEquals": {
                    "aws:TagKeys": ["Name", "eks:eks-cluster-name", "karpenter.sh/nodeclaim"]
                },
            },
        },
        "AllowScopedDeletion": {
            "Action": ["ec2:DeleteLaunchTemplate", "ec2:TerminateInstances"],
            "Resource": [
                "arn:${AWS::Partition}:ec2:${AWS::Region}:*:instance/*",
                "arn:${AWS::Partition}:ec2:${AWS::Region}:*:launch-template/*",
            ],
            "Condition": {
                "StringEquals": {"aws:ResourceTag/kubernetes.io/cluster/${ClusterName}": "owned"},
                "StringLike": {"aws:ResourceTag/karpenter.sh/nodepool": "*"},
            },
        },
    },
    "IAMIntegration": {
        "AllowPassingInstanceRole": {
            "Action": ["iam:PassRole"],
            "Resource": ["${KarpenterNodeRole.Arn}"],
            "Condition": {
                "StringEquals": {"iam:PassedToService": ["ec2.amazonaws.com", "ec2.amazonaws.com.cn"]}
            },
        },
        "AllowScopedInstanceProfileCreationActions": {
            "Action": ["iam:CreateInstanceProfile"],
            "Resource": ["arn:${AWS::Partition}:iam::${AWS::AccountId}:instance-profile/*"],
            "Condition": {
                "StringEquals": {
                    "aws:RequestTag/kubernetes.io/cluster/${ClusterName}": "owned",
                    "aws:RequestTag/eks:eks-cluster-name": "${ClusterName}",
                    "aws:RequestTag/topology.kubernetes.io/region": "${AWS::Region}",
                },
                "StringLike": {"aws:RequestTag/karpenter.k8s.aws/ec2nodeclass": "*"},
            },
        },
        "AllowScopedInstanceProfileTagActions": {
            "Action": ["iam:TagInstanceProfile"],
            "Resource": ["arn:${AWS::Partition}:iam::${AWS::AccountId}:instance-profile/*"],
            "Condition": {
                "StringEquals": {
                    "aws:ResourceTag/kubernetes.io/cluster/${ClusterName}": "owned",
                    "aws:ResourceTag/topology.kubernetes.io/region": "${AWS::Region}",
                    "aws:RequestTag/kubernetes.io/cluster/${ClusterName}": "owned",
                    "aws:RequestTag/eks:eks-cluster-name": "${ClusterName}",
                    "aws:RequestTag/topology.kubernetes.io/region": "${AWS::Region}",
                },
                "StringLike": {
                    "aws:ResourceTag/karpenter.k8s.aws/ec2nodeclass": "*",
                    "aws:RequestTag/karpenter.k8s.aws/ec2nodeclass": "*",
                },
            },
        },
        "AllowScopedInstanceProfileActions": {
            "Action": [
                "iam:AddRoleToInstanceProfile",
                "iam:DeleteInstanceProfile",
                "iam:RemoveRoleFromInstanceProfile",
            ],
            "Resource": ["arn:${AWS::Partition}:iam::${AWS::AccountId}:instance-profile/*"],
            "Condition": {
                "StringEquals": {
                    "aws:ResourceTag/kubernetes.io/cluster/${ClusterName}": "owned",
                    "aws:ResourceTag/topology.kubernetes.io/region": "${AWS::Region}",
                },
                "StringLike": {"aws:ResourceTag/karpenter.k8s.aws/ec2nodeclass": "*"},
            },
        },
    },
    "EKSIntegration": {
        "AllowAPIServerEndpointDiscovery": {
            "Action": ["eks:DescribeCluster"],
            "Resource": ["arn:${AWS::Partition}:eks:${AWS::Region}:${AWS::AccountId}:cluster/${ClusterName}"],
            "Condition": {},
        },
    },
    "Interruption": {
        "AllowInterruptionQueueActions": {
            "Action": ["sqs:DeleteMessage", "sqs:GetQueueUrl", "sqs:ReceiveMessage"],
            "Resource": ["${KarpenterInterruptionQueue.Arn}"],
            "Condition": {},
        },
    },
    "ZonalShift": {
        "AllowZonalShiftStatusReadOnly": {
            "Action": ["arc-zonal-shift:GetManagedResource"],
            "Resource": ["*"],
            "Condition": {
                "StringEquals": {
                    "arc-zonal-shift:ResourceIdentifier": (
                        "arn:${AWS::Partition}:eks:${AWS::Region}:${AWS::AccountId}:cluster/${ClusterName}"
                    )
                }
            },
        },
    },
    "ResourceDiscovery": {
        "AllowRegionalReadActions": {
            "Action": [
                "ec2:DescribeCapacityReservations",
                "ec2:DescribeImages",
                "ec2:DescribeInstanceStatus",
                "ec2:DescribeInstanceTypeOfferings",
                "ec2:DescribeInstanceTypes",
                "ec2:DescribeInstances",
                "ec2:DescribeLaunchTemplates",
                "ec2:DescribePlacementGroups",
                "ec2:DescribeSecurityGroups",
                "ec2:DescribeSpotPriceHistory",
                "ec2:DescribeSubnets",
            ],
            "Resource": ["*"],
            "Condition": {"StringEquals": {"aws:RequestedRegion": "${AWS::Region}"}},
        },
        "AllowSSMReadActions": {
            "Action": ["ssm:GetParameter"],
            "Resource": ["arn:${AWS::Partition}:ssm:${AWS::Region}::parameter/aws/service/*"],
            "Condition": {},
        },
        "AllowPricingReadActions": {
            "Action": ["pricing:GetProducts"],
            "Resource": ["*"],
            "Condition": {},
        },
        "AllowUnscopedInstanceProfileListAction": {
            "Action": ["iam:ListInstanceProfiles"],
            "Resource": ["*"],
            "Condition": {},
        },
        "AllowInstanceProfileReadActions": {
            "Action": ["iam:GetInstanceProfile"],
            "Resource": ["arn:${AWS::Partition}:iam::${AWS::AccountId}:instance-profile/*"],
            "Condition": {},
        },
    },
}
