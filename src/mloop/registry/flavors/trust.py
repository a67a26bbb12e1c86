"""Which types a skops model file may hold: exact names, never prefixes, never the file's word.

A skops file names the types it rebuilds, and loading calls them (``ConstructorFromReduceNode``
calls ``module.name(*args)``), so a file naming ``builtins.exec`` runs code. A type is
trusted only when its exact dotted name is

- one of skops' own defaults (scikit-learn estimators, numpy and scipy ufuncs and dtypes,
  ``int``/``float``/``str``/``bool`` and plain containers), which skops never reports;
- in :data:`REVIEWED` below (what scikit-learn, LightGBM and XGBoost models hold beyond
  those, each checked to be data, not a way to call something);
- or listed by an admin in ``[models] trusted_types`` of ``mloop.toml`` or in
  ``MLOOP_MODELS_TRUSTED_TYPES`` (comma-separated).

What a model's own files say about its types is never consulted. See
docs/decisions/0151-model-loading-trust.md.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from typing import Any

from mloop.core.config import get_settings
from mloop.core.errors import ConfigError

ENV = "MLOOP_MODELS_TRUSTED_TYPES"

_DISTANCES = (
    "Euclidean",
    "SEuclidean",
    "Manhattan",
    "Chebyshev",
    "Minkowski",
    "Mahalanobis",
    "Hamming",
    "Canberra",
    "BrayCurtis",
    "Jaccard",
    "Matching",
    "Dice",
    "Kulsinski",
    "RogersTanimoto",
    "RussellRao",
    "SokalMichener",
    "SokalSneath",
    "Haversine",
)
_KERNELS = (
    "ConstantKernel",
    "WhiteKernel",
    "RBF",
    "Matern",
    "RationalQuadratic",
    "ExpSineSquared",
    "DotProduct",
    "PairwiseKernel",
    "Sum",
    "Product",
    "Exponentiation",
    "CompoundKernel",
    "Hyperparameter",
)

REVIEWED: frozenset[str] = frozenset(
    {
        # plain data
        "numpy.dtype",
        "collections.OrderedDict",
        "builtins.slice",
        "sklearn.utils._bunch.Bunch",
        # fitted internals of scikit-learn estimators
        "sklearn.tree._tree.Tree",
        "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
        "sklearn.neighbors._kd_tree.KDTree",
        "sklearn.neighbors._ball_tree.BallTree",
        "sklearn.calibration._CalibratedClassifier",
        "sklearn.calibration._SigmoidCalibration",
        "sklearn.neural_network._stochastic_optimizers.AdamOptimizer",
        "sklearn.neural_network._stochastic_optimizers.SGDOptimizer",
        "sklearn.gaussian_process._gpc._BinaryGaussianProcessClassifierLaplace",
        "scipy.interpolate._bsplines.BSpline",
        # functions scikit-learn keeps in fitted objects (a partial's function is checked
        # on its own: partial(os.system, ...) is still refused for os.system)
        "functools.partial",
        "sklearn.utils.validation.check_array",
        "sklearn.compose._column_transformer.make_column_selector",
        "sklearn.feature_selection._univariate_selection.f_classif",
        "sklearn.feature_selection._univariate_selection.f_regression",
        "sklearn.feature_selection._univariate_selection.r_regression",
        "sklearn.feature_selection._univariate_selection.chi2",
        "sklearn.feature_selection._mutual_info.mutual_info_classif",
        "sklearn.feature_selection._mutual_info.mutual_info_regression",
        *(
            f"sklearn.metrics._dist_metrics.{name}Distance{bits}"
            for name in _DISTANCES
            for bits in ("64", "32")
        ),
        *(f"sklearn.gaussian_process.kernels.{name}" for name in _KERNELS),
        # LightGBM's and XGBoost's scikit-learn wrappers and their boosters
        "lightgbm.basic.Booster",
        "lightgbm.sklearn.LGBMClassifier",
        "lightgbm.sklearn.LGBMRegressor",
        "lightgbm.sklearn.LGBMRanker",
        "xgboost.core.Booster",
        "xgboost.sklearn.XGBClassifier",
        "xgboost.sklearn.XGBRegressor",
        "xgboost.sklearn.XGBRanker",
        "xgboost.sklearn.XGBRFClassifier",
        "xgboost.sklearn.XGBRFRegressor",
    }
)

# Names no configuration may trust: each one is a way to run code or reach the system.
_NEVER_MODULES = (
    "os",
    "posix",
    "nt",
    "subprocess",
    "sys",
    "shutil",
    "importlib",
    "pickle",
    "marshal",
    "runpy",
    "ctypes",
    "socket",
    "code",
    "pty",
    "builtins",
)
_NEVER_BUILTINS = frozenset(
    f"builtins.{name}"
    for name in (
        "eval",
        "exec",
        "compile",
        "__import__",
        "getattr",
        "setattr",
        "delattr",
        "open",
        "input",
        "breakpoint",
        "globals",
        "locals",
        "vars",
        "exit",
        "quit",
    )
)
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$")


def _never(name: str) -> bool:
    if name in _NEVER_BUILTINS:
        return True
    module = name.rsplit(".", 1)[0]
    return module != "builtins" and module.split(".")[0] in _NEVER_MODULES


def configured() -> frozenset[str]:
    """The exact type names an admin added (``[models] trusted_types`` and the env variable).

    Raises:
        ConfigError: an entry is not an exact dotted name, or names a way to run code.
    """
    raw = get_settings().section("models").get("trusted_types", [])
    if isinstance(raw, str) or not isinstance(raw, list):
        raise ConfigError(
            f"[models] trusted_types = {raw!r} is not a list; write "
            'trusted_types = ["myproject.models.Rule"].'
        )
    names = [*raw, *(n.strip() for n in os.environ.get(ENV, "").split(",") if n.strip())]
    for name in names:
        if not isinstance(name, str) or not _NAME.match(name):
            raise ConfigError(
                f"trusted model type {name!r} (in [models] trusted_types or {ENV}) is not an "
                "exact dotted name; give module.Class, e.g. 'myproject.models.Rule' "
                "(prefixes and wildcards are not accepted)."
            )
        if _never(name):
            raise ConfigError(
                f"trusted model type {name!r} (in [models] trusted_types or {ENV}) can run code "
                "or reach the system, and mloop never trusts it in a model file; remove it."
            )
    return frozenset(names)


def untrusted(found: Iterable[str]) -> list[str]:
    """The names in ``found`` that are neither reviewed nor configured, sorted."""
    allowed = REVIEWED | configured()
    return sorted({name for name in found if name not in allowed})


def refusal(model: str, names: list[str]) -> str:
    """The message refusing ``model`` because it holds ``names``: what, why, and the fix."""
    listed = ", ".join(names)
    quoted = ", ".join(f'"{n}"' for n in names)
    return (
        f"{model} holds types mloop does not trust: {listed}. Loading a type can run code, so "
        "only reviewed types load. If these are your project's own reviewed classes, an admin "
        f"can allow them in mloop.toml ([models] trusted_types = [{quoted}]) or in {ENV}; "
        "otherwise log the model as code (mloop.log_model('model.py', ...)), see "
        "docs/flavors.md."
    )


CODE_ENV = "MLOOP_MODELS_ALLOW_CODE"
EXACT_ENV = "MLOOP_MODELS_EXACT_VERSIONS"


def code_allowed() -> bool:
    """Whether this host loads models from code (``[models] allow_code``, default true).

    Raises:
        ConfigError: the value is not a boolean.
    """
    return _flag(CODE_ENV, "allow_code", True)


def exact_versions() -> bool:
    """Whether a model whose recorded package versions differ from the installed ones is
    refused (``[models] exact_versions``, default false: a warning).

    Raises:
        ConfigError: the value is not a boolean.
    """
    return _flag(EXACT_ENV, "exact_versions", False)


def _flag(env: str, key: str, default: bool) -> bool:
    raw: Any = os.environ.get(env, "")
    origin = env
    if raw == "":
        raw = get_settings().section("models").get(key, default)
        origin = f"[models] {key}"
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{origin} = {raw!r} is not a boolean; use true or false.")
