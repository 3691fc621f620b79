"""Moving in from moltworker: the first boot imports the reference's R2 layouts (real restic, moto
S3, buckets from tests/fixtures/moltworker captured by running the reference's own OpenClaw).

Per layout: the same files land in HOME (byte for byte, except the sanitised config), the first
snapshot is tagged imported-from=<layout> and verified, the source objects are unchanged, and no
plain-text credential of the old deployment reaches HOME or the snapshot. A corrupt, changing or
missing source leaves HOME and the repository untouched and says why; the next boot retries. A
second boot restores from restic, not from the legacy layout.

One file (about 480 lines): one scenario per layout and failure, all on the same fixtures (moto
S3 with the captured buckets, a restic repository); the boot-level tests are in
test_legacy_import_boot.py.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from openclaw_boot import legacy_import
from openclaw_boot.backup import TAG_RESTORE_FAILED, Backup
from openclaw_boot.legacy_import import LegacyImport, sanitize_config
from openclaw_boot.r2 import R2Client
from openclaw_boot.settings import load
from openclaw_boot.status import Status

from .moltworker import (
    assert_no_secret,
    fake_secrets,
    files_under,
    fixture_objects,
    legacy_state,
    s3,
    sdk_tree,
    upload,
    upload_layout,
    upload_sdk_backup,
)

pytestmark = pytest.mark.slow

CONFIG_SKIPPED = {
    "openclaw.json.bak",
    "clawdbot.json.bak",
    "agents/main/agent/auth-profiles.json",
    "agents/main/agent/models.json",
}


def boot(env: dict[str, str]) -> tuple[Backup, Status]:
    settings = load(env)
    status = Status(settings.run_dir / "status.json", fresh=True)
    backup = Backup(settings, status)
    backup.boot_restore(None)
    legacy_import.after_boot_restore(settings, status, backup)
    return backup, status


def expected_home(flavour: str) -> dict[str, bytes]:
    """Where each fixture object must land, written out here (not taken from the importer)."""
    out: dict[str, bytes] = {}
    for key, body in fixture_objects(flavour).items():
        prefix, _, rest = key.partition("/")
        if prefix in {"openclaw", "clawdbot"}:
            if rest in CONFIG_SKIPPED or rest in {"openclaw.json", "clawdbot.json"}:
                continue
            out[f".openclaw/{rest}"] = body
        elif prefix == "workspace":
            out[f".openclaw/workspace/{rest}"] = body
        elif prefix == "skills":
            out[f".openclaw/workspace/skills/{rest}"] = body
    return out


def snapshot_files(backup: Backup, snapshot_id: str, target: Path) -> dict[str, bytes]:
    backup.restic.run("restore", snapshot_id, "--target", str(target))
    return files_under(target, skip=())


def assert_imported_config_is_clean(home: Path, flavour: str) -> dict[str, Any]:
    config: dict[str, Any] = json.loads((home / ".openclaw/openclaw.json").read_text())
    for section in ("gateway", "channels", "auth", "env"):
        assert section not in config, section
    assert "providers" not in config.get("models", {})
    defaults = config.get("agents", {}).get("defaults", {})
    assert "workspace" not in defaults, "the old absolute workspace path must go"
    assert "model" not in defaults
    if flavour == "rclone":
        # What was the user's (or OpenClaw's own) and is not deployment-specific stays.
        assert defaults["compaction"] == {"mode": "safeguard"}
        assert config["messages"] == {"ackReactionScope": "group-mentions"}
    return config


def test_rclone_layout_is_imported_byte_for_byte_without_secrets(
    backup_env: dict[str, str], home: Path, s3_endpoint: str, bucket: str, tmp_path: Path
) -> None:
    client = s3(s3_endpoint)
    upload_layout(client, bucket, "rclone")
    source_before = legacy_state(client, bucket)

    backup, status = boot(backup_env)

    report = status.section("import")
    assert report["state"] == "imported", report
    assert report["layout"] == "moltworker-rclone"
    expected = expected_home("rclone")
    got = files_under(home)
    for rel, body in expected.items():
        assert got.get(rel) == body, f"{rel} differs from its source object"
    assert report["files"] == len(expected) + 1  # + the sanitised openclaw.json
    assert report["bytes"] == sum(len(b) for b in expected.values()) + len(
        got[".openclaw/openclaw.json"]
    )
    assert report["source"]["last_sync"], "the source's last-sync time is reported"
    assert report["source"]["old_workspace"] == "/root/.openclaw/workspace"
    skipped = {item["key"] for item in report["skipped"]}
    assert {f"openclaw/{name}" for name in CONFIG_SKIPPED if "clawdbot" not in name} <= skipped
    assert_imported_config_is_clean(home, "rclone")

    # The first snapshot carries the layout, and it was checked against the imported files.
    snapshots = backup.snapshots()
    assert len(snapshots) == 1
    assert "imported-from=moltworker-rclone" in snapshots[0].tags
    assert TAG_RESTORE_FAILED not in snapshots[0].tags
    assert report["verified"] is True, report["verification"]
    assert report["delete_offer"] is True

    # Nothing in HOME or in the snapshot holds a credential the old deployment kept in R2.
    secrets = fake_secrets("rclone")
    assert_no_secret(files_under(home), secrets, "HOME")
    restored = snapshot_files(backup, str(snapshots[0].id), tmp_path / "snap")
    assert restored, "the snapshot restores files"
    assert_no_secret(restored, secrets, "the import snapshot")

    # The import only read: every legacy object is as it was, byte for byte.
    assert legacy_state(client, bucket) == source_before
    assert status.protected is False


def test_second_boot_restores_from_restic_not_from_the_legacy_layout(
    backup_env: dict[str, str], home: Path, s3_endpoint: str, bucket: str
) -> None:
    client = s3(s3_endpoint)
    upload_layout(client, bucket, "rclone")
    _first, status = boot(backup_env)
    import_snapshot = status.section("import")["snapshot_id"]
    memory = home / ".openclaw/workspace/MEMORY.md"
    imported_memory = memory.read_bytes()
    # The old deployment keeps syncing after the move; those writes must not come back in.
    client.put_object(Bucket=bucket, Key="openclaw/workspace/MEMORY.md", Body=b"written later\n")

    for path in sorted(home.iterdir()):  # a new container: empty disk
        subprocess.run(["rm", "-rf", str(path)], check=True)
    second, status = boot(backup_env)

    restore = status.section("restore")
    assert restore["state"] == "ok"
    assert str(restore["snapshot_id"]).startswith(str(import_snapshot))
    assert memory.read_bytes() == imported_memory
    report = status.section("import")
    assert report["state"] == "imported"
    assert report["imported_this_boot"] is False, "the earlier import is shown, not repeated"
    assert len(second.snapshots()) == 1, "no second import snapshot"


def test_clawdbot_layout_with_legacy_names_and_s3fs_markers(
    backup_env: dict[str, str], home: Path, s3_endpoint: str, bucket: str
) -> None:
    client = s3(s3_endpoint)
    upload_layout(client, bucket, "clawdbot", s3fs_markers=True)
    source_before = legacy_state(client, bucket)

    backup, status = boot(backup_env)

    report = status.section("import")
    assert report["state"] == "imported", report
    assert report["layout"] == "moltworker-clawdbot"
    got = files_under(home)
    for rel, body in expected_home("clawdbot").items():
        assert got.get(rel) == body, rel
    # clawdbot.json became openclaw.json (as the reference's own restore renamed it).
    assert ".openclaw/clawdbot.json" not in got
    assert_imported_config_is_clean(home, "clawdbot")
    # The s3fs era wrote its last-sync time into R2; it is reported, not imported.
    marker = fixture_objects("clawdbot")[".last-sync"].decode().strip()
    assert report["source"]["last_sync_marker"] == marker
    assert report["source"]["old_workspace"] == "/root/clawd"
    assert "imported-from=moltworker-clawdbot" in backup.snapshots()[0].tags
    assert_no_secret(files_under(home), fake_secrets("clawdbot"), "HOME")
    assert legacy_state(client, bucket) == source_before


def test_large_workspace(
    backup_env: dict[str, str],
    home: Path,
    s3_endpoint: str,
    bucket: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    client = s3(s3_endpoint)
    upload_layout(client, bucket, "rclone")
    big: dict[str, bytes] = {}
    for i in range(1500):  # notes, memory files, generated assets
        big[f"openclaw/workspace/memory/2026-02-{i % 28 + 1:02d}/note-{i:04d}.md"] = (
            f"# note {i}\n".encode() + os.urandom(2048)
        )
    for i in range(6):
        big[f"workspace/assets/video-{i}.bin"] = os.urandom(8 * 1024 * 1024)
    upload(client, bucket, big)

    started = time.monotonic()
    _backup, status = boot(backup_env)
    seconds = time.monotonic() - started

    report = status.section("import")
    assert report["state"] == "imported", report
    for key, body in big.items():
        prefix, _, rest = key.partition("/")
        rel = f".openclaw/{rest}" if prefix == "openclaw" else f".openclaw/workspace/{rest}"
        assert hashlib.sha256((home / rel).read_bytes()).digest() == hashlib.sha256(body).digest()
    assert report["files"] >= len(big)
    assert report["bytes"] >= sum(len(b) for b in big.values())
    assert report["verified"] is True, report["verification"]
    with capsys.disabled():
        print(
            f"\n[large workspace] {report['files']} files, {report['bytes'] / 2**20:.1f} MiB: "
            f"import {report['duration_s']}s, import + first snapshot {seconds:.1f}s"
        )


@pytest.mark.parametrize(
    ("key", "body", "says"),
    [
        (
            "openclaw/agents/main/sessions/sessions.json",
            b'{"agent:main:main": {"sess',
            "not valid JSON",
        ),
        ("openclaw/openclaw.json", b'{"gateway": {"auth": ', "not valid JSON"),
    ],
)
def test_corrupt_object_changes_nothing_and_the_next_boot_retries(
    backup_env: dict[str, str],
    home: Path,
    s3_endpoint: str,
    bucket: str,
    key: str,
    body: bytes,
    says: str,
) -> None:
    client = s3(s3_endpoint)
    upload_layout(client, bucket, "rclone")
    good = fixture_objects("rclone")[key]
    client.put_object(Bucket=bucket, Key=key, Body=body)  # a partial upload
    source_before = legacy_state(client, bucket)

    backup, status = boot(backup_env)

    report = status.section("import")
    assert report["state"] == "failed"
    assert says in report["message"]
    assert "nothing imported" in report["message"]
    assert not (home / ".openclaw").exists(), "nothing of a failed import lands in HOME"
    assert backup.snapshots() == [], "the repository is untouched"
    assert status.protected, "snapshots of this boot are tagged restore-failed"
    assert legacy_state(client, bucket) == source_before

    # The gateway ran on an empty state meanwhile; its snapshot is tagged, so the next boot
    # still finds no usable snapshot and imports once the source is whole again.
    (home / ".openclaw").mkdir()
    (home / ".openclaw" / "openclaw.json").write_text("{}\n")
    assert backup.snapshot(reason="interval").ok
    assert TAG_RESTORE_FAILED in backup.snapshots()[0].tags
    client.put_object(Bucket=bucket, Key=key, Body=good)
    subprocess.run(["rm", "-rf", str(home / ".openclaw"), str(home / ".openclaw-edge")], check=True)
    _, status = boot(backup_env)
    assert status.section("import")["state"] == "imported", status.section("import")
    assert status.protected is False


def test_object_rewritten_while_reading_fails_cleanly(
    backup_env: dict[str, str],
    home: Path,
    s3_endpoint: str,
    bucket: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The old Worker still syncs during the import: an object changes between list and read."""
    client = s3(s3_endpoint)
    upload_layout(client, bucket, "rclone")
    real_download = R2Client.download
    victim = "openclaw/agents/main/sessions/sessions.json"

    def racing_download(self: R2Client, key: str, target: Path) -> tuple[int, str]:
        if key == victim:
            client.put_object(Bucket=bucket, Key=key, Body=fixture_objects("rclone")[key] + b" ")
        return real_download(self, key, target)

    monkeypatch.setattr(R2Client, "download", racing_download)
    backup, status = boot(backup_env)
    report = status.section("import")
    assert report["state"] == "failed"
    assert victim in report["message"]
    assert not (home / ".openclaw").exists()
    assert backup.snapshots() == []


def test_sdk_backup_is_imported_from_its_squashfs_even_after_the_ttl(
    backup_env: dict[str, str], home: Path, s3_endpoint: str, bucket: str, tmp_path: Path
) -> None:
    client = s3(s3_endpoint)
    tree = sdk_tree(tmp_path)
    upload_sdk_backup(client, bucket, tree, tmp_path, age_days=10)
    source_before = legacy_state(client, bucket)

    backup, status = boot(backup_env)

    report = status.section("import")
    assert report["state"] == "imported", report
    assert report["layout"] == "moltworker-sdk-backup"
    meta = json.loads(
        next(
            client.get_object(Bucket=bucket, Key=k)["Body"].read()
            for k in source_before
            if k.endswith("meta.json")
        )
    )
    assert report["source"]["last_sync"] == meta["createdAt"]
    got = files_under(home)
    for path in tree.rglob("*"):
        rel = path.relative_to(tree).as_posix()
        if (
            not path.is_file()
            or rel.startswith(".cache")
            or rel.split("/")[-1]
            in {
                "auth-profiles.json",
                "models.json",
                "openclaw.json",
                "openclaw.json.bak",
            }
        ):
            continue
        target = (
            rel.replace("clawd/", ".openclaw/workspace/", 1) if rel.startswith("clawd/") else rel
        )
        assert got.get(target) == path.read_bytes(), target
    assert ".cache/node-compile" not in got
    assert_imported_config_is_clean(home, "sdk")
    assert "imported-from=moltworker-sdk-backup" in backup.snapshots()[0].tags
    assert_no_secret(files_under(home), fake_secrets("rclone"), "HOME")
    assert legacy_state(client, bucket) == source_before


def test_sdk_backup_without_its_archive_is_reported_with_what_to_do(
    backup_env: dict[str, str], home: Path, s3_endpoint: str, bucket: str, tmp_path: Path
) -> None:
    client = s3(s3_endpoint)
    upload_sdk_backup(client, bucket, sdk_tree(tmp_path), tmp_path, archive=False)

    backup, status = boot(backup_env)

    report = status.section("import")
    assert report["state"] == "not-importable"
    assert "data.sqsh" in report["message"]
    assert "take a backup there" in report["message"]
    assert not (home / ".openclaw").exists()
    assert backup.snapshots() == []
    assert status.protected


def test_bucket_without_a_legacy_layout_boots_as_before(
    backup_env: dict[str, str], home: Path, s3_endpoint: str, bucket: str
) -> None:
    client = s3(s3_endpoint)
    upload(client, bucket, {"unrelated/readme.txt": b"hello"})
    _backup, status = boot(backup_env)
    assert status.section("restore")["state"] == "initialized"
    assert status.section("import")["state"] == "none"
    assert status.protected is False
    assert not (home / ".openclaw").exists()


def test_import_can_be_switched_off(
    backup_env: dict[str, str], home: Path, s3_endpoint: str, bucket: str
) -> None:
    upload_layout(s3(s3_endpoint), bucket, "rclone")
    _, status = boot({**backup_env, "OPENCLAW_EDGE_LEGACY_IMPORT": "off"})
    assert status.section("import")["state"] == "disabled"
    assert not (home / ".openclaw").exists()


def test_delete_offer_needs_a_verified_import_and_the_exact_confirmation(
    backup_env: dict[str, str], home: Path, s3_endpoint: str, bucket: str
) -> None:
    client = s3(s3_endpoint)
    upload_layout(client, bucket, "rclone")
    upload(client, bucket, {"notes-from-someone-else.txt": b"not ours"})
    backup, status = boot(backup_env)
    routes = legacy_import.control_routes(load(backup_env), status)
    details = routes[("GET", "/import")]({})
    assert details["delete_offer"] is True
    plan = details["delete_plan"]

    for body in ({}, {"confirm": "delete-legacy-objects"}, {"confirm": "yes", "plan": plan}):
        with pytest.raises(ValueError, match="confirmation required"):
            routes[("POST", "/import/delete-legacy")](body)
    assert len(legacy_state(client, bucket)) == len(fixture_objects("rclone")) + 1

    # The old Worker wrote this one after the import: it is kept, not deleted.
    client.put_object(Bucket=bucket, Key="openclaw/workspace/MEMORY.md", Body=b"newer\n")
    result = routes[("POST", "/import/delete-legacy")](
        {"confirm": "delete-legacy-objects", "plan": plan}
    )

    assert result["ok"] is True
    assert result["kept_changed"] == ["openclaw/workspace/MEMORY.md"]
    assert result["deleted"] == len(fixture_objects("rclone")) - 1
    left = legacy_state(client, bucket)
    assert set(left) == {"openclaw/workspace/MEMORY.md", "notes-from-someone-else.txt"}
    assert backup.snapshots(), "the restic repository is untouched"
    assert routes[("GET", "/import")]({})["delete_offer"] is False
    assert routes[("GET", "/import")]({})["deleted"]["objects"] == result["deleted"]


def test_delete_is_refused_before_verification(
    backup_env: dict[str, str], home: Path, s3_endpoint: str, bucket: str
) -> None:
    client = s3(s3_endpoint)
    upload_layout(client, bucket, "rclone")
    _, status = boot(backup_env)
    settings = load(backup_env)
    report = legacy_import.read_report(settings)
    assert report is not None
    report["verified"] = False
    LegacyImport(settings, status).write_report(report)
    routes = legacy_import.control_routes(settings, status)
    assert routes[("GET", "/import")]({})["delete_offer"] is False
    with pytest.raises(ValueError, match="not verified"):
        routes[("POST", "/import/delete-legacy")]({"confirm": "delete-legacy-objects", "plan": "x"})


def test_sanitize_config_drops_every_secret_of_the_captured_configs() -> None:
    for flavour, name in (
        ("rclone", "openclaw/openclaw.json"),
        ("clawdbot", "clawdbot/clawdbot.json"),
    ):
        raw = json.loads(fixture_objects(flavour)[name])
        cleaned, removed, values = sanitize_config(raw)
        text = json.dumps(cleaned)
        for secret in fake_secrets(flavour).values():
            if secret.encode() in fixture_objects(flavour)[name]:
                assert secret not in text, (flavour, secret)
                assert secret in values, "seen, so stray copies elsewhere are masked"
        assert "gateway" in removed
        assert "channels" in removed
    # Secret-named keys anywhere else go too; plain settings stay.
    cleaned, removed, _ = sanitize_config(
        {"skills": {"entries": {"x": {"apiKey": "abcdefgh12345", "enabled": True}}}, "ui": {"a": 1}}
    )
    assert cleaned == {"skills": {"entries": {"x": {"enabled": True}}}, "ui": {"a": 1}}
    assert removed == ["skills.entries.x.apiKey"]


def test_a_secret_pasted_into_another_file_is_masked(
    backup_env: dict[str, str], home: Path, s3_endpoint: str, bucket: str
) -> None:
    client = s3(s3_endpoint)
    upload_layout(client, bucket, "rclone")
    token = fake_secrets()["telegram_token"]
    note = f"my bot token is {token}, keep it safe\n".encode()
    upload(client, bucket, {"openclaw/workspace/notes/bot.md": note})
    _, status = boot(backup_env)
    masked = (home / ".openclaw/workspace/notes/bot.md").read_bytes()
    assert token.encode() not in masked
    assert masked == note.replace(token.encode(), b"*" * len(token))
    assert status.section("import")["masked_files"] == 1
