"""Hyperparameter search with Optuna: every trial a child run, the best on the parent run.

    def objective(trial):
        depth = trial.suggest_int("max_depth", 2, 8)
        model = HistGradientBoostingClassifier(max_depth=depth).fit(X_train, y_train)
        return mloop.evaluate(model, valid, target="late", log=False).metrics["roc_auc"]

    found = tune(objective, n_trials=20, direction="maximize", metric="roc_auc")
    found.best_params, found.best_run_id

With ``runner="ray"`` trials run in parallel Ray workers; they share the study through an
Optuna journal file under the mloop home (pass ``storage=`` for a multi-node cluster).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mloop.core.cluster import ensure_ray
from mloop.core.config import get_settings
from mloop.core.errors import ConfigError, InvalidInput
from mloop.core.ids import new_id
from mloop.tracking import (
    active_run,
    end_run,
    flush,
    log_metric,
    log_params,
    set_tag,
    set_tags,
    start_run,
)

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["TuneResult", "tune"]


@dataclass
class TuneResult:
    """The best trial, every trial as a table, the parent run and the Optuna study."""

    best_params: dict[str, Any]
    best_value: float
    best_trial: int
    best_run_id: str | None
    parent_run_id: str
    trials: pd.DataFrame
    study: Any


def _optuna() -> Any:
    try:
        import optuna
    except ImportError:
        raise ConfigError(
            "tuning needs Optuna; install it with pip install 'mloop[tune]'."
        ) from None
    return optuna


class _Trial:
    """Runs one trial of ``objective`` inside a child run of ``parent_run_id``."""

    def __init__(
        self,
        objective: Callable[[Any], float],
        parent_run_id: str,
        experiment_id: str,
        metric: str,
    ) -> None:
        self.objective = objective
        self.parent_run_id = parent_run_id
        self.experiment_id = experiment_id
        self.metric = metric

    def __call__(self, trial: Any) -> float:
        import math

        optuna = _optuna()
        run = start_run(
            run_name=f"trial-{trial.number}",
            nested=active_run() is not None,
            parent_run_id=self.parent_run_id,
            experiment_id=self.experiment_id,
            tags={"mloop.tune.trial": trial.number},
            log_system_info=False,
        )
        run_id = run.info.run_id
        trial.set_user_attr("run_id", run_id)
        try:
            value = self.objective(trial)
            log_params(trial.params)
            number = float(value)
            if math.isnan(number):
                raise InvalidInput(
                    f"trial {trial.number}: the objective returned NaN; return a number."
                )
            log_metric(self.metric, number)
        except optuna.TrialPruned:
            log_params(trial.params)
            set_tag("mloop.tune.state", "PRUNED")
            end_run(run_id=run_id)
            raise
        except BaseException:
            end_run("FAILED", run_id=run_id)
            raise
        end_run(run_id=run_id)
        return number


def tune(
    objective: Callable[[Any], float],
    n_trials: int = 20,
    *,
    direction: str = "maximize",
    metric: str = "objective",
    runner: str | None = None,
    parallelism: int = 2,
    seed: int | None = None,
    sampler: Any = None,
    run_name: str = "tune",
    study_name: str | None = None,
    storage: Any = None,
    timeout: float | None = None,
) -> TuneResult:
    """Search hyperparameters: ``objective(trial)`` suggests values and returns a score.

    Each trial is a child run (its params and ``metric``), under the active run or a new
    parent run named ``run_name``; the best params, ``best_<metric>`` and the best child's
    run id are logged on the parent. ``runner="ray"`` runs ``parallelism`` workers at a
    time (default: the configured runner).

    Example:
        >>> found = tune(lambda t: score(t.suggest_float("lr", 1e-3, 1, log=True)), n_trials=10)
        >>> found.best_params

    Args:
        sampler: an Optuna sampler (default: TPE, seeded with ``seed``).
        study_name: the name of the new Optuna study (default: a generated one).
        storage: where Optuna keeps the study (default: in memory; with Ray, a journal
            file under the mloop home).
        timeout: stop starting trials after this many seconds.

    Raises:
        ConfigError: Optuna is not installed (``pip install 'mloop[tune]'``).
        InvalidInput: ``objective`` not callable, ``n_trials`` or ``parallelism`` below 1,
            an unknown ``direction`` or ``runner``.
    """
    optuna = _optuna()
    if not callable(objective):
        raise InvalidInput(
            f"objective is a {type(objective).__name__}; pass a function of a trial."
        )
    if isinstance(n_trials, bool) or not isinstance(n_trials, int) or n_trials < 1:
        raise InvalidInput(f"n_trials {n_trials!r} is not valid; give a positive integer.")
    if direction not in ("maximize", "minimize"):
        raise InvalidInput(f"direction {direction!r} is unknown; use 'maximize' or 'minimize'.")
    runner = runner or ("ray" if get_settings().runner == "ray" else "local")
    if runner not in ("local", "ray"):
        raise InvalidInput(f"runner {runner!r} is unknown; use 'local' or 'ray'.")
    if not isinstance(parallelism, int) or parallelism < 1:
        raise InvalidInput(f"parallelism {parallelism!r} is not valid; give a positive integer.")
    own = active_run() is None
    parent = start_run(run_name=run_name) if own else active_run()
    assert parent is not None
    status = "FAILED"
    try:
        trial_fn = _Trial(objective, parent.info.run_id, parent.info.experiment_id, metric)
        name = study_name or f"mloop-{new_id()}"
        if runner == "local":
            study = optuna.create_study(
                direction=direction,
                sampler=sampler or optuna.samplers.TPESampler(seed=seed),
                study_name=name,
                storage=storage,
            )
            study.optimize(trial_fn, n_trials=n_trials, timeout=timeout)
        else:
            study = _on_ray(
                optuna,
                trial_fn,
                name,
                direction,
                n_trials,
                parallelism,
                seed,
                sampler,
                storage,
                timeout,
            )
        done = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
        if not done:
            raise InvalidInput(f"no trial of study {name!r} completed; see the failed child runs.")
        best = study.best_trial
        log_params(best.params)
        log_metric(f"best_{metric}", float(best.value))
        set_tags(
            {
                "mloop.tune.best_run_id": best.user_attrs.get("run_id", ""),
                "mloop.tune.best_trial": best.number,
                "mloop.tune.n_trials": len(study.trials),
                "mloop.tune.study": name,
            }
        )
        status = "FINISHED"
        return TuneResult(
            dict(best.params),
            float(best.value),
            best.number,
            best.user_attrs.get("run_id"),
            parent.info.run_id,
            _trials(study),
            study,
        )
    finally:
        if own:
            end_run(status, run_id=parent.info.run_id)


def _trials(study: Any) -> pd.DataFrame:
    frame = study.trials_dataframe(attrs=("number", "value", "state", "params", "user_attrs"))
    frame.columns = [c.removeprefix("params_").replace("user_attrs_", "") for c in frame.columns]
    return frame.sort_values("number").reset_index(drop=True)


def _on_ray(
    optuna: Any,
    trial_fn: _Trial,
    name: str,
    direction: str,
    n_trials: int,
    parallelism: int,
    seed: int | None,
    sampler: Any,
    storage: Any,
    timeout: float | None,
) -> Any:
    """Run the trials in ``parallelism`` Ray tasks that share one study."""
    ray = ensure_ray()  # one Ray per process, shared with the other parts and kept running
    settings = get_settings()
    if storage is None:
        folder = Path(settings.home) / "tune"
        folder.mkdir(parents=True, exist_ok=True)
        storage = str(folder / f"{name}.journal")
    optuna.create_study(direction=direction, study_name=name, storage=_storage(optuna, storage))
    env = {k: v for k, v in os.environ.items() if k.startswith("MLOOP_")}
    task = ray.remote(num_cpus=1)(_worker).options(runtime_env={"env_vars": env})
    share, extra = divmod(n_trials, parallelism)
    counts = [share + (1 if i < extra else 0) for i in range(parallelism)]
    futures = [
        task.remote(
            name, storage, trial_fn, count, _worker_sampler(optuna, sampler, seed, i), timeout
        )
        for i, count in enumerate(counts)
        if count
    ]
    try:
        ray.get(futures)
    except ray.exceptions.RayTaskError as exc:
        cause = exc.as_instanceof_cause() if hasattr(exc, "as_instanceof_cause") else exc
        raise cause from None
    return optuna.load_study(study_name=name, storage=_storage(optuna, storage))


def _worker_sampler(optuna: Any, sampler: Any, seed: int | None, index: int) -> Any:
    if sampler is not None:
        return sampler
    return optuna.samplers.TPESampler(seed=None if seed is None else seed + index)


def _storage(optuna: Any, storage: Any) -> Any:
    if isinstance(storage, str) and storage.endswith(".journal"):
        from optuna.storages import JournalStorage
        from optuna.storages.journal import JournalFileBackend

        return JournalStorage(JournalFileBackend(storage))
    return storage


def _worker(
    name: str,
    storage: Any,
    trial_fn: _Trial,
    count: int,
    sampler: Any,
    timeout: float | None,
) -> int:
    """One Ray task: load the shared study and run ``count`` trials."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.load_study(study_name=name, storage=_storage(optuna, storage), sampler=sampler)
    study.optimize(trial_fn, n_trials=count, timeout=timeout)

    flush()
    return count
