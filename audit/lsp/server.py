"""The language server: pygls handlers over the documents, projects and engine.

Checks run one at a time in a worker thread (the workspace is not thread-safe, and nothing
that reads files may run on the event loop), so the loop keeps answering hovers and code
actions while a buffer is analysed. Diagnostics are pushed (`publishDiagnostics`) unless
the client pulls them (`textDocument/diagnostic`); then the server asks it to pull again
when a saved file may have changed other buffers' chains.
"""

from __future__ import annotations

import asyncio
import logging
import os
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.uris import to_fs_path

from audit.lsp import actions
from audit.lsp.diagnostics import covering, diagnostic
from audit.lsp.documents import Debouncer, Document
from audit.lsp.engine import VERSION, Applicability, Finding, Project, RuleBook, RuleInfo
from audit.lsp.hover import hover_text
from audit.lsp.positions import Lines
from audit.lsp.projects import Projects

DEBOUNCE_SECONDS = 0.03  # quiet time after a keystroke before a buffer is checked
SAVE_CACHE_AFTER_SECONDS = 2.0  # the cache file is written once saves pause this long
WATCHED = ("**/pyproject.toml", "**/*.py", "**/*.pyi")


def user_cache() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "soni-audit"


class AuditServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__("soni-audit", VERSION)
        self.documents: dict[str, Document] = {}
        self.problems: list[str] = []  # configuration errors met off the loop, to show
        self.projects = Projects(self.problems.append)
        self.rules = RuleBook(user_cache())
        self.engine = asyncio.Lock()  # one check (or fix) at a time
        self.checks = Debouncer(self._check, DEBOUNCE_SECONDS)
        self.cache_writes = Debouncer(self._save_caches, SAVE_CACHE_AFTER_SECONDS)
        self.pull = False  # the client pulls diagnostics instead of receiving them

    # -- running the engine --------------------------------------------------------------

    async def run_engine(self, work: Any, *args: Any) -> Any:
        """`work(*args)` in the worker thread, one at a time; configuration problems met
        on the way are shown to the user."""
        async with self.engine:
            result = await asyncio.to_thread(work, *args)
        while self.problems:
            message = self.problems.pop(0)
            self.window_show_message(types.ShowMessageParams(types.MessageType.Error, message))
        return result

    def _analyse(self, path: Path, text: str) -> tuple[Project, list[Finding]]:
        project = self.projects.for_file(path)
        return project, project.check(path, text)

    async def _check(self, uri: str) -> None:
        document = self.documents.get(uri)
        if document is None:
            return
        buffer = self.workspace.get_text_document(uri)
        text, version = buffer.source, buffer.version
        project, findings = await self.run_engine(self._analyse, document.path, text)
        if self.documents.get(uri) is not document:
            return  # closed (or reopened) meanwhile
        document.record(version, findings, project)
        if not self.pull:
            self.text_document_publish_diagnostics(
                types.PublishDiagnosticsParams(uri, self.diagnostics(document), version)
            )

    async def current(self, uri: str) -> Document | None:
        """The document with findings for its buffer as it is now."""
        document = self.documents.get(uri)
        if document is None:
            return None
        await self.checks.settle(uri)
        if document.version != self.workspace.get_text_document(uri).version:
            await self._check(uri)
        return document

    def recheck_all(self) -> None:
        for uri in self.documents:
            self.checks.touch(uri, 0)
        capabilities = self.client_capabilities.workspace
        diagnostics = capabilities.diagnostics if capabilities is not None else None
        if self.pull and diagnostics is not None and diagnostics.refresh_support:
            self.workspace_diagnostic_refresh(None)

    async def _save_caches(self, _: str) -> None:
        def save() -> None:
            for project in self.projects:
                project.save()

        await self.run_engine(save)

    # -- views -----------------------------------------------------------------------------

    def lines(self, uri: str) -> Lines:
        return Lines(self.workspace.get_text_document(uri).source, self.encoding)

    @property
    def encoding(self) -> str:
        return str(self.workspace.position_encoding or types.PositionEncodingKind.Utf16)

    def rule_infos(self, findings: list[Finding]) -> dict[str, RuleInfo | None]:
        projects = list(self.projects)
        return {code: self.rules.info(code, projects) for code in {f.code for f in findings}}

    def diagnostics(self, document: Document) -> list[types.Diagnostic]:
        lines = self.lines(document.uri)
        rules = self.rule_infos(document.findings)
        root = document.project.root if document.project is not None else document.path.parent
        return [diagnostic(f, lines, root, rules.get(f.code)) for f in document.findings]


def _path(uri: str) -> Path | None:
    path = to_fs_path(uri) if uri.startswith("file:") else None
    return Path(path).resolve() if path else None


def build() -> AuditServer:
    server = AuditServer()

    @server.feature(types.INITIALIZE)
    def initialize(ls: AuditServer, params: types.InitializeParams) -> None:
        folders = [f.uri for f in params.workspace_folders or []] or [params.root_uri or ""]
        ls.projects.folders = [p for uri in folders if (p := _path(uri)) is not None]
        text = params.capabilities.text_document
        ls.pull = text is not None and text.diagnostic is not None

    @server.feature(types.INITIALIZED)
    def initialized(ls: AuditServer, params: types.InitializedParams) -> None:
        workspace = ls.client_capabilities.workspace
        watching = workspace.did_change_watched_files if workspace is not None else None
        if watching is None or not watching.dynamic_registration:
            return
        options = types.DidChangeWatchedFilesRegistrationOptions(
            watchers=[types.FileSystemWatcher(glob_pattern=glob) for glob in WATCHED]
        )
        registration = types.Registration(
            "soni-audit-watch", types.WORKSPACE_DID_CHANGE_WATCHED_FILES, options
        )
        ls.client_register_capability(types.RegistrationParams([registration]))

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: AuditServer, params: types.DidOpenTextDocumentParams) -> None:
        uri = params.text_document.uri
        path = _path(uri)
        if path is None:
            return
        ls.documents[uri] = Document(uri, path)
        ls.checks.touch(uri, 0)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: AuditServer, params: types.DidChangeTextDocumentParams) -> None:
        if params.text_document.uri in ls.documents:
            ls.checks.touch(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE, types.SaveOptions(include_text=False))
    def did_save(ls: AuditServer, params: types.DidSaveTextDocumentParams) -> None:
        path = _path(params.text_document.uri)
        if path is not None:
            _changed_on_disk(ls, [path])

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: AuditServer, params: types.DidCloseTextDocumentParams) -> None:
        uri = params.text_document.uri
        ls.checks.forget(uri)
        if ls.documents.pop(uri, None) is not None and not ls.pull:
            ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri, []))

    @server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    def watched(ls: AuditServer, params: types.DidChangeWatchedFilesParams) -> None:
        paths = [path for change in params.changes if (path := _path(change.uri)) is not None]
        _changed_on_disk(ls, paths)

    @server.feature(types.WORKSPACE_DID_CHANGE_WORKSPACE_FOLDERS)
    def folders(ls: AuditServer, params: types.DidChangeWorkspaceFoldersParams) -> None:
        gone = {p for f in params.event.removed if (p := _path(f.uri)) is not None}
        added = [p for f in params.event.added if (p := _path(f.uri)) is not None]
        ls.projects.folders = [f for f in ls.projects.folders if f not in gone] + added
        ls.projects.reload()
        ls.recheck_all()

    @server.feature(
        types.TEXT_DOCUMENT_DIAGNOSTIC,
        types.DiagnosticOptions(
            identifier="soni-audit", inter_file_dependencies=True, workspace_diagnostics=False
        ),
    )
    async def pull(
        ls: AuditServer, params: types.DocumentDiagnosticParams
    ) -> types.DocumentDiagnosticReport:
        document = await ls.current(params.text_document.uri)
        if document is None:
            return types.RelatedFullDocumentDiagnosticReport(items=[])
        if params.previous_result_id == document.result_id:
            return types.RelatedUnchangedDocumentDiagnosticReport(result_id=document.result_id)
        return types.RelatedFullDocumentDiagnosticReport(
            items=ls.diagnostics(document), result_id=document.result_id
        )

    @server.feature(
        types.TEXT_DOCUMENT_CODE_ACTION,
        types.CodeActionOptions(code_action_kinds=actions.KINDS, resolve_provider=True),
    )
    async def code_action(
        ls: AuditServer, params: types.CodeActionParams
    ) -> list[types.CodeAction] | None:
        uri = params.text_document.uri
        document = await ls.current(uri)
        if document is None or document.project is None:
            return None
        only = params.context.only
        found: list[types.CodeAction] = []
        if actions.wants(only, types.CodeActionKind.QuickFix):
            lines = ls.lines(uri)
            rules = ls.rule_infos(document.findings)
            found += actions.quick_fixes(
                uri, document.findings, lines, params.range, document.project, rules
            )
        fixable = any(
            f.fix is not None and f.fix.applicability is Applicability.SAFE
            for f in document.findings
        )
        if fixable and actions.wants(only, actions.FIX_ALL):
            action = actions.fix_all_action(uri, document.version)
            found.append(action if _can_resolve(ls) else await _resolve(ls, action))
        return found

    @server.feature(types.CODE_ACTION_RESOLVE)
    async def resolve(ls: AuditServer, action: types.CodeAction) -> types.CodeAction:
        return await _resolve(ls, action)

    @server.feature(types.TEXT_DOCUMENT_HOVER)
    async def hover(ls: AuditServer, params: types.HoverParams) -> types.Hover | None:
        document = await ls.current(params.text_document.uri)
        if document is None or document.project is None:
            return None
        lines = ls.lines(document.uri)
        point = types.Range(params.position, params.position)
        under = covering(document.findings, lines, point)
        if not under:
            return None
        text = hover_text(under, ls.rule_infos(under), document.project.root)
        return types.Hover(types.MarkupContent(types.MarkupKind.Markdown, text))

    @server.feature(types.SHUTDOWN)
    async def shutdown(ls: AuditServer, params: None) -> None:
        ls.checks.stop()
        ls.cache_writes.stop()
        await ls._save_caches("")

    return server


async def _resolve(ls: AuditServer, action: types.CodeAction) -> types.CodeAction:
    data = actions.action_data(action)
    uri = str(data.get("uri", ""))
    document = await ls.current(uri)
    if document is None or document.project is None:
        return action
    text = ls.workspace.get_text_document(uri).source
    fixed = await ls.run_engine(document.project.fix_all, document.path, text)
    return actions.resolve_fix_all(action, uri, document.version, text, fixed)


def _can_resolve(ls: AuditServer) -> bool:
    text = ls.client_capabilities.text_document
    code_action = text.code_action if text is not None else None
    support = code_action.resolve_support if code_action is not None else None
    return support is not None and "edit" in support.properties


def _changed_on_disk(ls: AuditServer, paths: list[Path]) -> None:
    """A save or a change on disk: a pyproject.toml reloads every project; a Python file is
    read again by its projects. Every open buffer is checked again, since a chain through
    the file may have appeared, changed or gone."""
    if any(path.name == "pyproject.toml" for path in paths):
        ls.projects.reload()
    for path in paths:
        for project in ls.projects.touched(path):
            project.refresh()
    ls.recheck_all()
    ls.cache_writes.touch("cache")


def serve() -> None:
    logging.basicConfig(level=logging.WARNING, format="soni-audit server: %(message)s")
    build().start_io()
