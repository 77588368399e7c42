"""`soni test`: conversation tests of a domain, in YAML, run in-process."""

from soni.testing.cases import load_test_file
from soni.testing.report import exit_code, report
from soni.testing.runner import FileResult, run_file, run_files

__all__ = ["FileResult", "exit_code", "load_test_file", "report", "run_file", "run_files"]
