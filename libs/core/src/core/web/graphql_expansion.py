"""How large a GraphQL document is with its fragments spread, measured before validation.

Thirty fragments, each spreading the one before twice, fit in 900 bytes and stand for 2^29
selections: a validation rule that follows spreads (Strawberry's depth and alias limiters
do) walks every one of them, and holds the process for hours. Here each fragment is
measured once, after the fragments it spreads, so measuring costs the document's length.
Imported with graphql-core, when the first GraphQL request arrives (core.web.graphql).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from graphql import GraphQLError
from graphql.language import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
)

from core.errors import PlatformError


class QueryTooComplex(PlatformError):
    status = 400
    code = "query_too_complex"
    title = "The GraphQL document is too large with its fragments spread"


class _Shape:
    """A selection set's own selections (a spread counts as one, its fragment's selections
    not at all) and the fragments it spreads, once per spread."""

    __slots__ = ("own", "spreads")

    def __init__(self, selection_set: SelectionSetNode) -> None:
        self.own = 0
        self.spreads: list[str] = []
        pending = [selection_set]
        while pending:  # no recursion: a document nests as deep as its tokens allow
            for selection in pending.pop().selections:
                self.own += 1
                if isinstance(selection, FragmentSpreadNode):
                    self.spreads.append(selection.name.value)
                elif (
                    isinstance(selection, (FieldNode, InlineFragmentNode))
                    and selection.selection_set is not None
                ):
                    pending.append(selection.selection_set)

    def expanded(self, fragment_sizes: Mapping[str, int]) -> int:
        return self.own + sum(fragment_sizes[name] for name in self.spreads)


def expanded_size(document: DocumentNode, limit: int) -> int:
    """Selections in the document's operations with every fragment spread in place;
    QueryTooComplex above `limit`, or when fragments spread each other in a cycle; a
    GraphQLError for a spread of a fragment the document does not define (Strawberry's
    depth limiter would fail on it with a KeyError)."""
    shapes = {
        definition.name.value: _Shape(definition.selection_set)
        for definition in document.definitions
        if isinstance(definition, FragmentDefinitionNode)
    }
    operations = [
        _Shape(definition.selection_set)
        for definition in document.definitions
        if isinstance(definition, OperationDefinitionNode)
    ]
    for shape in (*shapes.values(), *operations):
        unknown = next((name for name in shape.spreads if name not in shapes), None)
        if unknown is not None:
            raise GraphQLError(f"Unknown fragment '{unknown}'.")  # as graphql-core says it
    sizes: dict[str, int] = {}
    for name in _spread_ones_first({name: shape.spreads for name, shape in shapes.items()}):
        # Anything above the limit is as good as infinite: the numbers stay small.
        sizes[name] = min(shapes[name].expanded(sizes), limit + 1)
    total = sum(shape.expanded(sizes) for shape in operations)
    if total > limit:
        raise QueryTooComplex(
            f"The document's operations hold more than {limit} selections with their "
            "fragments spread"
        )
    return total


def _spread_ones_first(spreads: Mapping[str, list[str]]) -> Iterator[str]:
    """Every fragment after the fragments it spreads (a depth-first walk, without
    recursion); QueryTooComplex when a fragment spreads itself, directly or not."""
    on_path: set[str] = set()
    done: set[str] = set()
    for root in spreads:
        if root in done:
            continue
        on_path.add(root)
        walk = [(root, iter(spreads[root]))]
        while walk:
            name, children = walk[-1]
            child = next(children, None)
            if child is None:
                walk.pop()
                on_path.discard(name)
                done.add(name)
                yield name
            elif child in on_path:
                raise QueryTooComplex(f"Fragment {child} spreads itself: its size has no end")
            elif child not in done:
                on_path.add(child)
                walk.append((child, iter(spreads[child])))
