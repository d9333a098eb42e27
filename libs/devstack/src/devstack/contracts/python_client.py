"""The Python client's modules, generated from the contract files (make contracts).

One module per service in clients/python/src/platform_client: a TypedDict for each object
schema (an alias of its type for any other, such as an enum) and a class with one async
method per operation, named after its operationId in snake_case, taking path parameters
positionally and the rest by keyword.
"""

from __future__ import annotations

import keyword
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from devstack.stack.services import REPO_ROOT

CLIENT_PACKAGE = REPO_ROOT / "clients" / "python" / "src" / "platform_client"
METHODS = ("get", "put", "post", "delete", "patch")
JSON = "application/json"
FORM = "application/x-www-form-urlencoded"


def class_name(schema_name: str) -> str:
    """`PageOut_CouponOut_` -> `PageOutCouponOut`, `Body_issueToken` -> `BodyIssueToken`."""
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[^0-9A-Za-z]+", schema_name))


def snake_case(name: str) -> str:
    snake = re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower().replace("-", "_")
    return f"{snake}_" if keyword.iskeyword(snake) else snake


def _ref_name(schema: dict[str, Any]) -> str:
    ref: str = schema["$ref"]
    return ref.rsplit("/", 1)[-1]


@dataclass
class ModuleWriter:
    document: dict[str, Any]
    service: str

    @property
    def schemas(self) -> dict[str, Any]:
        schemas: dict[str, Any] = self.document.get("components", {}).get("schemas", {})
        return schemas

    def type_of(self, schema: dict[str, Any]) -> str:
        if "$ref" in schema:
            return class_name(_ref_name(schema))
        if "const" in schema:
            return f"Literal[{schema['const']!r}]"
        if "enum" in schema:
            return "Literal[" + ", ".join(repr(v) for v in schema["enum"]) + "]"
        variants = schema.get("anyOf") or schema.get("oneOf")
        if variants:
            return " | ".join(dict.fromkeys(self.type_of(v) for v in variants))
        kind = schema.get("type")
        if isinstance(kind, list):
            return " | ".join(self.type_of({**schema, "type": k}) for k in kind)
        if kind == "array":
            return f"list[{self.type_of(schema.get('items', {}))}]"
        if kind == "object" and "properties" not in schema:
            values = schema.get("additionalProperties")
            inner = self.type_of(values) if isinstance(values, dict) else "Any"
            return f"dict[str, {inner}]"
        return {
            "string": "str",
            "integer": "int",
            "number": "float",
            "boolean": "bool",
            "null": "None",
        }.get(str(kind), "Any")

    def declaration(self, name: str) -> str:
        """A TypedDict for an object schema; for any other (an enum: a string of a few
        values) an alias of its type, so that a field of it takes the value, not a dict."""
        schema = self.schemas[name]
        if not schema.get("properties"):
            inline = {k: v for k, v in schema.items() if k not in ("title", "properties")}
            return f"{class_name(name)} = {self.type_of(inline)}"
        return self.typed_dict(name)

    def typed_dict(self, name: str) -> str:
        schema = self.schemas[name]
        required = set(schema.get("required", ()))
        fields = {}
        for prop, prop_schema in schema.get("properties", {}).items():
            annotation = self.type_of(prop_schema)
            fields[prop] = annotation if prop in required else f"NotRequired[{annotation}]"
        doc = (schema.get("description") or schema.get("title") or name).splitlines()[0]
        if all(p.isidentifier() and not keyword.iskeyword(p) for p in fields):
            lines = [f"    {prop}: {annotation}" for prop, annotation in fields.items()]
            return f'class {class_name(name)}(TypedDict):\n    """{doc}"""\n\n' + "\n".join(lines)
        # Keys that are no Python names need the functional form (quoted: it is evaluated).
        items = ", ".join(f'"{prop}": "{annotation}"' for prop, annotation in fields.items())
        return f'{class_name(name)} = TypedDict("{class_name(name)}", {{{items}}})  # noqa: UP013'

    def operation(self, path: str, method: str, operation: dict[str, Any]) -> str:
        name = snake_case(operation["operationId"])
        positional: list[str] = []
        keywords: list[str] = []
        query: list[tuple[str, str]] = []
        headers: list[tuple[str, str]] = []
        for parameter in operation.get("parameters", []):
            arg = snake_case(parameter["name"])
            annotation = self.type_of(parameter.get("schema", {}))
            if parameter["in"] == "path":
                positional.append(f"{arg}: str")
            elif parameter.get("required"):
                keywords.append(f"{arg}: {annotation}")
            else:
                optional = annotation if "None" in annotation else f"{annotation} | None"
                keywords.append(f"{arg}: {optional} = None")
            if parameter["in"] == "query":
                query.append((parameter["name"], arg))
            elif parameter["in"] == "header":
                headers.append((parameter["name"], arg))
        body_kind, body_arg = self._body(operation, positional)
        answer = self._answer(operation)
        url = re.sub(r"\{(\w+)\}", lambda m: f"{{_path({snake_case(m[1])})}}", path)
        url = f'f"{url}"' if url != path else f'"{url}"'
        arguments = ["self", *positional, *(["*"] if keywords else []), *keywords]
        call = [f'"{method.upper()}"', url]
        if body_kind:
            call.append(f"{body_kind}={body_arg}")
        if query:
            call.append("params={" + ", ".join(f'"{q}": {a}' for q, a in query) + "}")
        if headers:
            call.append("headers={" + ", ".join(f'"{h}": {a}' for h, a in headers) + "}")
        summary = operation.get("summary", operation["operationId"])
        returned = answer
        if returned == "None":
            result = f"        await self._call({', '.join(call)})"
        else:
            result = f'        return cast("{returned}", await self._call({", ".join(call)}))'
        return (
            f"    async def {name}({', '.join(arguments)}) -> {returned}:\n"
            f'        """{summary}"""\n'
            f"{result}\n"
        )

    def _body(self, operation: dict[str, Any], positional: list[str]) -> tuple[str, str]:
        content = operation.get("requestBody", {}).get("content", {})
        for media, kind in ((JSON, "json"), (FORM, "data")):
            if media in content:
                annotation = self.type_of(content[media].get("schema", {}))
                positional.append(f"body: {annotation}")
                return kind, "body"
        return "", ""

    def _answer(self, operation: dict[str, Any]) -> str:
        for status, response in sorted(operation.get("responses", {}).items()):
            if status.startswith("2"):
                schema = response.get("content", {}).get(JSON, {}).get("schema")
                return "None" if schema is None else self.type_of(schema) if schema else "Any"
        return "None"

    def module(self) -> str:
        methods = [
            self.operation(path, method, item[method])
            for path, item in self.document.get("paths", {}).items()
            for method in METHODS
            if method in item
        ]
        # Classes first: an alias is evaluated at import, a class's annotations are not.
        schemas = self.schemas
        names = sorted(schemas, key=lambda name: (not schemas[name].get("properties"), name))
        types = [self.declaration(name) for name in names]
        title = self.document.get("info", {}).get("title", self.service)
        api = f"{self.service.capitalize()}Api"
        code = "\n".join([*types, "", f"class {api}(Transport):", "\n".join(methods)])
        typing = [n for n in ("Any", "Literal", "NotRequired") if re.search(rf"\b{n}\[?", code)]
        return "\n".join(
            [
                f'"""{title}: generated from contracts/openapi/{self.service}.json by '
                'make contracts; do not edit."""',
                "",
                "from __future__ import annotations",
                "",
                f"from typing import {', '.join([*typing, 'TypedDict', 'cast'])}",
                "",
                "from platform_client.transport import Transport, _path",
                "",
                *types,
                "",
                f"class {api}(Transport):",
                f'    """{title}, one method per operation of its OpenAPI document."""',
                "",
                "\n".join(methods),
            ]
        )


def formatted(source: str) -> str:
    """As `make format` would leave it (ruff, next to this interpreter)."""
    ruff = Path(sys.executable).with_name("ruff")
    return subprocess.run(  # noqa: S603 (the virtualenv's ruff, fixed arguments)
        [str(ruff), "format", "--stdin-filename", "client.py", "-"],
        input=source,
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO_ROOT,
    ).stdout


def client_files(contracts: dict[str, dict[str, Any]]) -> dict[Path, str]:
    """`contracts`: service name -> its OpenAPI document."""
    return {
        CLIENT_PACKAGE / f"{service}.py": formatted(ModuleWriter(document, service).module())
        for service, document in contracts.items()
    }
