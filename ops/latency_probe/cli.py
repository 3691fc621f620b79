"""`python -m ops.latency_probe`: arguments, credentials from the environment, exit status."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import NoReturn
from urllib.parse import urlsplit

from ops.gateway_client import (
    DeviceIdentity,
    GatewayError,
)
from ops.latency_probe.measure import (
    EXIT_STATUS,
    MAX_REQUESTS,
    MAX_WS_SAMPLES,
    USAGE_ERROR,
    Credentials,
    ProbeError,
)
from ops.latency_probe.probe import Endpoint, ProbeSettings, format_report, run_probe


class _UsageParser(argparse.ArgumentParser):
    """argparse exits 2 on bad arguments, which is the "stop" verdict here."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(USAGE_ERROR, f"{self.prog}: error: {message}\n")


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = _UsageParser(
        prog="python -m ops.latency_probe",
        description="Compare latency of two deployed OpenClaw endpoints (A = Kubernetes "
        "baseline, B = this deployment) behind Cloudflare Access; against `make dev` every "
        "Worker sample is 401. Credentials come from PROBE_A_*/PROBE_B_* environment variables. "
        "Exit status: 0 within 2x, 1 over 2x, 2 stop (3x), 3 unverified, 64 usage error.",
    )
    parser.add_argument("--a", required=True, help="baseline URL (Kubernetes deployment)")
    parser.add_argument("--b", required=True, help="candidate URL (this deployment)")
    parser.add_argument("--label-a", default="kubernetes")
    parser.add_argument("--label-b", default="edge")
    parser.add_argument(
        "--requests", type=int, default=20, help=f"HTTP samples (<= {MAX_REQUESTS})"
    )
    parser.add_argument(
        "--ws-samples", type=int, default=5, help=f"WebSocket samples (<= {MAX_WS_SAMPLES})"
    )
    parser.add_argument("--http-path", default="/healthz")
    parser.add_argument("--ws-path", default="/")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds per request")
    parser.add_argument(
        "--cold-start-wait",
        type=float,
        default=None,
        help="idle seconds before the cold-start sample (>= the stack's sleepAfter); omit to skip",
    )
    parser.add_argument("--cold-start-timeout", type=float, default=300.0)
    parser.add_argument(
        "--cold-start-path",
        default="/readyz",
        help="path that answers 2xx once the gateway accepts connections",
    )
    parser.add_argument(
        "--device-key", type=Path, help="Ed25519 private key (PEM) of a paired device"
    )
    parser.add_argument("--out", type=Path, help="write the JSON document here")
    return parser.parse_args(argv)


def _check_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ProbeError(f"endpoint URL must be http(s)://host[/path], got {url!r}")
    return url


def main(argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None) -> int:
    """CLI entry point. Exit status: 0 within 2x, 1 over 2x, 2 stop (3x), 3 unverified or the
    probe failed, 64 usage error (nothing measured)."""
    args = _parse(argv)
    environ = os.environ if env is None else env
    try:
        a = Endpoint("a", args.label_a, _check_url(args.a), Credentials.from_env("A", environ))
        b = Endpoint("b", args.label_b, _check_url(args.b), Credentials.from_env("B", environ))
        device = DeviceIdentity(args.device_key.read_bytes()) if args.device_key else None
        if device is not None:
            device.public_key_raw()  # a bad key is a usage error, found before measuring
        settings = ProbeSettings(
            requests=args.requests,
            ws_samples=args.ws_samples,
            http_path=args.http_path,
            ws_path=args.ws_path,
            timeout=args.timeout,
            cold_start_wait=args.cold_start_wait,
            cold_start_timeout=args.cold_start_timeout,
            cold_start_path=args.cold_start_path,
        )
        settings.validate()
        from ops.writable import output_problem

        if args.out is not None and (problem := output_problem(args.out)):
            raise ProbeError(f"--out {problem}")
    except (GatewayError, OSError, ValueError) as exc:
        print(f"latency_probe: {exc}", file=sys.stderr)
        return USAGE_ERROR
    try:
        doc = run_probe(a, b, settings, device=device)
    except (GatewayError, OSError) as exc:
        print(f"latency_probe: {exc}", file=sys.stderr)
        return EXIT_STATUS["unverified"]
    print(format_report(doc))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {args.out}")
    return EXIT_STATUS.get(doc["verdict"]["status"], EXIT_STATUS["unverified"])
