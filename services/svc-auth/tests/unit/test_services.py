"""svc-auth's services against in-memory fakes: the rules, without a database."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from uuid import UUID, uuid4

import pytest

from core.auth import Membership as TokenMembership
from core.auth import Principal
from core.clock import utcnow
from core.errors import Forbidden
from core.events import DomainEvent
from core.pagination import Page, PageRequest
from svc_auth.services.accounts import AccountService
from svc_auth.services.data_model.clients import ClientKind, OAuthClient
from svc_auth.services.data_model.tokens import RefreshTokenRecord
from svc_auth.services.data_model.users import (
    Credentials,
    Member,
    Membership,
    MerchantRole,
    PlatformRole,
    User,
)
from svc_auth.services.errors import (
    EmailTaken,
    InvalidClient,
    InvalidGrant,
    LastAdmin,
    LoginThrottled,
    OwnerNotRemovable,
    RefreshTokenReused,
)
from svc_auth.services.limits import AddressLimit
from svc_auth.services.members import MembershipService
from svc_auth.services.oauth import TokenPolicy, TokenService
from svc_auth.services.ports import WindowCounts
from svc_auth.services.sign_in import SignInGuard, SignInLimits
from svc_auth.utils.passwords import PasswordHasher

HASHER = PasswordHasher(time_cost=1, memory_kib=1024, parallelism=1)


class FakeUsers:
    def __init__(self) -> None:
        self.users: dict[UUID, User] = {}
        self.hashes: dict[UUID, str] = {}

    async def create(self, *, email: str, password_hash: str, display_name: str) -> User | None:
        if any(u.email == email for u in self.users.values()):
            return None
        user = User(uuid4(), email, display_name, frozenset(), (), utcnow())
        self.users[user.id], self.hashes[user.id] = user, password_hash
        return user

    async def get(self, user_id: UUID) -> User | None:
        return self.users.get(user_id)

    async def credentials(self, email: str) -> Credentials | None:
        for user in self.users.values():
            if user.email == email:
                return Credentials(user, self.hashes[user.id])
        return None

    async def list(self, *, email: str | None, page: PageRequest) -> Page[User]:
        return Page([u for u in self.users.values() if email in (None, u.email)], None)

    async def add_role(self, user_id: UUID, role: PlatformRole) -> None:
        user = self.users[user_id]
        self.users[user_id] = dataclasses.replace(user, roles=user.roles | {role})

    async def remove_role(self, user_id: UUID, role: PlatformRole) -> bool:
        user = self.users[user_id]
        self.users[user_id] = dataclasses.replace(user, roles=user.roles - {role})
        return role in user.roles

    async def lock_admins(self) -> int:
        return sum(PlatformRole.ADMIN in u.roles for u in self.users.values())

    def set_memberships(self, user_id: UUID, memberships: tuple[Membership, ...]) -> None:
        self.users[user_id] = dataclasses.replace(self.users[user_id], memberships=memberships)


class FakeMemberships:
    def __init__(self, users: FakeUsers) -> None:
        self.users = users
        self.roles: dict[tuple[UUID, UUID], MerchantRole] = {}

    async def role_of(self, *, user_id: UUID, merchant_id: UUID) -> MerchantRole | None:
        return self.roles.get((user_id, merchant_id))

    async def members(self, merchant_id: UUID, *, page: PageRequest) -> Page[Member]:
        found = [
            Member(user_id, self.users.users[user_id].email, role)
            for (user_id, m), role in self.roles.items()
            if m == merchant_id
        ]
        return Page(items=found[: page.limit], next_cursor=None)

    async def add(self, *, user_id: UUID, merchant_id: UUID, role: MerchantRole) -> bool:
        if (user_id, merchant_id) in self.roles:
            return False
        self.roles[(user_id, merchant_id)] = role
        return True

    async def make_owner(self, *, user_id: UUID, merchant_id: UUID) -> None:
        self.roles[(user_id, merchant_id)] = MerchantRole.OWNER

    async def remove(self, *, user_id: UUID, merchant_id: UUID) -> None:
        self.roles.pop((user_id, merchant_id), None)


class FakeEvents:
    def __init__(self) -> None:
        self.events: list[DomainEvent] = []

    async def add(self, event: DomainEvent) -> None:
        self.events.append(event)


class FakeRefreshTokens:
    def __init__(self) -> None:
        self.records: dict[str, RefreshTokenRecord] = {}
        self.events: list[DomainEvent] = []

    async def add(
        self,
        *,
        token_hash: str,
        family_id: UUID,
        user_id: UUID,
        client_id: str,
        scope: str,
        expires_at: datetime,
    ) -> None:
        self.records[token_hash] = RefreshTokenRecord(
            uuid4(), family_id, user_id, client_id, scope, expires_at, None, None
        )

    async def find(self, token_hash: str) -> RefreshTokenRecord | None:
        return self.records.get(token_hash)

    async def mark_rotated(self, token_id: UUID) -> bool:
        for key, record in self.records.items():
            if record.id == token_id and record.rotated_at is None and record.revoked_at is None:
                self.records[key] = dataclasses.replace(record, rotated_at=utcnow())
                return True
        return False

    async def revoke_family(self, family_id: UUID, *, event: DomainEvent) -> bool:
        revoked = False
        for key, record in self.records.items():
            if record.family_id == family_id and record.revoked_at is None:
                self.records[key] = dataclasses.replace(record, revoked_at=utcnow())
                revoked = True
        if revoked:
            self.events.append(event)
        return revoked


class FakeCounter:
    def __init__(self) -> None:
        self.counts: dict[str, int] = {}

    async def add(self, key: str, amount: int = 1) -> tuple[int, int]:
        self.counts[key] = self.counts.get(key, 0) + amount
        return self.counts[key], 60

    async def reset(self, key: str) -> None:
        self.counts.pop(key, None)


class FakeRateCounter:
    def __init__(self) -> None:
        self.counts: dict[str, int] = {}

    async def count_one(self, key: str) -> WindowCounts:
        self.counts[key] = self.counts.get(key, 0) + 1
        return WindowCounts(current=self.counts[key], previous=0, elapsed=0.0, window_seconds=60)


class FakeMarks:
    def __init__(self) -> None:
        self.keys: set[str] = set()

    async def put(self, key: str) -> None:
        self.keys.add(key)

    async def has(self, key: str) -> bool:
        return key in self.keys


def sign_in_guard(from_one_address: int = 2) -> SignInGuard:
    return SignInGuard(
        failures=FakeCounter(),
        familiar=FakeMarks(),
        limits=SignInLimits(from_one_address=from_one_address, per_account=10, per_address=10),
    )


def unlimited() -> AddressLimit:
    return AddressLimit(FakeRateCounter(), ceiling=1_000_000)


class FakeClients:
    def __init__(self) -> None:
        portal = OAuthClient(
            "customer-portal",
            "Customer portal",
            ClientKind.PUBLIC,
            frozenset({"coupons:read"}),
            frozenset({"password", "refresh_token"}),
            None,
            None,
        )
        self.clients = {portal.client_id: portal}

    async def get(self, client_id: str) -> OAuthClient | None:
        return self.clients.get(client_id)


class RecordingSigner:
    def __init__(self) -> None:
        self.claims: list[dict[str, object]] = []

    def sign(self, claims: dict[str, object]) -> str:
        self.claims.append(claims)
        return f"token-{len(self.claims)}"


def admin(user_id: UUID | None = None) -> Principal:
    return Principal(
        subject=str(user_id or uuid4()),
        client_id="admin-portal",
        roles=frozenset({"admin", "customer"}),
        scopes=frozenset({"admin"}),
    )


def user_principal(user_id: UUID, *memberships: TokenMembership) -> Principal:
    return Principal(
        subject=str(user_id),
        client_id="merchant-portal",
        roles=frozenset({"customer"}),
        memberships=memberships,
    )


@pytest.fixture
def users() -> FakeUsers:
    return FakeUsers()


@pytest.fixture
def events() -> FakeEvents:
    return FakeEvents()


def accounts(users: FakeUsers, events: FakeEvents) -> AccountService:
    return AccountService(users=users, events=events, hasher=HASHER, sign_ups=unlimited())


def token_service(
    users: FakeUsers, refresh: FakeRefreshTokens, sign_ins: SignInGuard, signer: RecordingSigner
) -> TokenService:
    return TokenService(
        users=users,
        clients=FakeClients(),
        refresh_tokens=refresh,
        sign_ins=sign_ins,
        requests=unlimited(),
        hasher=HASHER,
        signer=signer,
        policy=TokenPolicy(
            issuer="iss",
            audience="aud",
            access_token_ttl=60,
            refresh_token_ttl=timedelta(days=1),
        ),
    )


async def test_register_normalises_and_records_an_event(
    users: FakeUsers, events: FakeEvents
) -> None:
    user = await accounts(users, events).register(
        email="  Zed@Example.COM ", password="long enough pw", display_name=" Zed ", address="a"
    )
    assert (user.email, user.display_name, user.roles) == (
        "zed@example.com",
        "Zed",
        frozenset({PlatformRole.CUSTOMER}),
    )
    assert [e.type for e in events.events] == ["user.registered"]
    with pytest.raises(EmailTaken):
        await accounts(users, events).register(
            email="zed@example.com", password="long enough pw", display_name="Z", address="a"
        )


async def test_the_last_admin_cannot_be_demoted(users: FakeUsers, events: FakeEvents) -> None:
    service = accounts(users, events)
    only = await service.ensure_admin(
        email="a@example.com", password="long enough", display_name="A"
    )
    with pytest.raises(LastAdmin):
        await service.revoke_role(principal=admin(only.id), user_id=only.id, role="admin")
    second = await service.ensure_admin(
        email="b@example.com", password="long enough", display_name="B"
    )
    await service.revoke_role(principal=admin(second.id), user_id=only.id, role="admin")
    assert PlatformRole.ADMIN not in (await users.get(only.id)).roles  # type: ignore[union-attr]


async def test_only_admins_list_users(users: FakeUsers, events: FakeEvents) -> None:
    with pytest.raises(Forbidden):
        await accounts(users, events).list_users(
            principal=user_principal(uuid4()), email=None, page=PageRequest()
        )


async def test_membership_power_comes_from_the_table_not_the_token(
    users: FakeUsers, events: FakeEvents
) -> None:
    memberships = FakeMemberships(users)
    service = MembershipService(users=users, memberships=memberships, events=events)
    owner = await users.create(email="o@example.com", password_hash="x", display_name="O")
    assert owner is not None
    merchant = uuid4()
    claims_owner = user_principal(owner.id, TokenMembership(merchant, "owner"))
    with pytest.raises(Forbidden):
        await service.members(principal=claims_owner, merchant_id=merchant, page=PageRequest())
    await service.grant_owner(merchant_id=merchant, owner_user_id=owner.id, actor="admin")
    assert [
        m.role
        for m in (
            await service.members(principal=claims_owner, merchant_id=merchant, page=PageRequest())
        ).items
    ] == [MerchantRole.OWNER]
    with pytest.raises(OwnerNotRemovable):
        await service.remove_member(principal=claims_owner, merchant_id=merchant, user_id=owner.id)


async def test_login_throttle_and_constant_failure(users: FakeUsers, events: FakeEvents) -> None:
    tokens = token_service(users, FakeRefreshTokens(), sign_in_guard(), RecordingSigner())
    await accounts(users, events).register(
        email="t@example.com", password="right password", display_name="T", address="a"
    )
    for username in ("t@example.com", "nobody@example.com"):
        with pytest.raises(InvalidGrant):
            await tokens.password_grant(
                client_id="customer-portal",
                client_secret=None,
                username=username,
                password="wrong",
                scope=None,
                address="a",
            )
    with pytest.raises(InvalidGrant):
        await tokens.password_grant(
            client_id="customer-portal",
            client_secret=None,
            username="t@example.com",
            password="wrong",
            scope=None,
            address="a",
        )
    with pytest.raises(LoginThrottled):
        await tokens.password_grant(
            client_id="customer-portal",
            client_secret=None,
            username="t@example.com",
            password="right password",
            scope=None,
            address="a",
        )
    with pytest.raises(InvalidClient):
        await tokens.password_grant(
            client_id="nope",
            client_secret=None,
            username="t@example.com",
            password="right password",
            scope=None,
            address="a",
        )


async def test_access_token_claims_and_refresh_reuse(users: FakeUsers, events: FakeEvents) -> None:
    refresh, signer = FakeRefreshTokens(), RecordingSigner()
    tokens = token_service(users, refresh, sign_in_guard(), signer)
    user = await accounts(users, events).register(
        email="r@example.com", password="right password", display_name="R", address="a"
    )
    merchant = uuid4()
    users.set_memberships(user.id, (Membership(merchant, MerchantRole.STAFF),))
    issued = await tokens.password_grant(
        client_id="customer-portal",
        client_secret=None,
        username="r@example.com",
        password="right password",
        scope=None,
        address="a",
    )
    claims = signer.claims[-1]
    assert claims["sub"] == str(user.id)
    assert claims["memberships"] == [{"merchant_id": str(merchant), "role": "staff"}]
    assert claims["exp"] == claims["iat"] + 60  # type: ignore[operator]
    assert {"iss", "aud", "jti", "scope", "roles", "client_id"} <= set(claims)

    assert issued.refresh_token is not None
    await tokens.refresh_grant(
        client_id="customer-portal",
        client_secret=None,
        refresh_token=issued.refresh_token,
        scope=None,
        address="a",
    )
    with pytest.raises(RefreshTokenReused):
        await tokens.refresh_grant(
            client_id="customer-portal",
            client_secret=None,
            refresh_token=issued.refresh_token,
            scope=None,
            address="a",
        )
    assert all(r.revoked_at is not None for r in refresh.records.values())
    (revoked,) = refresh.events
    assert (revoked.type, revoked.entity_id) == ("user.refresh_tokens_revoked", str(user.id))
    assert revoked.data["reason"] == "reuse_detected"
