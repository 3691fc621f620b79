"""Where raw config values come from: `pulumi.Config` in a real run, a plain mapping in tests and
the offline plan. Values come out as stripped strings (lists and maps as JSON), which
infra/config.py validates."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from typing import Protocol

NAMESPACE = "openclaw-edge"


class ConfigSource(Protocol):
    """Where raw values come from: `pulumi.Config` in a real run, a dict in tests."""

    def get(self, key: str) -> str | None: ...

    def keys(self) -> Iterable[str]:
        """Every key set in the `openclaw-edge` namespace (without the prefix), so a misspelled
        one is reported instead of silently ignored."""
        ...


def runtime_config_keys() -> list[str]:
    """Keys set in the namespace in a real `pulumi preview/up`.

    The engine hands the program its config as JSON of `"<namespace>:<key>": value` in the
    `PULUMI_CONFIG` environment variable; `pulumi-language-python-exec` loads it with
    `pulumi.runtime.set_all_config(get_config_env(), ...)` (pulumi/pulumi
    sdk/python/cmd/pulumi-language-python-exec, lines 102-110),
    as the Automation API's inline programs do with the request's config. `pulumi.Config.get`
    reads the same two places (pulumi/runtime/config.py `get_config`), so both are listed here."""
    from pulumi.runtime import config as runtime_config

    names = set(runtime_config.CONFIG.get()) | set(runtime_config.get_config_env())
    prefix = f"{NAMESPACE}:"
    return sorted(name[len(prefix) :] for name in names if name.startswith(prefix))


class DictSource:
    """A ConfigSource over a plain mapping (tests, the offline plan). `secret_keys`: names set as
    secrets (`secure:` in a stack file), which are set keys too but not plain values."""

    def __init__(self, values: Mapping[str, object], secret_keys: Iterable[str] = ()) -> None:
        self.values = values
        self.secret_keys = tuple(secret_keys)

    def keys(self) -> list[str]:
        return [k for k, v in self.values.items() if v is not None] + list(self.secret_keys)

    def get(self, key: str) -> str | None:
        value = self.values.get(key)
        if value is None:
            return None
        if isinstance(value, str):
            return value
        if isinstance(value, bool):
            return str(value).lower()
        return json.dumps(value) if isinstance(value, list | dict) else str(value)


class PulumiSource:
    """A ConfigSource over `pulumi.Config(NAMESPACE)`; never reads secret keys as plain text."""

    def __init__(
        self,
        getter: Callable[[str], str | None],
        lister: Callable[[], Iterable[str]] = runtime_config_keys,
    ) -> None:
        self.getter = getter
        self.lister = lister

    def get(self, key: str) -> str | None:
        return self.getter(key)

    def keys(self) -> list[str]:
        return list(self.lister())
