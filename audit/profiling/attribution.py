"""Name the place that blocked: the innermost project frame, the call it made, the leaf."""

from __future__ import annotations

import ast
import linecache
from dataclasses import dataclass
from functools import lru_cache

from audit.profiling.frames import Frame, ProjectFiles, Stack, module_name


@dataclass(frozen=True, order=True)
class Place:
    """Where a block is charged: `frame` is the innermost project frame (or the leaf when no
    project code is on the stack); `call` the blocking call made there, when it can be told;
    `leaf` the innermost frame sampled."""

    frame: Frame
    call: str | None
    leaf: Frame


def _dotted(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        inner = _dotted(node.value)
        return f"{inner}.{node.attr}" if inner is not None else None
    if isinstance(node, ast.Call):
        inner = _dotted(node.func)
        return f"{inner}()" if inner is not None else None
    return None


@lru_cache(maxsize=4096)
def call_on_line(file: str, line: int) -> str | None:
    """The outermost call written on `line` of `file` (`time.sleep`, `conn.execute`), if any.

    Used when the blocking callee is C code that no Python sampler can see.
    """
    text = linecache.getline(file, line).strip()
    if not text:
        return None
    # a simple statement, the header of a compound one, or the first line of a long call
    for candidate in (text, f"{text}\n    pass", text.rstrip("(") + ")"):
        try:
            tree = ast.parse(candidate)
        except SyntaxError:
            continue
        calls = [node for node in ast.walk(tree) if isinstance(node, ast.Call)]
        inner = {id(n.func.value) for n in calls if isinstance(n.func, ast.Attribute)}
        # the first call that is not merely the receiver of another call on the line
        for node in calls:
            name = _dotted(node.func)
            if name is not None and id(node) not in inner:
                return _innermost_chain(node)
        return None
    return None


def _innermost_chain(node: ast.Call) -> str | None:
    """`conn.execute(sql).fetchall()` -> `conn.execute`: the call that does the work is the
    first one evaluated, not the accessor applied to its result."""
    while isinstance(node.func, ast.Attribute) and isinstance(node.func.value, ast.Call):
        node = node.func.value
    return _dotted(node.func)


def _project_index(stack: Stack, project: ProjectFiles) -> int | None:
    return next((i for i in range(len(stack) - 1, -1, -1) if stack[i] in project), None)


def place_of(stack: Stack, project: ProjectFiles) -> Place:
    leaf = stack[-1]
    index = _project_index(stack, project)
    if index is None:
        return Place(leaf, _callee_name(leaf) if leaf.builtin else None, leaf)
    frame = stack[index]
    if index + 1 < len(stack):
        return Place(frame, _callee_name(stack[index + 1]), leaf)
    return Place(frame, call_on_line(frame.file, frame.line), leaf)


def project_frame(stack: Stack, project: ProjectFiles) -> Frame:
    """The frame `place_of` charges, without reading source files (safe on the loop)."""
    index = _project_index(stack, project)
    return stack[-1] if index is None else stack[index]


def _callee_name(frame: Frame) -> str:
    if frame.builtin:
        return frame.function
    return f"{module_name(frame.file)}.{frame.function}"
