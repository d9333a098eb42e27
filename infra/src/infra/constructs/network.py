"""The VPC: the database in isolated subnets, the functions in private subnets behind NAT.

- `database` subnets (isolated): RDS and its proxy. No route leaves the VPC.
- `services` subnets (private, with egress): the functions. They reach DynamoDB through a
  gateway endpoint and Secrets Manager and EventBridge through interface endpoints, so AWS
  traffic stays inside the VPC; the NAT gateway carries only what must go out to the
  internet: svc-coupons' calls to svc-merchants' public API on the HTTP API.
- `public` subnets: the NAT gateways and nothing else (no instance gets a public address).
"""

from __future__ import annotations

from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.config import AVAILABILITY_ZONES, StageConfig

PUBLIC_SUBNETS = "public"
SERVICES_SUBNETS = "services"
DATABASE_SUBNETS = "database"
HTTPS = ec2.Port.tcp(443)


class PlatformNetwork(Construct):
    """Nothing outside reaches in; the functions reach out only over HTTPS.

    The functions' security group allows no traffic out but HTTPS (the endpoints, the NAT
    to the HTTP API) and PostgreSQL to the proxy's group, which the database construct
    adds. DNS to the VPC's resolver is not subject to security groups.
    """

    def __init__(self, scope: Construct, id: str, *, stage: StageConfig) -> None:
        super().__init__(scope, id)
        self.vpc = ec2.Vpc(
            self,
            "Vpc",
            max_azs=AVAILABILITY_ZONES,
            nat_gateways=stage.nat_gateways,
            subnet_configuration=[
                ec2.SubnetConfiguration(
                    name=PUBLIC_SUBNETS,
                    subnet_type=ec2.SubnetType.PUBLIC,
                    cidr_mask=26,
                    # Only the NAT gateways live here, with their own Elastic IPs.
                    map_public_ip_on_launch=False,
                ),
                ec2.SubnetConfiguration(
                    name=SERVICES_SUBNETS,
                    subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS,
                    cidr_mask=22,
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
            allow_all_outbound=False,
        )
        # The HTTP API's addresses are AWS's public ones, not known in advance: any
        # destination, but only HTTPS. Covers the endpoints and DynamoDB's prefix list too.
        self.services_security_group.add_egress_rule(
            ec2.Peer.any_ipv4(),
            HTTPS,
            "HTTPS: VPC endpoints, DynamoDB, and the HTTP API through the NAT gateway",
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
