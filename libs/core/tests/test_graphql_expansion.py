"""A GraphQL document's size with its fragments spread, measured before validation walks it."""

from __future__ import annotations

import time

import pytest
import strawberry
from graphql import GraphQLError, parse

from core.config import Environment, PlatformSettings
from core.web.graphql import build_schema
from core.web.graphql_expansion import QueryTooComplex, expanded_size


def fan_out(n: int) -> str:
    """Each fragment spreads the one before twice: 2^n spreads of F0 in about 30n bytes."""
    fragments = ["fragment F0 on Query { __typename }"]
    fragments += [f"fragment F{i} on Query {{ ...F{i - 1} ...F{i - 1} }}" for i in range(1, n + 1)]
    return f"query {{ ...F{n} }} {' '.join(fragments)}"


def test_each_selection_counts_once_and_a_spread_as_itself_and_its_fragment() -> None:
    document = parse(
        """
        query { a { b c } ... on Query { d } ...Two }
        fragment Two on Query { e f { g } }
        """
    )
    # a b c, the inline fragment and d, the spread and its e f g.
    assert expanded_size(document, 100) == 9


def test_the_fan_out_is_measured_without_walking_it() -> None:
    # F0 is 1 selection, F(n) = 2 spreads + 2 F(n-1): 3 * 2^n - 2, plus the operation's spread.
    assert expanded_size(parse(fan_out(10)), 10_000) == 3 * 2**10 - 1
    started = time.perf_counter()
    for n in (21, 29, 200):
        with pytest.raises(QueryTooComplex, match="more than 5000 selections"):
            expanded_size(parse(fan_out(n)), 5000)
    assert time.perf_counter() - started < 0.5


@pytest.mark.parametrize(
    "document",
    [
        "query { ...A } fragment A on Query { ...A }",
        "query { ...A } fragment A on Query { x { ...B } } fragment B on Query { ...C }"
        " fragment C on Query { ...A }",
        # Not spread by any operation: validation would walk it all the same.
        "query { x } fragment A on Query { ...B } fragment B on Query { ...A }",
    ],
)
def test_fragments_that_spread_themselves_are_refused(document: str) -> None:
    with pytest.raises(QueryTooComplex, match="spreads itself"):
        expanded_size(parse(document), 5000)


def test_a_spread_of_an_unknown_fragment_is_named() -> None:
    with pytest.raises(GraphQLError, match="Unknown fragment 'Nope'"):
        expanded_size(parse("query { x { ...Nope } }"), 5000)


def test_long_chains_and_deep_nesting_need_no_recursion() -> None:
    chain = " ".join(f"fragment F{i} on Query {{ ...F{i + 1} }}" for i in range(3000))
    document = parse(f"query {{ ...F0 }} {chain} fragment F3000 on Query {{ x }}")
    assert expanded_size(document, 10_000) == 3002


@strawberry.type
class Query:
    @strawberry.field
    def hello(self) -> str:
        return "hello"


def schema(max_selections: int = 5000) -> strawberry.Schema:
    settings = PlatformSettings(
        environment=Environment.TEST, graphql_max_expanded_selections=max_selections
    )
    return build_schema(query=Query, mutation=None, settings=settings)


async def test_the_schema_refuses_before_any_validation_rule_walks_the_document() -> None:
    started = time.perf_counter()
    result = await schema().execute(fan_out(29))
    assert time.perf_counter() - started < 0.5
    assert result.errors is not None
    assert isinstance(result.errors[0].original_error, QueryTooComplex)


async def test_documents_within_the_limit_run() -> None:
    document = "query { ...Twice } fragment Twice on Query { hello a: hello }"
    assert (await schema(max_selections=3).execute(document)).data == {
        "hello": "hello",
        "a": "hello",
    }
    refused = await schema(max_selections=2).execute(document)
    assert refused.errors is not None
    assert isinstance(refused.errors[0].original_error, QueryTooComplex)


async def test_an_unknown_fragment_is_a_query_error_not_a_crash() -> None:
    result = await schema().execute("query { ...Nope }")
    assert result.errors is not None
    assert result.errors[0].message == "Unknown fragment 'Nope'."
    assert result.errors[0].extensions == {"code": "invalid_query"}
