"""The input types the controllers share: storable text, the Long scalar, Accept headers,
and the years campaign dates may be in."""

from __future__ import annotations

import dataclasses
import inspect
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from graphql import GraphQLError, IntValueNode, StringValueNode
from pydantic import BaseModel, ValidationError

from svc_coupons.controllers.dto import campaigns as campaign_dtos
from svc_coupons.controllers.dto import coupons as coupon_dtos
from svc_coupons.controllers.rest.negotiation import negotiate, parse_accept
from svc_coupons.schemas.graphql_scalars import LONG_MAX, LONG_MIN, long_literal, long_value
from svc_coupons.schemas.text import storable
from svc_coupons.services.data_model.campaigns import CampaignTerms, DiscountType, TermsViolation

# -- storable text -------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", "plain", "émoji 😀", "tab\tand\nnewline", "\u2028"])
def test_storable_text_passes(text: str) -> None:
    assert storable(text) == text


@pytest.mark.parametrize("text", ["\x00", "a\x00b", "\ud800", "x\udfffy", "\ud83d alone"])
def test_unstorable_text_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="NUL characters or lone surrogates"):
        storable(text)


def _request_models() -> list[type[BaseModel]]:
    found = []
    for module in (campaign_dtos, coupon_dtos):
        for _, model in inspect.getmembers(module, inspect.isclass):
            if (
                issubclass(model, BaseModel)
                and model.__module__ == module.__name__
                and model.__name__.endswith(("In", "Input", "Patch"))
            ):
                found.append(model)
    return found


def _string_fields(model: type[BaseModel]) -> list[str]:
    """Fields the JSON schema says are free text (not enums, ids or dates)."""
    names = []
    for name, schema in model.model_json_schema()["properties"].items():
        options = schema.get("anyOf", [schema])
        if any(
            option.get("type") == "string" and "format" not in option and "enum" not in option
            for option in options
        ):
            names.append(name)
    return names


def test_the_request_models_are_all_found() -> None:
    names = {model.__name__ for model in _request_models()}
    assert names >= {"CampaignInput", "CampaignPatch", "ClaimCodeIn", "RedeemIn", "ReasonIn"}


@pytest.mark.parametrize("model", _request_models(), ids=lambda m: m.__name__)
def test_every_string_field_of_a_request_refuses_nul(model: type[BaseModel]) -> None:
    for name in _string_fields(model):
        with pytest.raises(ValidationError) as refused:
            model.model_validate({name: "abc\x00def"})
        assert any(
            error["type"] == "invalid_text" and error["loc"] == (name,)
            for error in refused.value.errors()
        ), (name, refused.value.errors())


def test_limits_still_read_as_string_limits() -> None:
    with pytest.raises(ValidationError) as refused:
        campaign_dtos.CampaignPatch.model_validate({"title": "ab"})
    (error,) = refused.value.errors()
    assert error["type"] == "string_too_short"


# -- Long ----------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [0, -1, 2**31, 5_000_000_000, LONG_MAX, LONG_MIN])
def test_long_takes_64_bit_integers(value: int) -> None:
    assert long_value(value) == value
    assert long_literal(IntValueNode(value=str(value))) == value


@pytest.mark.parametrize("value", [LONG_MAX + 1, LONG_MIN - 1, True, 1.0, "5", None])
def test_long_refuses_anything_else(value: Any) -> None:
    with pytest.raises(GraphQLError):
        long_value(value)


def test_long_literal_is_an_int_literal() -> None:
    with pytest.raises(GraphQLError):
        long_literal(StringValueNode(value="5"))
    with pytest.raises(GraphQLError):
        long_literal(IntValueNode(value=str(2**64)))


# -- Accept --------------------------------------------------------------------------------

OFFERS = ("application/json", "text/csv")


@pytest.mark.parametrize(
    ("header", "chosen"),
    [
        (None, "application/json"),
        ("", "application/json"),
        ("garbage", "application/json"),  # nothing parseable: as if absent
        ("text/csv", "text/csv"),
        ("text/csv;q=0, application/json", "application/json"),
        ("text/csv;q=0", None),
        ("text/csv;q=0.001", "text/csv"),
        ("text/csv;q=1.0, application/json;q=1", "application/json"),  # tie: server order
        ("text/*;q=0.5, */*;q=0.4", "text/csv"),
        ("text/*;q=0.5, text/csv;q=0, */*;q=0.4", "application/json"),  # specific beats text/*
        ("application/json;q=2, text/csv;q=0.5", "text/csv"),  # q=2 is malformed: ignored
        ("application/json;q=abc, text/csv;q=0.5", "text/csv"),
        ("*/csv", "application/json"),  # not a media range: ignored, nothing else given
        ("text/csv;charset=utf-8;q=0.8;ext=1, application/json;q=0.7", "text/csv"),
    ],
)
def test_negotiate(header: str | None, chosen: str | None) -> None:
    assert negotiate(header, OFFERS) == chosen


def test_parse_accept_lowers_and_reads_q() -> None:
    (media_range,) = parse_accept("Text/CSV ; Q=0.5")
    assert (media_range.type, media_range.subtype, media_range.q) == ("text", "csv", 0.5)


# -- campaign dates ------------------------------------------------------------------------


def _terms(starts_at: datetime, ends_at: datetime) -> CampaignTerms:
    return CampaignTerms(
        title="Ten off",
        description=None,
        discount_type=DiscountType.PERCENTAGE,
        discount_value=10,
        currency=None,
        min_spend=None,
        total_quantity=None,
        per_customer_limit=1,
        starts_at=starts_at,
        ends_at=ends_at,
        validity_days=None,
        outlet_ids=(),
        transferable=True,
        tradable=True,
    )


EDGE_LOW = datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=14)))  # no UTC equivalent
EDGE_HIGH = datetime(9999, 12, 31, 23, 59, 59, tzinfo=timezone(timedelta(hours=-14)))
START = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("starts_at", "ends_at"),
    [
        (EDGE_LOW, START),
        (START, EDGE_HIGH),
        (EDGE_LOW, EDGE_HIGH),
        (datetime(1999, 12, 31, 23, 59, tzinfo=UTC), START),
        (START, datetime(2101, 1, 1, tzinfo=UTC)),
    ],
)
def test_dates_outside_2000_to_2100_are_refused(starts_at: datetime, ends_at: datetime) -> None:
    (violation, _), *_ = _terms(starts_at, ends_at).violations()
    assert violation is TermsViolation.DATE_OUT_OF_RANGE


def test_dates_inside_the_range_are_fine() -> None:
    terms = _terms(datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 12, 31, 23, 59, tzinfo=UTC))
    assert terms.violations() == []
    late = dataclasses.replace(terms, starts_at=terms.ends_at)
    assert [v for v, _ in late.violations()] == [TermsViolation.INVALID_PERIOD]


def test_the_dto_keeps_a_moment_without_a_utc_equivalent_for_the_terms_to_refuse() -> None:
    body = campaign_dtos.CampaignInput.model_validate(
        {
            "merchant_id": "6f1c1d2e-0000-4000-8000-000000000000",
            "title": "Ten off",
            "discount_type": "percentage",
            "discount_value": 10,
            "starts_at": "0001-01-01T00:00:00+14:00",
            "ends_at": "2026-01-01T00:00:00Z",
        }
    )
    (violation, _), *_ = body.terms().violations()
    assert violation is TermsViolation.DATE_OUT_OF_RANGE
