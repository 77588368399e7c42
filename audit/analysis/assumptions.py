"""What the walk takes on trust until names are resolved.

While a module is walked, a name's meaning is not known yet (a later `def list()` or import
can change it), so the walk spots well-known APIs by the last part of their spelling and
records what it concludes from them together with the assumption it made: `list(os.walk(d))`
iterates the walk *if* that `list` is the builtin. Once the walk is over, the resolver
confirms or refutes each assumption against the module's scopes, and a conclusion stands
only when all of its assumptions hold.
"""

from __future__ import annotations

from dataclasses import dataclass

from audit.analysis.model import CallSite
from audit.analysis.resolve import Resolver
from audit.analysis.values import Ref
from audit.catalogue import Spotted


@dataclass(frozen=True)
class Assumption:
    """The call (by node id) calls one of `api`'s callables."""

    call: int
    api: Spotted


Requirements = frozenset[Assumption]
NOTHING: Requirements = frozenset()


class Assumptions:
    """Judges assumptions once the module's names are known (each at most once)."""

    def __init__(self, resolver: Resolver, sites: dict[int, CallSite]) -> None:
        self.resolver = resolver
        self.sites = sites
        self._judged: dict[Assumption, bool] = {}

    def hold(self, requirements: Requirements) -> bool:
        return all(self.holds(assumption) for assumption in requirements)

    def holds(self, assumption: Assumption) -> bool:
        known = self._judged.get(assumption)
        if known is None:
            known = self._judged[assumption] = self._judge(assumption)
        return known

    def _judge(self, assumption: Assumption) -> bool:
        site = self.sites.get(assumption.call)
        if site is None:  # a call that never runs (`if TYPE_CHECKING:`)
            return False
        callee = self.resolver.callee_at(site)
        if not isinstance(callee, Ref) or callee.local:
            return False
        return assumption.api.confirms(callee.qualified, spelled_only=callee.spelled)
