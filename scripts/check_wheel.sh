#!/usr/bin/env bash
# The built distribution works outside this checkout: build the sdist and the wheel, check
# their metadata with twine, install the wheel (with the `server` extra) into a fresh venv in
# a temporary directory, and there run what a new user runs first. Templates, catalogues and
# YAML are package data: a file missing from the wheel fails here while every test of the
# checkout passes.
#
#   scripts/check_wheel.sh        (needs .venv with the dev extra: build, twine)
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
python="${repo}/.venv/bin/python"
work="$(mktemp -d -t soni-wheel-XXXXXX)"
server_pid=""
cleanup() {
  if [ -n "${server_pid}" ]; then kill "${server_pid}" 2>/dev/null || true; fi
  rm -rf "${work}"
}
trap cleanup EXIT
fail() { echo "check_wheel: $*" >&2; exit 1; }
step() { echo "+ $*"; }

step "python -m build (sdist and wheel)"
"${python}" -m build --outdir "${work}/dist" "${repo}" >"${work}/build.log" 2>&1 \
  || { tail -n 30 "${work}/build.log"; fail "the build failed"; }
wheel="$(ls "${work}"/dist/*.whl)"
step "twine check"
"${python}" -m twine check --strict "${work}"/dist/*

step "fresh venv, pip install $(basename "${wheel}")[server]"
python3 -m venv "${work}/venv"
"${work}/venv/bin/pip" install -q "${wheel}[server]" >"${work}/pip.log" 2>&1 \
  || { tail -n 30 "${work}/pip.log"; fail "the wheel did not install"; }
bin="${work}/venv/bin"

# Everything below runs from a directory that is not the checkout, on the installed files.
sample="${work}/sample"
mkdir -p "${sample}"
cd "${sample}"
cat >app.py <<'EOF'
import time


async def handler() -> None:
    time.sleep(1)
EOF

step "soni-audit check (a blocking call: one finding, exit 1)"
set +e
"${bin}/soni-audit" check app.py >check.out 2>&1
status=$?
set -e
cat check.out
[ "${status}" -eq 1 ] || fail "soni-audit check exited ${status}, expected 1"
grep -q "app.py:5:5: BLK100" check.out || fail "no BLK100 at app.py:5:5"

step "soni-audit report"
"${bin}/soni-audit" report . --out reports >/dev/null
for page in index sync-calls-audit type-ignores param-mutations; do
  [ -s "reports/${page}.md" ] || fail "reports/${page}.md not written"
done
grep -q "time.sleep" reports/sync-calls-audit.md || fail "the report misses the finding"

step "soni-audit rules BLK100"
"${bin}/soni-audit" rules BLK100 >rules.out
grep -q "BLK100" rules.out && grep -q "time.sleep" rules.out || fail "rules BLK100: $(head -n 5 rules.out)"

step "soni-audit check --fix (on a copy)"
mkdir fixed && cp app.py fixed/app.py
"${bin}/soni-audit" check --fix fixed/app.py || true
grep -q "await asyncio.sleep(1)" fixed/app.py || fail "not fixed: $(cat fixed/app.py)"
"${bin}/soni-audit" check fixed/app.py || fail "the fixed copy still has findings"
cmp -s app.py "${sample}/app.py" || fail "the original changed"

step "soni chat (the bundled banking example, scripted)"
export SONI_BANKING_DB="${work}/bank.db"
printf 'what is my balance\nchecking\n' | "${bin}/soni" chat >chat.out 2>&1 \
  || { cat chat.out; fail "soni chat failed"; }
cat chat.out
grep -qi "balance" chat.out || fail "soni chat gave no balance"

step "soni serve to /ready, then SIGTERM"
domain="$("${bin}/python" -c 'import pathlib, soni.examples.banking as b; print(pathlib.Path(b.__file__).parent / "domain.yaml")')"
port="$("${bin}/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
SONI_AUTH_TOKEN="wheel-check-token" "${bin}/soni" serve --config "${domain}" --port "${port}" \
  >serve.log 2>&1 &
server_pid=$!
ready=""
for _ in $(seq 300); do
  if "${bin}/python" -c "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:${port}/ready', timeout=2).status != 200)" 2>/dev/null; then
    ready=yes
    break
  fi
  kill -0 "${server_pid}" 2>/dev/null || { cat serve.log; fail "soni serve exited before /ready"; }
  sleep 0.2
done
[ -n "${ready}" ] || { cat serve.log; fail "soni serve not ready in 60 s"; }
kill -TERM "${server_pid}"
set +e
wait "${server_pid}"
status=$?
set -e
server_pid=""
# 143: uvicorn re-raises the signal it stopped on, once shutdown is complete
[ "${status}" -eq 0 ] || [ "${status}" -eq 143 ] || { cat serve.log; fail "soni serve exited ${status} on SIGTERM"; }
grep -q "Application shutdown complete" serve.log || { cat serve.log; fail "no graceful shutdown"; }
if grep -q "Traceback" serve.log; then cat serve.log; fail "a traceback in the server's log"; fi
echo "check_wheel: the wheel works outside the checkout"
