// Typed clients of the platform's three REST APIs, one per service, over one base URL
// (the API in AWS, or `make run`'s gateway). Types come from contracts/openapi.
import createClient, { type Client, type Middleware } from "openapi-fetch";

import type { components as AuthComponents, paths as AuthPaths } from "./generated/auth.js";
import type {
  components as CouponsComponents,
  paths as CouponsPaths,
} from "./generated/coupons.js";
import type {
  components as MerchantsComponents,
  paths as MerchantsPaths,
} from "./generated/merchants.js";

export type { AuthComponents, AuthPaths, CouponsComponents, CouponsPaths };
export type { MerchantsComponents, MerchantsPaths };

/** An error answer (RFC 9457); `code` is the stable machine code to branch on. */
export type Problem = CouponsComponents["schemas"]["Problem"];
export type Token = AuthComponents["schemas"]["Token"];
export type PortalClientId = "customer-portal" | "merchant-portal" | "admin-portal";

export interface PlatformClientOptions {
  /** e.g. http://127.0.0.1:8000, or the API's URL in AWS */
  baseUrl: string;
  /** The access token to send, asked before every request; none: anonymous. */
  accessToken?: () => string | undefined;
  fetch?: typeof globalThis.fetch;
}

export interface PlatformClient {
  auth: Client<AuthPaths>;
  merchants: Client<MerchantsPaths>;
  coupons: Client<CouponsPaths>;
}

function bearer(accessToken: () => string | undefined): Middleware {
  return {
    onRequest({ request }) {
      const token = accessToken();
      if (token && !request.headers.has("Authorization")) {
        request.headers.set("Authorization", `Bearer ${token}`);
      }
      return request;
    },
  };
}

export function createPlatformClient(options: PlatformClientOptions): PlatformClient {
  const common = {
    baseUrl: options.baseUrl.replace(/\/$/, ""),
    ...(options.fetch ? { fetch: options.fetch } : {}),
  };
  const auth = createClient<AuthPaths>(common);
  const merchants = createClient<MerchantsPaths>(common);
  const coupons = createClient<CouponsPaths>(common);
  if (options.accessToken) {
    const middleware = bearer(options.accessToken);
    for (const client of [auth, merchants, coupons]) {
      client.use(middleware);
    }
  }
  return { auth, merchants, coupons };
}

/** The OAuth2 form body (the token endpoint takes application/x-www-form-urlencoded). */
export function formBody(body: Record<string, string | null | undefined> | undefined): string {
  const form = new URLSearchParams();
  for (const [name, value] of Object.entries(body ?? {})) {
    if (value !== undefined && value !== null) {
      form.set(name, value);
    }
  }
  return form.toString();
}

export class SignInError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
  ) {
    super(`sign-in refused (${status}): ${error}`);
  }
}

/** A portal user's sign-in: the password grant with the portal's public client id. */
export async function signIn(
  client: PlatformClient,
  credentials: { username: string; password: string; clientId: PortalClientId },
): Promise<Token> {
  const { data, error, response } = await client.auth.POST("/api/v1/auth/token", {
    body: {
      grant_type: "password",
      username: credentials.username,
      password: credentials.password,
      client_id: credentials.clientId,
    },
    bodySerializer: formBody,
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
  });
  if (!data) {
    const reason = error && "error" in error ? String(error.error) : "unexpected answer";
    throw new SignInError(response.status, reason);
  }
  return data;
}
