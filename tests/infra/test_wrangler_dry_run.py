"""The rendered deploy config passes the real `wrangler deploy --dry-run` (offline). A registry
image reference stands in for the Dockerfile, since building it needs a Docker engine."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from infra.catalog import load_catalog
from infra.components.worker_deploy import config_text, render_wrangler_config, stack_vars
from infra.config import DictSource, load_config
from tests.infra.pulumi_harness import BASE

ROOT = Path(__file__).resolve().parents[2]
WRANGLER = ROOT / "worker" / "node_modules" / ".bin" / "wrangler"
TOOLCHAIN = ROOT / "scripts" / "with-toolchain"


@pytest.mark.slow
def test_rendered_config_passes_wrangler_dry_run(tmp_path: Path) -> None:
    assert WRANGLER.exists(), "worker/node_modules is missing: run `make setup`"
    config = load_config(DictSource(BASE), "dev", load_catalog())
    config_dir = tmp_path / "build"
    config_dir.mkdir()
    rendered = render_wrangler_config(
        config,
        config_dir=config_dir,
        vars_={
            **stack_vars(config),
            "CF_ACCESS_AUD": "a" * 64,
            "CF_ACCESS_TEAM_DOMAIN": "myteam.cloudflareaccess.com",
        },
        r2_binding={"binding": "BACKUP_BUCKET", "bucket_name": config.bucket_name},
        image="registry.cloudflare.com/0123456789abcdef0123456789abcdef/openclaw-edge:dry-run",
    )
    path = config_dir / "wrangler.jsonc"
    path.write_text(config_text(rendered))
    out = tmp_path / "out"
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLOUDFLARE_")}
    env.update({"WRANGLER_SEND_METRICS": "false", "CI": "true", "HOME": str(tmp_path)})
    result = subprocess.run(
        [
            str(TOOLCHAIN),
            str(WRANGLER),
            "deploy",
            "--dry-run",
            "--outdir",
            str(out),
            "--config",
            str(path),
        ],
        cwd=ROOT / "worker",
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "--dry-run: exiting now." in output
    for binding in ("SANDBOX", "BACKUP_BUCKET", "BROWSER"):
        assert binding in output
    bundle = next(out.glob("*.js"))
    assert bundle.stat().st_size > 10_000
    assert "Sandbox" in output  # the Durable Object class the container backs
    assert "openclaw-edge-dev-sandbox (registry.cloudflare.com/" in output
