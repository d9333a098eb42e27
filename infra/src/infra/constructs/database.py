"""PostgreSQL on RDS behind an RDS Proxy, with its credentials in Secrets Manager."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_rds as rds
from constructs import Construct

from infra.config import StageConfig
from infra.constructs.network import IsolatedNetwork
from infra.nag import accept

DATABASE_NAME = "coupons"  # one database, one schema per service
ADMIN_USER = "platform_admin"
PROXY_PORT = 5432  # an RDS Proxy for PostgreSQL always listens here


class PostgresBehindProxy(Construct):
    """The one database of the platform. Functions connect to the proxy, never the instance.

    Lambda opens a connection per execution environment; the proxy pools them so a burst of
    new environments does not exhaust the instance's connections.
    """

    def __init__(
        self, scope: Construct, id: str, *, stage: StageConfig, network: IsolatedNetwork
    ) -> None:
        super().__init__(scope, id)
        vpc = network.vpc
        self.instance = rds.DatabaseInstance(
            self,
            "Instance",
            # A full version: RDS creates no instance from a bare major version any more; minor
            # upgrades then come by themselves (auto_minor_version_upgrade).
            engine=rds.DatabaseInstanceEngine.postgres(version=rds.PostgresEngineVersion.VER_16_13),
            instance_type=ec2.InstanceType(stage.database_instance_type),
            vpc=vpc,
            vpc_subnets=network.database_subnets,
            credentials=rds.Credentials.from_generated_secret(ADMIN_USER),
            database_name=DATABASE_NAME,
            multi_az=stage.database_multi_az,
            allocated_storage=stage.database_storage_gb,
            max_allocated_storage=stage.database_storage_gb * 5,
            storage_encrypted=True,
            backup_retention=Duration.days(stage.database_backup_days),
            deletion_protection=stage.keep_data,
            removal_policy=stage.removal_policy,
            publicly_accessible=False,
            auto_minor_version_upgrade=True,
        )
        self.secret = self.instance.secret
        assert self.secret is not None, "generated credentials always come with a secret"
        self.proxy = rds.DatabaseProxy(
            self,
            "Proxy",
            proxy_target=rds.ProxyTarget.from_instance(self.instance),
            secrets=[self.secret],
            vpc=vpc,
            vpc_subnets=network.database_subnets,
            require_tls=True,
            idle_client_timeout=Duration.minutes(30),
        )
        self.instance.connections.allow_default_port_from(
            self.proxy, "only the proxy talks to the instance"
        )
        self.proxy.connections.allow_from(
            network.services_security_group,
            ec2.Port.tcp(PROXY_PORT),
            "the service functions connect through the proxy",
        )

        accept(
            self.instance,
            "RDS11",
            "The instance admits only the proxy's security group, inside isolated subnets; "
            "a non-standard port would hide nothing.",
        )
        accept(
            self.instance,
            "RDS6",
            "Clients authenticate to the RDS Proxy, which reads the credentials from Secrets "
            "Manager; no client connects to the instance with IAM.",
        )
        accept(
            self.instance,  # with its children: the generated credentials' secret
            "SMG4",
            "Single-user rotation would cut off warm functions still holding the old password "
            "until they restart; the credentials are rotated by hand with a redeploy "
            "(docs/deploying.md).",
        )
        if not stage.database_multi_az:
            accept(self.instance, "RDS3", f"{stage.name} runs one instance to keep costs low.")
        if not stage.keep_data:
            accept(
                self.instance,
                "RDS10",
                f"{stage.name} data is disposable; deletion protection is on in prod.",
            )
