"""The fluent tracking API, with MLflow's names so that users' habits carry over.

    import mloop

    mloop.set_experiment("flight-delays")
    with mloop.start_run(run_name="baseline") as run:
        mloop.log_params({"model": "rf", "depth": 8})
        for step, loss in enumerate(losses):
            mloop.log_metric("loss", loss, step=step)

An exception inside the ``with`` block marks the run FAILED. Logging calls return at
once; values are written in batches by a background thread (see :mod:`.writer`).
"""

from __future__ import annotations

import atexit
import contextlib
import sys
import threading
from collections.abc import Mapping
from contextvars import ContextVar
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from mloop.core.clock import now_ms
from mloop.core.config import get_settings
from mloop.core.errors import Conflict, InvalidInput
from mloop.core.ids import new_id
from mloop.core.principal import current_actor
from mloop.store import get_artifacts, lineage
from mloop.tracking import context, experiments, inputs, names, runs, system_tags
from mloop.tracking.entities import (
    FAILED,
    FINISHED,
    KILLED,
    RUNNING,
    Experiment,
    Metric,
    Run,
    RunData,
    RunList,
)
from mloop.tracking.search import view_type
from mloop.tracking.system_tags import canonical
from mloop.tracking.tracker import Tracker, check_key, get_tracker

if TYPE_CHECKING:
    import pandas as pd


class ActiveRun(Run):
    """The run returned by :func:`start_run`; a context manager that ends it."""

    def __init__(self, run: Run, tracker: Tracker) -> None:
        super().__init__(run.info, run.data, run.inputs)
        object.__setattr__(self, "tracker", tracker)
        object.__setattr__(self, "capture", None)
        object.__setattr__(self, "synchronous", True)
        object.__setattr__(self, "thread", threading.current_thread())

    tracker: Tracker
    capture: threading.Thread | None
    synchronous: bool
    # the thread that started the run: only its code logs into it implicitly (the object,
    # not its ident: idents of finished threads are reused)
    thread: threading.Thread

    def __enter__(self) -> ActiveRun:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        status = (
            FINISHED if kind is None else KILLED if issubclass(kind, KeyboardInterrupt) else FAILED
        )
        end_run(status, run_id=self.info.run_id)


# The active runs of this thread and asyncio task, innermost last (as MLflow keeps one
# stack per thread). A context variable: a task created while a run is open sees that run
# (a snapshot of the stack) but its own start_run/end_run never change its parent's stack.
_runs: ContextVar[tuple[ActiveRun, ...]] = ContextVar("mloop_active_runs", default=())
_last_run: ContextVar[str | None] = ContextVar("mloop_last_run", default=None)
# every run open in the process, whatever thread started it: ended at interpreter exit
_open: dict[str, ActiveRun] = {}
_open_lock = threading.Lock()
_state: dict[str, Any] = {"experiment": None, "crashed": False, "hooks": False}


def _stack() -> tuple[ActiveRun, ...]:
    """The active runs of the calling thread and task.

    A context copied into another thread (``asyncio.to_thread``, ``contextvars.run``)
    carries the runs of the thread it came from; they stay that thread's, so a worker
    never logs into them by accident.
    """
    stack = _runs.get()
    if stack and stack[-1].thread is not threading.current_thread():
        me = threading.current_thread()
        stack = tuple(run for run in stack if run.thread is me)
    return stack


# -- experiments -----------------------------------------------------------------------


def set_experiment(
    experiment_name: str | None = None, experiment_id: str | None = None
) -> Experiment:
    """Make an experiment (created when missing) the one new runs go to.

    Args:
        experiment_name: the experiment by name; created when there is none.
        experiment_id: the experiment by id (it must exist); takes precedence over the name.

    Raises:
        InvalidInput: neither argument is given, the name is empty or longer than 256
            characters, or the id is not a number.
        NotFound: no experiment has ``experiment_id``.
        Conflict: the experiment is deleted (restore it first).
    """
    tracker = get_tracker()
    if experiment_id is not None:
        experiment = experiments.check_active(experiments.get(tracker.store, experiment_id))
    elif experiment_name is not None:
        experiment = experiments.get_or_create(tracker.store, experiment_name)
    else:
        raise InvalidInput("set_experiment needs experiment_name or experiment_id.")
    _state["experiment"] = (tracker.store.url, experiment.experiment_id)
    return experiment


def get_experiment_by_name(name: str) -> Experiment | None:
    """The experiment called ``name`` (deleted ones too), or ``None`` when there is none."""
    return experiments.get_by_name(get_tracker().store, name)


def set_experiment_tag(key: str, value: Any) -> None:
    """Set a tag on the current experiment (the one new runs go to).

    Raises:
        InvalidInput: ``key`` is not a valid tag name.
    """
    set_experiment_tags({key: value})


def set_experiment_tags(tags: Mapping[str, Any]) -> None:
    """Set tags on the current experiment.

    Raises:
        InvalidInput: ``tags`` is not a mapping, or a name is not a valid tag name.
    """
    tags = _mapping(tags, "tags", "set_experiment_tags")
    tracker = get_tracker()
    checked = {check_key(key, "tag"): str(value) for key, value in tags.items()}
    experiments.set_tags(tracker.store, _experiment_id(tracker, None), checked)


def delete_experiment(experiment_id: str) -> None:
    """Delete an experiment and its runs (hidden from searches; restore_experiment undoes it).

    Raises:
        InvalidInput: ``experiment_id`` is not a number.
        NotFound: no experiment has this id.
    """
    tracker = _flush_all()
    experiments.set_lifecycle(tracker.store, experiment_id, "deleted")
    chosen = _state["experiment"]
    if chosen is not None and chosen == (tracker.store.url, str(experiment_id)):
        _state["experiment"] = None


def _experiment_id(tracker: Tracker, explicit: str | None) -> str:
    if explicit is not None:
        return experiments.check_active(experiments.get(tracker.store, explicit)).experiment_id
    chosen = _state["experiment"]
    if chosen is not None and chosen[0] == tracker.store.url:
        return str(chosen[1])
    experiment = experiments.get_or_create(tracker.store, get_settings().experiment)
    _state["experiment"] = (tracker.store.url, experiment.experiment_id)
    return experiment.experiment_id


# -- runs ------------------------------------------------------------------------------


def start_run(
    run_id: str | None = None,
    experiment_id: str | None = None,
    run_name: str | None = None,
    nested: bool = False,
    tags: Mapping[str, Any] | None = None,
    description: str | None = None,
    parent_run_id: str | None = None,
    log_system_info: bool = True,
    synchronous: bool = True,
) -> ActiveRun:
    """Start a new run, or resume ``run_id``; use it as a context manager.

    With a run already active, pass ``nested=True`` to start a child run.
    ``synchronous=False``: ending the run does not wait for its values and status to be
    committed; they are written with the next flush (within ``flush_interval``, when the
    parent run ends, or before any read). For many short runs, such as pipeline nodes.

    Args:
        run_id: an existing run to resume (its status becomes ``RUNNING`` again).
        experiment_id: the experiment of a new run (default: :func:`set_experiment`'s, else
            the configured ``experiment``).
        run_name: a readable name (a generated one when omitted).
        nested: start a child of the active run instead of refusing.
        tags: tags to set at the start.
        description: stored as the run's note.
        parent_run_id: make the new run a child of this run.
        log_system_info: record the git state and installed packages (in the background).
        synchronous: see above.

    Raises:
        Conflict: a run is already active in this thread and ``nested`` is false; the
            resumed run is deleted; the experiment is deleted.
        NotFound: ``run_id`` or ``experiment_id`` does not exist.
        InvalidInput: a tag name is invalid, ``tags`` is not a mapping, or
            ``experiment_id`` is not a number.
    """
    tracker = get_tracker()
    stack = _stack()
    if stack and not nested:
        raise Conflict(
            f"run {stack[-1].info.run_id} is already active in this thread; end it with "
            "end_run(), or pass nested=True to start a child run."
        )
    parent = parent_run_id or (stack[-1].info.run_id if stack and nested else None)
    tags = _mapping(tags or {}, "tags", "start_run")
    user_tags = {canonical(check_key(k, "tag")): str(v) for k, v in tags.items()}
    if description:
        user_tags[system_tags.NOTE] = description
    if run_id is not None:
        tracker.flush()  # the run may still be in this process's write-behind buffer
        runs.check_resumable(tracker.store, run_id)
        if run_name:
            user_tags[system_tags.RUN_NAME] = run_name
        for key, value in user_tags.items():
            tracker.set_tag(run_id, key, value)
        tracker.flush()  # the resumed run shows these tags
        runs.set_status(tracker.store, run_id, RUNNING)
        tracker.forget_params(run_id)
        run = runs.get(tracker.store, run_id)
        active = ActiveRun(run, tracker)
    else:
        new = new_id()
        name = run_name or user_tags.get(system_tags.RUN_NAME) or names.run_name()
        user_tags.pop(system_tags.RUN_NAME, None)
        system = {**context.process_tags(current_actor()), system_tags.RUN_NAME: name}
        if parent:
            system[system_tags.PARENT_RUN_ID] = parent
        row = runs.new_row(
            run_id=new,
            experiment_id=_experiment_id(tracker, experiment_id),
            run_name=name,
            user=current_actor(),
            artifact_uri=get_artifacts().uri(runs.artifact_prefix(new)),
            parent_run_id=parent,
        )
        # written behind like its values: a short run is created and ended in one flush;
        # reads (get_run, search_runs) flush first, so they see it
        tracker.writer.create_run((row, {**system, **user_tags}))
        info = runs.info_of(row)
        # the new run is known in full: no need to read it back
        active = ActiveRun(Run(info=info, data=RunData(tags={**system, **user_tags})), tracker)
        # a child run's code version and environment are its parent's
        if log_system_info and parent is None:
            thread = threading.Thread(
                target=_capture_context,
                args=(tracker, new, Path.cwd()),
                name="mloop-context",
                daemon=True,
            )
            thread.start()
            object.__setattr__(active, "capture", thread)
    object.__setattr__(active, "synchronous", synchronous)
    tracker.writer.alive.add(active.info.run_id)
    _runs.set((*stack, active))
    with _open_lock:
        _open[active.info.run_id] = active
    _install_exit_hooks()
    return active


def _capture_context(tracker: Tracker, run_id: str, cwd: Path) -> None:
    """Record git state and installed packages (in the background; joined by end_run)."""
    try:
        tags, diff = context.git_state(cwd)
        for key, value in tags.items():
            tracker.set_tag(run_id, key, value)
        prefix = runs.artifact_prefix(run_id)
        tracker.artifacts.put_bytes(
            f"{prefix}/system/requirements.txt", context.requirements().encode()
        )
        if diff is not None:
            tracker.artifacts.put_bytes(f"{prefix}/system/git_diff.patch", diff.encode())
    except Exception as exc:  # the run goes on; say what is missing
        from mloop.core.log import get_logger

        get_logger("mloop.tracking").warning(
            "run %s: could not record code version: %s", run_id, exc
        )


def end_run(status: str = FINISHED, run_id: str | None = None) -> None:
    """End the active run (or ``run_id``) with ``status``, after writing its buffered values.

    Only runs active in the calling thread or task are ended; children still open end
    with their parent, with the same status. Without an active run it does nothing.

    Args:
        status: ``FINISHED``, ``FAILED`` or ``KILLED``.
        run_id: end this run (and its open children) rather than the innermost one.

    Raises:
        InvalidInput: ``status`` is not a run status.
        Conflict: another process had stored another value for one of the run's params;
            the run has ended, without that value.
    """
    stack = _stack()
    if not stack:
        return
    index = len(stack) - 1
    if run_id is not None:
        matches = [i for i, r in enumerate(stack) if r.info.run_id == run_id]
        if not matches:
            return
        index = matches[-1]
    _runs.set(stack[:index])
    ended = stack[index:]
    for active in reversed(ended):
        _finish(active, status)
        _last_run.set(active.info.run_id)
    # a param another process stored first: the run has ended, its value was not kept
    ended[0].tracker.raise_conflicts([active.info.run_id for active in ended])


def _finish(active: ActiveRun, status: str) -> None:
    """Write a run's buffered values and its end (once, whichever thread asks first)."""
    with _open_lock:
        if _open.pop(active.info.run_id, None) is None:
            return
    tracker = active.tracker
    if active.capture is not None:
        active.capture.join(timeout=30)
    if active.synchronous:
        tracker.writer.flush(then=runs.status_update(active.info.run_id, status))
    else:
        runs.check_status(status)
        tracker.writer.end_run(active.info.run_id, status, now_ms())
    tracker.writer.alive.discard(active.info.run_id)
    tracker.forget_params(active.info.run_id)


def active_run() -> ActiveRun | None:
    """The innermost active run of the calling thread (and asyncio task), or None."""
    stack = _stack()
    return stack[-1] if stack else None


def last_active_run() -> Run | None:
    """The active run, else the one this thread ended most recently."""
    stack = _stack()
    if stack:
        return stack[-1]
    last = _last_run.get()
    return get_run(last) if last else None


def delete_run(run_id: str) -> None:
    """Delete a run: it keeps its data but searches hide it (``Client().restore_run`` undoes it).

    Raises:
        NotFound: no run has this id.
    """
    runs.set_lifecycle(_flush_all().store, run_id, "deleted")


def delete_tag(key: str) -> None:
    """Remove a tag from the active run, as MLflow does.

    Raises:
        NotFound: the run has no tag ``key``.
    """
    run = _current()
    run.tracker.flush()
    runs.delete_tag(run.tracker.store, run.info.run_id, canonical(key))


def _current() -> ActiveRun:
    """The active run; like MLflow, logging without one starts a run."""
    stack = _stack()
    return stack[-1] if stack else start_run()


def _install_exit_hooks() -> None:
    if _state["hooks"]:
        return
    _state["hooks"] = True
    previous = sys.excepthook

    def hook(kind: type[BaseException], error: BaseException, tb: TracebackType | None) -> None:
        _state["crashed"] = True
        previous(kind, error, tb)

    sys.excepthook = hook
    atexit.register(_at_exit)


def _at_exit() -> None:
    """End open runs and drain every buffer.

    The main thread's runs end FINISHED (FAILED after an uncaught exception). A run left
    open by another thread ends FINISHED when that thread has returned, KILLED when the
    exit cut it short (a daemon thread still running).
    """
    from mloop.tracking.tracker import close_all

    try:
        mine = _stack()
        if mine:
            with contextlib.suppress(Conflict):  # already logged; nobody left to raise to
                end_run(FAILED if _state["crashed"] else FINISHED, run_id=mine[0].info.run_id)
        with _open_lock:
            others = list(_open.values())
        for active in others:
            _finish(active, KILLED if active.thread.is_alive() else FINISHED)
    finally:
        close_all()


# -- logging ---------------------------------------------------------------------------


def log_param(key: str, value: Any) -> Any:
    """Record a param of the active run (one is started when none is); returns ``value``.

    Params are immutable: logging the same value again is a no-op, another value is refused.

    Args:
        key: letters, digits, ``_ - . : /`` and spaces, at most 250 characters.
        value: stored as ``str(value)``, at most 6000 characters.

    Raises:
        InvalidInput: ``key`` is not a valid name, or ``value`` is too long.
        Conflict: the run already has another value for ``key``.
    """
    run = _current()
    run.tracker.log_param(run.info.run_id, key, value)
    return value


def _mapping(value: Any, argument: str, call: str) -> Mapping[str, Any]:
    """``value`` when it is a mapping, else an InvalidInput that shows the expected form."""
    if isinstance(value, Mapping):
        return value
    raise InvalidInput(
        f"{call} got {argument}={type(value).__name__} {str(value)[:60]!r}; it takes a mapping of "
        f"name to value, e.g. {call}({{'depth': 8, 'lr': 0.1}}) (a list of pairs: dict(pairs))."
    )


def log_params(params: Mapping[str, Any]) -> None:
    """Record several params of the active run (see :func:`log_param`).

    Raises:
        InvalidInput: ``params`` is not a mapping, or a name or value is invalid.
        Conflict: the run already has another value for one of the names.
    """
    params = _mapping(params, "params", "log_params")
    run = _current()
    for key, value in params.items():
        run.tracker.log_param(run.info.run_id, key, value)


def log_metric(
    key: str, value: float, step: int | None = None, timestamp: int | None = None
) -> None:
    """Record one value of a metric of the active run (one is started when none is).

    The call returns at once; values are written in batches by a background thread.

    Args:
        key: letters, digits, ``_ - . : /`` and spaces, at most 250 characters.
        value: a number (NaN and infinities are kept); numpy scalars are accepted.
        step: the training step the value belongs to (0 when omitted).
        timestamp: milliseconds since the epoch (now when omitted).

    Raises:
        InvalidInput: an invalid name, a value that is not a number, a step or timestamp
            that is not an integer.
    """
    run = _current()
    run.tracker.log_metric(run.info.run_id, key, value, step, timestamp)


def log_metrics(
    metrics: Mapping[str, float], step: int | None = None, timestamp: int | None = None
) -> None:
    """Record one value of several metrics at the same step (see :func:`log_metric`).

    Raises:
        InvalidInput: ``metrics`` is not a mapping, or a name, value or step is invalid.
    """
    metrics = _mapping(metrics, "metrics", "log_metrics")
    run = _current()
    for key, value in metrics.items():
        run.tracker.log_metric(run.info.run_id, key, value, step, timestamp)


def set_tag(key: str, value: Any) -> None:
    """Set a tag of the active run (a later value replaces an earlier one).

    MLflow's system tag names (``mlflow.runName``, ...) are stored under mloop's names.

    Raises:
        InvalidInput: ``key`` is not a valid name.
    """
    run = _current()
    run.tracker.set_tag(run.info.run_id, key, value)


def set_tags(tags: Mapping[str, Any]) -> None:
    """Set several tags of the active run (see :func:`set_tag`).

    Raises:
        InvalidInput: ``tags`` is not a mapping, or a name is invalid.
    """
    tags = _mapping(tags, "tags", "set_tags")
    run = _current()
    for key, value in tags.items():
        run.tracker.set_tag(run.info.run_id, key, value)


def log_input(dataset: Any, context: str | None = None, name: str | None = None) -> lineage.Node:
    """Record that the active run read ``dataset`` (lineage edge ``input_of``).

    ``dataset`` is anything with a ``lineage_node()`` method (dataset versions, training
    sets), a lineage ``Node``, or a pandas DataFrame (recorded by content hash). Its
    name (``name``, else the dataset's own), digest and ``context`` are what
    ``datasets.name|digest|context`` filters of :func:`search_runs` compare.

    Args:
        dataset: what was read.
        context: what it was read for (``"training"``, ``"evaluation"``...).
        name: the name to record, instead of the dataset's own.

    Raises:
        InvalidInput: ``dataset`` is none of the accepted kinds.
    """
    run = _current()
    node = inputs.as_lineage_node(dataset)
    properties = inputs.describe(node, dataset, name, context)
    lineage.add_edge(
        run.tracker.store, node, "input_of", lineage.Node("run", run.info.run_id), properties
    )
    return node


# -- reading ---------------------------------------------------------------------------


def _flush_all() -> Tracker:
    tracker = get_tracker()
    tracker.flush()
    return tracker


def flush() -> None:
    """Write every buffered value now.

    Raises:
        Conflict: a param was refused because another process had stored another value.
    """
    _flush_all().raise_conflicts()


def get_run(run_id: str) -> Run:
    """A run with its params, latest metrics, tags and inputs (buffered values flushed first).

    Raises:
        NotFound: no run has this id.
    """
    return runs.get(_flush_all().store, run_id)


def get_metric_history(run_id: str, key: str) -> list[Metric]:
    """Every logged value of metric ``key`` of a run, by step then time.

    An unknown run or metric gives an empty list, as in MLflow.
    """
    return runs.metric_history(_flush_all().store, run_id, key)


def search_runs(
    experiment_ids: list[str] | None = None,
    filter_string: str = "",
    run_view_type: str = "ACTIVE_ONLY",
    max_results: int = 100_000,
    order_by: list[str] | None = None,
    output_format: str = "pandas",
    search_all_experiments: bool = False,
    experiment_names: list[str] | None = None,
) -> pd.DataFrame | list[Run]:
    """Runs matching ``filter_string`` as a DataFrame shaped like MLflow's (or a list).

    A DataFrame has ``run_id``, ``status``, ``start_time``... then ``metrics.<name>``,
    ``params.<name>`` and ``tags.<name>`` columns; ``output_format="list"`` gives a
    :class:`RunList` of :class:`Run`, which a notebook shows as a table.

    Args:
        experiment_ids: search these experiments (default: the current one).
        filter_string: MLflow's filter syntax (``metrics.auc > 0.8 and params.model = 'rf'``,
            ``attributes.status``, ``tags.x``, ``datasets.name``).
        run_view_type: ``ACTIVE_ONLY``, ``DELETED_ONLY`` or ``ALL``.
        max_results: the most runs returned.
        order_by: ``["metrics.auc DESC", "start_time"]``.
        output_format: ``"pandas"`` or ``"list"``.
        search_all_experiments: search every experiment when none is named.
        experiment_names: search these experiments by name (instead of ids).

    Raises:
        InvalidInput: both ids and names, an unknown ``output_format`` or view type, or a
            filter or order that does not parse (the message points at the mistake).
        NotFound: an experiment name or id that does not exist.

    >>> mloop.search_runs(experiment_names=["delays"], filter_string="metrics.auc > 0.8",
    ...                   order_by=["metrics.auc DESC"], max_results=10)
    """
    from mloop.tracking.search import search, search_frame

    if experiment_ids and experiment_names:
        raise InvalidInput(
            "search_runs got both experiment_ids and experiment_names; pass only one of them."
        )
    run_view_type = view_type(run_view_type)
    tracker = _flush_all()
    ids: list[int] | None
    if experiment_names:
        ids = experiments.ids_for_names(tracker.store, experiment_names)
    elif experiment_ids:
        ids = [int(experiments.get(tracker.store, i).experiment_id) for i in experiment_ids]
    elif search_all_experiments:
        ids = None
    else:
        ids = [int(_experiment_id(tracker, None))]
    if output_format not in ("pandas", "list"):
        raise InvalidInput(f"output_format {output_format!r} is unknown; use 'pandas' or 'list'.")
    if output_format == "pandas":
        return search_frame(tracker.store, ids, filter_string, order_by, max_results, run_view_type)
    return RunList(search(tracker.store, ids, filter_string, order_by, max_results, run_view_type))


def _reset_for_tests() -> None:
    """Forget active runs and the chosen experiment (the stores are reset separately)."""
    from mloop.tracking.tracker import close_all

    _runs.set(())
    _last_run.set(None)
    with _open_lock:
        _open.clear()
    _state.update(experiment=None, crashed=False)
    with contextlib.suppress(Exception):  # a test may have pointed at a store that is gone
        close_all()
