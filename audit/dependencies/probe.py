"""What the target interpreter says about itself, printed as JSON.

This module is not imported by soni-audit: its source runs in the target interpreter
(`python -I -c <source>`), which imports nothing but its standard library here, so the code
of the environment under audit never runs.
"""

import json
import sys
import sysconfig


def _distributions() -> list[dict[str, object]]:
    from importlib import metadata

    found: list[dict[str, object]] = []
    for dist in metadata.distributions():
        name = dist.metadata["Name"]
        if not name:
            continue
        tops: set[str] = set()
        text = dist.read_text("top_level.txt")
        if text:
            tops.update(line.strip() for line in text.splitlines() if line.strip())
        for file in dist.files or ():
            parts = file.parts
            if not parts or parts[0].endswith((".dist-info", ".egg-info", ".data")):
                continue
            if parts[0] in ("..", "__pycache__") or parts[0].endswith(".pth"):
                continue
            top = parts[0]
            if len(parts) == 1:
                top = top.partition(".")[0]
            if top.isidentifier():
                tops.add(top)
        location = str(dist.locate_file(""))
        found.append(
            {"name": name, "version": dist.version, "top": sorted(tops), "location": location}
        )
    return found


def main() -> None:
    paths = sysconfig.get_paths()
    report = {
        "executable": sys.executable,
        "prefix": sys.prefix,
        "version": list(sys.version_info[:3]),
        "path": [entry for entry in sys.path if entry],
        "stdlib": [paths["stdlib"], paths["platstdlib"]],
        "distributions": _distributions(),
    }
    sys.stdout.write(json.dumps(report))


if __name__ == "__main__":
    main()
