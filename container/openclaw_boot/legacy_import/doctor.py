"""`openclaw doctor --fix` once after an import, before the gateway starts (SQLite migration)."""

from __future__ import annotations

import logging
import re
import subprocess
import time
from collections.abc import Callable, Mapping
from typing import Any

from ..gateway import gateway_env
from ..settings import SECRET_ENV_NAMES, Settings
from ..status import Status, now_iso
from .importer import LegacyImport
from .report import read_report

log = logging.getLogger("openclaw-edge.import")

DOCTOR_TIMEOUT = 1800


def doctor_due(settings: Settings) -> bool:
    report = read_report(settings)
    return report is not None and (report.get("doctor") or {}).get("state") != "done"


def run_doctor(settings: Settings, status: Status) -> dict[str, Any]:
    """`openclaw doctor --fix --non-interactive` on the imported state, before the gateway starts.

    OpenClaw 2026.9 keeps sessions and devices in SQLite; `gateway run` refuses to start on a
    legacy session store once its state has a startup checkpoint (and only migrates on its own
    on a pristine state), so the migration is run explicitly, with the gateway's environment.
    """
    importer = LegacyImport(settings, status)
    report = importer.read_report()
    if report is None:
        return {}
    log.info("running openclaw doctor --fix on the imported state")
    started = time.monotonic()
    log_path = settings.run_dir / "doctor.log"
    try:
        with log_path.open("wb") as handle:
            proc = subprocess.run(
                [settings.openclaw_bin, "doctor", "--fix", "--non-interactive"],
                env=gateway_env(settings.env),
                cwd=str(settings.home),
                stdout=handle,
                stderr=subprocess.STDOUT,
                timeout=DOCTOR_TIMEOUT,
                check=False,
            )
        code: int | None = proc.returncode
    except subprocess.TimeoutExpired:
        code = None
    except OSError as exc:
        code = None
        log.error("doctor could not run: %s", exc.strerror)
    notes = doctor_notes(
        log_path.read_text(encoding="utf-8", errors="replace") if log_path.exists() else "",
        settings.env,
    )
    doctor = {
        "state": "done" if code == 0 else "failed",
        "exit_code": code,
        "duration_s": round(time.monotonic() - started, 1),
        "at": now_iso(),
        "notes": notes,
    }
    if code != 0:
        doctor["message"] = (
            f"openclaw doctor --fix exited {code}; the gateway may refuse the legacy session "
            f"store. Output: {log_path} in the container; Doctor runs again on the next start"
        )
    report["doctor"] = doctor
    importer.write_report(report)
    importer.publish(report)
    log.info("doctor %s in %.1fs", doctor["state"], doctor["duration_s"])
    return doctor


def before_gateway_start(
    settings: Settings, status: Status, write_config: Callable[[Settings, Status], None]
) -> None:
    """Hook of `run` between writing the config and starting the gateway: Doctor when due.

    The config is written again afterwards: Doctor may rewrite openclaw.json, and the managed
    keys (with `${NAME}` references only) must be what the gateway reads.
    """
    if doctor_due(settings):
        run_doctor(settings, status)
        write_config(settings, status)


NOTE_PATTERNS = (
    re.compile(r"Legacy entries: .*"),
    re.compile(r"Transcript events: .*"),
    re.compile(r"device pairing store migrated to SQLite: [^│]*"),
    re.compile(r"Cron store migrated to SQLite[^│]*"),
    re.compile(r"Migrated [^│]*→ shared SQLite state"),
)


def doctor_notes(output: str, env: Mapping[str, str]) -> list[str]:
    """The migration lines of Doctor's output (what moved into SQLite), secrets masked."""
    flat = re.sub(r"\x1b\[[0-9;]*m", "", output)
    notes: list[str] = []
    for pattern in NOTE_PATTERNS:
        for match in pattern.findall(flat):
            text = " ".join(match.replace("│", " ").split()).rstrip(".")
            if text and text not in notes:
                notes.append(text)
    secrets = [env.get(n, "") for n in SECRET_ENV_NAMES if len(env.get(n, "")) >= 6]
    for secret in secrets:
        notes = [n.replace(secret, "***") for n in notes]
    return notes[:20]
