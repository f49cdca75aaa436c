"""The user's journey around the stacks: preflight, deploy-all, verify, cost and destroy-all.

Commands that read the user's account (never write to it) before and after `cdk deploy`, and an
offline cost estimate from the synthesized templates. `python -m ops --help` lists them; the
Makefile's targets call them. Nothing here is imported by `app.py`, `stacks/` or `constructs_lib/`.
"""
