"""The baseline examples, regenerated: two small training datasets of a churn model (churn.csv, churn.jsonl), then the
baselines `rollouts baseline` computes from them, each in its own directory.

    PYTHONPATH=layers/monitor:cli .venv/bin/python examples/baselines/generate.py

Everything is deterministic (a fixed seed, fixed rows): running it again rewrites the same datasets, and the same
baselines as long as rollouts_monitor computes the same numbers.
"""

from __future__ import annotations

import csv
import importlib.util
import json
import os
import sys
from pathlib import Path
from types import ModuleType

import numpy as np

HERE = Path(__file__).resolve().parent

ROWS = 300
SEED = 20240501
COLUMNS = ("churned", "age", "tenure_months", "monthly_charges", "plan", "gender", "score", "predicted")


def _churn_model() -> ModuleType:
    """churn_model.py, beside this file (the model the explainability example imports too)."""
    spec = importlib.util.spec_from_file_location("churn_model", HERE / "churn_model.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def rows(count: int = ROWS, seed: int = SEED) -> list[dict[str, object]]:
    """Customers with the model's score and decision, and whether they churned (drawn from a slightly different,
    gender-dependent truth, so the baselines have something to show)."""
    rng = np.random.default_rng(seed)
    age = rng.integers(18, 80, size=count)
    tenure = rng.integers(0, 72, size=count)
    charges = np.round(rng.normal(70.0, 25.0, size=count).clip(15.0, 150.0), 2)
    plan = rng.choice(["basic", "plus", "premium"], size=count, p=[0.5, 0.3, 0.2])
    gender = rng.choice(["F", "M"], size=count)
    score = _churn_model().predict(np.column_stack([age, tenure, charges]))
    truth = np.clip(score + np.where(gender == "F", 0.08, -0.08) + rng.normal(0.0, 0.1, size=count), 0.0, 1.0)
    churned = (rng.random(count) < truth).astype(int)
    missing = rng.random(count) < 0.03  # a few customers without a known charge
    return [
        {
            "churned": int(churned[i]),
            "age": int(age[i]),
            "tenure_months": int(tenure[i]),
            "monthly_charges": None if missing[i] else float(charges[i]),
            "plan": str(plan[i]),
            "gender": str(gender[i]),
            "score": round(float(score[i]), 4),
            "predicted": int(score[i] >= 0.5),
        }
        for i in range(count)
    ]


def write_datasets(directory: Path) -> tuple[Path, Path]:
    """churn.csv (with a header; an empty field for a missing charge) and churn.jsonl (one object a line; null)."""
    table = rows()
    csv_path, jsonl_path = directory / "churn.csv", directory / "churn.jsonl"
    with csv_path.open("w", encoding="utf-8", newline="") as stream:
        writer = csv.writer(stream, lineterminator="\n")
        writer.writerow(COLUMNS)
        writer.writerows([["" if row[c] is None else row[c] for c in COLUMNS] for row in table])
    jsonl_path.write_text("".join(json.dumps(row) + "\n" for row in table), encoding="utf-8")
    return csv_path, jsonl_path


def commands(csv_path: Path, jsonl_path: Path, out: Path) -> list[list[str]]:
    """The `rollouts baseline` commands whose files are kept beside the datasets."""
    model = f"{out / 'churn_model.py'}:predict"
    features = ["--exclude", "churned,score,predicted"]
    return [
        ["baseline", "data-quality", str(csv_path), *features, "--out", str(out / "csv" / "data-quality")],
        ["baseline", "data-quality", str(jsonl_path), *features, "--out", str(out / "jsonl" / "data-quality")],
        ["baseline", "model-quality", str(csv_path), "--problem-type", "BinaryClassification", "--label", "churned",
         "--prediction", "predicted", "--probability", "score", "--out", str(out / "csv" / "model-quality")],
        ["baseline", "model-quality", str(jsonl_path), "--problem-type", "Regression", "--label", "churned",
         "--prediction", "score", "--out", str(out / "jsonl" / "model-quality-regression")],
        ["baseline", "bias", str(csv_path), "--label", "churned", "--prediction", "predicted", "--facet", "gender",
         "--facet-value", "F", "--label-value", "1", "--out", str(out / "csv" / "bias")],
        ["baseline", "explainability", str(csv_path), "--exclude", "churned,plan,gender,score,predicted",
         "--model", model, "--num-samples", "6", "--max-model-calls", "100", "--background-rows", "10",
         "--out", str(out / "csv" / "explainability")],
    ]  # fmt: skip


def main() -> int:
    from rollouts_cli.cli import main as rollouts

    here = Path(os.path.relpath(HERE))  # shorter paths in the files' summaries
    csv_path, jsonl_path = write_datasets(here)
    for command in commands(csv_path, jsonl_path, here):
        code = rollouts(command)
        if code != 0:
            print(f"rollouts {' '.join(command)}: exit {code}", file=sys.stderr)
            return code
    return 0


if __name__ == "__main__":
    sys.exit(main())
