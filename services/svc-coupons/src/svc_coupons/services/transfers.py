"""Gift transfers: an owner holds a coupon for whoever brings the claim token; that customer
takes it under a new code, or the sender takes it back, or the gift lapses."""

from __future__ import annotations

import hmac
from collections.abc import Callable
from datetime import datetime, timedelta
from uuid import UUID, uuid4

from core.auth import Principal
from core.clock import utcnow
from core.idempotency import IdempotencyKeyReused
from core.pagination import Page, PageRequest
from svc_coupons.services.access import customer_id
from svc_coupons.services.caller_limits import UNLIMITED, CallerLimits
from svc_coupons.services.claim_tokens import ClaimTokens, token_hash
from svc_coupons.services.coupons import coupons_with_campaigns
from svc_coupons.services.data_model.campaigns import Campaign
from svc_coupons.services.data_model.coupons import Coupon, CouponDetails
from svc_coupons.services.data_model.exchange import (
    NewTransfer,
    Transfer,
    TransferDetails,
    TransferStatus,
)
from svc_coupons.services.errors import (
    InvalidClaimToken,
    InvalidStatusFilter,
    LimitReached,
    NotTransferable,
    OwnTransfer,
    TransferClosed,
    TransferExpired,
    TransferNotFound,
)
from svc_coupons.services.events import coupon_event
from svc_coupons.services.exchange_access import (
    as_taken,
    own_coupon,
    require_active,
    require_merchants_trading,
    require_trading,
)
from svc_coupons.services.ports import (
    CampaignStore,
    CouponStore,
    MerchantDirectory,
    TransferStore,
)
from svc_coupons.utils.codes import new_code

CODE_ATTEMPTS = 5
ROTATION_ATTEMPTS = 3
TRANSFER_ROLES = frozenset({"sent", "received"})


class TransferService:
    def __init__(
        self,
        *,
        transfers: TransferStore,
        coupons: CouponStore,
        campaigns: CampaignStore,
        merchants: MerchantDirectory,
        claim_tokens: ClaimTokens,
        lifetime: timedelta = timedelta(hours=72),
        idempotency_retention: timedelta = timedelta(hours=24),
        caller_limits: CallerLimits = UNLIMITED,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._transfers = transfers
        self._coupons = coupons
        self._campaigns = campaigns
        self._merchants = merchants
        self._claim_tokens = claim_tokens
        self._lifetime = lifetime
        self._idempotency_retention = idempotency_retention
        self._caller_limits = caller_limits
        self._clock = clock

    def _details(
        self, transfer: Transfer, coupon: Coupon, campaign: Campaign, now: datetime
    ) -> TransferDetails:
        return TransferDetails(
            transfer=transfer,
            coupon=CouponDetails(coupon=coupon, campaign=campaign, status=coupon.status_at(now)),
            status=TransferDetails.status_of(transfer, coupon, now),
        )

    async def create(
        self, *, principal: Principal, code: str, idempotency_key: str | None
    ) -> NewTransfer:
        """Gift the caller's active coupon: it is held until accepted, cancelled or lapsed.

        With an Idempotency-Key, a retry finds the transfer the first attempt made and
        answers it again, the same token included: the token is derived from the transfer,
        never stored. A key is honoured as long as the platform keeps any Idempotency-Key
        (IDEMPOTENCY_KEY_RETENTION_HOURS); after that it may name a new gift."""
        self._caller_limits.write(principal)
        coupon, campaign = await own_coupon(self._coupons, principal, code)
        now = self._clock()
        if idempotency_key is not None:
            replayed = await self._replay(principal, coupon, campaign, idempotency_key, now)
            if replayed is not None:
                return replayed
        require_active(coupon, now)
        if not campaign.terms.transferable:
            raise NotTransferable()
        require_trading(campaign)
        await require_merchants_trading(self._merchants, coupon)
        transfer_id = uuid4()
        token = self._claim_tokens.token(transfer_id, 0)
        expires_at = now + self._lifetime
        held = await self._transfers.create(
            transfer_id=transfer_id,
            coupon=coupon,
            claim_token_hash=token_hash(token),
            idempotency_key=idempotency_key,
            now=now,
            expires_at=expires_at,
            event=coupon_event(
                "transfer.created",
                coupon_id=coupon.id,
                actor=principal,
                data={"transfer_id": str(transfer_id), "expires_at": expires_at.isoformat()},
            ),
        )
        if held is None:  # changed since it was read: answer with what it is now
            current = await self._coupons.by_code(coupon.code)
            if current is None:
                raise TransferClosed("The coupon changed hands meanwhile")
            require_active(current, now)
            require_trading(await self._campaign_now(coupon.campaign_id))
            raise TransferClosed("The coupon was given or listed meanwhile")
        transfer = Transfer(
            id=transfer_id,
            coupon_id=coupon.id,
            sender_user_id=customer_id(principal),
            recipient_user_id=None,
            claim_token_hash=token_hash(token),
            idempotency_key=idempotency_key,
            stored_status=TransferStatus.PENDING,
            created_at=now,
            expires_at=expires_at,
            closed_at=None,
        )
        return NewTransfer(
            details=self._details(transfer, held, campaign, now), claim_token=token, replayed=False
        )

    async def _replay(
        self, principal: Principal, coupon: Coupon, campaign: Campaign, key: str, now: datetime
    ) -> NewTransfer | None:
        earlier = await self._transfers.by_idempotency_key(
            sender_user_id=customer_id(principal), key=key
        )
        if earlier is None:
            return None
        if earlier.created_at <= now - self._idempotency_retention:
            await self._transfers.forget_idempotency_key(transfer_id=earlier.id)
            return None
        if earlier.coupon_id != coupon.id:
            raise IdempotencyKeyReused()
        self._refuse_closed(earlier, coupon, now)
        token = self._claim_tokens.shown(
            earlier.id, earlier.claim_token_generation, earlier.claim_token_hash
        )
        if token is None:
            # Given a random token before tokens were derived: it cannot be shown again,
            # so the retry gets the next generation's, as a rotation would.
            return await self._rotated(principal, earlier, coupon, campaign, now, replayed=True)
        return NewTransfer(
            details=self._details(earlier, coupon, campaign, now), claim_token=token, replayed=True
        )

    async def _campaign_now(self, campaign_id: UUID) -> Campaign:
        campaign = await self._campaigns.get(campaign_id)
        assert campaign is not None, "a coupon's campaign is never deleted"
        return campaign

    async def rotate_token(self, *, principal: Principal, transfer_id: UUID) -> NewTransfer:
        """The sender asks for a new claim token (a link shared too widely): the old one
        stops working, an audit event says so. Only a pending gift's."""
        customer_id(principal)  # a client token holds no gifts: 403, as for giving one
        transfer, coupon, campaign = await self._load(transfer_id)
        if not principal.is_user(transfer.sender_user_id):
            raise TransferNotFound()
        now = self._clock()
        self._refuse_closed(transfer, coupon, now)
        return await self._rotated(principal, transfer, coupon, campaign, now, replayed=False)

    async def _rotated(
        self,
        principal: Principal,
        transfer: Transfer,
        coupon: Coupon,
        campaign: Campaign,
        now: datetime,
        *,
        replayed: bool,
    ) -> NewTransfer:
        for _ in range(ROTATION_ATTEMPTS):
            generation = transfer.claim_token_generation + 1
            token = self._claim_tokens.token(transfer.id, generation)
            rotated = await self._transfers.rotate_token(
                transfer_id=transfer.id,
                from_generation=transfer.claim_token_generation,
                claim_token_hash=token_hash(token),
                now=now,
                event=coupon_event(
                    "transfer.token_rotated",
                    coupon_id=coupon.id,
                    actor=principal,
                    data={"transfer_id": str(transfer.id), "generation": generation},
                ),
            )
            if rotated:
                return NewTransfer(
                    details=self._details(transfer, coupon, campaign, now),
                    claim_token=token,
                    replayed=replayed,
                )
            # Closed, lapsed or rotated by another request meanwhile: read it again.
            transfer, coupon, campaign = await self._load(transfer.id)
            self._refuse_closed(transfer, coupon, now)
        raise TransferClosed("The claim token is being rotated by another request")

    async def _load(self, transfer_id: UUID) -> tuple[Transfer, Coupon, Campaign]:
        found = await self._transfers.get(transfer_id)
        if found is None:
            raise TransferNotFound()
        return found

    @staticmethod
    def _refuse_closed(transfer: Transfer, coupon: Coupon, now: datetime) -> None:
        """Refuses a gift that is no longer pending as everyone reads it: one whose coupon
        ran out is expired before any sweep has closed it."""
        status = TransferDetails.status_of(transfer, coupon, now)
        if status is TransferStatus.EXPIRED:
            raise TransferExpired()
        if status is not TransferStatus.PENDING:
            raise TransferClosed(f"The transfer was {status.value}")

    async def accept(
        self, *, principal: Principal, transfer_id: UUID, claim_token: str
    ) -> CouponDetails:
        """The coupon becomes the caller's, under a new code; the old one stops existing."""
        self._caller_limits.write(principal)
        recipient = customer_id(principal)
        transfer, coupon, campaign = await self._load(transfer_id)
        presented = token_hash(claim_token)
        if not hmac.compare_digest(presented, transfer.claim_token_hash):
            raise InvalidClaimToken()
        if principal.is_user(transfer.sender_user_id):
            raise OwnTransfer()
        now = self._clock()
        self._refuse_closed(transfer, coupon, now)
        require_active(as_taken(coupon), now)
        require_trading(campaign)
        await require_merchants_trading(self._merchants, coupon)
        events = (
            coupon_event(
                "transfer.accepted",
                coupon_id=coupon.id,
                actor=principal,
                data={
                    "transfer_id": str(transfer.id),
                    "from_user_id": str(transfer.sender_user_id),
                    "to_user_id": str(recipient),
                },
            ),
            coupon_event(
                "coupon.transferred",
                coupon_id=coupon.id,
                actor=principal,
                data={
                    "via": "transfer",
                    "transfer_id": str(transfer.id),
                    "from_user_id": str(transfer.sender_user_id),
                    "to_user_id": str(recipient),
                },
            ),
        )
        for _ in range(CODE_ATTEMPTS):
            outcome = await self._transfers.accept(
                transfer_id=transfer.id,
                recipient_user_id=recipient,
                claim_token_hash=presented,
                new_code=new_code(),
                now=now,
                events=events,
            )
            moved = outcome.coupon
            if moved is not None:
                return CouponDetails(coupon=moved, campaign=campaign, status=moved.status_at(now))
            if outcome.limit_reached:  # the gift stays pending for someone under the limit
                raise LimitReached()
            if not outcome.code_taken:
                break
        else:
            raise RuntimeError("no free coupon code after several draws: is the generator broken?")
        # Refused by the statement: something changed since the read. Say what it is now
        # (a rotation that committed first leaves it pending under another token).
        current, coupon, campaign = await self._load(transfer_id)
        if not hmac.compare_digest(presented, current.claim_token_hash):
            raise InvalidClaimToken()
        self._refuse_closed(current, coupon, now)
        require_active(as_taken(coupon), now)
        require_trading(campaign)
        raise TransferClosed()

    async def cancel(self, *, principal: Principal, transfer_id: UUID) -> CouponDetails:
        """The sender takes the coupon back: active again in their wallet."""
        transfer, coupon, campaign = await self._load(transfer_id)
        if not principal.is_user(transfer.sender_user_id):
            raise TransferNotFound()
        now = self._clock()
        if transfer.stored_status is not TransferStatus.PENDING:
            raise TransferClosed(f"The transfer was {transfer.stored_status.value}")
        closed, freed = await self._transfers.close(
            transfer=transfer,
            status=TransferStatus.CANCELLED,
            now=now,
            event=coupon_event(
                "transfer.cancelled",
                coupon_id=coupon.id,
                actor=principal,
                data={"transfer_id": str(transfer.id)},
            ),
        )
        if not closed:
            current, _, _ = await self._load(transfer_id)
            raise TransferClosed(f"The transfer was {current.stored_status.value}")
        coupon = freed or coupon  # not freed: voided by the merchant while it was held
        return CouponDetails(coupon=coupon, campaign=campaign, status=coupon.status_at(now))

    async def get(self, *, principal: Principal, transfer_id: UUID) -> TransferDetails:
        """For its sender and its recipient; 404 for anyone else."""
        transfer, coupon, campaign = await self._load(transfer_id)
        if not principal.is_user(transfer.sender_user_id, transfer.recipient_user_id):
            raise TransferNotFound()
        return self._details(transfer, coupon, campaign, self._clock())

    async def list(
        self, *, principal: Principal, role: str | None, page: PageRequest
    ) -> Page[TransferDetails]:
        """The caller's transfers, newest first: `sent`, `received`, or both."""
        user_id = customer_id(principal)
        if role is not None and role not in TRANSFER_ROLES:
            raise InvalidStatusFilter("role is sent or received")
        found = await self._transfers.of_user(user_id=user_id, role=role, page=page)
        coupons = await coupons_with_campaigns(
            self._coupons, self._campaigns, {t.coupon_id for t in found.items}
        )
        now = self._clock()
        return Page(
            items=[self._details(t, *coupons[t.coupon_id], now) for t in found.items],
            next_cursor=found.next_cursor,
        )

    async def release_lapsed(self, *, batch: int) -> int:
        """The sweep: pending transfers past their time (or their coupon's) close as
        expired, and their coupons are active again in the senders' wallets (reading as
        expired when they ran out). Returns how many closed."""
        now = self._clock()
        closed = 0
        for transfer in await self._transfers.lapsed(now=now, limit=batch):
            done, _ = await self._transfers.close(
                transfer=transfer,
                status=TransferStatus.EXPIRED,
                now=now,
                event=coupon_event(
                    "transfer.expired",
                    coupon_id=transfer.coupon_id,
                    actor=None,
                    data={"transfer_id": str(transfer.id)},
                ),
            )
            closed += done
        return closed
