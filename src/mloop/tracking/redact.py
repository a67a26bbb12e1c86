"""Mask secrets in a command line before a run records it (``mloop.source.command``).

Masked: the value of an option whose name says it holds a secret (``--api-key X``,
``--password=X``, ``DB_TOKEN=X``), the password of a URL with credentials
(``postgresql://u:***@h/db``) and values shaped like well-known tokens (``sk-…``,
``ghp_…``, AWS access key ids, JWTs), wherever they appear.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

MASK = "***"

# words of an option or variable name that mean its value is a secret
_SECRET_WORDS = {
    "key",
    "apikey",
    "token",
    "secret",
    "password",
    "passwd",
    "pwd",
    "pass",
    "passphrase",
    "credential",
    "credentials",
    "auth",
    "authorization",
    "private",
    "dsn",
}
_NAME = re.compile(r"^(?P<dashes>--?)?(?P<name>[A-Za-z][\w.\-]*)(?P<eq>=)?")
_URL_PASSWORD = re.compile(r"(?P<head>[A-Za-z][\w+.\-]*://[^/\s:@]*:)(?P<password>[^/\s@]+)(?=@)")
_TOKEN = re.compile(
    r"\b(?:sk|pk|rk)[-_](?:live|test|proj|ant)?[-_]?[A-Za-z0-9_\-]{8,}"  # Stripe, OpenAI, Anthropic
    r"|\bgh[pousr]_[A-Za-z0-9]{20,}"  # GitHub
    r"|\bxox[abposr]-[A-Za-z0-9\-]{10,}"  # Slack
    r"|\bAKIA[0-9A-Z]{16}\b"  # AWS access key id
    r"|\beyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]+"  # JWT
)


def _secret_name(name: str) -> bool:
    words = {word.lower() for word in re.split(r"[-_.]+", name) if word}
    return bool(words & _SECRET_WORDS) or name.lower().replace("-", "").replace("_", "") in {
        "apikey",
        "accesskey",
        "secretkey",
    }


def _mask_inline(text: str) -> str:
    """Passwords of URLs and token-shaped values inside one argument."""
    text = _URL_PASSWORD.sub(lambda m: m.group("head") + MASK, text)
    return _TOKEN.sub(MASK, text)


def mask_argv(argv: Sequence[str]) -> list[str]:
    """``argv`` with every secret value replaced by ``***`` (the names stay readable)."""
    masked: list[str] = []
    hide_next = False
    for arg in argv:
        if hide_next and not arg.startswith("-"):
            masked.append(MASK)
            hide_next = False
            continue
        hide_next = False
        match = _NAME.match(arg)
        if match is not None and _secret_name(match.group("name")):
            if match.group("eq"):  # --password=x, API_TOKEN=x
                masked.append(arg[: match.end()] + MASK)
                continue
            if match.group("dashes") and match.end() == len(arg):  # --api-key VALUE
                hide_next = True
        masked.append(_mask_inline(arg))
    return masked


def mask_command(argv: Sequence[str]) -> str:
    """The command line of ``argv`` as one string, secrets masked."""
    return " ".join(mask_argv(argv))
