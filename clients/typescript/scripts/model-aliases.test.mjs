// The alias rule on the schema names of today's contracts and of those after a rename.
import assert from "node:assert/strict";
import { test } from "node:test";

import { chooseAliases, declaredNames } from "./model-aliases.mjs";

const object = (properties) => ({ type: "object", properties });
const problem = object({ code: { type: "string" } });

function aliasTable(schemasByService, reserved = new Set()) {
  const { aliases, skipped } = chooseAliases(schemasByService, reserved);
  return {
    aliases: Object.fromEntries(aliases.map(({ alias, service, name }) => [alias, `${service}.${name}`])),
    skipped: skipped.map((line) => line.split(":")[0]),
  };
}

test("framework suffixes go, enums named for a kind keep theirs, composed names get none", () => {
  const { aliases, skipped } = aliasTable({
    coupons: {
      CouponOut: object({ code: { type: "string" } }),
      CampaignType: object({ id: { type: "string" } }),
      DiscountType: { type: "string", enum: ["percentage", "fixed_amount"] },
      CampaignIn: object({ title: { type: "string" } }),
      PageOut_CouponOut_: object({ items: { type: "array" } }),
      Body_issueToken: object({}),
    },
  });
  assert.deepEqual(aliases, {
    Campaign: "coupons.CampaignType",
    CampaignIn: "coupons.CampaignIn",
    Coupon: "coupons.CouponOut",
    DiscountType: "coupons.DiscountType",
  });
  assert.deepEqual(skipped, []);
});

test("the same names come out before and after a rename, and during one", () => {
  const before = aliasTable({ coupons: { CouponOut: object({ code: { type: "string" } }) } });
  const after = aliasTable({ coupons: { Coupon: object({ code: { type: "string" } }) } });
  const during = aliasTable({
    coupons: { CouponOut: object({ code: { type: "string" } }), Coupon: object({ id: { type: "string" } }) },
  });
  assert.deepEqual(Object.keys(before.aliases), ["Coupon"]);
  assert.deepEqual(after.aliases, { Coupon: "coupons.Coupon" });
  assert.deepEqual(during.aliases, { Coupon: "coupons.Coupon" });
});

test("equal schemas of several services give one alias; differing ones and declared names none", () => {
  const { aliases, skipped } = aliasTable(
    {
      auth: { Problem: problem, MemberOut: object({ user_id: { type: "string" } }), TokenOut: object({}) },
      merchants: { Problem: structuredClone(problem), Member: object({ merchant_id: { type: "string" } }) },
    },
    new Set(["Token"]),
  );
  assert.deepEqual(aliases, { Problem: "auth.Problem" });
  assert.deepEqual(skipped, ["Member", "Token"]);
});

test("the names src/index.ts declares are found", () => {
  const names = declaredNames(
    'export type { AuthComponents, AuthPaths as Paths };\nexport type Problem = X;\nexport interface PlatformClient {}\nexport async function signIn() {}\nexport function formBody() {}\nexport class SignInError {}\nconst hidden = 1;\n',
  );
  assert.deepEqual([...names].sort(), ["AuthComponents", "Paths", "PlatformClient", "Problem", "SignInError", "formBody"]);
});
