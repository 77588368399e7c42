"""The rule registry: every rule, one module each, in code order."""

from __future__ import annotations

from audit.rules.aud900_parse_error import ParseError
from audit.rules.aud901_internal_error import InternalError
from audit.rules.base import Rule
from audit.rules.blk100_blocking_call import BlockingCall
from audit.rules.blk101_blocking_method import BlockingMethod
from audit.rules.blk102_sync_twin import SyncTwinCall
from audit.rules.blk103_transitive_blocking import TransitiveBlockingCall
from audit.rules.blk104_configured_blocking import ConfiguredBlockingCall
from audit.rules.mut100_attribute_store import ParameterAttributeStore
from audit.rules.mut101_item_store import ParameterItemStore
from audit.rules.mut102_mutating_call import ParameterMutatingCall
from audit.rules.mut103_augmented_assignment import ParameterAugmentedAssignment
from audit.rules.mut104_alias_mutation import ParameterAliasMutation
from audit.rules.tig100_blanket_ignore import BlanketTypeIgnore
from audit.rules.tig101_coded_ignore import CodedTypeIgnore
from audit.rules.tig102_unused_ignore import UnusedTypeIgnore
from audit.rules.tig103_other_checker_ignore import OtherCheckerIgnore
from audit.rules.tig104_file_level_escape import FileLevelEscape

ALL_RULES: tuple[type[Rule], ...] = (
    BlockingCall,
    BlockingMethod,
    SyncTwinCall,
    TransitiveBlockingCall,
    ConfiguredBlockingCall,
    BlanketTypeIgnore,
    CodedTypeIgnore,
    UnusedTypeIgnore,
    OtherCheckerIgnore,
    FileLevelEscape,
    ParameterAttributeStore,
    ParameterItemStore,
    ParameterMutatingCall,
    ParameterAugmentedAssignment,
    ParameterAliasMutation,
    ParseError,
    InternalError,
)
RULES_BY_CODE: dict[str, type[Rule]] = {rule.code: rule for rule in ALL_RULES}
FILE_RULES: tuple[Rule, ...] = tuple(rule() for rule in ALL_RULES)

__all__ = ["ALL_RULES", "FILE_RULES", "RULES_BY_CODE", "Rule"]
