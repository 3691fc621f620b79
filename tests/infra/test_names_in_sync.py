"""Names the stack renders for deploys match the Worker's own local config and code."""

from __future__ import annotations

import json
import re
from pathlib import Path

from infra.catalog import load_catalog
from infra.components.backup_bucket import BUCKET_BINDING
from infra.components.worker_deploy import BROWSER_BINDING, CONTAINER_CLASS, DO_BINDING

ROOT = Path(__file__).resolve().parents[2]


def local_config() -> dict:  # type: ignore[type-arg]
    text = (ROOT / "worker" / "wrangler.jsonc").read_text()
    without_comments = re.sub(r"^\s*//.*$", "", text, flags=re.MULTILINE)
    parsed: dict = json.loads(without_comments)  # type: ignore[type-arg]
    return parsed


def test_bindings_match_the_local_config() -> None:
    config = local_config()
    assert config["durable_objects"]["bindings"] == [
        {"name": DO_BINDING, "class_name": CONTAINER_CLASS}
    ]
    assert config["r2_buckets"][0]["binding"] == BUCKET_BINDING
    # The local config must stay runnable without a Cloudflare login.
    assert "containers" not in config
    assert "browser" not in config


def test_worker_code_uses_the_same_binding_names() -> None:
    source = "\n".join(p.read_text() for p in (ROOT / "worker" / "src").rglob("*.ts"))
    for name in (DO_BINDING, BUCKET_BINDING, BROWSER_BINDING):
        assert re.search(rf"\b{name}\b", source), f"worker/src never mentions {name}"
    assert re.search(
        rf"export\s+\{{[^}}]*\b{CONTAINER_CLASS}\b|export class {CONTAINER_CLASS}\b",
        (ROOT / "worker" / "src" / "index.ts").read_text(),
    )


def test_catalogue_names_are_upper_snake_and_unique() -> None:
    catalog = load_catalog()
    names = [s.name for s in catalog.secrets] + [v.name for v in catalog.vars]
    assert len(names) == len(set(names))
    assert all(re.fullmatch(r"[A-Z][A-Z0-9_]*", n) for n in names)
