"""The clock of metric windows: when the candidate first got traffic, and up to when a step is judged.

One function, so that a simulation can run it faster than the wall clock together with the metrics it judges.
"""

from __future__ import annotations

from datetime import UTC, datetime


def now() -> datetime:
    return datetime.now(UTC)
