"""Where the pinned cdktf provider bindings are, and which provider versions they describe.

The bindings (``cdktf-cdktf-provider-<name>``) carry a jsii assembly generated from one
provider release; the stand-ins take their schemas from it. The project pins the provider
versions in ``modules/config/versions.py`` (``PROVIDER_REQUIREMENTS``, no cdktf needed).
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from modules.config.versions import PROVIDER_REQUIREMENTS

REPO = Path(__file__).resolve().parents[2]


class BindingsError(RuntimeError):
    """The bindings a configuration needs are missing or disagree with the project's pins."""


@dataclass(frozen=True)
class Bindings:
    name: str  # provider type name, e.g. "aws"
    distribution: str  # e.g. "cdktf-cdktf-provider-aws"
    version: str  # the bindings' own version, e.g. "21.22.1"
    assembly: Path  # the .jsii.tgz


def bindings_for(name: str) -> Bindings:
    """The installed bindings of provider ``name`` (``aws``, ``helm``, ...), found without
    importing them (importing loads the jsii runtime)."""
    if not re.fullmatch(r"[a-z0-9]+", name):
        raise BindingsError(f"{name!r} is not a provider type name")
    package = f"cdktf_cdktf_provider_{name}"
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise BindingsError(
            f"no cdktf bindings installed for provider {name!r} (Python package {package}); "
            f"stand-ins exist only for providers whose bindings are installed: {', '.join(installed_providers()) or 'none'}"
        )
    folder = Path(next(iter(spec.submodule_search_locations)))
    tarballs = sorted((folder / "_jsii").glob("*.jsii.tgz"))
    if len(tarballs) != 1:
        raise BindingsError(f"expected one jsii assembly in {folder / '_jsii'}, found {len(tarballs)}")
    distribution = f"cdktf-cdktf-provider-{name}"
    try:
        version = importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        # The assembly's file name carries the same version: provider-aws@21.22.1.jsii.tgz.
        version = tarballs[0].name.split("@", 1)[1].removesuffix(".jsii.tgz")
    return Bindings(name=name, distribution=distribution, version=version, assembly=tarballs[0])


def installed_providers() -> list[str]:
    """Provider names whose bindings are installed."""
    names = set()
    for dist in importlib.metadata.distributions():
        dist_name = (dist.metadata["Name"] or "").lower().replace("_", "-")
        if dist_name.startswith("cdktf-cdktf-provider-"):
            names.add(dist_name.removeprefix("cdktf-cdktf-provider-"))
    return sorted(names)


def provider_requirements() -> dict[str, tuple[str, str]]:
    """Provider name -> (registry source, version constraint) the project pins."""
    return dict(PROVIDER_REQUIREMENTS)


def satisfies(version: str, constraint: str) -> bool:
    """Whether ``version`` (x.y.z) meets a Terraform version constraint such as
    ``~> 6.25.0``, ``>= 1.2, < 2.0`` or ``= 3.1.1``."""

    def parts(text: str) -> tuple[int, ...]:
        return tuple(int(p) for p in text.strip().split("-")[0].split("."))

    have = parts(version)
    for clause in (c.strip() for c in constraint.split(",") if c.strip()):
        match = re.fullmatch(r"(~>|>=|<=|!=|=|>|<)?\s*([0-9][0-9.]*)", clause)
        if not match:
            raise BindingsError(f"cannot read version constraint {constraint!r}")
        op, want_text = match.group(1) or "=", match.group(2)
        want = parts(want_text)
        padded = have[: len(want)] + (0,) * max(0, len(want) - len(have))
        if op == "~>":
            # ~> 6.25.0 admits 6.25.x; ~> 6.25 admits 6.x from 6.25.
            prefix = want[:-1] if len(want) > 1 else want
            ok = have[: len(prefix)] == prefix and padded >= want
        else:
            ok = {
                "=": padded == want,
                "!=": padded != want,
                ">": padded > want,
                ">=": padded >= want,
                "<": padded < want,
                "<=": padded <= want,
            }[op]
        if not ok:
            return False
    return True
