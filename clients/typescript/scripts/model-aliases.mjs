// Short names for the contracts' schemas (`Coupon`, `Campaign`, `User`, ...), written to
// src/generated/models.ts, derived from the schema names so a new schema comes along:
//
// - a schema's alias is its name without an `Out` suffix, or without a `Type` suffix when it
//   is an object (an enum such as `DiscountType` names a kind of thing: it keeps its name);
// - names the framework composed (`PageOut_CouponOut_`, `Body_issueToken`) get none: they
//   stay reachable as `CouponsComponents["schemas"]["PageOut_CouponOut_"]`;
// - in one service, a schema named exactly like an alias takes it (during a rename from
//   `CouponOut` to `Coupon` both may exist; `Coupon` is then the schema of that name);
// - one alias claimed by schemas that differ (two services' `Member`s) is skipped, and so is
//   one that src/index.ts declares itself; same-named schemas that are equal in every service
//   (`Problem`) give one alias. Each skipped name is listed at the end of the file.
import { writeFile } from "node:fs/promises";
import { join } from "node:path";

import { pascalCase } from "./names.mjs";

const composedName = /[^A-Za-z0-9]/;

/** The alias a schema's name gives, by the rule above. */
export function aliasOf(name, schema) {
  if (name.length > 3 && name.endsWith("Out")) {
    return name.slice(0, -3);
  }
  if (name.length > 4 && name.endsWith("Type") && !("enum" in schema)) {
    return name.slice(0, -4);
  }
  return name;
}

function canonical(value) {
  if (Array.isArray(value)) {
    return `[${value.map(canonical).join(",")}]`;
  }
  if (value !== null && typeof value === "object") {
    const members = Object.keys(value)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonical(value[key])}`);
    return `{${members.join(",")}}`;
  }
  return JSON.stringify(value);
}

/**
 * @param {Record<string, Record<string, object>>} schemasByService each service's
 *   components.schemas, services in the order their aliases are preferred
 * @param {Set<string>} reserved names src/index.ts declares
 * @returns {{ aliases: { alias: string, service: string, name: string }[], skipped: string[] }}
 */
export function chooseAliases(schemasByService, reserved) {
  // alias -> the schema each service offers for it (a service's own exact name first)
  const offers = new Map();
  for (const [service, schemas] of Object.entries(schemasByService)) {
    const claims = new Map();
    for (const [name, schema] of Object.entries(schemas)) {
      if (!composedName.test(name)) {
        const alias = aliasOf(name, schema);
        claims.set(alias, [...(claims.get(alias) ?? []), { service, name, schema }]);
      }
    }
    for (const [alias, claimants] of claims) {
      const exact = claimants.filter(({ name }) => name === alias);
      offers.set(alias, [...(offers.get(alias) ?? []), ...(exact.length > 0 ? exact : claimants)]);
    }
  }
  const aliases = [];
  const skipped = [];
  for (const [alias, contenders] of [...offers].sort(([a], [b]) => a.localeCompare(b))) {
    const describe = contenders.map(({ service, name }) => `${service}.${name}`).join(", ");
    if (reserved.has(alias)) {
      skipped.push(`${alias}: src/index.ts declares it (${describe})`);
      continue;
    }
    if (new Set(contenders.map(({ schema }) => canonical(schema))).size > 1) {
      skipped.push(`${alias}: claimed by schemas that differ (${describe})`);
      continue;
    }
    const [{ service, name }] = contenders;
    aliases.push({ alias, service, name });
  }
  return { aliases, skipped };
}

/** Names src/index.ts declares or re-exports itself. */
export function declaredNames(indexSource) {
  const names = new Set();
  const declaration = /^export\s+(?:declare\s+)?(?:abstract\s+)?(?:interface|type|class|function|const|let|enum)\s+([A-Za-z_$][\w$]*)/gm;
  for (const [, name] of indexSource.matchAll(declaration)) {
    names.add(name);
  }
  for (const [, list] of indexSource.matchAll(/^export\s+(?:type\s+)?\{([^}]*)\}/gm)) {
    for (const item of list.split(",")) {
      const name = item.trim().split(/\s+as\s+/).pop();
      if (name) {
        names.add(name);
      }
    }
  }
  return names;
}

/** @param {{ generated: string, schemasByService: Record<string, Record<string, object>>, reserved: Set<string> }} input */
export async function writeModelAliases({ generated, schemasByService, reserved }) {
  const { aliases, skipped } = chooseAliases(schemasByService, reserved);
  const lines = ["// Generated from contracts/openapi by scripts/generate.mjs (rule: scripts/model-aliases.mjs); do not edit."];
  for (const service of Object.keys(schemasByService)) {
    lines.push(`import type { components as ${pascalCase(service)}Components } from "./${service}.js";`);
  }
  lines.push("");
  for (const { alias, service, name } of aliases) {
    lines.push(`/** contracts/openapi/${service}.json: \`${name}\` */`);
    lines.push(`export type ${alias} = ${pascalCase(service)}Components["schemas"][${JSON.stringify(name)}];`);
  }
  if (skipped.length > 0) {
    lines.push("", "// No alias:", ...skipped.map((line) => `// - ${line}`));
  }
  await writeFile(join(generated, "models.ts"), `${lines.join("\n")}\n`);
  return { file: "src/generated/models.ts", aliases: aliases.length, skipped };
}
