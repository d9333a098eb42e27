// The package as a portal gets it: `npm pack`, the tarball installed into a project of its
// own in a temporary folder (its dependencies from the npm registry), and that project's
// code type-checked against the installed `.d.ts` with `tsc --noEmit`. Calls the contract
// does not allow must fail to compile, or a passing check would prove nothing.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const run = promisify(execFile);
// dist/test/pack.test.js -> clients/typescript
const packageDir = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const repository = join(packageDir, "..", "..");
const npmCache = join(repository, ".local", "npm-cache");
const tsc = join(packageDir, "node_modules", "typescript", "bin", "tsc");

const consumerManifest = { name: "portal-consumer", private: true, type: "module" };
const consumerTsconfig = {
  compilerOptions: {
    target: "ES2022",
    module: "NodeNext",
    moduleResolution: "NodeNext",
    lib: ["ES2022", "DOM"],
    strict: true,
    noEmit: true,
    // The installed package's declarations are checked too: they must stand on their own.
    skipLibCheck: false,
    types: [],
  },
  include: ["*.ts"],
};

const header = `import { createPlatformClient, type Coupon, type CouponsGraphQL, type Problem } from "@coupon-platform/client";

const client = createPlatformClient({ baseUrl: "http://127.0.0.1:8000", accessToken: () => "a token" }).coupons;
`;

/** What a portal writes: a REST call with a typed answer and a GraphQL type. */
const allowed = `${header}
export async function walletCodes(): Promise<string[]> {
  const { data, error } = await client.GET("/api/v1/wallet");
  if (error) {
    const problem: Problem = error;
    throw new Error(problem.code);
  }
  const coupons: Coupon[] = data.items;
  return coupons.map((coupon) => coupon.code);
}

export function graphqlWalletCodes(wallet: CouponsGraphQL.Query["wallet"]): string[] {
  return wallet.items.map((coupon) => coupon.code);
}

export const walletArguments: CouponsGraphQL.QueryWalletArgs = { limit: 50 };
`;

/** Each a one-line departure from the contract, on the line marked `wrong`. */
const refused: Record<string, string> = {
  "unknown-path": `${header}
export const answer = client.GET("/api/v1/wallets"); // wrong
`,
  "answer-misread": `${header}
export async function firstCode(): Promise<number | undefined> {
  const { data } = await client.GET("/api/v1/wallet");
  const code: number | undefined = data?.items[0]?.code; // wrong
  return code;
}
`,
  "missing-path-parameter": `${header}
export const coupon = client.GET("/api/v1/coupons/{code}", { params: {} }); // wrong
`,
  "graphql-unknown-field": `${header}
export type Wallets = CouponsGraphQL.Query["wallets"]; // wrong
`,
};

function wrongLine(source: string): number {
  const index = source.split("\n").findIndex((line) => line.endsWith("// wrong"));
  assert.ok(index >= 0, "each refused source marks its wrong line");
  return index + 1;
}

function newestContractVersion(changelog: string): string {
  for (const line of changelog.split("\n")) {
    const release = /^## (\S+) - \d{4}-\d{2}-\d{2}$/.exec(line.trim());
    if (release?.[1]) {
      return release[1];
    }
  }
  assert.fail("contracts/CHANGELOG.md names no release");
}

async function typeCheck(project: string): Promise<{ ok: boolean; output: string }> {
  try {
    const { stdout } = await run(process.execPath, [tsc, "-p", ".", "--pretty", "false"], { cwd: project });
    return { ok: true, output: stdout };
  } catch (failure) {
    const { stdout, stderr } = failure as { stdout: string; stderr: string };
    return { ok: false, output: `${stdout}${stderr}` };
  }
}

test("a portal installs the packed client and type-checks its calls against it", async () => {
  const scratch = await mkdtemp(join(tmpdir(), "platform-client-"));
  try {
    const { stdout: packed } = await run(
      "npm",
      ["pack", "--ignore-scripts", "--json", "--pack-destination", scratch, "--cache", npmCache],
      { cwd: packageDir },
    );
    const [tarball] = JSON.parse(packed) as { filename: string; version: string; files: { path: string }[] }[];
    assert.ok(tarball);
    const changelog = await readFile(join(repository, "contracts", "CHANGELOG.md"), "utf8");
    assert.equal(tarball.version, newestContractVersion(changelog));
    const shipped = tarball.files.map((file) => file.path);
    for (const file of ["dist/src/index.js", "dist/src/index.d.ts", "dist/src/generated/models.d.ts", "dist/src/generated/graphql.d.ts"]) {
      assert.ok(shipped.includes(file), `${file} is in the package`);
    }
    assert.deepEqual(shipped.filter((file) => file.startsWith("dist/test") || file.startsWith("src/")), []);

    const project = join(scratch, "portal");
    await mkdir(project);
    await writeFile(join(project, "package.json"), JSON.stringify(consumerManifest));
    await writeFile(join(project, "tsconfig.json"), JSON.stringify(consumerTsconfig));
    await run(
      "npm",
      ["install", "--no-audit", "--no-fund", "--ignore-scripts", "--cache", npmCache, join(scratch, tarball.filename)],
      { cwd: project },
    );
    const installed = JSON.parse(
      await readFile(join(project, "node_modules", "@coupon-platform", "client", "package.json"), "utf8"),
    ) as { version: string };
    assert.equal(installed.version, tarball.version);

    await writeFile(join(project, "allowed.ts"), allowed);
    for (const [name, source] of Object.entries(refused)) {
      await writeFile(join(project, `${name}.ts`), source);
    }
    const { ok, output } = await typeCheck(project);
    assert.ok(!ok, "the refused calls fail the type check");
    const errors = output.split("\n").filter((line) => /error TS\d+/.test(line));
    assert.deepEqual(
      errors.filter((line) => line.startsWith("allowed.ts")),
      [],
      "the allowed calls type-check",
    );
    for (const [name, source] of Object.entries(refused)) {
      const at = `${name}.ts(${wrongLine(source)},`;
      assert.ok(
        errors.some((line) => line.startsWith(at)),
        `${name}.ts fails on its wrong line:\n${output}`,
      );
    }
    const unexpected = errors.filter(
      (line) => !line.startsWith("allowed.ts") && !Object.entries(refused).some(([name, source]) => line.startsWith(`${name}.ts(${wrongLine(source)},`)),
    );
    assert.deepEqual(unexpected, [], "no error elsewhere (the installed declarations included)");
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
});
