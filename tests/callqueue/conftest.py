"""Fixtures of the background-work tests."""

from __future__ import annotations

import os

import pytest

from core.embedded_redis import EmbeddedRedis


@pytest.fixture()
def own_redis(scratch_dir):
    """A Redis server of this test's own, to stop and start again."""
    server = EmbeddedRedis(os.path.join(scratch_dir, "redis-outage"), persist=False)
    server.start()
    yield server
    server.stop()
