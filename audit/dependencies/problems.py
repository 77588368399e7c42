"""AUD900 for an installed distribution that could not be analysed: one finding per
distribution, on the checked code's first import of it, so the run goes on and says which
library's calls were not followed."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence

from audit.core.findings import Finding
from audit.core.libraries import Library
from audit.dependencies.environment import Environment

CODE = "AUD900"


def problem_findings(
    problems: Mapping[Library, str],
    environment: Environment,
    checked: Sequence[str],
    read: Callable[[str], bytes],
) -> list[Finding]:
    if not problems or not checked:
        return []
    texts = {path: read(path).decode("utf-8", "replace") for path in sorted(checked)}
    found = []
    for library, problem in sorted(problems.items(), key=lambda item: str(item[0])):
        tops = [
            top for dist in environment.distributions if dist.library == library for top in dist.top
        ]
        path, line, column = _first_import(texts, tops)
        found.append(
            Finding(
                path=path,
                line=line,
                column=column,
                end_line=line,
                end_column=column + 1,
                code=CODE,
                message=(
                    f"installed distribution `{library}` could not be analysed ({problem}); "
                    "calls into that file are not followed"
                ),
            )
        )
    return found


def _first_import(texts: Mapping[str, str], tops: Sequence[str]) -> tuple[str, int, int]:
    """`(path, line, column)` of the first `import top` / `from top` statement; the first
    checked file's first line when the library is reached only through another one."""
    if tops:
        names = "|".join(re.escape(top) for top in tops)
        pattern = re.compile(rf"^(\s*)(?:from|import)\s+(?:{names})\b", re.M)
        for path, text in texts.items():
            match = pattern.search(text)
            if match is not None:
                line = text.count("\n", 0, match.start()) + 1
                return path, line, len(match.group(1)) + 1
    return next(iter(texts)), 1, 1
