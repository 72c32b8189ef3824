"""Terraform modules synthesized from constructs, and the calls of them.

A subsystem that HCL teams also use on their own (HyperPod, Karpenter) is a
``ModuleStack``: variables in, outputs out, no provider configuration and no backend.
The platform's root module calls it with ``LocalModule`` (``module "hyperpod" { source =
"./modules/hyperpod" ... }``), so the root configuration and the module HCL teams take
from ``make modules`` are the same code and the same bytes. ``write_local_modules`` writes
each called module, and the project files it reads at apply time, beside the stack.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from cdktf import App, TerraformBackend, TerraformHclModule, TerraformStack, Token
from cdktf_cdktf_provider_aws.provider import AwsProvider
from cdktf_cdktf_provider_helm.provider import HelmProvider
from constructs import Construct

from .refs import Expression, count_text
from .stack import ReadableStack
from .upgrades import previous_address
from .variables import literal

if TYPE_CHECKING:
    from modules.config import PlatformConfig

REPO_ROOT = Path(__file__).resolve().parents[2]
MODULES_FOLDER = "modules"
MODULE_FILE = "main.tf.json"
MODULE_ROOT = "${path.module}"


class _NoBackend(TerraformBackend):
    """A child module has no backend (the calling root module owns the state); without a
    backend of its own a stack would get cdktf's default local one."""

    def __init__(self, scope: Construct):
        super().__init__(scope, "backend", "none")

    def to_terraform(self) -> Any:  # jsii override
        return {}

    def get_remote_state_data_source(self, scope, name, from_stack):  # noqa: ANN001, ANN201 - jsii abstract
        raise NotImplementedError("a module's state is its caller's")


class _AwsRequirement(AwsProvider):
    """Only the provider requirement: a module with a provider block cannot be called with
    ``count`` (Terraform calls it a legacy module), and the caller configures providers."""

    def to_terraform(self) -> Any:  # jsii override
        return {"terraform": super().to_terraform()["terraform"]}


class _HelmRequirement(HelmProvider):
    def to_terraform(self) -> Any:  # jsii override
        return {"terraform": super().to_terraform()["terraform"]}


class ModuleStack(ReadableStack):
    """A stack synthesized as a child module (aws and helm providers required, configured
    by the caller)."""

    def __init__(self, scope: Construct, name: str):
        super().__init__(scope, name, unprefixed=name)
        _NoBackend(self)
        _AwsRequirement(self, "aws")
        _HelmRequirement(self, "helm")
        # Variables have their own namespace in Terraform; their scope keeps their ids
        # apart from the outputs' and locals' in the construct tree.
        self.variables = Construct(self, "variables")


@dataclass(frozen=True)
class ModuleFile:
    """A folder of the project the module reads at apply time, copied into the module at
    ``target`` (named from ``${path.module}``). An ``optional`` one is copied when it
    exists (a chart fetched separately); the module says what to do when it is not."""

    source: Path
    """Relative to the project root."""
    target: Path
    optional: bool = False


@dataclass(frozen=True)
class ModuleSource:
    """A module synthesized from constructs: its folder name, the stack that builds it
    from the configuration, and the project files it reads at apply time."""

    name: str
    build: Callable[[App, "PlatformConfig"], ModuleStack]
    files: tuple[ModuleFile, ...] = ()


class LocalModule(TerraformHclModule):
    """``module "<id>" { source = "./modules/<name>" ... }`` in the calling stack; ``count``
    (a Terraform condition) switches the whole module on and off. The module is
    synthesized here, once, from its constructs; ``write_local_modules`` writes it."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        source: ModuleSource,
        config: "PlatformConfig",
        inputs: dict[str, Any],
        enabled: str | None = None,
    ):
        super().__init__(
            scope,
            construct_id,
            source=f"./{MODULES_FOLDER}/{source.name}",
            variables={name: literal(value) if isinstance(value, dict) else value for name, value in inputs.items()},
            # The folder is written by write_local_modules, not copied by cdktf's assets.
            skip_asset_creation_from_local_modules=True,
        )
        if enabled is not None:
            # cdktf's module calls take for_each but not count; Terraform takes both.
            self.add_override("count", count_text(enabled))
        self.module_source = source
        self.enabled = enabled
        self.document = synthesize_module(source, config)
        stack = TerraformStack.of(self)
        _calls(stack).append(self)
        _declare_moves(stack)

    @property
    def address(self) -> str:
        """``module.<id>``, with the instance key when ``count`` switches it."""
        return f"module.{self.friendly_unique_id}" + ("[0]" if self.enabled is not None else "")

    def output_description(self, name: str) -> str:
        """The description the module gives its output (one description, in the module)."""
        return self.document["output"][name]["description"]

    def output(self, name: str) -> str:
        """An output of the module; null when ``count`` leaves the module out."""
        if self.enabled is None:
            return self.get_string(name)
        return Token.as_string(Expression(f"one(module.{self.friendly_unique_id}[*].{name})"))


def _calls(stack: TerraformStack) -> list[LocalModule]:
    """The module calls of a stack, kept on the stack object itself."""
    if not hasattr(stack, "_local_module_calls"):
        stack._local_module_calls = []  # noqa: SLF001 - our own bookkeeping on the stack
    return stack._local_module_calls  # noqa: SLF001


def synthesize_module(source: ModuleSource, config: "PlatformConfig") -> dict[str, Any]:
    """A module's Terraform JSON, synthesized from its constructs in an app of its own
    (a stack of the calling app would be deployed as a stack of its own)."""
    with tempfile.TemporaryDirectory() as outdir:
        app = App(outdir=outdir, skip_validation=True)
        stack = source.build(app, config)
        app.synth()
        return json.loads((Path(outdir) / "stacks" / stack.node.id / "cdk.tf.json").read_text())


def _declare_moves(stack: TerraformStack) -> None:
    """``moved`` blocks from each module resource's address in the previous layout (see
    ``upgrades.previous_address``) to its address in the module, so a state written by
    the previous release plans no replacement. Moves of addresses that are not in the
    state do nothing."""
    moves = []
    for call in _calls(stack):
        call_address = call.address
        for resource_type, blocks in call.document.get("resource", {}).items():
            for name, block in sorted(blocks.items()):
                path = block["//"]["metadata"]["path"].split("/")[1:]
                counted = "[0]" if "count" in block else ""
                moves.append(
                    {
                        "from": previous_address(resource_type, path, counted_before=call.enabled is not None),
                        "to": f"{call_address}.{resource_type}.{name}{counted}",
                    }
                )
    stack.add_override("moved", moves)


def write_local_modules(stack: TerraformStack, stack_dir: Path) -> list[Path]:
    """``<stack_dir>/modules/<name>/``: the module's JSON and the files it reads."""
    written = []
    for call in _calls(stack):
        folder = stack_dir / MODULES_FOLDER / call.module_source.name
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        (folder / MODULE_FILE).write_text(json.dumps(call.document, indent=2) + "\n")
        for file in call.module_source.files:
            source = REPO_ROOT / file.source
            if file.optional and not source.is_dir():
                continue
            # What the module uploads or installs: no caches or hidden files.
            shutil.copytree(source, folder / file.target, ignore=shutil.ignore_patterns(".*", "__pycache__"))
        written.append(folder)
    return written
