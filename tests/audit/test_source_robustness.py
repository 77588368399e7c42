"""Bad files give AUD900 with a precise position; nothing else is lost."""

from __future__ import annotations

import pytest

from audit.core.settings import AnalysisSettings
from audit.core.sources import SourceFile
from audit.engine.file_pass import analyze_file


def _summary(data: bytes):
    return analyze_file(SourceFile("f.py", "f", False, data), AnalysisSettings())


@pytest.mark.parametrize(
    ("data", "line", "column", "message"),
    [
        (b"def f(:\n    pass\n", 1, 7, "syntax error: "),
        (b"x = 1\ny = (2,\n", 2, 5, "syntax error: '(' was never closed"),
        (b"x = 1\n\x00\x01\x02binary", 2, 1, "binary file: contains a NUL byte"),
        (b"x = 1\ny = '\xff\xfe'\n", 2, 6, "cannot decode as utf-8: byte 0xff is invalid"),
        (b"# -*- coding: klingon -*-\nx = 1\n", 1, 1, "bad encoding declaration"),
        (
            b"# -*- coding: unicode_escape -*-\nx = 1  # \\ud800\n",
            2,
            1,
            "the decoded text holds a lone surrogate U+D800",
        ),
        (
            b"async def f():\n\tif x:\n        pass\n\telse: pass\n",
            3,
            1,
            "syntax error: inconsistent use of tabs",
        ),
    ],
)
def test_unparsable_files_are_reported_where_the_problem_is(
    data: bytes, line: int, column: int, message: str
) -> None:
    summary = _summary(data)
    (finding,) = summary.findings
    assert finding.code == "AUD900"
    assert (finding.line, finding.column) == (line, column)
    assert finding.message.startswith(message), finding.message


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\n\n",
        b"\xef\xbb\xbfimport time\n",  # UTF-8 with BOM
        "# -*- coding: latin-1 -*-\nname = 'café'\n".encode("latin-1"),
        b"x = 1",  # no trailing newline
        b"x = 1\r\ny = 2\r\n",
    ],
)
def test_unusual_but_valid_files_are_fine(data: bytes) -> None:
    assert _summary(data).findings == ()


def test_latin1_file_is_checked() -> None:
    data = "# -*- coding: latin-1 -*-\nimport time\nasync def f():\n    time.sleep(1)  # café\n"
    (finding,) = _summary(data.encode("latin-1")).findings
    assert (finding.code, finding.line) == ("BLK100", 4)


def test_deep_nesting_does_not_crash() -> None:
    expression = "(" * 90 + "1" + ")" * 90
    summary = _summary(f"async def f():\n    return {expression}\n".encode())
    assert summary.findings == ()


def test_long_binary_operation_chain_is_analysed() -> None:
    chain = " + ".join(["x"] * 3000)
    summary = _summary(f"import time\nasync def f(x):\n    time.sleep({chain})\n".encode())
    assert [f.code for f in summary.findings] in (["BLK100"], ["AUD900"])


def test_lines_are_counted() -> None:
    assert _summary(b"a = 1\nb = 2\nc = 3").lines == 3
