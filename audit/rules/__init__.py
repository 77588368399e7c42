"""The rule registry: every rule, one module each, in code order."""

from __future__ import annotations

from audit.rules.aud900_parse_error import ParseError
from audit.rules.aud901_internal_error import InternalError
from audit.rules.base import Rule
from audit.rules.blk100_blocking_call import BlockingCall
from audit.rules.blk101_blocking_method import BlockingMethod
from audit.rules.blk104_configured_blocking import ConfiguredBlockingCall

ALL_RULES: tuple[type[Rule], ...] = (
    BlockingCall,
    BlockingMethod,
    ConfiguredBlockingCall,
    ParseError,
    InternalError,
)
RULES_BY_CODE: dict[str, type[Rule]] = {rule.code: rule for rule in ALL_RULES}
FILE_RULES: tuple[Rule, ...] = tuple(rule() for rule in ALL_RULES)

__all__ = ["ALL_RULES", "FILE_RULES", "RULES_BY_CODE", "Rule"]
