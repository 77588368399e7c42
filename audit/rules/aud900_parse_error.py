"""AUD900: a file that could not be read or parsed."""

from __future__ import annotations

from audit.core.findings import Finding
from audit.rules.base import Rule


class ParseError(Rule):
    """
    ## What it does
    Reports a file that could not be analysed: a syntax error (with Python's own message and
    position), a file that is not valid text in its declared encoding, or a binary file.

    ## Why is this bad?
    Nothing in such a file is checked, so it must not pass silently. The rest of the run goes
    on: one broken file never hides the findings of the others.
    """

    code = "AUD900"
    name = "unparsable-file"
    summary = "File could not be parsed"
    TOO_DEEP = "too deeply nested to analyse"

    @classmethod
    def unreadable(cls, path: str, error: OSError) -> Finding:
        """The finding for a file that cannot even be read."""
        message = f"cannot read file: {error.strerror or error}"
        return Finding(path, 1, 1, 1, 2, cls.code, message)

    INVALID = (
        """
        def broken(:  # error
            pass
        """,
    )
    VALID = (
        "",
        """
        async def fine():
            return 1
        """,
    )
