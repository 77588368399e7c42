"""Which project (configuration) a file belongs to, across several workspace folders.

A file belongs to the nearest pyproject.toml with a `[tool.soni-audit]` section above it;
without one, to the defaults rooted at the workspace folder that holds it (or its own
directory). Projects are made on first use and dropped when a pyproject.toml changes. An
invalid configuration is reported once and the project keeps its last good settings (the
defaults, if it never had any).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

from audit.lsp.engine import ConfigError, Project, find_config


class Projects:
    def __init__(self, report: Callable[[str], None]) -> None:
        """`report` tells the user about an invalid configuration."""
        self.report = report
        self.folders: list[Path] = []
        self._projects: dict[Path, Project] = {}  # by configuration file or default root
        self._last_good: dict[Path, Project] = {}

    def __iter__(self) -> Iterator[Project]:
        return iter(list(self._projects.values()))

    def for_file(self, path: Path) -> Project:
        """Reads the file system: call it off the event loop."""
        config = find_config(path.parent)
        root = self._folder_of(path)
        key = config.resolve() if config is not None else root
        project = self._projects.get(key)
        if project is None:
            try:
                project = Project.for_config(config, default_root=root)
            except ConfigError as error:
                self.report(f"soni-audit: {error}")
                project = self._last_good.get(key) or Project.for_config(None, default_root=root)
            else:
                self._last_good[key] = project
            self._projects[key] = project
        return project

    def _folder_of(self, path: Path) -> Path:
        """The innermost workspace folder holding the file, or its own directory."""
        holding = [folder for folder in self.folders if path.is_relative_to(folder)]
        return max(holding, key=lambda folder: len(folder.parts), default=path.parent)

    def reload(self) -> None:
        """Forget every project: the next check reads the configuration again."""
        self._projects.clear()

    def touched(self, path: Path) -> list[Project]:
        """The projects a file on disk belongs to (to read it again after a change)."""
        return [project for project in self._projects.values() if path.is_relative_to(project.root)]
