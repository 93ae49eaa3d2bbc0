"""The Model Monitor job kinds: what a policy is keyed by and what a violations file is parsed as."""

from __future__ import annotations

from enum import StrEnum


class MonitoringType(StrEnum):
    """The four Model Monitor job kinds, spelled as botocore's `MonitoringType` enum."""

    DATA_QUALITY = "DataQuality"
    MODEL_QUALITY = "ModelQuality"
    MODEL_BIAS = "ModelBias"
    MODEL_EXPLAINABILITY = "ModelExplainability"
