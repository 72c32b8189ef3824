"""A configuration folder copied into a temporary workspace and run by the real
``terraform`` against the stand-in providers (see the package docstring)."""

from __future__ import annotations

import atexit
import json
import os
import platform
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
import threading
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from . import usage as usage_module
from .bindings import REPO, BindingsError, bindings_for, provider_requirements, satisfies
from .jsii_schema import ProviderSchemas, schemas_for
from .schema import served_schema
from .usage import ConfigurationError, Usage

# Names Terraform gives the override file that moves state into the workspace.
BACKEND_OVERRIDE = "zz_offline_standin_override.tf.json"
COPY_IGNORE = (".terraform", ".terraform.lock.hcl", "*.tfstate", "*.tfstate.backup", "terraform.tfstate.d", "*.tfplan", "__pycache__")
_SUMMARY = re.compile(r"^(Plan: .*|No changes\..*|Apply complete!.*|Destroy complete!.*)$", re.M)
_COUNTS = re.compile(r"(\d+) to (add|change|destroy|import)")


class TerraformError(RuntimeError):
    """A terraform command failed; carries the command and Terraform's own diagnostics."""

    def __init__(self, command: Sequence[str], returncode: int, stdout: str, stderr: str, folder: Path):
        self.command = list(command)
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr
        self.folder = folder
        detail = stderr.strip() or stdout.strip()[-4000:]
        super().__init__(f"`{shlex.join(self.command)}` failed (exit {returncode}) in {folder}:\n{detail}")


@dataclass
class Result:
    """A terraform command that ran (``run(check=False)`` may return a failed one)."""

    command: list[str]
    stdout: str
    stderr: str
    seconds: float
    returncode: int = 0

    @property
    def summary(self) -> str | None:
        """The command's one-line conclusion, e.g. ``Apply complete! Resources: 3 added, ...``."""
        found = _SUMMARY.findall(self.stdout)
        return found[-1].strip() if found else None


class Plan:
    """A saved plan; ``json`` is ``terraform show -json`` of it, read on first use."""

    def __init__(self, file: Path, stdout: str, seconds: float, workspace: "Workspace | None"):
        self.file = file
        self.stdout = stdout
        self.seconds = seconds
        self.show_seconds: float | None = None
        self._workspace = workspace
        self._json: dict[str, Any] | None = None

    def save(self, folder: Path) -> None:
        """Write the plan's output and its ``json`` into ``folder``: ``Plan.load`` reads them
        back without the workspace (e.g. in another process)."""
        (folder / "plan.json").write_text(json.dumps({"stdout": self.stdout, "seconds": self.seconds, "show": self.json}))

    @classmethod
    def load(cls, folder: Path) -> "Plan":
        """A plan ``save`` wrote: everything but ``file`` (it cannot be applied)."""
        saved = json.loads((folder / "plan.json").read_text())
        plan = cls(folder / "plan.json", saved["stdout"], saved["seconds"], None)
        plan._json = saved["show"]
        return plan

    @property
    def json(self) -> dict[str, Any]:
        if self._json is None:
            if not self._workspace.path.exists():
                raise RuntimeError(f"the workspace of {self.file.name} is closed: read plan.json before closing it")
            shown = self._workspace.run("show", "-json", "-no-color", str(self.file))
            self.show_seconds = shown.seconds
            self._json = json.loads(shown.stdout)
        return self._json

    @property
    def summary(self) -> str:
        """``Plan: N to add, M to change, K to destroy.`` or ``No changes. ...``."""
        found = _SUMMARY.findall(self.stdout)
        if not found and "Changes to Outputs:" in self.stdout:
            return "Plan: 0 to add, 0 to change, 0 to destroy (outputs change)."
        if not found:
            raise ValueError(f"no plan summary in terraform's output:\n{self.stdout[-2000:]}")
        return found[-1].strip()

    @property
    def counts(self) -> dict[str, int]:
        """``{"add": N, "change": M, "destroy": K}`` (and ``import`` when any)."""
        counts = {"add": 0, "change": 0, "destroy": 0}
        counts.update({kind: int(n) for n, kind in _COUNTS.findall(self.summary)})
        return counts

    @property
    def resource_changes(self) -> list[dict[str, Any]]:
        return self.json.get("resource_changes", [])

    def change(self, address: str) -> dict[str, Any]:
        for rc in self.resource_changes:
            if rc["address"] == address:
                return rc["change"]
        raise KeyError(f"{address} is not in the plan; planned addresses: {', '.join(self.addresses()) or 'none'}")

    def actions(self, address: str) -> list[str]:
        """e.g. ``["create"]``, ``["update"]``, ``["delete", "create"]`` (a replacement)."""
        return list(self.change(address)["actions"])

    def after(self, address: str) -> dict[str, Any]:
        """The planned values of a resource (unknown ones absent; see ``after_unknown``)."""
        return self.change(address)["after"]

    def addresses(self, *actions: str) -> list[str]:
        """Addresses of the resources whose planned actions are exactly ``actions``
        (all managed and data resources when none are given)."""
        return [rc["address"] for rc in self.resource_changes if not actions or list(rc["change"]["actions"]) == list(actions)]

    def replaced(self) -> list[str]:
        return [rc["address"] for rc in self.resource_changes if rc["change"]["actions"] in (["delete", "create"], ["create", "delete"])]

    @property
    def outputs(self) -> dict[str, Any]:
        """Planned output values (known ones)."""
        return {k: v.get("value") for k, v in self.json.get("planned_values", {}).get("outputs", {}).items()}


def state_resources(state: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Address -> attribute values of every resource instance in a state file's document."""
    out: dict[str, dict[str, Any]] = {}
    for resource in state.get("resources", []):
        prefix = f"{resource['module']}." if resource.get("module") else ""
        kind = "data." if resource.get("mode") == "data" else ""
        base = f"{prefix}{kind}{resource['type']}.{resource['name']}"
        for instance in resource.get("instances", []):
            key = instance.get("index_key")
            suffix = "" if key is None else f"[{key}]" if isinstance(key, int) else f"[{json.dumps(key)}]"
            out[base + suffix] = instance.get("attributes", {})
    return out


class _ProviderHost:
    """The process that serves the stand-ins of this process's open workspaces
    (``serve.host``): started on the first workspace's first command, ended when its input
    closes (at this process's exit, however it exits). Requests are JSON lines."""

    _shared: "_ProviderHost | None" = None
    _starting = threading.Lock()

    @classmethod
    def shared(cls) -> "_ProviderHost":
        with cls._starting:
            if cls._shared is None or cls._shared.process.poll() is not None:
                cls._shared = cls()
            return cls._shared

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="offline-tf-host-"))
        self.lock = threading.Lock()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("TF_", "PYTHON"))}
        env.update(PYTHONPATH=str(REPO), PYTHONDONTWRITEBYTECODE="1", HOME=str(self.folder))
        with open(self.folder / "host.log", "wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "tooling.offline.serve", "--host", str(self.folder)],
                env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, cwd=self.folder,
            )
        atexit.register(self.stop)

    @property
    def pid(self) -> int:
        return self.process.pid

    def _request(self, **request: str) -> dict[str, Any]:
        assert self.process.stdin is not None and self.process.stdout is not None
        with self.lock:
            try:
                self.process.stdin.write((json.dumps(request) + "\n").encode())
                self.process.stdin.flush()
                line = self.process.stdout.readline()
            except (BrokenPipeError, ValueError):
                line = b""
        if not line:
            log = (self.folder / "host.log").read_text(errors="replace")[-2000:] if self.folder.exists() else ""
            raise RuntimeError(f"the stand-in provider host ended (exit {self.process.poll()}):\n{log}")
        reply = json.loads(line)
        if "error" in reply:
            raise RuntimeError(f"the stand-in provider host refused {request}: {reply['error']}")
        return reply

    def open(self, run: Path) -> dict[str, int]:
        """Serve a run's providers: provider name -> loopback port."""
        return self._request(open=str(run))["ports"]

    def close(self, run: Path) -> None:
        if self.process.poll() is None:
            self._request(close=str(run))

    def stop(self) -> None:
        if self.process.poll() is None:
            assert self.process.stdin is not None
            self.process.stdin.close()  # the host ends at the end of its input
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.folder, ignore_errors=True)


def _close_run(host: _ProviderHost, run: Path) -> None:
    try:
        host.close(run)
    except RuntimeError:
        pass  # the host has ended: nothing is served


def _host_platform() -> str:
    machine = platform.machine().lower()
    arch = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(machine, machine)
    return f"{sys.platform if sys.platform != 'win32' else 'windows'}_{arch}"


def terraform_binary() -> str | None:
    """The ``terraform`` on PATH, or None."""
    return shutil.which("terraform")


@dataclass
class StandInProvider:
    type_name: str  # aws
    source: str  # hashicorp/aws
    version: str  # 6.25.0
    schemas: ProviderSchemas


class Workspace:
    """A copy of a Terraform configuration folder with its own offline run environment.

    ``Workspace(folder, zones=3, region="us-west-2")`` copies ``folder`` (never writing into
    it), generates or reuses the stand-in schemas for what it uses, installs the stand-ins
    in a filesystem mirror inside the workspace and points Terraform at it. ``init`` runs
    once, on first need. Use it as a context manager (the folder is removed on exit unless
    ``keep=True``).

    - ``zones``: availability zones the stand-in reports (1 to 26; ``set_fakes`` changes it).
    - ``region``: the stand-ins' region when the configuration's provider sets none.
    - ``root``, ``at``: the configuration's ``../`` paths resolve against ``root`` with the
      copy placed at ``at`` under it (default: the folder's own ancestors, as deep as its
      ``../`` paths climb). Files it names there are linked into the workspace, not copied.
    - ``links``: path inside that tree -> real folder, e.g. a module folder written elsewhere.
    - ``chart_placeholders``: an empty ``Chart.yaml`` for a missing local helm chart.
    - ``terraform``: the binary (default: ``terraform`` on PATH); ``parent``: where the
      workspace folder is made (default: the system's temporary folder); ``timeout``:
      seconds per command.
    """

    def __init__(
        self,
        source: str | os.PathLike[str],
        *,
        zones: int = 3,
        region: str = "us-west-2",
        root: str | os.PathLike[str] | None = None,
        at: str | os.PathLike[str] | None = None,
        links: Mapping[str, str | os.PathLike[str]] | None = None,
        chart_placeholders: bool = True,
        terraform: str | None = None,
        parent: str | os.PathLike[str] | None = None,
        keep: bool = False,
        timeout: float = 600,
    ):
        self.source = Path(source).absolute()
        if not self.source.is_dir():
            raise ConfigurationError(f"{self.source} is not a folder")
        if not usage_module.config_files(self.source):
            raise ConfigurationError(f"{self.source} holds no *.tf or *.tf.json file")
        if not isinstance(zones, int) or not 1 <= zones <= 26:
            raise ValueError(f"zones must be a whole number from 1 to 26, got {zones!r}")
        if not re.fullmatch(r"[a-z]{2}(-[a-z]+)+-\d+", region):
            raise ValueError(f"region {region!r} does not look like an AWS region (e.g. us-west-2)")
        binary = terraform or terraform_binary()
        if binary is None:
            raise FileNotFoundError("terraform is not on PATH")
        self.terraform = binary
        self.zones = zones
        self.region = region
        self.keep = keep
        self.timeout = timeout
        self.timings: list[tuple[str, float]] = []
        self.notes: list[str] = []
        self.path = Path(tempfile.mkdtemp(prefix="offline-tf-", dir=parent)).resolve()
        self._initialized = False
        self._plans = 0
        try:
            started = time.perf_counter()
            self.directory = self._copy_tree(root, at, links or {}, chart_placeholders)
            self.usage: Usage = usage_module.scan(self.directory)
            self.providers = self._install()
            self.timings.append(("prepare", time.perf_counter() - started))
        except BaseException:
            self.close()
            raise

    # --- set-up -------------------------------------------------------------------------

    @property
    def run_dir(self) -> Path:
        return self.path / "run"

    @property
    def state_file(self) -> Path:
        return self.path / "state" / "terraform.tfstate"

    def _copy_tree(self, root: Any, at: Any, links: Mapping[str, Any], chart_placeholders: bool) -> Path:
        refs = usage_module.climbing_references(self.source)
        climb = max((ref.count("../") for ref in refs), default=0)
        # The copy sits at ``relative`` inside a tree standing for ``tree_root``: the
        # configuration's ``../`` paths resolve as they would beside the real files.
        if at is not None:
            relative = Path(at)
            if root is None:
                raise ConfigurationError("at= places the folder under root=: pass both")
            if relative.is_absolute() or ".." in relative.parts:
                raise ConfigurationError(f"at={str(at)!r} must be a relative path inside root")
        elif root is not None and self.source.is_relative_to(Path(root).absolute()):
            relative = self.source.relative_to(Path(root).absolute())
        else:
            relative = Path(*self.source.parts[len(self.source.parts) - max(climb, 1):])
        tree_root = Path(root).absolute() if root is not None else self.source.parents[len(relative.parts) - 1]
        if len(relative.parts) < climb:
            raise ConfigurationError(
                f"{self.source} refers to files {climb} folder(s) up; at={str(relative)!r} is not deep enough"
            )
        tree = self.path / "tree"
        directory = tree / relative
        shutil.copytree(self.source, directory, symlinks=True, ignore=shutil.ignore_patterns(*COPY_IGNORE))
        for name, target in links.items():
            self._link(tree, Path(name), Path(target).absolute())
        for ref in sorted(refs, key=len):
            inside = Path(os.path.normpath(relative / ref))
            if inside.parts and inside.parts[0] == "..":
                raise ConfigurationError(f"{self.source} refers to {ref}, outside root {tree_root}; pass root=")
            if inside == relative or relative in inside.parents:
                continue  # inside the copied folder
            real = tree_root / inside
            if real.exists() or real.is_symlink():
                self._link(tree, inside, real)
        # State stays in the workspace whatever backend the configuration names.
        (self.path / "state").mkdir()
        override = {"terraform": {"backend": {"local": {"path": str(self.state_file)}}}}
        (directory / BACKEND_OVERRIDE).write_text(json.dumps(override, indent=2) + "\n")
        if chart_placeholders:
            for chart in usage_module.scan(directory).charts:
                self._chart_placeholder(tree, directory, chart)
        return directory

    def _link(self, tree: Path, inside: Path, real: Path) -> None:
        link = tree / inside
        for parent in [link, *link.parents]:
            if parent == tree:
                break
            if parent.is_symlink():
                return  # already reachable through a linked folder
        if link.exists():
            return
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(real, target_is_directory=real.is_dir())

    def _chart_placeholder(self, tree: Path, directory: Path, chart: str) -> None:
        target = Path(os.path.normpath(directory / chart))
        if (target / "Chart.yaml").exists():
            return
        for parent in [target, *target.parents]:
            if parent == tree:
                break
            if parent.is_symlink():
                self.notes.append(f"helm chart {chart} is missing in a linked folder; no placeholder written there")
                return
        target.mkdir(parents=True, exist_ok=True)
        (target / "Chart.yaml").write_text(
            f"# Placeholder written by the offline stand-ins: the chart was not found ({chart}).\n"
            f"apiVersion: v2\nname: {target.name}\nversion: 0.0.0\n"
        )
        self.notes.append(f"helm chart {chart} is missing; an empty placeholder stands in for it (the stand-in helm provider reads no chart)")

    def _install(self) -> dict[str, StandInProvider]:
        run = self.run_dir
        for folder in ("schemas", "home"):
            (run / folder).mkdir(parents=True, exist_ok=True)
        (run / "settings.json").write_text(json.dumps({"region": self.region, "zones": self.zones}, indent=2) + "\n")
        from .serve import make_tls_identity

        tls = run / "tls.json"
        tls.write_text(json.dumps(make_tls_identity()))
        tls.chmod(0o600)
        pins = provider_requirements()
        platform_name = _host_platform()
        providers: dict[str, StandInProvider] = {}
        for type_name, source in self.usage.sources().items():
            bindings = bindings_for(type_name)
            resources, data_sources = self.usage.types_of(type_name)
            started = time.perf_counter()
            schemas = schemas_for(bindings, resources, data_sources)
            self.timings.append((f"schemas {type_name} ({'generated' if schemas.generated else 'cached'})", time.perf_counter() - started))
            version = schemas.provider_version
            if type_name in pins and not satisfies(version, pins[type_name][1]):
                raise BindingsError(
                    f"the installed {bindings.distribution} {bindings.version} describes {source} {version}, "
                    f"which PROVIDER_REQUIREMENTS ({pins[type_name][1]}) does not admit"
                )
            (run / "schemas" / f"{type_name}.json").write_text(json.dumps(served_schema(schemas), sort_keys=True))
            folder = run / "mirror" / "registry.terraform.io" / source / version / platform_name
            folder.mkdir(parents=True)
            wrapper = folder / f"terraform-provider-{type_name}_v{version}"
            wrapper.write_text(self._wrapper(type_name, source, version))
            wrapper.chmod(0o755)
            providers[type_name] = StandInProvider(type_name, source, version, schemas)
        self._reattach: str | None = None
        self._served: weakref.finalize | None = None
        sources = sorted(f"registry.terraform.io/{p.source}" for p in providers.values())
        rc = run / "terraformrc"
        rc.write_text(
            "# Written by tooling/offline for one workspace: offline stand-in providers only.\n"
            "provider_installation {\n"
            f"  filesystem_mirror {{\n    path    = {json.dumps(str(run / 'mirror'))}\n    include = {json.dumps(sources)}\n  }}\n"
            f"  direct {{\n    exclude = {json.dumps(sources)}\n  }}\n"
            "}\n"
            "disable_checkpoint = true\n"
        )
        return providers

    def _reattach_providers(self) -> str:
        """``TF_REATTACH_PROVIDERS`` for the provider host, which serves this workspace's
        providers from its first command to ``close``."""
        if self._reattach is None:
            host = _ProviderHost.shared()
            ports = host.open(self.run_dir)
            # A workspace dropped without close() still has its providers stopped.
            self._served = weakref.finalize(self, _close_run, host, self.run_dir)
            self._reattach = json.dumps({
                f"registry.terraform.io/{provider.source}": {
                    "Protocol": "grpc",
                    "ProtocolVersion": 6,
                    "Pid": host.pid,
                    "Test": True,  # Terraform leaves the process running after each command
                    "Addr": {"Network": "tcp", "String": f"127.0.0.1:{ports[name]}"},
                }
                for name, provider in self.providers.items()
            })
        return self._reattach

    def _wrapper(self, type_name: str, source: str, version: str) -> str:
        # Terraform copies this file into .terraform/providers: every path is absolute. The
        # workspace's commands reach the provider host instead; this runs when Terraform
        # starts the provider itself (a kept workspace run by hand, ``standalone_env``).
        run = self.run_dir
        return (
            "#!/bin/sh\n"
            f"# Offline stand-in for {source} {version}, started by Terraform (tooling/offline).\n"
            f"export OFFLINE_STANDIN_RUN={shlex.quote(str(run))}\n"
            f"export HOME={shlex.quote(str(run / 'home'))}\n"
            f"export PYTHONPATH={shlex.quote(str(REPO))}\n"
            "export PYTHONDONTWRITEBYTECODE=1\n"
            f"exec {shlex.quote(sys.executable)} -m tooling.offline.serve {type_name} \"$@\"\n"
        )

    @property
    def env(self) -> dict[str, str]:
        """The environment of every terraform command: ``standalone_env`` with Terraform
        pointed at the workspace's provider host (no provider process per start)."""
        return {**self.standalone_env, "TF_REATTACH_PROVIDERS": self._reattach_providers()}

    @property
    def standalone_env(self) -> dict[str, str]:
        """The caller's environment without its Terraform settings, pointed at the
        workspace's CLI configuration and home: Terraform starts the installed stand-ins
        itself, as it would in a kept workspace run by hand."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("TF_")}
        env.update(
            TF_CLI_CONFIG_FILE=str(self.run_dir / "terraformrc"),
            TF_IN_AUTOMATION="1",
            CHECKPOINT_DISABLE="1",
            HOME=str(self.run_dir / "home"),
        )
        # Terraform's Go garbage collector at four times its default target: a plan of the
        # default stack takes 0.84 s of CPU instead of 1.03 s (medians of 8, 2 cores, with
        # the provider host), and everything-on peaks at 160 MiB instead of 105 MiB. A
        # caller's GOGC wins.
        env.setdefault("GOGC", "400")
        return env

    def write_file(self, relative: str | os.PathLike[str], text: str) -> Path:
        """Write a file into the workspace's copy of the configuration (a tfvars file, a
        placeholder the configuration expects), never through a link to real files."""
        target = Path(os.path.normpath(self.directory / relative))
        tree = self.path / "tree"
        if tree not in target.parents:
            raise ValueError(f"{relative} is outside the workspace's tree")
        for parent in target.parents:
            if parent == tree:
                break
            if parent.is_symlink():
                raise ValueError(f"{relative} is inside a linked folder ({parent.relative_to(tree)}); not writing there")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
        return target

    # --- settings -------------------------------------------------------------------------

    def set_fakes(self, *, zones: int | None = None, region: str | None = None) -> None:
        """Change what the stand-ins' data sources answer from the next command on."""
        if zones is not None:
            if not isinstance(zones, int) or not 1 <= zones <= 26:
                raise ValueError(f"zones must be a whole number from 1 to 26, got {zones!r}")
            self.zones = zones
        if region is not None:
            self.region = region
        (self.run_dir / "settings.json").write_text(json.dumps({"region": self.region, "zones": self.zones}, indent=2) + "\n")

    # --- commands -------------------------------------------------------------------------

    def run(self, *args: str, check: bool = True) -> Result:
        """Any terraform command in the workspace (``-no-color`` is the caller's to add)."""
        command = [self.terraform, *args]
        # init installs the stand-ins and writes the lock file as for any provider: with
        # TF_REATTACH_PROVIDERS it would skip both.
        env = self.standalone_env if args[:1] == ("init",) else self.env
        started = time.perf_counter()
        done = subprocess.run(command, cwd=self.directory, env=env, capture_output=True, text=True, timeout=self.timeout)
        seconds = time.perf_counter() - started
        self.timings.append((args[0] if args else "terraform", seconds))
        if check and done.returncode != 0:
            raise TerraformError(["terraform", *args], done.returncode, done.stdout, done.stderr, self.directory)
        return Result(["terraform", *args], done.stdout, done.stderr, seconds, done.returncode)

    def init(self) -> Result:
        result = self.run("init", "-input=false", "-no-color")
        self._initialized = True
        return result

    def _ensure_init(self) -> None:
        if not self._initialized:
            self.init()

    def validate(self) -> Result:
        self._ensure_init()
        return self.run("validate", "-no-color")

    def _var_args(self, vars: Mapping[str, Any] | None, var_files: Iterable[str | os.PathLike[str]] | None) -> list[str]:
        args = []
        for var_file in var_files or ():
            path = Path(var_file).absolute()
            if not path.is_file():
                raise FileNotFoundError(f"var file {path} does not exist")
            args.append(f"-var-file={path}")
        if vars:
            self._plans += 1
            folder = self.path / "vars"
            folder.mkdir(exist_ok=True)
            path = folder / f"vars-{self._plans}.tfvars.json"
            path.write_text(json.dumps(dict(vars), indent=2, sort_keys=True) + "\n")
            args.append(f"-var-file={path}")
        return args

    def plan(
        self,
        vars: Mapping[str, Any] | None = None,
        var_files: Iterable[str | os.PathLike[str]] | None = None,
        *,
        destroy: bool = False,
        refresh: bool = True,
        extra_args: Sequence[str] = (),
    ) -> Plan:
        """``terraform plan -out``; the plan's ``json`` runs ``terraform show -json`` of it when
        first read. ``vars`` are passed as a tfvars JSON file (any Terraform type),
        ``var_files`` as given."""
        self._ensure_init()
        self._plans += 1
        folder = self.path / "plans"
        folder.mkdir(exist_ok=True)
        plan_file = folder / f"plan-{self._plans}.tfplan"
        args = ["plan", "-input=false", "-no-color", f"-out={plan_file}", *self._var_args(vars, var_files)]
        if destroy:
            args.append("-destroy")
        if not refresh:
            args.append("-refresh=false")
        planned = self.run(*args, *extra_args)
        return Plan(plan_file, planned.stdout, planned.seconds, self)

    def apply(
        self,
        plan: Plan | None = None,
        vars: Mapping[str, Any] | None = None,
        var_files: Iterable[str | os.PathLike[str]] | None = None,
    ) -> Result:
        """Apply a saved plan, or plan and apply in one step with ``vars``/``var_files``."""
        self._ensure_init()
        if plan is not None:
            if vars or var_files:
                raise ValueError("a saved plan already holds its variables: pass plan or vars/var_files, not both")
            return self.run("apply", "-input=false", "-no-color", "-auto-approve", str(plan.file))
        return self.run("apply", "-input=false", "-no-color", "-auto-approve", *self._var_args(vars, var_files))

    def destroy(self, vars: Mapping[str, Any] | None = None, var_files: Iterable[str | os.PathLike[str]] | None = None) -> Result:
        self._ensure_init()
        return self.run("destroy", "-input=false", "-no-color", "-auto-approve", *self._var_args(vars, var_files))

    def output_json(self) -> dict[str, Any]:
        """``terraform output -json``: name -> {"value", "type", "sensitive"}."""
        self._ensure_init()
        return json.loads(self.run("output", "-json", "-no-color").stdout)

    def outputs(self) -> dict[str, Any]:
        """Output name -> value, from the applied state."""
        return {name: entry.get("value") for name, entry in self.output_json().items()}

    def state_list(self) -> list[str]:
        """Addresses in the applied state (empty before the first apply)."""
        self._ensure_init()
        result = self.run("state", "list", "-no-color", check=False)
        if result.returncode != 0:
            if "No state file was found" in result.stderr:
                return []
            raise TerraformError(result.command, result.returncode, result.stdout, result.stderr, self.directory)
        return [line for line in result.stdout.splitlines() if line.strip()]

    def state_json(self) -> dict[str, Any]:
        """``terraform show -json`` of the applied state."""
        self._ensure_init()
        return json.loads(self.run("show", "-json", "-no-color").stdout)

    def state(self) -> dict[str, Any]:
        """The workspace's state file as written (``{}`` before the first apply)."""
        return json.loads(self.state_file.read_text()) if self.state_file.exists() else {}

    def resources(self) -> dict[str, dict[str, Any]]:
        """Address -> applied attribute values, read from the workspace's state file (no
        provider is started; ``state_json`` gives the same values through terraform)."""
        return state_resources(self.state())

    def resource_values(self, address: str) -> dict[str, Any]:
        """The applied values of one resource."""
        found = self.resources()
        if address not in found:
            raise KeyError(f"{address} is not in the state; it holds {', '.join(sorted(found)) or 'nothing'}")
        return found[address]

    # --- lifetime --------------------------------------------------------------------------

    def close(self) -> None:
        served = getattr(self, "_served", None)
        if served is not None:
            served()
        if not self.keep:
            shutil.rmtree(self.path, ignore_errors=True)

    def __enter__(self) -> "Workspace":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Workspace({str(self.source)!r}, zones={self.zones}, region={self.region!r}, path={str(self.path)!r})"
