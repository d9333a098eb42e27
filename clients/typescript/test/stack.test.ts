// Against a running stack (PLATFORM_URL, and the admin's ADMIN_EMAIL and ADMIN_PASSWORD):
// sign in, claim and redeem as the portals would, with the generated types.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { test } from "node:test";

import { createPlatformClient, signIn, type PortalClientId, type Problem } from "../src/index.js";

const baseUrl = process.env.PLATFORM_URL ?? "http://127.0.0.1:8000";
const password = "correct horse battery";

function required(name: string): string {
  const value = process.env[name];
  assert.ok(value, `${name} is not set`);
  return value;
}

async function account(email: string, clientId: PortalClientId): Promise<string> {
  const anonymous = createPlatformClient({ baseUrl });
  const registered = await anonymous.auth.POST("/api/v1/auth/register", {
    body: { email, password, display_name: email.split("@")[0] ?? email },
  });
  assert.equal(registered.response.status, 201);
  assert.deepEqual(registered.data?.roles, ["customer"]);
  return (await signIn(anonymous, { username: email, password, clientId })).access_token;
}

function as(token: string) {
  return createPlatformClient({ baseUrl, accessToken: () => token });
}

/** svc-auth grants the owner membership on the merchant.verified event, within seconds. */
async function ownership(applicant: ReturnType<typeof as>, merchantId: string): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt += 1) {
    const me = await applicant.auth.GET("/api/v1/auth/me");
    if (me.data?.memberships.some((m) => m.merchant_id === merchantId && m.role === "owner")) {
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.fail("the owner membership never arrived");
}

test("a customer claims a coupon and the merchant's owner redeems it", async () => {
  const run = randomUUID().slice(0, 8);
  const ownerEmail = `owner-${run}@client-test.example`;
  const ownerApplying = as(await account(ownerEmail, "merchant-portal"));
  const applied = await ownerApplying.merchants.POST("/api/v1/merchants", {
    body: { name: `Client test cafe ${run}`, country: "DE", currency: "EUR", timezone: "Europe/Berlin" },
  });
  assert.equal(applied.data?.status, "pending");
  const merchantId = applied.data.id;

  const adminToken = await signIn(createPlatformClient({ baseUrl }), {
    username: required("ADMIN_EMAIL"),
    password: required("ADMIN_PASSWORD"),
    clientId: "admin-portal",
  });
  const verified = await as(adminToken.access_token).merchants.POST(
    "/api/v1/merchants/{merchant_id}/verify",
    { params: { path: { merchant_id: merchantId } } },
  );
  assert.equal(verified.data?.status, "verified");
  await ownership(ownerApplying, merchantId);

  // The owner's next token carries the membership verification granted.
  const owner = as(
    (await signIn(createPlatformClient({ baseUrl }), {
      username: ownerEmail,
      password,
      clientId: "merchant-portal",
    })).access_token,
  );
  const outlet = await owner.merchants.POST("/api/v1/merchants/{merchant_id}/outlets", {
    params: { path: { merchant_id: merchantId } },
    body: { name: "Main Street", address: "Hauptstraße 1, 10115 Berlin" },
  });
  assert.equal(outlet.response.status, 201);
  const now = Date.now();
  const draft = await owner.coupons.POST("/api/v1/campaigns", {
    body: {
      merchant_id: merchantId,
      title: "20% off any coffee",
      discount_type: "percentage",
      discount_value: 20,
      total_quantity: 10,
      starts_at: new Date(now - 60_000).toISOString(),
      ends_at: new Date(now + 7 * 86_400_000).toISOString(),
    },
  });
  assert.equal(draft.data?.status, "draft");
  const published = await owner.coupons.POST("/api/v1/campaigns/{campaign_id}/publish", {
    params: { path: { campaign_id: draft.data.id } },
  });
  assert.equal(published.data?.status, "active");

  const customer = as(await account(`customer-${run}@client-test.example`, "customer-portal"));
  const claimed = await customer.coupons.POST("/api/v1/campaigns/{campaign_id}/claim", {
    params: { path: { campaign_id: draft.data.id } },
  });
  assert.equal(claimed.data?.status, "active");
  const code = claimed.data.code;

  const redeemed = await owner.coupons.POST("/api/v1/coupons/{code}/redeem", {
    params: { path: { code }, header: { "Idempotency-Key": `redeem-${run}` } },
    body: { outlet_id: outlet.data!.id, order_amount: 1250, order_reference: "till-1/0001" },
  });
  assert.equal(redeemed.data?.discount_amount, 250);
  assert.equal(redeemed.data?.coupon.status, "redeemed");

  const again = await owner.coupons.POST("/api/v1/coupons/{code}/redeem", {
    params: { path: { code } },
    body: { outlet_id: outlet.data!.id },
  });
  assert.equal(again.response.status, 409);
  const problem: Problem | undefined = again.error;
  assert.equal(problem?.code, "already_redeemed");
  assert.equal(again.response.headers.get("content-type"), "application/problem+json");
});

test("a request without a token is refused with the documented problem", async () => {
  const wallet = await createPlatformClient({ baseUrl }).coupons.GET("/api/v1/wallet");
  assert.equal(wallet.response.status, 401);
  assert.equal(wallet.error?.code, "unauthenticated");
});
