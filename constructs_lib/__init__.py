"""Copyable constructs: each folder is one unit that depends only on aws_cdk, constructs, itself and
the shared helpers of `_shared/`.

Every construct has the same signature, so that a copy reads like the rest: `scope`, `construct_id`,
then keyword-only the constructs it builds on (cluster, VPC, key) and one frozen `props` dataclass
of its settings, defaulted after `super().__init__` and checked there, with a one-line
`ValueError` naming the field and the bad value. Signatures and props calls of different
constructs therefore look alike without sharing code.
"""
