"""Captured invocations, ground-truth labels and datasets, as the monitor's checks take them."""

from __future__ import annotations

import base64
import binascii
import csv
import gc
import importlib
import io
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class Dataset:
    """Columns by name. Numeric columns are float64 with NaN for a missing value; the others are object arrays of
    `str | None`."""

    columns: list[str]
    data: dict[str, np.ndarray]

    def __len__(self) -> int:
        return len(self.data[self.columns[0]]) if self.columns else 0


@dataclass(frozen=True)
class Record:
    """One captured invocation."""

    event_id: str | None
    inference_id: str | None  # eventMetadata.inferenceId: what ground truth is joined on when present
    time: datetime | None
    features: list[object]  # the input's fields: CSV gives strings, JSON its values
    output: object | None  # CSV's first field as text, or the parsed JSON value


@dataclass(frozen=True)
class Problem:
    """An input line that could not be used, and why."""

    line: int  # 1-based in its source; 0 when not from a file
    reason: str


def flat_column(values: object, name: str, error: type[ValueError]) -> np.ndarray:
    """`values` as a one-dimensional array (a column of one-element rows is flattened); `error` naming `name`
    when they are ragged or of more dimensions."""
    try:
        array = np.asarray(values)
    except ValueError as problem:  # ragged nested lists
        raise error(f"{name} must be a flat list of values: {problem}") from problem
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim != 1:
        raise error(f"{name} must be one-dimensional, got shape {array.shape}")
    return array


class DatasetError(ValueError):
    """A dataset that cannot be read at all (an unknown format, not UTF-8, pyarrow missing for Parquet, a header
    that names a column twice): the message names the file. A bad row is a `Problem` instead."""


class _Malformed(Exception):
    """A captured or ground-truth line that cannot be used: the reason, without the line number."""


# -- captured invocations (data capture's JSON lines) -----------------------------------------------------------------


def parse_capture(lines: Iterable[str | bytes]) -> tuple[list[Record], list[Problem]]:
    """The records of SageMaker captured JSON lines (one invocation a line), and the lines that could not be used.

    - `captureData.endpointInput` / `endpointOutput` are read by their `encoding`: `CSV` and `JSON` as they are,
      `BASE64` decoded first, the decoded text then being CSV or JSON according to `observedContentType`
      (`application/jsonlines` as JSON Lines; sniffed from the first character when there is no content type).
    - Input: CSV gives the fields as strings (quoted fields are unquoted); JSON gives the values of its `instances`
      or `features` key, of a list, or of an object (its values in order), or the single value itself.
    - Output: CSV's first field as text (None when empty); JSON the parsed value.
    - `eventMetadata`: `eventId`, `inferenceId` (only when the caller passed one) and `inferenceTime` (ISO 8601;
      None when absent).
    - A capture with only one of input and output is kept: no input gives `features == []`, no output gives
      `output is None`.

    Several rows in one invocation (CSV lines, JSON Lines, or a JSON list of lists / `instances` of lists or
    objects) give one Record per row, all with the invocation's event id, inference id and time; the output is split
    into as many values (CSV: its lines, or the fields of its one line; JSON: a list, or an object's one list value
    such as `predictions`, of that length), and an invocation whose output cannot be split so is a Problem. As the
    rows share the invocation's ids, a ground-truth label for that invocation labels each of them.

    A blank line is skipped; a malformed one (not JSON, no captureData, an unknown encoding, bad base64, a payload
    that is not UTF-8, CSV or JSON, an unreadable inferenceTime) is a Problem with its 1-based line number, never
    an exception. Lines may also be bytes (UTF-8), as an S3 body's `iter_lines()` gives them.
    """
    records: list[Record] = []
    problems: list[Problem] = []
    with _collector_paused():
        for number, line in enumerate(lines, start=1):
            if not line or line.isspace():
                continue
            try:
                records.extend(_capture_line(line if isinstance(line, str) else _line_text(line)))
            except _Malformed as error:
                problems.append(Problem(number, str(error)))
    return records, problems


def _line_text(line: bytes | bytearray) -> str:
    """A line given as bytes (an S3 body's lines) as text."""
    try:
        return line.decode("utf-8")
    except UnicodeDecodeError:
        raise _Malformed("not UTF-8 text") from None


@contextmanager
def _collector_paused() -> Iterator[None]:
    """The cyclic garbage collector off while millions of small acyclic objects (records, rows) are created: it
    would otherwise traverse them again and again as they pile up (a third of the time of a million lines). Reference
    counting still frees everything; the collector is back on afterwards if it was on."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


_decode = json.JSONDecoder().decode  # json.loads without its per-call checks of the argument


def _capture_line(line: str) -> list[Record]:
    try:
        event = _decode(line)
    except ValueError as error:
        raise _Malformed(f"not JSON: {error}") from None
    if type(event) is not dict:
        raise _Malformed("not a captured record (a JSON object with captureData)")
    capture = event.get("captureData")
    if type(capture) is not dict:
        raise _Malformed("no captureData object")
    metadata = event.get("eventMetadata")
    if metadata is None:
        metadata = {}
    elif type(metadata) is not dict:
        raise _Malformed("eventMetadata is not an object")
    endpoint_input = capture.get("endpointInput")
    endpoint_output = capture.get("endpointOutput")
    event_id = metadata.get("eventId")
    if type(event_id) is not str or not event_id:
        event_id = _identifier(event_id)
    inference_id = metadata.get("inferenceId")
    if type(inference_id) is not str or not inference_id:
        inference_id = _identifier(inference_id)
    time = _time(metadata.get("inferenceTime"))
    simple = _simple_csv(endpoint_input)
    if simple is not None:  # the common case: one row of CSV, and its output
        output = _simple_csv(endpoint_output)
        if output is not None:
            row: list[object] = simple.split(",")  # type: ignore[assignment]  # strs, as every CSV field
            return [Record(event_id, inference_id, time, row, output.split(",", 1)[0] or None)]
        if endpoint_output is None:
            return [Record(event_id, inference_id, time, simple.split(","), None)]  # type: ignore[arg-type]
    if endpoint_input is None and endpoint_output is None:
        raise _Malformed("captureData has neither endpointInput nor endpointOutput")
    rows = [[]] if endpoint_input is None else _input_rows(endpoint_input)
    outputs = [None] * len(rows) if endpoint_output is None else _outputs(endpoint_output, len(rows))
    if len(rows) == 1:
        return [Record(event_id, inference_id, time, rows[0], outputs[0])]
    return [Record(event_id, inference_id, time, row, output) for row, output in zip(rows, outputs, strict=True)]


def _identifier(value: object) -> str | None:
    if value is None or value == "":
        return None
    return value if isinstance(value, str) else str(value)


def _time(value: object) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            pass
    raise _Malformed(f"eventMetadata.inferenceTime {value!r} is not an ISO 8601 time")


def _payload(section: object, name: str) -> tuple[str, str]:
    """The decoded text of a capture section and how to read it: "csv", "json" or "jsonlines"."""
    if not isinstance(section, dict):
        raise _Malformed(f"{name} is not an object")
    data = section.get("data")
    if data is None:
        data = ""
    if not isinstance(data, str):
        raise _Malformed(f"{name}.data is not a string")
    encoding = section.get("encoding")
    encoding = encoding.upper() if isinstance(encoding, str) else encoding
    content_type = section.get("observedContentType")
    content_type = content_type.lower() if isinstance(content_type, str) else ""
    if encoding == "CSV":
        return "csv", data
    if encoding == "JSON":
        return ("jsonlines" if _is_json_lines(content_type) else "json"), data
    if encoding == "BASE64":
        try:
            raw = base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError):
            raise _Malformed(f"{name}.data is not base64") from None
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            shown = content_type or "no content type"
            raise _Malformed(f"{name}: the base64 payload ({shown}) is not UTF-8 text (CSV or JSON)") from None
        return _kind(content_type, text, name), text
    raise _Malformed(f"{name}.encoding {encoding!r} is not CSV, JSON or BASE64")


def _is_json_lines(content_type: str) -> bool:
    return "jsonlines" in content_type or "jsonl" in content_type or "ndjson" in content_type


def _kind(content_type: str, text: str, name: str) -> str:
    if _is_json_lines(content_type):
        return "jsonlines"
    if "json" in content_type:
        return "json"
    if "csv" in content_type or content_type.startswith("text/plain"):
        return "csv"
    if not content_type:
        return "json" if text.lstrip()[:1] in ("{", "[") else "csv"
    raise _Malformed(f"{name}: content type {content_type!r} is neither CSV nor JSON")


def _csv_rows(text: str) -> list[list[str]]:
    """The non-blank rows of a CSV payload: a plain split unless a field is quoted."""
    if '"' in text:
        return [row for row in csv.reader(io.StringIO(text)) if row]
    if "\n" in text or "\r" in text:
        return [line.split(",") for line in text.splitlines() if line]
    return [text.split(",")] if text else []


def _json_value(text: str, name: str) -> object:
    try:
        return _decode(text)
    except ValueError as error:
        raise _Malformed(f"{name}.data is not JSON: {error}") from None


def _json_lines(text: str, name: str) -> list[object]:
    return [_json_value(line, name) for line in text.splitlines() if line and not line.isspace()]


def _simple_csv(section: object) -> str | None:
    """The data of a CSV section that is one line without quotes (the common case, read by a split); else None."""
    if type(section) is dict and section.get("encoding") == "CSV":
        data = section.get("data")
        if type(data) is str and data and '"' not in data and "\n" not in data and "\r" not in data:
            return data
    return None


def _input_rows(section: object) -> list[list[object]]:
    simple = _simple_csv(section)
    if simple is not None:
        return [simple.split(",")]  # type: ignore[list-item]  # list[str] is a list[object] here, never mutated
    kind, text = _payload(section, "endpointInput")
    rows: list[list[object]]
    if kind == "csv":
        rows = [list[object](row) for row in _csv_rows(text)]
    elif kind == "json":
        rows = _json_rows(_json_value(text, "endpointInput"))
    else:
        rows = [row for value in _json_lines(text, "endpointInput") for row in _json_rows(value)]
    if not rows:
        raise _Malformed("endpointInput.data is empty")
    return rows


def _json_rows(value: object) -> list[list[object]]:
    if isinstance(value, dict):
        for key in ("instances", "features"):
            if key in value:
                return _json_list_rows(value[key])
        return [list(value.values())]
    return _json_list_rows(value)


def _json_list_rows(items: object) -> list[list[object]]:
    if not isinstance(items, list):
        return [[items]]
    if items and all(isinstance(item, list | dict) for item in items):
        return [_json_row(item) for item in items]
    return [items]  # scalars (or a mix): one row


def _json_row(item: object) -> list[object]:
    if isinstance(item, dict):
        features = item.get("features")
        return features if isinstance(features, list) else list(item.values())
    return item if isinstance(item, list) else [item]


def _outputs(section: object, rows: int) -> list[object]:
    """The output of each of an invocation's `rows` rows."""
    if rows == 1:
        simple = _simple_csv(section)
        if simple is not None:
            return [simple.split(",", 1)[0] or None]
    kind, text = _payload(section, "endpointOutput")
    if kind == "csv":
        return _csv_outputs(text, rows)
    values = [_json_value(text, "endpointOutput")] if kind == "json" else _json_lines(text, "endpointOutput")
    if rows == 1:
        return [values[0] if len(values) == 1 else values or None]
    if len(values) == rows:
        return values
    if len(values) == 1:
        value = values[0]
        lists: list[object] = [v for v in value.values() if isinstance(v, list)] if isinstance(value, dict) else [value]
        if len(lists) == 1 and isinstance(lists[0], list) and len(lists[0]) == rows:
            return lists[0]
    raise _Malformed(f"{rows} input rows but a JSON output that is not a list of {rows} values: cannot pair them")


def _csv_outputs(text: str, rows: int) -> list[object]:
    lines = _csv_rows(text)
    if rows == 1:
        return [lines[0][0] if lines and lines[0][0] != "" else None]
    if len(lines) == rows:
        return [line[0] for line in lines]
    if len(lines) == 1 and len(lines[0]) == rows:
        return list(lines[0])
    raise _Malformed(f"{rows} input rows but an output of {len(lines)} CSV lines: cannot pair them")


# -- ground truth -----------------------------------------------------------------------------------------------------


def parse_ground_truth(lines: Iterable[str | bytes]) -> tuple[dict[str, str], list[Problem]]:
    """Model Monitor ground-truth JSON lines as {event id: label text}, and the lines that could not be used.

    Each line is `{"groundTruthData": {"data": "1", "encoding": "CSV"}, "eventMetadata": {"eventId": "..."}}`:
    `data` is the label (CSV: its first field, unquoted; `JSON`, accepted too: a scalar or a list of one, as text;
    `BASE64`: decoded, then CSV); `eventId` is the captured record's inferenceId when the caller passed one, else its
    eventId. When an event id appears twice, the last line wins (the label may have been corrected); the earlier
    line is not reported. A blank line is skipped; a malformed one (not JSON, no groundTruthData, no eventId, an
    empty label, an unknown encoding) is a Problem with its 1-based line number.
    """
    labels: dict[str, str] = {}
    problems: list[Problem] = []
    with _collector_paused():
        for number, line in enumerate(lines, start=1):
            if not line or line.isspace():
                continue
            try:
                event_id, label = _ground_truth_line(line if isinstance(line, str) else _line_text(line))
            except _Malformed as error:
                problems.append(Problem(number, str(error)))
                continue
            labels[event_id] = label
    return labels, problems


def _ground_truth_line(line: str) -> tuple[str, str]:
    try:
        event = _decode(line)
    except ValueError as error:
        raise _Malformed(f"not JSON: {error}") from None
    if not isinstance(event, dict):
        raise _Malformed("not a ground-truth record (a JSON object with groundTruthData)")
    truth = event.get("groundTruthData")
    if not isinstance(truth, dict):
        raise _Malformed("no groundTruthData object")
    metadata = event.get("eventMetadata")
    event_id = _identifier(metadata.get("eventId")) if isinstance(metadata, dict) else None
    if event_id is None:
        raise _Malformed("no eventMetadata.eventId")
    data = truth.get("data")
    encoding = truth.get("encoding") or "CSV"
    encoding = encoding.upper() if isinstance(encoding, str) else encoding
    label: str | None
    if encoding == "JSON" or not isinstance(data, str):
        value = _json_value(data, "groundTruthData") if isinstance(data, str) else data
        if isinstance(value, list) and len(value) == 1:
            value = value[0]
        if isinstance(value, list | dict):
            raise _Malformed("groundTruthData.data is not one label")
        label = _text(value)
    elif encoding in ("CSV", "BASE64"):
        if encoding == "BASE64":
            try:
                data = base64.b64decode(data, validate=True).decode("utf-8")
            except (binascii.Error, ValueError):
                raise _Malformed("groundTruthData.data is not base64 of UTF-8 text") from None
        rows = _csv_rows(data)
        label = rows[0][0] if rows else None
    else:
        raise _Malformed(f"groundTruthData.encoding {encoding!r} is not CSV")
    if not label:
        raise _Malformed("groundTruthData.data is empty")
    return event_id, label


# -- predictions joined with labels -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Joined:
    """Captured records that have a label, with their labels in the same order; and what did not join."""

    records: list[Record]
    labels: list[str]
    unlabelled: int  # records with no label (yet)
    labels_without_prediction: int  # labels whose id matches no record: the caller reports them


def join_labels(records: Sequence[Record], labels: Mapping[str, str]) -> Joined:
    """Each record with its label, as Model Monitor merges: on the record's inferenceId when it has one, else on its
    eventId. Records without a label are counted (`unlabelled`), and so are labels that match no record
    (`labels_without_prediction`): neither is dropped silently."""
    joined: list[Record] = []
    joined_labels: list[str] = []
    matched: set[str] = set()
    unlabelled = 0
    for record in records:
        key = record.inference_id or record.event_id
        label = labels.get(key) if key is not None else None
        if label is None:
            unlabelled += 1
            continue
        joined.append(record)
        joined_labels.append(label)
        matched.add(key)  # type: ignore[arg-type]  # a label was found, so the key is a str
    return Joined(joined, joined_labels, unlabelled, len(labels) - len(matched))


# -- datasets ---------------------------------------------------------------------------------------------------------

_FORMATS = {"csv": "csv", "jsonl": "jsonl", "jsonlines": "jsonl", "json": "json", "parquet": "parquet"}
_SUFFIXES = {".csv": "csv", ".jsonl": "jsonl", ".jsonlines": "jsonl", ".json": "json", ".parquet": "parquet"}


def read_dataset(
    path: str | Path,
    *,
    format: str | None = None,
    header: bool | None = None,
    columns: Sequence[str] | None = None,
) -> tuple[Dataset, list[Problem]]:
    """A dataset file as columns, and the rows that could not be used.

    `format` is csv, jsonl, json or parquet; by default it comes from the suffix (.csv, .jsonl, .json, .parquet).

    - CSV: `header=True` reads the first row as the column names, `False` as data; `None` (the default) takes it
      as a header when its fields are distinct, non-empty and none of them is a number. Without a header the
      columns are `columns`, else `_c0`, `_c1`, ... (Model Monitor's names for a headerless CSV); with one,
      `columns` (when given) replace its names and must be as many. A blank line is skipped; a row with another
      number of fields than the first is a Problem and skipped.
    - JSON Lines (jsonl; json too, which also takes a file that is one JSON array of rows): one object per line,
      its keys the columns (a missing key is a missing value; `columns` selects and orders the keys), or one
      array per line (positional, named by `columns` or `_c<i>`; another length is a Problem). A line that is not
      JSON, not an object/array, or of the other kind than the first is a Problem. A nested value is kept as its
      JSON text.
    - Parquet, with pyarrow (imported only here; a DatasetError says to install it when it is absent): integer,
      floating and decimal columns are numeric, every other column text (`columns` selects).

    A column is numeric (float64, NaN for a missing value) when every present value parses as a float; a missing
    value is an empty string or null, so a column with no present value is numeric too. Any other column is an
    object array of `str | None` (JSON true/false as "true"/"false", None for a missing value). A file that cannot
    be read at all raises DatasetError (or OSError when it cannot be opened).
    """
    path = Path(path)
    kind = _dataset_format(path, format)
    if columns is not None:
        columns = list(columns)
        duplicated = sorted({name for name in columns if columns.count(name) > 1})
        if duplicated:
            raise DatasetError(f"{path}: columns name {', '.join(duplicated)} more than once")
    try:
        with _collector_paused():
            if kind == "csv":
                return _read_csv(path, header, columns)
            if kind == "parquet":
                return _read_parquet(path, columns)
            return _read_json(path, columns, whole_document=kind == "json")
    except UnicodeDecodeError as error:
        raise DatasetError(f"{path}: not UTF-8 text ({error.reason} at byte {error.start})") from None


def _dataset_format(path: Path, format: str | None) -> str:
    if format is not None:
        kind = _FORMATS.get(format.lower())
        if kind is None:
            raise DatasetError(f"{path}: unknown format {format!r}: csv, jsonl, json or parquet")
        return kind
    kind = _SUFFIXES.get(path.suffix.lower())
    if kind is None:
        raise DatasetError(
            f"{path}: cannot tell the format from the name: use a .csv, .jsonl, .json or .parquet suffix, or give "
            "the format (csv, jsonl, parquet)"
        )
    return kind


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _looks_like_header(row: list[str]) -> bool:
    return len(set(row)) == len(row) and all(field.strip() and not _is_number(field) for field in row)


def _read_csv(path: Path, header: bool | None, columns: list[str] | None) -> tuple[Dataset, list[Problem]]:
    problems: list[Problem] = []
    rows: list[list[str]] = []
    names: list[str] | None = None
    width = 0
    with path.open(encoding="utf-8-sig", newline="") as stream:
        reader = csv.reader(stream)
        for row in reader:
            if not row:
                continue  # a blank line
            if names is None:
                if header if header is not None else _looks_like_header(row):
                    if columns is not None and len(columns) != len(row):
                        raise DatasetError(
                            f"{path}: the header has {len(row)} columns but {len(columns)} column names were given"
                        )
                    names = columns if columns is not None else _header_names(path, row)
                    width = len(row)
                    continue
                names = columns if columns is not None else [f"_c{i}" for i in range(len(row))]
                width = len(names)
            if len(row) != width:
                problems.append(Problem(reader.line_num, f"{len(row)} fields where the columns are {width}"))
                continue
            rows.append(row)
    if names is None:
        names = columns or []
    values = list(zip(*rows, strict=True)) if rows else [() for _ in names]
    return Dataset(names, {name: _column(column) for name, column in zip(names, values, strict=True)}), problems


def _header_names(path: Path, row: list[str]) -> list[str]:
    names = [field if field else f"_c{i}" for i, field in enumerate(row)]
    duplicated = sorted({name for name in names if names.count(name) > 1})
    if duplicated:
        raise DatasetError(f"{path}: the header names {', '.join(duplicated)} more than once")
    return names


def _read_json(path: Path, columns: list[str] | None, whole_document: bool) -> tuple[Dataset, list[Problem]]:
    items: Iterable[tuple[int, object]]
    problems: list[Problem] = []
    text = path.read_text(encoding="utf-8-sig")
    document = _json_array_of_rows(text) if whole_document else None
    # in a JSON array, the element's 1-based position stands for its line
    items = enumerate(document, start=1) if document is not None else _json_lines_of(text, problems)
    objects: list[dict[str, object]] = []
    arrays: list[list[object]] = []
    of_objects: bool | None = None  # what the first row is: the rows are objects, or arrays
    width = len(columns) if columns is not None else 0
    for number, value in items:
        if isinstance(value, dict):
            if of_objects is None:
                of_objects = True
            if of_objects:
                objects.append(value)
            else:
                problems.append(Problem(number, "an object where the rows are arrays"))
        elif isinstance(value, list):
            if of_objects is None:
                of_objects = False
                width = width if columns is not None else len(value)
            if of_objects:
                problems.append(Problem(number, "an array where the rows are objects"))
            elif len(value) != width:
                problems.append(Problem(number, f"{len(value)} values where the columns are {width}"))
            else:
                arrays.append(value)
        else:
            problems.append(Problem(number, "not a JSON object or array"))
    if of_objects:
        return _objects_dataset(path, objects, columns), problems
    names = columns if columns is not None else [f"_c{i}" for i in range(width)]
    values = list(zip(*arrays, strict=True)) if arrays else [() for _ in names]
    return Dataset(names, {name: _column(column) for name, column in zip(names, values, strict=True)}), problems


def _objects_dataset(path: Path, objects: list[dict[str, object]], columns: list[str] | None) -> Dataset:
    keys = list(dict.fromkeys(key for row in objects for key in row))
    unknown = [name for name in columns or () if name not in keys]
    if unknown:
        raise DatasetError(f"{path}: no row has the key {', '.join(unknown)}; the keys are {', '.join(keys)}")
    names = columns if columns is not None else keys
    return Dataset(names, {name: _column([row.get(name) for row in objects]) for name in names})


def _json_array_of_rows(text: str) -> list[object] | None:
    """A whole-file JSON array of objects or arrays, else None (the file is JSON Lines)."""
    if not text.lstrip().startswith("["):
        return None
    try:
        document = json.loads(text)
    except ValueError:
        return None
    if isinstance(document, list) and all(isinstance(item, dict | list) for item in document):
        return document
    return None


def _json_lines_of(text: str, problems: list[Problem]) -> Iterator[tuple[int, object]]:
    for number, line in enumerate(text.splitlines(), start=1):
        if not line or line.isspace():
            continue
        try:
            yield number, _decode(line)
        except ValueError as error:
            problems.append(Problem(number, f"not JSON: {error}"))


def _read_parquet(path: Path, columns: list[str] | None) -> tuple[Dataset, list[Problem]]:
    try:  # optional: only Parquet needs it
        parquet = importlib.import_module("pyarrow.parquet")
        types = importlib.import_module("pyarrow.types")
    except ImportError:
        raise DatasetError(
            f"{path}: reading Parquet needs pyarrow, which is not installed: pip install pyarrow"
        ) from None
    try:
        table = parquet.read_table(path)
    except (OSError, ValueError, KeyError) as error:  # pyarrow's ArrowInvalid is a ValueError, ArrowIOError an OSError
        raise DatasetError(f"{path}: not a Parquet file pyarrow can read: {error}") from None
    names = list(table.column_names)
    if columns is not None:
        unknown = [name for name in columns if name not in names]
        if unknown:
            raise DatasetError(f"{path}: no column {', '.join(unknown)}; the columns are {', '.join(names)}")
        names = columns
    data: dict[str, np.ndarray] = {}
    for name in names:
        column = table.column(name)
        values = column.to_pylist()
        if types.is_integer(column.type) or types.is_floating(column.type) or types.is_decimal(column.type):
            data[name] = np.array(values, dtype=np.float64)
        else:
            data[name] = _text_column(values)
    return Dataset(names, data), []


def dataset_from_records(records: Sequence[Record], columns: Sequence[str]) -> tuple[Dataset, list[Problem]]:
    """The captured inputs as a Dataset named by the baseline's columns, for the data-quality checks.

    The dataset is as wide as the widest record. Its columns are the first `columns`; a record with fewer fields
    than that has missing values in the rest, and when every record has fewer fields than `columns`, the baseline's
    trailing columns are absent (the missing-column check sees them). Fields beyond `columns` become columns named
    `_c<i>` (i the 0-based field position, Model Monitor's name for an unnamed column) that the extra-column check
    sees. A record with no captured input (an output-only capture) is a Problem (line 0: records have no line;
    the reason names the record's position and event id) and skipped.
    """
    with _collector_paused():
        return _records_dataset(records, columns)


def _records_dataset(records: Sequence[Record], columns: Sequence[str]) -> tuple[Dataset, list[Problem]]:
    problems: list[Problem] = []
    rows: list[list[object]] = [record.features for record in records]
    if not all(rows):
        problems = [
            Problem(0, f"record {position} (event {record.event_id}): no captured input")
            for position, record in enumerate(records, start=1)
            if not record.features
        ]
        rows = [row for row in rows if row]
    lengths = set(map(len, rows))
    width = max(lengths, default=0)
    names = list(columns[:width])
    used = set(columns)
    for position in range(len(names), width):
        name = f"_c{position}"
        while name in used:
            name = "_" + name
        used.add(name)
        names.append(name)
    if len(lengths) > 1:
        rows = [row if len(row) == width else [*row, *([None] * (width - len(row)))] for row in rows]
    values = list(zip(*rows, strict=True)) if rows else [() for _ in names]
    return Dataset(names, {name: _column(column) for name, column in zip(names, values, strict=True)}), problems


# -- columns ----------------------------------------------------------------------------------------------------------


def _column(values: Sequence[object]) -> np.ndarray:
    """float64 (NaN for a missing value) when every present value parses as a float; else `str | None` objects."""
    kinds = set(map(type, values))
    if bool not in kinds:  # JSON's true/false are text, not 1/0
        try:
            return np.array(values, dtype=np.float64)  # every value a number, a numeric string or None: fast
        except (ValueError, TypeError):
            pass
        numbers = np.empty(len(values), dtype=np.float64)
        for index, value in enumerate(values):
            if value is None or value == "":
                numbers[index] = np.nan
            elif isinstance(value, str):
                try:
                    numbers[index] = float(value)
                except ValueError:
                    break
            elif isinstance(value, int | float):
                numbers[index] = value
            else:
                break
        else:
            return numbers
    return _text_column(values)


def _text_column(values: Sequence[object]) -> np.ndarray:
    column = np.empty(len(values), dtype=object)
    column[:] = [_text(value) for value in values]
    return column


def _text(value: object) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return value
    if value is True or value is False:
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list | dict):
        return json.dumps(value, separators=(",", ":"), default=str)
    return str(value)
