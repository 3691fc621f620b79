"""`make dev`: start the whole system on loopback, print the URL to open, stop cleanly on Ctrl-C.

python -m dev.run [--llm auto|standin|real] [--channels] [--state-dir DIR] [--reset]
"""

from __future__ import annotations

import argparse
import shutil
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path

from dev.stack import CHAT_USERS, PieceFailed, Stack, StackConfig, http_status


class _Stop(Exception):
    pass


def _raise_stop(_signum: int, _frame: object) -> None:
    raise _Stop


class WorkerWatch:
    """wrangler stays up when a rebuild fails (e.g. a half-saved edit): say so, once."""

    def __init__(self, stack: Stack, progress: Callable[[str], None]) -> None:
        self.stack = stack
        self.progress = progress
        self.misses = 0
        self.next_check = time.monotonic() + 5

    def check(self) -> None:
        if "worker" not in self.stack.running or time.monotonic() < self.next_check:
            return
        self.next_check = time.monotonic() + 5
        url = self.stack.config.url("worker", "/sandbox-health")
        ok = http_status(url, timeout=5) == 200
        if ok and self.misses >= 3:
            self.progress("worker: answering again")
        self.misses = 0 if ok else self.misses + 1
        if self.misses == 3:
            log = self.stack.running["worker"].log
            self.progress(f"worker: not answering /sandbox-health (build error?); see {log}")


def channel_help(stack: Stack) -> str:
    """How to talk to the bot through the fakes, as an allowlisted user."""
    cfg, users = stack.config, CHAT_USERS
    discord = cfg.url("discord", f"/_fake/users/{users.discord_allowed}/dm")
    telegram = cfg.url("telegram", f"/_fake/users/{users.telegram_allowed}/message")
    return (
        "  Chat channels (fakes; the real plugins talk to them):\n"
        f'    Discord DM:   curl -d \'{{"content": "847293 + 651824"}}\' {discord}\n'
        f"                  replies: curl {cfg.url('discord', '/_fake/bot-messages')}\n"
        f"    Telegram:     curl -H 'content-type: application/json' "
        f'-d \'{{"text": "847293 + 651824"}}\' {telegram}\n'
        f"                  replies: curl {cfg.url('telegram', '/_fake/bot-messages')}\n"
        f"  Channel state: {cfg.url('worker', '/_admin/')} (Channels)\n"
    )


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
    parser.add_argument(
        "--channels",
        action="store_true",
        help="also start the Discord and Telegram fakes and configure both channels against "
        "them (chat with the bot as an allowlisted user through the fakes' test API)",
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
    config = StackConfig(state_dir=args.state_dir.resolve(), llm=args.llm, channels=args.channels)
    stack = Stack(config, progress)
    # Installed explicitly: a shell may start a background job with SIGINT ignored.
    signal.signal(signal.SIGTERM, _raise_stop)
    signal.signal(signal.SIGINT, _raise_stop)
    try:
        stack.start()
    except PieceFailed as error:
        print(f"\ndev: FAILED: {error}", file=sys.stderr, flush=True)
        return 1
    except _Stop:
        progress("interrupted while starting; stopping what started")
        stack.stop()
        return 130

    cfg = stack.config
    llm = "real provider (key from your environment)" if stack.uses_real_llm() else "stand-in"
    print(
        "\n"
        f"  openclaw-edge is running locally (up in {time.monotonic() - began:.1f}s)\n\n"
        f"    Open   {cfg.url('worker')}\n\n"
        f"  Sign in on the local Access page (any email), then approve this browser once\n"
        f"  in the admin page (device approval, backups): {cfg.url('worker', '/_admin/')}\n"
        f"  LLM: {llm}. Logs: {cfg.logs_dir}/\n"
        "  Check it as `make verify` checks a deployment:\n"
        "    scripts/with-toolchain python -m dev.verify [--write]\n"
        f"  Ctrl-C stops everything (the boot code takes a final snapshot first).\n",
        flush=True,
    )
    if cfg.channels:
        print(channel_help(stack), flush=True)
    code = 0
    watch = WorkerWatch(stack, progress)
    try:
        while True:
            stack.check_alive()
            watch.check()
            time.sleep(1)
    except PieceFailed as error:
        print(f"\ndev: FAILED: {error}", file=sys.stderr, flush=True)
        code = 1
    except _Stop:
        print("", flush=True)
        progress("stopping (final snapshot may take a few seconds)")
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    stack.stop()
    progress("stopped")
    return code


if __name__ == "__main__":
    sys.exit(main())
