"""Captured lines, ground-truth lines, their join, and datasets as the monitor's checks take them."""

from __future__ import annotations

import base64
import json
import sys
import types
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from rollouts_monitor.records import (
    Dataset,
    DatasetError,
    Joined,
    Problem,
    Record,
    dataset_from_records,
    join_labels,
    parse_capture,
    parse_ground_truth,
    read_dataset,
)

EVENT = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"


def section(data: str, encoding: str = "CSV", content_type: str = "text/csv", mode: str = "INPUT") -> dict[str, str]:
    return {"observedContentType": content_type, "mode": mode, "data": data, "encoding": encoding}


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def captured(
    endpoint_input: dict[str, str] | None,
    endpoint_output: dict[str, str] | None = None,
    event_id: str = EVENT,
    inference_id: str | None = None,
    time: str | None = "2022-02-14T17:25:49Z",
) -> str:
    """One captured line, as the reference's section 6.2 shows it."""
    capture: dict[str, Any] = {}
    if endpoint_input is not None:
        capture["endpointInput"] = endpoint_input
    if endpoint_output is not None:
        capture["endpointOutput"] = endpoint_output
    metadata = {"eventId": event_id}
    if inference_id is not None:
        metadata["inferenceId"] = inference_id
    if time is not None:
        metadata["inferenceTime"] = time
    return json.dumps({"captureData": capture, "eventMetadata": metadata, "eventVersion": "0"})


def label_line(event_id: str, data: Any = "1", encoding: str = "CSV") -> str:
    return json.dumps(
        {
            "groundTruthData": {"data": data, "encoding": encoding},
            "eventMetadata": {"eventId": event_id},
            "eventVersion": "0",
        }
    )


# -- captured lines ---------------------------------------------------------------------------------------------------


def test_the_reference_csv_capture_reads_as_one_record_of_string_fields() -> None:
    line = captured(
        section("69,0,153.7"),
        section("0.0254", content_type="text/csv; charset=utf-8", mode="OUTPUT"),
        inference_id="caller-supplied-id",
    )

    records, problems = parse_capture([line])

    assert problems == []
    assert records == [
        Record(
            event_id=EVENT,
            inference_id="caller-supplied-id",
            time=datetime(2022, 2, 14, 17, 25, 49, tzinfo=UTC),
            features=["69", "0", "153.7"],
            output="0.0254",
        )
    ]


def test_without_inference_id_or_time_those_are_none() -> None:
    records, problems = parse_capture([captured(section("1,2"), section("0.5"), time=None)])

    assert problems == []
    assert (records[0].event_id, records[0].inference_id, records[0].time) == (EVENT, None, None)


def test_csv_output_keeps_its_first_field_as_text_and_quoted_inputs_are_unquoted() -> None:
    records, _ = parse_capture([captured(section('1,"Paris, France",,x'), section("0.3,0.7\n"))])

    assert records[0].features == ["1", "Paris, France", "", "x"]
    assert records[0].output == "0.3"


@pytest.mark.parametrize(
    ("payload", "features"),
    [
        ({"features": [1, 2.5, "a"]}, [1, 2.5, "a"]),
        ({"instances": [{"features": [1, 2]}]}, [1, 2]),
        ({"instances": [[3, 4]]}, [3, 4]),
        ([5, 6], [5, 6]),
        ({"age": 40, "state": "CA"}, [40, "CA"]),
        (7, [7]),
    ],
)
def test_json_input_gives_its_values(payload: Any, features: list[Any]) -> None:
    line = captured(
        section(json.dumps(payload), "JSON", "application/json"),
        section(json.dumps({"score": 0.9}), "JSON", "application/json", "OUTPUT"),
    )

    records, problems = parse_capture([line])

    assert problems == []
    assert [r.features for r in records] == [features]
    assert records[0].output == {"score": 0.9}


def test_base64_payloads_are_decoded_then_read_by_their_content_type() -> None:
    csv_line = captured(section(b64("1,2,3"), "BASE64", "text/csv"), section(b64("0.25"), "BASE64", "text/csv"))
    json_line = captured(
        section(b64('{"features": [1, "b"]}'), "BASE64", "application/json"),
        section(b64("[0.75]"), "BASE64", "application/json", "OUTPUT"),
        inference_id="i-2",
    )

    records, problems = parse_capture([csv_line, json_line])

    assert problems == []
    assert [(r.features, r.output, r.inference_id) for r in records] == [
        (["1", "2", "3"], "0.25", None),
        ([1, "b"], [0.75], "i-2"),
    ]


def test_a_multi_row_invocation_gives_one_record_per_row_with_the_invocation_ids() -> None:
    csv_rows = captured(section("1,2\n3,4\n"), section("0.1\n0.2\n"), inference_id="batch-1")
    json_rows = captured(
        section(json.dumps({"instances": [[5, 6], [7, 8]]}), "JSON", "application/json"),
        section(json.dumps({"predictions": [0.3, 0.4]}), "JSON", "application/json"),
    )
    jsonlines = captured(
        section('{"features": [1]}\n{"features": [2]}\n', "JSON", "application/jsonlines"),
        section("0.5,0.6", "CSV"),  # one line of as many fields as rows
    )

    records, problems = parse_capture([csv_rows, json_rows, jsonlines])

    assert problems == []
    assert [(r.features, r.output) for r in records] == [
        (["1", "2"], "0.1"),
        (["3", "4"], "0.2"),
        ([5, 6], 0.3),
        ([7, 8], 0.4),
        ([1], "0.5"),
        ([2], "0.6"),
    ]
    assert {r.inference_id for r in records[:2]} == {"batch-1"}


def test_an_input_only_or_output_only_capture_is_kept() -> None:
    records, problems = parse_capture([captured(section("1,2")), captured(None, section("0.9"))])

    assert problems == []
    assert [(r.features, r.output) for r in records] == [(["1", "2"], None), ([], "0.9")]


def test_malformed_lines_are_problems_with_their_line_numbers_and_blank_lines_are_skipped() -> None:
    lines = [
        captured(section("1,2"), section("0.1")),
        "not json at all",
        "",
        json.dumps({"eventMetadata": {"eventId": "x"}}),
        json.dumps([1, 2]),
        captured(section("!!not base64!!", "BASE64")),
        captured(section("1", "GZIP")),
        captured(section(b64("\x00\x01"), "BASE64", "application/x-npy")),
        captured(section(base64.b64encode(b"\xff\xfe").decode(), "BASE64", "text/csv")),
        captured(section("{not json", "JSON", "application/json")),
        captured(section("1,2"), time="yesterday"),
        captured(section("1,2\n3,4"), section("0.1")),  # two rows, one output
        json.dumps({"captureData": {}}),
        captured(section("")),
        "   \n",
        captured(section("3,4"), section("0.2")),
    ]

    records, problems = parse_capture(lines)

    assert [r.features for r in records] == [["1", "2"], ["3", "4"]]
    assert [p.line for p in problems] == [2, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14]
    reasons = {p.line: p.reason for p in problems}
    assert reasons[2].startswith("not JSON")
    assert reasons[4] == "no captureData object"
    assert "not base64" in reasons[6]
    assert "'GZIP'" in reasons[7]
    assert "application/x-npy" in reasons[8]
    assert "not UTF-8" in reasons[9]
    assert "not JSON" in reasons[10]
    assert "inferenceTime" in reasons[11]
    assert "cannot pair" in reasons[12]
    assert "neither endpointInput nor endpointOutput" in reasons[13]
    assert "empty" in reasons[14]


def test_lines_may_be_utf8_bytes() -> None:
    lines: list[Any] = [captured(section("1,é"), section("0.5")).encode(), b"\xff\xfe{", b"  \n"]

    records, problems = parse_capture(lines)
    labels, label_problems = parse_ground_truth([label_line("e1").encode(), b"\xff"])

    assert [r.features for r in records] == [["1", "é"]]
    assert problems == [Problem(2, "not UTF-8 text")]
    assert (labels, label_problems) == ({"e1": "1"}, [Problem(2, "not UTF-8 text")])


def test_a_hundred_thousand_lines_parse_and_become_a_dataset_in_about_a_second() -> None:
    import time

    lines = [
        captured(section(f"{i % 90},{i % 2},153.7,12,CA,{i * 0.5},3,4,5,6"), section("0.0254"), inference_id=f"i{i}")
        for i in range(100_000)
    ]
    started = time.perf_counter()
    records, problems = parse_capture(lines)
    dataset, more = dataset_from_records(records, [f"f{i}" for i in range(10)])
    elapsed = time.perf_counter() - started

    assert (len(records), problems, more, len(dataset)) == (100_000, [], [], 100_000)
    assert elapsed < 5.0  # about 0.8 s on a laptop; generous for a busy CI machine


# -- ground truth and the join ----------------------------------------------------------------------------------------


def test_ground_truth_lines_map_event_ids_to_label_text_and_the_last_duplicate_wins() -> None:
    lines = [
        label_line("e1", "1"),
        label_line("e2", "0"),
        label_line("e3", b64("1\n"), "BASE64"),
        label_line("e4", 1, "JSON"),
        label_line("e5", '"yes"', "JSON"),
        label_line("e1", "0"),  # a correction: the last line wins
    ]

    labels, problems = parse_ground_truth(lines)

    assert problems == []
    assert labels == {"e1": "0", "e2": "0", "e3": "1", "e4": "1", "e5": "yes"}


def test_malformed_ground_truth_lines_are_problems() -> None:
    lines = [
        "{bad",
        json.dumps({"eventMetadata": {"eventId": "e1"}}),
        json.dumps({"groundTruthData": {"data": "1", "encoding": "CSV"}}),
        label_line("e2", ""),
        label_line("e3", "1", "XML"),
        label_line("e4", "%%%", "BASE64"),
        label_line("e5", "1"),
    ]

    labels, problems = parse_ground_truth(lines)

    assert labels == {"e5": "1"}
    assert [p.line for p in problems] == [1, 2, 3, 4, 5, 6]
    assert problems[2].reason == "no eventMetadata.eventId"
    assert "'XML'" in problems[4].reason


def test_the_join_uses_the_inference_id_when_there_is_one_and_counts_what_did_not_join() -> None:
    records = [
        Record("e1", "inf-1", None, ["1"], "0.9"),  # joined on inf-1, not on e1
        Record("e2", None, None, ["2"], "0.1"),  # joined on its event id
        Record("e3", None, None, ["3"], "0.5"),  # no label yet
        Record("e4", "inf-4", None, ["4"], "0.7"),  # its event id has a label, but it is joined on inf-4
    ]
    labels = {"inf-1": "1", "e1": "0", "e2": "0", "e4": "1", "orphan": "1"}

    joined = join_labels(records, labels)

    assert joined == Joined(records=records[:2], labels=["1", "0"], unlabelled=2, labels_without_prediction=3)


def test_rows_of_one_invocation_share_its_label() -> None:
    records, _ = parse_capture([captured(section("1\n2"), section("0.1\n0.2"), inference_id="batch")])

    joined = join_labels(records, {"batch": "1"})

    assert (len(joined.records), joined.labels, joined.unlabelled, joined.labels_without_prediction) == (
        2,
        ["1", "1"],
        0,
        0,
    )


# -- datasets from captured records -----------------------------------------------------------------------------------


def test_captured_records_become_columns_named_by_the_baseline() -> None:
    records = [
        Record("e1", None, None, ["1", "CA", "2.5"], None),
        Record("e2", None, None, ["", "NY", "3"], None),
        Record("e3", None, None, [4, None, 1.5], None),  # a JSON capture
    ]

    dataset, problems = dataset_from_records(records, ["age", "state", "income"])

    assert problems == []
    assert dataset.columns == ["age", "state", "income"]
    np.testing.assert_array_equal(dataset.data["age"], [1.0, np.nan, 4.0])
    assert dataset.data["age"].dtype == np.float64
    assert dataset.data["state"].tolist() == ["CA", "NY", None]
    assert dataset.data["income"].tolist() == [2.5, 3.0, 1.5]


def test_extra_fields_become_underscore_columns_and_short_records_have_missing_values() -> None:
    records = [
        Record("e1", None, None, ["1", "2", "3", "4"], None),  # one field more than the baseline
        Record("e2", None, None, ["5", "6"], None),  # one fewer
        Record("e3", None, None, [], "0.5"),  # output only: no input to judge
    ]

    dataset, problems = dataset_from_records(records, ["a", "b", "c"])

    assert dataset.columns == ["a", "b", "c", "_c3"]
    assert dataset.data["_c3"].tolist()[0] == 4.0
    assert np.isnan(dataset.data["_c3"][1]) and np.isnan(dataset.data["c"][1])
    assert problems == [Problem(0, "record 3 (event e3): no captured input")]


def test_when_every_record_is_short_the_baselines_trailing_columns_are_absent() -> None:
    records = [Record("e1", None, None, ["1", "x"], None), Record("e2", None, None, ["2", "y"], None)]

    dataset, _ = dataset_from_records(records, ["a", "b", "c"])

    assert dataset.columns == ["a", "b"]  # the missing-column check sees c missing


# -- dataset files ----------------------------------------------------------------------------------------------------


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_csv_with_a_header_has_numeric_string_and_missing_values(tmp_path: Path) -> None:
    path = write(tmp_path, "train.csv", "age,state,income,flag\n40,CA,1.5,true\n,NY,,false\n35,,2e3,\n")

    dataset, problems = read_dataset(path)

    assert problems == []
    assert dataset.columns == ["age", "state", "income", "flag"]
    assert len(dataset) == 3
    np.testing.assert_array_equal(dataset.data["age"], [40.0, np.nan, 35.0])
    np.testing.assert_array_equal(dataset.data["income"], [1.5, np.nan, 2000.0])
    assert dataset.data["state"].dtype == object
    assert dataset.data["state"].tolist() == ["CA", "NY", None]
    assert dataset.data["flag"].tolist() == ["true", "false", None]


def test_a_csv_without_header_is_named_like_model_monitor_or_by_the_given_columns(tmp_path: Path) -> None:
    path = write(tmp_path, "data.csv", "1,a\n2,b\n")

    guessed, _ = read_dataset(path)
    named, _ = read_dataset(path, columns=["n", "s"])
    forced, _ = read_dataset(write(tmp_path, "strings.csv", "x,y\nz,w\n"), header=False)

    assert guessed.columns == ["_c0", "_c1"]
    assert named.columns == ["n", "s"]
    assert named.data["n"].tolist() == [1.0, 2.0]
    assert (forced.columns, len(forced)) == (["_c0", "_c1"], 2)


def test_given_columns_rename_a_header_and_must_be_as_many(tmp_path: Path) -> None:
    path = write(tmp_path, "train.csv", "a,b\n1,2\n")

    renamed, _ = read_dataset(path, header=True, columns=["x", "y"])

    assert renamed.columns == ["x", "y"]
    with pytest.raises(DatasetError, match=r"train\.csv: the header has 2 columns but 3"):
        read_dataset(path, header=True, columns=["x", "y", "z"])


def test_csv_rows_with_the_wrong_number_of_fields_are_problems_with_their_line(tmp_path: Path) -> None:
    path = write(tmp_path, "train.csv", "a,b,c\n1,2,3\n4,5\n\n6,7,8\n9,10,11,12\n")

    dataset, problems = read_dataset(path)

    assert dataset.data["a"].tolist() == [1.0, 6.0]
    assert problems == [
        Problem(3, "2 fields where the columns are 3"),
        Problem(6, "4 fields where the columns are 3"),
    ]


def test_json_lines_of_objects_take_keys_as_columns(tmp_path: Path) -> None:
    lines = [
        {"age": 40, "state": "CA", "vip": True},
        {"age": None, "state": "NY", "extra": [1, 2]},
        {"age": "35", "vip": False},
    ]
    path = write(tmp_path, "train.jsonl", "\n".join(json.dumps(line) for line in lines) + "\n")

    dataset, problems = read_dataset(path)
    selected, _ = read_dataset(path, columns=["state", "age"])

    assert problems == []
    assert dataset.columns == ["age", "state", "vip", "extra"]
    np.testing.assert_array_equal(dataset.data["age"], [40.0, np.nan, 35.0])
    assert dataset.data["vip"].tolist() == ["true", None, "false"]
    assert dataset.data["extra"].tolist() == [None, "[1,2]", None]
    assert selected.columns == ["state", "age"]
    with pytest.raises(DatasetError, match="no row has the key income; the keys are age, state, vip, extra"):
        read_dataset(path, columns=["age", "income"])


def test_json_lines_of_arrays_and_their_bad_lines(tmp_path: Path) -> None:
    text = '[1, "a"]\n[2, "b"]\n[3]\n{"x": 1}\nnot json\n42\n[4, null]\n'
    path = write(tmp_path, "rows.jsonl", text)

    dataset, problems = read_dataset(path, columns=["n", "s"])

    assert dataset.data["n"].tolist() == [1.0, 2.0, 4.0]
    assert dataset.data["s"].tolist() == ["a", "b", None]
    assert [(p.line, p.reason.split(":")[0]) for p in problems] == [
        (3, "1 values where the columns are 2"),
        (4, "an object where the rows are arrays"),
        (5, "not JSON"),
        (6, "not a JSON object or array"),
    ]


def test_a_json_file_may_be_one_array_of_rows(tmp_path: Path) -> None:
    path = write(tmp_path, "train.json", json.dumps([{"a": 1, "b": "x"}, {"a": 2, "b": "y"}]))

    dataset, problems = read_dataset(path)

    assert (problems, dataset.columns, dataset.data["a"].tolist()) == ([], ["a", "b"], [1.0, 2.0])


def test_the_format_comes_from_the_suffix_or_is_given(tmp_path: Path) -> None:
    path = write(tmp_path, "train.txt", "a\n1\n")

    with pytest.raises(DatasetError, match=r"train\.txt: cannot tell the format"):
        read_dataset(path)
    with pytest.raises(DatasetError, match="unknown format 'xml'"):
        read_dataset(path, format="xml")
    assert read_dataset(path, format="csv")[0].data["a"].tolist() == [1.0]


def test_a_file_that_is_not_utf8_or_names_a_column_twice_is_a_dataset_error(tmp_path: Path) -> None:
    binary = tmp_path / "binary.csv"
    binary.write_bytes(b"a,b\n\xff\xfe,1\n")

    with pytest.raises(DatasetError, match=r"binary\.csv: not UTF-8"):
        read_dataset(binary)
    with pytest.raises(DatasetError, match="the header names a more than once"):
        read_dataset(write(tmp_path, "twice.csv", "a,a,b\n1,2,3\n"), header=True)


def test_an_empty_file_is_an_empty_dataset(tmp_path: Path) -> None:
    dataset, problems = read_dataset(write(tmp_path, "empty.csv", ""))

    assert (dataset, problems, len(dataset)) == (Dataset([], {}), [], 0)


def test_parquet_needs_pyarrow_and_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # as if not installed
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)

    with pytest.raises(DatasetError, match=r"train\.parquet: reading Parquet needs pyarrow.*pip install pyarrow"):
        read_dataset(tmp_path / "train.parquet")


def test_parquet_columns_are_numeric_by_their_arrow_type(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """pyarrow's API as records.py uses it (read_table, column_names, column().type / to_pylist, pyarrow.types)."""

    class Column:
        def __init__(self, type_: str, values: list[Any]) -> None:
            self.type, self.values = type_, values

        def to_pylist(self) -> list[Any]:
            return self.values

    class Table:
        column_names = ["age", "state", "vip"]
        columns = {
            "age": Column("int64", [40, None]),
            "state": Column("string", ["1", None]),
            "vip": Column("bool", [True, False]),
        }

        def column(self, name: str) -> Column:
            return self.columns[name]

    read: list[Any] = []
    parquet = types.ModuleType("pyarrow.parquet")

    def read_table(path: Path) -> Table:
        read.append(path)
        return Table()

    parquet.read_table = read_table  # type: ignore[attr-defined]
    arrow_types = types.ModuleType("pyarrow.types")
    arrow_types.is_integer = lambda t: t.startswith("int")  # type: ignore[attr-defined]
    arrow_types.is_floating = lambda t: t in ("float", "double")  # type: ignore[attr-defined]
    arrow_types.is_decimal = lambda t: t.startswith("decimal")  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "pyarrow", types.ModuleType("pyarrow"))
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", parquet)
    monkeypatch.setitem(sys.modules, "pyarrow.types", arrow_types)

    dataset, problems = read_dataset(tmp_path / "train.parquet")

    assert problems == [] and read == [tmp_path / "train.parquet"]
    np.testing.assert_array_equal(dataset.data["age"], [40.0, np.nan])
    assert dataset.data["state"].tolist() == ["1", None]  # a string column stays text, whatever its values
    assert dataset.data["vip"].tolist() == ["true", "false"]
    assert read_dataset(tmp_path / "train.parquet", columns=["vip"])[0].columns == ["vip"]
    with pytest.raises(DatasetError, match="no column nope; the columns are age, state, vip"):
        read_dataset(tmp_path / "train.parquet", columns=["nope"])
