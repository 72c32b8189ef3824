"""``python -m tooling.offline [FOLDER]``: terraform init, validate and plan of a folder
against the offline stand-in providers, then the plan summary.

Exit codes: 0 planned, 1 Terraform reported an error (its diagnostics are printed),
2 bad usage or a folder the stand-ins cannot run.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from .bindings import BindingsError
from .usage import ConfigurationError
from .workspace import TerraformError, Workspace, terraform_binary

DEFAULT_FOLDER = "cdktf.out/stacks/ml-platform"
EXIT_TERRAFORM, EXIT_USAGE = 1, 2


def _value(text: str) -> Any:
    """A -var value: JSON when it parses (numbers, bools, lists, objects), else a string."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m tooling.offline",
        description=(
            "Run terraform init, validate and plan on a configuration folder (a copy of it) against "
            "offline stand-in providers, and print the plan summary. A stand-in proves the configuration "
            "is valid Terraform and plans what we expect, not that AWS accepts it."
        ),
    )
    p.add_argument("folder", nargs="?", default=DEFAULT_FOLDER, help=f"configuration folder (default: {DEFAULT_FOLDER})")
    p.add_argument("--zones", type=int, default=3, help="availability zones the stand-in reports (default: 3)")
    p.add_argument("--region", default="us-west-2", help="region when the configuration sets none (default: us-west-2)")
    p.add_argument("--var", action="append", default=[], metavar="NAME=VALUE", help="a variable (VALUE read as JSON when it parses)")
    p.add_argument("--var-file", action="append", default=[], metavar="FILE", help="a tfvars file")
    p.add_argument("--root", help="folder the configuration's ../ paths resolve against (default: the folder's ancestors)")
    p.add_argument("--at", help="where the folder sits under --root (default: its last path components)")
    p.add_argument("--no-chart-placeholders", action="store_true", help="do not stand in for missing local helm charts")
    p.add_argument("--keep", action="store_true", help="keep the workspace folder and print its path")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    variables = {}
    for item in args.var:
        name, sep, text = item.partition("=")
        if not sep or not name:
            print(f"error: --var takes NAME=VALUE, got {item!r}", file=sys.stderr)
            return EXIT_USAGE
        variables[name] = _value(text)
    if terraform_binary() is None:
        print("error: terraform is not on PATH", file=sys.stderr)
        return EXIT_USAGE
    folder = Path(args.folder)
    try:
        workspace = Workspace(
            folder,
            zones=args.zones,
            region=args.region,
            root=args.root,
            at=args.at,
            chart_placeholders=not args.no_chart_placeholders,
            keep=args.keep,
        )
    except (ConfigurationError, BindingsError, ValueError, FileNotFoundError) as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_USAGE
    with workspace:
        stand_ins = ", ".join(f"{p.source} {p.version}" for p in workspace.providers.values())
        print(f"offline: {folder} with stand-in providers {stand_ins} (schemas from the cdktf bindings)")
        for note in workspace.notes:
            print(f"note: {note}")
        if args.keep:
            print(f"workspace: {workspace.path}")
        try:
            steps = [("init", workspace.init), ("validate", workspace.validate)]
            for name, step in steps:
                result = step()
                conclusion = result.stdout.strip().splitlines()[0] if name == "validate" and result.stdout.strip() else ""
                print(f"{name:<9}{result.seconds:6.1f} s  {conclusion}".rstrip())
            plan = workspace.plan(vars=variables, var_files=args.var_file)
            print(f"{'plan':<9}{plan.seconds:6.1f} s")
        except TerraformError as err:
            print(f"error: {' '.join(err.command)} failed (exit {err.returncode}):", file=sys.stderr)
            print(err.stderr.strip() or err.stdout.strip(), file=sys.stderr)
            return EXIT_TERRAFORM
        regions = Counter(re.findall(r'^\s+\+ region\s+= "([a-z0-9-]+)"$', plan.stdout, re.M))
        where = f" (resources in {', '.join(sorted(regions))})" if regions else ""
        print(plan.summary + where)
        print("Stand-in providers: the configuration is valid Terraform and plans as shown; AWS was not asked whether it accepts it.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
