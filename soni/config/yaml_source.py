"""YAML with positions: every mapping key and sequence item remembers its line.

Validation errors name the line of the field at fault, so the loader keeps, next to the
plain data, a map from each path (`("flows", "transfer", "steps", 2, "next")`) to its line.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

Path = tuple[str | int, ...]


@dataclass(frozen=True)
class LocatedDocument:
    file: str
    data: Any
    lines: Mapping[Path, int]
    raw: Mapping[Path, str] = field(default_factory=dict)
    """The source text of plain scalars YAML read as something else than text (`yes`,
    `on`, `12:30`), for fields that are text whatever they look like."""

    def locate(self, path: Path) -> tuple[str, int]:
        """The file and line of `path` (a `Location` for one-document files)."""
        return self.file, self.line_of(path)

    def line_of(self, path: Path) -> int:
        """The line of `path`, or of its nearest located ancestor (0 when none is)."""
        current = path
        while current:
            if current in self.lines:
                return self.lines[current]
            current = current[:-1]
        return self.lines.get((), 0)


class YamlSyntaxError(ValueError):
    def __init__(self, file: str, line: int, message: str) -> None:
        self.file = file
        self.line = line
        self.message = f"invalid YAML: {message}"
        super().__init__(f"{file}:{line}: {self.message}")


def load_located(text: str, file: str) -> LocatedDocument:
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark is not None else 0
        raise YamlSyntaxError(file, line, error.problem or str(error)) from error
    lines: dict[Path, int] = {}
    if node is None:
        return LocatedDocument(file, None, lines)
    converter = _Converter(file, lines)
    try:
        return LocatedDocument(file, converter.convert(node, ()), lines, converter.raw)
    finally:
        converter.loader.dispose()


class _Converter:
    def __init__(self, file: str, lines: dict[Path, int]) -> None:
        self.file = file
        self.lines = lines
        self.raw: dict[Path, str] = {}
        self.loader = yaml.SafeLoader("")

    def convert(self, node: yaml.Node, path: Path) -> Any:
        self.lines.setdefault(path, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            result: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                key = self.scalar(key_node)
                line = key_node.start_mark.line + 1
                if key in result:
                    raise YamlSyntaxError(self.file, line, f"duplicate key {key!r}")
                self.lines[(*path, key)] = line
                result[key] = self.convert(value_node, (*path, key))
            return result
        if isinstance(node, yaml.SequenceNode):
            return [self.convert(item, (*path, index)) for index, item in enumerate(node.value)]
        value = self.scalar(node)
        if not isinstance(value, str) and isinstance(node, yaml.ScalarNode):
            self.raw[path] = node.value
        return value

    def scalar(self, node: yaml.Node) -> Any:
        if not isinstance(node, yaml.ScalarNode):
            raise YamlSyntaxError(self.file, node.start_mark.line + 1, "keys must be scalars")
        return self.loader.construct_object(node)
