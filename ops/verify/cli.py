"""`python -m ops.verify`: read the outputs, run the checks, write --json."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, TextIO

from ops.verify.model import Credentials, InputError
from ops.verify.verifier import Verifier


def load_outputs(path: str, stdin: TextIO) -> Mapping[str, Any]:
    try:
        text = stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
        data = json.loads(text)
    except (OSError, ValueError) as exc:
        raise InputError(f"{path}: {exc}") from exc
    if not isinstance(data, Mapping):
        raise InputError(f"{path}: expected the JSON object of `pulumi stack output --json`")
    return data


def main(
    argv: Sequence[str] | None = None,
    stdin: TextIO = sys.stdin,
    out: TextIO = sys.stdout,
    env: Mapping[str, str] | None = None,
) -> int:
    """CLI entry point: 0 all checks that ran passed, 1 one failed, 2 unusable input."""
    parser = argparse.ArgumentParser(
        prog="python -m ops.verify",
        description="Check the deployment of these stack outputs end to end (read-only).",
    )
    parser.add_argument("--outputs", default="-", help="`pulumi stack output --json` file, - stdin")
    parser.add_argument("--write", action="store_true", help="also take one snapshot")
    parser.add_argument("--json", type=Path, help="write the results (evidence format) here")
    parser.add_argument(
        "--start-timeout", type=float, default=300.0, help="seconds to wait for a cold start"
    )
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds per request")
    args = parser.parse_args(argv)
    environ = dict(os.environ if env is None else env)
    try:
        outputs = load_outputs(args.outputs, stdin)
        credentials = Credentials.from_env(environ, outputs)
        verifier = Verifier(
            outputs,
            credentials,
            write=args.write,
            start_timeout=args.start_timeout,
            timeout=args.timeout,
            out=out,
            env=environ,
        )
    except InputError as exc:
        print(f"verify: {exc}", file=sys.stderr)
        return 2
    doc = verifier.run()
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
        verifier.say(f"wrote {args.json} (python -m ops.phase_docs --evidence {args.json} ...)")
    return 0 if doc["$verify"]["passed"] else 1
