"""The layout holds: packages import each other only through their faces, in one
direction, and the configuration (with its facts) loads without cdktf."""

from __future__ import annotations

import ast
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

from tests.processes import REPO

SOURCE_ROOTS = ("modules", "cli", "tooling", "scripts")
# Libraries of building blocks: each of their modules is a public unit (their
# __init__ says so), so importing one directly is using the library, not its internals.
LIBRARIES = {"modules.config", "modules.core"}
# Lower layers never import higher ones.
LAYERS = [("modules",), ("cli", "tooling"), ("scripts",)]


def python_files() -> list[Path]:
    files = [REPO / "main.py"]
    for root in SOURCE_ROOTS:
        files.extend(sorted((REPO / root).rglob("*.py")))
    return files


def module_name(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def package_of(module: str) -> str:
    """The package a module belongs to: ``modules.eks.control_plane`` -> ``modules.eks``."""
    parts = module.split(".")
    if parts[0] == "modules":
        return ".".join(parts[:2])
    if parts[0] == "tooling" and len(parts) > 1:
        return ".".join(parts[:2])
    return parts[0]


def project_imports(path: Path) -> list[tuple[str, int]]:
    """(imported module, line) for every import of the project's own code."""
    tree = ast.parse(path.read_text(), filename=str(path))
    this = module_name(path)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((alias.name, node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = this.split(".")
                if path.name != "__init__.py":
                    base = base[:-1]
                base = base[: len(base) - (node.level - 1)]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            found.append((target, node.lineno))
            # `from package import submodule` names a module too.
            found.extend((f"{target}.{alias.name}", node.lineno) for alias in node.names if _is_module(f"{target}.{alias.name}"))
    roots = {*SOURCE_ROOTS, "main"}
    return [(name, line) for name, line in found if name.split(".")[0] in roots]


def _is_module(dotted: str) -> bool:
    candidate = REPO / Path(*dotted.split("."))
    return candidate.with_suffix(".py").is_file() or (candidate / "__init__.py").is_file()


def test_no_package_imports_another_packages_internals():
    problems = []
    for path in python_files():
        here = package_of(module_name(path))
        for imported, line in project_imports(path):
            there = package_of(imported)
            if there == here or there in LIBRARIES or imported == there:
                continue
            if imported.startswith(f"{there}.") and _is_module(imported):
                problems.append(f"{path.relative_to(REPO)}:{line} imports {imported} (use {there})")
    assert problems == []


def test_no_import_cycle_between_packages():
    edges: dict[str, set[str]] = defaultdict(set)
    for path in python_files():
        here = package_of(module_name(path))
        for imported, _ in project_imports(path):
            there = package_of(imported)
            if there != here:
                edges[here].add(there)
    cycles = []

    def visit(node: str, trail: list[str]) -> None:
        if node in trail:
            cycles.append(" -> ".join(trail[trail.index(node):] + [node]))
            return
        for nxt in sorted(edges.get(node, ())):
            visit(nxt, [*trail, node])

    for start in sorted(edges):
        visit(start, [])
    assert cycles == []


def test_lower_layers_do_not_import_higher_ones():
    rank = {root: index for index, roots in enumerate(LAYERS) for root in roots}
    problems = []
    for path in python_files():
        here = module_name(path).split(".")[0]
        if here not in rank:
            continue
        for imported, line in project_imports(path):
            there = imported.split(".")[0]
            if rank.get(there, -1) > rank[here]:
                problems.append(f"{path.relative_to(REPO)}:{line} imports {imported}")
    assert problems == []


def test_the_configuration_and_its_facts_load_without_cdktf():
    config_modules = sorted(module_name(p) for p in (REPO / "modules" / "config").glob("*.py"))
    script = (
        "import importlib, sys\n"
        f"for name in {config_modules!r}: importlib.import_module(name)\n"
        "import modules.config\n"
        "modules.config.load_config({})\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in {'cdktf', 'jsii', 'constructs'})\n"
        "print(heavy)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_scripts_take_facts_from_the_configuration():
    """No script restates a fact the configuration holds (pool names, zone exclusions,
    instance types)."""
    from modules.config.eks import CONTROL_PLANE_EXCLUDED_AZ_IDS
    from modules.config.karpenter import GPU_POOL

    for path in (REPO / "scripts").glob("*.py"):
        text = path.read_text()
        assert f'"{GPU_POOL}"' not in text, f"{path.name} restates the GPU pool name"
        for zone_id in CONTROL_PLANE_EXCLUDED_AZ_IDS:
            assert f'"{zone_id}"' not in text, f"{path.name} restates an excluded zone id"
