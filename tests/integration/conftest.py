"""Fixtures of the local cloud's own tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sandbox.cloud import LocalCloud


@pytest.fixture
def bare_cloud() -> Iterator[LocalCloud]:
    """The local cloud without template.yaml, for tests of SageMaker, CloudWatch and S3 as it models them."""
    local = LocalCloud(endpoint_update_seconds=120)
    try:
        local.start()
        yield local
    finally:
        local.stop()
