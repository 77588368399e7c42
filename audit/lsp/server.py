"""The language server: pygls handlers over the documents, projects and engine.

Checks run one at a time in a worker thread (the workspace is not thread-safe, and nothing
that reads files may run on the event loop), so the loop keeps answering hovers and code
actions while a buffer is analysed. Diagnostics are pushed (`publishDiagnostics`) unless
the client pulls them (`textDocument/diagnostic`); then the server asks it to pull again
when a saved file may have changed other buffers' chains.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import os
from collections.abc import Callable
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

    def _analyse(self, path: Path, text: str) -> tuple[Project, list[Finding], bool]:
        """The buffer's findings, and whether this was its project's first check."""
        project = self.projects.for_file(path)
        first = not project.warm
        return project, project.check(path, text), first

    async def _check(self, uri: str) -> None:
        document = self.documents.get(uri)
        if document is None:
            return
        buffer = self.workspace.get_text_document(uri)
        text, version = buffer.source, buffer.version
        try:
            project, findings, first = await self.run_engine(self._analyse, document.path, text)
        except Exception:  # not the analysis (that is AUD901): keep serving, say why
            logging.exception("checking %s failed", document.path)
            return
        if first:  # it analysed what the cache lacked: write it soon, for a warm restart
            self.cache_writes.touch("cache")
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

    # -- the client's notifications and requests ---------------------------------------------

    def on_initialize(self, params: types.InitializeParams) -> None:
        folders = [f.uri for f in params.workspace_folders or []] or [params.root_uri or ""]
        self.projects.folders = [p for uri in folders if (p := _path(uri)) is not None]
        text = params.capabilities.text_document
        self.pull = text is not None and text.diagnostic is not None

    def on_initialized(self, params: types.InitializedParams) -> None:
        workspace = self.client_capabilities.workspace
        watching = workspace.did_change_watched_files if workspace is not None else None
        if watching is None or not watching.dynamic_registration:
            return
        options = types.DidChangeWatchedFilesRegistrationOptions(
            watchers=[types.FileSystemWatcher(glob_pattern=glob) for glob in WATCHED]
        )
        registration = types.Registration(
            "soni-audit-watch", types.WORKSPACE_DID_CHANGE_WATCHED_FILES, options
        )
        self.client_register_capability(types.RegistrationParams([registration]))

    def on_open(self, params: types.DidOpenTextDocumentParams) -> None:
        uri = params.text_document.uri
        path = _path(uri)
        if path is not None:
            self.documents[uri] = Document(uri, path)
            self.checks.touch(uri, 0)

    def on_change(self, params: types.DidChangeTextDocumentParams) -> None:
        if params.text_document.uri in self.documents:
            self.checks.touch(params.text_document.uri)

    def on_save(self, params: types.DidSaveTextDocumentParams) -> None:
        path = _path(params.text_document.uri)
        if path is not None:
            self.changed_on_disk([path])

    def on_close(self, params: types.DidCloseTextDocumentParams) -> None:
        uri = params.text_document.uri
        self.checks.forget(uri)
        if self.documents.pop(uri, None) is not None and not self.pull:
            self.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri, []))

    def on_watched_files(self, params: types.DidChangeWatchedFilesParams) -> None:
        self.changed_on_disk([p for change in params.changes if (p := _path(change.uri))])

    def on_folders(self, params: types.DidChangeWorkspaceFoldersParams) -> None:
        gone = {p for f in params.event.removed if (p := _path(f.uri)) is not None}
        added = [p for f in params.event.added if (p := _path(f.uri)) is not None]
        self.projects.folders = [f for f in self.projects.folders if f not in gone] + added
        self.projects.reload()
        self.recheck_all()

    def changed_on_disk(self, paths: list[Path]) -> None:
        """A save or a change on disk: a pyproject.toml reloads every project; a Python
        file is read again by its projects. Every open buffer is checked again, since a
        chain through the file may have appeared, changed or gone."""
        if any(path.name == "pyproject.toml" for path in paths):
            self.projects.reload()
        for path in paths:
            for project in self.projects.touched(path):
                project.refresh()
        self.recheck_all()
        self.cache_writes.touch("cache")

    async def on_pull(
        self, params: types.DocumentDiagnosticParams
    ) -> types.DocumentDiagnosticReport:
        document = await self.current(params.text_document.uri)
        if document is None:
            return types.RelatedFullDocumentDiagnosticReport(items=[])
        if params.previous_result_id == document.result_id:
            return types.RelatedUnchangedDocumentDiagnosticReport(result_id=document.result_id)
        return types.RelatedFullDocumentDiagnosticReport(
            items=self.diagnostics(document), result_id=document.result_id
        )

    async def on_code_action(self, params: types.CodeActionParams) -> list[types.CodeAction] | None:
        uri = params.text_document.uri
        document = await self.current(uri)
        if document is None or document.project is None:
            return None
        only = params.context.only
        found: list[types.CodeAction] = []
        if actions.wants(only, types.CodeActionKind.QuickFix):
            lines = self.lines(uri)
            rules = self.rule_infos(document.findings)
            found += actions.quick_fixes(
                uri, document.findings, lines, params.range, document.project, rules
            )
        fixable = any(
            f.fix is not None and f.fix.applicability is Applicability.SAFE
            for f in document.findings
        )
        if fixable and actions.wants(only, actions.FIX_ALL):
            action = actions.fix_all_action(uri, document.version)
            found.append(action if self.can_resolve else await self.on_resolve(action))
        return found

    async def on_resolve(self, action: types.CodeAction) -> types.CodeAction:
        uri = str(actions.action_data(action).get("uri", ""))
        document = await self.current(uri)
        if document is None or document.project is None:
            return action
        text = self.workspace.get_text_document(uri).source
        fixed = await self.run_engine(document.project.fix_all, document.path, text)
        return actions.resolve_fix_all(action, uri, document.version, text, fixed)

    @property
    def can_resolve(self) -> bool:
        """Whether the client resolves a code action's edit when it is chosen."""
        text = self.client_capabilities.text_document
        code_action = text.code_action if text is not None else None
        support = code_action.resolve_support if code_action is not None else None
        return support is not None and "edit" in support.properties

    async def on_hover(self, params: types.HoverParams) -> types.Hover | None:
        document = await self.current(params.text_document.uri)
        if document is None or document.project is None:
            return None
        lines = self.lines(document.uri)
        point = types.Range(params.position, params.position)
        under = covering(document.findings, lines, point)
        if not under:
            return None
        text = hover_text(under, self.rule_infos(under), document.project.root)
        return types.Hover(types.MarkupContent(types.MarkupKind.Markdown, text))

    async def on_shutdown(self, params: None) -> None:
        self.checks.stop()
        self.cache_writes.stop()
        await self._save_caches("")


def _path(uri: str) -> Path | None:
    path = to_fs_path(uri) if uri.startswith("file:") else None
    return Path(path).resolve() if path else None


def build() -> AuditServer:
    server = AuditServer()
    pull_options = types.DiagnosticOptions(
        identifier="soni-audit", inter_file_dependencies=True, workspace_diagnostics=False
    )
    code_actions = types.CodeActionOptions(code_action_kinds=actions.KINDS, resolve_provider=True)
    features: list[tuple[str, Any, Callable[..., Any]]] = [
        (types.INITIALIZE, None, server.on_initialize),
        (types.INITIALIZED, None, server.on_initialized),
        (types.TEXT_DOCUMENT_DID_OPEN, None, server.on_open),
        (types.TEXT_DOCUMENT_DID_CHANGE, None, server.on_change),
        (types.TEXT_DOCUMENT_DID_SAVE, types.SaveOptions(include_text=False), server.on_save),
        (types.TEXT_DOCUMENT_DID_CLOSE, None, server.on_close),
        (types.WORKSPACE_DID_CHANGE_WATCHED_FILES, None, server.on_watched_files),
        (types.WORKSPACE_DID_CHANGE_WORKSPACE_FOLDERS, None, server.on_folders),
        (types.TEXT_DOCUMENT_DIAGNOSTIC, pull_options, server.on_pull),
        (types.TEXT_DOCUMENT_CODE_ACTION, code_actions, server.on_code_action),
        (types.CODE_ACTION_RESOLVE, None, server.on_resolve),
        (types.TEXT_DOCUMENT_HOVER, None, server.on_hover),
        (types.SHUTDOWN, None, server.on_shutdown),
    ]
    for method, options, handler in features:
        server.feature(method, options)(_function(handler))
    return server


def _function(handler: Callable[..., Any]) -> Callable[..., Any]:
    """A plain function calling the bound method (pygls marks the functions it registers,
    which a bound method does not allow)."""
    if inspect.iscoroutinefunction(handler):

        async def call_async(params: Any) -> Any:
            return await handler(params)

        return call_async

    def call(params: Any) -> Any:
        return handler(params)

    return call


def serve() -> None:
    logging.basicConfig(level=logging.WARNING, format="soni-audit server: %(message)s")
    build().start_io()
