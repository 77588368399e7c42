"""Where an imported module lives in the environment, and which distribution owns it.

Found as the import system's path finder would, without importing anything: the first
library directory holding `a/b/__init__.py` or `a/b.py` for `a.b`. A module that is only
compiled code (`.so`, `.pyd`) has no file here: chains end at it.
"""

from __future__ import annotations

from pathlib import Path

from audit.dependencies.environment import Distribution, Environment


class ModuleIndex:
    def __init__(self, environment: Environment, project_tops: frozenset[str]) -> None:
        """`project_tops`: the checked code's own top-level modules, never looked up here."""
        self.environment = environment
        self.project_tops = project_tops
        self._files: dict[str, Path | None] = {}

    def file_of(self, module: str) -> Path | None:
        """The source file of an installed module a distribution owns, or None."""
        if module not in self._files:
            self._files[module] = self._find(module)
        return self._files[module]

    def _find(self, module: str) -> Path | None:
        parts = module.split(".")
        if parts[0] in self.project_tops or parts[0] not in self.environment.owners:
            return None
        for directory in self.environment.library_dirs:
            base = directory.joinpath(*parts)
            for candidate in (base / "__init__.py", base.with_name(f"{parts[-1]}.py")):
                if candidate.is_file():
                    return candidate
        return None

    def owner(self, file: Path) -> tuple[Distribution, str] | None:
        """The distribution a module file belongs to, and its path below the library
        directory (`httpx/_config.py`). Where several distributions share a top-level name
        (namespace packages), the one installed in that directory is taken."""
        for directory in self.environment.library_dirs:
            if directory not in file.parents:
                continue
            shown = file.relative_to(directory).as_posix()
            owners = self.environment.owners.get(shown.split("/")[0].removesuffix(".py"), [])
            here = [dist for dist in owners if Path(dist.location) == directory]
            chosen = (here or owners)[:1]
            return (chosen[0], shown) if chosen else None
        return None
