"""Deployable stacks: each composes constructs from constructs_lib/ for one feature of the talk."""
