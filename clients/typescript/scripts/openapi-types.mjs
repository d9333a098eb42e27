// Types of each service's REST API from its contract (contracts/openapi/<service>.json),
// written to src/generated/<service>.ts.
import { writeFile } from "node:fs/promises";
import { join } from "node:path";

import openapiTS, { astToString } from "openapi-typescript";

/** @param {{ contracts: string, generated: string, service: string }} where */
export async function writeOpenApiTypes({ contracts, generated, service }) {
  const file = join(contracts, `${service}.json`);
  // Fields with a default are optional to send (the server fills them in).
  const ast = await openapiTS(new URL(`file://${file}`), { defaultNonNullable: false });
  const header = `// Generated from contracts/openapi/${service}.json by scripts/generate.mjs; do not edit.\n`;
  await writeFile(join(generated, `${service}.ts`), header + astToString(ast));
  return `src/generated/${service}.ts`;
}
