"""Calls judged with their arguments (`audit.interprocedural.contexts`): a callee's branch
tests on its parameters decided by what one call passes and the defaults it leaves out,
down the chain. Each case is a module, a call made in a coroutine, the function the call
runs, and the verdict: "blocks" (whatever branch is taken), "may" (on some paths) or
"never" (the arguments rule out every blocking branch)."""

from __future__ import annotations

import textwrap

import pytest

from audit.core.settings import AnalysisSettings
from audit.core.sources import SourceFile
from audit.engine.file_pass import analyze_file
from audit.interprocedural.chain import Blocked
from audit.interprocedural.project import Project

CONTEXT = """
import ssl

def make_context(verify=True, cert=None):
    if verify is True:
        return ssl.create_default_context()
    if isinstance(verify, str):
        return ssl.create_default_context(cafile=verify)
    return None
"""

TRANSPORT = """
class Transport:
    pass

def load():
    with open("bundle.pem") as handle:
        return handle.read()

def transport(given=None, cached=None):
    if given is not None:
        return given
    if not cached:
        return load()
    return cached
"""

FORWARDED = """
def inner(verify=True, **options):
    if verify:
        open("ca.pem")

def outer(**options):
    return inner(**options)

def named(verify=True):
    return inner(verify=verify)

def rebound(verify=True):
    verify = bool(verify)
    if verify:
        open("ca.pem")
"""

MAPPINGS = """
def inner(verify=True, **options):
    if verify:
        open("ca.pem")

def local(timeout=None, headers=None):
    options = {"timeout": timeout}
    if headers is not None:
        options["headers"] = headers
    return inner(**options)

def defaults(**options):
    options.setdefault("verify", False)
    return inner(**options)

def handed(**options):
    tweak(options)
    return inner(**options)

def computed(key, **options):
    options[key] = False
    return inner(**options)

def removed(**options):
    del options["verify"]
    return inner(**options)

def tweak(options):
    return options
"""

SDK = """
from typing import Any, TYPE_CHECKING, cast

class Base:
    def __init__(self, verify=True):
        if verify:
            open("ca.pem")

def setup(owner, self, **options):
    super(owner, self).__init__(**options)

class Client(Base):
    def __init__(self, **options):
        setup(Client, self, **options)

class Generated(Base):
    def __init__(self, **options):
        setup(cast(Any, super()).__thisclass__, self, **options)

class _Real(Base):
    pass

if TYPE_CHECKING:
    Alias = Base
else:
    Alias = _Real

class Wrapper(Alias):
    pass
"""

PATHS = """
import platform

def either(flag):
    if flag.ready:
        open("a")
    elif flag.other:
        open("b")
    else:
        open("c")

def some(flag):
    if flag.ready:
        open("a")
    elif flag.other:
        open("b")

def native():
    if platform.system() in ("Windows", "Darwin"):
        found = None
    else:
        found = open("/etc/ssl/cert.pem")
    return found

def client(http_client=None):
    return http_client or open("default")

def countdown(n=3):
    if n:
        return countdown(n - 1)
    return open("done")
"""

CASES = [
    (CONTEXT, "make_context()", "make_context", "blocks"),
    (CONTEXT, "make_context(verify=False)", "make_context", "never"),
    (CONTEXT, "make_context(False)", "make_context", "never"),
    (CONTEXT, "make_context('ca.pem')", "make_context", "blocks"),
    (CONTEXT, "make_context(verify=None)", "make_context", "never"),
    (CONTEXT, "make_context(value)", "make_context", "may"),
    (TRANSPORT, "transport()", "transport", "blocks"),
    (TRANSPORT, "transport(Transport())", "transport", "never"),
    (TRANSPORT, "transport(value)", "transport", "may"),
    (TRANSPORT, "transport(cached=0)", "transport", "blocks"),
    (TRANSPORT, "transport(cached='pem')", "transport", "never"),
    (TRANSPORT, "transport(cached=[1])", "transport", "may"),
    (FORWARDED, "outer()", "outer", "blocks"),
    (FORWARDED, "outer(verify=False)", "outer", "never"),
    (FORWARDED, "outer(**value)", "outer", "may"),
    (FORWARDED, "named()", "named", "blocks"),
    (FORWARDED, "named(verify=0)", "named", "never"),
    (FORWARDED, "rebound(False)", "rebound", "may"),
    (MAPPINGS, "local()", "local", "blocks"),
    (MAPPINGS, "local(headers={})", "local", "blocks"),
    (MAPPINGS, "defaults()", "defaults", "may"),
    (MAPPINGS, "handed()", "handed", "may"),
    (MAPPINGS, "computed('verify')", "computed", "may"),
    (MAPPINGS, "removed(verify=False)", "removed", "may"),
    (SDK, "Client()", "Client", "blocks"),
    (SDK, "Client(verify=False)", "Client", "never"),
    (SDK, "Generated()", "Generated", "blocks"),
    (SDK, "Generated(verify=None)", "Generated", "never"),
    (SDK, "Wrapper()", "Wrapper", "blocks"),
    (PATHS, "either(value)", "either", "blocks"),
    (PATHS, "some(value)", "some", "may"),
    (PATHS, "native()", "native", "blocks"),
    (PATHS, "client()", "client", "blocks"),
    (PATHS, "client(Client())", "client", "may"),
    (PATHS, "countdown()", "countdown", "may"),
    (PATHS, "countdown(0)", "countdown", "blocks"),
]


def _project(source: str, call: str) -> Project:
    text = textwrap.dedent(source) + f"\n\nasync def go(value):\n    return {call}\n"
    source_file = SourceFile("app.py", "app", False, text.encode())
    return Project([analyze_file(source_file, AnalysisSettings(target_platform="linux"))])


def _verdict(project: Project, function: str) -> tuple[str, Blocked | None]:
    edges = [
        edge
        for edge in project.functions["app.go"].facts.edges
        if edge.callee.rpartition(".")[2] == function
    ]
    assert len(edges) == 1, edges
    judged = project.in_context(edges[0])
    if isinstance(judged, Blocked):
        return "blocks", judged
    return ("may" if judged else "never"), None


@pytest.mark.parametrize(("source", "call", "function", "expected"), CASES)
def test_a_call_is_judged_with_what_it_passes(
    source: str, call: str, function: str, expected: str
) -> None:
    assert _verdict(_project(source, call), function)[0] == expected


def test_the_chain_runs_through_the_class_passed_to_super() -> None:
    _, found = _verdict(_project(SDK, "Client()"), "Client")
    assert found is not None
    assert found.chain == ("app.Client.__init__", "app.setup", "app.Base.__init__")
    assert found.leaf.target == "builtins.open"
    assert not found.every_path


def test_a_chain_through_branches_that_all_block_says_so() -> None:
    _, found = _verdict(_project(PATHS, "either(value)"), "either")
    assert found is not None
    assert found.every_path
    _, direct = _verdict(_project(CONTEXT, "make_context()"), "make_context")
    assert direct is not None
    assert not direct.every_path


def test_platform_checks_follow_the_target_platform() -> None:
    text = textwrap.dedent(PATHS) + "\n\nasync def go(value):\n    return native()\n"
    source_file = SourceFile("app.py", "app", False, text.encode())
    summary = analyze_file(source_file, AnalysisSettings(target_platform="darwin"))
    project = Project([summary])
    (edge,) = project.functions["app.go"].facts.edges
    assert project.in_context(edge) is False


def test_facts_survive_the_cache_round_trip() -> None:
    from audit.core.facts import ModuleFacts

    project = _project(SDK, "Client()")
    facts = [located.facts for located in project.functions.values()]
    module = ModuleFacts(tuple(facts))
    assert ModuleFacts.from_json(module.to_json()) == module
