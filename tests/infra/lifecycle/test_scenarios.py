"""Lifecycle scenarios: the real program through sequences of `pulumi up` and a `destroy`,
diffed with the engine's rules, its real commands run against a fake wrangler and account.
Every step is followed by `check` (the Worker exists with exactly the configured secrets, no
secret value in any argv or output, SSM values intact). docs/lifecycle.md has the table."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pulumi.runtime import rpc

from tests.infra.lifecycle.engine import Outcome
from tests.infra.lifecycle.model import ResourceState
from tests.infra.lifecycle.scenario import PREFIX, Deployment, check
from tests.infra.pulumi_harness import ACCOUNT

OPTIONAL = {
    # Discord tokens must have the real shape (infra/channel_checks.py rejects others at preview).
    "DISCORD_BOT_TOKEN": "MTQ5MDAwMDAwMDAwMDAwMDAwMQ.SENTNL.SENTINEL-discord-token-4c2d",
    "GITHUB_TOKEN": "SENTINEL-github-token-77e1",
}


def first_up(tmp_path: Path, **config: object) -> Deployment:
    deployment = Deployment(tmp_path)
    deployment.config.update(config)
    before = deployment.ssm()
    check(deployment, deployment.up(), before)
    return deployment


def up(deployment: Deployment, **kwargs: object) -> Outcome:
    before = deployment.ssm()
    outcome = deployment.up()
    check(deployment, outcome, before, **kwargs)  # type: ignore[arg-type]
    return outcome


def commands_run(outcome: Outcome) -> list[tuple[str, str]]:
    return [(run.resource, run.operation) for run in outcome.runs]


def wrangler_argv(deployment: Deployment, since: int = 0) -> list[list[str]]:
    return [call["argv"] for call in deployment.calls()[since:]]


def test_first_up_on_an_empty_account(tmp_path: Path) -> None:
    deployment = first_up(tmp_path)
    outcome = deployment.history[-1]
    assert commands_run(outcome) == [("worker-deploy", "create"), ("worker-secrets", "create")]
    argv = wrangler_argv(deployment)
    assert [a[:2] for a in argv] == [["deploy", "--config"], ["secret", "bulk"]]
    assert argv[1] == ["secret", "bulk", "--name", "openclaw-edge-dev"]
    # The hostname goes live only after the secrets are on the Worker.
    order = [name for _op, name in outcome.ops("create")]
    assert order.index("hostname-domain") > order.index("worker-secrets")
    assert deployment.data()["custom_domains"]["moltworker.example.com"]["service"] == (
        "openclaw-edge-dev"
    )
    # One deploy version, one secrets version: never one version per secret.
    worker = deployment.worker()
    assert worker is not None
    assert [v["kind"] for v in worker["versions"]] == ["deploy", "secret bulk"]
    assert deployment.ssm()[PREFIX + "BACKUP_PASSWORD"] == deployment.secrets["BACKUP_PASSWORD"]


def test_up_with_nothing_changed_runs_no_command(tmp_path: Path) -> None:
    deployment = first_up(tmp_path)
    calls = len(deployment.calls())
    outcome = up(deployment)
    assert outcome.runs == []
    assert outcome.changed == []
    assert len(deployment.calls()) == calls


def test_a_worker_source_change_updates_in_place(tmp_path: Path) -> None:
    deployment = first_up(tmp_path)
    worker = deployment.worker()
    assert worker is not None
    revisions = deployment.revisions()
    deployment.edit("worker/src/app.ts", "\n// a change that ships\n")
    outcome = up(deployment)
    assert outcome.changed == [("update", "worker-deploy")]
    assert commands_run(outcome) == [("worker-deploy", "update")]
    after = deployment.worker()
    assert after is not None
    # Same Worker (never deleted and re-created): Durable Object storage and secrets survive.
    assert after["created_seq"] == worker["created_seq"]
    assert after["durable_object_storage"] == worker["durable_object_storage"]
    assert after["versions"][-1]["bundle"] != worker["versions"][-1]["bundle"]
    assert deployment.revisions() == revisions
    # Docs, tests and benchmarks next to the sources do not ship, so nothing runs.
    deployment.edit("worker/README.md", "\nmore docs\n")
    deployment.edit("worker/test/config.test.ts", "\n// a test\n")
    deployment.edit("container/bench/backup_compare.py", "\n# a benchmark\n")
    deployment.edit("container/README.md", "\nmore docs\n")
    assert up(deployment).runs == []
    deployment.edit("container/openclaw_boot/gateway.py", "\n# boot code ships\n")
    assert commands_run(up(deployment)) == [("worker-deploy", "update")]


def test_an_openclaw_version_bump_redeploys_the_image_in_place(tmp_path: Path) -> None:
    deployment = first_up(tmp_path)
    worker = deployment.worker()
    assert worker is not None
    deployment.config["openclawVersion"] = "2026.9.7"
    outcome = up(deployment)
    assert commands_run(outcome) == [("worker-deploy", "update")]
    after = deployment.worker()
    assert after is not None
    assert after["versions"][-1]["image_vars"] == {"OPENCLAW_VERSION": "2026.9.7"}
    assert after["versions"][-1]["vars"]["OPENCLAW_VERSION"] == "2026.9.7"
    assert after["durable_object_storage"] == worker["durable_object_storage"]


def test_rotating_one_secret_resets_only_it(tmp_path: Path) -> None:
    deployment = Deployment(tmp_path)
    deployment.config["optionalSecrets"] = ["DISCORD_BOT_TOKEN", "GITHUB_TOKEN"]
    deployment.secrets["GITHUB_TOKEN"] = OPTIONAL["GITHUB_TOKEN"]
    # DISCORD_BOT_TOKEN lives only in SSM (set by hand), as the README allows.
    with deployment.account.transaction() as data:
        data["ssm"][PREFIX + "DISCORD_BOT_TOKEN"] = {
            "value": OPTIONAL["DISCORD_BOT_TOKEN"],
            "type": "SecureString",
        }
    check(deployment, deployment.up(), deployment.ssm())
    revisions = deployment.revisions()
    calls = len(deployment.calls())

    deployment.secrets["BACKUP_PASSWORD"] = "SENTINEL-backup-password-rotated-01"
    outcome = up(deployment)
    assert commands_run(outcome) == [("worker-secrets", "update")]
    (argv,) = wrangler_argv(deployment, calls)
    assert argv == ["secret", "bulk", "--name", "openclaw-edge-dev"]
    changed = {k for k, v in deployment.revisions().items() if v != revisions[k]}
    assert changed == {"BACKUP_PASSWORD"}
    assert deployment.ssm()[PREFIX + "BACKUP_PASSWORD"] == "SENTINEL-backup-password-rotated-01"

    # A value rotated in SSM (no config) reaches the Worker the same way, alone.
    revisions = deployment.revisions()
    with deployment.account.transaction() as data:
        data["ssm"][PREFIX + "DISCORD_BOT_TOKEN"]["value"] = (
            "MTQ5MDAwMDAwMDAwMDAwMDAwMQ.SENTNL.SENTINEL-discord-rotated-in-ssm"
        )
    outcome = up(deployment)
    assert commands_run(outcome) == [("worker-secrets", "update")]
    changed = {k for k, v in deployment.revisions().items() if v != revisions[k]}
    assert changed == {"DISCORD_BOT_TOKEN"}


def test_removing_an_optional_secret_deletes_it_on_the_worker_only(tmp_path: Path) -> None:
    deployment = Deployment(tmp_path)
    deployment.config["optionalSecrets"] = ["DISCORD_BOT_TOKEN", "GITHUB_TOKEN"]
    deployment.secrets.update(OPTIONAL)
    check(deployment, deployment.up(), deployment.ssm())
    revisions = deployment.revisions()

    deployment.config["optionalSecrets"] = ["DISCORD_BOT_TOKEN"]
    del deployment.secrets["GITHUB_TOKEN"]
    outcome = up(deployment)
    assert "GITHUB_TOKEN" not in deployment.worker_secrets()
    assert deployment.revisions() == {k: v for k, v in revisions.items() if k != "GITHUB_TOKEN"}
    # Its SSM parameter is retained: the engine drops it from state without deleting it.
    assert ("retain", "secrets-github-token") in outcome.ops()
    assert deployment.ssm()[PREFIX + "GITHUB_TOKEN"] == OPTIONAL["GITHUB_TOKEN"]


def test_renaming_the_worker_moves_everything_then_deletes_only_the_old_one(
    tmp_path: Path,
) -> None:
    deployment = first_up(tmp_path)
    calls = len(deployment.calls())
    deployment.config["workerName"] = "moltbot-sandbox"
    outcome = up(deployment)
    assert outcome.changed == [
        ("replace", "worker-deploy"),
        ("update", "worker-secrets"),
        ("update", "hostname-domain"),
        ("delete-replaced", "worker-deploy"),
    ]
    assert wrangler_argv(deployment, calls) == [
        ["deploy", "--config", str(deployment.build_dir / "dev" / "wrangler.jsonc")],
        ["secret", "bulk", "--name", "moltbot-sandbox"],
        ["delete", "--name", "openclaw-edge-dev", "--force"],
    ]
    assert deployment.worker("openclaw-edge-dev") is None
    assert deployment.data()["custom_domains"]["moltworker.example.com"]["service"] == (
        "moltbot-sandbox"
    )


def test_adopting_what_terraform_created(tmp_path: Path) -> None:
    deployment = Deployment(tmp_path)
    policy_id = "0a1b2c3d-0000-4000-8000-00000000aaaa"
    app_id = "0a1b2c3d-0000-4000-8000-00000000bbbb"
    discord = "MTQ5MDAwMDAwMDAwMDAwMDAwMQ.SENTNL.SENTINEL-discord-only-in-ssm-3b9f"
    with deployment.account.transaction() as data:
        data["buckets"]["moltbot-data"] = {
            "accountId": ACCOUNT,
            "name": "moltbot-data",
            "location": None,
            "objects": {"restic/config": "encrypted", "restic/snapshots/1": "encrypted"},
        }
        data["access_policies"][policy_id] = {"name": "moltworker allow", "decision": "allow"}
        data["access_apps"][app_id] = {
            "name": "moltworker.example.com",
            "domain": "moltworker.example.com",
            "sessionDuration": "720h",
            "aud": "aud-from-terraform",
        }
        # Terraform's pattern: placeholder values, the real ones set by hand — or not yet.
        for name in ("MOLTBOT_GATEWAY_TOKEN", "BACKUP_PASSWORD", "ANTHROPIC_API_KEY"):
            data["ssm"][PREFIX + name] = {"value": "placeholder", "type": "SecureString"}
        data["ssm"][PREFIX + "DISCORD_BOT_TOKEN"] = {"value": discord, "type": "SecureString"}
        # The hostname still points at the Kubernetes deployment through a Tunnel.
        data["dns_records"]["moltworker.example.com"] = "CNAME"
    deployment.config.update(
        {
            "bucketName": "moltbot-data",
            "adoptBucket": "true",
            "adoptAccessApplicationId": app_id,
            "adoptAccessPolicyId": policy_id,
            "optionalSecrets": ["DISCORD_BOT_TOKEN"],
        }
    )
    before = deployment.ssm()
    outcome = deployment.up()
    # Everything but the hostname is done; the custom domain is refused (error 100117).
    check(deployment, outcome, before, errors=("100117", "already has externally managed DNS"))
    ops = {name: op for op, name in outcome.ops()}
    assert ops["backups-bucket"] == "import"
    assert ops["access-app"] == "import+update"  # the import is followed by an update
    assert ops["access-policy"] == "import+update"
    assert {ops[f"secrets-{n}"] for n in ("backup-password", "discord-bot-token")} <= {
        "import",
        "import+update",
    }
    assert "hostname-domain" not in ops
    data = deployment.data()
    assert data["buckets"]["moltbot-data"]["objects"] == {
        "restic/config": "encrypted",
        "restic/snapshots/1": "encrypted",
    }
    assert data["access_apps"][app_id]["sessionDuration"] == "24h"  # the program's value won
    assert deployment.worker_secrets()["DISCORD_BOT_TOKEN"] == discord
    assert deployment.ssm()[PREFIX + "BACKUP_PASSWORD"] == deployment.secrets["BACKUP_PASSWORD"]

    # The README's step: delete the old record, run `pulumi up` again. Only the domain is new.
    with deployment.account.transaction() as data:
        del data["dns_records"]["moltworker.example.com"]
    outcome = up(deployment)
    assert outcome.changed == [("create", "hostname-domain")]
    assert outcome.runs == []


def test_destroy_from_a_fresh_clone(tmp_path: Path) -> None:
    deployment = first_up(tmp_path)
    with deployment.account.transaction() as data:
        data["buckets"]["openclaw-edge-dev-data"]["objects"]["restic/config"] = "encrypted"
    ssm = deployment.ssm()
    deployment.fresh_clone()
    outcome = deployment.destroy(exclude_protected=True)
    check(deployment, outcome, ssm, worker_exists=False)
    data = deployment.data()
    assert data["workers"] == {}
    assert data["custom_domains"] == {}
    assert data["tokens"] == {}
    assert data["buckets"]["openclaw-edge-dev-data"]["objects"] == {"restic/config": "encrypted"}
    assert deployment.ssm() == ssm  # retained
    assert [(r.resource, r.operation) for r in outcome.runs] == [
        ("worker-secrets", "delete"),
        ("worker-deploy", "delete"),
    ]
    assert not deployment.build_dir.exists()
    left = {s.name for s in deployment.engine.state.values()}
    assert left == {"backups", "backups-bucket"}


def test_plain_destroy_stops_only_at_the_protected_bucket(tmp_path: Path) -> None:
    deployment = first_up(tmp_path)
    ssm = deployment.ssm()
    outcome = deployment.destroy(exclude_protected=False)
    check(deployment, outcome, ssm, worker_exists=False, errors=("because it is protected",))
    assert deployment.data()["workers"] == {}
    assert "openclaw-edge-dev-data" in deployment.data()["buckets"]


def _legacy_state(deployment: Deployment) -> None:
    """Rewrite the state as the per-secret layout left it: a deploy Command with content hashes
    in `triggers` and a `delete` that read build/<stack>/wrangler.jsonc, and one
    `secret-put NAME` Command per secret. The Worker and its secrets are as that layout set
    them."""
    state = deployment.engine.state
    step = "scripts/with-toolchain python -m infra.wrangler_step"
    deploy = next(s for s in state.values() if s.name == "worker-deploy")
    secrets = next(s for s in state.values() if s.name == "worker-secrets")
    environment = {
        "WRANGLER_CONFIG": str(deployment.build_dir / "dev" / "wrangler.jsonc"),
        "CLOUDFLARE_ACCOUNT_ID": ACCOUNT,
    }
    legacy = {
        "create": f"{step} deploy",
        "delete": f"{step} delete",
        "environment": environment,
        "triggers": ["worker-hash", "container-hash", "config-hash"],
        "logging": "stdout_and_stderr",
    }
    deploy.inputs = dict(legacy)
    deploy.outputs = {**legacy, "stdout": "", "stderr": ""}
    del state[secrets.urn]
    values = json.loads(secrets.inputs["stdin"]["value"])
    for name in values:
        urn = secrets.urn.replace(
            "worker-secrets", f"worker-secret-{name.lower().replace('_', '-')}"
        )
        inputs = {
            "create": f"{step} secret-put {name}",
            "delete": f"{step} secret-delete {name}",
            "environment": environment,
            "stdin": rpc.wrap_rpc_secret(values[name]),
            "logging": "stderr",
        }
        state[urn] = ResourceState(
            urn=urn,
            type=secrets.type,
            name=urn.rsplit("::", 1)[1],
            parent=secrets.parent,
            custom=True,
            id=urn,
            inputs=inputs,
            outputs={**inputs, "stdout": "", "stderr": ""},
            dependencies=(deploy.urn,),
        )


def test_upgrading_a_stack_deployed_with_one_command_per_secret(tmp_path: Path) -> None:
    """The upgrade path: the old deploy is replaced and the old secret commands removed. Their
    recorded deletes (legacy forms) must not delete the live Worker or its secrets."""
    deployment = first_up(tmp_path)
    _legacy_state(deployment)
    worker = deployment.worker()
    assert worker is not None
    outcome = up(deployment)
    ops = outcome.ops()
    assert ("replace", "worker-deploy") in ops
    assert ("delete-replaced", "worker-deploy") in ops
    assert ("delete", "worker-secret-backup-password") in ops
    after = deployment.worker()
    assert after is not None
    assert after["durable_object_storage"] == worker["durable_object_storage"]
    assert not any(call["argv"][0] == "delete" for call in deployment.calls())
    # And the next up is quiet again.
    assert up(deployment).runs == []


def test_replacing_the_secrets_step_keeps_every_secret(tmp_path: Path) -> None:
    """`pulumi up --replace` of the secrets step: its old delete removes what it set, so it must
    run before the new create (deleteBeforeReplace), never after it."""
    deployment = first_up(tmp_path)
    before = deployment.ssm()
    outcome = deployment.up(replace=("worker-secrets",))
    check(deployment, outcome, before)
    assert [(r.resource, r.operation) for r in outcome.runs] == [
        ("worker-secrets", "delete"),
        ("worker-secrets", "create"),
    ]


@pytest.mark.parametrize("name", ["worker-deploy", "worker-secrets"])
def test_every_command_carries_its_worker_and_account(tmp_path: Path, name: str) -> None:
    """What makes deletes work from state alone: the name in argv, the account in env."""
    deployment = first_up(tmp_path)
    state = next(s for s in deployment.engine.state.values() if s.name == name)
    recorded = state.outputs
    assert recorded["delete"].endswith("--name openclaw-edge-dev")
    environment = recorded["environment"]
    environment = environment.get("value", environment)
    assert environment["CLOUDFLARE_ACCOUNT_ID"] == ACCOUNT
