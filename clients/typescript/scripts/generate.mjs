// Everything the build compiles that comes from contracts/: the REST types of each service
// (openapi-typescript), their model aliases, the GraphQL types (graphql-codegen), all under
// src/generated/ (never edited by hand, not committed); and the package's version, the
// contract's newest release in contracts/CHANGELOG.md.
import { mkdir, readdir, readFile, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

import { writeGraphQLTypes } from "./graphql-types.mjs";
import { declaredNames, writeModelAliases } from "./model-aliases.mjs";
import { writeOpenApiTypes } from "./openapi-types.mjs";
import { syncPackageVersion } from "./package-version.mjs";

const packageDir = join(dirname(fileURLToPath(import.meta.url)), "..");
const contracts = join(packageDir, "..", "..", "contracts");
const generated = join(packageDir, "src", "generated");

async function servicesIn(folder, extension) {
  const files = (await readdir(folder)).filter((name) => name.endsWith(extension));
  return files.map((name) => basename(name, extension)).sort();
}

const { version, changed } = await syncPackageVersion({
  changelogFile: join(contracts, "CHANGELOG.md"),
  packageDir,
});
console.log(`version ${version} (contracts/CHANGELOG.md)${changed ? ": package.json updated" : ""}`);

// A service removed from contracts/ leaves no module of its own behind.
await rm(generated, { recursive: true, force: true });
await mkdir(generated, { recursive: true });

const restServices = await servicesIn(join(contracts, "openapi"), ".json");
const schemasByService = {};
for (const service of restServices) {
  console.log(await writeOpenApiTypes({ contracts: join(contracts, "openapi"), generated, service }));
  const contract = JSON.parse(await readFile(join(contracts, "openapi", `${service}.json`), "utf8"));
  schemasByService[service] = contract.components?.schemas ?? {};
}
const reserved = declaredNames(await readFile(join(packageDir, "src", "index.ts"), "utf8"));
const models = await writeModelAliases({ generated, schemasByService, reserved });
console.log(`${models.file}: ${models.aliases} aliases${models.skipped.length ? `, none for ${models.skipped.length} (listed there)` : ""}`);

const graphqlServices = await servicesIn(join(contracts, "graphql"), ".graphql");
for (const file of await writeGraphQLTypes({ contracts: join(contracts, "graphql"), generated, services: graphqlServices })) {
  console.log(file);
}
