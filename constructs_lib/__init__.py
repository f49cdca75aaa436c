"""Copyable constructs: each folder is one unit that depends only on aws_cdk, constructs, itself and
the shared helpers of `_shared/`.

Constructs share one signature, so that a copy reads like the rest: `scope`, `construct_id`, then
keyword-only the constructs it builds on (cluster, VPC, key) and, for most, one frozen `props`
dataclass of its settings (defaulted after `super().__init__` when optional), checked with a
one-line `ValueError` that names the field and the bad value. Signatures and props calls of different
constructs therefore look alike without sharing code.
"""
