"""The whole default stack as written, the root module and the modules it calls,
compared with the reviewed snapshot in __snapshots__/.

After an intended change, regenerate with ``pytest tests/test_snapshot.py --snapshot-update``
and review the diff of the .json file like any other code change.
"""

from __future__ import annotations

import pytest
from syrupy.extensions.json import JSONSnapshotExtension


@pytest.fixture
def snapshot_json(snapshot):
    return snapshot.use_extension(JSONSnapshotExtension)


def test_default_stack_matches_snapshot(stack, snapshot_json):
    """The documents as written: variables, validations, counts, expressions, moves."""
    assert {"root": stack.root, "modules": stack.modules} == snapshot_json
