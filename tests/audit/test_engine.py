"""The engine's seams: precedence between rules after selection, token pre-filters, the facts
the shared analyses hand to rules, and the workspace's in-memory cache."""

from __future__ import annotations

import textwrap
from pathlib import Path

import libcst as cst
import pytest

from audit.analysis.loader import Unloadable, load
from audit.analysis.recorders.anchors import FixAnchors
from audit.analysis.values import Evidence, TypeOrigin
from audit.analysis.writes import Effect, Shape
from audit.core.findings import FileSummary, Finding, Suppressions
from audit.core.settings import AnalysisSettings
from audit.core.sources import SourceFile, read_source
from audit.engine.config import Config
from audit.engine.filtering import FindingFilter
from audit.engine.workspace import Workspace
from audit.rules import precedence
from audit.rules.selection import RuleSelection
from tests.conftest import analyze

TWIN = """\
import time

class Store:
    def save(self):
        time.sleep(1)

    async def asave(self): ...

async def handler(store: Store):
    store.save()
"""


@pytest.mark.parametrize(
    ("select", "ignore", "reported"),
    [
        (("ALL",), (), ["BLK102"]),  # one site, one finding: BLK103 yields to BLK102
        (("ALL",), ("BLK102",), ["BLK103"]),  # disabling BLK102 brings BLK103 back
        (("BLK103",), (), ["BLK103"]),
        (("BLK102",), (), ["BLK102"]),
        (("BLK10",), ("BLK102", "BLK103"), []),
    ],
)
def test_precedence_is_resolved_after_selection(
    select: tuple[str, ...], ignore: tuple[str, ...], reported: list[str]
) -> None:
    findings = analyze(TWIN, select=select, ignore=ignore)
    assert [(f.line, f.code) for f in findings] == [(10, code) for code in reported]


@pytest.mark.parametrize(
    ("ignore", "reported"),
    [((), "BLK100"), (("BLK100",), "BLK104")],
)
def test_a_configured_catalogue_callable_is_reported_once(ignore: tuple[str, ...], reported: str):
    settings = AnalysisSettings(blocking={"time.sleep": "`await trio.sleep(...)`"})
    code = "import time\n\nasync def handler():\n    time.sleep(1)\n"
    (finding,) = analyze(code, settings, ignore=ignore)
    assert finding.code == reported


def test_the_filter_drops_only_what_a_selected_rule_outranks() -> None:
    site = ("f.py", 3, 5, 3, 9)
    findings = (
        Finding(*site, "BLK103", "through a helper"),
        Finding(*site, "BLK102", "sync twin"),
        Finding("f.py", 4, 5, 4, 9, "BLK103", "another call"),
    )
    summary = FileSummary("f.py", 5, findings, Suppressions({3: frozenset({"BLK102"})}))
    every = RuleSelection.build(select=["ALL"])
    filtered = FindingFilter(every, {}, precedence).apply([summary])
    # BLK102 wins the site and is suppressed there by its noqa; BLK103 elsewhere stays
    assert [(f.line, f.code) for f in filtered.findings] == [(4, "BLK103")]
    assert filtered.suppressed == 1
    without = RuleSelection.build(select=["ALL"], ignore=["BLK102"])
    kept = FindingFilter(without, {}, precedence).apply([summary]).findings
    assert [(f.line, f.code) for f in kept] == [(3, "BLK103"), (4, "BLK103")]


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("def\tf(p: list): p.append(1)\n", [(1, "MUT102")]),  # a tab after `def`
        ("def \\\n  f(p: list):\n    p.append(1)\n", [(3, "MUT102")]),  # a continuation
        ("f = lambda\tp: p.append(1)\n", [(1, "MUT102")]),
        (
            "import time\n\ndef\thelper():\n    time.sleep(1)\n\n"
            "async\tdef\thandler():\n    helper()\n",
            [(7, "BLK103")],
        ),
        ("import time\nasync\tdef\th():\n    time.sleep(1)\n", [(3, "BLK100")]),
        ('"""def f(p): p.append(1)"""\n', []),  # in a string: only costs the analysis
    ],
)
def test_prefilters_find_keywords_as_tokens(code: str, expected: list[tuple[int, str]]) -> None:
    assert [(f.line, f.code) for f in analyze(code)] == expected


def _context(code: str, *, module: str = "example", is_package: bool = False):
    source = SourceFile("example.py", module, is_package, textwrap.dedent(code).encode())
    ctx = load(source, AnalysisSettings())
    assert not isinstance(ctx, Unloadable)
    return ctx


def test_blocking_facts_carry_the_callee_family_and_how_the_receiver_type_was_found() -> None:
    ctx = _context(
        """\
        import sqlite3, time

        async def handler(path):
            time.sleep(1)
            with sqlite3.connect(path) as conn:
                conn.execute("select 1")
        """
    )
    sleep, connect, execute = [call.blocking for call in ctx.loop_calls if call.blocking]
    assert sleep is not None
    assert connect is not None
    assert execute is not None
    assert (sleep.callee, sleep.family and sleep.family.id, sleep.is_method) == (
        "time.sleep",
        "sleep",
        False,
    )
    assert sleep.family is not None
    replacement = sleep.family.replacement(ctx.imported_packages)
    assert replacement is not None
    assert replacement.callable == "asyncio.sleep"
    assert execute.callee == "sqlite3.Connection.execute"
    assert execute.is_method
    assert execute.receiver is not None
    assert execute.receiver.origin == TypeOrigin(
        Evidence.WITH, via=TypeOrigin(Evidence.CALL, "sqlite3.connect")
    )


def test_parameter_writes_carry_the_shape_and_the_alias_path() -> None:
    ctx = _context(
        """\
        from typing import Optional as Opt

        def fill(settings: Opt[dict[str, int]], steps):
            settings["k"] = 1
            for step in steps:
                step.done = True
        """
    )
    direct, aliased = ctx.parameter_writes
    assert direct.effect is Effect.STORE_ITEM
    assert not direct.through_alias
    assert (direct.shape.kind, direct.shape.type) == (Shape.MUTABLE, "builtins.dict")
    assert aliased.effect is Effect.SET_ATTRIBUTE
    assert aliased.through_alias
    assert aliased.mutation.origin.describe() == "step (from steps)"
    assert aliased.shape.kind is Shape.UNKNOWN


def test_imports_are_recorded_with_where_a_new_one_goes() -> None:
    ctx = _context(
        '''\
        """Docstring."""
        from __future__ import annotations

        import asyncio as aio
        from typing import TYPE_CHECKING

        if TYPE_CHECKING:
            import trio

        VALUE = 1
        '''
    )
    anchors = ctx.recorded(FixAnchors)
    assert anchors.module_binding("asyncio") == "aio"
    assert anchors.module_binding("trio") is None  # only inside the `if` block
    insertion = anchors.import_insertion(ctx.tree)
    assert insertion == 4
    assert isinstance(ctx.tree.body[insertion], cst.If)


def test_one_package_rule_for_every_stage(tmp_path: Path) -> None:
    for name in ("__init__.py", "__init__.pyi", "mod.py"):
        (tmp_path / "pkg").mkdir(exist_ok=True)
        (tmp_path / "pkg" / name).write_text("from . import sibling\n")
    roots = [tmp_path]
    read = {
        source.path: (source.module, source.is_package)
        for source in (read_source(f, tmp_path, roots) for f in (tmp_path / "pkg").iterdir())
    }
    assert read == {
        "pkg/__init__.py": ("pkg", True),
        "pkg/__init__.pyi": ("pkg", True),
        "pkg/mod.py": ("pkg.mod", False),
    }
    config = Config(root=tmp_path)
    result = Workspace(config, jobs=1).check([tmp_path], selection=config.selection(), details=True)
    assert result.details is not None
    assert {s.path: s.is_package for s in result.details.summaries} == {
        path: package for path, (_, package) in read.items()
    }


def test_an_in_memory_workspace_reuses_its_analyses_and_writes_nothing(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text("import time\n\nasync def f():\n    time.sleep(1)\n")
    config = Config(root=tmp_path)
    workspace = Workspace(config, use_cache=False, jobs=1)
    first = workspace.check([tmp_path], selection=config.selection(), cwd=tmp_path)
    second = workspace.check([tmp_path], selection=config.selection(), cwd=tmp_path)
    assert (first.cached, second.cached) == (0, 1)
    assert first.findings == second.findings
    assert not (tmp_path / ".soni-audit-cache").exists()
    (tmp_path / "app.py").write_text("async def f():\n    pass\n")
    third = workspace.check([tmp_path], selection=config.selection(), cwd=tmp_path)
    assert (third.cached, third.findings) == (0, ())


@pytest.mark.parametrize(
    ("select", "extend", "ignore", "enabled"),
    [
        (("ALL",), (), (), False),
        (("BLK",), (), (), False),
        (("BLK10",), (), (), False),
        (("BLK105",), (), (), True),
        (("blk105",), (), (), True),
        (("BLK",), ("BLK105",), (), True),
        (("ALL",), ("BLK105",), ("BLK",), False),
    ],
)
def test_an_opt_in_rule_is_enabled_only_by_its_exact_code(
    select: tuple[str, ...], extend: tuple[str, ...], ignore: tuple[str, ...], enabled: bool
) -> None:
    selection = RuleSelection.build(select=select, extend_select=extend, ignore=ignore)
    assert ("BLK105" in selection) is enabled


def test_an_opt_in_rule_is_fixable_like_any_other(tmp_path: Path) -> None:
    policy = Config(root=tmp_path).fix_policy()
    assert "BLK105" in policy.fixable


def test_opt_in_codes_match_the_rules() -> None:
    from audit.rules import OPT_IN_CODES, all_rules

    assert {rule.code for rule in all_rules() if rule.opt_in} == OPT_IN_CODES
