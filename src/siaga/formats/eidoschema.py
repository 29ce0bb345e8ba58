"""Checking an EIDO document against NENA's published schema (NENA911/EIDO-JSON, ``Schema/openapi.yaml``
and its ``NIEMComponents``), when a deployment has a copy of it (``SIAGA_EIDO_SCHEMA_DIR``).

NENA's schema is not shipped with Siaga112 (NENA publishes it for implementers; the tests read the copy
bundled in tests/data/eido). It is an OpenAPI 3.0 document: its schemas are checked with
openapi-schema-validator, their ``$ref`` to the NIEM files resolved from the same folder. One typo of the
published file is read as meant: ``minItems: 1,`` (a string in YAML) is the number 1.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any

ROOT = "EmergencyIncidentDataObjectType"
_COUNTS = ("minItems", "maxItems", "minLength", "maxLength", "minProperties", "maxProperties")


def _mended(node: Any) -> Any:
    if isinstance(node, dict):
        return {key: (int(re.sub(r"[^0-9]", "", value)) if key in _COUNTS and isinstance(value, str)
                      and re.sub(r"[^0-9]", "", value) else _mended(value)) for key, value in node.items()}
    if isinstance(node, list):
        return [_mended(item) for item in node]
    return node


@lru_cache(maxsize=4)
def validator(folder: str) -> Any:
    """The validator of whole EIDO documents for the schema files in ``folder`` (cached)."""
    import yaml  # type: ignore[import-untyped]
    from openapi_schema_validator import OAS30Validator
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT4

    base = Path(folder)
    if not (base / "openapi.yaml").is_file():
        raise FileNotFoundError(f"{base / 'openapi.yaml'} is not there (SIAGA_EIDO_SCHEMA_DIR)")

    def retrieve(uri: str) -> Resource[Any]:
        name = uri.rsplit("/", 1)[-1]
        path = base / name if name == "openapi.yaml" else base / "NIEMComponents" / name
        return Resource.from_contents(_mended(yaml.safe_load(path.read_text(encoding="utf-8"))),
                                      default_specification=DRAFT4)

    root = {"$ref": f"file:///eido/openapi.yaml#/components/schemas/{ROOT}"}
    return OAS30Validator(root, registry=Registry(retrieve=retrieve))  # type: ignore[call-arg]


def problems(document: Any, folder: str) -> list[tuple[str, str]]:
    """(path, message) for everything in ``document`` NENA's schema does not allow, deepest first."""
    found = []
    for error in sorted(validator(folder).iter_errors(document), key=lambda e: -len(e.absolute_path)):
        path = "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)
        found.append((path, error.message))
    return found
