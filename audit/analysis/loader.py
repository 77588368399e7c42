"""Bytes to an analysed file, the one way: decode as Python would, parse with libcst, and
give the rules their view of it. Used by the per-file pass, by the location of calls the
project pass reports, and by the reports."""

from __future__ import annotations

from dataclasses import dataclass

from audit.analysis.context import EVERY_FACT, FileContext
from audit.analysis.facts import Facts
from audit.analysis.source import SourceProblem, decode_source, parse_source
from audit.catalogue import default_catalogue
from audit.core.settings import AnalysisSettings
from audit.core.sources import SourceFile


@dataclass(frozen=True)
class Unloadable:
    """Why a file cannot be analysed; `text` is its decoded text when only parsing failed
    (its `# noqa` comments still count)."""

    problem: SourceProblem
    text: str | None = None


def load(
    source: SourceFile, settings: AnalysisSettings, facts: Facts = EVERY_FACT
) -> FileContext | Unloadable:
    """The file ready to analyse; its walk records `facts` (only what its readers need)."""
    text = decode_source(source.data)
    if isinstance(text, SourceProblem):
        return Unloadable(text)
    tree = parse_source(text)
    if isinstance(tree, SourceProblem):
        return Unloadable(tree, text)
    return FileContext(
        path=source.path,
        module_name=source.module,
        is_package=source.is_package,
        text=text,
        tree=tree,
        catalogue=default_catalogue(),
        settings=settings,
        facts=facts,
    )
