"""The demo's baselines, made as a team makes them with `rollouts baseline`: from the baseline model's training data.

Each kind of monitor gets the files Model Monitor or Clarify would have written (`rollouts_monitor` computes them),
in the local S3 under `s3://local-model-monitor/baselines/<kind>/`, and the `guardrails.monitors` entry of a spec
that reads them.
"""

from __future__ import annotations

import contextlib
import json
import random
from typing import Any

import numpy as np

from rollouts_monitor import attribution, bias, data_quality, model_quality
from rollouts_monitor.records import Dataset
from sandbox.cloud import LocalCloud
from sandbox.dataplane import FEATURES, ModelBehaviour, training_row, true_probability

BUCKET = "local-model-monitor"
TRAINING_ROWS = 5000
LABEL = "churn"
# The group whose treatment the bias monitor watches: users older than 40 (Clarify: a threshold selects the rows
# above it).
FACET, FACET_THRESHOLD = "age", 40
# The SHAP background: one row of the training data's means, as Clarify's `baseline` may be.
SHAP_SAMPLES = 64


def training_rows(seed: int = 11) -> list[dict[str, float]]:
    rng = random.Random(seed)
    return [training_row(rng) for _ in range(TRAINING_ROWS)]


def _put(cloud: LocalCloud, key: str, document: dict[str, Any]) -> str:
    s3 = cloud.client("s3")
    with contextlib.suppress(s3.exceptions.BucketAlreadyOwnedByYou):
        s3.create_bucket(Bucket=BUCKET)
    s3.put_object(Bucket=BUCKET, Key=key, Body=json.dumps(document, indent=2).encode())
    return f"s3://{BUCKET}/{key}"


def _dataset(rows: list[dict[str, float]]) -> Dataset:
    return Dataset(list(FEATURES), {f: np.asarray([row[f] for row in rows], dtype=float) for f in FEATURES})


def _labels(rows: list[dict[str, float]], seed: int = 13) -> list[int]:
    rng = random.Random(seed)
    return [1 if rng.random() < true_probability(row) else 0 for row in rows]


def data_quality_monitor(cloud: LocalCloud, name: str = "input-drift", **guard: Any) -> dict[str, Any]:
    statistics, constraints = data_quality.suggest_baseline(_dataset(training_rows()))
    return {
        "name": name,
        "type": "DataQuality",
        "baseline": {
            "statistics": _put(cloud, "baselines/data-quality/statistics.json", statistics),
            "constraints": _put(cloud, "baselines/data-quality/constraints.json", constraints),
        },
        **guard,
    }


def model_quality_monitor(
    cloud: LocalCloud, model: ModelBehaviour, name: str = "accuracy", allowed_drop: float = 0.05, **guard: Any
) -> dict[str, Any]:
    """Accuracy against ground truth, the one constraint kept from the suggested ones and loosened by
    `allowed_drop` below the baseline model's, as AWS advises reviewing a suggestion before using it."""
    rows = training_rows()
    scores = np.asarray([model.score(row) for row in rows])
    statistics = model_quality.metrics(
        "BinaryClassification", _labels(rows), (scores >= 0.5).astype(int), probabilities=scores
    )
    suggested = model_quality.suggest_constraints(statistics, "BinaryClassification")
    accuracy = suggested["binary_classification_constraints"]["accuracy"]
    constraints = {
        "version": suggested.get("version", 0.0),
        "binary_classification_constraints": {
            "accuracy": {**accuracy, "threshold": round(float(accuracy["threshold"]) - allowed_drop, 4)}
        },
    }
    return {
        "name": name,
        "type": "ModelQuality",
        "problem_type": "BinaryClassification",
        "baseline": {
            "statistics": _put(cloud, "baselines/model-quality/statistics.json", statistics),
            "constraints": _put(cloud, "baselines/model-quality/constraints.json", constraints),
        },
        **guard,
    }


def bias_monitor(cloud: LocalCloud, model: ModelBehaviour, name: str = "age-bias", **guard: Any) -> dict[str, Any]:
    """DPPL and DI for users older than 40, the baseline model's values on the training data as the constraints."""
    rows = training_rows()
    predicted = ["1" if model.score(row) >= 0.5 else "0" for row in rows]
    config = {
        "version": "1.0",
        "headers": [*FEATURES, LABEL],
        "label": LABEL,
        "label_values_or_threshold": [1],
        "facet": [{"name_or_index": FACET, "value_or_threshold": [FACET_THRESHOLD]}],
        "probability_threshold": 0.5,
        "methods": {"post_training_bias": {"methods": ["DPPL", "DI"]}},
    }
    analysis = bias.post_training_bias(
        [str(label) for label in _labels(rows)],
        predicted,
        [row[FACET] for row in rows],
        label_values_or_threshold=[1],
        facet_values_or_threshold=[FACET_THRESHOLD],
        facet_name=FACET,
        label_name=LABEL,
        methods=("DPPL", "DI"),
    )
    return {
        "name": name,
        "type": "ModelBias",
        "baseline": {
            "config": _put(cloud, "baselines/bias/analysis_config.json", config),
            "analysis": _put(cloud, "baselines/bias/analysis.json", analysis),
        },
        **guard,
    }


def explainability_monitor(
    cloud: LocalCloud, model: ModelBehaviour, name: str = "attributions", **guard: Any
) -> dict[str, Any]:
    """Global SHAP attributions of the baseline model on 50 training rows, against the training data's means."""
    rows = training_rows()
    matrix = np.asarray([[row[f] for f in FEATURES] for row in rows], dtype=float)
    background = matrix.mean(axis=0, keepdims=True)

    def predict(batch: np.ndarray) -> np.ndarray:
        return np.asarray([model.score(dict(zip(FEATURES, row, strict=True))) for row in batch.tolist()])

    analysis = attribution.explain(
        predict, matrix[:50], background, list(FEATURES), num_samples=SHAP_SAMPLES, max_model_calls=50
    )
    config = {
        "version": "1.0",
        "headers": list(FEATURES),
        "methods": {"shap": {"baseline": background.tolist(), "num_samples": SHAP_SAMPLES, "agg_method": "mean_abs"}},
    }
    return {
        "name": name,
        "type": "ModelExplainability",
        "baseline": {
            "config": _put(cloud, "baselines/explainability/analysis_config.json", config),
            "analysis": _put(cloud, "baselines/explainability/analysis.json", analysis),
        },
        **guard,
    }
