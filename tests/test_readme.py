"""The README's tables match the code: every config key the program reads, every secret."""

from __future__ import annotations

import re
from pathlib import Path

from infra.catalog import load_catalog

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
READ_CALL = re.compile(
    r'r\.(?:text|required|boolean|integer|number|string_list|string_map|choice)\(\s*"(\w+)"'
)


def test_every_config_key_is_in_the_table() -> None:
    keys = set(READ_CALL.findall((ROOT / "infra" / "config.py").read_text()))
    assert len(keys) > 30
    missing = sorted(k for k in keys if f"| `{k}` |" not in README)
    assert missing == [], f"README config table lacks {missing}"


def test_every_secret_is_in_the_table() -> None:
    missing = [s.name for s in load_catalog().secrets if f"`{s.name}`" not in README]
    assert missing == []


def test_the_two_commands_are_the_makefile_targets() -> None:
    assert "| `make dev` |" in README
    assert "| `make test` |" in README
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^dev: ", makefile, re.MULTILINE)
    assert re.search(r"^test: ", makefile, re.MULTILINE)
    assert "make test" in (ROOT / ".ci" / "run").read_text()
