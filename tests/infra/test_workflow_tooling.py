"""The tool versions the GitHub Actions workflows set up."""

from __future__ import annotations

import re
from pathlib import Path

from infra.bundle import REPO_ROOT

WORKFLOWS = REPO_ROOT / ".github" / "workflows"
NODE_VERSION = "22"  # the CDK CLI's and jsii's supported releases: 20 is end-of-life


def _setup_node_versions(workflow: Path) -> list[str]:
    """The `node-version` of each actions/setup-node step, in order."""
    text = workflow.read_text()
    versions = []
    for step in re.finditer(r"uses: actions/setup-node@\S+.*?(?=\n\s*- |\Z)", text, re.DOTALL):
        found = re.search(r"node-version:\s*[\"']?([^\"'\s]+)", step.group(0))
        versions.append(found.group(1) if found else "")
    return versions


def test_every_workflow_sets_up_node_22() -> None:
    checked = 0
    for workflow in sorted(WORKFLOWS.glob("*.yml")):
        for version in _setup_node_versions(workflow):
            assert version == NODE_VERSION, (workflow.name, version)
            checked += 1
    assert checked >= 2  # ci.yml runs the CDK tests, deploy-stage.yml the CDK CLI
    for workflow in WORKFLOWS.glob("*.yml"):
        # The warning it silenced was Node 20's end of life.
        assert "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION" not in workflow.read_text()
