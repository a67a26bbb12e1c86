"""Configuration: ``MLOOP_*`` environment variables over ``mloop.toml`` over defaults.

Every setting has one name. In ``mloop.toml`` it is a key of the ``[mloop]`` table; in
the environment it is ``MLOOP_`` + the upper-cased key. Relative paths are resolved
against the project root (the folder holding ``mloop.toml``, else the working folder).

    [mloop]
    db_url = "postgresql+psycopg://postgres@127.0.0.1/test"
    artifacts_uri = "s3://bucket/mloop"

Other sections of ``mloop.toml`` (``[params]``, ``[pipelines]``...) belong to the parts that
read them, through :meth:`Settings.section`.
"""

from __future__ import annotations

import getpass
import os
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from mloop.core.errors import ConfigError, did_you_mean

PROJECT_FILE = "mloop.toml"


@dataclass(frozen=True)
class Setting:
    """One documented setting: its key, type, default and meaning."""

    key: str
    kind: type
    help: str
    default: Any = None

    @property
    def env(self) -> str:
        return "MLOOP_" + self.key.upper()


# The single table of settings. docs/configuration.md lists each one by hand (its key,
# variable, default and meaning); tests/docs/test_docs.py fails when one is missing.
SETTINGS: tuple[Setting, ...] = (
    Setting("home", str, "Folder for the embedded stores.", ".mloop"),
    Setting("db_url", str, "Metadata database URL (SQLAlchemy).", "sqlite:///{home}/mloop.db"),
    Setting("artifacts_uri", str, "Artifact root: a folder or any fsspec URL.", "{home}/artifacts"),
    Setting(
        "online_url",
        str,
        "Online feature store URL (sqlite:/// or redis://).",
        "sqlite:///{home}/online.db",
    ),
    Setting(
        "ray_address",
        str,
        "Ray cluster address; empty starts a local Ray when the Ray runner is used.",
        "",
    ),
    Setting("runner", str, "Default pipeline runner: sequential, parallel or ray.", "sequential"),
    Setting("experiment", str, "Experiment used when none is set.", "Default"),
    Setting("user", str, "Name recorded as the actor of runs and audit entries.", ""),
    Setting("flush_interval", float, "Seconds between write-behind flushes of tracking data.", 0.5),
    Setting("heartbeat_interval", float, "Seconds between heartbeats of a running run.", 10.0),
    Setting(
        "heartbeat_timeout",
        float,
        "Seconds without heartbeat after which a RUNNING run is marked FAILED.",
        120.0,
    ),
    Setting(
        "busy_timeout", float, "Seconds a SQLite writer waits for the lock before retrying.", 30.0
    ),
    Setting("log_level", str, "Logging level of the mloop logger.", "WARNING"),
    Setting(
        "tracking_uri",
        str,
        "URL of an mloop server (http://host:port); empty: use the local stores directly.",
        "",
    ),
    Setting("token", str, "API token sent to the mloop server (MLOOP_TOKEN).", ""),
    Setting("workspace", str, "Workspace the remote client works in.", "default"),
    Setting(
        "protected_aliases",
        str,
        "Comma-separated model aliases only admins (or a gate) may move on the server.",
        "champion",
    ),
)
_BY_KEY = {s.key: s for s in SETTINGS}
_ENV_NAMES = tuple(s.env for s in SETTINGS)


@dataclass(frozen=True)
class Settings:
    """Resolved configuration. Build it with :func:`get_settings`."""

    root: Path
    home: Path
    db_url: str
    artifacts_uri: str
    online_url: str
    ray_address: str
    runner: str
    experiment: str
    user: str
    flush_interval: float
    heartbeat_interval: float
    heartbeat_timeout: float
    busy_timeout: float
    log_level: str
    tracking_uri: str = ""
    token: str = field(default="", repr=False)  # a secret: never in a repr or a log
    workspace: str = "default"
    protected_aliases: str = "champion"
    sections: Mapping[str, Any] = field(default_factory=dict, compare=False, hash=False)

    def section(self, name: str) -> dict[str, Any]:
        """A table of ``mloop.toml`` other than ``[mloop]`` (empty when absent)."""
        value = self.sections.get(name, {})
        return dict(value) if isinstance(value, Mapping) else {}


def find_project_root(start: Path | None = None) -> Path | None:
    """The nearest folder at or above ``start`` holding ``mloop.toml``."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / PROJECT_FILE).is_file():
            return folder
    return None


def _read_project_file(root: Path) -> dict[str, Any]:
    path = root / PROJECT_FILE
    try:
        with open(path, "rb") as stream:
            return tomllib.load(stream)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            f"{path} is not valid TOML: {exc}. Fix the syntax at that line."
        ) from None


def _convert(setting: Setting, raw: Any, origin: str) -> Any:
    if setting.kind is float:
        try:
            value = float(raw)
        except (TypeError, ValueError):
            raise ConfigError(
                f"{origin} = {raw!r} is not a number; {setting.key} takes seconds, e.g. 0.5."
            ) from None
        if value < 0:
            raise ConfigError(f"{origin} = {raw!r} must not be negative.")
        return value
    return str(raw)


def _resolve_path(value: str, root: Path) -> str:
    """Resolve a relative local path against ``root``; URLs and absolute paths pass."""
    if "://" in value:
        return value
    path = Path(value).expanduser()
    return str(path if path.is_absolute() else (root / path).resolve())


def _resolve_url(value: str, root: Path) -> str:
    """Make a relative ``sqlite:///`` path absolute against ``root``."""
    prefix = "sqlite:///"
    if (
        value.startswith(prefix)
        and not value.startswith(prefix + "/")
        and value != prefix + ":memory:"
    ):
        return prefix + str((root / value[len(prefix) :]).resolve())
    return value


def load_settings(env: Mapping[str, str] | None = None, cwd: Path | None = None) -> Settings:
    """Resolve the settings from ``env`` (default ``os.environ``) and the project file."""
    env = os.environ if env is None else env
    found = find_project_root(cwd)
    root = found or (cwd or Path.cwd()).resolve()
    document = _read_project_file(found) if found else {}
    table = document.get("mloop", {})
    unknown = [key for key in table if key not in _BY_KEY]
    if unknown:
        raise ConfigError(
            f"{root / PROJECT_FILE}: unknown key '{unknown[0]}' in [mloop]."
            + did_you_mean(unknown[0], _BY_KEY)
            + f" Known keys: {', '.join(_BY_KEY)}."
        )
    values: dict[str, Any] = {}
    for setting in SETTINGS:
        if setting.env in env and env[setting.env] != "":
            values[setting.key] = _convert(setting, env[setting.env], setting.env)
        elif setting.key in table:
            values[setting.key] = _convert(setting, table[setting.key], f"[mloop] {setting.key}")
        else:
            values[setting.key] = setting.default
    home = Path(_resolve_path(str(values["home"]), root))
    for key in ("db_url", "artifacts_uri", "online_url"):
        values[key] = str(values[key]).replace("{home}", home.as_posix())
    values["home"] = home
    values["artifacts_uri"] = _resolve_path(values["artifacts_uri"], root)
    values["db_url"] = _resolve_url(values["db_url"], root)
    values["online_url"] = _resolve_url(values["online_url"], root)
    if not values["user"]:
        values["user"] = _current_user()
    if values["runner"] not in ("sequential", "parallel", "ray"):
        raise ConfigError(
            f"runner = {values['runner']!r} is not a runner; use sequential, parallel or ray."
        )
    sections = {k: v for k, v in document.items() if k != "mloop"}
    names = {f.name for f in fields(Settings)}
    return Settings(root=root, sections=sections, **{k: v for k, v in values.items() if k in names})


def _current_user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no passwd entry in some containers
        return "unknown"


_cache: dict[tuple[str, ...], Settings] = {}


_roots: dict[str, Path | None] = {}


def _cache_key() -> tuple[str, ...]:
    cwd = os.getcwd()
    if cwd not in _roots:
        _roots[cwd] = find_project_root(Path(cwd))
    root = _roots[cwd]
    try:  # an edited (or newly created) mloop.toml gives fresh settings
        stamp = str(os.stat(os.path.join(root or cwd, PROJECT_FILE)).st_mtime_ns)
    except OSError:
        stamp = ""
        if root is not None:  # the project file went away: look again next time
            _roots.pop(cwd, None)
    environ = os.environ
    return (cwd, stamp, *[environ.get(name, "") for name in _ENV_NAMES])


def get_settings() -> Settings:
    """The settings for the current environment, working folder and project file (cached).

    Changing an ``MLOOP_*`` variable, the working folder or ``mloop.toml`` gives fresh settings.
    """
    key = _cache_key()
    settings = _cache.get(key)
    if settings is None:
        settings = load_settings()
        _cache.clear()
        _cache[key] = settings
        for hook in _reset_hooks:
            hook()
    return settings


_reset_hooks: list[Callable[[], None]] = []


def on_settings_change(hook: Callable[[], None]) -> None:
    """Call ``hook`` whenever :func:`get_settings` resolves a different configuration."""
    _reset_hooks.append(hook)
