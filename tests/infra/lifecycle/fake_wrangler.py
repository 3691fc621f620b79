#!/usr/bin/env python3
"""A fake `wrangler` (selected with WRANGLER_BIN) for the lifecycle tests: the subset of
wrangler 4.155 that infra/wrangler_step.py (old and new) calls, acting on the fake account file.

A fake is a claim about someone else's code, so each behaviour names where it comes from:
cli.js means worker/node_modules/wrangler/wrangler-dist/cli.js of wrangler 4.155.0.
What it does NOT model: bundling, Docker builds, container rollouts, routes, environments,
the dashboard; values are kept in plain text in the account file (test sentinels only)."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

from tests.infra.lifecycle.account import FakeAccount

# How long the fake single-secret API holds its per-script lock. The real one makes concurrent
# calls wait on one another and often time out (cloudflare/wrangler-action#255: "the single
# secret API cannot handle concurrency"); the fake refuses the second call outright.
SINGLE_SECRET_HOLD_SECONDS = 0.4
# `wait` models the API's better case ("at best, these calls have to wait on one another"):
# concurrent calls queue instead of failing. Only for looking past this defect at others.
SINGLE_SECRET_MODE_ENV = "FAKE_WRANGLER_SINGLE_SECRET"
CONFIG_NAMES = ("wrangler.jsonc", "wrangler.json")


class WranglerError(Exception):
    """Printed as wrangler prints errors (`✘ [ERROR] ...`), exit code 1."""


def api_error(path: str, message: str, code: int) -> WranglerError:
    # fetchResult's APIError: "A request to the Cloudflare API (<resource>) failed." followed by
    # the API's message and "[code: N]" (cli.js, renderError / "[code: ${err.code}]").
    return WranglerError(
        f"A request to the Cloudflare API ({path}) failed.\n\n  {message} [code: {code}]"
    )


def parse(argv: list[str]) -> tuple[list[str], dict[str, str | bool]]:
    positional: list[str] = []
    flags: dict[str, str | bool] = {}
    index = 0
    while index < len(argv):
        arg = argv[index]
        if arg.startswith("--"):
            key = arg[2:]
            if key in ("force", "dry-run") or index + 1 >= len(argv):
                flags[key] = True
            else:
                flags[key] = argv[index + 1]
                index += 1
        else:
            positional.append(arg)
        index += 1
    return positional, flags


def strip_jsonc(text: str) -> str:
    return "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("//"))


def find_config(flags: dict[str, str | bool]) -> tuple[Path | None, dict[str, Any]]:
    """`--config PATH`, else the first wrangler.json(c) in the cwd or a parent directory
    (findWranglerConfig walks up from process.cwd(), cli.js)."""
    explicit = flags.get("config")
    if isinstance(explicit, str):
        path = Path(explicit)
        if not path.is_file():
            # readFileSync's ParseError (cli.js): "Could not read file: <path>".
            raise WranglerError(
                f"Could not read file: {explicit}\n\n  ENOENT: no such file or directory, "
                f"open '{path.resolve()}'"
            )
        return path, json.loads(strip_jsonc(path.read_text()))
    directory = Path.cwd()
    for candidate_dir in (directory, *directory.parents):
        for name in CONFIG_NAMES:
            candidate = candidate_dir / name
            if candidate.is_file():
                return candidate, json.loads(strip_jsonc(candidate.read_text()))
    return None, {}


def require_auth(data: dict[str, Any]) -> str:
    # Non-interactive (CI=true) without a token (cli.js, requireAuth): this exact text.
    if not os.environ.get("CLOUDFLARE_API_TOKEN"):
        raise WranglerError(
            "In a non-interactive environment, it's necessary to set a CLOUDFLARE_API_TOKEN "
            "environment variable for wrangler to work."
        )
    account = os.environ.get("CLOUDFLARE_ACCOUNT_ID") or ""
    if account != data["account_id"]:
        raise api_error(f"/accounts/{account}", "Authentication error", 10000)
    return account


def script_name(flags: dict[str, str | bool], config: dict[str, Any]) -> str:
    # getScriptName / getLegacyScriptName: `--name` first, then the config's name (cli.js).
    name = flags.get("name")
    if isinstance(name, str):
        return name
    if isinstance(config.get("name"), str):
        return str(config["name"])
    raise WranglerError(
        "A worker name must be defined, either via --name, or in your wrangler.json file"
    )


def bundle_digest(config_path: Path, config: dict[str, Any]) -> str:
    """Stand-in for the uploaded bundle: a digest of every file under the entry point's
    directory (the real one bundles the module graph with esbuild)."""
    main = (config_path.parent / str(config["main"])).resolve()
    if not main.is_file():
        raise WranglerError(f'The entry-point file at "{config["main"]}" was not found.')
    sha = hashlib.sha256()
    for path in sorted(p for p in main.parent.rglob("*") if p.is_file()):
        sha.update(path.relative_to(main.parent).as_posix().encode() + b"\0" + path.read_bytes())
    return sha.hexdigest()


def new_worker(data: dict[str, Any], name: str) -> dict[str, Any]:
    seq = FakeAccount.next_seq(data)
    worker = {
        "versions": [],
        "secrets": {},
        # Durable Object storage lives and dies with the Worker: `wrangler delete` removes it.
        "durable_object_storage": f"do-storage-{name}-{seq}",
        "created_seq": seq,
    }
    data["workers"][name] = worker
    return worker


def add_version(data: dict[str, Any], worker: dict[str, Any], kind: str, **detail: Any) -> None:
    previous = worker["versions"][-1] if worker["versions"] else {}
    version = {
        "seq": FakeAccount.next_seq(data),
        "kind": kind,
        "bundle": detail.get("bundle", previous.get("bundle")),
        "vars": detail.get("vars", previous.get("vars", {})),
        "image_vars": detail.get("image_vars", previous.get("image_vars", {})),
        "instance_type": detail.get("instance_type", previous.get("instance_type")),
    }
    worker["versions"].append(version)


def deploy(data: dict[str, Any], flags: dict[str, str | bool]) -> None:
    config_path, config = find_config(flags)
    if config_path is None:
        raise WranglerError("Missing entry-point to Worker script or to assets directory")
    require_auth(data)
    name = script_name(flags, config)
    bundle = bundle_digest(config_path, config)
    worker = data["workers"].get(name) or new_worker(data, name)
    container = (config.get("containers") or [{}])[0]
    # Deploys keep every secret ("we never delete secret bindings when uploading",
    # keepSecrets: true in cli.js) and replace vars with the config's (keep-vars false).
    add_version(
        data,
        worker,
        "deploy",
        bundle=bundle,
        vars=dict(config.get("vars") or {}),
        image_vars=dict(container.get("image_vars") or {}),
        instance_type=container.get("instance_type"),
    )
    print(f"Uploaded {name}")
    print(f"Deployed {name} triggers")
    print(f"Current Version ID: v{worker['versions'][-1]['seq']}")


def delete(data: dict[str, Any], positional: list[str], flags: dict[str, str | bool]) -> None:
    if positional:
        flags = {**flags, "name": positional[0]}  # `wrangler delete [name]` (positionalArgs)
    _, config = find_config(flags)
    name = script_name(flags, config)
    if flags.get("dry-run"):
        print("--dry-run: exiting now.")
        return
    account = require_auth(data)
    # Non-interactive confirm falls back to yes (confirm2 fallbackValue true, cli.js).
    if name not in data["workers"]:
        raise api_error(
            f"/accounts/{account}/workers/services/{name}",
            "workers.api.error.script_not_found",
            10007,
        )
    del data["workers"][name]
    print("Successfully deleted", name)


def single_secret(
    account_file: FakeAccount, positional: list[str], flags: dict[str, str | bool]
) -> None:
    """`secret put KEY` / `secret delete KEY`: one PUT/DELETE of .../secrets, each a new
    version; refused when another single-secret call on the same script is in flight."""
    action, key = positional[1], positional[2]
    _, config = find_config(flags)
    name = script_name(flags, config)
    value = sys.stdin.read().rstrip() if action == "put" else None  # trimTrailingWhitespace
    locks = account_file.path.parent / "single-secret-locks"
    locks.mkdir(exist_ok=True)
    with (locks / f"{name}.lock").open("a") as lock:
        wait = os.environ.get(SINGLE_SECRET_MODE_ENV) == "wait"
        try:
            fcntl.flock(lock, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            with account_file.transaction() as data:
                data["conflicts"].append({"script": name, "argv": sys.argv[1:]})
            raise api_error(
                f"/accounts/{os.environ.get('CLOUDFLARE_ACCOUNT_ID')}/workers/scripts/{name}/secrets",
                "concurrent single-secret request on this script timed out "
                "(fake; cloudflare/wrangler-action#255)",
                10013,
            ) from None
        time.sleep(SINGLE_SECRET_HOLD_SECONDS)
        with account_file.transaction() as data:
            account = require_auth(data)
            worker = data["workers"].get(name)
            if worker is None:
                if action == "delete":
                    raise api_error(
                        f"/accounts/{account}/workers/scripts/{name}/secrets/{key}",
                        "workers.api.error.script_not_found",
                        10007,
                    )
                # put on a missing Worker creates a draft Worker (createDraftWorker, cli.js).
                worker = new_worker(data, name)
            if action == "put":
                _set_secret(worker, key, value or "")
                print(f"✨ Success! Uploaded secret {key}")
            else:
                worker["secrets"].pop(key, None)
                print(f"✨ Success! Deleted secret {key}")
            add_version(data, worker, f"secret {action}")


def _set_secret(worker: dict[str, Any], key: str, value: str) -> None:
    previous = worker["secrets"].get(key, {})
    worker["secrets"][key] = {"value": value, "revision": int(previous.get("revision", 0)) + 1}


def bulk(data: dict[str, Any], positional: list[str], flags: dict[str, str | bool]) -> None:
    """`secret bulk [FILE]`: JSON from the file or stdin, null deletes; one PATCH of
    .../secrets-bulk (putBulkSecrets, merge-patch), so one version for the whole batch."""
    _, config = find_config(flags)
    name = script_name(flags, config)
    account = require_auth(data)
    text = Path(positional[2]).read_text() if len(positional) > 2 else sys.stdin.read()
    try:
        content = json.loads(text)
    except json.JSONDecodeError:
        # parseBulkInputToObject returns nothing for unreadable piped input (cli.js).
        print("🚨 No content found in file, or piped input.")
        return
    worker = data["workers"].get(name)
    if worker is None:
        # A missing Worker: a draft is created only if something is to be set (cli.js).
        if not any(v is not None for v in content.values()):
            raise api_error(
                f"/accounts/{account}/workers/scripts/{name}/secrets-bulk",
                "workers.api.error.script_not_found",
                10007,
            )
        worker = new_worker(data, name)
    for key, value in content.items():
        if value is None:
            worker["secrets"].pop(key, None)
            print(f"💥 Successfully deleted secret for key: {key}")
        else:
            _set_secret(worker, key, str(value))
            print(f"✨ Successfully created secret for key: {key}")
    add_version(data, worker, "secret bulk")
    print("Finished processing secrets file")


def secret_list(data: dict[str, Any], flags: dict[str, str | bool]) -> None:
    _, config = find_config(flags)
    name = script_name(flags, config)
    account = require_auth(data)
    worker = data["workers"].get(name)
    if worker is None:
        raise api_error(
            f"/accounts/{account}/workers/scripts/{name}/secrets",
            "workers.api.error.script_not_found",
            10007,
        )
    print(json.dumps([{"name": k, "type": "secret_text"} for k in sorted(worker["secrets"])]))


def main(argv: list[str]) -> int:
    account_file = FakeAccount.from_env()
    positional, flags = parse(argv)
    outcome = "ok"
    try:
        if positional[:2] in (["secret", "put"], ["secret", "delete"]):
            single_secret(account_file, positional, flags)
        else:
            with account_file.transaction() as data:
                if positional[:1] == ["deploy"]:
                    deploy(data, flags)
                elif positional[:1] == ["delete"]:
                    delete(data, positional[1:], flags)
                elif positional[:2] == ["secret", "bulk"]:
                    bulk(data, positional, flags)
                elif positional[:2] == ["secret", "list"]:
                    secret_list(data, flags)
                else:
                    raise WranglerError(f"fake wrangler does not model: {' '.join(argv)}")
    except WranglerError as error:
        outcome = f"error: {str(error).splitlines()[-1].strip()}"
        print(f"✘ [ERROR] {error}")
    finally:
        with account_file.transaction() as data:
            data["calls"].append({"argv": argv, "cwd": os.getcwd(), "outcome": outcome})
    return 0 if outcome == "ok" else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
