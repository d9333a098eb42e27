// Types of each service's API from the contract files (contracts/openapi/*.json), written
// to src/generated/<service>.ts; the build compiles the client against them.
import { mkdir, readdir, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

import openapiTS, { astToString } from "openapi-typescript";

const here = dirname(fileURLToPath(import.meta.url));
const contracts = join(here, "..", "..", "..", "contracts", "openapi");
const generated = join(here, "..", "src", "generated");

await mkdir(generated, { recursive: true });
for (const file of (await readdir(contracts)).filter((name) => name.endsWith(".json")).sort()) {
  const service = basename(file, ".json");
  // Fields with a default are optional to send (the server fills them in).
  const ast = await openapiTS(new URL(`file://${join(contracts, file)}`), {
    defaultNonNullable: false,
  });
  const header = `// Generated from contracts/openapi/${file} by scripts/generate.mjs; do not edit.\n`;
  await writeFile(join(generated, `${service}.ts`), header + astToString(ast));
  console.log(`src/generated/${service}.ts`);
}
