"""Flows compiled into immutable programs."""

from soni.compiler.compile import compile_domain, compile_flow
from soni.compiler.program import Program, Programs

__all__ = ["Program", "Programs", "compile_domain", "compile_flow"]
