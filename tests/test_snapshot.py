"""The whole default stack, compared with the reviewed snapshot in __snapshots__/.

After an intended change, regenerate with ``pytest tests/test_snapshot.py --snapshot-update``
and review the diff of the .json file like any other code change.
"""

from __future__ import annotations

import pytest
from syrupy.extensions.json import JSONSnapshotExtension


@pytest.fixture
def snapshot_json(snapshot):
    return snapshot.use_extension(JSONSnapshotExtension)


def test_default_stack_matches_snapshot(raw_stack, snapshot_json):
    """The document as written: variables, validations, counts and expressions."""
    assert raw_stack == snapshot_json
