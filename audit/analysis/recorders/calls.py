"""What becomes of each call's result: awaited, returned, or handed to another call."""

from __future__ import annotations

import libcst as cst

from audit.analysis.facts import Fact
from audit.analysis.model import CallSite
from audit.analysis.recorder import Recorder, Walk


class Calls(Recorder):
    fact = Fact.CALLS

    def __init__(self, walk: Walk) -> None:
        super().__init__(walk)
        self._awaited: set[int] = set()
        self._returned: set[int] = set()
        self._handed_to: dict[int, cst.Call] = {}

    # -- facts ---------------------------------------------------------------------------

    def is_awaited(self, call: cst.Call) -> bool:
        return id(call) in self._awaited

    def returned(self, site: CallSite) -> bool:
        """`return f()`: the result goes to the caller."""
        return id(site.node) in self._returned

    def handed_to(self, site: CallSite) -> cst.Call | None:
        """The call the result is passed to as an argument (`g(f())`)."""
        return self._handed_to.get(id(site.node))

    # -- hooks ---------------------------------------------------------------------------

    def awaiting(self, node: cst.Await) -> None:
        if isinstance(node.expression, cst.Call):
            self._awaited.add(id(node.expression))

    def leaving(self, node: cst.Return | cst.Raise) -> None:
        value = node.value if isinstance(node, cst.Return) else None
        if type(value) is cst.Call and id(value) in self.walk.model.sites:
            self._returned.add(id(value))

    def called(self, node: cst.Call) -> None:
        sites = self.walk.model.sites
        for arg in node.args:
            value = arg.value
            if type(value) is cst.Call and id(value) in sites:
                self._handed_to[id(value)] = node
