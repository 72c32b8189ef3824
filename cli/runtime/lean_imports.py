"""Load only the provider submodules a stack uses.

The prebuilt provider packages (``cdktf_cdktf_provider_aws`` and friends) import every
one of their submodules from their ``__init__``: about 2,200 for AWS, one per resource
type, each defining dozens of classes. A stack here uses a few dozen of them, yet
``import cdktf_cdktf_provider_aws.vpc`` pays for all of them first (most of a synth's
time and memory).

This module installs an import hook for those packages that runs a lean replacement of
their ``__init__``: it loads the package's jsii assembly (which every submodule needs and
which the real ``__init__`` would load too) and nothing else. Submodules then load on
first import (``from cdktf_cdktf_provider_aws.vpc import Vpc``) or first attribute access
(``cdktf_cdktf_provider_aws.vpc``), exactly as before, and register their classes with the
jsii runtime as they load. Constructs are unchanged: they import the bindings as usual.

``cli.runtime.prepare()`` installs it. Set ``ML_PLATFORM_LEAN_IMPORTS=0`` to turn it off (the packages then load eagerly); the
test suite proves both ways synthesize byte-identical JSON.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import os
import sys
import types
from typing import Mapping

from .node import switched_on

PROVIDER_PACKAGES = frozenset(
    {"cdktf_cdktf_provider_aws", "cdktf_cdktf_provider_helm", "cdktf_cdktf_provider_kubernetes"}
)
SWITCH_ENV_VAR = "ML_PLATFORM_LEAN_IMPORTS"


def enabled(environ: Mapping[str, str] = os.environ) -> bool:
    return switched_on(environ, SWITCH_ENV_VAR)


class _LeanPackageLoader(importlib.abc.Loader):
    """Executes a provider package as: its jsii assembly, plus lazy submodules."""

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> None:
        return None  # the default module object

    def exec_module(self, module: types.ModuleType) -> None:
        package = module.__name__
        importlib.import_module(f"{package}._jsii")

        def load_submodule(name: str) -> types.ModuleType:
            if name.startswith("__"):
                raise AttributeError(name)
            try:
                return importlib.import_module(f"{package}.{name}")
            except ModuleNotFoundError as err:
                if err.name == f"{package}.{name}":
                    raise AttributeError(f"module {package!r} has no attribute {name!r}") from None
                raise

        module.__getattr__ = load_submodule  # type: ignore[attr-defined]


class _LeanProviderFinder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path, target=None):  # noqa: ANN001 - importlib protocol
        if fullname not in PROVIDER_PACKAGES:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or spec.submodule_search_locations is None:
            return None
        spec.loader = _LeanPackageLoader()
        return spec


_FINDER = _LeanProviderFinder()


def install(environ: Mapping[str, str] = os.environ) -> bool:
    """Install the hook (idempotent) unless switched off. Returns whether it is active.

    Must run before the first provider import; a provider package imported earlier stays
    as it was loaded (eagerly), which is still correct, only slower.
    """
    if not enabled(environ):
        return False
    if _FINDER not in sys.meta_path:
        sys.meta_path.insert(0, _FINDER)
    return True


def loaded_submodules(package: str) -> list[str]:
    """Submodules of ``package`` that are loaded, for tests and diagnostics."""
    prefix = f"{package}."
    return sorted(name[len(prefix):] for name in sys.modules if name.startswith(prefix) and name.count(".") == 1)
