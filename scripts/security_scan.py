"""Scan every synthesized stack with checkov and hold it to the skip list.

    python -m scripts.security_scan [--outdir cdktf.out] [--checkov PATH]

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


@dataclass(frozen=True)
class Finding:
    check_id: str
    resource: str
    title: str

    @property
    def logical_name(self) -> str:
        """The block's name: ``aws_s3_bucket.x[0]`` (a counted block) is ``x``."""
        return self.resource.rsplit(".", 1)[-1].split("[", 1)[0]


@dataclass(frozen=True)
class Skip:
    check_id: str
    resource: str
    reason: str

    def matches(self, finding: Finding) -> bool:
        return finding.check_id == self.check_id and finding.logical_name == self.resource


def without_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: without_nulls(v) for k, v in value.items() if v is not None and k != "//"}
    if isinstance(value, list):
        return [without_nulls(v) for v in value if v is not None]
    return value


def scannable(document: dict[str, Any]) -> dict[str, Any]:
    """The copy checkov reads: no nulls, no cdktf metadata, and no ``terraform`` settings
    block (checkov's JSON parser fails on its ``required_version`` string, and the block
    holds nothing a security check reads)."""
    return {k: v for k, v in without_nulls(document).items() if k != "terraform"}


def load_skips(path: Path = SKIP_FILE) -> list[Skip]:
    entries = yaml.safe_load(path.read_text()) or []
    skips = []
    for entry in entries:
        reason = str(entry.get("reason", "")).strip()
        if len(reason) < 40:
            raise SystemExit(f"{path}: skip {entry.get('check')} on {entry.get('resource')} needs a real reason")
        skips.append(Skip(entry["check"], entry["resource"], reason))
    return skips


def scan(stack_files: list[Path], checkov: str) -> tuple[int, list[Finding]]:
    with tempfile.TemporaryDirectory(prefix="checkov-") as folder:
        for stack_file in stack_files:
            document = scannable(json.loads(stack_file.read_text()))
            (Path(folder) / f"{stack_file.parent.name}.tf.json").write_text(json.dumps(document, indent=1))
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
    findings = [
        Finding(check["check_id"], check["resource"], check["check_name"])
        for r in reports
        for check in r["results"].get("failed_checks", [])
    ]
    return passed, findings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--outdir", type=Path, default=Path("cdktf.out"))
    parser.add_argument("--checkov", default="checkov", help="checkov executable")
    args = parser.parse_args(argv)
    stack_files = sorted(args.outdir.glob("stacks/*/cdk.tf.json"))
    if not stack_files:
        print(f"error: no synthesized stack under {args.outdir} (run `make synth` first)", file=sys.stderr)
        return 2
    skips = load_skips()
    passed, findings = scan(stack_files, args.checkov)
    unexplained = [f for f in findings if not any(s.matches(f) for s in skips)]
    stale = [s for s in skips if not any(s.matches(f) for f in findings)]
    print(f"checkov on {len(stack_files)} stack(s): {passed} passed, {len(findings)} failed, "
          f"{len(findings) - len(unexplained)} of them on the skip list, {len(unexplained)} unexplained")
    for finding in findings:
        mark = "skip" if finding not in unexplained else "FAIL"
        print(f"  {mark} {finding.check_id} {finding.resource}: {finding.title}")
    for skip in stale:
        print(f"  stale skip (matches nothing, remove it): {skip.check_id} {skip.resource}")
    return 1 if unexplained or stale else 0


if __name__ == "__main__":
    sys.exit(main())
