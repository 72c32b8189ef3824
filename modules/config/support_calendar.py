"""Amazon EKS Kubernetes version support calendar, kept as data in one place.

Dates are the published end of standard support (after which the cluster is billed for
extended support) and the end of extended support (after which EKS upgrades the cluster
itself), from the release calendar of the Amazon EKS User Guide ("Understand the Kubernetes
version lifecycle on EKS"): standard support lasts 14 months from the EKS release, extended
support 12 more. Add a row when EKS releases a version; tests/test_config.py fails when the
newest row is more than six months old, as a reminder to look.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from enum import Enum


@dataclass(frozen=True)
class VersionSupport:
    version: str
    released: _dt.date
    end_of_standard_support: _dt.date
    end_of_extended_support: _dt.date


class SupportPhase(str, Enum):
    STANDARD = "standard"
    EXTENDED = "extended"
    ENDED = "ended"


EKS_SUPPORT_CALENDAR: dict[str, VersionSupport] = {
    entry.version: entry
    for entry in (
        VersionSupport("1.30", _dt.date(2024, 5, 23), _dt.date(2025, 7, 23), _dt.date(2026, 7, 23)),
        VersionSupport("1.31", _dt.date(2024, 9, 26), _dt.date(2025, 11, 26), _dt.date(2026, 11, 26)),
        VersionSupport("1.32", _dt.date(2025, 1, 23), _dt.date(2026, 3, 23), _dt.date(2027, 3, 23)),
        VersionSupport("1.33", _dt.date(2025, 5, 29), _dt.date(2026, 7, 29), _dt.date(2027, 7, 29)),
        VersionSupport("1.34", _dt.date(2025, 10, 2), _dt.date(2026, 12, 2), _dt.date(2027, 12, 2)),
        VersionSupport("1.35", _dt.date(2026, 1, 28), _dt.date(2027, 3, 27), _dt.date(2028, 3, 27)),
        VersionSupport("1.36", _dt.date(2026, 6, 2), _dt.date(2027, 8, 2), _dt.date(2028, 8, 2)),
        VersionSupport("1.37", _dt.date(2026, 10, 2), _dt.date(2027, 12, 2), _dt.date(2028, 12, 2)),
    )
}


def support_phase(version: str, today: _dt.date) -> SupportPhase:
    entry = EKS_SUPPORT_CALENDAR[version]
    if today <= entry.end_of_standard_support:
        return SupportPhase.STANDARD
    if today <= entry.end_of_extended_support:
        return SupportPhase.EXTENDED
    return SupportPhase.ENDED


def standard_versions(today: _dt.date) -> list[str]:
    """Versions in standard support on ``today``: the ones to move to."""
    return [v for v in EKS_SUPPORT_CALENDAR if support_phase(v, today) is SupportPhase.STANDARD]


def creatable_versions(today: _dt.date) -> list[str]:
    """Versions EKS still accepts for a cluster on ``today`` (standard or extended support)."""
    return [v for v in EKS_SUPPORT_CALENDAR if support_phase(v, today) is not SupportPhase.ENDED]
