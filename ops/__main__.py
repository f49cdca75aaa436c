"""Command line of the journey: `python -m ops <command>`; the Makefile's targets call it."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import botocore.exceptions

from ops import assembly, cost
from ops.aws import Account, JourneyError, connect
from ops.report import run, summary

ROOT = Path(__file__).resolve().parents[1]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m ops", description=__doc__)
    parser.add_argument("--stage", default=None, help="a stage name: config/<stage>.yaml")
    parser.add_argument("--config", default=None, help="the path of a configuration file")
    parser.add_argument("--assembly", type=Path, default=ROOT / "cdk.out", help="the synthesized app")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("target", help="print the stage, account and regions a deploy goes to")
    commands.add_parser("synthesized", help="the stacks the last synth wrote")
    commands.add_parser("preflight", help="read-only checks before a deploy")
    verify = commands.add_parser("verify", help="read-only checks that each feature is live")
    verify.add_argument("--stack", default=None)
    estimate = commands.add_parser("cost", help="the cost at rest of each enabled stack, offline")
    estimate.add_argument(
        "--readme", action="store_true", help="also write the table into README.md and README.ja.md"
    )
    select = commands.add_parser("select", help="the stack ids a deploy or destroy names")
    select.add_argument("action", choices=("deploy", "destroy"))
    select.add_argument("--stack", default=None)
    select.add_argument("--with-app-runner", action="store_true")
    commands.add_parser("leftovers", help="anything still tagged for this stage")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return _dispatch(args)
    except (JourneyError, ValueError) as error:  # ConfigError is a ValueError: one line, no traceback
        print(f"error: {error}", file=sys.stderr)
        return 1
    except botocore.exceptions.NoCredentialsError:
        print("error: no AWS credentials found: run `aws sso login` or set AWS_PROFILE", file=sys.stderr)
        return 1
    except botocore.exceptions.ClientError as error:
        operation = getattr(error, "operation_name", "a call")
        print(
            f"error: AWS refused {operation}: {error.response.get('Error', {}).get('Message', error)}",
            file=sys.stderr,
        )
        return 1
    except botocore.exceptions.BotoCoreError as error:  # expired SSO token, no network, ...
        print(f"error: {error}", file=sys.stderr)
        return 1


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "synthesized":
        print(" ".join(s.id for s in assembly.read(args.assembly)))
        return 0
    if args.command == "select":
        stacks = assembly.read(args.assembly)
        if args.action == "deploy":
            chosen = assembly.deploy_selection(stacks, with_app_runner=args.with_app_runner)
        else:
            chosen = assembly.destroy_selection(stacks, args.stack or None)
        print(" ".join(chosen))
        return 0

    # Imports aws_cdk: only for the commands that need it. app.py first puts the venv's Node 24 on
    # PATH for jsii, as it does for `cdk synth` (importing it composes nothing).
    import app  # noqa: F401
    from stacks.config import load_config

    config = load_config(stage=args.stage or None, path=args.config or None)
    if args.command == "cost":
        stacks = assembly.require_stage(assembly.read(args.assembly), config.stage)
        costs = [cost.estimate(info) for info in stacks]
        print(cost.report(costs))
        if args.readme:
            for language, name in cost.README_FILES.items():
                readme = ROOT / name
                block = cost.readme_block(costs, config.stage, language)
                text = cost.replace_readme_block(readme.read_text(encoding="utf-8"), block)
                readme.write_text(text, encoding="utf-8")
                print(f"wrote the table into {name}")
        return 0

    account = connect(config)
    if args.command == "target":
        # Before a deploy's own synth: the configuration, not a possibly stale cdk.out, names the regions.
        replication = config.registry.replication
        replica = config.registry.enabled and replication.enabled and replication.template_prefixes
        _print_target(account, config.stage, [replication.destination_region] if replica else [])
        return 0
    stacks = assembly.require_stage(assembly.read(args.assembly), config.stage)
    if args.command == "preflight":
        from ops.preflight import Preflight

        _print_target(account, config.stage, sorted({s.region for s in stacks} - {account.region}))
        results = run(Preflight(account, config, stacks).checks())
    elif args.command == "verify":
        from ops.verify import Verify, by_id

        selected = by_id(stacks, args.stack or None)
        if not selected:
            raise JourneyError(f"STACK must be one of {', '.join(s.id for s in stacks)}, got {args.stack!r}")
        results = run(Verify(account, config, selected).checks())
    else:
        from ops.leftovers import leftovers

        results = run([lambda: leftovers(account, config, {s.region for s in stacks} | {account.region})])
    line, code = summary(results)
    print(line)
    return code


def _print_target(account: Account, stage: str, other_regions: list[str]) -> None:
    extra = f" (and {', '.join(other_regions)})" if other_regions else ""
    print(f"stage {stage}: account {account.account_id}, region {account.region}{extra}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
