"""Scan synthesized stacks, with the modules they call, with checkov and hold them to
the skip list.

    python -m scripts.security_scan [--outdir cdktf.out ...] [--checkov PATH]

cdktf writes explicit ``null`` attributes (``prefix_list_ids: null`` in a rule, ...) that
hide real findings from the scanner, so each stack is scanned as a copy with nulls (and
cdktf's metadata) removed. Every failed check must be listed, with its resource and a
reason, in security/checkov-skips.yaml; anything else fails the scan (exit 1). A listed
skip that no longer matches anything is reported so the list stays honest.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parent.parent
SKIP_FILE = REPO / "security" / "checkov-skips.yaml"


ROOT = "root"


@dataclass(frozen=True)
class Finding:
    check_id: str
    resource: str
    title: str
    module: str = ROOT
    """The module the block is in (``hyperpod``, ``karpenter``), or ``root``."""

    @property
    def logical_name(self) -> str:
        """The block's name: ``aws_s3_bucket.x[0]`` (a counted block) is ``x``."""
        return self.resource.rsplit(".", 1)[-1].split("[", 1)[0]


@dataclass(frozen=True)
class Skip:
    check_id: str
    resource: str
    reason: str
    module: str = ROOT

    def matches(self, finding: Finding) -> bool:
        return (finding.check_id, finding.logical_name, finding.module) == (self.check_id, self.resource, self.module)


def without_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: without_nulls(v) for k, v in value.items() if v is not None and k != "//"}
    if isinstance(value, list):
        return [without_nulls(v) for v in value if v is not None]
    return value


# Top-level blocks checkov's JSON parser fails on (the ``terraform`` settings block's
# ``required_version`` string; ``moved`` blocks) and which hold nothing a check reads.
UNSCANNED_BLOCKS = frozenset({"terraform", "moved"})


def scannable(document: dict[str, Any]) -> dict[str, Any]:
    """The copy checkov reads: no nulls, no cdktf metadata, none of ``UNSCANNED_BLOCKS``."""
    return {k: v for k, v in without_nulls(document).items() if k not in UNSCANNED_BLOCKS}


def load_skips(path: Path = SKIP_FILE) -> list[Skip]:
    entries = yaml.safe_load(path.read_text()) or []
    skips = []
    for entry in entries:
        reason = str(entry.get("reason", "")).strip()
        if len(reason) < 40:
            raise SystemExit(f"{path}: skip {entry.get('check')} on {entry.get('resource')} needs a real reason")
        skips.append(Skip(entry["check"], entry["resource"], reason, entry.get("module", ROOT)))
    return skips


def documents_of(stack_dir: Path) -> dict[str, Path]:
    """``root`` and each module the stack calls, to their Terraform JSON."""
    found = {ROOT: stack_dir / "cdk.tf.json"}
    for module in sorted(stack_dir.glob("modules/*/main.tf.json")):
        found[module.parent.name] = module
    return found


def scan(stack_dirs: list[Path], checkov: str) -> tuple[int, list[Finding]]:
    """Each stack is copied with its modules where its module calls find them, so checkov
    reads the modules through the calls (with the values the root module passes)."""
    with tempfile.TemporaryDirectory(prefix="checkov-") as folder:
        for index, stack_dir in enumerate(stack_dirs):
            for module, path in documents_of(stack_dir).items():
                target = Path(folder) / str(index) / ("" if module == ROOT else f"modules/{module}") / "main.tf.json"
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(json.dumps(scannable(json.loads(path.read_text())), indent=1))
        result = subprocess.run(
            [checkov, "-d", folder, "--framework", "terraform_json", "--skip-download", "--quiet", "-o", "json"],
            capture_output=True,
            text=True,
        )
    if result.returncode not in (0, 1) or not result.stdout.strip():
        raise SystemExit(f"checkov did not run ({result.returncode}): {result.stderr.strip()[-500:]}")
    report = json.loads(result.stdout)
    reports = report if isinstance(report, list) else [report]
    passed = sum(r["summary"]["passed"] for r in reports)
    findings = sorted(
        {
            Finding(check["check_id"], check["resource"], check["check_name"], _module_of(check["file_path"]))
            for r in reports
            for check in r["results"].get("failed_checks", [])
        },
        key=lambda f: (f.module, f.check_id, f.resource),
    )
    return passed, findings


def _module_of(file_path: str) -> str:
    parts = Path(file_path).parts
    return parts[parts.index("modules") + 1] if "modules" in parts else ROOT


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--outdir", type=Path, action="append", help="a synth's output folder (repeat for several; default cdktf.out)"
    )
    parser.add_argument("--checkov", default="checkov", help="checkov executable")
    args = parser.parse_args(argv)
    outdirs = args.outdir or [Path("cdktf.out")]
    stack_dirs = sorted(p.parent for outdir in outdirs for p in outdir.glob("stacks/*/cdk.tf.json"))
    if not stack_dirs:
        print(f"error: no synthesized stack under {', '.join(map(str, outdirs))} (run `make synth` first)", file=sys.stderr)
        return 2
    skips = load_skips()
    passed, findings = scan(stack_dirs, args.checkov)
    unexplained = [f for f in findings if not any(s.matches(f) for s in skips)]
    stale = [s for s in skips if not any(s.matches(f) for f in findings)]
    print(f"checkov on {len(stack_dirs)} stack(s) and their modules: {passed} passed, {len(findings)} failed, "
          f"{len(findings) - len(unexplained)} of them on the skip list, {len(unexplained)} unexplained")
    for finding in findings:
        mark = "skip" if finding not in unexplained else "FAIL"
        print(f"  {mark} {finding.check_id} {finding.module}: {finding.resource}: {finding.title}")
    for skip in stale:
        print(f"  stale skip (matches nothing, remove it): {skip.check_id} {skip.module}: {skip.resource}")
    return 1 if unexplained or stale else 0


if __name__ == "__main__":
    sys.exit(main())
