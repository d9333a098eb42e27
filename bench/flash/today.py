"""Today's claim statements, frozen: the baseline the platform's claim path is measured
against, whatever the repository's statements become.

Copied from svc_coupons.repositories (coupons.ISSUE as rendered, campaigns.SELECT_CAMPAIGN)
as they stood when the bench was written. The claim: the campaign read on the read pool, then
BEGIN, ISSUE (the campaign row locked from here), a round trip, COMMIT; with an
Idempotency-Key, the key claimed in a transaction of its own first and its answer stored
between ISSUE and COMMIT: two round trips under the lock.

It counts units in the campaign row's `issued_count`, which the platform no longer writes
(its units are the sum of coupons.campaign_units): the baseline runs only while migrations
keep that column; the migration that drops it ends this design.
"""

# The parameters, in CouponRepository.issue's order: $1 campaign, $2 coupon id, $3 customer,
# $4 code, $5 per-customer limit, $6 now, $7 merchant, $8 expiry, then $9-$17 the event's
# outbox row (core.events.outbox.OUTBOX_COLUMNS).
ISSUE = (
    """
WITH slot AS (
    INSERT INTO coupons.customer_claims AS held (campaign_id, user_id, claimed)
    VALUES ($1, $3, 1)
    ON CONFLICT (campaign_id, user_id) DO UPDATE SET claimed = held.claimed + 1
    WHERE held.claimed < $5
    RETURNING claimed
), unit AS (
    UPDATE coupons.campaigns SET issued_count = issued_count + 1
    WHERE id = $1 AND EXISTS (SELECT FROM slot) AND status = 'active'
      AND (total_quantity IS NULL OR issued_count + 1 <= total_quantity)
      AND starts_at <= $6 AND ends_at > $6
    RETURNING issued_count
), coupon AS (
    INSERT INTO coupons.coupons
        (id, campaign_id, merchant_id, code, owner_user_id, status, issued_at, expires_at,
         created_at)
    SELECT $2, $1, $7, $4, $3, 'active', $6, $8, $6 FROM unit
    ON CONFLICT (code) DO NOTHING
    RETURNING *
), announced AS (INSERT INTO "coupons"."outbox" (id, type, entity_type, entity_id, actor,"""
    """ occurred_at, data, correlation_id, entity_version) SELECT event.id, event.type,"""
    """ event.entity_type, event.entity_id, event.actor, event.occurred_at, event.data,"""
    """ event.correlation_id, coalesce(event.entity_version, versioned.version) FROM (VALUES"""
    """ ($9::uuid, $10::text, $11::text, $12::text, $13::text, $14::timestamptz, $15::jsonb,"""
    """ $16::text, $17::int8)) AS event (id, type, entity_type, entity_id, actor, occurred_at,"""
    """ data, correlation_id, entity_version) LEFT JOIN coupon AS versioned ON versioned.id::text"""
    """ = event.entity_id WHERE EXISTS (SELECT FROM coupon) RETURNING id, entity_version)
SELECT EXISTS (SELECT FROM slot) AS slot_taken, (SELECT issued_count FROM unit) AS issued_count,
       (SELECT jsonb_object_agg(id::text, entity_version) FROM announced) AS announced, coupon.*
FROM (SELECT) AS outcome LEFT JOIN coupon ON true
"""
)

SELECT_CAMPAIGN = "SELECT * FROM coupons.campaigns WHERE id = $1"
