// The package's version from contracts/CHANGELOG.md's headings.
import assert from "node:assert/strict";
import { test } from "node:test";

import { contractVersion } from "./package-version.mjs";

test("the newest release heading is the version; Unreleased is not a release", () => {
  const changelog = "# API changelog\n\nIntro.\n\n## Unreleased\n\n- next\n\n## 2.1.0 - 2026-12-09\n\n- x\n\n## 2.0.0 - 2026-12-08\n";
  assert.equal(contractVersion(changelog), "2.1.0");
  assert.equal(contractVersion("## 1.0.0-rc.1 - 2026-12-07\n"), "1.0.0-rc.1");
});

test("a heading that is neither a release nor Unreleased fails instead of being skipped", () => {
  assert.throws(() => contractVersion("## Unreleased\n## 2.0 - 2026-12-08\n## 1.0.0 - 2026-12-07\n"), /2\.0 - 2026-12-08/);
  assert.throws(() => contractVersion("## v2.0.0 - 2026-12-08\n"), /neither/);
  assert.throws(() => contractVersion("# API changelog\n\n## Unreleased\n"), /no released version/);
});
