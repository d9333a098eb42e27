"""PostgreSQL on RDS behind an RDS Proxy, with its credentials in Secrets Manager.

The master credentials are for the bootstrap step alone (constructs/database_role.py);
each service connects as a login role of its own (`svc_<name>`, owning the schema named
like the service), whose secret is generated here so the proxy can admit it.
"""

from __future__ import annotations

from collections.abc import Iterable

from aws_cdk import Duration
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_rds as rds
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from infra.config import StageConfig, database_role
from infra.connection_budget import (
    PROXY_BORROW_TIMEOUT,
    PROXY_MAX_CONNECTIONS_PERCENT,
    PROXY_MAX_IDLE_CONNECTIONS_PERCENT,
)
from infra.constructs.network import PlatformNetwork
from infra.nag import accept
from infra.postgres_version import RDS_POSTGRES_MAJOR_VERSION, RDS_POSTGRES_VERSION

DATABASE_NAME = "coupons"  # one database, one schema per service
ADMIN_USER = "platform_admin"
PROXY_PORT = 5432  # an RDS Proxy for PostgreSQL always listens here
POSTGRES_LOG = "postgresql"  # RDS for PostgreSQL's one exportable log (besides "upgrade")


class PostgresBehindProxy(Construct):
    """The one database of the platform. Functions connect to the proxy, never the instance.

    Lambda opens a connection per execution environment; the proxy pools them so a burst of
    new environments does not exhaust the instance's connections.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        stage: StageConfig,
        network: PlatformNetwork,
        services: Iterable[str],
    ) -> None:
        super().__init__(scope, id)
        vpc = network.vpc
        self.instance = rds.DatabaseInstance(
            self,
            "Instance",
            engine=rds.DatabaseInstanceEngine.postgres(
                version=rds.PostgresEngineVersion.of(
                    RDS_POSTGRES_VERSION, str(RDS_POSTGRES_MAJOR_VERSION)
                )
            ),
            instance_type=ec2.InstanceType(stage.database_instance_type),
            vpc=vpc,
            vpc_subnets=network.database_subnets,
            credentials=rds.Credentials.from_generated_secret(ADMIN_USER),
            database_name=DATABASE_NAME,
            multi_az=stage.database_multi_az,
            allocated_storage=stage.database_storage_gb,
            max_allocated_storage=stage.database_storage_gb * 5,
            # gp3: 3,000 IOPS whatever the size, for less than gp2's size-bound baseline.
            storage_type=rds.StorageType.GP3,
            # The server's log (errors, lock waits, slow statements) in CloudWatch Logs,
            # where the functions' logs are, instead of only in the RDS console.
            cloudwatch_logs_exports=[POSTGRES_LOG],
            storage_encrypted=True,
            backup_retention=Duration.days(stage.database_backup_days),
            deletion_protection=stage.keep_data,
            removal_policy=stage.removal_policy,
            publicly_accessible=False,
            auto_minor_version_upgrade=True,
        )
        self.secret = self.instance.secret  # the secret as attached to the instance
        assert self.secret is not None, "generated credentials always come with a secret"
        # The instance's removal policy does not reach the secret it generated (a child of
        # the instance, under the attachment): without this, prod would keep its database
        # and delete the only copy of its password.
        generated = self.instance.node.find_child("Secret")
        assert isinstance(generated, secretsmanager.Secret), generated
        generated.apply_removal_policy(stage.removal_policy)
        # Nor, for any policy but a plain RETAIN, the subnet group and security group a
        # kept instance still sits in: they are kept with it.
        subnet_group = self.instance.node.find_child("SubnetGroup")
        assert isinstance(subnet_group, rds.SubnetGroup), subnet_group
        subnet_group.apply_removal_policy(stage.removal_policy)
        for security_group in self.instance.connections.security_groups:
            security_group.apply_removal_policy(stage.removal_policy)
        # One per service: its role's name, a generated password, the database. The
        # service's bootstrap step creates the role from it (core.aws_lambda).
        self.service_secrets: dict[str, secretsmanager.ISecret] = {}
        for name in services:
            secret = rds.DatabaseSecret(
                self,
                f"{name.title()}Secret",
                username=database_role(name),
                dbname=DATABASE_NAME,
                secret_name=stage.database_secret_name(name),
            )
            secret.apply_removal_policy(stage.removal_policy)
            accept(
                secret,
                "SMG4",
                "Rotated by hand like the master credentials (docs/deploying.md): the "
                "bootstrap step sets the role's password from the secret, and warm functions "
                "re-read it when the proxy refuses the old one.",
            )
            self.service_secrets[name] = secret
        self.proxy = rds.DatabaseProxy(
            self,
            "Proxy",
            # CloudFormation's default name is "Proxy" in every stage: two stages in one
            # account and region would collide.
            db_proxy_name=stage.resource_name("db-proxy"),
            proxy_target=rds.ProxyTarget.from_instance(self.instance),
            # Whom the proxy admits: the master user (the bootstrap) and each service's role.
            secrets=[self.secret, *self.service_secrets.values()],
            vpc=vpc,
            vpc_subnets=network.database_subnets,
            require_tls=True,
            idle_client_timeout=Duration.minutes(30),
            # What it may open to the instance, and keep open idle; a request waits this
            # long for a connection, less than its statements may run (infra.connection_budget
            # checks the stage's demand against these and the timeouts' nesting).
            max_connections_percent=PROXY_MAX_CONNECTIONS_PERCENT,
            max_idle_connections_percent=PROXY_MAX_IDLE_CONNECTIONS_PERCENT,
            borrow_timeout=PROXY_BORROW_TIMEOUT,
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
            "The master credentials are rotated by hand (docs/deploying.md): only the "
            "deploy-time bootstrap steps use them, and a rotation Lambda would need a path "
            "of its own to the database.",
        )
        if not stage.database_multi_az:
            accept(self.instance, "RDS3", f"{stage.name} runs one instance to keep costs low.")
        if not stage.keep_data:
            accept(
                self.instance,
                "RDS10",
                f"{stage.name} data is disposable; deletion protection is on in prod.",
            )
