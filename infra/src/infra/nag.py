"""cdk-nag suppressions, each with the reason it is acceptable here."""

from __future__ import annotations

from collections.abc import Sequence

from cdk_nag import NagPackSuppression, NagSuppressions
from constructs import IConstruct


def accept(
    construct: IConstruct,
    rule: str,
    reason: str,
    *,
    applies_to: Sequence[str] | None = None,
    children: bool = True,
) -> None:
    """Suppress `AwsSolutions-<rule>` on one construct (and its children) for `reason`."""
    NagSuppressions.add_resource_suppressions(
        construct,
        [
            NagPackSuppression(
                id=f"AwsSolutions-{rule}",
                reason=reason,
                applies_to=list(applies_to) if applies_to else None,
            )
        ],
        apply_to_children=children,
    )


MANAGED_POLICY = "Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/{}"


def managed_policy(name: str) -> str:
    """The `applies_to` spelling of an AWS managed service-role policy."""
    return MANAGED_POLICY.format(name)
