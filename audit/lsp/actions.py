"""Code actions: each finding's own fix (labelled safe or unsafe), a `# noqa: CODE` for
it, and `source.fixAll.soni-audit`, every safe fix of the file as `check --fix` applies
them. The fix-all edit is computed when the client resolves the action (editors ask for
code actions on every cursor move), or at once for clients that cannot resolve."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs
from lsprotocol import types

from audit.lsp.diagnostics import covering, diagnostic
from audit.lsp.engine import Applicability, Edit, Finding, Project, RuleInfo
from audit.lsp.positions import Lines

FIX_ALL = "source.fixAll.soni-audit"
KINDS = [types.CodeActionKind.QuickFix, FIX_ALL]


def text_edit(edit: Edit, lines: Lines) -> types.TextEdit:
    content = edit.content
    if edit.line > len(lines.lines) and lines.lines[-1] != "":
        content = "\n" + content  # a new line after a last line without a newline
    return types.TextEdit(
        range=lines.range(edit.line, edit.column, edit.end_line, edit.end_column),
        new_text=content,
    )


def quick_fixes(
    uri: str,
    findings: list[Finding],
    lines: Lines,
    span: types.Range,
    project: Project,
    rules: dict[str, RuleInfo | None],
) -> list[types.CodeAction]:
    """The fix and the `# noqa` of each finding under the cursor or selection."""
    text = "\n".join(lines.lines)
    actions = []
    for finding in covering(findings, lines, span):
        shown = diagnostic(finding, lines, project.root, rules.get(finding.code))
        fix = finding.fix
        if fix is not None:
            safe = fix.applicability is Applicability.SAFE
            label = "safe fix" if safe else "unsafe fix: may change when or where code runs"
            actions.append(
                types.CodeAction(
                    title=f"{finding.code}: {fix.message} ({label})",
                    kind=types.CodeActionKind.QuickFix,
                    diagnostics=[shown],
                    is_preferred=safe,
                    edit=_workspace_edit(uri, [text_edit(e, lines) for e in fix.edits]),
                )
            )
        noqa = project.noqa(text, finding.line, finding.code)
        if noqa is not None:
            actions.append(
                types.CodeAction(
                    title=f"{finding.code}: add `# noqa: {finding.code}` on this line",
                    kind=types.CodeActionKind.QuickFix,
                    diagnostics=[shown],
                    edit=_workspace_edit(uri, [text_edit(noqa, lines)]),
                )
            )
    return actions


def fix_all_action(uri: str, version: int | None) -> types.CodeAction:
    """The fix-all action, its edit left for `resolve`."""
    return types.CodeAction(
        title="soni-audit: fix all safe fixes in this file",
        kind=FIX_ALL,
        data={"uri": uri, "version": version, "action": "fixAll"},
    )


def resolve_fix_all(
    action: types.CodeAction, uri: str, version: int | None, text: str, fixed: str | None
) -> types.CodeAction:
    """The action with its edit: the whole buffer replaced by its fixed text (none when
    nothing is left to fix)."""
    lines = Lines(text)
    end = lines.position(len(lines.lines), len(lines.lines[-1]) + 1)
    edits = [] if fixed is None else [types.TextEdit(types.Range(types.Position(0, 0), end), fixed)]
    document = types.OptionalVersionedTextDocumentIdentifier(uri=uri, version=version)
    edit = types.WorkspaceEdit(
        document_changes=[types.TextDocumentEdit(text_document=document, edits=edits)]
    )
    return attrs.evolve(action, edit=edit)


def wants(only: Sequence[str] | None, kind: str) -> bool:
    """Whether a request restricted to kinds `only` covers actions of `kind`."""
    return only is None or any(kind == k or kind.startswith(f"{k}.") for k in only)


def action_data(action: types.CodeAction) -> dict[str, Any]:
    return action.data if isinstance(action.data, dict) else {}


def _workspace_edit(uri: str, edits: list[types.TextEdit]) -> types.WorkspaceEdit:
    return types.WorkspaceEdit(changes={uri: edits})
