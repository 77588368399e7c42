"""Errors soni reports to people: each names where the problem is."""

from __future__ import annotations


class SoniError(Exception):
    """Base class of soni's own errors."""


class ConfigError(SoniError):
    """A configuration problem, located as `file:line: field: message`."""

    def __init__(self, message: str, *, file: str = "", line: int = 0, field: str = "") -> None:
        self.file = file
        self.line = line
        self.field = field
        self.reason = message
        where = file + (f":{line}" if line else "")
        prefix = ": ".join(part for part in (where, field) if part)
        super().__init__(f"{prefix}: {message}" if prefix else message)


class ConfigErrors(SoniError):
    """Several configuration problems found in one load (all are reported, not the first)."""

    def __init__(self, errors: list[ConfigError]) -> None:
        self.errors = errors
        super().__init__("\n".join(str(error) for error in errors))


class ActionError(SoniError):
    """An action failed or returned something that is not a mapping."""

    def __init__(self, action: str, message: str) -> None:
        self.action = action
        super().__init__(f"action {action!r}: {message}")


class StaleStateError(SoniError):
    """A saved conversation refers to a flow or step the configuration no longer has
    (the domain changed under it); resetting the conversation recovers. `user_id` names the
    conversation once the runtime knows which one it is."""

    def __init__(self, message: str, *, user_id: str | None = None) -> None:
        self.reason = message
        self.user_id = user_id
        super().__init__(message if user_id is None else f"user {user_id!r}: {message}")

    def of_user(self, user_id: str) -> StaleStateError:
        """The same error, naming the conversation it was found in."""
        return StaleStateError(self.reason, user_id=user_id)


class ConditionError(SoniError):
    """A condition does not parse; `position` is the 0-based column in the expression."""

    def __init__(self, expression: str, position: int, message: str) -> None:
        self.expression = expression
        self.position = position
        super().__init__(f"{message} at column {position + 1} of {expression!r}")
