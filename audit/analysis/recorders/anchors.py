"""What a fix writes around: the module's top-level imports (to reuse one, or to add one
where isort would) and the calls whose value is looked into (`await f().x` needs
parentheses)."""

from __future__ import annotations

import libcst as cst

from audit.analysis.facts import Fact
from audit.analysis.model import ImportRecord
from audit.analysis.recorder import Recorder, Walk


class FixAnchors(Recorder):
    fact = Fact.FIX_ANCHORS

    def __init__(self, walk: Walk) -> None:
        super().__init__(walk)
        self.records: list[ImportRecord] = []  # every import statement, in order
        self._looked_into: set[int] = set()

    # -- facts ---------------------------------------------------------------------------

    def is_looked_into(self, call: cst.Call) -> bool:
        return id(call) in self._looked_into

    def module_binding(self, qualified: str) -> str | None:
        """The name under which a top-level import makes `qualified` available to the whole
        module (`asyncio` for `import asyncio`, `aio` for `import asyncio as aio`)."""
        for record in self.records:
            if record.statement is None:
                continue
            for local, target in record.bound:
                if target == qualified:
                    return local
        return None

    def import_insertion(self, module: cst.Module) -> int:
        """Where a new top-level import goes: the index in the module's body after the
        docstring, the `from __future__` imports and the leading block of imports."""
        index = 0
        body = module.body
        if body and _is_docstring(body[0]):
            index = 1
        top_level = {record.statement for record in self.records if record.statement is not None}
        while index < len(body) and index in top_level:
            index += 1
        return index

    # -- hooks ---------------------------------------------------------------------------

    def imported(self, record: ImportRecord) -> None:
        self.records.append(record)

    def looked_into(self, call: cst.Call) -> None:
        self._looked_into.add(id(call))


def _is_docstring(statement: cst.BaseStatement) -> bool:
    if not isinstance(statement, cst.SimpleStatementLine) or len(statement.body) != 1:
        return False
    expression = statement.body[0]
    return isinstance(expression, cst.Expr) and isinstance(
        expression.value, (cst.SimpleString, cst.ConcatenatedString)
    )
