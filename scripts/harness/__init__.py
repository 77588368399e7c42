"""What the benchmark scripts of `scripts/` share, by public names.

`scripts/` is an import root, as `python scripts/NAME.py` makes it: a script imports
`harness.servers`, never another script's private names. The modules:

- `servers`: `soni serve`, the floor app and their ports, on 127.0.0.1
- `clients`: one httpx client per simulated user, what a reply says
- `conversation`: the banking conversation every soni benchmark replays
- `phases`: bounded phases and latency figures
- `corpus`, `tools`: the audit benchmarks' third-party corpus, and running soni-audit and
  its peers on it
- `workload`: the profiling workload's blocks and what a harness reported of them
- `report`: rendering a report (`scripts/templates/`), the machine, the command to rerun
"""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
"""The checkout the scripts belong to."""
