// Types of each service's GraphQL schema (contracts/graphql/<service>.graphql, the committed
// SDL: no server is asked) with graphql-codegen's typescript plugin, one module per service
// in src/generated/graphql/, and src/generated/graphql.ts naming each module's namespace
// (`CouponsGraphQL.Query`, `CouponsGraphQL.MutationRedeemCouponArgs`, ...).
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";

import { generate } from "@graphql-codegen/cli";

import { pascalCase } from "./names.mjs";

const pluginConfig = {
  // Type-only output: enums as unions of their values, no runtime objects in the package.
  enumsAsTypes: true,
  useTypeImports: true,
  // A scalar the SDL gains without a mapping here fails the build instead of turning `any`.
  strictScalars: true,
  scalars: {
    UUID: "string",
    DateTime: "string", // ISO 8601 with offset, as JSON carries it
    Long: "number", // svc-coupons' 64-bit integer, a JSON number
    JSON: "Record<string, unknown>", // a free-form object (a history event's data)
  },
};

/** @param {{ contracts: string, generated: string, services: string[] }} where */
export async function writeGraphQLTypes({ contracts, generated, services }) {
  await mkdir(join(generated, "graphql"), { recursive: true });
  const generates = Object.fromEntries(
    services.map((service) => [
      join(generated, "graphql", `${service}.ts`),
      { schema: join(contracts, `${service}.graphql`), plugins: ["typescript"], config: pluginConfig },
    ]),
  );
  await generate({ overwrite: true, silent: true, errorsOnly: true, generates }, true);
  const namespaces = services.map(
    (service) => `export type * as ${pascalCase(service)}GraphQL from "./graphql/${service}.js";\n`,
  );
  const header = "// Generated from contracts/graphql by scripts/generate.mjs; do not edit.\n";
  await writeFile(join(generated, "graphql.ts"), header + namespaces.join(""));
  return [...services.map((service) => `src/generated/graphql/${service}.ts`), "src/generated/graphql.ts"];
}
