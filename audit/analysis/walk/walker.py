"""The walk of a module, put together: the core and the handlers of each kind of node."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

import libcst as cst

from audit.analysis.walk.core import Handler, WalkCore
from audit.analysis.walk.definitions import Definitions
from audit.analysis.walk.expressions import Expressions
from audit.analysis.walk.statements import Statements


class ModuleWalker(Definitions, Statements, Expressions):
    """Builds a `ModuleModel` in a single pass over the tree, telling recorders about it."""

    # The dispatch table, by exact node type (so each handler only ever receives its own
    # node type); a plain dict's lookup is the fastest. Nodes not listed are walked through.
    HANDLERS: ClassVar[Mapping[type[cst.CSTNode], Handler]] = {
        cst.Import: Definitions._import,
        cst.ImportFrom: Definitions._import_from,
        cst.FunctionDef: Definitions._function_def,
        cst.Lambda: Definitions._lambda,
        cst.ClassDef: Definitions._class_def,
        cst.ListComp: Definitions._comprehension,
        cst.SetComp: Definitions._comprehension,
        cst.GeneratorExp: Definitions._comprehension,
        cst.DictComp: Definitions._comprehension,
        cst.Assign: Statements._assign,
        cst.AnnAssign: Statements._ann_assign,
        cst.AugAssign: Statements._aug_assign,
        cst.For: Statements._for,
        cst.With: Statements._with,
        cst.ExceptHandler: Statements._except_handler,
        cst.ExceptStarHandler: Statements._except_handler,
        cst.NamedExpr: Statements._named_expr,
        cst.Global: Statements._global,
        cst.Nonlocal: Statements._global,
        cst.Del: Statements._del,
        cst.While: Statements._while,
        cst.If: Statements._if,
        cst.Try: Statements._try,
        cst.TryStar: Statements._try,
        cst.Match: Statements._match,
        cst.Return: Statements._leave,
        cst.Raise: Statements._leave,
        cst.MatchAs: Statements._match_capture,
        cst.MatchStar: Statements._match_capture,
        cst.MatchMapping: Statements._match_mapping,
        cst.Call: Expressions._call,
        cst.Attribute: Expressions._attribute,
        cst.Subscript: Expressions._subscript,
        cst.Await: Expressions._await,
        cst.IndentedBlock: WalkCore._block,
        cst.BooleanOperation: Expressions._boolean,
        cst.IfExp: Expressions._if_exp,
        cst.Yield: Expressions._yield,
        cst.StarredElement: Expressions._starred,
    }
