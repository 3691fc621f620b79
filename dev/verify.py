"""`python -m dev.verify [--state-dir DIR] [ops.verify options]`: `make verify` against `make dev`.

Reads the running local stack's outputs (`<state dir>/outputs.json`, written at start) and hands
`ops.verify` the local Access service token from `<state dir>/secrets.json` through its
environment, never argv, exactly as a deployment's token reaches `make verify`.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from dev.stack import ROOT, Secrets
from ops import verify


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dev.verify", description=__doc__)
    parser.add_argument("--state-dir", type=Path, default=ROOT / ".dev-state")
    args, rest = parser.parse_known_args(argv)
    outputs = args.state_dir / "outputs.json"
    if not outputs.is_file():
        print(f"dev.verify: no {outputs}: start the local stack first (make dev)", file=sys.stderr)
        return 2
    env = dict(os.environ)
    env["CF_ACCESS_CLIENT_SECRET"] = Secrets.load_or_create(
        args.state_dir / "secrets.json"
    ).access_client_secret
    return verify.main(["--outputs", str(outputs), *rest], env=env)


if __name__ == "__main__":
    raise SystemExit(main())
