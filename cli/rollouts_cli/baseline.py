"""`rollouts baseline`: Model Monitor and Clarify baselines computed on this machine from a training dataset, and a
summary of existing ones.

    rollouts baseline data-quality train.csv --exclude label
    rollouts baseline model-quality train.csv --problem-type BinaryClassification --label label --prediction score
    rollouts baseline bias train.csv --label label --prediction predicted --facet gender --facet-value F
    rollouts baseline explainability train.csv --exclude label --model model.py:predict --num-samples 100 \\
        --max-model-calls 20000
    rollouts baseline show baseline/

Each command writes its files, in the formats Model Monitor and Clarify write and read (statistics.json and
constraints.json; analysis.json and analysis_config.json), into --out (default ./baseline). The CLI has no S3
helper, so --s3-uri only prints the `aws s3 cp` line that uploads them. The numbers come from `rollouts_monitor`
(layers/monitor), imported when a command runs, so the other commands of the CLI do not need numpy.

A number that JSON cannot write (NaN, +-infinity) is written as the string "NaN", "Infinity" or "-Infinity", as
Model Monitor writes an undefined standard deviation.

Exit codes: 0 written (rows that could not be used are reported on stderr as a count with their first line numbers,
and skipped); 2 an input that cannot be used (a file that cannot be read, an unknown column, a file of another
format for `show`), with a message naming the file, column or line.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import math
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from rollouts_monitor.records import Dataset, Problem

EXIT_OK, EXIT_USAGE, EXIT_WAITING = 0, 2, 5  # as rollouts_cli.cli
FIRST_PROBLEMS = 5  # line numbers shown of the rows that could not be used
TOP_ATTRIBUTIONS = 10
ENDPOINT_PAYLOAD = 5_000_000  # bytes of CSV in one InvokeEndpoint request, under its 6 MB limit
PROBLEM_TYPES = ("Regression", "BinaryClassification", "MulticlassClassification")
AGG_METHODS = ("mean_abs", "median", "mean_sq")


class BaselineError(Exception):
    """An input that cannot be used; the message names the file, the column or the line (exit 2)."""


# -- the command line -------------------------------------------------------------------------------------------------


def add_parser(commands: Any) -> None:
    """`rollouts baseline data-quality|model-quality|bias|explainability|show`."""
    baseline = commands.add_parser(
        "baseline",
        help="compute Model Monitor / Clarify baselines from a dataset on this machine, or show existing ones",
        description=__doc__.split("\n\n", 1)[0] if __doc__ else None,
    )
    sub = baseline.add_subparsers(dest="baseline_command", required=True, metavar="COMMAND")

    quality = sub.add_parser("data-quality", help="statistics.json + constraints.json (Model Monitor data quality)")
    _dataset_arguments(quality, exclude=True)
    _output_arguments(quality)
    quality.set_defaults(baseline_run=cmd_data_quality)

    model = sub.add_parser("model-quality", help="statistics.json + constraints.json (Model Monitor model quality)")
    _dataset_arguments(model)
    model.add_argument("--problem-type", required=True, choices=PROBLEM_TYPES)
    model.add_argument("--label", required=True, metavar="COL", help="the column of observed labels (ground truth)")
    model.add_argument("--prediction", required=True, metavar="COL", help="the column of the model's predictions")
    model.add_argument("--probability", metavar="COL", help="BinaryClassification: the positive class's score")
    model.add_argument(
        "--threshold", type=float, default=0.5, help="a probability at or above it predicts positive (default 0.5)"
    )
    _output_arguments(model)
    model.set_defaults(baseline_run=cmd_model_quality)

    bias = sub.add_parser("bias", help="analysis.json + analysis_config.json (Clarify post-training bias)")
    _dataset_arguments(bias, exclude=True)
    bias.add_argument("--label", required=True, metavar="COL", help="the column of observed labels")
    bias.add_argument("--prediction", required=True, metavar="COL", help="the column of predicted labels")
    bias.add_argument("--facet", required=True, metavar="COL", help="the sensitive column")
    bias.add_argument(
        "--facet-value",
        action="extend",
        nargs="+",
        metavar="V",
        help="the facet's sensitive value(s), or one threshold on a continuous column (default: each value)",
    )
    bias.add_argument(
        "--label-value",
        action="extend",
        nargs="+",
        metavar="V",
        help="the positive label value(s), or one threshold on a continuous label (default: 1 for 0/1 labels)",
    )
    _output_arguments(bias)
    bias.set_defaults(baseline_run=cmd_bias)

    explain = sub.add_parser("explainability", help="analysis.json + analysis_config.json (Clarify SHAP)")
    _dataset_arguments(explain, exclude=True)
    model_source = explain.add_mutually_exclusive_group(required=True)
    model_source.add_argument(
        "--model",
        metavar="MODULE:FUNCTION",
        help="a local Python function (module or path/to/file.py) taking a 2-D array of rows, returning a score a row",
    )
    model_source.add_argument(
        "--endpoint", metavar="NAME", help="a SageMaker endpoint taking text/csv rows (InvokeEndpoint, AWS credentials)"
    )
    explain.add_argument(
        "--num-samples",
        type=int,
        required=True,
        metavar="N",
        help="Kernel SHAP coalitions (a model call scores about N x the background rows)",
    )
    explain.add_argument(
        "--max-model-calls",
        type=int,
        required=True,
        metavar="M",
        help="at most M calls of the model: one a row explained, so at most M rows (a seeded sample)",
    )
    explain.add_argument(
        "--background-rows",
        type=int,
        metavar="K",
        help="K dataset rows drawn as the SHAP baseline (default: one row, the mean of each column)",
    )
    explain.add_argument("--agg-method", choices=AGG_METHODS, default="mean_abs", help="global aggregation")
    explain.add_argument("--seed", type=int, default=0, help="the sampling seed (default 0)")
    _output_arguments(explain)
    explain.set_defaults(baseline_run=cmd_explainability)

    show = sub.add_parser("show", help="summarise existing Model Monitor / Clarify baseline files")
    show.add_argument("path", metavar="DIR_OR_FILE", help="a file, or a directory of *.json files")
    show.add_argument("-o", "--output", choices=["text", "json"], default="text")
    show.set_defaults(baseline_run=cmd_show)


def _dataset_arguments(parser: argparse.ArgumentParser, exclude: bool = False) -> None:
    parser.add_argument("dataset", metavar="DATASET", help="a CSV, JSON Lines or Parquet file")
    parser.add_argument("--format", choices=["csv", "jsonl", "json", "parquet"], help="default: from the suffix")
    parser.add_argument(
        "--header",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="CSV: the first row names the columns (default: guessed, a first row of distinct non-numbers)",
    )
    parser.add_argument("--columns", metavar="A,B,C", help="the columns' names (a CSV without header, JSON arrays)")
    if exclude:
        parser.add_argument(
            "--exclude", action="append", metavar="COL", help="leave this column out (repeat, or comma-join)"
        )


def _output_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", default="baseline", metavar="DIR", help="where to write the files (default baseline)")
    parser.add_argument("--s3-uri", metavar="S3_URI", help="print the `aws s3 cp` line that uploads them there")
    parser.add_argument("-o", "--output", choices=["text", "json"], default="text")


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Run a `rollouts baseline` command: its exit code; bad input is a message on `err` and exit 2."""
    try:
        code: int = args.baseline_run(args, out, err)
    except BaselineError as error:
        print(f"rollouts baseline {args.baseline_command}: {error}", file=err)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return EXIT_WAITING
    return code


# -- the commands -----------------------------------------------------------------------------------------------------


def cmd_data_quality(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    _check_s3_uri(args.s3_uri)
    dataset = _without(_read(args, err), _names(args.exclude), args.dataset)
    data_quality = _import("rollouts_monitor.data_quality")
    try:
        statistics, constraints = data_quality.suggest_baseline(dataset)
    except ValueError as error:  # the module's input errors
        raise BaselineError(f"{args.dataset}: {error}") from None
    return _write(args, out, {"statistics.json": statistics, "constraints.json": constraints})


def cmd_model_quality(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    _check_s3_uri(args.s3_uri)
    dataset = _read(args, err)
    named = {"--label": args.label, "--prediction": args.prediction}
    if args.probability:
        named["--probability"] = args.probability
    columns = _present_rows(dataset, named, args.dataset, err)
    model_quality = _import("rollouts_monitor.model_quality")
    try:
        statistics = model_quality.metrics(
            args.problem_type,
            columns[args.label],
            columns[args.prediction],
            columns.get(args.probability) if args.probability else None,
            probability_threshold=args.threshold,
        )
        constraints = model_quality.suggest_constraints(statistics, args.problem_type)
    except ValueError as error:  # InputError, LabelError, ConstraintsError
        raise BaselineError(f"{args.dataset}: {_columns_named(named)}: {error}") from None
    return _write(args, out, {"statistics.json": statistics, "constraints.json": constraints})


def cmd_bias(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    _check_s3_uri(args.s3_uri)
    dataset = _read(args, err)
    excluded = _names(args.exclude)  # left out of the configuration's headers
    _without(dataset, excluded, args.dataset)
    named = {"--label": args.label, "--prediction": args.prediction, "--facet": args.facet}
    for option, name in named.items():
        _column(dataset, name, option, args.dataset)
    label_values = _configured_values(args.label_value) or _default_label_values(dataset, args.label, args.dataset)
    facet_values = _configured_values(args.facet_value)
    bias = _import("rollouts_monitor.bias")
    try:
        analysis = bias.post_training_bias(
            dataset.data[args.label],
            dataset.data[args.prediction],
            dataset.data[args.facet],
            label_values_or_threshold=label_values,
            facet_values_or_threshold=facet_values,
            facet_name=args.facet,
            label_name=args.label,
        )
    except ValueError as error:  # InputError, EmptyWindowError
        raise BaselineError(f"{args.dataset}: {_columns_named(named)}: {error}") from None
    left_out = (analysis.get("rollouts_monitor") or {}).get("rows_left_out") or {}
    if left_out:
        counts = ", ".join(f"{count} {what.replace('_', ' ')}" for what, count in left_out.items())
        print(f"rollouts baseline bias: {args.dataset}: rows left out: {counts}", file=err)
    facet: dict[str, Any] = {"name_or_index": args.facet}
    if facet_values is not None:
        facet["value_or_threshold"] = facet_values
    config = {
        "version": "1.0",
        "headers": [name for name in dataset.columns if name != args.prediction and name not in excluded],
        "label": args.label,
        "label_values_or_threshold": label_values,
        "facet": [facet],
        "methods": {"post_training_bias": {"methods": "all"}},
    }
    return _write(args, out, {"analysis.json": analysis, "analysis_config.json": config})


def cmd_explainability(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    _check_s3_uri(args.s3_uri)
    for option in ("num_samples", "max_model_calls"):
        if getattr(args, option) < 1:
            raise BaselineError(f"--{option.replace('_', '-')} must be at least 1")
    if args.background_rows is not None and args.background_rows < 1:
        raise BaselineError("--background-rows must be at least 1")
    numpy = _import("numpy")
    dataset = _without(_read(args, err), _names(args.exclude), args.dataset)
    text = [name for name in dataset.columns if dataset.data[name].dtype != numpy.float64]
    if text:
        raise BaselineError(
            f"{args.dataset}: Kernel SHAP needs numeric features, and column(s) {', '.join(text)} are not numbers: "
            "--exclude them (the label too), or encode them"
        )
    rows = numpy.column_stack([dataset.data[name] for name in dataset.columns]) if dataset.columns else None
    if rows is None:
        raise BaselineError(f"{args.dataset}: no feature column is left")
    complete = ~numpy.isnan(rows).any(axis=1)
    if not complete.all():
        print(f"rollouts baseline explainability: {args.dataset}: {int((~complete).sum())} rows with a missing "
              "value left out", file=err)  # fmt: skip
        rows = rows[complete]
    if len(rows) == 0:
        raise BaselineError(f"{args.dataset}: no row without a missing value")
    if args.background_rows is None:
        background = rows.mean(axis=0, keepdims=True)
    else:
        if args.background_rows > len(rows):
            raise BaselineError(f"--background-rows {args.background_rows}: the dataset has {len(rows)} usable rows")
        chosen = numpy.random.default_rng(args.seed).choice(len(rows), size=args.background_rows, replace=False)
        background = rows[numpy.sort(chosen)]
    predict = _model(args.model) if args.model else _endpoint(args.endpoint)
    source = f"--model {args.model}" if args.model else f"--endpoint {args.endpoint}"
    attribution = _import("rollouts_monitor.attribution")
    try:
        analysis = attribution.explain(
            _checked(predict, source),
            rows,
            background,
            list(dataset.columns),
            num_samples=args.num_samples,
            max_model_calls=args.max_model_calls,
            agg_method=args.agg_method,
            label="label0",
            seed=args.seed,
        )
    except ValueError as error:  # InputError, EmptyWindowError, ModelOutputError
        raise BaselineError(f"{args.dataset}, {source}: {error}") from None
    config = {
        "version": "1.0",
        "headers": list(dataset.columns),
        "methods": {
            "shap": {
                "baseline": background.tolist(),
                "num_samples": args.num_samples,
                "agg_method": args.agg_method,
                "use_logit": False,
                "save_local_shap_values": False,
            }
        },
    }
    return _write(args, out, {"analysis.json": analysis, "analysis_config.json": config})


def cmd_show(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    path = Path(args.path)
    if path.is_dir():
        files = sorted(path.glob("*.json"))
        if not files:
            raise BaselineError(f"{path}: no *.json file (statistics.json, constraints.json, analysis.json...)")
    elif path.exists():
        files = [path]
    else:
        raise BaselineError(f"{path}: no such file or directory")
    shown: list[dict[str, Any]] = []
    failed: list[str] = []
    for file in files:
        try:
            kind, lines = summarise(_load_json(file), file.name)
        except BaselineError as error:
            failed.append(f"{file}: {error}")
            continue
        shown.append({"file": str(file), "kind": kind, "summary": lines})
    if args.output == "json":
        print(json.dumps({"files": shown, "errors": failed}, indent=2), file=out)
    else:
        for entry in shown:
            print(f"{entry['file']}: {entry['kind']}", file=out)
            for line in entry["summary"]:
                print(f"  {line}", file=out)
    for message in failed:
        print(f"rollouts baseline show: {message}", file=err)
    return EXIT_USAGE if failed else EXIT_OK


# -- reading the dataset ----------------------------------------------------------------------------------------------


def _import(module: str) -> Any:
    try:
        return importlib.import_module(module)
    except ImportError as error:
        raise BaselineError(
            f"cannot import {module} ({error}): `rollouts baseline` needs numpy and the monitor package "
            "(layers/monitor on PYTHONPATH, or installed)"
        ) from None


def _names(values: Iterable[str] | None) -> list[str]:
    """Names given as repeated and/or comma-joined options."""
    return [name.strip() for value in values or () for name in value.split(",") if name.strip()]


def _read(args: argparse.Namespace, err: TextIO) -> Dataset:
    records = _import("rollouts_monitor.records")
    columns = _names([args.columns]) if args.columns else None
    dataset: Dataset
    try:
        dataset, problems = records.read_dataset(args.dataset, format=args.format, header=args.header, columns=columns)
    except records.DatasetError as error:
        raise BaselineError(str(error)) from None
    except OSError as error:
        raise BaselineError(f"{args.dataset}: {error.strerror or error}") from None
    report_problems(args.dataset, problems, err, what="rows")
    if len(dataset) == 0:
        unusable = f" ({len(problems)} could not be used)" if problems else ""
        raise BaselineError(f"{args.dataset}: no rows{unusable}")
    return dataset


def report_problems(source: str, problems: Sequence[Problem], err: TextIO, what: str = "lines") -> None:
    """A count of the unusable lines, with the first few line numbers and reasons (on stderr)."""
    if not problems:
        return
    first = "; ".join(
        (f"line {p.line}: {p.reason}" if p.line else p.reason) for p in problems[:FIRST_PROBLEMS]
    )  # fmt: skip
    more = f"; and {len(problems) - FIRST_PROBLEMS} more" if len(problems) > FIRST_PROBLEMS else ""
    print(f"rollouts baseline: {source}: {len(problems)} {what} could not be used (skipped): {first}{more}", file=err)


def _column(dataset: Dataset, name: str, option: str, source: str) -> npt.NDArray[Any]:
    if name not in dataset.data:
        raise BaselineError(f"{source}: no column {name!r} ({option}); the columns are {', '.join(dataset.columns)}")
    return dataset.data[name]


def _without(dataset: Dataset, excluded: list[str], source: str) -> Dataset:
    if not excluded:
        return dataset
    for name in excluded:
        _column(dataset, name, "--exclude", source)
    kept = [name for name in dataset.columns if name not in excluded]
    dataset_type: type[Dataset] = type(dataset)
    return dataset_type(kept, {name: dataset.data[name] for name in kept})


def _missing(column: npt.NDArray[Any]) -> npt.NDArray[np.bool_]:
    numpy = _import("numpy")
    if column.dtype == numpy.float64:
        missing: npt.NDArray[np.bool_] = numpy.isnan(column)
        return missing
    return numpy.asarray([value is None for value in column.tolist()], dtype=bool)  # type: ignore[no-any-return]


def _present_rows(dataset: Dataset, named: Mapping[str, str], source: str, err: TextIO) -> dict[str, npt.NDArray[Any]]:
    """The named columns, without the rows where one of them is missing (reported on `err`)."""
    columns = {name: _column(dataset, name, option, source) for option, name in named.items()}
    numpy = _import("numpy")
    missing = numpy.zeros(len(dataset), dtype=bool)
    for column in columns.values():
        missing |= _missing(column)
    if missing.any():
        print(f"rollouts baseline: {source}: {int(missing.sum())} rows with a missing value in "
              f"{', '.join(columns)} left out", file=err)  # fmt: skip
        columns = {name: column[~missing] for name, column in columns.items()}
    return columns


def _columns_named(named: Mapping[str, str]) -> str:
    return ", ".join(f"{option} {name}" for option, name in named.items())


def _configured_values(values: list[str] | None) -> list[Any] | None:
    """Values as Clarify's configuration writes them: numbers when they read as numbers (1, not "1"), else text."""
    if not values:
        return None
    return [_number_or_text(value) for value in values]


def _number_or_text(text: str) -> Any:
    try:
        number = float(text)
    except ValueError:
        return text
    return int(number) if number.is_integer() and "." not in text and "e" not in text.lower() else number


def _default_label_values(dataset: Dataset, label: str, source: str) -> list[Any]:
    texts = {_plain_text(value) for value in dataset.data[label].tolist()} - {None}
    if texts <= {"0", "1"}:
        return [1]
    shown = ", ".join(sorted(str(text) for text in texts)[:5])
    raise BaselineError(
        f"{source}: name the positive label value(s) of column {label!r} with --label-value (its values: {shown}...)"
    )


def _plain_text(value: object) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


# -- models -----------------------------------------------------------------------------------------------------------


def _model(spec: str) -> Callable[[Any], Any]:
    """`module:function` or `path/to/file.py:function`: the function, imported from this machine."""
    module_name, _, function_name = spec.rpartition(":")
    if not module_name or not function_name:
        raise BaselineError(f"--model {spec}: expected MODULE:FUNCTION or path/to/file.py:FUNCTION")
    try:
        if module_name.endswith(".py") or "/" in module_name:
            file = Path(module_name)
            if not file.is_file():
                raise BaselineError(f"--model {spec}: no file {file}")
            loaded = importlib.util.spec_from_file_location(file.stem, file)
            if loaded is None or loaded.loader is None:
                raise BaselineError(f"--model {spec}: cannot load {file} as Python")
            module = importlib.util.module_from_spec(loaded)
            loaded.loader.exec_module(module)
        else:
            if "" not in sys.path and str(Path.cwd()) not in sys.path:
                sys.path.insert(0, str(Path.cwd()))  # a module of the current directory, as `python -m` finds it
            module = importlib.import_module(module_name)
    except BaselineError:
        raise
    except Exception as error:  # the user's module failed to import: name it, never a traceback
        raise BaselineError(
            f"--model {spec}: importing {module_name} failed: {type(error).__name__}: {error}"
        ) from None
    function = getattr(module, function_name, None)
    if not callable(function):
        raise BaselineError(f"--model {spec}: {module_name} has no function {function_name!r}")
    return function  # type: ignore[no-any-return]


def _checked(predict: Callable[[Any], Any], name: str) -> Callable[[Any], Any]:
    """`predict` answering a 1-D float array of one score a row, or a BaselineError naming the model."""
    numpy = _import("numpy")

    def scores(batch: Any) -> Any:
        try:
            answer = predict(batch)
        except BaselineError:
            raise
        except Exception as error:  # the user's model failed: name it, never a traceback
            raise BaselineError(f"{name} raised {type(error).__name__}: {error}") from None
        try:
            array = numpy.asarray(answer, dtype=numpy.float64)
        except (TypeError, ValueError):
            raise BaselineError(f"{name} returned {type(answer).__name__}, not numbers") from None
        if array.ndim == 2 and array.shape[1] == 1:
            array = array[:, 0]
        if array.shape != (len(batch),):
            raise BaselineError(
                f"{name} returned shape {array.shape} for {len(batch)} rows: one score a row is expected"
            )
        return array

    return scores


def _runtime_client() -> Any:
    """A sagemaker-runtime client from botocore's standard credential chain (as the CLI's `api_url_of_stack`)."""
    import botocore.session

    return botocore.session.get_session().create_client("sagemaker-runtime")


def _endpoint(name: str) -> Callable[[Any], Any]:
    """Scores from a SageMaker endpoint: rows sent as text/csv, one score read from each answered row. One model
    call is one InvokeEndpoint request, unless its rows exceed the request's payload limit (then several)."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        client = _runtime_client()
    except BotoCoreError as error:
        raise BaselineError(f"--endpoint {name}: {error}") from None

    def invoke(lines: list[str]) -> list[float]:
        try:
            answer = client.invoke_endpoint(
                EndpointName=name, ContentType="text/csv", Accept="text/csv", Body="\n".join(lines).encode("utf-8")
            )
            text = answer["Body"].read().decode("utf-8")
        except (BotoCoreError, ClientError) as error:
            raise BaselineError(f"--endpoint {name}: {error}") from None
        return _endpoint_scores(text, len(lines), name)

    def predict(batch: Any) -> list[float]:
        scores: list[float] = []
        lines: list[str] = []
        size = 0
        for row in batch:
            line = ",".join(repr(float(value)) for value in row)
            if lines and size + len(line) + 1 > ENDPOINT_PAYLOAD:
                scores.extend(invoke(lines))
                lines, size = [], 0
            lines.append(line)
            size += len(line) + 1
        if lines:
            scores.extend(invoke(lines))
        return scores

    return predict


def _endpoint_scores(text: str, rows: int, name: str) -> list[float]:
    """One score a row from an endpoint's answer: CSV lines (or one line of `rows` fields), or JSON."""
    stripped = text.strip()
    values: list[Any]
    if stripped[:1] in ("[", "{"):
        document = json.loads(stripped)
        if isinstance(document, dict):
            lists = [value for value in document.values() if isinstance(value, list)]
            document = lists[0] if len(lists) == 1 else document
        values = document if isinstance(document, list) else [document]
        values = [v[0] if isinstance(v, list) and v else (v.get("score") if isinstance(v, dict) else v) for v in values]
    else:
        lines = [line for line in stripped.splitlines() if line.strip()]
        values = lines[0].split(",") if len(lines) == 1 and rows > 1 else [line.split(",")[0] for line in lines]
    if len(values) != rows:
        raise BaselineError(f"--endpoint {name}: {rows} rows sent, {len(values)} scores answered")
    try:
        return [float(value) for value in values]
    except (TypeError, ValueError):
        raise BaselineError(f"--endpoint {name}: an answer that is not one number a row: {stripped[:80]!r}") from None


# -- writing ----------------------------------------------------------------------------------------------------------


def _check_s3_uri(uri: str | None) -> None:
    if uri is not None and not (uri.startswith("s3://") and len(uri) > len("s3://")):
        raise BaselineError(f"--s3-uri {uri}: not an s3://bucket/prefix URI")


def plain(value: Any) -> Any:
    """JSON-ready: numpy scalars and arrays as Python values; NaN and +-infinity as "NaN", "Infinity", "-Infinity"."""
    if isinstance(value, Mapping):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    if hasattr(value, "tolist") and not isinstance(value, str):  # numpy arrays and scalars
        return plain(value.tolist())
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    return value


def _write(args: argparse.Namespace, out: TextIO, documents: Mapping[str, Mapping[str, Any]]) -> int:
    directory = Path(args.out)
    try:
        directory.mkdir(parents=True, exist_ok=True)
        written = []
        for name, document in documents.items():
            path = directory / name
            path.write_text(json.dumps(plain(document), indent=2) + "\n", encoding="utf-8")
            written.append(path)
    except OSError as error:
        raise BaselineError(f"--out {directory}: {error.strerror or error}") from None
    upload = f"aws s3 cp --recursive {directory} {args.s3_uri.rstrip('/')}/" if args.s3_uri else None
    summaries = [summarise(plain(document), name) for name, document in documents.items()]
    if args.output == "json":
        answer = {"files": [str(path) for path in written], "upload": upload}
        print(json.dumps(answer, indent=2), file=out)
        return EXIT_OK
    for path, (kind, lines) in zip(written, summaries, strict=True):
        print(f"wrote {path}: {kind}", file=out)
        for line in lines:
            print(f"  {line}", file=out)
    if upload:
        print(f"to upload them (this command does not): {upload}", file=out)
    return EXIT_OK


# -- reading baselines (`show`) ---------------------------------------------------------------------------------------

_MODEL_STATISTICS = ("regression_metrics", "binary_classification_metrics", "multiclass_classification_metrics")
_MODEL_CONSTRAINTS = (
    "regression_constraints",
    "binary_classification_constraints",
    "multiclass_classification_constraints",
)
_NOT_SHOWN_METRICS = ("confusion_matrix", "receiver_operating_characteristic_curve", "precision_recall_curve")
_FORMATS = (
    "Model Monitor statistics.json / constraints.json / constraint_violations.json, or Clarify analysis.json / "
    "analysis_config.json"
)


def _load_json(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise BaselineError(error.strerror or str(error)) from None
    except UnicodeDecodeError:
        raise BaselineError(f"not UTF-8 text, so not one of {_FORMATS}") from None
    try:
        return json.loads(text)
    except ValueError as error:
        raise BaselineError(f"not JSON ({error}), so not one of {_FORMATS}") from None


def summarise(document: Any, name: str = "") -> tuple[str, list[str]]:
    """What a Model Monitor or Clarify file is, and its summary lines; BaselineError for another document."""
    if not isinstance(document, dict):
        raise BaselineError(f"a JSON {type(document).__name__}, not one of {_FORMATS}")
    kind, summary = _kind_of(document)
    return kind, summary(document)


def _kind_of(document: dict[str, Any]) -> tuple[str, Callable[[dict[str, Any]], list[str]]]:
    """The format of a document by its keys, as Model Monitor and Clarify write them."""
    methods = document.get("methods")
    features = document.get("features")
    features = features if isinstance(features, list) else None
    kinds: list[tuple[bool, str, Callable[[dict[str, Any]], list[str]]]] = [
        (
            any(key in document for key in _MODEL_STATISTICS),
            "Model Monitor model-quality statistics",
            _model_statistics,
        ),
        (
            any(key in document for key in _MODEL_CONSTRAINTS),
            "Model Monitor model-quality constraints",
            _model_constraints,
        ),
        (
            "post_training_bias_metrics" in document or "pre_training_bias_metrics" in document,
            "Clarify bias analysis",
            _bias_analysis,
        ),
        ("explanations" in document, "Clarify feature attributions", _explanations),
        (
            isinstance(methods, dict) and bool({"post_training_bias", "pre_training_bias", "shap"} & methods.keys()),
            "Clarify analysis configuration",
            _analysis_config,
        ),
        ("violations" in document, "Model Monitor constraint violations", _violations),
        (
            features is not None
            and (
                "dataset" in document
                or any(
                    isinstance(f, dict) and {"numerical_statistics", "string_statistics"} & f.keys() for f in features
                )
            ),
            "Model Monitor data-quality statistics",
            _data_statistics,
        ),
        (
            features is not None
            and (
                "monitoring_config" in document
                or any(
                    isinstance(f, dict) and {"completeness", "num_constraints", "string_constraints"} & f.keys()
                    for f in features
                )
            ),
            "Model Monitor data-quality constraints",
            _data_constraints,
        ),
    ]
    for matches, kind, summary in kinds:
        if matches:
            return kind, summary
    keys = ", ".join(sorted(document)[:6]) or "none"
    raise BaselineError(f"not one of {_FORMATS} (its keys: {keys})")


def _number(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    return f"{value:.6g}"


def _mapping(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise BaselineError(f"{where} is not an object")
    return value


def _list(value: Any, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise BaselineError(f"{where} is not a list")
    return value


def _named(entry: Any, where: str) -> tuple[str, dict[str, Any]]:
    feature = _mapping(entry, where)
    name = feature.get("name")
    if not isinstance(name, str) or not name:
        raise BaselineError(f"{where} has no name")
    return name, feature


def _data_statistics(document: dict[str, Any]) -> list[str]:
    features = _list(document.get("features"), "features")
    dataset = document.get("dataset")
    items = dataset.get("item_count") if isinstance(dataset, dict) else None
    lines = [f"{_number(items) if items is not None else '?'} rows, {len(features)} features"]
    for index, entry in enumerate(features):
        name, feature = _named(entry, f"features[{index}]")
        kind = feature.get("inferred_type", "?")
        if "numerical_statistics" in feature:
            stats = _mapping(feature["numerical_statistics"], f"features[{index}].numerical_statistics")
            common = _mapping(stats.get("common", {}), f"features[{index}].numerical_statistics.common")
            figures = ", ".join(
                f"{key} {_number(stats[key])}" for key in ("mean", "std_dev", "min", "max") if key in stats
            )
            lines.append(f"{name}: {kind}, {_presence(common)}; {figures}")
        elif "string_statistics" in feature:
            stats = _mapping(feature["string_statistics"], f"features[{index}].string_statistics")
            common = _mapping(stats.get("common", {}), f"features[{index}].string_statistics.common")
            buckets = ((stats.get("distribution") or {}).get("categorical") or {}).get("buckets") or []
            top = sorted(
                (b for b in buckets if isinstance(b, dict)), key=lambda b: -float(b.get("count") or 0)
            )[:3]  # fmt: skip
            shown = ", ".join(f"{b.get('value')} ({_number(b.get('count'))})" for b in top)
            distinct = _number(stats["distinct_count"]) if "distinct_count" in stats else "?"
            lines.append(
                f"{name}: {kind}, {_presence(common)}; {distinct} distinct" + (f", top {shown}" if shown else "")
            )
        else:
            lines.append(f"{name}: {kind}")
    return lines


def _presence(common: dict[str, Any]) -> str:
    return f"{_number(common.get('num_present', '?'))} present, {_number(common.get('num_missing', '?'))} missing"


def _data_constraints(document: dict[str, Any]) -> list[str]:
    features = _list(document.get("features"), "features")
    lines = [f"{len(features)} features"]
    for index, entry in enumerate(features):
        name, feature = _named(entry, f"features[{index}]")
        parts = [str(feature.get("inferred_type", "?"))]
        if "completeness" in feature:
            parts.append(f"completeness {_number(feature['completeness'])}")
        numeric = feature.get("num_constraints")
        if isinstance(numeric, dict) and numeric.get("is_non_negative"):
            parts.append("non-negative")
        strings = feature.get("string_constraints")
        if isinstance(strings, dict) and isinstance(strings.get("domains"), list):
            domain = [str(value) for value in strings["domains"]]
            parts.append(f"domain {', '.join(domain[:8])}" + (f" (+{len(domain) - 8})" if len(domain) > 8 else ""))
        lines.append(f"{name}: {', '.join(parts)}")
    config = document.get("monitoring_config")
    if isinstance(config, dict):
        drift = config.get("distribution_constraints") or {}
        drift = drift if isinstance(drift, dict) else {}
        lines.append(
            f"monitoring: evaluate {config.get('evaluate_constraints', 'Enabled')}, "
            f"metrics {config.get('emit_metrics', 'Enabled')}, "
            f"data type threshold {_number(config.get('datatype_check_threshold', 0.1))}, "
            f"domain threshold {_number(config.get('domain_content_threshold', 0.1))}, "
            f"drift {drift.get('perform_comparison', 'Enabled')} {drift.get('comparison_method', 'Robust')} "
            f"> {_number(drift.get('comparison_threshold', 0.1))}"
            + (
                f", categorical {drift['categorical_drift_method']} "
                f"> {_number(drift.get('categorical_comparison_threshold', drift.get('comparison_threshold', 0.1)))}"
                if "categorical_drift_method" in drift
                else ""
            )
        )
    return lines


def _metric(entry: Any) -> str:
    if isinstance(entry, dict) and "value" in entry:
        deviation = entry.get("standard_deviation")
        spread = f" (sd {_number(deviation)})" if deviation not in (None, "NaN") else ""
        return f"{_number(entry['value'])}{spread}"
    return _number(entry)


def _model_statistics(document: dict[str, Any]) -> list[str]:
    dataset = document.get("dataset")
    items = dataset.get("item_count") if isinstance(dataset, dict) else None
    lines = [f"{_number(items) if items is not None else '?'} rows"]
    for section in [key for key in document if key in _MODEL_STATISTICS]:
        metrics = _mapping(document[section], section)
        lines.append(section)
        for name, entry in metrics.items():
            if name not in _NOT_SHOWN_METRICS and not name.endswith("_best_constant_classifier"):
                lines.append(f"  {name} {_metric(entry)}")
        if "confusion_matrix" in metrics:
            lines.append(f"  confusion_matrix {json.dumps(metrics['confusion_matrix'], separators=(',', ':'))}")
    return lines


def _model_constraints(document: dict[str, Any]) -> list[str]:
    lines = []
    for section in [key for key in document if key in _MODEL_CONSTRAINTS]:
        lines.append(section)
        for name, raw in _mapping(document[section], section).items():
            rule = _mapping(raw, f"{section}.{name}")
            if "threshold" not in rule or "comparison_operator" not in rule:
                raise BaselineError(f"{section}.{name} has no threshold or comparison_operator")
            lines.append(f"  {name} {rule['comparison_operator']} {_number(rule['threshold'])}")
    return lines


def _bias_analysis(document: dict[str, Any]) -> list[str]:
    lines = []
    for stage in [key for key in document if key in ("pre_training_bias_metrics", "post_training_bias_metrics")]:
        section = _mapping(document[stage], stage)
        lines.append(f"{stage}: label {section.get('label')} = {section.get('label_value_or_threshold')}")
        for facet, entries in _mapping(section.get("facets"), f"{stage}.facets").items():
            for index, raw in enumerate(_list(entries, f"{stage}.facets.{facet}")):
                entry = _mapping(raw, f"{stage}.facets.{facet}[{index}]")
                metrics = _list(entry.get("metrics"), f"{stage}.facets.{facet}[{index}].metrics")
                shown = ", ".join(
                    f"{m.get('name')} {_number(m.get('value')) if m.get('value') is not None else 'undefined'}"
                    for m in metrics
                    if isinstance(m, dict)
                )
                lines.append(f"  facet {facet} = {entry.get('value_or_threshold')}: {shown}")
    return lines


def _explanations(document: dict[str, Any]) -> list[str]:
    lines = []
    for method, labels in _mapping(document.get("explanations"), "explanations").items():
        for label, raw in _mapping(labels, f"explanations.{method}").items():
            entry = _mapping(raw, f"explanations.{method}.{label}")
            values = _mapping(entry.get("global_shap_values"), f"explanations.{method}.{label}.global_shap_values")
            ranked = sorted(values.items(), key=lambda item: -abs(float(item[1])) if _finite(item[1]) else 0.0)
            top = ", ".join(f"{name} {_number(value)}" for name, value in ranked[:TOP_ATTRIBUTIONS])
            more = f" (+{len(ranked) - TOP_ATTRIBUTIONS} more)" if len(ranked) > TOP_ATTRIBUTIONS else ""
            expected = entry.get("expected_value")
            lines.append(f"{method} {label}: expected value {_number(expected)}; top {top}{more}")
    return lines


def _finite(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _analysis_config(document: dict[str, Any]) -> list[str]:
    methods = _mapping(document.get("methods"), "methods")
    headers = document.get("headers")
    lines = [f"headers: {', '.join(map(str, headers))}" if isinstance(headers, list) else "headers: (none)"]
    if "post_training_bias" in methods or "pre_training_bias" in methods:
        lines.append(f"label {document.get('label')} = {json.dumps(document.get('label_values_or_threshold'))}")
        for index, raw in enumerate(_list(document.get("facet"), "facet")):
            facet = _mapping(raw, f"facet[{index}]")
            values = json.dumps(facet["value_or_threshold"]) if "value_or_threshold" in facet else "(each value)"
            lines.append(f"facet {facet.get('name_or_index')} = {values}")
    if "shap" in methods:
        shap = _mapping(methods["shap"], "methods.shap")
        baseline = shap.get("baseline")
        rows = f"{len(baseline)} rows" if isinstance(baseline, list) else str(baseline)
        lines.append(
            f"shap: baseline {rows}, num_samples {shap.get('num_samples')}, agg_method {shap.get('agg_method')}"
        )
    return lines


def _violations(document: dict[str, Any]) -> list[str]:
    violations = _list(document.get("violations"), "violations")
    lines = [f"{len(violations)} violations"]
    for index, raw in enumerate(violations):
        entry = _mapping(raw, f"violations[{index}]")
        subject = entry.get("feature_name") or entry.get("metric_name") or entry.get("label") or "?"
        facet = f" {entry['facet']}={entry.get('facet_value')}" if "facet" in entry else ""
        lines.append(f"{subject}{facet}: {entry.get('constraint_check_type')}: {entry.get('description', '')}")
    return lines
