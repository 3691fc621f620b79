"""Names the stack renders for deploys match the Worker's own local config and code."""

from __future__ import annotations

import json
import re
import sys
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


def test_the_catalogue_ships_in_the_image_where_the_boot_code_reads_it() -> None:
    """One file: the Worker's catalogue is the container's, inside the build context, copied
    next to the boot code, and the boot code's secret names come from it."""
    from infra.catalog import CATALOG_PATH
    from infra.content import container_files

    container = ROOT / "container"
    assert CATALOG_PATH.resolve() == (container / "env-catalog.json").resolve()
    assert container / "env-catalog.json" in container_files(container)
    dockerfile = (container / "Dockerfile").read_text()
    copy = re.search(r"^COPY (.*\benv-catalog\.json\b.*) (\S+)$", dockerfile, re.MULTILINE)
    assert copy is not None
    assert copy.group(2) == "/opt/openclaw-edge/"
    boot = re.search(r"^COPY openclaw_boot/ (\S+)$", dockerfile, re.MULTILINE)
    assert boot is not None
    assert boot.group(1) == "/opt/openclaw-edge/openclaw_boot/"

    if str(container) not in sys.path:  # as tests/container/conftest.py imports the boot code
        sys.path.insert(0, str(container))
    from openclaw_boot import settings

    # settings.py sits in openclaw_boot/, the catalogue one level up, in the image as here.
    assert (
        Path(settings.__file__).resolve().parents[1] / "env-catalog.json" == settings.CATALOG_PATH
    )
    forwarded = {
        s.get("containerName") or s["name"]
        for s in json.loads(CATALOG_PATH.read_text())["secrets"]
        if s.get("container")
    }
    assert set(settings.SECRET_ENV_NAMES) == forwarded - settings.NOT_CREDENTIALS
    assert "OPENCLAW_GATEWAY_TOKEN" in settings.SECRET_ENV_NAMES  # the containerName
