"""A model of the Pulumi engine for the lifecycle tests: runs the REAL program
(infra.program.build_stack, through infra.mock_run.execute) and turns each resource
registration into the step the engine would take against the previous state, then applies it to
fake providers; `destroy` works from state alone, as `pulumi destroy` does by default.

Rules and their source (pulumi/pulumi pkg/resource/deploy/step_generator.go unless noted):
- Registration IS the step: the SDK awaits a resource's dependencies (their RegisterResource
  must return) before registering it, and registers independent resources concurrently from
  executor threads (pulumi/runtime/resource.py, run_in_executor). So independent commands run at
  the same time here, as under the engine.
- Import: when the goal has an import id and there is no old state, or the old state's
  ImportID/ID differs (`isImport`). The provider Reads the resource; nothing there fails with
  "resource '<id>' does not exist" (step.go ImportStep.Apply). The read inputs are then diffed
  against the goal (continueStepsFromImport) and a difference is an UPDATE.
- ignoreChanges: the old value of each ignored property replaces the new one before diffing
  (processIgnoreChanges).
- Diff: provider replace keys (RequiresReplace/ForceNew) and the goal's replaceOnChanges
  (PropertyPath.Contains; pulumi-command's Python SDK adds ["triggers[*]"]) make a REPLACE,
  any other difference an UPDATE, none a SAME (applyReplaceOnChanges, continueStepsFromDiff).
- Replace: refused when old and new are protected; create-before-delete unless
  deleteBeforeReplace, the old resource's delete running after all creates/updates.
- Deletes (removed resources, replaced old ones) run after the program, in antichains of the old
  dependency graph, each antichain concurrently (ScheduleDeletes); retainOnDelete drops from
  state without calling the provider, protect refuses ("cannot be deleted because it is
  protected", step.go) and the others still run (step_executor.go: deleteProtectedError
  continues). A failed step stops new steps and skips the deletes (cancelDueToError).
- destroy --exclude-protected leaves protected resources and what they depend on
  (pkg/cmd/pulumi/operations/destroy.go, determineForbiddenResourcesToDeleteFromExcludes).

Not modelled: previews and unknowns, refresh, aliases, providers as resources, targets, import
replacement, plans, Check defaults, retries, partial failures (a failed create leaves no state
here; the engine keeps it with init errors and updates it next time: same commands), the real
parallelism limit.

One module on purpose (about 440 lines): the step rules are read against the engine source
above, rule by rule, in one place.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Collection, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
from pulumi.runtime import rpc
from pulumi.runtime.mocks import MockCallArgs, MockResourceArgs
from pulumi.runtime.proto import resource_pb2
from pulumi.runtime.sync_await import _ensure_event_loop, _sync_await

from infra.mock_run import ProgramRun, RecordingMocks, RecordingMonitor, execute
from tests.infra.lifecycle.account import FakeAccount
from tests.infra.lifecycle.model import (
    Goal,
    ResourceState,
    changed_paths,
    path_contains,
    split_path,
    unwrap,
)
from tests.infra.lifecycle.providers import (
    COMMAND_TYPE,
    CloudProvider,
    CommandProvider,
    CommandRun,
    Invokes,
    ProviderError,
)


class StepFailed(Exception):
    """The engine's error for one resource; the up/destroy reports it and stops."""


@dataclass
class Step:
    op: str  # create, update, same, import, import+update, replace, delete, retain, ...
    name: str
    type: str
    detail: str = ""


@dataclass
class Outcome:
    """What one `pulumi up` or `pulumi destroy` did."""

    steps: list[Step]
    runs: list[CommandRun]
    errors: list[str]
    run: ProgramRun | None = None

    def ops(self, *kinds: str) -> list[tuple[str, str]]:
        return [(s.op, s.name) for s in self.steps if not kinds or s.op in kinds]

    @property
    def changed(self) -> list[tuple[str, str]]:
        return [(s.op, s.name) for s in self.steps if s.op != "same"]


class _EngineMocks(RecordingMocks):
    """Invokes go to the fake account; resources never reach `new_resource` (the monitor below
    answers registrations itself)."""

    def __init__(self, invokes: Invokes) -> None:
        super().__init__()
        self.invokes = invokes

    def new_resource(self, args: MockResourceArgs) -> tuple[str | None, dict[Any, Any]]:
        raise AssertionError("the lifecycle monitor answers registrations")

    def call(self, args: MockCallArgs) -> dict[Any, Any]:  # type: ignore[override]
        self.calls.append(args)
        return self.invokes(args.token, dict(args.args))


class _EngineMonitor(RecordingMonitor):
    def __init__(self, engine: Engine, mocks: _EngineMocks) -> None:
        super().__init__(mocks)
        self.engine = engine

    def RegisterResource(self, request: Any) -> Any:
        urn = self.make_urn(request.parent, request.type, request.name)
        if request.type == "pulumi:pulumi:Stack":
            return resource_pb2.RegisterResourceResponse(urn=urn)
        _ensure_event_loop()  # type: ignore[no-untyped-call]
        self.record(request, urn)
        goal = Goal(
            urn=urn,
            type=request.type,
            name=request.name,
            parent=request.parent,
            custom=bool(request.custom),
            inputs=rpc.deserialize_properties(request.object),
            protect=bool(request.protect),
            retain_on_delete=bool(request.retainOnDelete),
            delete_before_replace=bool(request.deleteBeforeReplace),
            import_id=request.importId,
            ignore_changes=tuple(request.ignoreChanges),
            replace_on_changes=tuple(request.replaceOnChanges),
            additional_secret_outputs=tuple(request.additionalSecretOutputs),
            dependencies=tuple(request.dependencies),
        )
        resource_id, outputs = self.engine.register(goal)
        response = _sync_await(rpc.serialize_properties(outputs, {}))
        return resource_pb2.RegisterResourceResponse(urn=urn, id=resource_id, object=response)


def _quiet_failed_outputs() -> None:
    """A failed step leaves the SDK's output futures of that resource (and of the ones not run)
    holding StepFailed; nobody awaits them, so asyncio would print "Future exception was never
    retrieved" at exit. The failure is already in the Outcome: drop exactly those reports."""
    loop = _ensure_event_loop()  # type: ignore[no-untyped-call]

    def handler(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        if not isinstance(context.get("exception"), StepFailed):
            loop.default_exception_handler(context)

    loop.set_exception_handler(handler)


@dataclass
class Engine:
    """State plus the fake providers; `up()` and `destroy()` mutate `state` like a backend."""

    account: FakeAccount
    project_dir: Path
    process_env: Mapping[str, str]
    state: dict[str, ResourceState] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.commands = CommandProvider(self.project_dir, self.process_env)
        self._reset()

    def _reset(self) -> None:
        self._old: dict[str, ResourceState] = dict(self.state)
        self._new: dict[str, ResourceState] = {}
        self._pending_deletes: list[ResourceState] = []
        self._steps: list[Step] = []
        self._errors: list[str] = []
        self._failed = False
        self._gone: set[str] = set()
        self._targeted: set[str] = set()
        self.commands.runs = []

    # -- pulumi up -------------------------------------------------------------------------

    def up(
        self,
        values: Mapping[str, object],
        read_secret: Callable[[str], pulumi.Output[str] | None],
        read_parameter: Callable[[str], str | None],
        build_dir: Path,
        source_root: Path,
        api_token: str,
        replace: Collection[str] = (),
    ) -> Outcome:
        """`pulumi up`; `replace` names resources as `--replace <urn>` would."""
        self._reset()
        self._targeted = set(replace)
        mocks = _EngineMocks(Invokes(self.account))
        monitor = _EngineMonitor(self, mocks)
        run: ProgramRun | None = None
        _quiet_failed_outputs()
        try:
            run = execute(
                "dev",
                values,
                read_secret,
                read_parameter,
                build_dir,
                mocks,
                api_token=api_token,
                monitor=monitor,
                source_root=source_root,
            )
        except Exception as error:  # the program's or a step's error ends the update
            self._fail(f"{type(error).__name__}: {error}")
        if not self._failed:
            removed = [s for urn, s in self._old.items() if urn not in self._new]
            self._delete(
                removed + self._pending_deletes, replacing={id(s) for s in self._pending_deletes}
            )
        # Resources the program did not reach keep their old state (the engine never touched
        # them); the ones it did are replaced by their new state.
        merged = dict(self._old)
        merged.update(self._new)
        for gone in self._gone:
            merged.pop(gone, None)
        self.state = merged
        return Outcome(list(self._steps), list(self.commands.runs), list(self._errors), run)

    def register(self, goal: Goal) -> tuple[str, dict[str, Any]]:
        with self._lock:
            if self._failed:
                raise StepFailed(f"{goal.name}: not run, an earlier step failed")
            old = self._old.get(goal.urn)
        try:
            new, step = self._step(goal, old)
        except (ProviderError, StepFailed) as error:
            self._fail(f"{goal.type} {goal.name}: {error}")
            raise StepFailed(str(error)) from None
        with self._lock:
            self._new[goal.urn] = new
            self._steps.append(step)
        return new.id, new.outputs

    def _step(self, goal: Goal, old: ResourceState | None) -> tuple[ResourceState, Step]:
        if not goal.custom:  # components: state only, no provider
            return self._state(goal, "", {}, goal.inputs), Step(
                "same" if old else "create", goal.name, goal.type, "component"
            )
        provider = self._provider(goal.type)
        old_import = (old.import_id or old.id) if old else ""
        if goal.import_id and (old is None or old_import != goal.import_id):
            if old is not None:
                raise StepFailed(
                    "import over an existing state (ImportReplacement) is not modelled"
                )
            return self._import(goal, provider)
        if old is None:
            created = provider.create(goal)
            return self._state(goal, created.id, created.outputs, goal.inputs), Step(
                "create", goal.name, goal.type
            )
        return self._diff(goal, old, provider)

    def _import(
        self, goal: Goal, provider: CommandProvider | CloudProvider
    ) -> tuple[ResourceState, Step]:
        read = provider.read(goal, goal.import_id)
        if read is None:
            raise StepFailed(f"resource '{goal.import_id}' does not exist")
        read_inputs, applied = read
        inputs = self._ignore(goal, read_inputs)
        changed = self._changed(read_inputs, inputs, goal.inputs)
        imported = self._state(goal, applied.id, applied.outputs, read_inputs)
        if not changed:
            return imported, Step("import", goal.name, goal.type, goal.import_id)
        if self._replaces(goal, provider.replace_keys, changed):
            raise StepFailed(
                "previously-imported resources that still specify an ID may not be replaced"
            )
        updated = provider.update(imported, goal, inputs)
        return self._state(goal, updated.id, updated.outputs, inputs), Step(
            "import+update", goal.name, goal.type, ", ".join(changed)
        )

    def _diff(
        self, goal: Goal, old: ResourceState, provider: CommandProvider | CloudProvider
    ) -> tuple[ResourceState, Step]:
        inputs = self._ignore(goal, old.inputs)
        changed = self._changed(old.inputs, inputs, goal.inputs)
        if goal.name in self._targeted:  # isTargetedReplace: a replace that blames the id
            changed, inputs = ["id"], dict(goal.inputs)
        if not changed:
            same = self._state(goal, old.id, old.outputs, old.inputs)
            return same, Step("same", goal.name, goal.type)
        if self._replaces(goal, provider.replace_keys, changed):
            if old.protect and goal.protect:
                raise StepFailed(
                    f'unable to replace resource "{goal.urn}"\nas it is currently marked for '
                    "protection"
                )
            if goal.delete_before_replace:
                self._delete_one(old, replacing=True)
            created = provider.create(goal)
            if not goal.delete_before_replace:
                with self._lock:
                    self._pending_deletes.append(old)
            return self._state(goal, created.id, created.outputs, goal.inputs), Step(
                "replace", goal.name, goal.type, ", ".join(changed)
            )
        updated = provider.update(old, goal, inputs)
        return self._state(goal, updated.id, updated.outputs, inputs), Step(
            "update", goal.name, goal.type, ", ".join(changed)
        )

    def _provider(self, type_: str) -> CommandProvider | CloudProvider:
        if type_ == COMMAND_TYPE:
            return self.commands
        return CloudProvider(self.account, type_)

    @staticmethod
    def _ignore(goal: Goal, old_inputs: Mapping[str, Any]) -> dict[str, Any]:
        """processIgnoreChanges for top-level paths: the old value, or no value at all."""
        inputs = dict(goal.inputs)
        for path in goal.ignore_changes:
            key = split_path(path)[0]
            if key in old_inputs:
                inputs[key] = old_inputs[key]
            else:
                inputs.pop(key, None)
        return inputs

    @staticmethod
    def _changed(
        old: Mapping[str, Any], new: Mapping[str, Any], goal: Mapping[str, Any]
    ) -> list[str]:
        keys = {k for k in goal if not k.startswith("__")}
        return changed_paths(
            {k: unwrap(v) for k, v in old.items() if k in keys},
            {k: unwrap(v) for k, v in new.items() if k in keys},
        )

    def _replaces(self, goal: Goal, replace_keys: tuple[str, ...], changed: list[str]) -> bool:
        return goal.name in self._targeted or any(
            split_path(path)[0] in replace_keys
            or any(path_contains(pattern, path) for pattern in goal.replace_on_changes)
            for path in changed
        )

    @staticmethod
    def _state(
        goal: Goal, resource_id: str, outputs: dict[str, Any], inputs: dict[str, Any]
    ) -> ResourceState:
        return ResourceState(
            urn=goal.urn,
            type=goal.type,
            name=goal.name,
            parent=goal.parent,
            custom=goal.custom,
            id=resource_id,
            inputs=dict(inputs),
            outputs=dict(outputs),
            protect=goal.protect,
            retain_on_delete=goal.retain_on_delete,
            import_id=goal.import_id,
            dependencies=goal.dependencies,
            delete_before_replace=goal.delete_before_replace,
        )

    # -- deletes and pulumi destroy --------------------------------------------------------

    def destroy(self, exclude_protected: bool = False) -> Outcome:
        """`pulumi destroy` without --run-program: every resource of the state, from the state
        (the delete commands and environments recorded at the last up)."""
        self._reset()
        condemned = list(self.state.values())
        if exclude_protected:
            kept = {s.urn for s in condemned if s.protect}
            frontier = list(kept)
            while frontier:
                resource = self.state.get(frontier.pop())
                for dependency in resource.depends_on() if resource else set():
                    if dependency not in kept:
                        kept.add(dependency)
                        frontier.append(dependency)
            condemned = [s for s in condemned if s.urn not in kept]
        self._delete(condemned, replacing=set())
        self.state = {urn: s for urn, s in self.state.items() if urn not in self._gone}
        return Outcome(list(self._steps), list(self.commands.runs), list(self._errors))

    def _delete(self, condemned: list[ResourceState], replacing: set[int]) -> None:
        pending = list(condemned)
        antichains: list[list[ResourceState]] = []
        # ScheduleDeletes: repeatedly take the condemned resources none of whose dependencies is
        # still condemned, then reverse, so dependents are deleted before what they depend on.
        while pending:
            left = {s.urn for s in pending}
            ready = [s for s in pending if not s.depends_on() & left]
            if not ready:
                raise StepFailed("dependency cycle among deletes")
            antichains.append(ready)
            pending = [s for s in pending if s not in ready]
        for antichain in reversed(antichains):
            with ThreadPoolExecutor(max_workers=max(1, len(antichain))) as pool:
                list(pool.map(lambda s: self._delete_one(s, id(s) in replacing), antichain))

    def _delete_one(self, state: ResourceState, replacing: bool) -> None:
        replaced_by_new = replacing and state.urn in self._new
        if state.protect and not replacing:
            self._fail(
                f'resource "{state.urn}" cannot be deleted\nbecause it is protected. To unprotect '
                "the resource, either remove the `protect` flag from the resource in your Pulumi "
                "program and run `pulumi up`, or use the command:\n`pulumi state unprotect "
                f"'{state.urn}'`",
                stop=False,
            )
            return
        op = "delete-replaced" if replacing else "delete"
        if state.retain_on_delete:
            op = "retain"  # "Deleting a 'drop on delete' is a no-op" (step.go DeleteStep.Apply)
        elif state.custom:
            try:
                self._provider(state.type).delete(state)
            except ProviderError as error:
                self._fail(f"{state.type} {state.name}: {error}")
                return
        with self._lock:
            self._steps.append(Step(op, state.name, state.type))
            if not replaced_by_new:
                self._gone.add(state.urn)

    def _fail(self, message: str, stop: bool = True) -> None:
        with self._lock:
            self._errors.append(message)
            if stop:
                self._failed = True
