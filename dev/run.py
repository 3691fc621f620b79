"""`make dev`: start the whole system on loopback, print the URL to open, stop cleanly on Ctrl-C.

python -m dev.run [--llm auto|standin|real] [--state-dir DIR] [--reset]
"""

from __future__ import annotations

import argparse
import shutil
import signal
import sys
import time
from pathlib import Path

from dev.stack import PieceFailed, Stack, StackConfig


class _Stop(Exception):
    pass


def _raise_stop(_signum: int, _frame: object) -> None:
    raise _Stop


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m dev.run", description="Run the whole system locally."
    )
    parser.add_argument(
        "--llm",
        choices=("auto", "standin", "real"),
        default="auto",
        help="auto (default): the real provider when ANTHROPIC_API_KEY/OPENAI_API_KEY is "
        "exported, else the deterministic stand-in",
    )
    parser.add_argument("--state-dir", type=Path, default=StackConfig().state_dir)
    parser.add_argument(
        "--reset",
        action="store_true",
        help="delete the state dir first (gateway state, local backups, keys, logs)",
    )
    args = parser.parse_args(argv)

    began = time.monotonic()

    def progress(line: str) -> None:
        print(f"[dev {time.monotonic() - began:5.1f}s] {line}", flush=True)

    if args.reset and args.state_dir.exists():
        progress(f"--reset: deleting {args.state_dir}")
        shutil.rmtree(args.state_dir)
    stack = Stack(StackConfig(state_dir=args.state_dir.resolve(), llm=args.llm), progress)
    signal.signal(signal.SIGTERM, _raise_stop)
    try:
        stack.start()
    except PieceFailed as error:
        print(f"\ndev: FAILED: {error}", file=sys.stderr, flush=True)
        return 1
    except (KeyboardInterrupt, _Stop):
        progress("interrupted while starting; stopping what started")
        stack.stop()
        return 130

    cfg = stack.config
    llm = "real provider (key from your environment)" if stack.uses_real_llm() else "stand-in"
    print(
        "\n"
        f"  openclaw-edge is running locally (up in {time.monotonic() - began:.1f}s)\n\n"
        f"    Open   {cfg.url('worker')}\n\n"
        f"  Sign in on the local Access page (any email). It is served over TLS with a\n"
        f"  self-signed certificate, so the browser asks once to proceed to 127.0.0.1.\n"
        f"  Admin (device approval, backups): {cfg.url('worker', '/_admin/')}\n"
        f"  LLM: {llm}. Logs: {cfg.logs_dir}/\n"
        f"  Ctrl-C stops everything (the boot code takes a final snapshot first).\n",
        flush=True,
    )
    code = 0
    try:
        while True:
            stack.check_alive()
            time.sleep(1)
    except PieceFailed as error:
        print(f"\ndev: FAILED: {error}", file=sys.stderr, flush=True)
        code = 1
    except (KeyboardInterrupt, _Stop):
        print("", flush=True)
        progress("stopping (final snapshot may take a few seconds)")
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    stack.stop()
    progress("stopped")
    return code


if __name__ == "__main__":
    sys.exit(main())
