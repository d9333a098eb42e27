"""The generated Python client types each schema as what it is: an object as a TypedDict,
an enum as the literal strings it may be."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from typing import Literal, get_type_hints

import pytest

from devstack.contracts.python_client import ModuleWriter

DOCUMENT = {
    "info": {"title": "svc-things"},
    "paths": {},
    "components": {
        "schemas": {
            "ThingOut": {
                "type": "object",
                "title": "ThingOut",
                "properties": {"kind": {"$ref": "#/components/schemas/ThingKind"}},
                "required": ["kind"],
            },
            "ThingKind": {"type": "string", "enum": ["small", "large"], "title": "ThingKind"},
        }
    },
}


def test_an_enum_is_an_alias_of_its_values_and_an_object_a_typed_dict(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = ModuleWriter(DOCUMENT, "things").module()
    assert 'ThingKind = Literal["small", "large"]' in source.replace("'", '"')
    (tmp_path / "generated_things.py").write_text(source)
    monkeypatch.syspath_prepend(str(tmp_path))
    module = importlib.import_module("generated_things")
    try:
        assert get_type_hints(module.ThingOut)["kind"] == Literal["small", "large"]
    finally:
        sys.modules.pop("generated_things", None)
