"""The command line of ``main.py``: arguments, configuration, runtime, synth, summary.

It runs in two steps so that a bad configuration is refused before anything heavy loads:
``start`` parses the arguments and validates the configuration (only pydantic and PyYAML
are imported; exit 2 and nothing written on any problem), then prepares the jsii runtime;
``Invocation.synthesize`` builds the stack with the cdktf bindings, writes it atomically
and prints a summary.

Exit codes: 0 synthesized, 2 invalid arguments or configuration (nothing written),
130 interrupted (nothing half-written).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn, Sequence

from modules.config import CONFIG_ENV_VAR, ConfigError, PlatformConfig, load_config

from . import runtime

if TYPE_CHECKING:  # cli.synth loads cdktf: imported for the type only, before it is needed
    from .synth import BuildStack

DEFAULT_OUTDIR = "cdktf.out"
MODULES_DIR = "dist/terraform-modules"
HCL_DIR = "dist/hcl"
EXIT_INVALID = 2
EXIT_INTERRUPTED = 130


def parser() -> argparse.ArgumentParser:
    cli = argparse.ArgumentParser(
        prog="main.py",
        description="Synthesize the ML training platform's Terraform JSON "
        f"into $CDKTF_OUTDIR (default {DEFAULT_OUTDIR}/stacks/<name>/).",
        epilog=f"The configuration is the YAML file ${CONFIG_ENV_VAR} names (embedded defaults without it). "
        "Exit codes: 0 synthesized, 2 invalid arguments or configuration (nothing written), 130 interrupted.",
    )
    cli.add_argument(
        "--hcl", action="store_true", help=f"also write formatted .tf copies of the stack and its modules to {HCL_DIR}/<stack>/ (for review)"
    )
    cli.add_argument(
        "--modules", action="store_true", help=f"also write the reusable Terraform modules to {MODULES_DIR}/"
    )
    return cli


@dataclass(frozen=True)
class Invocation:
    args: argparse.Namespace
    config: PlatformConfig

    def synthesize(self, build: "BuildStack") -> NoReturn:
        """Synthesize, summarize and end the process (see ``exit_without_teardown``)."""
        from .chart import ensure_hyperpod_chart
        from .summary import print_summary
        from .synth import copy_modules, synth_atomically

        ensure_hyperpod_chart(self.config)  # before the synth, which copies it into the module
        outdir = Path(os.environ.get("CDKTF_OUTDIR") or DEFAULT_OUTDIR)
        stack = synth_atomically(build, self.config, outdir)
        print_summary(stack.node.id, self.config, outdir)
        stack_dir = outdir / "stacks" / stack.node.id
        if self.args.hcl:
            from tooling.hcl import write_hcl

            print(f"  hcl: {os.path.relpath(write_hcl(stack_dir, Path(HCL_DIR) / stack.node.id))}/")
        if self.args.modules:
            for folder in copy_modules(stack_dir, Path(MODULES_DIR)):
                print(f"  module: {os.path.relpath(folder)}/")
        exit_without_teardown()


def start(argv: Sequence[str] = ()) -> Invocation:
    """Arguments and configuration, then the runtime; exits 2 on any problem."""
    args = parser().parse_args(list(argv))  # argparse exits 2 with usage on a bad argument
    try:
        config = load_config()
    except ConfigError as err:
        refuse(err)
    _end_cleanly_when_interrupted()
    runtime.prepare(private_temp=True)
    return Invocation(args, config)


def run(build: "BuildStack", argv: Sequence[str] = ()) -> NoReturn:
    start(argv).synthesize(build)


def refuse(err: ConfigError) -> NoReturn:
    print(f"error: invalid configuration ({len(err.problems)} problem(s)):", file=sys.stderr)
    for problem in err.problems:
        print(f"  - {problem}", file=sys.stderr)
    sys.exit(EXIT_INVALID)


def exit_without_teardown() -> NoReturn:
    """End the process now that everything is written.

    A normal exit tears down every loaded module one by one (seconds when the provider
    bindings are loaded eagerly), which has nothing left to do. The process's private
    temporary folder goes first (see ``cli.runtime``), so nothing is left behind; the
    jsii Node.js process sees its input close and ends by itself.
    ``ML_PLATFORM_FAST_EXIT=0`` keeps the normal exit (for benchmarks and debugging).
    """
    if not runtime.node.switched_on(os.environ, "ML_PLATFORM_FAST_EXIT"):
        sys.exit(0)
    runtime.discard_private_temp()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def _end_cleanly_when_interrupted() -> None:
    """Ctrl-C or SIGTERM, at any moment of the synth: one line, exit 130, and nothing
    left behind. SIGTERM is raised as Ctrl-C is, so the synth's own clean-up (its staging
    folder) runs as the exception unwinds; at the top the private temporary folder is
    removed and the process ends without the long teardown."""
    signal.signal(signal.SIGTERM, _raise_interrupt)
    previous_hook = sys.excepthook

    def on_uncaught(kind, value, traceback) -> None:  # noqa: ANN001 - excepthook protocol
        if not issubclass(kind, KeyboardInterrupt):
            previous_hook(kind, value, traceback)
            return
        print("interrupted: the output folder holds the previous synth or a complete new one, never half of one",
              file=sys.stderr)
        runtime.discard_private_temp()
        sys.stderr.flush()
        os._exit(EXIT_INTERRUPTED)

    sys.excepthook = on_uncaught


def _raise_interrupt(signum, frame) -> NoReturn:  # noqa: ANN001 - signal handler protocol
    raise KeyboardInterrupt
