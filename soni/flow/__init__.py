"""The flow stack and its pure operations."""

from soni.flow.manager import FlowManager

__all__ = ["FlowManager"]
