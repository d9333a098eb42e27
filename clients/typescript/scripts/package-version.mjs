// The package's version is the contract's: the newest `## <semver> - <YYYY-MM-DD>` heading of
// contracts/CHANGELOG.md (newest first; an `## Unreleased` heading above it is not a
// release). A breaking contract change is a major version there, and so here.
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";

const semver = String.raw`(?:0|[1-9]\d*)\.(?:0|[1-9]\d*)\.(?:0|[1-9]\d*)(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?`;
const releaseHeading = new RegExp(String.raw`^##\s+(${semver})\s+-\s+\d{4}-\d{2}-\d{2}\s*$`);

/** The newest released version a changelog's text names. */
export function contractVersion(changelog) {
  for (const line of changelog.split(/\r?\n/)) {
    if (!line.startsWith("## ")) {
      continue;
    }
    if (/^##\s+Unreleased\s*$/i.test(line)) {
      continue;
    }
    const release = releaseHeading.exec(line);
    if (!release) {
      throw new Error(`contracts/CHANGELOG.md: "${line}" is neither "## Unreleased" nor "## <semver> - <YYYY-MM-DD>"`);
    }
    return release[1];
  }
  throw new Error("contracts/CHANGELOG.md names no released version (## <semver> - <YYYY-MM-DD>)");
}

/** Writes `version` where `versionsOf` finds versions in a JSON file; true when one differed. */
async function setVersion(file, version, versionsOf) {
  const text = await readFile(file, "utf8");
  const manifest = JSON.parse(text);
  const holders = versionsOf(manifest);
  if (holders.every((holder) => holder.version === version)) {
    return false;
  }
  for (const holder of holders) {
    holder.version = version;
  }
  const indent = /^\{\r?\n(\s+)/.exec(text)?.[1] ?? "  ";
  await writeFile(file, `${JSON.stringify(manifest, null, indent)}\n`);
  return true;
}

/** Sets package.json's and package-lock.json's version to the changelog's; true when they differed. */
export async function syncPackageVersion({ changelogFile, packageDir }) {
  const version = contractVersion(await readFile(changelogFile, "utf8"));
  const manifest = await setVersion(join(packageDir, "package.json"), version, (m) => [m]);
  const lock = await setVersion(join(packageDir, "package-lock.json"), version, (m) => [m, m.packages[""]]);
  return { version, changed: manifest || lock };
}
