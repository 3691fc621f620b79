"""The state every group of checks reads: the outputs, the credentials, the client, the results."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Mapping
from typing import Any, TextIO
from urllib.parse import urlsplit

from ops.verify.client import Client
from ops.verify.model import (
    ROOT,
    CheckResult,
    Clock,
    Credentials,
    Failed,
    InputError,
    Skipped,
    is_loopback,
    mask,
)


class VerifierBase:
    """Inputs, clock and output of one run, and what earlier checks found."""

    def __init__(
        self,
        outputs: Mapping[str, Any],
        credentials: Credentials,
        *,
        write: bool = False,
        start_timeout: float = 300.0,
        timeout: float = 30.0,
        out: TextIO = sys.stdout,
        clock: Clock = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        wrangler: str | None = None,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.outputs = outputs
        self.credentials = credentials
        self.write = write
        self.start_timeout = start_timeout
        self.timeout = timeout
        self.out = out
        self.clock = clock
        self.sleep = sleep
        self.env = dict(os.environ if env is None else env)
        self.wrangler = (
            wrangler
            or self.env.get("WRANGLER_BIN")
            or str(ROOT / "worker" / "node_modules" / ".bin" / "wrangler")
        )
        url = outputs.get("workerUrl")
        if not isinstance(url, str) or urlsplit(url).scheme not in ("http", "https"):
            raise InputError(
                "the outputs have no workerUrl (expected `pulumi stack output --json`)"
            )
        self.url = url.rstrip("/")
        self.host = urlsplit(self.url).hostname or ""
        self.local = is_loopback(self.host)
        self.client = Client(self.url, credentials, timeout)
        self.results: list[CheckResult] = []
        self.authorized = False
        self.backend: str | None = None
        self.status: Mapping[str, Any] | None = None
        self._selftest: Any = None
        self._selftest_error: Failed | None = None

    # -- output ------------------------------------------------------------------------------

    def say(self, line: str) -> None:
        self.out.write(mask(line, self.credentials.secrets()) + "\n")
        self.out.flush()

    def _needs_token(self) -> None:
        if not self.authorized:
            raise Skipped("needs the service token check to pass")

    def result(self, check_id: str) -> CheckResult | None:
        return next((r for r in self.results if r.id == check_id), None)
