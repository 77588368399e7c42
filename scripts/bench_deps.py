"""What `soni-audit check --dependencies` costs and finds on a project that imports large
SDKs: openai, anthropic, httpx, sqlalchemy, boto3, fastapi and aiomqtt, installed from the
package index into a virtual environment made for the run.

The project builds each library's client inside a coroutine (`AsyncOpenAI(...)`,
`aiomqtt.Client(tls_params=...)`, ...). Each configuration runs first with empty caches
(the project's and the user cache of library summaries) and then warm (median of three),
as a subprocess whose peak RSS is read from its resource usage. Every BLK106 finding is
listed with a label judged by hand (`LABELS`); a finding without a label is shown as
unjudged. The chains BLK105 (opt-in) reports on the same calls are listed too.

    python scripts/bench_deps.py                           # report on stdout
    python scripts/bench_deps.py --output reports/bench-deps.md
    python scripts/bench_deps.py --venv DIR                # reuse an installed environment
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from harness.report import command, publish
from harness.tools import SONI_AUDIT

# aiomqtt is pinned to 2.4.0, the version of the real bug in `tests/fixtures/real_bugs`
# (reclaim-aiomqtt-tls): 2.5 moved the TLS set-up to a worker thread when connecting.
PACKAGES = ("openai", "anthropic", "httpx", "sqlalchemy", "boto3", "fastapi", "aiomqtt==2.4.0")
WARM_RUNS = 5

PROJECT = """\
import ssl

import aiomqtt
import anthropic
import boto3
import httpx
import sqlalchemy
from fastapi import FastAPI
from openai import AsyncOpenAI

app = FastAPI()


async def llm():
    return AsyncOpenAI(api_key="sk-test")


async def claude():
    return anthropic.AsyncAnthropic(api_key="sk-test")


async def mqtt(context: ssl.SSLContext):
    tls = aiomqtt.TLSParameters(ca_certs="ca.pem")
    return aiomqtt.Client("broker.local", tls_params=tls)


async def http():
    return httpx.AsyncClient()


async def http_insecure():
    return httpx.AsyncClient(verify=False)


async def llm_shared(client):
    return AsyncOpenAI(api_key="sk-test", http_client=client)


async def storage():
    return boto3.client("s3")


async def database():
    return sqlalchemy.create_engine("sqlite:///app.db")


@app.get("/")
async def root():
    return {"ok": True}
"""

# Hand labels of BLK106 findings, by (function, callee as written): (true?, why).
LABELS: dict[tuple[str, str], tuple[bool, str]] = {
    ("llm", "AsyncOpenAI"): (
        True,
        "with no `http_client`, `AsyncAPIClient.__init__` builds openai's httpx client, whose "
        "transport creates an SSL context: on Linux `httpcore2._ssl.default_ssl_context` "
        "stats and loads the CA file (`load_verify_locations`), or `create_default_context` "
        "with `SSL_CERT_FILE`/`SSL_CERT_DIR` set: every path reads the disk. Home Assistant's "
        "loop-blocking reports on `AsyncOpenAI()` are this call.",
    ),
    ("http", "httpx.AsyncClient"): (
        True,
        "`verify` left at `True` and no `transport`: `create_ssl_context` loads certifi's "
        "bundle (`create_default_context(cafile=certifi.where())`) or the `SSL_CERT_*` "
        "files; every branch reads certificates from disk.",
    ),
    ("mqtt", "aiomqtt.Client"): (
        True,
        "aiomqtt 2.4 calls paho's `tls_set` in the constructor when `tls_params` is given; "
        "`tls_set` loads the CA file (`load_verify_locations`) or the default certificates "
        "(`load_default_certs`) whichever `ca_certs` is: the corpus bug.",
    ),
}


@dataclass(frozen=True)
class Run:
    label: str
    seconds: float
    rss_mb: float
    findings: list[dict[str, Any]]
    summary: str
    kind: str = ""


def install(venv: Path) -> None:
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q"]
    subprocess.run([*pip, *PACKAGES], check=True)


_VERSIONS = (
    "import importlib.metadata as m, sys\n"
    "print(' '.join(f'{n} {m.version(n)}' for n in sys.argv[1:]))"
)


def versions(venv: Path) -> list[str]:
    probe = _VERSIONS
    done = subprocess.run(
        [str(venv / "bin" / "python"), "-c", probe, *(p.partition("==")[0] for p in PACKAGES)],
        capture_output=True,
        text=True,
        check=True,
    )
    words = done.stdout.split()
    return [f"{name} {version}" for name, version in zip(words[::2], words[1::2], strict=True)]


def run(label: str, project: Path, cache: Path, args: list[str]) -> Run:
    """One `soni-audit check` as a subprocess: wall time, peak RSS, JSON findings."""
    environ = {**os.environ, "XDG_CACHE_HOME": str(cache)}
    environ.pop("VIRTUAL_ENV", None)
    with tempfile.TemporaryFile() as out:
        start = time.perf_counter()
        process = subprocess.Popen(
            [*SONI_AUDIT, "check", "--exit-zero", "--format", "json", *args, "app.py"],
            cwd=project,
            stdout=out,
            stderr=subprocess.DEVNULL,
            env=environ,
        )
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        report = json.loads(out.read())
    summary = report["summary"]
    return Run(label, seconds, usage.ru_maxrss / 1024, report["findings"], json.dumps(summary))


@dataclass(frozen=True)
class Config:
    label: str
    project: Path  # each configuration its own copy: the project cache holds one result
    cache: Path
    args: list[str]

    def run(self) -> Run:
        return run(self.label, self.project, self.cache, self.args)

    def forget_project(self) -> None:
        shutil.rmtree(self.project / ".soni-audit-cache", ignore_errors=True)


def measure(plain: Config, deps: Config) -> tuple[list[Run], float, float]:
    """For each configuration: the first run with empty caches; the median of runs with
    the library summaries cached but not the project's result (a changed project, as in
    CI or an editor); the median of fully warm runs. The two configurations run in turn,
    and the ratios (with over without) are medians of pairs, so a drift of the machine's
    speed moves both sides of a pair alike."""
    for config in (plain, deps):
        config.forget_project()
        shutil.rmtree(config.cache, ignore_errors=True)
    first = [replace(config.run(), kind="first (empty caches)") for config in (plain, deps)]
    changed: list[tuple[Run, Run]] = []
    for _ in range(WARM_RUNS):
        pair = []
        for config in (plain, deps):
            config.forget_project()
            pair.append(config.run())
        changed.append((pair[0], pair[1]))
    warm = [(plain.run(), deps.run()) for _ in range(WARM_RUNS)]
    rows = []
    for side in range(2):
        rows += [
            first[side],
            replace(
                _median([p[side] for p in changed]),
                kind=f"project changed, libraries cached (median of {WARM_RUNS})",
            ),
            replace(_median([p[side] for p in warm]), kind=f"warm (median of {WARM_RUNS})"),
        ]
    return rows, _ratio(warm), _ratio(changed)


def _ratio(pairs: list[tuple[Run, Run]]) -> float:
    return statistics.median(b.seconds / a.seconds for a, b in pairs)


def _median(runs: list[Run]) -> Run:
    return sorted(runs, key=lambda r: r.seconds)[len(runs) // 2]


def labelled(findings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for finding in findings:
        written = finding["message"].split("`")[1].removesuffix("()")
        label = LABELS.get((finding["function"], written))
        rows.append(
            {
                "line": finding["line"],
                "code": finding["code"],
                "function": finding["function"],
                "call": written,
                "chain": " -> ".join(finding["chain"]),
                "condition": finding["message"].partition("only on some paths: ")[2].split(");")[0],
                "verdict": "unjudged" if label is None else ("true" if label[0] else "false"),
                "reason": "" if label is None else label[1],
            }
        )
    return rows


# What each coroutine of the project builds, and what is known of it (read from the
# installed sources): whether the call blocks on the loop, and where.
TARGETS: dict[str, tuple[str, str]] = {
    "llm": (
        "`AsyncOpenAI(api_key=...)`",
        "`__init__` hands its class to `openai.lib._client_auth.async__init__` "
        "(`cast(Any, super()).__thisclass__`), which runs `super(_owner, self).__init__`; "
        "with `http_client` left at `None`, `AsyncAPIClient.__init__` builds an "
        "`AsyncHttpxClientWrapper` (its base is an `if TYPE_CHECKING:` alias) whose "
        "`**kwargs` leave `verify=True`: the SSL context loads the CA bundle.",
    ),
    "llm_shared": (
        "`AsyncOpenAI(..., http_client=client)`",
        "the client is the caller's: openai builds none when one is passed, and what "
        "`client` is cannot be known here, so the call may block; BLK105 shows no chain "
        "either, as its search does not follow `super(owner, self)` (only the judgement "
        "of a call with its arguments does).",
    ),
    "claude": (
        "`anthropic.AsyncAnthropic(api_key=...)`",
        "anthropic builds its own transport when `\"transport\" not in kwargs` (then "
        "`AsyncHTTPTransport(...)` loads the CA file); a membership test on `**kwargs` is "
        "not decided, so the chain is conditional (BLK105, whose message names the first "
        "condition the search met: a credentials file, looked for only without a key).",
    ),
    "mqtt": (
        "`aiomqtt.Client(..., tls_params=...)`",
        "aiomqtt 2.4 (the last release to do so, as in the corpus bug) calls paho's "
        "`tls_set` in the constructor when `tls_params` is an object; both of "
        "`tls_set`'s branches on `ca_certs` load certificates.",
    ),
    "http": (
        "`httpx.AsyncClient()`",
        "`transport` left at `None` and `verify` at `True`: the early return is not taken "
        "and `create_ssl_context` takes its `verify is True` branch, which loads the CA "
        "bundle on each of its paths.",
    ),
    "http_insecure": (
        "`httpx.AsyncClient(verify=False)`",
        "`verify=False` takes the branch that builds an SSL context without loading any "
        "certificate: nothing blocks, and nothing is reported, not even by BLK105.",
    ),
    "storage": (
        "`boto3.client('s3')`",
        "`boto3.client` is followed; it calls `_get_default_session().client(...)`, and "
        "the method of the session that helper returns is not followed (the helper has "
        "no return annotation to give its type): botocore's loading of its JSON service "
        "models is not seen.",
    ),
    "database": (
        "`sqlalchemy.create_engine(...)`",
        "followed to `sqlalchemy.engine.create.create_engine`; no blocking call is reached "
        "on any path (the engine connects lazily, on first use).",
    ),
}


def targets(findings: list[dict[str, Any]], opted: list[dict[str, Any]]) -> list[dict[str, str]]:
    rows = []
    for function, (call, note) in TARGETS.items():
        reported = [f["code"] for f in findings if f["function"] == function]
        conditional = [f["code"] for f in opted if f["function"] == function]
        rows.append(
            {
                "function": function,
                "call": call,
                "default": ", ".join(reported) or "not reported",
                "opt_in": ", ".join(conditional) or "not reported",
                "note": note,
            }
        )
    return rows


def reached(cache: Path, venv: Path) -> tuple[int, int]:
    """Library modules the run analysed (kept in the user cache), and the Python files
    installed in the environment."""
    documents = (cache / "soni-audit" / "dependencies" / "libraries").glob("*.json")
    modules = sum(len(json.loads(d.read_text(encoding="utf-8"))["modules"]) for d in documents)
    return modules, sum(1 for _ in venv.glob("lib/python*/site-packages/**/*.py"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--venv", type=Path, help="an environment with the packages installed")
    parser.add_argument("--output", type=Path, help="also write the markdown report here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-deps-") as scratch:
        root = Path(scratch)
        venv = args.venv or root / "venv"
        if args.venv is None:
            install(venv)
        python = ["--python", str(venv / "bin" / "python")]
        deps = ["--dependencies", *python]
        configs = []
        for label, options in (("without --dependencies", python), ("--dependencies", deps)):
            project = root / label.strip("-").replace(" ", "-")
            project.mkdir()
            (project / "app.py").write_text(PROJECT, encoding="utf-8")
            configs.append(Config(label, project, root / f"{project.name}-cache", options))
        runs, overhead, changed = measure(configs[0], configs[1])
        modules, installed_files = reached(configs[1].cache, venv)
        opt_in = [*deps, "--extend-select", "BLK105"]
        opted = run(
            "--dependencies --extend-select BLK105", configs[1].project, configs[1].cache, opt_in
        )
        installed = versions(venv)
    with_deps = runs[3:]
    blk106 = labelled([f for f in with_deps[2].findings if f["code"] == "BLK106"])
    judged = [row for row in blk106 if row["verdict"] != "unjudged"]
    true = sum(row["verdict"] == "true" for row in judged)
    publish(
        "bench-deps.md.j2",
        args.output,
        packages=", ".join(installed),
        runs=runs,
        modules=modules,
        installed_files=installed_files,
        overhead=overhead - 1,
        changed=changed - 1,
        targets=targets(with_deps[2].findings, opted.findings),
        blk106=blk106,
        precision=(true / len(judged)) if judged else None,
        conditional=labelled([f for f in opted.findings if f["code"] == "BLK105"]),
        load=os.getloadavg()[0],
        command=command("scripts/bench_deps.py", ["--output", "reports/bench-deps.md"]),
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
