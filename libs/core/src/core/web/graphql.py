"""GraphQL over the same service layer: limits, error codes, and a lazily built endpoint.

Strawberry is imported only when the first GraphQL request arrives, so REST requests
(and cold starts) do not pay for it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from functools import partial
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, Request
from starlette.types import ASGIApp, Receive, Scope, Send

from core.config import Environment, PlatformSettings
from core.database.driver import in_one_transaction
from core.database.errors import caller_error
from core.errors import PlatformError

if TYPE_CHECKING:
    import strawberry
    from sqlalchemy.ext.asyncio import AsyncSession

logger = logging.getLogger(__name__)


def _problem_extensions(error: PlatformError) -> dict[str, Any]:
    """A GraphQL error's `extensions` for one of ours: what its REST answer says, including
    the seconds of a Retry-After header (a limit reached, a dependency down)."""
    extensions: dict[str, Any] = {"code": error.code, "status": error.status}
    retry_after = error.headers().get("Retry-After")
    if retry_after is not None:
        extensions["retry_after"] = int(retry_after)
    return extensions


def _request_session(context: Any) -> AsyncSession | None:
    state = getattr(getattr(context, "request", None), "state", None)
    uow = getattr(state, "uow", None)
    return None if uow is None else uow.session


def _several_root_fields(execution_context: Any) -> bool:
    """Whether the operation to run selects more than one root field (a fragment at the root
    counts as several: what it spreads is not counted here)."""
    from graphql import FieldNode, OperationDefinitionNode

    document = execution_context.graphql_document
    if document is None:
        return False
    name = execution_context.operation_name
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode) and (
            name is None or (definition.name is not None and definition.name.value == name)
        ):
            selections = definition.selection_set.selections
            return len(selections) > 1 or not all(isinstance(s, FieldNode) for s in selections)
    return False


def _problem_codes_extension() -> type:
    from graphql import GraphQLError
    from pydantic import ValidationError
    from strawberry.extensions import SchemaExtension

    class ProblemCodes(SchemaExtension):
        """Our errors keep their `code` in `extensions`; anything unexpected is masked."""

        def on_execute(self) -> Iterator[None]:
            # A failed mutation rolls the whole document back (below): a document of several
            # root fields then keeps every write in the request's one transaction, so that
            # none commits by itself and stays while the answer reports nothing done.
            session = _request_session(self.execution_context.context)
            if session is not None and _several_root_fields(self.execution_context):
                in_one_transaction(session)
            yield

        def on_operation(self) -> Iterator[None]:
            yield
            result = self.execution_context.result
            errors = getattr(result, "errors", None)
            if not errors:
                return
            context = self.execution_context.context
            uow = getattr(getattr(context, "request", None), "state", None)
            if uow is not None and getattr(uow, "uow", None) is not None:
                uow.uow.rollback_only = True  # a mutation that failed leaves nothing behind
            result.errors = [self._shape(error) for error in errors]  # type: ignore[union-attr]
            # A refusal the service counts for the business, as its REST twin counts it.
            runtime = getattr(
                getattr(getattr(getattr(context, "request", None), "app", None), "state", None),
                "runtime",
                None,
            )
            if runtime is not None:
                for shaped in result.errors:  # type: ignore[union-attr]
                    code = (shaped.extensions or {}).get("code")
                    if isinstance(code, str):
                        runtime.counters.count_refusal(runtime.metrics, code)

        @staticmethod
        def _shape(error: GraphQLError) -> GraphQLError:
            original = error.original_error
            if original is not None:
                original = caller_error(original) or original
            if isinstance(original, PlatformError):
                return GraphQLError(
                    original.detail,
                    nodes=error.nodes,
                    path=error.path,
                    extensions=_problem_extensions(original),
                )
            if isinstance(original, ValidationError):
                first = original.errors()[0] if original.errors() else {"loc": (), "msg": ""}
                where = ".".join(str(part) for part in first["loc"])
                return GraphQLError(
                    f"{where}: {first['msg']}",
                    nodes=error.nodes,
                    path=error.path,
                    extensions={"code": "invalid_input", "status": 422},
                )
            if original is not None and not isinstance(original, GraphQLError):
                return GraphQLError(
                    "Unexpected error.",
                    nodes=error.nodes,
                    path=error.path,
                    extensions={"code": "internal_error"},
                )
            extensions = dict(error.extensions or {})
            extensions.setdefault("code", "invalid_query")
            return GraphQLError(
                error.message, nodes=error.nodes, path=error.path, extensions=extensions
            )

    return ProblemCodes


def _expansion_limiter() -> type:
    from graphql import GraphQLError
    from strawberry.extensions import SchemaExtension

    from core.web.graphql_expansion import expanded_size

    class ExpansionLimiter(SchemaExtension):
        """Measures the parsed document with its fragments spread before any validation
        rule walks it that way; QueryTooComplex, which the router answers with 400."""

        def __init__(self, *, max_selections: int) -> None:
            self.max_selections = max_selections

        def on_parse(self) -> Iterator[None]:
            yield
            document = self.execution_context.graphql_document
            if document is None:  # it did not parse, and says so itself
                return
            try:
                expanded_size(document, self.max_selections)
            except GraphQLError as error:
                # The document's one error, reported as validation's would be; validation
                # (which would fail on it) is skipped.
                self.execution_context.pre_execution_errors = [error]

    return ExpansionLimiter


def _one_field_at_a_time() -> type:
    from graphql.pyutils import AwaitableOrValue
    from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

    class OneFieldAtATime(StrawberryGraphQLCoreExecutionContext):
        """Runs a query's root fields one after another, as GraphQL runs a mutation's.

        Every resolver works in the request's one database session (the request owns the
        transaction), and a session serves one statement at a time: fields run side by side
        (graphql-core's default for queries) would share it at once and fail. Below the
        root, fields only read the answers their root field built."""

        def execute_root_grouped_field_set(
            self,
            root_type: Any,
            root_value: Any,
            grouped_field_set: Any,
            serially: bool,
            position_context: Any,
        ) -> AwaitableOrValue[dict[str, Any]]:
            return super().execute_root_grouped_field_set(
                root_type, root_value, grouped_field_set, True, position_context
            )

    return OneFieldAtATime


def build_schema(
    *,
    query: type,
    mutation: type | None,
    settings: PlatformSettings,
    scalars: dict[Any, Any] | None = None,
) -> strawberry.Schema:
    """`scalars` maps a service's own scalar types (NewTypes) to their definitions."""
    import strawberry
    from graphql import GraphQLError
    from pydantic import ValidationError
    from strawberry.extensions import (
        DisableIntrospection,
        MaxAliasesLimiter,
        MaxTokensLimiter,
        QueryDepthLimiter,
    )

    # Factories, not instances: each request gets fresh extension state.
    extensions: list[Any] = [
        # Parsing is bounded by the token limit, validation by this one: it runs between.
        partial(_expansion_limiter(), max_selections=settings.graphql_max_expanded_selections),
        partial(QueryDepthLimiter, max_depth=settings.graphql_max_depth),
        partial(MaxTokensLimiter, max_token_count=settings.graphql_max_tokens),
        partial(MaxAliasesLimiter, max_alias_count=settings.graphql_max_aliases),
        _problem_codes_extension(),
    ]
    if settings.environment == Environment.PROD:
        extensions.append(DisableIntrospection)

    class Schema(strawberry.Schema):
        def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
            # Our own errors are answers, not incidents: only the unexpected are logged.
            for error in errors:
                original = error.original_error
                if (
                    original is not None
                    and not isinstance(original, (PlatformError, ValidationError, GraphQLError))
                    and caller_error(original) is None
                ):
                    logger.error("unexpected GraphQL error", exc_info=original)

    from strawberry.schema.config import StrawberryConfig

    return Schema(
        query=query,
        mutation=mutation,
        extensions=extensions,
        config=StrawberryConfig(scalar_map=scalars or {}),
        execution_context_class=_one_field_at_a_time(),
    )


class LazyGraphQLEndpoint:
    """An ASGI app that builds the GraphQL sub-application on its first request."""

    def __init__(self, parent: FastAPI, path: str, build_router: Callable[[], Any]) -> None:
        self._parent = parent
        self._path = path
        self._build_router = build_router
        self._app: ASGIApp | None = None

    def _build(self) -> ASGIApp:
        from core.web.problems import install_problem_handlers
        from core.web.routes import TransactionalRoute

        router = self._build_router()
        assert all(
            isinstance(r, TransactionalRoute) for r in router.routes if hasattr(r, "methods")
        )
        app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
        app.state = self._parent.state  # the service's runtime and components, shared
        install_problem_handlers(app)
        app.include_router(router, prefix=self._path)
        return app

    def sdl(self) -> str:
        """The schema in GraphQL's schema definition language, for the contract files."""
        sdl: str = self._build_router().schema.as_str()
        return sdl

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self._app is None:
            self._app = self._build()
        await self._app(scope, receive, send)


def graphql_router(
    schema: strawberry.Schema,
    context_getter: Callable[..., Any],
    *,
    credential_fields: frozenset[str] = frozenset(),
    secret_answer_fields: frozenset[str] = frozenset(),
) -> Any:
    """`credential_fields`: fields whose arguments hold a credential (svc-auth's `register`
    takes a password); a document naming one does not honour Idempotency-Key.
    `secret_answer_fields`: root mutations whose answer holds a secret
    (answer_holds_a_secret), so no answer of their document is stored for replay; with an
    Idempotency-Key such a field must be its document's only root mutation field."""
    from strawberry.fastapi import GraphQLRouter

    from core.web.graphql_expansion import QueryTooComplex
    from core.web.routes import TransactionalRoute

    class GraphQLRoute(TransactionalRoute):
        def bears_credentials(self, body: bytes) -> bool:
            return bool(credential_fields) and names_a_field(body, credential_fields)

        def check_keyed_body(self, body: bytes) -> None:
            # A secret answer is not stored and its key is released after commit, so a
            # retry runs the whole document again: any other mutation next to it would run
            # twice. Such documents are refused before anything runs.
            if secret_answer_fields and secret_answer_beside_others(body, secret_answer_fields):
                raise SecretAnswerNotAlone(
                    "With an Idempotency-Key, a mutation whose answer holds a secret ("
                    + ", ".join(sorted(secret_answer_fields))
                    + ") must be the document's only root mutation field: send the others "
                    "in their own requests."
                )

    class PlatformGraphQLRouter(GraphQLRouter[Any, None]):
        async def process_result(self, request: Request, result: Any) -> Any:
            # A document refused before validation is a bad request, not an operation's
            # error: problem+json from the one renderer, as REST answers.
            for error in result.errors or ():
                if isinstance(error.original_error, QueryTooComplex):
                    raise error.original_error
            return await super().process_result(request, result)

    return PlatformGraphQLRouter(
        schema,
        context_getter=context_getter,
        route_class=GraphQLRoute,
        multipart_uploads_enabled=False,
    )


def names_a_field(body: bytes, fields: frozenset[str]) -> bool:
    """Whether a GraphQL request body's document selects any of `fields`, anywhere (in a
    fragment too). A body that does not parse counts as naming them: nothing is kept of
    what cannot be read."""
    import json

    from graphql import FieldNode, GraphQLError, parse, visit
    from graphql.language import Visitor

    try:
        document = parse(json.loads(body)["query"])
    except (ValueError, KeyError, TypeError, GraphQLError):
        return True
    found = False

    class FieldFinder(Visitor):
        def enter_field(self, node: FieldNode, *_: Any) -> None:
            nonlocal found
            found = found or node.name.value in fields

    visit(document, FieldFinder())
    return found


class SecretAnswerNotAlone(PlatformError):
    """A keyed GraphQL document selects a secret-answer mutation beside other mutations."""

    status = 400
    code = "invalid_query"
    title = "A mutation whose answer holds a secret must be alone in a keyed document"


def secret_answer_beside_others(body: bytes, secret_fields: frozenset[str]) -> bool:
    """Whether a mutation of the body's document selects one of `secret_fields` at its root
    next to any other root field (fragments spread; `__typename` runs nothing and does not
    count). A body that does not parse is left to GraphQL, which refuses it itself."""
    import json

    from graphql import GraphQLError, parse
    from graphql.language import (
        FieldNode,
        FragmentDefinitionNode,
        FragmentSpreadNode,
        InlineFragmentNode,
        OperationDefinitionNode,
        OperationType,
        SelectionSetNode,
    )

    try:
        document = parse(json.loads(body)["query"])
    except (ValueError, KeyError, TypeError, GraphQLError):
        return False
    fragments = {
        definition.name.value: definition
        for definition in document.definitions
        if isinstance(definition, FragmentDefinitionNode)
    }

    def root_fields(selection_set: SelectionSetNode, spread: frozenset[str]) -> list[str]:
        names: list[str] = []
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                if selection.name.value != "__typename":
                    names.append(selection.name.value)
            elif isinstance(selection, InlineFragmentNode):
                names += root_fields(selection.selection_set, spread)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = fragments.get(name)
                if fragment is not None and name not in spread:  # a cycle: GraphQL refuses it
                    names += root_fields(fragment.selection_set, spread | {name})
        return names

    for definition in document.definitions:
        if (
            isinstance(definition, OperationDefinitionNode)
            and definition.operation == OperationType.MUTATION
        ):
            names = root_fields(definition.selection_set, frozenset())
            if len(names) > 1 and secret_fields.intersection(names):
                return True
    return False


def given_fields(patch_input: object) -> dict[str, Any]:
    """A PATCH input's fields the caller set, for its REST model to validate: a field left
    out is UNSET and stays as it is; an explicit null reaches the model, which refuses it
    where REST does. (Strawberry's pydantic-derived inputs cannot tell the two apart, so a
    PATCH input is written out with UNSET defaults.)"""
    import strawberry

    return {
        name: value for name, value in vars(patch_input).items() if value is not strawberry.UNSET
    }


def principal_of(request: Request) -> Any:
    """The caller, for resolvers; None when anonymous, PlatformError 401 for a bad token."""
    from core.auth.dependencies import authenticate

    return authenticate(request)
