"""What the MUT rules share: their advice, and findings placed in the function whose `def`
line may carry a `# noqa` for the whole body."""

from __future__ import annotations

from typing import TYPE_CHECKING

from audit.rules.base import RawFinding

if TYPE_CHECKING:
    from audit.analysis.mutations import ParameterWrite

ADVICE = "copy it first or return a new value"


def parameter_finding(code: str, write: ParameterWrite, message: str) -> RawFinding:
    function = write.function
    return RawFinding(code, write.node, message, function.scope.qualname, function.name_node)
