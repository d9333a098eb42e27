"""The CDK app: `cdk synth -c stage=dev` (or prod), or `python -m infra.app`.

Stacks, for a stage S:
- coupon-platform-S-data: VPC, PostgreSQL + RDS Proxy + secret, DynamoDB tables, event bus,
  alert topic.
- coupon-platform-S-api: the HTTP API, its `$default` stage, access logs, throttling, CORS.
- coupon-platform-S-svc-<name>: one per service of core.routing.SERVICES: its function,
  routes, migration trigger, event rules, outbox sweep and alarms.

Synthesis needs no AWS account: the stacks are environment-agnostic and look nothing up.
The service bundles must exist (`make package`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aws_cdk import App, Aspects, Stack, Tags
from aws_cdk import aws_iam as iam
from cdk_nag import AwsSolutionsChecks

from core.routing import SERVICES, ServiceRoutes
from infra.bundle import REPO_ROOT, bundle_path
from infra.config import (
    DEFAULT_STAGE,
    PROJECT,
    PlaceholderSettings,
    StageConfig,
    deployment_for,
    stage_config,
)
from infra.connection_budget import check_request_timeouts, stage_budget
from infra.function_inputs import (
    INPUTS_CONTEXT,
    DeployedValues,
    deployed_values_from_context,
    read_inputs,
)
from infra.platform import PlatformResources
from infra.stacks.api import ApiStack
from infra.stacks.ci_access import role_boundary_name
from infra.stacks.data import DataStack
from infra.stacks.service import ServiceStack

CDK_JSON = REPO_ROOT / "cdk.json"


@dataclass(frozen=True)
class PlatformApp:
    app: App
    stage: StageConfig
    data: DataStack
    api: ApiStack
    services: dict[str, ServiceStack]

    @property
    def stacks(self) -> list[Any]:
        return [self.data, self.api, *self.services.values()]


def cdk_json_context() -> dict[str, Any]:
    """cdk.json's context, which the CDK CLI would pass: tests synthesize with the same."""
    context: dict[str, Any] = json.loads(CDK_JSON.read_text()).get("context", {})
    return context


def service_stack_name(stage: StageConfig, service: ServiceRoutes) -> str:
    return stage.resource_name(service.directory)


ERROR_METADATA = "aws:cdk:error"  # an error annotation, as the cloud assembly records it


def build(
    app: App,
    *,
    stage: StageConfig,
    services: Iterable[ServiceRoutes] = SERVICES,
    bundles: Mapping[str, Path] | None = None,
    deployed_values: DeployedValues | None = None,
) -> PlatformApp:
    """Every stack of one stage, checked by cdk-nag's AwsSolutions rules at synthesis.

    `deployed_values` (by default `-c function_inputs=aws`: the account's) are what the
    functions read at cold start: their digest in each service's functions publishes new
    versions whenever one changes (infra.function_inputs). Without them, no digest.

    A stage that refuses placeholders (prod) fails here while its portal origins or its
    bootstrap admin's e-mail still name a reserved domain.
    """
    stage.require_real_settings()
    if deployed_values is None:
        deployed_values = deployed_values_from_context(app.node.try_get_context(INPUTS_CONTEXT))
    # Refused before anything is built: a stage that could open more connections than its
    # proxy lends, or a timeout that outlasts the one around it.
    stage_budget(stage, services=len(SERVICES)).check()
    check_request_timeouts(stage.function_timeout)
    data = DataStack(app, stage.resource_name("data"), stage=stage)
    api = ApiStack(app, stage.resource_name("api"), stage=stage, alert_topic=data.alerts.topic)
    platform = PlatformResources(
        vpc=data.network.vpc,
        services_subnets=data.network.services_subnets,
        services_security_group=data.network.services_security_group,
        database_master_secret=data.database.secret,  # type: ignore[arg-type]
        service_database_secrets=data.database.service_secrets,
        database_proxy=data.database.proxy,
        shared_metrics=data.shared_metrics,
        audit_table=data.tables.audit,
        cache_table=data.tables.cache,
        event_bus=data.events.bus,
        alert_topic=data.alerts.topic,
        http_api=api.http_api,
        api_endpoint=api.endpoint,
    )
    stacks: dict[str, ServiceStack] = {}
    for service in services:
        bundle = (bundles or {}).get(service.name) or bundle_path(service)
        if not (bundle / "main.py").is_file():
            raise FileNotFoundError(
                f"no Lambda bundle for {service.directory} in {bundle}: run `make package`"
            )
        deployment = deployment_for(service)
        inputs = (
            None
            if deployed_values is None
            else read_inputs(deployed_values, stage, service.name, deployment)
        )
        stacks[service.name] = ServiceStack(
            app,
            service_stack_name(stage, service),
            service=service,
            deployment=deployment,
            stage=stage,
            platform=platform,
            bundle=bundle,
            inputs_digest=None if inputs is None else inputs.digest,
            description=f"svc-{service.name}: function, routes, migrations, events, alarms",
        )
    # Cost-allocation tags: on each stack, which CloudFormation puts on every resource it
    # creates (activate them once in the Billing console: docs/deploying.md).
    for stack in (data, api, *stacks.values()):
        for key, value in cost_allocation_tags(stage).items():
            Tags.of(stack).add(key, value)
        _bound_roles(stack, stage)
    Aspects.of(app).add(AwsSolutionsChecks(verbose=True))
    return PlatformApp(app, stage, data, api, stacks)


def cost_allocation_tags(stage: StageConfig) -> dict[str, str]:
    return {"project": PROJECT, "stage": stage.name}


def synthesis_errors(assembly_directory: Path) -> list[str]:
    """The error annotations (cdk-nag's findings among them) of every stack in a cloud
    assembly, read from its manifest and metadata files.

    The assembly's Python objects cannot give them: jsii knows a stack's messages only as
    `cloud_assembly_schema.MetadataEntry`, an interface a plain run of the app never loads.
    """
    manifest = json.loads((assembly_directory / "manifest.json").read_text())
    errors = []
    for name, artifact in manifest.get("artifacts", {}).items():
        if artifact.get("type") != "aws:cloudformation:stack":
            continue
        metadata: dict[str, list[dict[str, Any]]] = dict(artifact.get("metadata", {}))
        if extra := artifact.get("additionalMetadataFile"):
            for path, entries in json.loads((assembly_directory / extra).read_text()).items():
                metadata[path] = [*metadata.get(path, []), *entries]
        errors += [
            f"{name} {path}: {entry['data']}"
            for path, entries in metadata.items()
            for entry in entries
            if entry.get("type") == ERROR_METADATA
        ]
    return list(dict.fromkeys(errors))  # the same entry may be in both places


def _bound_roles(stack: Stack, stage: StageConfig) -> None:
    """Every role of the stack carries the stage's permissions boundary (made by the CI
    access stack): CloudFormation's execution policy creates no role without it."""
    boundary = iam.ManagedPolicy.from_managed_policy_name(
        stack, "RoleBoundary", role_boundary_name(stage.name)
    )
    iam.PermissionsBoundary.of(stack).apply(boundary)


def main() -> None:
    # Under the CDK CLI, CDK_CONTEXT_JSON already holds cdk.json's context and the -c values;
    # run directly (make synth), cdk.json is read here and CDK_CONTEXT_JSON adds the stage.
    context = {**cdk_json_context(), **json.loads(os.environ.get("CDK_CONTEXT_JSON") or "{}")}
    app = App(context=context)
    stage = stage_config(str(app.node.try_get_context("stage") or DEFAULT_STAGE))
    try:
        build(app, stage=stage)
    except PlaceholderSettings as placeholders:
        raise SystemExit(str(placeholders)) from None
    assembly = app.synth()
    # The CDK CLI refuses to deploy on error annotations (cdk-nag's findings among them);
    # synthesized without it, fail the same way.
    if errors := synthesis_errors(Path(assembly.directory)):
        raise SystemExit("\n".join(errors))


if __name__ == "__main__":
    main()
