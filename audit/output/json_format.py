"""The JSON contract: `{"version": 1, "findings": [...], "summary": {...}}`."""

from __future__ import annotations

import json

from audit.engine.results import CheckResult

FORMAT_VERSION = 1


def render(result: CheckResult) -> str:
    document = {
        "version": FORMAT_VERSION,
        "findings": [finding.to_json() for finding in result.findings],
        "summary": {
            "files": result.files,
            "lines": result.lines,
            "findings": len(result.findings),
            "files_with_findings": result.files_with_findings,
            "suppressed": result.suppressed,
            "baselined": len(result.baselined),
            "stale_baseline_entries": len(result.stale),
            "by_code": result.by_code,
            # the environment `--dependencies` read, only when it read one
            **({"environment": result.environment} if result.environment else {}),
        },
    }
    return json.dumps(document, indent=2) + "\n"
