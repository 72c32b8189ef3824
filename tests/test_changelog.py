"""CHANGELOG.md and the platform's version agree, and a deployment records the version."""

from __future__ import annotations

import datetime as dt
import re

from modules.config.versions import PLATFORM_VERSION
from tests.processes import REPO

RELEASE = re.compile(r"^## (\d+)\.(\d+)\.(\d+)(?: - (\d{4}-\d{2}-\d{2}))?$", re.M)


def releases() -> list[tuple[tuple[int, int, int], str | None]]:
    found = RELEASE.findall((REPO / "CHANGELOG.md").read_text())
    return [((int(a), int(b), int(c)), date or None) for a, b, c, date in found]


def test_the_newest_release_is_the_platform_version():
    listed = releases()
    assert listed, "CHANGELOG.md lists no release"
    newest, date = listed[0]
    assert ".".join(map(str, newest)) == PLATFORM_VERSION
    assert date is not None and dt.date.fromisoformat(date) <= dt.date.today()
    assert [version for version, _ in listed] == sorted((v for v, _ in listed), reverse=True), "newest first"


def test_a_deployment_records_the_version(deployed):
    newest, _ = releases()[0]
    assert deployed.outputs["platform_version"] == ".".join(map(str, newest))
