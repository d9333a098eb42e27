"""The CDK app, synthesized offline for every stage: nag findings, cfn-lint, and what each
service's stack holds."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import Annotations as Annotations_
from aws_cdk import App, Duration, Stack, Token
from aws_cdk.assertions import Annotations, Match, Template

from core.config import PlatformSettings
from core.database.session_limits import SESSION_LIMITS
from core.events.relay import CLAIM_LEASE
from core.routing import SERVICES, ServiceRoutes
from devstack.stack.services import app_factory
from infra.app import CDK_JSON, build, cdk_json_context, synthesis_errors
from infra.bundle import REPO_ROOT
from infra.config import EVENT_PRODUCERS, StageConfig, deployment_for, stage_config
from infra.connection_budget import ConnectionBudgetExceeded, TimeoutsDoNotNest
from infra.constructs.database_role import BOOTSTRAP_HANDLER
from infra.constructs.routes import route_paths
from infra.constructs.tables import AUDIT_ACTIONS, CACHE_ACTIONS
from infra.postgres_version import RDS_POSTGRES_VERSION
from infra.stacks.api import ACCESS_LOG_FIELDS
from infra.stacks.ci_access import ROLE_BOUNDARY_SERVICES, role_boundary_name

pytestmark = pytest.mark.slow

IDENTITY_POLICY_TYPES = ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy", "AWS::IAM::Role")
# Active tracing's two actions support no resource scoping (AWS's service authorization
# reference): the one statement allowed to name every resource.
XRAY_ACTIONS = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
# What prod keeps when a stack is deleted or a resource replaced, except when the resource's
# own create failed: a rolled-back first deploy leaves nothing behind to collide with.
KEPT = "RetainExceptOnCreate"
# The AWS managed policies the platform's roles attach, and the services they grant.
MANAGED_POLICY_SERVICES = {
    "AWSLambdaBasicExecutionRole": {"logs"},
    "AWSLambdaVPCAccessExecutionRole": {"logs", "ec2"},
}


def _templates(synthesized: Any) -> dict[str, dict[str, Any]]:
    return {stack.stack_name: stack.template for stack in synthesized.assembly.stacks}


def _service_template(synthesized: Any, service: ServiceRoutes) -> Template:
    return Template.from_stack(synthesized.platform.services[service.name])


def _service_function(template: Template) -> tuple[str, dict[str, Any]]:
    """The function the aliases point at (its logical id and properties): not the
    migration function, which runs the same bundle and handler."""
    aliases = template.find_resources("AWS::Lambda::Alias").values()
    (logical_id,) = {alias["Properties"]["FunctionName"]["Ref"] for alias in aliases}
    return logical_id, template.find_resources("AWS::Lambda::Function")[logical_id]["Properties"]


def _statements(template: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    found = []
    for logical_id, resource in template["Resources"].items():
        if resource["Type"] not in IDENTITY_POLICY_TYPES:
            continue
        properties = resource["Properties"]
        documents = [properties["PolicyDocument"]] if "PolicyDocument" in properties else []
        documents += [policy["PolicyDocument"] for policy in properties.get("Policies", [])]
        for document in documents:
            for statement in document["Statement"]:
                found.append((logical_id, statement))
    return found


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def test_every_stack_synthesizes_without_an_account(synthesized: Any) -> None:
    names = {stack.stack_name for stack in synthesized.assembly.stacks}
    stage = synthesized.platform.stage.name
    assert names == {
        f"coupon-platform-{stage}-data",
        f"coupon-platform-{stage}-api",
        *(f"coupon-platform-{stage}-{service.directory}" for service in SERVICES),
    }
    for stack in synthesized.platform.stacks:
        # Environment-agnostic: no account or region was looked up or assumed.
        assert Token.is_unresolved(stack.account)
        assert Token.is_unresolved(stack.region)
    # No lookups: the CLI would have to ask AWS for missing context before deploying.
    manifest = json.loads((synthesized.outdir / "manifest.json").read_text())
    assert manifest.get("missing", []) == []


SECRET_VARIABLES = (
    "AUTH_SIGNING_KEY",
    "AUTH_PREVIOUS_SIGNING_KEY",
    "BOOTSTRAP_ADMIN_PASSWORD",
    "SERVER_SECRET",
    "PREVIOUS_SERVER_SECRET",
)


def test_no_function_configuration_holds_a_secret(synthesized: Any) -> None:
    """Secrets are named in SECRET_ENVIRONMENT and read at cold start; a function's
    configuration is readable by anyone who may read the function."""
    functions = 0
    for name, template in _templates(synthesized).items():
        for logical_id, resource in template["Resources"].items():
            if resource["Type"] != "AWS::Lambda::Function":
                continue
            functions += 1
            variables = resource["Properties"].get("Environment", {}).get("Variables", {})
            leaked = {"DATABASE_URL", *SECRET_VARIABLES} & set(variables)
            assert not leaked, (name, logical_id, leaked)
    assert functions >= len(SERVICES)


def test_no_unsuppressed_cdk_nag_findings(synthesized: Any) -> None:
    rules = Match.string_like_regexp("AwsSolutions-.*")
    for stack in synthesized.platform.stacks:
        annotations = Annotations.from_stack(stack)
        findings = annotations.find_error("*", rules) + annotations.find_warning("*", rules)
        assert findings == [], [f"{f.id}: {f.entry.data}" for f in findings]


def test_every_suppression_states_its_reason(synthesized: Any) -> None:
    suppressions = []
    for template in _templates(synthesized).values():
        for resource in template["Resources"].values():
            nag = resource.get("Metadata", {}).get("cdk_nag", {})
            suppressions += nag.get("rules_to_suppress", [])
    assert suppressions
    for suppression in suppressions:
        assert len(suppression["reason"].split()) >= 8, suppression


def test_cfn_lint_finds_no_errors(synthesized: Any) -> None:
    templates = sorted(str(path) for path in synthesized.outdir.glob("*.template.json"))
    cfn_lint = Path(sys.executable).with_name("cfn-lint")
    done = subprocess.run(  # noqa: S603
        [str(cfn_lint), "--format", "parseable", *templates],
        capture_output=True,
        text=True,
        check=False,
    )
    # cfn-lint's exit code is a bit mask: 2 errors, 4 warnings, 8 informational.
    assert done.returncode & 2 == 0, done.stdout + done.stderr  # errors
    assert done.returncode & 1 == 0, done.stdout + done.stderr  # cfn-lint itself failed


def test_no_identity_policy_has_a_wildcard(synthesized: Any) -> None:
    for name, template in _templates(synthesized).items():
        for logical_id, statement in _statements(template):
            if statement.get("Action") == XRAY_ACTIONS and statement["Resource"] == "*":
                continue
            actions = _as_list(statement.get("Action", [])) + _as_list(
                statement.get("NotAction", [])
            )
            assert not [a for a in actions if "*" in a], (name, logical_id, statement)
            resources = json.dumps(statement.get("Resource", []))
            assert "*" not in resources, (name, logical_id, statement)


def test_every_role_carries_the_stages_boundary_and_stays_within_it(synthesized: Any) -> None:
    """CloudFormation's execution policy (infra.stacks.ci_access) creates no role without
    the boundary; a grant beyond it would fail at runtime, so none may be written."""
    stage = synthesized.platform.stage
    boundary = f":policy/{role_boundary_name(stage.name)}"
    for name, template in _templates(synthesized).items():
        for logical_id, resource in template["Resources"].items():
            if resource["Type"] != "AWS::IAM::Role":
                continue
            properties = resource["Properties"]
            assert boundary in json.dumps(properties.get("PermissionsBoundary")), (name, logical_id)
            for arn in properties.get("ManagedPolicyArns", []):
                (policy,) = [p for p in MANAGED_POLICY_SERVICES if f"/{p}" in json.dumps(arn)]
                assert MANAGED_POLICY_SERVICES[policy] <= set(ROLE_BOUNDARY_SERVICES), policy
        for logical_id, statement in _statements(template):
            if statement.get("Effect") != "Allow" or "Principal" in statement:
                continue
            for action in _as_list(statement["Action"]):
                assert action.split(":")[0] in ROLE_BOUNDARY_SERVICES, (name, logical_id, action)


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.directory)
def test_service_function(synthesized: Any, service: ServiceRoutes) -> None:
    template = _service_template(synthesized, service)
    stage = synthesized.platform.stage
    # The service's, its migrations', its database bootstrap's, and a provider framework's
    # for each of the two triggers.
    template.resource_count_is("AWS::Lambda::Function", 5)
    template.has_resource_properties(
        "AWS::Lambda::Function",
        {
            "Runtime": "python3.12",
            "Architectures": ["arm64"],
            "Handler": "main.handler",
            "MemorySize": stage.function_memory_mb,
            "VpcConfig": Match.object_like({"SubnetIds": Match.any_value()}),
            "DeadLetterConfig": Match.object_like({"TargetArn": Match.any_value()}),
            "TracingConfig": {"Mode": "Active"},
            "Environment": {
                "Variables": Match.object_like(
                    {
                        "ENVIRONMENT": stage.name,
                        "DATABASE_BEHIND_PROXY": "true",
                        "DATABASE_SECRET_ARN": Match.any_value(),
                        "DATABASE_PROXY_ENDPOINT": Match.any_value(),
                        "DATABASE_POOL_SIZE": "1",
                        "DATABASE_READ_POOL_SIZE": "1",
                        "AUDIT_TABLE": Match.any_value(),
                        "CACHE_TABLE": Match.any_value(),
                        "EVENT_BUS_NAME": Match.any_value(),
                        "JWT_ISSUER": Match.any_value(),
                        "JWT_JWKS": Match.any_value(),
                        "SECRET_ENVIRONMENT": Match.any_value(),
                    }
                )
            },
        },
    )
    _, function = _service_function(template)
    # The code learns how long it may run from the function itself (core.idempotency).
    assert function["Environment"]["Variables"]["REQUEST_TIMEOUT_SECONDS"] == str(
        function["Timeout"]
    )
    reserved = function.get("ReservedConcurrentExecutions")
    assert reserved == stage.function_reserved_concurrency
    # A sweep delivers for at most half the timeout: the batch in flight when its budget
    # runs out ends inside the timeout, and the claim's lease outlasts the invocation.
    budget = float(function["Environment"]["Variables"]["OUTBOX_SWEEP_BUDGET_SECONDS"])
    assert 0 < budget <= function["Timeout"] / 2
    assert timedelta(seconds=function["Timeout"]) < CLAIM_LEASE
    # SnapStart where the stage turns it on (prod): every published version is a snapshot.
    snap_start = {"ApplyOn": "PublishedVersions"} if stage.function_snap_start else None
    assert function.get("SnapStart") == snap_start


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.directory)
def test_service_function_delivers_its_events_after_the_response(
    synthesized: Any, service: ServiceRoutes
) -> None:
    _, function = _service_function(_service_template(synthesized, service))
    variables = function["Environment"]["Variables"]
    # The setting core.aws_lambda reads to register its internal extension at init; an
    # internal extension needs no layer.
    assert variables["LAMBDA_DELIVERY_EXTENSION"] == "true"
    assert "lambda_delivery_extension" in PlatformSettings.model_fields
    assert "Layers" not in function


def test_svc_coupons_calls_svc_merchants_on_the_http_api(synthesized: Any) -> None:
    """CouponsSettings.check_for refuses to start deployed without COUPONS_MERCHANTS_API_URL;
    svc-merchants' public endpoints are on the same API as everything else."""
    stack = synthesized.platform.services["coupons"]
    _, function = _service_function(Template.from_stack(stack))
    variables = function["Environment"]["Variables"]
    assert variables["COUPONS_MERCHANTS_API_URL"] == variables["JWT_ISSUER"]
    exported = variables["COUPONS_MERCHANTS_API_URL"]["Fn::ImportValue"]
    assert exported.startswith(f"{synthesized.platform.api.stack_name}:")
    assert "ApiEndpoint" in exported


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.directory)
def test_service_routes_come_from_the_route_table(synthesized: Any, service: ServiceRoutes) -> None:
    template = _service_template(synthesized, service)
    routes = template.find_resources("AWS::ApiGatewayV2::Route")
    route_keys = {route["Properties"]["RouteKey"] for route in routes.values()}
    assert route_keys == {
        f"ANY {path}" for prefix in service.prefixes for path in route_paths(prefix)
    }
    template.has_resource_properties(
        "AWS::ApiGatewayV2::Integration",
        {"IntegrationType": "AWS_PROXY", "PayloadFormatVersion": "2.0"},
    )


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.directory)
def test_service_grants_are_exactly_what_it_uses(synthesized: Any, service: ServiceRoutes) -> None:
    stack = synthesized.platform.services[service.name]
    template = stack.resolve(Template.from_stack(stack).to_json())
    role = {"Ref": stack.get_logical_id(stack.function.role.node.default_child)}
    statements = [
        statement
        for resource in template["Resources"].values()
        if resource["Type"] == "AWS::IAM::Policy" and role in resource["Properties"]["Roles"]
        for statement in resource["Properties"]["PolicyDocument"]["Statement"]
    ]
    actions = {action for statement in statements for action in _as_list(statement["Action"])}
    assert actions == {
        *AUDIT_ACTIONS,
        *CACHE_ACTIONS,
        "events:PutEvents",
        "secretsmanager:GetSecretValue",
        "secretsmanager:DescribeSecret",
        "sqs:SendMessage",  # its dead-letter queue
        *XRAY_ACTIONS,  # active tracing
    }
    secret_reads = [s for s in statements if "secretsmanager:GetSecretValue" in s["Action"]]
    deployment = deployment_for(service)
    # The database's, plus the service's own (its server secret, current and previous):
    # one statement, one resource, each.
    expected = (
        3
        + len(deployment.operator_secrets)
        + len(deployment.optional_operator_secrets)
        + len(deployment.generated_secrets)
    )
    assert len(secret_reads) == expected
    assert all(not isinstance(s["Resource"], list) for s in secret_reads)
    # Its own database role's credentials; the master secret is the bootstrap's alone.
    (database_read,) = [s for s in secret_reads if "ExportsOutputRefDatabase" in json.dumps(s)]
    assert f"ExportsOutputRefDatabase{service.name.title()}Secret" in json.dumps(database_read)
    # Its own events only: the source every consumer's rule trusts for this producer.
    (put_events,) = [s for s in statements if "events:PutEvents" in _as_list(s["Action"])]
    assert _as_list(put_events["Action"]) == ["events:PutEvents"]
    assert put_events["Condition"] == {
        "StringEquals": {"events:source": f"coupon-platform.{service.name}"}
    }


def _alarmed_metric(alarm: dict[str, Any]) -> tuple[str, str] | None:
    """(namespace, metric name) of an alarm on one metric, however CloudFormation spells
    it (a labelled metric comes as a one-item `Metrics`); None for a metric-math alarm."""
    properties = alarm["Properties"]
    if "MetricName" in properties:
        return properties["Namespace"], properties["MetricName"]
    if any("Expression" in metric for metric in properties["Metrics"]):
        return None
    (only,) = properties["Metrics"]
    metric = only["MetricStat"]["Metric"]
    return metric["Namespace"], metric["MetricName"]


def _alarm_dimensions(alarm: dict[str, Any]) -> list[dict[str, Any]]:
    properties = alarm["Properties"]
    if "Dimensions" in properties:
        return list(properties["Dimensions"])
    return [
        dimension
        for metric in properties.get("Metrics", [])
        if "MetricStat" in metric
        for dimension in metric["MetricStat"]["Metric"].get("Dimensions", [])
    ]


def _ref(stack: Any, construct: Any) -> dict[str, str]:
    return {"Ref": stack.get_logical_id(construct.node.default_child)}


def _invoke_configs(template: Template) -> dict[str, dict[str, Any]]:
    """Event-invoke configs by the alias they apply to (Ref of the alias)."""
    found = {}
    for config in template.find_resources("AWS::Lambda::EventInvokeConfig").values():
        qualifier = config["Properties"]["Qualifier"]
        alias = qualifier["Fn::Select"][1]["Fn::Split"][1]["Ref"]
        found[alias] = config["Properties"]
    return found


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.directory)
def test_service_alarms_migrations_events_and_sweep(
    synthesized: Any, service: ServiceRoutes
) -> None:
    stack = synthesized.platform.services[service.name]
    stage = synthesized.platform.stage
    template = Template.from_stack(stack)
    alarms = template.find_resources("AWS::CloudWatch::Alarm")
    namespace = f"CouponPlatform/{stage.name}"
    metrics = {found for a in alarms.values() if (found := _alarmed_metric(a)) is not None}
    assert metrics == {
        ("AWS/Lambda", "Errors"),
        ("AWS/Lambda", "Throttles"),
        ("AWS/SQS", "ApproximateNumberOfMessagesVisible"),
        (namespace, "Latency"),  # p99
        (namespace, "OutboxLagSeconds"),
        (namespace, "OutboxDeadLettered"),
    }
    (rate,) = [a["Properties"] for a in alarms.values() if _alarmed_metric(a) is None]
    used = [m["MetricStat"]["Metric"] for m in rate["Metrics"] if "MetricStat" in m]
    assert {m["MetricName"] for m in used} == {"Latency"}
    assert {"Name": "StatusClass", "Value": "5xx"} in [d for m in used for d in m["Dimensions"]]
    alert_topic = synthesized.platform.data.alerts.topic.node.default_child
    topic = synthesized.platform.data.get_logical_id(alert_topic)
    for alarm in alarms.values():
        (action,) = alarm["Properties"]["AlarmActions"]
        assert topic in json.dumps(action), "every alarm notifies the stage's alert topic"
        for dimension in _alarm_dimensions(alarm):
            if dimension["Name"] == "Service":
                assert dimension["Value"] == service.name
    # On the function's name alone: every alias and version counts, the sweep's among them
    # (a sweep that cannot deliver raises OutboxDeliveryFailed).
    (errors,) = [a for a in alarms.values() if _alarmed_metric(a) == ("AWS/Lambda", "Errors")]
    assert [d["Name"] for d in errors["Properties"]["Dimensions"]] == ["FunctionName"]
    assert errors["Properties"]["Threshold"] == 1

    template.has_resource_properties(
        "Custom::ServiceMigrations", {"action": "migrate", "version": Match.any_value()}
    )
    live = _ref(stack, stack.function.live)
    sweep = _ref(stack, stack.function.sweep)
    invoke_configs = _invoke_configs(template)
    # Lambda retries a failed consumer; a failed sweep is not retried (the next comes soon).
    assert invoke_configs[live["Ref"]]["MaximumRetryAttempts"] == 2
    assert invoke_configs[sweep["Ref"]]["MaximumRetryAttempts"] == 0
    assert invoke_configs[sweep["Ref"]]["MaximumEventAgeInSeconds"] == (
        stage.outbox_sweep_every.to_seconds()
    )
    assert len(invoke_configs) == 2  # nothing else is invoked asynchronously

    rules = template.find_resources("AWS::Events::Rule")
    schedules = [r for r in rules.values() if "ScheduleExpression" in r["Properties"]]
    assert len(schedules) == 1
    (sweep_target,) = schedules[0]["Properties"]["Targets"]
    assert sweep_target["Arn"] == sweep
    assert sweep_target["RetryPolicy"]["MaximumRetryAttempts"] == 0
    consumed = [r["Properties"] for r in rules.values() if "EventPattern" in r["Properties"]]
    consumes = deployment_for(service).consumes
    patterns = {tuple(rule["EventPattern"]["source"]): rule for rule in consumed}
    expected: dict[tuple[str, ...], set[str]] = {}
    for detail_type in consumes:
        producer = f"coupon-platform.{EVENT_PRODUCERS[detail_type]}"
        expected.setdefault((producer,), set()).add(detail_type)
    # Exact sources, one rule per producer: a detail-type only from the service owning it.
    assert {
        source: set(rule["EventPattern"]["detail-type"]) for source, rule in patterns.items()
    } == expected
    for rule in consumed:
        assert rule["EventPattern"].keys() == {"source", "detail-type"}
        (target,) = rule["Targets"]
        assert target["Arn"] == live


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.directory)
def test_nothing_serves_before_its_migrations_ran(synthesized: Any, service: ServiceRoutes) -> None:
    """The routes, their integration and invoke permissions, and the aliases every trigger
    invokes all wait for the migration trigger: on the first deploy nothing reaches the
    function before its tables exist, and on later ones the aliases move to the new
    version only after its migrations succeeded."""
    stack = synthesized.platform.services[service.name]
    template = Template.from_stack(stack)
    migrations = stack.get_logical_id(stack.migrations.resource.node.default_child)
    waiting = {
        "AWS::ApiGatewayV2::Route",
        "AWS::ApiGatewayV2::Integration",
        "AWS::Lambda::Alias",
    }
    for kind in waiting:
        resources = template.find_resources(kind)
        assert resources, kind
        for logical_id, resource in resources.items():
            assert migrations in resource.get("DependsOn", []), (kind, logical_id)
    live = _ref(stack, stack.function.live)
    permissions = template.find_resources(
        "AWS::Lambda::Permission", {"Properties": {"Principal": "apigateway.amazonaws.com"}}
    )
    assert permissions
    for permission in permissions.values():
        assert permission["Properties"]["FunctionName"] == live
        assert migrations in permission["DependsOn"]
    for integration in template.find_resources("AWS::ApiGatewayV2::Integration").values():
        assert integration["Properties"]["IntegrationUri"] == live
    # The migrations run, in the migration function, the code and settings of the version
    # the aliases then point at.
    (alias_versions,) = {
        json.dumps(alias["Properties"]["FunctionVersion"])
        for alias in template.find_resources("AWS::Lambda::Alias").values()
    }
    (trigger,) = template.find_resources("Custom::ServiceMigrations").values()
    assert json.dumps(trigger["Properties"]["serves"]) == alias_versions
    migration_function = stack.get_logical_id(stack.migrations.function.node.default_child)
    (migration_version,) = [
        logical_id
        for logical_id, version in template.find_resources("AWS::Lambda::Version").items()
        if version["Properties"]["FunctionName"] == {"Ref": migration_function}
    ]
    assert trigger["Properties"]["version"] == {"Fn::GetAtt": [migration_version, "Version"]}
    functions = template.find_resources("AWS::Lambda::Function")
    migrating = functions[migration_function]["Properties"]
    _, serving = _service_function(template)
    assert migrating["Code"] == serving["Code"]
    assert migrating["Handler"] == serving["Handler"]
    assert migrating["Role"] == serving["Role"]


def test_each_service_publishes_under_its_own_source_what_the_producers_map_says() -> None:
    """infra.config.EVENT_PRODUCERS against the services: the producer names each event
    type among its own, and every service's events carry its name as their source."""
    import importlib

    for service in SERVICES:
        events = importlib.import_module(f"{service.package}.services.events")
        assert service.name == events.SOURCE
        published = {v for k, v in vars(events).items() if k.isupper() and isinstance(v, str)}
        owned = {t for t, producer in EVENT_PRODUCERS.items() if producer == service.name}
        assert owned <= published, (service.name, owned - published)
    consumed = {t for s in SERVICES for t in deployment_for(s).consumes}
    assert consumed <= set(EVENT_PRODUCERS)


MASTER_SECRET = "ExportsOutputRefDatabaseInstanceSecretAttachment"


def test_each_service_connects_as_its_own_database_role(synthesized: Any) -> None:
    """One login role per service, each with its own secret registered with the proxy; the
    master secret is read by the bootstrap steps only, which run before the migrations."""
    platform = synthesized.platform
    stage = platform.stage
    data = Template.from_stack(platform.data)
    secrets = data.find_resources("AWS::SecretsManager::Secret")
    by_name = {s["Properties"].get("Name"): s for s in secrets.values()}
    (proxy,) = data.find_resources("AWS::RDS::DBProxy").values()
    auth = proxy["Properties"]["Auth"]
    assert len(auth) == 1 + len(SERVICES)  # the master user, and each service's role
    for service in SERVICES:
        secret = by_name[f"coupon-platform/{stage.name}/db-{service.name}"]
        template = json.loads(secret["Properties"]["GenerateSecretString"]["SecretStringTemplate"])
        assert template == {"username": f"svc_{service.name}", "dbname": "coupons"}
        assert secret["DeletionPolicy"] == (KEPT if stage.keep_data else "Delete")

    for service in SERVICES:
        stack = platform.services[service.name]
        template = Template.from_stack(stack)
        resources = template.to_json()["Resources"]
        bootstrap_role = stack.get_logical_id(stack.database_role.role.node.default_child)
        for logical_id, resource in resources.items():
            if resource["Type"] != "AWS::IAM::Policy":
                continue
            reads_master = MASTER_SECRET in json.dumps(resource["Properties"]["PolicyDocument"])
            roles = resource["Properties"]["Roles"]
            assert reads_master == (roles == [{"Ref": bootstrap_role}]), (service, logical_id)
        (bootstrap,) = template.find_resources(
            "AWS::Lambda::Function",
            {"Properties": {"Handler": "core.aws_lambda.database_role.bootstrap_database_role"}},
        ).values()
        variables = bootstrap["Properties"]["Environment"]["Variables"]
        assert variables["DATABASE_SCHEMA"] == service.name
        assert MASTER_SECRET in json.dumps(variables["DATABASE_MASTER_SECRET_ARN"])
        # The migrations, as the role, after the role and its schema exist.
        migrations = stack.get_logical_id(stack.migrations.resource.node.default_child)
        database_role = stack.get_logical_id(stack.database_role.resource.node.default_child)
        assert database_role in resources[migrations]["DependsOn"]
        assert resources[database_role]["Properties"]["role"] == f"svc_{service.name}"
        # The limits are the resource's: changing them runs the bootstrap again.
        assert resources[database_role]["Properties"]["session_limits"] == dict(SESSION_LIMITS)


def test_each_service_schema_is_named_like_the_service() -> None:
    """The bootstrap gives role svc_<name> the schema <name>: what the models use."""
    import importlib

    for service in SERVICES:
        models = importlib.import_module(f"{service.package}.repositories.schema_model.models")
        assert service.name == models.SCHEMA


def test_a_service_stack_depends_only_on_the_shared_stacks(synthesized: Any) -> None:
    platform = synthesized.platform
    for stack in platform.services.values():
        assert set(stack.dependencies) <= {platform.data, platform.api}


def test_stages_differ_in_protection_and_size(synthesized: Any) -> None:
    stage = synthesized.platform.stage
    data = Template.from_stack(synthesized.platform.data)
    data.has_resource(
        "AWS::RDS::DBInstance",
        {
            "DeletionPolicy": KEPT if stage.keep_data else "Delete",
            "Properties": Match.object_like(
                {
                    "MultiAZ": stage.database_multi_az,
                    "DeletionProtection": stage.keep_data,
                    "StorageEncrypted": True,
                    "DBInstanceClass": f"db.{stage.database_instance_type}",
                }
            ),
        },
    )
    data.has_resource_properties(
        "AWS::RDS::DBProxy", {"RequireTLS": True, "EngineFamily": "POSTGRESQL"}
    )
    tables = data.find_resources("AWS::DynamoDB::Table")
    assert len(tables) == 2
    for table in tables.values():
        assert table["DeletionPolicy"] == (KEPT if stage.keep_data else "Delete")
        recovery = table["Properties"]["PointInTimeRecoverySpecification"]
        assert recovery["PointInTimeRecoveryEnabled"] is True
    ttls = [t["Properties"].get("TimeToLiveSpecification") for t in tables.values()]
    assert {"AttributeName": "expires_at", "Enabled": True} in ttls
    data.resource_count_is("AWS::Events::EventBus", 1)
    # Per stage, or two stages in one account and region would collide.
    data.has_resource_properties(
        "AWS::RDS::DBProxy", {"DBProxyName": f"coupon-platform-{stage.name}-db-proxy"}
    )
    # Kept with the instance they open: prod must not keep a database without its
    # passwords. The master's first (the instance's own password refers to it).
    (instance,) = data.find_resources("AWS::RDS::DBInstance").values()
    password = json.dumps(instance["Properties"]["MasterUserPassword"])
    secrets = data.find_resources("AWS::SecretsManager::Secret")
    (master,) = [logical_id for logical_id in secrets if f'"Ref": "{logical_id}"' in password]
    assert set(secrets) - {master}, "and each service's role"
    for secret in secrets.values():
        assert secret["DeletionPolicy"] == (KEPT if stage.keep_data else "Delete")
        assert secret["UpdateReplacePolicy"] == ("Retain" if stage.keep_data else "Delete")


def test_what_prod_keeps_a_failed_first_create_does_not(synthesized: Any) -> None:
    """Everything kept is kept except on create (so a retried first deploy finds no
    fixed-name secret or instance left over), and on replacement too."""
    stage = synthesized.platform.stage
    kept: dict[str, set[tuple[str, str]]] = {}  # type -> (stack, logical id)
    for name, template in _templates(synthesized).items():
        for logical_id, resource in template["Resources"].items():
            policies = (resource.get("DeletionPolicy"), resource.get("UpdateReplacePolicy"))
            if policies == (None, None) or policies == ("Delete", "Delete"):
                continue
            assert stage.keep_data, (name, logical_id, policies)
            assert policies == (KEPT, "Retain"), (name, logical_id, policies)
            kept.setdefault(resource["Type"], set()).add((name, logical_id))
    if not stage.keep_data:
        return
    # The instance with its passwords and what it sits in, the tables, the logs.
    assert {
        "AWS::RDS::DBInstance",
        "AWS::RDS::DBSubnetGroup",
        "AWS::EC2::SecurityGroup",
        "AWS::SecretsManager::Secret",
        "AWS::DynamoDB::Table",
        "AWS::Logs::LogGroup",
    } <= set(kept)
    secrets = kept["AWS::SecretsManager::Secret"]
    # The master, each service's database role, the bootstrap admin, each service's own.
    assert len(secrets) == 1 + len(SERVICES) + 1 + len(SERVICES)
    assert [g for _, g in kept["AWS::EC2::SecurityGroup"] if g.startswith("DatabaseInstance")]


def test_the_database_runs_the_postgres_version_the_tests_check(synthesized: Any) -> None:
    """tests/infra/test_postgres_version.py holds the tests' server to its major version."""
    data = Template.from_stack(synthesized.platform.data)
    data.has_resource_properties(
        "AWS::RDS::DBInstance", {"Engine": "postgres", "EngineVersion": RDS_POSTGRES_VERSION}
    )


def _subnets_by_group(template: dict[str, Any]) -> dict[str, set[str]]:
    groups: dict[str, set[str]] = {}
    for logical_id, resource in template["Resources"].items():
        if resource["Type"] == "AWS::EC2::Subnet":
            tags = {t["Key"]: t["Value"] for t in resource["Properties"]["Tags"]}
            groups.setdefault(tags["aws-cdk:subnet-name"], set()).add(logical_id)
    return groups


def _default_routes(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Subnet -> its route to 0.0.0.0/0, if any."""
    resources = template["Resources"]
    table_of = {
        r["Properties"]["SubnetId"]["Ref"]: r["Properties"]["RouteTableId"]["Ref"]
        for r in resources.values()
        if r["Type"] == "AWS::EC2::SubnetRouteTableAssociation"
    }
    routes = {
        r["Properties"]["RouteTableId"]["Ref"]: r["Properties"]
        for r in resources.values()
        if r["Type"] == "AWS::EC2::Route" and r["Properties"]["DestinationCidrBlock"] == "0.0.0.0/0"
    }
    return {subnet: routes[table] for subnet, table in table_of.items() if table in routes}


def test_network_database_isolated_functions_behind_nat(synthesized: Any) -> None:
    platform = synthesized.platform
    stage = platform.stage
    data = Template.from_stack(platform.data)
    template = data.to_json()
    resources = template["Resources"]
    data.resource_count_is("AWS::EC2::NatGateway", stage.nat_gateways)
    data.resource_count_is("AWS::EC2::InternetGateway", 1)
    for subnet in data.find_resources("AWS::EC2::Subnet").values():
        assert subnet["Properties"]["MapPublicIpOnLaunch"] is False
    groups = _subnets_by_group(template)
    assert set(groups) == {"public", "services", "database"}
    default_routes = _default_routes(template)
    # The database's subnets: no way out of the VPC.
    assert not groups["database"] & set(default_routes)
    # The functions' subnets: out through NAT, never straight to the internet gateway.
    for subnet in groups["services"]:
        assert "NatGatewayId" in default_routes[subnet], subnet
    # The database and its proxy in the isolated subnets only.
    database_subnets = [{"Ref": s} for s in sorted(groups["database"])]
    (proxy,) = data.find_resources("AWS::RDS::DBProxy").values()
    assert sorted(proxy["Properties"]["VpcSubnetIds"], key=str) == database_subnets
    (subnet_group,) = data.find_resources("AWS::RDS::DBSubnetGroup").values()
    assert sorted(subnet_group["Properties"]["SubnetIds"], key=str) == database_subnets
    # AWS traffic stays on the endpoints, NAT or not.
    endpoints = data.find_resources("AWS::EC2::VPCEndpoint")
    services = {json.dumps(e["Properties"]["ServiceName"]) for e in endpoints.values()}
    assert len(endpoints) == 3
    for name in ("dynamodb", "secretsmanager", "events"):
        assert any(f".{name}" in s for s in services), (name, services)
    # The functions' group: HTTPS out, PostgreSQL to the proxy, nothing else.
    sg_id = platform.data.get_logical_id(
        platform.data.network.services_security_group.node.default_child
    )
    group = resources[sg_id]["Properties"]
    rules = [
        {k: v for k, v in rule.items() if k != "Description"}
        for rule in group["SecurityGroupEgress"]
    ]
    assert rules == [{"CidrIp": "0.0.0.0/0", "FromPort": 443, "IpProtocol": "tcp", "ToPort": 443}]
    egress = [
        r["Properties"]
        for r in resources.values()
        if r["Type"] == "AWS::EC2::SecurityGroupEgress"
        and r["Properties"]["GroupId"] == {"Fn::GetAtt": [sg_id, "GroupId"]}
    ]
    assert {(e["FromPort"], e["ToPort"]) for e in egress} == {(443, 443), (5432, 5432)}
    assert all(e["IpProtocol"] == "tcp" for e in egress)

    # The functions run in the services subnets.
    exports = {
        output["Export"]["Name"]: output["Value"]
        for output in template["Outputs"].values()
        if "Export" in output
    }
    for stack in platform.services.values():
        _, function = _service_function(Template.from_stack(stack))
        subnets = {exports[s["Fn::ImportValue"]]["Ref"] for s in function["VpcConfig"]["SubnetIds"]}
        assert subnets == groups["services"]


def test_api_stage_logs_throttles_and_allows_the_portals(synthesized: Any) -> None:
    stage = synthesized.platform.stage
    api = Template.from_stack(synthesized.platform.api)
    api.has_resource_properties(
        "AWS::ApiGatewayV2::Stage",
        {
            "StageName": "$default",
            "AutoDeploy": True,
            "AccessLogSettings": Match.object_like({"DestinationArn": Match.any_value()}),
            "DefaultRouteSettings": {
                "ThrottlingRateLimit": stage.api_rate_limit,
                "ThrottlingBurstLimit": stage.api_burst_limit,
            },
        },
    )
    api.has_resource_properties(
        "AWS::ApiGatewayV2::Api",
        {
            "ProtocolType": "HTTP",
            "CorsConfiguration": Match.object_like({"AllowOrigins": list(stage.portal_origins)}),
        },
    )


def test_access_logs_hold_no_request_path(synthesized: Any) -> None:
    """A coupon's code is part of its paths; the route key is not."""
    api = Template.from_stack(synthesized.platform.api)
    (stage,) = api.find_resources("AWS::ApiGatewayV2::Stage").values()
    log_format = stage["Properties"]["AccessLogSettings"]["Format"]
    assert json.loads(log_format) == ACCESS_LOG_FIELDS
    assert "$context.path" not in log_format
    assert "$context.routeKey" in log_format


def test_api_5xx_answers_raise_an_alarm(synthesized: Any) -> None:
    """Mangum answers an unhandled error with a 500 response: the functions' Errors alarm
    never sees it."""
    api = Template.from_stack(synthesized.platform.api)
    (alarm,) = api.find_resources("AWS::CloudWatch::Alarm").values()
    properties = alarm["Properties"]
    assert (properties["Namespace"], properties["MetricName"]) == ("AWS/ApiGateway", "5xx")
    api_id = synthesized.platform.api.get_logical_id(
        synthesized.platform.api.http_api.node.default_child
    )
    assert properties["Dimensions"] == [{"Name": "ApiId", "Value": {"Ref": api_id}}]
    assert properties["Statistic"] == "Sum"
    assert properties["Threshold"] == 1
    assert properties["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    assert properties["AlarmActions"], "it notifies the alert topic"


def test_the_bootstrap_password_secret_is_named_in_an_output(synthesized: Any) -> None:
    stack = synthesized.platform.services["auth"]
    stage = synthesized.platform.stage
    outputs = Template.from_stack(stack).find_outputs("BootstrapAdminPasswordSecret")
    (output,) = outputs.values()
    assert output["Value"] == f"coupon-platform/{stage.name}/bootstrap-admin-password"
    names = sorted(
        r["Properties"]["Name"]
        for r in Template.from_stack(stack).find_resources("AWS::SecretsManager::Secret").values()
    )
    assert names == [
        f"coupon-platform/{stage.name}/auth-server-secret",
        f"coupon-platform/{stage.name}/bootstrap-admin-password",
    ]


def test_each_service_generates_its_own_server_secret(synthesized: Any) -> None:
    stage = synthesized.platform.stage
    for name, stack in synthesized.platform.services.items():
        secrets = Template.from_stack(stack).find_resources("AWS::SecretsManager::Secret")
        assert f"coupon-platform/{stage.name}/{name}-server-secret" in {
            r["Properties"]["Name"] for r in secrets.values()
        }


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.directory)
def test_event_rules_match_the_consumers_the_app_registers(
    service: ServiceRoutes, platform_settings: PlatformSettings
) -> None:
    """infra.config lists what each service consumes; the app is the authority."""
    app = app_factory(service)(platform=platform_settings)
    registered = set(getattr(app.state, "consumers", {}))
    assert set(deployment_for(service).consumes) == registered


def _versions(template: Template) -> set[str]:
    """The service function's versions (not its migration function's or bootstrap's)."""
    function, _ = _service_function(template)
    return {
        logical_id
        for logical_id, version in template.find_resources("AWS::Lambda::Version").items()
        if version["Properties"]["FunctionName"] == {"Ref": function}
    }


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.directory)
def test_each_service_has_a_dashboard_of_its_own(synthesized: Any, service: ServiceRoutes) -> None:
    stack = synthesized.platform.services[service.name]
    stage = synthesized.platform.stage
    template = Template.from_stack(stack)
    (dashboard,) = template.find_resources("AWS::CloudWatch::Dashboard").values()
    assert (
        dashboard["Properties"]["DashboardName"]
        == f"coupon-platform-{stage.name}-{service.directory}"
    )
    body = json.dumps(stack.resolve(dashboard["Properties"]["DashboardBody"]))
    for shown in (
        "Latency",
        "BusinessEvents",
        "OutboxLagSeconds",
        "ApproximateNumberOfMessagesVisible",
        "CPUUtilization",
        "DatabaseConnectionsCurrentlySessionPinned",
        "WriteThrottleEvents",
        "ConcurrentExecutions",
    ):
        assert shown in body, shown
    # Its alarms' states, each of them.
    alarms = template.find_resources("AWS::CloudWatch::Alarm")
    for logical_id in alarms:
        assert logical_id in body, logical_id


def test_the_shared_data_alarms_once_per_stage(synthesized: Any) -> None:
    """The database, its proxy and the tables serve every service: alarmed once, in the
    data stack, not once per service stack."""
    data = Template.from_stack(synthesized.platform.data)
    stage = synthesized.platform.stage
    found = data.find_resources("AWS::CloudWatch::Alarm").values()
    by_metric = {_alarmed_metric(a): a["Properties"] for a in found}
    alarms = list(by_metric.values())
    assert ("AWS/RDS", "CPUUtilization") in by_metric
    connections = by_metric[("AWS/RDS", "DatabaseConnections")]
    assert connections["Threshold"] == stage.database_connections_alarm
    assert ("AWS/RDS", "DatabaseConnectionsCurrentlySessionPinned") in by_metric
    throttles = [a for a in found if _alarmed_metric(a) is None]
    assert len(throttles) == 2  # the audit and the cache table
    topic = synthesized.platform.data.get_logical_id(
        synthesized.platform.data.alerts.topic.node.default_child
    )
    for alarm in alarms:
        assert alarm["AlarmActions"] == [{"Ref": topic}]


def test_the_entry_point_cdk_json_runs_synthesizes(
    lambda_bundles: dict[str, Any], tmp_path: Path
) -> None:
    """What `cdk synth` and `make synth` run: cdk.json's command, in a process of its own,
    the way the CDK CLI starts it (CDK_OUTDIR, CDK_CONTEXT_JSON)."""
    command = shlex.split(json.loads(CDK_JSON.read_text())["app"])
    environment = {
        **os.environ,
        "CDK_OUTDIR": str(tmp_path),
        "CDK_CONTEXT_JSON": json.dumps({"stage": "dev"}),
    }
    done = subprocess.run(  # noqa: S603
        command, cwd=REPO_ROOT, env=environment, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert (tmp_path / "coupon-platform-dev-data.template.json").is_file()
    assert synthesis_errors(tmp_path) == []


def test_an_error_annotation_is_read_back_from_the_cloud_assembly(tmp_path: Path) -> None:
    """The entry point refuses to finish on these, as the CDK CLI refuses to deploy."""
    app = App(outdir=str(tmp_path))
    stack = Stack(app, "Refused")
    Annotations_.of(stack).add_error("the placeholder origin is still there")
    Annotations_.of(stack).add_warning("only a warning")
    app.synth()
    assert synthesis_errors(tmp_path) == ["Refused /Refused: the placeholder origin is still there"]


def test_the_database_stores_on_gp3_and_exports_its_log(synthesized: Any) -> None:
    data = Template.from_stack(synthesized.platform.data)
    data.has_resource_properties(
        "AWS::RDS::DBInstance",
        {"StorageType": "gp3", "EnableCloudwatchLogsExports": ["postgresql"]},
    )


def test_every_stack_and_its_resources_carry_the_cost_allocation_tags(synthesized: Any) -> None:
    stage = synthesized.platform.stage.name
    expected = {"project": "coupon-platform", "stage": stage}
    manifest = json.loads((synthesized.outdir / "manifest.json").read_text())
    stacks = {
        name: artifact
        for name, artifact in manifest["artifacts"].items()
        if artifact["type"] == "aws:cloudformation:stack"
    }
    assert len(stacks) == len(synthesized.platform.stacks)
    for name, artifact in stacks.items():
        # Stack tags: CloudFormation puts them on every resource it creates.
        assert expected.items() <= artifact["properties"].get("tags", {}).items(), name
    data = Template.from_stack(synthesized.platform.data)
    (instance,) = data.find_resources("AWS::RDS::DBInstance").values()
    tags = {tag["Key"]: tag["Value"] for tag in instance["Properties"]["Tags"]}
    assert expected.items() <= tags.items()


def test_the_alert_topic_is_an_output_to_subscribe_to(synthesized: Any) -> None:
    data_stack = synthesized.platform.data
    topic = data_stack.get_logical_id(data_stack.alerts.topic.node.default_child)
    Template.from_stack(data_stack).has_output("AlertTopicArn", {"Value": {"Ref": topic}})


def test_the_database_bootstrap_has_time_to_wait_for_a_fresh_proxy(synthesized: Any) -> None:
    """connect_when_ready retries for as long as the invocation has time: minutes, since
    a proxy created by the same deploy registers its target after CloudFormation moved on."""
    for stack in synthesized.platform.services.values():
        Template.from_stack(stack).has_resource_properties(
            "AWS::Lambda::Function", {"Handler": BOOTSTRAP_HANDLER, "Timeout": 300}
        )


def test_the_proxy_lends_within_the_budget_and_requests_time_out_in_order(
    synthesized: Any,
) -> None:
    """infra.connection_budget's figures, as deployed: the proxy keeps 10% of the
    instance's connections for people and RDS, a request waits 10 s at most for one, its
    statements run 15 s, its function 25 s, all inside API Gateway's 30 s."""
    data = Template.from_stack(synthesized.platform.data)
    data.has_resource_properties(
        "AWS::RDS::DBProxyTargetGroup",
        {
            "ConnectionPoolConfigurationInfo": {
                "ConnectionBorrowTimeout": 10,
                "MaxConnectionsPercent": 90,
                "MaxIdleConnectionsPercent": 50,
            }
        },
    )
    stage = synthesized.platform.stage
    for stack in synthesized.platform.services.values():
        template = Template.from_stack(stack)
        _, serving = _service_function(template)
        assert serving["Timeout"] == 25
        assert serving["Environment"]["Variables"]["DATABASE_STATEMENT_TIMEOUT_SECONDS"] == "15"
        migration_function = stack.get_logical_id(stack.migrations.function.node.default_child)
        migrating = template.find_resources("AWS::Lambda::Function")[migration_function]
        properties = migrating["Properties"]
        assert properties["Timeout"] == 600
        assert properties["ReservedConcurrentExecutions"] == 1
        variables = properties["Environment"]["Variables"]
        assert variables["DATABASE_STATEMENT_TIMEOUT_SECONDS"] == "300"
        assert variables["REQUEST_TIMEOUT_SECONDS"] == "600"
        # Otherwise the service function's settings: the same secrets, proxy and pools.
        for name, value in serving["Environment"]["Variables"].items():
            if name not in {"DATABASE_STATEMENT_TIMEOUT_SECONDS", "REQUEST_TIMEOUT_SECONDS"}:
                assert variables[name] == value, name
    expected_reservation = {"dev": 5, "prod": 60}[stage.name]
    assert stage.function_reserved_concurrency == expected_reservation


def test_a_stage_over_its_connection_budget_is_not_synthesized(
    lambda_bundles: dict[str, Any],
    tmp_path: Path,
    deployable_stage: Callable[[StageConfig], StageConfig],
) -> None:
    over = replace(deployable_stage(stage_config("prod")), function_reserved_concurrency=200)
    app = App(outdir=str(tmp_path), context={**cdk_json_context(), "stage": "prod"})
    bundles = {name: bundle.path for name, bundle in lambda_bundles.items()}
    with pytest.raises(ConnectionBudgetExceeded, match="1815 database connections"):
        build(app, stage=over, bundles=bundles)
    slow = replace(stage_config("dev"), function_timeout=Duration.seconds(60))
    with pytest.raises(TimeoutsDoNotNest, match="API Gateway"):
        build(App(outdir=str(tmp_path)), stage=slow, bundles=bundles)


class _DeployedValues:
    """An account's values as the synthesis reads them: a JWKS and each secret's version."""

    def __init__(self, jwks: str) -> None:
        self.jwks = jwks

    def parameter(self, name: str) -> str | None:
        return self.jwks if name.endswith("/jwt-jwks") else None

    def secret_version(self, name: str) -> str | None:
        return f"version-of-{name}"


def _every_version(template: Template) -> set[str]:
    return set(template.find_resources("AWS::Lambda::Version"))


def test_a_new_jwks_publishes_new_versions_of_every_service(
    lambda_bundles: dict[str, Any], tmp_path: Path
) -> None:
    """Functions read the JWKS and their secrets when an environment starts, and a
    version's hash covers their names, not their values: the synthesis digests the values
    (INPUTS_DIGEST), so a rotated key publishes versions that the aliases then serve, and
    an unchanged account publishes nothing."""
    bundles = {name: bundle.path for name, bundle in lambda_bundles.items()}
    synthesized: list[dict[str, Template]] = []
    for run, jwks in enumerate(('{"keys": ["old"]}', '{"keys": ["old"]}', '{"keys": ["new"]}')):
        app = App(outdir=str(tmp_path / str(run)), context={**cdk_json_context(), "stage": "dev"})
        platform = build(
            app, stage=stage_config("dev"), bundles=bundles, deployed_values=_DeployedValues(jwks)
        )
        synthesized.append(
            {name: Template.from_stack(stack) for name, stack in platform.services.items()}
        )
    first, same, rotated = synthesized
    assert set(first) == {service.name for service in SERVICES}
    for name in first:
        # The service function's versions, and its migration function's.
        assert _versions(first[name]), name
        assert _every_version(first[name]) == _every_version(same[name]), name
        assert _versions(first[name]).isdisjoint(_versions(rotated[name])), name
        assert len(_every_version(rotated[name]) - _every_version(first[name])) >= 2, name
        # The new version is what the migrations run and the aliases then serve.
        (version,) = _versions(rotated[name])
        (trigger,) = rotated[name].find_resources("Custom::ServiceMigrations").values()
        assert trigger["Properties"]["serves"] == {"Fn::GetAtt": [version, "Version"]}
        for alias in rotated[name].find_resources("AWS::Lambda::Alias").values():
            assert alias["Properties"]["FunctionVersion"] == {"Fn::GetAtt": [version, "Version"]}
        # The role bootstrap runs again too (it sets the role's password from its secret).
        (before,) = first[name].find_resources("Custom::ServiceDatabaseRole").values()
        (after,) = rotated[name].find_resources("Custom::ServiceDatabaseRole").values()
        assert before["Properties"]["inputs_digest"] != after["Properties"]["inputs_digest"]
