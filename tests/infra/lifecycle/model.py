"""Records the lifecycle engine keeps: what the program asked for (a goal) and what the state
holds for a resource after a step; plus the property helpers both the engine and the fake
providers need (secret markers, property paths)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from pulumi.runtime import rpc


@dataclass(frozen=True)
class Goal:
    """One RegisterResource request, as the engine receives it (resource_pb2 fields)."""

    urn: str
    type: str
    name: str
    parent: str
    custom: bool
    inputs: dict[str, Any]
    """Wire form: secrets still wrapped in their markers."""
    protect: bool
    retain_on_delete: bool
    delete_before_replace: bool
    import_id: str
    ignore_changes: tuple[str, ...]
    replace_on_changes: tuple[str, ...]
    additional_secret_outputs: tuple[str, ...]
    dependencies: tuple[str, ...]


@dataclass
class ResourceState:
    """One resource of the stack's state (the checkpoint the backend keeps, not the checkout)."""

    urn: str
    type: str
    name: str
    parent: str
    custom: bool
    id: str
    inputs: dict[str, Any]
    outputs: dict[str, Any]
    protect: bool = False
    retain_on_delete: bool = False
    import_id: str = ""
    dependencies: tuple[str, ...] = ()
    delete_before_replace: bool = False

    def depends_on(self) -> set[str]:
        """What the engine's dependency graph counts: parent and dependencies
        (graph.DependencyGraph.DependenciesOf)."""
        return {*self.dependencies, *([self.parent] if self.parent else [])}


def unwrap(value: Any) -> Any:
    """The value without secret markers (what a diff compares)."""
    if rpc.is_rpc_secret(value):
        return unwrap(value["value"])
    if isinstance(value, dict):
        return {k: unwrap(v) for k, v in value.items() if not str(k).startswith("__")}
    if isinstance(value, list | tuple):
        return [unwrap(v) for v in value]
    return value


def has_secret(value: Any) -> bool:
    if rpc.is_rpc_secret(value):
        return True
    if isinstance(value, dict):
        return any(has_secret(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(has_secret(v) for v in value)
    return False


def secret_strings(value: Any, inside: bool = False) -> set[str]:
    """Every string that sits under a secret marker."""
    if rpc.is_rpc_secret(value):
        return secret_strings(value["value"], True)
    if isinstance(value, str):
        return {value} if inside else set()
    if isinstance(value, dict):
        return set().union(*(secret_strings(v, inside) for v in value.values()))
    if isinstance(value, list | tuple):
        return set().union(*(secret_strings(v, inside) for v in value))
    return set()


def changed_paths(old: Any, new: Any, prefix: str = "") -> list[str]:
    """Property paths that differ, as the engine's detailed diff names them: object keys joined
    with '.', array elements as '[i]' (plugin.NewDetailedDiffFromObjectDiff, provider.go)."""
    if isinstance(old, dict) and isinstance(new, dict):
        paths: list[str] = []
        for key in sorted(set(old) | set(new)):
            child = f"{prefix}.{key}" if prefix else key
            if key not in old or key not in new:
                paths.append(child)
            else:
                paths += changed_paths(old[key], new[key], child)
        return paths
    if isinstance(old, list) and isinstance(new, list):
        paths = []
        for index in range(max(len(old), len(new))):
            child = f"{prefix}[{index}]"
            if index >= len(old) or index >= len(new):
                paths.append(child)
            else:
                paths += changed_paths(old[index], new[index], child)
        return paths
    return [] if json.dumps(old, sort_keys=True) == json.dumps(new, sort_keys=True) else [prefix]


def split_path(path: str) -> list[str]:
    """'triggers[1]' -> ['triggers', '1']; 'a.b' -> ['a', 'b']; '*' stays a wildcard."""
    return [part for part in path.replace("]", "").replace("[", ".").split(".") if part]


def path_contains(pattern: str, path: str) -> bool:
    """PropertyPath.Contains (sdk/go/common/resource/properties_path.go): `pattern` is a prefix
    of `path`, '*' matching any key or index at its level; a shorter path is never contained."""
    wanted, actual = split_path(pattern), split_path(path)
    if len(actual) < len(wanted):
        return False
    return all(w in ("*", a) for w, a in zip(wanted, actual, strict=False))
