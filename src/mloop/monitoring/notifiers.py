"""Where alert notifications go: the log, a file (JSON lines) or an HTTP webhook.

A notifier is any callable taking the notification (a dict) and returning a short outcome
(``"sent"``). A notifier that fails never stops monitoring: the failure is recorded in the
alert's history instead.

>>> monitor = Monitor("delays", alerts=[rule], notifiers=[LogNotifier(), WebhookNotifier(url)])
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mloop.core.errors import InvalidInput
from mloop.core.log import get_logger

__all__ = ["FileNotifier", "LogNotifier", "WebhookNotifier", "notify"]


@dataclass
class LogNotifier:
    """Write the alert to the ``mloop.monitoring.alerts`` logger."""

    level: str = "WARNING"
    name: str = "log"

    def __call__(self, notification: dict[str, Any]) -> str:
        import logging

        level = logging.getLevelName(self.level.upper())
        if not isinstance(level, int):
            raise InvalidInput(f"LogNotifier level {self.level!r} is not a logging level.")
        get_logger("mloop.monitoring.alerts").log(level, "%s", notification["message"])
        return "sent"


@dataclass
class FileNotifier:
    """Append the alert as one JSON line to ``path``."""

    path: str | Path
    name: str = "file"

    def __call__(self, notification: dict[str, Any]) -> str:
        target = Path(self.path)
        target.parent.mkdir(parents=True, exist_ok=True)
        with target.open("a", encoding="utf-8") as out:
            out.write(json.dumps(notification, default=str) + "\n")
        return "sent"


@dataclass
class WebhookNotifier:
    """POST the alert as JSON to ``url`` (Slack-style ``{"text": ...}`` included)."""

    url: str
    headers: dict[str, str] = field(default_factory=dict)
    timeout: float = 5.0
    name: str = "webhook"

    def __post_init__(self) -> None:
        if not isinstance(self.url, str) or not self.url.startswith(("http://", "https://")):
            raise InvalidInput(
                f"webhook url {self.url!r} is not an http(s) URL; e.g. https://hooks.example.com/x."
            )

    def __call__(self, notification: dict[str, Any]) -> str:
        import httpx

        body = {"text": notification["message"], **notification}
        response = httpx.post(
            self.url,
            content=json.dumps(body, default=str),
            headers={"content-type": "application/json", **self.headers},
            timeout=self.timeout,
        )
        response.raise_for_status()
        return f"sent ({response.status_code})"


def notify(notifiers: list[Any], notification: dict[str, Any]) -> dict[str, str]:
    """Send to every notifier; the outcome of each by name (errors are outcomes, not raised)."""
    outcomes: dict[str, str] = {}
    for i, notifier in enumerate(notifiers):
        name = str(getattr(notifier, "name", None) or getattr(notifier, "__name__", f"notifier{i}"))
        if name in outcomes:
            name = f"{name}{i}"
        try:
            outcomes[name] = str(notifier(notification) or "sent")
        except Exception as exc:  # a broken channel must not stop monitoring
            outcomes[name] = f"error: {type(exc).__name__}: {exc}"

            get_logger("mloop.monitoring.alerts").error(
                "notifier %s failed for alert %s: %s", name, notification.get("rule"), exc
            )
    return outcomes
