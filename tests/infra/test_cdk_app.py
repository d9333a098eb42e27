"""The CDK app, synthesized offline for every stage: nag findings, cfn-lint, and what each
service's stack holds."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import Token
from aws_cdk.assertions import Annotations, Match, Template

from core.config import PlatformSettings
from core.routing import SERVICES, ServiceRoutes
from devstack.services import app_factory
from infra.config import deployment_for
from infra.constructs.routes import route_paths
from infra.constructs.tables import AUDIT_ACTIONS, CACHE_ACTIONS

pytestmark = pytest.mark.slow

IDENTITY_POLICY_TYPES = ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy", "AWS::IAM::Role")


def _templates(synthesized: Any) -> dict[str, dict[str, Any]]:
    return {stack.stack_name: stack.template for stack in synthesized.assembly.stacks}


def _service_template(synthesized: Any, service: ServiceRoutes) -> Template:
    return Template.from_stack(synthesized.platform.services[service.name])


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
    assert not list(synthesized.outdir.glob("cdk.context.json"))


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
            actions = _as_list(statement.get("Action", [])) + _as_list(
                statement.get("NotAction", [])
            )
            assert not [a for a in actions if "*" in a], (name, logical_id, statement)
            resources = json.dumps(statement.get("Resource", []))
            assert "*" not in resources, (name, logical_id, statement)


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.directory)
def test_service_function(synthesized: Any, service: ServiceRoutes) -> None:
    template = _service_template(synthesized, service)
    stage = synthesized.platform.stage
    template.resource_count_is("AWS::Lambda::Function", 2)  # the service, the provider framework
    template.has_resource_properties(
        "AWS::Lambda::Function",
        {
            "Runtime": "python3.12",
            "Architectures": ["arm64"],
            "Handler": "main.handler",
            "MemorySize": stage.function_memory_mb,
            "VpcConfig": Match.object_like({"SubnetIds": Match.any_value()}),
            "DeadLetterConfig": Match.object_like({"TargetArn": Match.any_value()}),
            "Environment": {
                "Variables": Match.object_like(
                    {
                        "ENVIRONMENT": stage.name,
                        "DATABASE_BEHIND_PROXY": "true",
                        "DATABASE_SECRET_ARN": Match.any_value(),
                        "DATABASE_PROXY_ENDPOINT": Match.any_value(),
                        "DATABASE_POOL_SIZE": "1",
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
    }
    secret_reads = [s for s in statements if "secretsmanager:GetSecretValue" in s["Action"]]
    deployment = deployment_for(service)
    # The database's, plus the service's own: one statement, one resource, each.
    expected = 1 + len(deployment.operator_secrets) + len(deployment.generated_secrets)
    assert len(secret_reads) == expected
    assert all(not isinstance(s["Resource"], list) for s in secret_reads)


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.directory)
def test_service_alarms_migrations_events_and_sweep(
    synthesized: Any, service: ServiceRoutes
) -> None:
    template = _service_template(synthesized, service)
    alarms = template.find_resources("AWS::CloudWatch::Alarm")
    metrics = {
        (a["Properties"]["Namespace"], a["Properties"]["MetricName"]) for a in alarms.values()
    }
    assert metrics == {
        ("AWS/Lambda", "Errors"),
        ("AWS/Lambda", "Throttles"),
        ("AWS/SQS", "ApproximateNumberOfMessagesVisible"),
    }
    for alarm in alarms.values():
        assert alarm["Properties"]["AlarmActions"], "every alarm notifies the alert topic"

    template.has_resource_properties(
        "Custom::ServiceMigrations", {"action": "migrate", "version": Match.any_value()}
    )
    rules = template.find_resources("AWS::Events::Rule")
    schedules = [r for r in rules.values() if "ScheduleExpression" in r["Properties"]]
    assert len(schedules) == 1
    patterns = [
        r["Properties"]["EventPattern"] for r in rules.values() if "EventPattern" in r["Properties"]
    ]
    consumes = deployment_for(service).consumes
    if consumes:
        assert [p["detail-type"] for p in patterns] == [list(consumes)]
        assert patterns[0]["source"] == [{"prefix": "coupon-platform."}]
    else:
        assert patterns == []


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
            "DeletionPolicy": "Retain" if stage.keep_data else "Delete",
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
        assert table["DeletionPolicy"] == ("Retain" if stage.keep_data else "Delete")
        recovery = table["Properties"]["PointInTimeRecoverySpecification"]
        assert recovery["PointInTimeRecoveryEnabled"] is True
    ttls = [t["Properties"].get("TimeToLiveSpecification") for t in tables.values()]
    assert {"AttributeName": "expires_at", "Enabled": True} in ttls
    data.resource_count_is("AWS::Events::EventBus", 1)
    data.has_resource_properties("AWS::EC2::Subnet", {"MapPublicIpOnLaunch": False})
    data.resource_count_is("AWS::EC2::NatGateway", 0)
    data.resource_count_is("AWS::EC2::InternetGateway", 0)


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


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.directory)
def test_event_rules_match_the_consumers_the_app_registers(
    service: ServiceRoutes, platform_settings: PlatformSettings
) -> None:
    """infra.config lists what each service consumes; the app is the authority."""
    app = app_factory(service)(platform=platform_settings)
    registered = set(getattr(app.state, "consumers", {}))
    assert set(deployment_for(service).consumes) == registered
