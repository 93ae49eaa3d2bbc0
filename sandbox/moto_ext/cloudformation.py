"""CloudFormation: resource names the same in every local cloud, and JSON templates read as JSON."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sandbox.moto_ext import core


def install() -> None:
    _install_stable_names()
    _install_json_templates()


def _install_stable_names() -> None:
    """CloudFormation names a resource with a random suffix; here the suffix comes from the stack and the logical id,
    so that every local cloud gets the same names, hence the same state machine definitions, whose parse is kept."""
    from moto.cloudformation import parsing

    def generate_resource_name(resource_type: str, stack_name: str, logical_id: str) -> str:
        digest = hashlib.sha256(f"{stack_name}/{logical_id}".encode()).hexdigest()[:12].upper()
        saved = vars(parsing)["random_suffix"]
        setattr(parsing, "random_suffix", lambda: digest)  # noqa: B010 - a name moto does not export
        try:
            return str(original(resource_type, stack_name, logical_id))
        finally:
            setattr(parsing, "random_suffix", saved)  # noqa: B010

    original = core.replace(parsing, "generate_resource_name", generate_resource_name)


def _install_json_templates() -> None:
    """moto reads every template body with the pure-Python YAML parser first (seconds for the translated template);
    a JSON body, as the local cloud sends, is read as JSON."""
    from moto.cloudformation.models import Stack

    def parse_template(template: str) -> dict[str, Any]:
        if template.lstrip().startswith("{"):
            try:
                document = json.loads(template)
            except ValueError:
                pass
            else:
                if isinstance(document, dict):
                    return document
        result: dict[str, Any] = original(template)
        return result

    original = core.replace(Stack, "parse_template", staticmethod(parse_template))
