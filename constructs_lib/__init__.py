"""Copyable constructs: each folder is one unit that depends only on aws_cdk, constructs and itself."""
