"""The VPC: isolated subnets only, reaching AWS services through endpoints."""

from __future__ import annotations

from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.config import StageConfig

SERVICES_SUBNETS = "services"
DATABASE_SUBNETS = "database"


class IsolatedNetwork(Construct):
    """No NAT and no internet gateway: nothing in here can reach, or be reached from, outside.

    The functions reach DynamoDB through a gateway endpoint, and Secrets Manager and
    EventBridge through interface endpoints that admit only the services' security group.
    """

    def __init__(self, scope: Construct, id: str, *, stage: StageConfig) -> None:
        super().__init__(scope, id)
        self.vpc = ec2.Vpc(
            self,
            "Vpc",
            max_azs=2,
            nat_gateways=0,
            subnet_configuration=[
                ec2.SubnetConfiguration(
                    name=SERVICES_SUBNETS, subnet_type=ec2.SubnetType.PRIVATE_ISOLATED, cidr_mask=22
                ),
                ec2.SubnetConfiguration(
                    name=DATABASE_SUBNETS, subnet_type=ec2.SubnetType.PRIVATE_ISOLATED, cidr_mask=24
                ),
            ],
            # Stripping the default security group's rules takes a custom-resource Lambda;
            # nothing here uses that group, so it is left as the VPC creates it.
            restrict_default_security_group=False,
        )
        flow_logs = logs.LogGroup(
            self,
            "FlowLogs",
            retention=stage.log_retention,
            removal_policy=stage.removal_policy,
        )
        self.vpc.add_flow_log(
            "FlowLog",
            destination=ec2.FlowLogDestination.to_cloud_watch_logs(flow_logs),
            traffic_type=ec2.FlowLogTrafficType.REJECT,
        )
        self.services_subnets = ec2.SubnetSelection(subnet_group_name=SERVICES_SUBNETS)
        self.database_subnets = ec2.SubnetSelection(subnet_group_name=DATABASE_SUBNETS)
        self.services_security_group = ec2.SecurityGroup(
            self,
            "ServicesSecurityGroup",
            vpc=self.vpc,
            description="The service functions: admitted by the database proxy and endpoints",
        )
        self.vpc.add_gateway_endpoint(
            "DynamoDb",
            service=ec2.GatewayVpcEndpointAwsService.DYNAMODB,
            subnets=[self.services_subnets],
        )
        for name, service in (
            ("SecretsManager", ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER),
            ("EventBridge", ec2.InterfaceVpcEndpointAwsService.EVENTBRIDGE),
        ):
            endpoint = self.vpc.add_interface_endpoint(
                name, service=service, subnets=self.services_subnets, open=False
            )
            endpoint.connections.allow_default_port_from(
                self.services_security_group, f"services call {name} over HTTPS"
            )
