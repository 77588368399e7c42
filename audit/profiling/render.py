"""Write a profile: `profile.json` (the normalised findings) and `profile.md` (Jinja2)."""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from typing import Any

from audit.profiling.findings import Profile


def render_markdown(profile: Profile, data: dict[str, Any], *, regenerate: str) -> str:
    """`data` is `profile.to_json()`, computed once by the caller."""
    from audit.report.build import environment

    template = environment().get_template("profile.md.j2")
    return template.render(
        command=shlex.join(profile.command),
        sources=", ".join(profile.sources) or "no source",
        threshold_ms=data["threshold_ms"],
        regenerate=regenerate,
        summary=data["summary"],
        static_checked=data["static_checked"],
        sites=data["sites"],
        static_only=data["static_only"],
        artifacts=data["artifacts"],
    )


def write_profile(profile: Profile, out: Path, *, regenerate: str) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    data = profile.to_json()
    document = out / "profile.json"
    document.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    report = out / "profile.md"
    report.write_text(render_markdown(profile, data, regenerate=regenerate), encoding="utf-8")
    return [report, document]
