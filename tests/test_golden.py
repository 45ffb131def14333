"""Same seed, same points: every sampler and PBT replay their recordings in tests/data/golden.json.

The recordings were made before the layout changes of issue 16 (see ``tests/golden.py``); a change
that alters what a sampler proposes or what PBT decides fails here and must say so.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from tests.golden import DEFAULT_REL_TOLERANCE
from tests.golden import EXACT_UNTIL
from tests.golden import GOLDEN
from tests.golden import plain
from tests.golden import recordings
from tests.golden import REL_TOLERANCE
from tests.golden import same

STORED = json.loads(GOLDEN.read_text())
SLOW = {"AxSampler/mixed"}


@pytest.mark.parametrize(
    "name",
    [pytest.param(n, marks=pytest.mark.slow) if n in SLOW else n for n in recordings()],
)
def test_same_points_as_recorded(name: str) -> None:
    with np.errstate(all="ignore"):
        replay = plain(recordings()[name]())
    stored = STORED[name]
    assert len(replay) == len(stored)
    for i, (got, want) in enumerate(zip(replay, stored)):
        message = f"{name}: trial {i} differs:\n got  {got}\n want {want}"
        if i >= EXACT_UNTIL.get(name, len(stored)):
            assert got["state"] == want["state"], message
            assert got["params"].keys() == want["params"].keys(), message
            continue
        assert same(got, want, REL_TOLERANCE.get(name, DEFAULT_REL_TOLERANCE)), message


def test_every_recording_is_stored() -> None:
    assert sorted(recordings()) == sorted(STORED)
