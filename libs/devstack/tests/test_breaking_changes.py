"""What the contract check calls breaking, and what it lets through."""

from __future__ import annotations

import copy
import json
from typing import Any

from devstack.contracts.breaking_changes import graphql_breaking_changes, openapi_breaking_changes

BASE: dict[str, Any] = {
    "openapi": "3.1.0",
    "paths": {
        "/coupons/{code}/redeem": {
            "post": {
                "operationId": "redeemCoupon",
                "parameters": [{"name": "code", "in": "path", "required": True}],
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": {"$ref": "#/c/RedeemIn"}}},
                },
                "responses": {
                    "200": {"content": {"application/json": {"schema": {"$ref": "#/c/Out"}}}}
                },
            }
        },
        "/wallet": {"get": {"operationId": "listWallet", "responses": {"200": {}}}},
    },
    "components": {
        "schemas": {
            "RedeemIn": {
                "type": "object",
                "required": ["outlet_id"],
                "properties": {
                    "outlet_id": {"type": "string"},
                    "order_amount": {"anyOf": [{"type": "integer"}, {"type": "null"}]},
                },
            },
            "Out": {
                "type": "object",
                "required": ["discount_amount", "coupon"],
                "properties": {
                    "discount_amount": {"anyOf": [{"type": "integer"}, {"type": "null"}]},
                    "coupon": {"$ref": "#/c/Coupon"},
                },
            },
            "Coupon": {
                "type": "object",
                "required": ["code", "status"],
                "properties": {"code": {"type": "string"}, "status": {"type": "string"}},
            },
        }
    },
}


def changed(edit: Any) -> list[str]:
    after = copy.deepcopy(BASE)
    edit(after)
    return openapi_breaking_changes(json.dumps(BASE), json.dumps(after))


def schemas(doc: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = doc["components"]["schemas"]
    return result


def test_same_document_has_no_breaking_change() -> None:
    assert changed(lambda doc: None) == []


def test_additions_are_not_breaking() -> None:
    def add(doc: dict[str, Any]) -> None:
        doc["paths"]["/transfers"] = {"get": {"operationId": "listTransfers"}}
        schemas(doc)["Coupon"]["properties"]["expires_at"] = {"type": "string"}
        schemas(doc)["RedeemIn"]["properties"]["note"] = {"type": "string"}
        schemas(doc)["RedeemIn"]["properties"]["outlet_id"] = {"type": ["string", "integer"]}

    assert changed(add) == []


def test_removed_path_and_operation() -> None:
    assert changed(lambda doc: doc["paths"].pop("/wallet")) == ["/wallet: path removed"]
    assert changed(lambda doc: doc["paths"]["/wallet"].pop("get")) == [
        "GET /wallet: operation removed"
    ]


def test_renamed_operation_id_breaks_generated_clients() -> None:
    def rename(doc: dict[str, Any]) -> None:
        doc["paths"]["/wallet"]["get"]["operationId"] = "getWallet"

    assert changed(rename) == ["GET /wallet: operationId listWallet -> getWallet"]


def test_removed_answer_field_even_nested() -> None:
    found = changed(lambda doc: schemas(doc)["Coupon"]["properties"].pop("status"))
    assert found == ["POST /coupons/{code}/redeem 200.coupon.status: removed"]


def test_new_required_request_field() -> None:
    def require(doc: dict[str, Any]) -> None:
        schemas(doc)["RedeemIn"]["required"].append("order_amount")

    assert changed(require) == ["POST /coupons/{code}/redeem body.order_amount: newly required"]


def test_changed_types_in_both_directions() -> None:
    def retype(doc: dict[str, Any]) -> None:
        schemas(doc)["Out"]["properties"]["discount_amount"] = {"type": "string"}
        schemas(doc)["RedeemIn"]["properties"]["outlet_id"] = {"type": "integer"}

    assert sorted(changed(retype)) == [
        "POST /coupons/{code}/redeem 200.discount_amount: type ['integer', 'null'] -> ['string']",
        "POST /coupons/{code}/redeem body.outlet_id: type ['string'] -> ['integer']",
    ]


def test_answer_field_that_may_now_be_missing_or_null() -> None:
    def loosen(doc: dict[str, Any]) -> None:
        schemas(doc)["Coupon"]["required"] = ["status"]
        schemas(doc)["Coupon"]["properties"]["status"] = {"type": ["string", "null"]}

    assert sorted(changed(loosen)) == [
        "POST /coupons/{code}/redeem 200.coupon.code: no longer always present",
        "POST /coupons/{code}/redeem 200.coupon.status: type ['string'] -> ['null', 'string']",
    ]


def test_graphql_removed_field_and_new_required_argument() -> None:
    before = "type Query { coupon(code: String!): Coupon }\ntype Coupon { code: String! id: ID! }"
    after = "type Query { coupon(code: String!, at: Int!): Coupon }\ntype Coupon { id: ID! }"
    found = graphql_breaking_changes(before, after)
    assert any("Coupon.code was removed" in change for change in found)
    assert any("REQUIRED_ARG_ADDED" in change for change in found)
    assert graphql_breaking_changes(before, before) == []
