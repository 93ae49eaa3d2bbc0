"""`rollouts baseline`: the files it writes have Model Monitor's and Clarify's shapes, `show` reads theirs as they are,
and a bad input is a message naming the file, column or line with exit 2, never a traceback."""

from __future__ import annotations

import csv
import io
import json
import sys
from pathlib import Path
from typing import Any

import pytest

from rollouts_cli import baseline
from rollouts_cli.cli import main

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "baselines"


def rollouts(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(args), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture
def train(tmp_path: Path) -> Path:
    """A small binary-classification training set: features, a label, the model's score and decision."""
    path = tmp_path / "train.csv"
    with path.open("w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream)
        writer.writerow(["label", "age", "income", "state", "gender", "score", "predicted"])
        for i in range(60):
            score = ((i * 37) % 100) / 100
            label = int((i * 37) % 100 >= 45) if i % 7 else 1 - int(score >= 0.5)
            writer.writerow([label, 20 + i % 40, "" if i % 11 == 0 else 1000 + 17.5 * i, "CA" if i % 3 else "NY",
                             "F" if i % 2 else "M", score, int(score >= 0.5)])  # fmt: skip
    return path


# -- what the commands write ------------------------------------------------------------------------------------------


def test_data_quality_writes_model_monitors_statistics_and_constraints(train: Path, tmp_path: Path) -> None:
    out = tmp_path / "dq"

    code, stdout, stderr = rollouts("baseline", "data-quality", str(train), "--exclude", "label,score",
                                    "--exclude", "predicted", "--out", str(out))  # fmt: skip

    assert code == 0, stderr
    statistics, constraints = load(out / "statistics.json"), load(out / "constraints.json")
    # the reference's section 1.1 and 1.2 shapes
    assert set(statistics) == {"version", "dataset", "features"}
    assert statistics["dataset"] == {"item_count": 60}
    features = {f["name"]: f for f in statistics["features"]}
    assert list(features) == ["age", "income", "state", "gender"]
    assert features["age"]["inferred_type"] == "Integral"
    assert features["income"]["inferred_type"] == "Fractional"
    numeric = features["income"]["numerical_statistics"]
    assert {"common", "mean", "sum", "std_dev", "min", "max", "distribution"} <= set(numeric)
    assert numeric["common"] == {"num_present": 54, "num_missing": 6}
    assert {"buckets", "sketch"} <= set(numeric["distribution"]["kll"])
    assert {"lower_bound", "upper_bound", "count"} == set(numeric["distribution"]["kll"]["buckets"][0])
    assert set(numeric["distribution"]["kll"]["sketch"]) >= {"parameters", "data"}
    strings = features["state"]["string_statistics"]
    assert features["state"]["inferred_type"] == "String"
    assert {"common", "distinct_count", "distribution"} <= set(strings)
    assert {"value", "count"} == set(strings["distribution"]["categorical"]["buckets"][0])
    assert set(constraints) == {"version", "features", "monitoring_config"}
    by_name = {f["name"]: f for f in constraints["features"]}
    # 54 of 60 present: the lower bound of 0.9's 95 % interval, 0.9 - 1.96 * sqrt(0.9 * 0.1 / 60) = 0.8240...
    assert by_name["income"]["completeness"] == 0.824
    assert by_name["state"]["string_constraints"]["domains"] == ["CA", "NY"]
    assert {"evaluate_constraints", "emit_metrics", "datatype_check_threshold", "domain_content_threshold",
            "distribution_constraints"} <= set(constraints["monitoring_config"])  # fmt: skip
    assert {"perform_comparison", "comparison_threshold", "comparison_method"} <= set(
        constraints["monitoring_config"]["distribution_constraints"]
    )
    assert f"wrote {out / 'statistics.json'}: Model Monitor data-quality statistics" in stdout
    assert "income: Fractional, 54 present, 6 missing" in stdout


def test_data_quality_reads_json_lines_and_a_headerless_csv_named_by_columns(tmp_path: Path) -> None:
    lines = tmp_path / "train.jsonl"
    lines.write_text("".join(json.dumps({"x": i, "kind": "ab"[i % 2]}) + "\n" for i in range(20)))
    headerless = tmp_path / "train.data"
    headerless.write_text("".join(f"{i},{'ab'[i % 2]}\n" for i in range(20)))

    code_a, _, err_a = rollouts("baseline", "data-quality", str(lines), "--out", str(tmp_path / "a"))
    code_b, _, err_b = rollouts("baseline", "data-quality", str(headerless), "--format", "csv", "--no-header",
                                "--columns", "x,kind", "--out", str(tmp_path / "b"))  # fmt: skip

    assert (code_a, code_b) == (0, 0), err_a + err_b
    for directory in ("a", "b"):
        features = load(tmp_path / directory / "statistics.json")["features"]
        assert [(f["name"], f["inferred_type"]) for f in features] == [("x", "Integral"), ("kind", "String")]


def test_model_quality_writes_binary_metrics_and_constraints(train: Path, tmp_path: Path) -> None:
    out = tmp_path / "mq"

    code, stdout, stderr = rollouts("baseline", "model-quality", str(train), "--problem-type", "BinaryClassification",
                                    "--label", "label", "--prediction", "predicted", "--probability", "score",
                                    "--out", str(out))  # fmt: skip

    assert code == 0, stderr
    statistics, constraints = load(out / "statistics.json"), load(out / "constraints.json")
    # the reference's section 2.2 and 2.3 shapes
    assert statistics["dataset"] == {"item_count": 60}
    metrics = statistics["binary_classification_metrics"]
    assert {"recall", "precision", "accuracy", "auc", "f1", "confusion_matrix"} <= set(metrics)
    assert set(metrics["auc"]) == {"value", "standard_deviation"}
    assert metrics["auc"]["standard_deviation"] == "NaN"  # fewer than 200 rows
    rules = constraints["binary_classification_constraints"]
    assert rules["auc"] == {"threshold": metrics["auc"]["value"], "comparison_operator": "LessThanThreshold"}
    assert "binary_classification_metrics" in stdout and "auc LessThanThreshold" in stdout


def test_model_quality_regression_leaves_out_rows_without_a_label_and_says_so(tmp_path: Path) -> None:
    path = tmp_path / "reg.csv"
    path.write_text("y,yhat\n1,1.5\n2,2.5\n,3\n4,3.5\n")

    code, _, stderr = rollouts("baseline", "model-quality", str(path), "--problem-type", "Regression",
                               "--label", "y", "--prediction", "yhat", "--out", str(tmp_path / "out"))  # fmt: skip

    assert code == 0, stderr
    assert "1 rows with a missing value in y, yhat left out" in stderr
    statistics = load(tmp_path / "out" / "statistics.json")
    assert statistics["dataset"] == {"item_count": 3}
    assert statistics["regression_metrics"]["mae"]["value"] == pytest.approx(0.5)
    assert load(tmp_path / "out" / "constraints.json")["regression_constraints"]["rmse"]["comparison_operator"] == (
        "GreaterThanThreshold"
    )


def test_bias_writes_clarifys_analysis_and_its_monitor_configuration(train: Path, tmp_path: Path) -> None:
    out = tmp_path / "bias"

    code, stdout, stderr = rollouts("baseline", "bias", str(train), "--label", "label", "--prediction", "predicted",
                                    "--facet", "gender", "--facet-value", "F", "--label-value", "1",
                                    "--exclude", "score", "--out", str(out))  # fmt: skip

    assert code == 0, stderr
    analysis, config = load(out / "analysis.json"), load(out / "analysis_config.json")
    # the reference's section 3.3 shape
    section = analysis["post_training_bias_metrics"]
    assert (section["label"], section["label_value_or_threshold"]) == ("label", "1")
    [entry] = section["facets"]["gender"]
    assert entry["value_or_threshold"] == "F"
    assert {m["name"] for m in entry["metrics"]} >= {"DPPL", "DI", "DCA", "DCR", "RD", "SD", "AD", "TE"}
    assert {"name", "description", "value"} <= set(entry["metrics"][0])
    # the reference's section 3.2 shape
    assert config == {
        "version": "1.0",
        "headers": ["label", "age", "income", "state", "gender"],
        "label": "label",
        "label_values_or_threshold": [1],
        "facet": [{"name_or_index": "gender", "value_or_threshold": ["F"]}],
        "methods": {"post_training_bias": {"methods": "all"}},
    }
    assert "facet gender = F: DPPL" in stdout


def test_bias_without_facet_values_has_one_entry_per_value_and_defaults_to_label_1(train: Path, tmp_path: Path) -> None:
    code, _, stderr = rollouts("baseline", "bias", str(train), "--label", "label", "--prediction", "predicted",
                               "--facet", "state", "--out", str(tmp_path / "b"))  # fmt: skip

    assert code == 0, stderr
    analysis = load(tmp_path / "b" / "analysis.json")["post_training_bias_metrics"]
    assert [e["value_or_threshold"] for e in analysis["facets"]["state"]] == ["CA", "NY"]
    assert load(tmp_path / "b" / "analysis_config.json")["facet"] == [{"name_or_index": "state"}]


MODEL = """
import numpy as np

def predict(rows):
    rows = np.asarray(rows, dtype=float)
    return rows @ np.array([0.5, -0.001]) + 1.0

def broken(rows):
    raise RuntimeError("the model is down")

def wide(rows):
    return np.zeros((len(rows), 3))

def undefined(rows):
    return np.full(len(rows), np.nan)
"""


def test_explainability_writes_kernel_shap_attributions_and_the_shap_configuration(train: Path, tmp_path: Path) -> None:
    model = tmp_path / "model.py"
    model.write_text(MODEL)
    out = tmp_path / "shap"

    code, stdout, stderr = rollouts("baseline", "explainability", str(train), "--exclude",
                                    "label,state,gender,score,predicted", "--model", f"{model}:predict",
                                    "--num-samples", "10", "--max-model-calls", "20", "--background-rows", "5",
                                    "--out", str(out))  # fmt: skip

    assert code == 0, stderr
    assert "6 rows with a missing value left out" in stderr
    analysis, config = load(out / "analysis.json"), load(out / "analysis_config.json")
    # the reference's section 4.1 shapes
    label0 = analysis["explanations"]["kernel_shap"]["label0"]
    assert set(label0["global_shap_values"]) == {"age", "income"}
    assert isinstance(label0["expected_value"], float)
    assert label0["global_shap_values"]["age"] > 0
    assert config["version"] == "1.0" and config["headers"] == ["age", "income"]
    shap = config["methods"]["shap"]
    assert set(shap) == {"baseline", "num_samples", "agg_method", "use_logit", "save_local_shap_values"}
    assert (len(shap["baseline"]), len(shap["baseline"][0]), shap["num_samples"]) == (5, 2, 10)
    assert "kernel_shap label0: expected value" in stdout


def test_explainability_by_module_name_with_a_mean_background(
    train: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "scoring_model.py").write_text(MODEL)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", [str(tmp_path), *sys.path])

    code, _, stderr = rollouts("baseline", "explainability", str(train), "--exclude",
                               "label,state,gender,score,predicted", "--model", "scoring_model:predict",
                               "--num-samples", "4", "--max-model-calls", "5", "-o", "json")  # fmt: skip

    assert code == 0, stderr
    config = load(tmp_path / "baseline" / "analysis_config.json")  # --out's default
    assert len(config["methods"]["shap"]["baseline"]) == 1  # the mean row


class Body:
    def __init__(self, text: str) -> None:
        self.text = text

    def read(self) -> bytes:
        return self.text.encode()


class Runtime:
    """sagemaker-runtime's invoke_endpoint, answering a score a CSV row (its first field)."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def invoke_endpoint(self, **request: Any) -> dict[str, Any]:
        self.calls.append(request)
        rows = request["Body"].decode().splitlines()
        return {"Body": Body("\n".join(str(float(row.split(",")[0]) / 100) for row in rows))}


def test_explainability_through_an_endpoint_sends_csv_rows(
    train: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runtime = Runtime()
    monkeypatch.setattr(baseline, "_runtime_client", lambda: runtime)

    code, _, stderr = rollouts("baseline", "explainability", str(train), "--exclude",
                               "label,state,gender,score,predicted", "--endpoint", "churn-ep", "--num-samples", "4",
                               "--max-model-calls", "3", "--out", str(tmp_path / "e"))  # fmt: skip

    assert code == 0, stderr
    assert len(runtime.calls) == 3  # one request per model call
    assert {(c["EndpointName"], c["ContentType"]) for c in runtime.calls} == {("churn-ep", "text/csv")}
    values = load(tmp_path / "e" / "analysis.json")["explanations"]["kernel_shap"]["label0"]["global_shap_values"]
    assert values["income"] == pytest.approx(0.0, abs=1e-9)  # the endpoint reads age only
    assert values["age"] > 0


def test_an_endpoint_error_is_a_message_and_exit_2(
    train: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from botocore.exceptions import ClientError

    class Failing:
        def invoke_endpoint(self, **request: Any) -> dict[str, Any]:
            raise ClientError({"Error": {"Code": "ValidationException", "Message": "Endpoint x not found"}}, "Invoke")

    monkeypatch.setattr(baseline, "_runtime_client", Failing)

    code, _, stderr = rollouts("baseline", "explainability", str(train), "--exclude",
                               "label,state,gender,score,predicted", "--endpoint", "x", "--num-samples", "4",
                               "--max-model-calls", "3", "--out", str(tmp_path / "e"))  # fmt: skip

    assert code == 2
    assert "--endpoint x: An error occurred (ValidationException)" in stderr


def test_json_output_names_the_files_and_the_upload_line(train: Path, tmp_path: Path) -> None:
    out = tmp_path / "mq"

    code, stdout, _ = rollouts("baseline", "model-quality", str(train), "--problem-type", "MulticlassClassification",
                               "--label", "state", "--prediction", "state", "--out", str(out),
                               "--s3-uri", "s3://bucket/baselines/mq", "-o", "json")  # fmt: skip

    assert code == 0
    assert json.loads(stdout) == {
        "files": [str(out / "statistics.json"), str(out / "constraints.json")],
        "upload": f"aws s3 cp --recursive {out} s3://bucket/baselines/mq/",
    }
    assert "multiclass_classification_metrics" in load(out / "statistics.json")


# -- show: existing Model Monitor and Clarify files, as they are ------------------------------------------------------

# The reference's examples (sections 1.1, 1.2, 2.2, 2.3, 3.3, 4.1), its comments left out.
DATA_STATISTICS = {
    "version": 0,
    "dataset": {"item_count": 418},
    "features": [
        {"name": "age", "inferred_type": "Integral",
         "numerical_statistics": {
             "common": {"num_present": 418, "num_missing": 0},
             "mean": 41.2, "sum": 17221.0, "std_dev": 9.8, "min": 18.0, "max": 90.0,
             "distribution": {"kll": {
                 "buckets": [{"lower_bound": 18.0, "upper_bound": 25.2, "count": 40}],
                 "sketch": {"parameters": {"c": 0.64, "k": 2048.0}, "data": [[18.0, 19.0], [22.0]]}}}}},
        {"name": "state", "inferred_type": "String",
         "string_statistics": {
             "common": {"num_present": 418, "num_missing": 0},
             "distinct_count": 51.0,
             "distribution": {"categorical": {"buckets": [{"value": "CA", "count": 40}]}}}},
    ],
}  # fmt: skip
DATA_CONSTRAINTS = {
    "version": 0,
    "features": [
        {"name": "age", "inferred_type": "Integral", "completeness": 1.0,
         "num_constraints": {"is_non_negative": True}, "monitoringConfigOverrides": {}},
        {"name": "state", "inferred_type": "String", "completeness": 1.0,
         "string_constraints": {"domains": ["CA", "NY", "TX"]}},
    ],
    "monitoring_config": {
        "evaluate_constraints": "Enabled", "emit_metrics": "Enabled", "datatype_check_threshold": 0.1,
        "domain_content_threshold": 0.1,
        "distribution_constraints": {
            "perform_comparison": "Enabled", "comparison_threshold": 0.1, "comparison_method": "Robust",
            "categorical_comparison_threshold": 0.1, "categorical_drift_method": "LInfinity"}},
}  # fmt: skip
MODEL_STATISTICS = {
    "version": 0.0,
    "dataset": {"item_count": 2096},
    "binary_classification_metrics": {
        "auc": {"value": 0.91, "standard_deviation": 0.004},
        "f1": {"value": 0.50, "standard_deviation": "NaN"},
    },
}
MODEL_CONSTRAINTS = {
    "version": 0.0,
    "binary_classification_constraints": {
        "recall": {"threshold": 0.71, "comparison_operator": "LessThanThreshold"},
        "auc": {"threshold": 0.85, "comparison_operator": "LessThanThreshold"},
    },
    "regression_constraints": {"rmse": {"threshold": 3.1, "comparison_operator": "GreaterThanThreshold"}},
}
BIAS_ANALYSIS = {
    "version": "1.0",
    "post_training_bias_metrics": {
        "label": "target", "label_value_or_threshold": "1",
        "facets": {"f1": [{"value_or_threshold": "1", "metrics": [
            {"name": "DI", "description": "Disparate Impact (DI)", "value": 0.71},
            {"name": "DPPL", "description": "Difference in positive proportions in predicted labels (DPPL)",
             "value": -0.08}]}]}},
}  # fmt: skip
SHAP_ANALYSIS = {
    "version": "1.0",
    "explanations": {"kernel_shap": {"label0": {
        "global_shap_values": {"f0": 0.0225, "f1": 0.0074, "f2": 0.0068}, "expected_value": 0.508}}},
}  # fmt: skip
SHAP_CONFIG = {
    "version": "1.0", "headers": ["f0", "f1", "f2"],
    "methods": {"shap": {"baseline": [[0.5, 0.3, 0.1]], "num_samples": 100, "agg_method": "mean_abs",
                         "use_logit": False, "save_local_shap_values": False}},
}  # fmt: skip


def write_json(path: Path, document: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2))
    return path


def test_show_reads_a_model_monitor_data_quality_baseline_as_it_is(tmp_path: Path) -> None:
    write_json(tmp_path / "mm" / "statistics.json", DATA_STATISTICS)
    write_json(tmp_path / "mm" / "constraints.json", DATA_CONSTRAINTS)

    code, stdout, stderr = rollouts("baseline", "show", str(tmp_path / "mm"))

    assert (code, stderr) == (0, "")
    assert stdout.splitlines() == [
        f"{tmp_path / 'mm' / 'constraints.json'}: Model Monitor data-quality constraints",
        "  2 features",
        "  age: Integral, completeness 1, non-negative",
        "  state: String, completeness 1, domain CA, NY, TX",
        "  monitoring: evaluate Enabled, metrics Enabled, data type threshold 0.1, domain threshold 0.1, "
        "drift Enabled Robust > 0.1, categorical LInfinity > 0.1",
        f"{tmp_path / 'mm' / 'statistics.json'}: Model Monitor data-quality statistics",
        "  418 rows, 2 features",
        "  age: Integral, 418 present, 0 missing; mean 41.2, std_dev 9.8, min 18, max 90",
        "  state: String, 418 present, 0 missing; 51 distinct, top CA (40)",
    ]


def test_show_reads_model_quality_and_clarify_files_as_they_are(tmp_path: Path) -> None:
    files = {
        "statistics.json": MODEL_STATISTICS,
        "constraints.json": MODEL_CONSTRAINTS,
        "bias/analysis.json": BIAS_ANALYSIS,
        "shap/analysis.json": SHAP_ANALYSIS,
        "shap/analysis_config.json": SHAP_CONFIG,
    }
    outputs = {}
    for name, document in files.items():
        code, stdout, stderr = rollouts("baseline", "show", str(write_json(tmp_path / name, document)))
        assert (code, stderr) == (0, ""), name
        outputs[name] = stdout.splitlines()[1:]

    assert outputs["statistics.json"] == ["  2096 rows", "  binary_classification_metrics", "    auc 0.91 (sd 0.004)",
                                          "    f1 0.5"]  # fmt: skip
    assert outputs["constraints.json"] == [
        "  binary_classification_constraints",
        "    recall LessThanThreshold 0.71",
        "    auc LessThanThreshold 0.85",
        "  regression_constraints",
        "    rmse GreaterThanThreshold 3.1",
    ]
    assert outputs["bias/analysis.json"] == [
        "  post_training_bias_metrics: label target = 1",
        "    facet f1 = 1: DI 0.71, DPPL -0.08",
    ]
    assert outputs["shap/analysis.json"] == [
        "  kernel_shap label0: expected value 0.508; top f0 0.0225, f1 0.0074, f2 0.0068"
    ]
    assert outputs["shap/analysis_config.json"] == [
        "  headers: f0, f1, f2",
        "  shap: baseline 1 rows, num_samples 100, agg_method mean_abs",
    ]


def test_show_json_output(tmp_path: Path) -> None:
    path = write_json(tmp_path / "analysis.json", SHAP_ANALYSIS)

    code, stdout, _ = rollouts("baseline", "show", str(path), "-o", "json")

    assert code == 0
    assert json.loads(stdout)["files"][0]["kind"] == "Clarify feature attributions"


def test_show_reads_back_every_file_the_commands_write(train: Path, tmp_path: Path) -> None:
    assert rollouts("baseline", "data-quality", str(train), "--out", str(tmp_path / "all" / "dq"))[0] == 0
    assert rollouts("baseline", "bias", str(train), "--label", "label", "--prediction", "predicted", "--facet",
                    "gender", "--out", str(tmp_path / "all" / "bias"))[0] == 0  # fmt: skip

    for directory in ("dq", "bias"):
        code, stdout, stderr = rollouts("baseline", "show", str(tmp_path / "all" / directory))
        assert (code, stderr) == (0, "")
        assert stdout.count(": Model Monitor") + stdout.count(": Clarify") == 2


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"hello": "world"}', "not one of Model Monitor statistics.json"),
        ("[1, 2]", "a JSON list, not one of"),
        ("not json", "not JSON"),
        ('{"features": [{"inferred_type": "Integral", "completeness": 1.0}], "monitoring_config": {}}',
         "features[0] has no name"),
        ('{"binary_classification_constraints": {"auc": {"threshold": 0.8}}}',
         "binary_classification_constraints.auc has no threshold or comparison_operator"),
    ],
)  # fmt: skip
def test_show_exits_2_naming_a_file_in_another_format(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "other.json"
    path.write_text(content)

    code, stdout, stderr = rollouts("baseline", "show", str(path))

    assert (code, stdout) == (2, "")
    assert stderr.startswith(f"rollouts baseline show: {path}: ")
    assert message in stderr


def test_show_of_a_directory_shows_what_it_can_and_exits_2_for_the_rest(tmp_path: Path) -> None:
    write_json(tmp_path / "statistics.json", DATA_STATISTICS)
    write_json(tmp_path / "notes.json", {"owner": "me"})

    code, stdout, stderr = rollouts("baseline", "show", str(tmp_path))

    assert code == 2
    assert "Model Monitor data-quality statistics" in stdout
    assert f"{tmp_path / 'notes.json'}: not one of" in stderr
    assert rollouts("baseline", "show", str(tmp_path / "nowhere"))[0] == 2
    (tmp_path / "empty").mkdir()
    assert "no *.json file" in rollouts("baseline", "show", str(tmp_path / "empty"))[2]


# -- bad inputs -------------------------------------------------------------------------------------------------------


def test_rows_that_cannot_be_used_are_counted_with_their_first_line_numbers(tmp_path: Path) -> None:
    path = tmp_path / "train.csv"
    rows = ["a,b", *[f"{i},{i}" for i in range(10)], *["1,2,3"] * 7, "4,5"]
    path.write_text("\n".join(rows) + "\n")

    code, _, stderr = rollouts("baseline", "data-quality", str(path), "--out", str(tmp_path / "out"))

    assert code == 0
    assert stderr.startswith(
        f"rollouts baseline: {path}: 7 rows could not be used (skipped): line 12: 3 fields where the columns are 2; "
        "line 13: 3 fields where the columns are 2;"
    )
    assert "line 16: 3 fields where the columns are 2; and 2 more" in stderr
    assert load(tmp_path / "out" / "statistics.json")["dataset"] == {"item_count": 11}


def test_json_lines_problems_name_their_lines(tmp_path: Path) -> None:
    path = tmp_path / "train.jsonl"
    path.write_text('{"a": 1}\nnot json\n{"a": 2}\n[3]\n')

    code, _, stderr = rollouts("baseline", "data-quality", str(path), "--out", str(tmp_path / "out"))

    assert code == 0
    assert "2 rows could not be used (skipped): line 2: not JSON" in stderr
    assert "line 4: an array where the rows are objects" in stderr


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["data-quality", "{train}", "--exclude", "nope"],
         "{train}: no column 'nope' (--exclude); the columns are label, age, income, state, gender, score, predicted"),
        (["model-quality", "{train}", "--problem-type", "Regression", "--label", "target", "--prediction", "score"],
         "{train}: no column 'target' (--label)"),
        (["model-quality", "{train}", "--problem-type", "BinaryClassification", "--label", "age",
          "--prediction", "predicted"], "{train}: --label age, --prediction predicted: "),
        (["bias", "{train}", "--label", "label", "--prediction", "predicted", "--facet", "region"],
         "{train}: no column 'region' (--facet)"),
        (["bias", "{train}", "--label", "state", "--prediction", "predicted", "--facet", "gender"],
         "{train}: name the positive label value(s) of column 'state' with --label-value"),
        (["explainability", "{train}", "--exclude", "label", "--model", "x:y", "--num-samples", "5",
          "--max-model-calls", "5"],
         "Kernel SHAP needs numeric features, and column(s) state, gender are not numbers"),
        (["data-quality", "{tmp}/missing.csv"], "{tmp}/missing.csv: No such file or directory"),
        (["data-quality", "{tmp}/data.xml"], "{tmp}/data.xml: cannot tell the format from the name"),
        (["data-quality", "{train}", "--s3-uri", "bucket/x"], "--s3-uri bucket/x: not an s3://bucket/prefix URI"),
        (["explainability", "{train}", "--exclude", "label,state,gender", "--model", "x", "--num-samples", "5",
          "--max-model-calls", "5"], "--model x: expected MODULE:FUNCTION or path/to/file.py:FUNCTION"),
        (["explainability", "{train}", "--exclude", "label,state,gender", "--model", "no_such_module_here:f",
          "--num-samples", "5", "--max-model-calls", "5"],
         "--model no_such_module_here:f: importing no_such_module_here failed: ModuleNotFoundError"),
        (["explainability", "{train}", "--exclude", "label,state,gender", "--model", "{tmp}/model.py:missing",
          "--num-samples", "5", "--max-model-calls", "5"], "{tmp}/model.py has no function 'missing'"),
        (["explainability", "{train}", "--exclude", "label,state,gender", "--model", "{tmp}/model.py:broken",
          "--num-samples", "5", "--max-model-calls", "5"],
         "--model {tmp}/model.py:broken raised RuntimeError: the model is down"),
        (["explainability", "{train}", "--exclude", "label,state,gender", "--model", "{tmp}/model.py:wide",
          "--num-samples", "5", "--max-model-calls", "5"],
         "model.py:wide returned shape (7, 3) for 7 rows: one score a row"),
        (["explainability", "{train}", "--exclude", "label,state,gender", "--model", "{tmp}/model.py:undefined",
          "--num-samples", "5", "--max-model-calls", "5"],
         "{train}, --model {tmp}/model.py:undefined: the model returned 7 non-finite score(s)"),
        (["explainability", "{train}", "--exclude", "label,state,gender", "--model", "{tmp}/model.py:predict",
          "--num-samples", "0", "--max-model-calls", "5"], "--num-samples must be at least 1"),
    ],
)  # fmt: skip
def test_a_bad_input_exits_2_naming_the_file_column_or_option(
    train: Path, tmp_path: Path, arguments: list[str], message: str
) -> None:
    (tmp_path / "model.py").write_text(MODEL)
    (tmp_path / "data.xml").write_text("<a/>")
    values = {"train": str(train), "tmp": str(tmp_path)}
    command = [argument.format(**values) for argument in arguments]

    code, stdout, stderr = rollouts("baseline", *command, "--out", str(tmp_path / "out"))

    assert code == 2, stderr
    assert stdout == ""
    assert stderr.startswith(f"rollouts baseline {command[0]}: ")
    assert message.format(**values) in stderr
    assert "Traceback" not in stderr


def test_a_file_whose_every_row_is_bad_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text("nope\n[1\n")

    code, _, stderr = rollouts("baseline", "data-quality", str(path), "--out", str(tmp_path / "out"))

    assert code == 2
    assert "2 rows could not be used" in stderr
    assert f"rollouts baseline data-quality: {path}: no rows (2 could not be used)" in stderr


def test_parquet_without_pyarrow_says_how_to_install_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    path = tmp_path / "train.parquet"
    path.write_bytes(b"PAR1")

    code, _, stderr = rollouts("baseline", "data-quality", str(path))

    assert code == 2
    assert f"{path}: reading Parquet needs pyarrow, which is not installed: pip install pyarrow" in stderr


def test_the_baseline_commands_need_no_api_url(train: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ROLLOUTS_API_URL", raising=False)
    monkeypatch.delenv("ROLLOUTS_STACK", raising=False)

    assert rollouts("baseline", "data-quality", str(train), "--out", str(tmp_path / "x"))[0] == 0


# -- the examples -----------------------------------------------------------------------------------------------------


def test_the_example_datasets_are_what_the_generator_writes(tmp_path: Path) -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("generate", EXAMPLES / "generate.py")
    assert spec is not None and spec.loader is not None
    generate = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generate)

    csv_path, jsonl_path = generate.write_datasets(tmp_path)

    assert csv_path.read_bytes() == (EXAMPLES / "churn.csv").read_bytes()
    assert jsonl_path.read_bytes() == (EXAMPLES / "churn.jsonl").read_bytes()


@pytest.mark.parametrize(
    "directory",
    sorted({str(p.parent.relative_to(EXAMPLES)) for p in EXAMPLES.glob("*/*/*.json")}),
)
def test_every_example_baseline_reads_back(directory: str) -> None:
    code, stdout, stderr = rollouts("baseline", "show", str(EXAMPLES / directory))

    assert (code, stderr) == (0, "")
    assert stdout.count(": Model Monitor") + stdout.count(": Clarify") == 2
