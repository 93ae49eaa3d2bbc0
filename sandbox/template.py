"""Reading template.yaml as CloudFormation does: the short-form intrinsic tags become their long forms."""

from __future__ import annotations

import copy
import functools
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "template.yaml"


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]  # libyaml's when built
    pass


def _intrinsic(loader: _Loader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = suffix if suffix in ("Ref", "Condition") else f"Fn::{suffix}"
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if name == "Fn::GetAtt" and isinstance(value, str):
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {name: value}


_Loader.add_multi_constructor("!", _intrinsic)  # type: ignore[no-untyped-call]


def load(path: Path = TEMPLATE) -> dict[str, Any]:
    """The template as a new dict each time (callers change it); the file is read again only when it changed."""
    return copy.deepcopy(_parsed(path, path.stat().st_mtime_ns))


@functools.lru_cache(maxsize=4)
def _parsed(path: Path, mtime_ns: int) -> dict[str, Any]:
    with path.open() as handle:
        document = yaml.load(handle, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass
    assert isinstance(document, dict)
    return document
