"""AUD901: the analyser failed on a file (a bug in soni-audit, reported instead of crashing)."""

from __future__ import annotations

import traceback

from audit.rules.base import Rule


class InternalError(Rule):
    """
    ## What it does
    Reports a file on which soni-audit itself failed, with the exception it raised.

    ## Why is this bad?
    The file was not checked. This is a defect in soni-audit, not in your code: please report
    it with the file. The other files are still checked and reported.
    """

    code = "AUD901"
    name = "internal-error"
    summary = "soni-audit failed while analysing this file"

    @staticmethod
    def message(error: Exception) -> str:
        """The exception and where in soni-audit it was raised."""
        where = traceback.extract_tb(error.__traceback__)[-1]
        return (
            f"soni-audit failed on this file: {type(error).__name__}: {error} "
            f"(at {where.filename.rpartition('/')[2]}:{where.lineno})"
        )
