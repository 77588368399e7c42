"""The language server's one door into soni-audit: configuration, the workspace that checks a
buffer against the project's cached facts, the fix engine, and rule metadata.

Every import of the audit's internals is here and nowhere else in `audit.lsp`, so when the
engine moves this is the only module to re-point. The rest of the server sees plain values
(`Finding`, `Fix`, `Edit`, `Location`) and the `Project` below.
"""

from __future__ import annotations

import codecs
import re
import traceback
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path

from audit import __version__
from audit.add_noqa import _edits as noqa_edits  # the line edit `--add-noqa` makes
from audit.analysis.noqa import parse_suppressions
from audit.core.findings import Applicability, Edit, FileSummary, Finding, Fix, Location
from audit.core.sources import SourceFile, decoded
from audit.docs import rule_page
from audit.engine.config import Config, ConfigError, find_config, load_config
from audit.engine.fix_loop import run_fixes
from audit.engine.workspace import Workspace
from audit.fixes.edits import Text, apply
from audit.rules import all_rules, rule_named
from audit.rules.aud900_parse_error import ParseError
from audit.rules.aud901_internal_error import InternalError

__all__ = [
    "INTERNAL_ERROR",
    "PARSE_ERROR",
    "VERSION",
    "Applicability",
    "ConfigError",
    "Edit",
    "Finding",
    "Fix",
    "Location",
    "Project",
    "RuleBook",
    "RuleInfo",
    "find_config",
]

VERSION = __version__
PARSE_ERROR = ParseError.code
INTERNAL_ERROR = InternalError.code
_COOKIE = re.compile(rb"^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)", re.M)


@dataclass(frozen=True)
class RuleInfo:
    code: str
    name: str
    summary: str
    page: Path | None  # the rule's page (`soni-audit rules CODE`), or a pattern rule's file


class Project:
    """One configuration root: its settings, a long-lived workspace (cache in memory, the
    cache file written only when `save` is called), and the project's files as last read
    from disk, which complete the call graph of every buffer checked against them."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.root = config.root.resolve()
        # One job: the engine's worker pool forks, and a fork of this threaded process
        # (pygls' reader, the check thread) can deadlock in the child.
        self.workspace = Workspace(config, jobs=1, save_cache=False)
        self.warm = False  # whether a check has read (or analysed) the whole project
        self.selection = config.selection()
        self.offered = config.fix_policy(unsafe=True)  # fixes a code action may offer
        self.safe = config.fix_policy()  # what "fix all" applies
        self._context: list[SourceFile] | None = None

    @classmethod
    def for_config(cls, config: Path | None, default_root: Path) -> Project:
        """The project configured by the pyproject.toml `config`, or the defaults rooted at
        `default_root` when None. Raises ConfigError."""
        return cls(load_config(config, default_root=default_root))

    def relative(self, path: Path) -> str:
        return path.resolve().relative_to(self.root).as_posix()

    def refresh(self) -> None:
        """Read the project's files from disk again (after a save or a change on disk)."""
        self._context = None

    def _others(self, path: str) -> list[SourceFile]:
        if self._context is None:
            workspace = self.workspace
            self._context = workspace.read(workspace.files([self.root])).sources
        return [source for source in self._context if source.path != path]

    def check(self, path: Path, text: str) -> list[Finding]:
        """The findings of `path` as the buffer `text` has it, with paths relative to the
        root; fixes the configuration does not allow are left out. A failure of the
        analyser becomes AUD901 on the file (its traceback goes to stderr)."""
        if not path.is_file():
            return []  # never saved: nothing on disk to discover yet
        relative = self.relative(path)
        others = self._others(relative)  # from disk: read before the buffer is held
        workspace = self.workspace
        workspace.hold(relative, encode(text))
        try:
            result = workspace.check(
                [path], selection=self.selection, force_exclude=True, cwd=self.root, context=others
            )
        except Exception as error:  # a bug in soni-audit: report it on the file, keep serving
            traceback.print_exc()
            message = InternalError.message(error)
            return [Finding(relative, 1, 1, 1, 2, INTERNAL_ERROR, message)]
        finally:
            workspace.release()
        self.warm = True
        return [
            finding if self.offered.applies(finding) else replace(finding, fix=None)
            for finding in result.findings
        ]

    def fix_all(self, path: Path, text: str) -> str | None:
        """The buffer with every safe fix applied (passes until none applies), or None when
        nothing changes."""
        relative = self.relative(path)
        workspace = self.workspace
        workspace.hold(relative, encode(text))
        try:
            run = run_fixes(
                workspace, [path], selection=self.selection, policy=self.safe, force_exclude=True
            )
        finally:
            workspace.release()
        change = run.changes.get(relative)
        return decode(change.fixed) if change is not None else None

    def noqa(self, text: str, line: int, code: str) -> Edit | None:
        """The edit that adds `# noqa: CODE` to the line (joining a `# noqa` already there),
        as `--add-noqa` makes it; None where no comment can go or the result would not
        compile."""
        directives = _noqa_directives(text)
        edits, _ = noqa_edits(text, directives, {line: {code}})
        if not edits:
            return None
        document = Text(text)
        try:
            compile(apply(text, [document.place(edits[0])]), "<buffer>", "exec")
        except (SyntaxError, ValueError):
            return None
        return edits[0]

    def save(self) -> None:
        """Write the cache file, so the next start is warm."""
        self.workspace.cache.save(self.root)


def _noqa_directives(text: str) -> FileSummary:
    """A summary carrying the buffer's `# noqa` directives (all `--add-noqa` reads)."""
    return FileSummary("<buffer>", 0, suppressions=parse_suppressions(text))


def encode(text: str) -> bytes:
    """The bytes a buffer would be saved as: in its declared encoding when it has one that
    can hold it (so decoding gives the text back), else UTF-8."""
    head = b"\n".join(text[:400].encode("utf-8", "surrogatepass").split(b"\n")[:2])
    cookie = _COOKIE.search(head)
    if cookie is not None:
        try:
            return text.encode(codecs.lookup(cookie[1].decode()).name)
        except (LookupError, UnicodeError):
            pass
    return text.encode("utf-8", "surrogatepass")


def decode(data: bytes) -> str:
    return decoded(data)[0]


class RuleBook:
    """Rule metadata for diagnostics and hovers. Each rule's page (what `soni-audit rules
    CODE` prints) is written once per soni-audit version under `directory` as CODE.md, and
    diagnostics link to it; a pattern rule links to the YAML file that defines it."""

    def __init__(self, directory: Path) -> None:
        self.pages = directory / VERSION / "rules"
        self.pages.mkdir(parents=True, exist_ok=True)
        for rule in all_rules():
            page = self.pages / f"{rule.code}.md"
            if not page.exists():
                page.write_text(rule_page(rule), encoding="utf-8")

    def info(self, code: str, projects: Iterable[Project] = ()) -> RuleInfo | None:
        rule = rule_named(code)
        if rule is not None:
            return RuleInfo(rule.code, rule.name, rule.summary, self.pages / f"{rule.code}.md")
        for project in projects:
            for pattern in project.config.pattern_rules:
                if pattern.code == code:
                    return RuleInfo(code, code.lower(), pattern.message, Path(pattern.source))
        return None
