"""The gateway's memory with channels on, after one chat (its whole process group)."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

from bench.common import control, json_call
from dev.stack import CHAT_USERS, Stack


@dataclass(frozen=True)
class MemoryUse:
    label: str
    processes: int
    rss_mib: float
    peak_mib: float
    """Sum of each gateway process's VmHWM (its own peak RSS): an upper bound of the peak."""
    chat: str


def _proc_status(pid: int) -> dict[str, str]:
    fields: dict[str, str] = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            fields[key] = value.strip()
    except OSError:
        pass
    return fields


def group_memory(pgid: int) -> tuple[int, float, float]:
    """(processes, RSS MiB, peak RSS MiB) of every process in the process group `pgid`."""
    count, rss_kib, peak_kib = 0, 0, 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if os.getpgid(int(entry.name)) != pgid:
                continue
        except OSError:
            continue
        status = _proc_status(int(entry.name))
        count += 1
        rss_kib += int(status.get("VmRSS", "0 kB").split()[0])
        peak_kib += int(status.get("VmHWM", "0 kB").split()[0])
    return count, rss_kib / 1024, peak_kib / 1024


def chat_memory(stack: Stack, label: str, wait_seconds: float = 120) -> MemoryUse:
    """One Telegram DM from the allowlisted user, the bot's answer awaited; then the gateway's
    memory (its whole process group: the gateway and any helper processes it started)."""
    chat = "no channels"
    if stack.config.channels:
        telegram = stack.config.url("telegram").rstrip("/")
        before = len(json_call(f"{telegram}/_fake/bot-messages").get("messages") or [])
        deadline = time.monotonic() + wait_seconds
        chat = "no answer"
        # The plugin starts polling a few seconds after /readyz: resend until it is delivered.
        while time.monotonic() < deadline:
            state = json_call(f"{telegram}/_fake/state")
            if int(state.get("polls") or 0) > 0:
                break
            time.sleep(0.5)
        path = f"/_fake/users/{CHAT_USERS.telegram_allowed}/message"
        json_call(f"{telegram}{path}", {"text": "2 + 2"})
        while time.monotonic() < deadline:
            messages = json_call(f"{telegram}/_fake/bot-messages").get("messages") or []
            if len(messages) > before:
                chat = "answered"
                break
            time.sleep(0.5)
    gateway = control(stack, "GET", "/status").get("gateway") or {}
    pid = gateway.get("pid")
    if not isinstance(pid, int):
        return MemoryUse(label, 0, 0.0, 0.0, chat)
    count, rss, peak = group_memory(pid)
    return MemoryUse(label, count, rss, peak, chat)
