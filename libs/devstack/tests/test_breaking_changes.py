"""What the contract check calls breaking, and what it lets through: one edit of a committed
contract (contracts/openapi, contracts/graphql) per break class, each a line a person could
write, and the message the check must print for it."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from devstack.contracts.breaking_changes import Changes, graphql_changes, openapi_changes
from devstack.stack.services import REPO_ROOT

CONTRACTS = REPO_ROOT / "contracts"
JSON = "application/json"
Doc = dict[str, Any]


def contract(service: str) -> Doc:
    loaded: Doc = json.loads((CONTRACTS / "openapi" / f"{service}.json").read_text())
    return loaded


def _follow(doc: Doc, node: Doc) -> Doc:
    """The schema object `node` stands for, inside `doc` (so an edit of it edits `doc`):
    through its $ref, and into the one member of a `T | null` union."""
    while True:
        if "$ref" in node:
            node = doc["components"]["schemas"][node["$ref"].rsplit("/", 1)[-1]]
            continue
        members = [m for m in node.get("anyOf", []) if m.get("type") != "null"]
        if len(members) == 1 and len(node["anyOf"]) == 2:
            node = members[0]
            continue
        return node


def operation(doc: Doc, operation_id: str) -> Doc:
    for item in doc["paths"].values():
        for candidate in item.values():
            if isinstance(candidate, dict) and candidate.get("operationId") == operation_id:
                return candidate
    raise LookupError(operation_id)


def route(doc: Doc, operation_id: str) -> str:
    """`METHOD /path` of an operation, as the check names it."""
    for path, item in doc["paths"].items():
        for method, candidate in item.items():
            if isinstance(candidate, dict) and candidate.get("operationId") == operation_id:
                return f"{method.upper()} {path}"
    raise LookupError(operation_id)


def path_item(doc: Doc, operation_id: str) -> Doc:
    item: Doc = doc["paths"][route(doc, operation_id).split(" ", 1)[1]]
    return item


def body(doc: Doc, operation_id: str) -> Doc:
    return _follow(doc, operation(doc, operation_id)["requestBody"]["content"][JSON]["schema"])


def answer(doc: Doc, operation_id: str, status: str = "200") -> Doc:
    return _follow(
        doc, operation(doc, operation_id)["responses"][status]["content"][JSON]["schema"]
    )


def field(doc: Doc, schema: Doc, name: str) -> Doc:
    return _follow(doc, schema["properties"][name])


def parameter(doc: Doc, operation_id: str, name: str) -> Doc:
    (found,) = [p for p in operation(doc, operation_id)["parameters"] if p["name"] == name]
    return found  # type: ignore[no-any-return]


def parameter_schema(doc: Doc, operation_id: str, name: str) -> Doc:
    return _follow(doc, parameter(doc, operation_id, name)["schema"])


def renamed(mapping: Doc, old: str, new: str) -> None:
    mapping[new] = mapping.pop(old)


def changes_after(service: str, edit: Callable[[Doc], object]) -> tuple[Doc, Changes]:
    doc = contract(service)
    before = json.dumps(doc)
    edit(doc)
    return doc, openapi_changes(before, json.dumps(doc))


@dataclass(frozen=True)
class Break:
    """One break class: an edit of a real contract, and the message it must produce
    (`{route}` is the edited operation's `METHOD /path`)."""

    service: str
    operation_id: str
    edit: Callable[[Doc], object]
    message: str


BREAKS = {
    # The six edits of issue 21.
    "enum value removed": Break(
        "coupons",
        "createCampaign",
        lambda d: field(d, body(d, "createCampaign"), "discount_type")["enum"].remove(
            "fixed_amount"
        ),
        '{route} request body.discount_type: enum value "fixed_amount" no longer accepted',
    ),
    "enum value added to an answer": Break(
        "merchants",
        "getMerchant",
        lambda d: field(d, answer(d, "getMerchant"), "status")["enum"].append("closed"),
        '{route} 200 response application/json.status: enum value "closed" added',
    ),
    "query parameter enum narrowed": Break(
        "coupons",
        "listWallet",
        lambda d: parameter_schema(d, "listWallet", "status")["enum"].remove("history"),
        '{route} query parameter status: enum value "history" no longer accepted',
    ),
    "maxLength lowered": Break(
        "coupons",
        "claimCode",
        lambda d: field(d, body(d, "claimCode"), "code").update(maxLength=32),
        "{route} request body.code: maxLength 64 -> 32",
    ),
    "documented error response deleted": Break(
        "coupons",
        "getCoupon",
        lambda d: operation(d, "getCoupon")["responses"].pop("404"),
        "{route} 404 response: documented response removed",
    ),
    "required scope added": Break(
        "coupons",
        "redeemCoupon",
        lambda d: operation(d, "redeemCoupon")["security"][0]["OAuth2"].append("admin"),
        "{route} security: ",  # what the caller held before depends on the contract's scopes
    ),
    # Requests: what the client sends is accepted no longer.
    "request field removed": Break(
        "coupons",
        "redeemCoupon",
        lambda d: body(d, "redeemCoupon")["properties"].pop("order_reference"),
        "{route} request body.order_reference: field removed",
    ),
    "request field newly required": Break(
        "coupons",
        "redeemCoupon",
        lambda d: body(d, "redeemCoupon")["required"].append("order_reference"),
        "{route} request body.order_reference: newly required",
    ),
    "request field type changed": Break(
        "coupons",
        "redeemCoupon",
        lambda d: field(d, body(d, "redeemCoupon"), "outlet_id").update(type="integer"),
        "{route} request body.outlet_id: type string -> integer",
    ),
    "request field no longer nullable": Break(
        "coupons",
        "redeemCoupon",
        lambda d: body(d, "redeemCoupon")["properties"].update(order_amount={"type": "integer"}),
        "{route} request body.order_amount: null no longer accepted",
    ),
    "minimum raised": Break(
        "coupons",
        "createAllocation",
        lambda d: field(d, body(d, "createAllocation"), "quantity").update(minimum=10),
        "{route} request body.quantity: minimum 1.0 -> 10",
    ),
    "pattern added": Break(
        "coupons",
        "claimCode",
        lambda d: field(d, body(d, "claimCode"), "code").update(pattern="^[A-Z0-9]+$"),
        '{route} request body.code: pattern none -> "^[A-Z0-9]+$"',
    ),
    "request content type dropped": Break(
        "coupons",
        "redeemCoupon",
        lambda d: renamed(operation(d, "redeemCoupon")["requestBody"]["content"], JSON, "text/csv"),
        "{route} request body: application/json no longer accepted",
    ),
    # Parameters.
    "parameter newly required": Break(
        "coupons",
        "listWallet",
        lambda d: parameter(d, "listWallet", "limit").update(required=True),
        "{route} query parameter limit: newly required",
    ),
    "required parameter added": Break(
        "coupons",
        "listWallet",
        lambda d: operation(d, "listWallet")["parameters"].append(
            {"name": "at", "in": "query", "required": True, "schema": {"type": "string"}}
        ),
        "{route} query parameter at: added, required",
    ),
    "parameter maximum lowered": Break(
        "coupons",
        "listWallet",
        lambda d: parameter_schema(d, "listWallet", "limit").update(maximum=50),
        "{route} query parameter limit: maximum 100 -> 50",
    ),
    "parameter type changed": Break(
        "coupons",
        "listWallet",
        lambda d: parameter_schema(d, "listWallet", "limit").update(type="string"),
        "{route} query parameter limit: type integer -> string",
    ),
    "parameter serialization changed": Break(
        "coupons",
        "listWallet",
        lambda d: parameter(d, "listWallet", "status").update(style="pipeDelimited"),
        "{route} query parameter status: serialized style=form explode=true -> "
        "style=pipeDelimited explode=false",
    ),
    "query parameter removed": Break(
        "coupons",
        "listWallet",
        lambda d: operation(d, "listWallet")["parameters"].remove(
            parameter(d, "listWallet", "status")
        ),
        "{route} query parameter status: removed",
    ),
    # Responses: what the client reads is not what it was.
    "response field removed": Break(
        "coupons",
        "getCoupon",
        lambda d: answer(d, "getCoupon")["properties"].pop("code"),
        "{route} 200 response application/json.code: field removed",
    ),
    "response field no longer required": Break(
        "coupons",
        "getCoupon",
        lambda d: answer(d, "getCoupon")["required"].remove("code"),
        "{route} 200 response application/json.code: no longer always present",
    ),
    "response field now nullable": Break(
        "coupons",
        "getCoupon",
        lambda d: field(d, answer(d, "getCoupon"), "code").update(type=["string", "null"]),
        "{route} 200 response application/json.code: may now be null",
    ),
    "response field type changed": Break(
        "coupons",
        "getCoupon",
        lambda d: field(d, answer(d, "getCoupon"), "code").update(type="integer"),
        "{route} 200 response application/json.code: type string -> integer",
    ),
    "response enum value removed": Break(
        "merchants",
        "getMerchant",
        lambda d: field(d, answer(d, "getMerchant"), "status")["enum"].remove("suspended"),
        '{route} 200 response application/json.status: enum value "suspended" no longer answered',
    ),
    "response constraint loosened": Break(
        "coupons",
        "getCoupon",
        lambda d: field(d, answer(d, "getCoupon"), "id").pop("format"),
        '{route} 200 response application/json.id: format "uuid" -> none',
    ),
    "response content type changed": Break(
        "coupons",
        "getCoupon",
        lambda d: renamed(
            operation(d, "getCoupon")["responses"]["200"]["content"], JSON, "text/csv"
        ),
        "{route} 200 response: application/json no longer answered",
    ),
    "success status changed": Break(
        "coupons",
        "claimCoupon",
        lambda d: renamed(operation(d, "claimCoupon")["responses"], "201", "200"),
        "{route}: success status 201 -> 200",
    ),
    "response header removed": Break(
        "auth",
        "addMember",
        lambda d: operation(d, "addMember")["responses"]["201"]["headers"].clear(),
        "{route} 201 response header Idempotent-Replayed: no longer answered",
    ),
    # Operations and security.
    "operation removed": Break(
        "coupons",
        "createCampaign",
        lambda d: path_item(d, "createCampaign").pop("post"),
        "{route}: operation removed",
    ),
    "operationId changed": Break(
        "coupons",
        "listWallet",
        lambda d: operation(d, "listWallet").update(operationId="getWallet"),
        "{route}: operationId listWallet -> getWallet",
    ),
    "anonymous access withdrawn": Break(
        "coupons",
        "listCampaigns",
        lambda d: operation(d, "listCampaigns")["security"].remove({}),
        "{route} security: no credentials no longer enough; now needs OAuth2",
    ),
    "scope removed from the scheme": Break(
        "coupons",
        "getCoupon",
        lambda d: d["components"]["securitySchemes"]["OAuth2"]["flows"]["password"]["scopes"].pop(
            "admin"
        ),
        "security scheme OAuth2: password scope admin removed",
    ),
}


@pytest.mark.parametrize("name", BREAKS)
def test_each_break_class_is_reported_with_a_readable_message(name: str) -> None:
    case = BREAKS[name]
    _, changes = changes_after(case.service, case.edit)
    expected = case.message.format(route=route(contract(case.service), case.operation_id))
    assert any(line.startswith(expected) for line in changes.breaking), (expected, changes)


def test_the_required_scope_names_what_is_now_needed() -> None:
    _, changes = changes_after(
        "coupons", lambda d: operation(d, "redeemCoupon")["security"][0]["OAuth2"].append("admin")
    )
    (line,) = changes.breaking
    assert "no longer enough; now needs OAuth2 with scope admin" in line


HARMLESS = {
    "new optional response field": (
        "coupons",
        lambda d: answer(d, "getCoupon")["properties"].update(note={"type": "string"}),
    ),
    "new operation": (
        "coupons",
        lambda d: d["paths"].update({"/api/v1/notes": {"get": {"operationId": "listNotes"}}}),
    ),
    "new optional request field": (
        "coupons",
        lambda d: body(d, "redeemCoupon")["properties"].update(note={"type": "string"}),
    ),
    "new optional query parameter": (
        "coupons",
        lambda d: operation(d, "listWallet")["parameters"].append(
            {"name": "sort", "in": "query", "required": False, "schema": {"type": "string"}}
        ),
    ),
    "request maxLength raised": (
        "coupons",
        lambda d: field(d, body(d, "claimCode"), "code").update(maxLength=128),
    ),
    # A filter's values, which no answer carries (an enum shared with answers would break them).
    "request enum value added": (
        "coupons",
        lambda d: parameter_schema(d, "listWallet", "status")["enum"].append("expired"),
    ),
    "response field made required": (
        "coupons",
        lambda d: answer(d, "getCoupon")["required"].extend(answer(d, "getCoupon")["properties"]),
    ),
    "schema renamed": (
        "coupons",
        lambda d: d.update(json.loads(json.dumps(d).replace("CouponOut", "Coupon"))),
    ),
    "description reworded": (
        "coupons",
        lambda d: operation(d, "getCoupon").update(summary="One coupon, by its code"),
    ),
}


@pytest.mark.parametrize("name", HARMLESS)
def test_harmless_edits_pass(name: str) -> None:
    service, edit = HARMLESS[name]
    _, changes = changes_after(service, edit)
    assert changes.breaking == []


def test_an_unchanged_contract_has_no_change() -> None:
    for path in sorted((CONTRACTS / "openapi").glob("*.json")):
        assert openapi_changes(path.read_text(), path.read_text()) == Changes(), path.name


def test_new_problem_codes_and_error_statuses_are_dangerous_not_breaking() -> None:
    """A client reads a problem by its status first; its `code` set grows with the rules."""

    def new_code(d: Doc) -> None:
        code = operation(d, "getCoupon")["responses"]["404"]["content"]["application/problem+json"]
        code["schema"]["allOf"][1]["properties"]["code"]["enum"].append("coupon_archived")

    doc, changes = changes_after("coupons", new_code)
    where = route(doc, "getCoupon")
    assert changes.breaking == []
    assert changes.dangerous == [
        f'{where} 404 response application/problem+json.code: enum value "coupon_archived" '
        "added (a client switching on the values has no branch for it)"
    ]
    _, changes = changes_after(
        "coupons",
        lambda d: renamed(operation(d, "getCoupon")["responses"], "404", "410"),
    )
    assert changes.breaking == [f"{where} 404 response: documented response removed"]
    assert changes.dangerous == [f"{where} 410 response: newly documented"]


SDL = CONTRACTS / "graphql"


def graphql_after(service: str, old: str, new: str) -> Changes:
    before = (SDL / f"{service}.graphql").read_text()
    assert old in before, old
    return graphql_changes(before, before.replace(old, new, 1))


def test_graphql_breaking_changes_are_graphql_cores() -> None:
    changes = graphql_after("merchants", "  SUSPENDED\n", "")
    assert changes.breaking == [
        "VALUE_REMOVED_FROM_ENUM: Enum value MerchantStatus.SUSPENDED was removed."
    ]


def test_graphql_dangerous_changes_are_reported_beside_them() -> None:
    added = graphql_after("merchants", "  SUSPENDED\n", "  SUSPENDED\n  CLOSED\n")
    assert added.breaking == []
    assert added.dangerous == ["VALUE_ADDED_TO_ENUM: Enum value MerchantStatus.CLOSED was added."]
    default = graphql_after("merchants", "limit: Int! = 20", "limit: Int! = 50")
    assert default.breaking == []
    assert [line.split(":")[0] for line in default.dangerous] == ["ARG_DEFAULT_VALUE_CHANGE"]


def test_an_unchanged_schema_has_no_change() -> None:
    for path in sorted(SDL.glob("*.graphql")):
        assert graphql_changes(path.read_text(), path.read_text()) == Changes(), path.name


def test_a_changed_default_is_dangerous_not_breaking() -> None:
    doc, changes = changes_after(
        "coupons", lambda d: parameter_schema(d, "listWallet", "limit").update(default=50)
    )
    assert changes.breaking == []
    assert changes.dangerous == [
        f"{route(doc, 'listWallet')} query parameter limit: default 20 -> 50"
    ]


def test_a_union_member_renamed_is_the_same_member_and_a_new_one_is_not() -> None:
    def union(*members: str) -> str:
        answer = {"anyOf": [{"$ref": f"#/components/schemas/{m}"} for m in members]}
        shapes = {
            m: {"type": "object", "properties": {m.lower(): {"type": "string"}}} for m in members
        }
        return json.dumps(
            {
                "paths": {
                    "/x": {"get": {"responses": {"200": {"content": {JSON: {"schema": answer}}}}}}
                },
                "components": {"schemas": shapes},
            }
        )

    before = union("Coupon", "Listing")
    after = before.replace('"Listing"', '"Offer"').replace('Listing"', 'Offer"')
    assert "schemas/Offer" in after
    assert "Listing" not in after
    assert openapi_changes(before, after) == Changes()
    assert openapi_changes(before, union("Coupon", "Listing", "Transfer")).breaking == [
        "GET /x 200 response application/json: may now be Transfer"
    ]


def test_a_field_removed_from_an_open_request_body_is_only_dangerous() -> None:
    def reopen_and_drop(d: Doc) -> None:
        body(d, "redeemCoupon").pop("additionalProperties")  # unknown fields ignored, not refused
        body(d, "redeemCoupon")["properties"].pop("order_reference")

    doc, changes = changes_after("coupons", reopen_and_drop)
    assert changes.breaking == []
    assert changes.dangerous == [
        f"{route(doc, 'redeemCoupon')} request body.order_reference: field removed"
    ]
