"""The completed OpenAPI document: security, problem answers, Idempotency-Key, operationIds."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

import pytest
from fastapi import APIRouter, Depends, FastAPI
from pydantic import BaseModel, ConfigDict, ValidationError

from core.auth.dependencies import (
    AdminPrincipal,
    CurrentPrincipal,
    OptionalPrincipal,
    RequireAnyScope,
)
from core.errors import Conflict, NotFound
from core.pagination import PageOut
from core.web.openapi import camel_case_operation_id, install_openapi, problems
from core.web.pagination import PageDep
from core.web.patch_fields import omittable
from core.web.routes import service_router


class GadgetGone(NotFound):
    code = "gadget_gone"
    title = "No such gadget"


class GadgetBusy(Conflict):
    code = "gadget_busy"
    title = "The gadget is busy"


class GadgetIn(BaseModel):
    name: str


class GadgetOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"name": "sprocket"}]})

    name: str


class GadgetOutPage(PageOut[GadgetOut]):
    """A page of gadgets."""


class GadgetColour(StrEnum):
    RED = "red"
    BLUE = "blue"


class GadgetPatch(BaseModel):
    name: str = omittable(min_length=1)
    colour: GadgetColour | None = None


def document() -> dict[str, Any]:
    router = service_router(prefix="/api/v1/gadgets")

    @router.post("", response_model=GadgetOut, status_code=201, responses=problems(GadgetBusy))
    async def create_gadget(body: GadgetIn, principal: CurrentPrincipal) -> GadgetOut:
        return GadgetOut(name=body.name)

    @router.get("", response_model=GadgetOutPage, operation_id="browseGadgets")
    async def list_gadgets(principal: OptionalPrincipal, page: PageDep) -> GadgetOutPage:
        return GadgetOutPage(items=[], next_cursor=None)

    @router.delete("/{name}", status_code=204, responses=problems(GadgetGone, GadgetBusy))
    async def scrap_gadget(name: str, principal: AdminPrincipal) -> None:
        return None

    @router.post(
        "/{name}/polish",
        response_model=GadgetOut,
        dependencies=[Depends(RequireAnyScope("gadgets:write", "admin"))],
    )
    async def polish_gadget(name: str) -> GadgetOut:
        return GadgetOut(name=name)

    @router.patch("/{name}", response_model=GadgetOut)
    async def tune_gadget(name: str, body: GadgetPatch, principal: CurrentPrincipal) -> GadgetOut:
        return GadgetOut(name=name)

    @router.put(
        "/{name}",
        responses={
            503: {"description": "The workshop is closed", "content": {"application/json": {}}}
        },
    )
    async def repair_gadget(name: str, principal: CurrentPrincipal) -> None:
        return None

    public = APIRouter()

    @public.get("/api/v1/gadgets-count")
    async def count_gadgets() -> int:
        return 0

    app = FastAPI(generate_unique_id_function=camel_case_operation_id)
    install_openapi(app)
    app.include_router(router)
    app.include_router(public)
    return app.openapi()


def codes(operation: dict[str, Any], status: str) -> list[str]:
    content = operation["responses"][status]["content"]["application/problem+json"]
    enum: list[str] = content["schema"]["allOf"][1]["properties"]["code"]["enum"]
    assert sorted(content["examples"]) == enum
    return enum


def test_bearer_requirement_follows_what_the_route_reads_of_its_caller() -> None:
    paths = document()["paths"]
    assert paths["/api/v1/gadgets"]["post"]["security"] == [{"OAuth2": []}]
    # Anonymous callers are welcome where the principal is optional.
    assert paths["/api/v1/gadgets"]["get"]["security"] == [{"OAuth2": []}, {}]
    assert "security" not in paths["/api/v1/gadgets-count"]["get"]
    assert codes(paths["/api/v1/gadgets"]["get"], "401") == ["unauthenticated"]
    assert "401" not in paths["/api/v1/gadgets-count"]["get"]["responses"]


def test_oauth2_scheme_points_at_the_token_endpoint() -> None:
    scheme = document()["components"]["securitySchemes"]["OAuth2"]
    assert scheme["type"] == "oauth2"
    assert scheme["flows"]["password"]["tokenUrl"] == "/api/v1/auth/token"
    assert scheme["flows"]["clientCredentials"]["tokenUrl"] == "/api/v1/auth/token"
    assert "coupons:redeem" in scheme["flows"]["password"]["scopes"]


def test_declared_and_platform_problems_share_a_status() -> None:
    post = document()["paths"]["/api/v1/gadgets"]["post"]
    assert codes(post, "409") == [
        "gadget_busy",
        "idempotency_answer_unreadable",
        "idempotency_key_in_flight",
    ]
    assert codes(post, "422") == [
        "idempotency_key_invalid",
        "idempotency_key_reused",
        "invalid_input",
    ]
    assert codes(post, "503") == ["database_unavailable"]
    assert "- `gadget_busy`: The gadget is busy" in post["responses"]["409"]["description"]


def test_a_status_also_answered_in_another_form_keeps_both() -> None:
    answer = document()["paths"]["/api/v1/gadgets/{name}"]["put"]["responses"]["503"]
    assert set(answer["content"]) == {"application/json", "application/problem+json"}
    assert codes({"responses": {"503": answer}}, "503") == ["database_unavailable"]
    assert answer["description"].startswith("The workshop is closed")
    assert "database_unavailable" in answer["description"]


def test_fastapi_validation_shape_is_replaced_by_problems() -> None:
    doc = document()
    schemas = doc["components"]["schemas"]
    assert "HTTPValidationError" not in schemas
    assert "Problem" in schemas
    get = doc["paths"]["/api/v1/gadgets"]["get"]
    assert codes(get, "422") == ["invalid_cursor", "invalid_input"]


def test_admin_routes_answer_403_and_examples_are_shared() -> None:
    doc = document()
    delete = doc["paths"]["/api/v1/gadgets/{name}"]["delete"]
    assert codes(delete, "403") == ["forbidden"]
    assert codes(delete, "404") == ["gadget_gone"]
    example = delete["responses"]["404"]["content"]["application/problem+json"]["examples"]
    assert example["gadget_gone"] == {"$ref": "#/components/examples/gadget_gone"}
    assert doc["components"]["examples"]["gadget_gone"]["value"]["status"] == 404


def test_idempotency_key_on_posts_only() -> None:
    paths = document()["paths"]
    post = paths["/api/v1/gadgets"]["post"]
    header = [p for p in post["parameters"] if p["name"] == "Idempotency-Key"]
    assert [(h["in"], h["required"]) for h in header] == [("header", False)]
    assert "Idempotent-Replayed" in post["responses"]["201"]["headers"]
    delete = paths["/api/v1/gadgets/{name}"]["delete"]
    assert all(p["name"] != "Idempotency-Key" for p in delete.get("parameters", []))


def test_operation_ids_are_camel_case_unless_named() -> None:
    paths = document()["paths"]
    assert paths["/api/v1/gadgets"]["post"]["operationId"] == "createGadget"
    assert paths["/api/v1/gadgets"]["get"]["operationId"] == "browseGadgets"
    assert paths["/api/v1/gadgets/{name}"]["delete"]["operationId"] == "scrapGadget"


def test_a_page_is_named_after_its_item_and_shows_its_example() -> None:
    doc = document()
    answer = doc["paths"]["/api/v1/gadgets"]["get"]["responses"]["200"]
    assert answer["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/GadgetOutPage"
    }
    page = doc["components"]["schemas"]["GadgetOutPage"]
    assert page["required"] == ["items", "next_cursor"]
    [example] = page["examples"]
    assert example["items"] == [{"name": "sprocket"}]
    assert isinstance(example["next_cursor"], str)
    assert not [name for name in doc["components"]["schemas"] if "_" in name]


def test_admin_routes_require_the_admin_scope() -> None:
    paths = document()["paths"]
    assert paths["/api/v1/gadgets/{name}"]["delete"]["security"] == [{"OAuth2": ["admin"]}]
    assert paths["/api/v1/gadgets"]["post"]["security"] == [{"OAuth2": []}]


def test_any_of_scopes_is_one_requirement_per_scope() -> None:
    polish = document()["paths"]["/api/v1/gadgets/{name}/polish"]["post"]
    assert polish["security"] == [{"OAuth2": ["admin"]}, {"OAuth2": ["gadgets:write"]}]
    assert codes(polish, "403") == ["forbidden"]


def test_problems_and_enums_have_examples() -> None:
    schemas = document()["components"]["schemas"]
    assert schemas["GadgetColour"]["examples"] == ["red"]
    assert schemas["Problem"]["examples"][0]["code"] == "invalid_input"
    assert schemas["ProblemFieldError"]["examples"]


def test_an_omittable_patch_field_is_not_nullable() -> None:
    schema = document()["components"]["schemas"]["GadgetPatch"]
    assert schema["properties"]["name"] == {"type": "string", "minLength": 1, "title": "Name"}
    assert {"type": "null"} in schema["properties"]["colour"]["anyOf"]
    assert GadgetPatch.model_validate({}).model_dump(exclude_unset=True) == {}
    with pytest.raises(ValidationError):
        GadgetPatch.model_validate({"name": None})
