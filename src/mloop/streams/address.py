"""Stream addresses: one URL names a broker, a queue/subject/topic/stream and its options.

>>> parse_url("amqp://guest:guest@127.0.0.1:5672/%2f?queue=flights").name
'flights'
>>> parse_url("redis://127.0.0.1:6379/0?stream=flights&group=mloop").group
'mloop'

The same URL is accepted by the CLI (``--source``/``--sink``) and by Python.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import parse_qsl, unquote, urlsplit, urlunsplit

from mloop.core.errors import InvalidInput, did_you_mean

# scheme -> (the parameter naming the destination, the other parameters it accepts)
_SCHEMES: dict[str, tuple[str, frozenset[str]]] = {
    "amqp": ("queue", frozenset({"prefetch"})),
    "amqps": ("queue", frozenset({"prefetch"})),
    "nats": ("subject", frozenset({"stream", "group", "credit", "ack_wait"})),
    "mqtt": ("topic", frozenset({"qos", "group", "client_id"})),
    "redis": ("stream", frozenset({"group", "consumer", "claim_idle_ms", "dedup_ttl"})),
}
_EXAMPLES = {
    "amqp": "amqp://guest:guest@127.0.0.1:5672/%2f?queue=flights",
    "nats": "nats://127.0.0.1:4222?subject=flights&stream=FLIGHTS",
    "mqtt": "mqtt://127.0.0.1:1883?topic=flights&qos=1",
    "redis": "redis://127.0.0.1:6379/0?stream=flights&group=mloop",
}


@dataclass(frozen=True)
class Address:
    """A parsed stream URL: the broker (``server``), the destination ``name`` and options."""

    url: str
    scheme: str
    host: str
    port: int | None
    path: str
    name: str
    params: dict[str, str] = field(default_factory=dict)
    username: str | None = None
    password: str | None = None

    @property
    def server(self) -> str:
        """The URL of the broker alone (no query), as its client library takes it."""
        parts = urlsplit(self.url)
        return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))

    @property
    def group(self) -> str:
        """The consumer group that processes sharing this source join (default ``mloop``)."""
        return self.params.get("group", "mloop")

    @property
    def safe(self) -> str:
        """The URL without its password, for logs, metrics and dead letters."""
        parts = urlsplit(self.url)
        netloc = parts.netloc.rpartition("@")[2]
        if parts.username:
            netloc = f"{parts.username}@{netloc}"
        return urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))

    def integer(self, name: str, default: int, low: int = 0) -> int:
        """An integer option, checked (``?prefetch=512``)."""
        raw = self.params.get(name)
        if raw is None:
            return default
        try:
            value = int(raw)
        except ValueError:
            value = low - 1
        if value < low:
            raise InvalidInput(
                f"stream URL {self.safe!r}: {name}={raw!r} must be an integer of at least {low}."
            )
        return value

    def with_name(self, name: str, **options: str) -> Address:
        """The same broker and options with another destination (e.g. the dead letters)."""
        key = _SCHEMES[_base(self.scheme)][0]
        params = {**self.params, key: name, **options}
        query = "&".join(f"{k}={v}" for k, v in params.items())
        parts = urlsplit(self.url)
        return parse_url(urlunsplit((parts.scheme, parts.netloc, parts.path, query, "")))


def _base(scheme: str) -> str:
    return "amqp" if scheme == "amqps" else scheme


def parse_url(url: str) -> Address:
    """Parse and check a stream URL (see the module examples for each broker).

    Raises:
        InvalidInput: unknown scheme, missing destination, unknown or repeated option.
    """
    if not isinstance(url, str) or "://" not in url:
        raise InvalidInput(
            f"stream URL {url!r} is not a URL; give one such as {_EXAMPLES['amqp']!r}."
        )
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in _SCHEMES:
        raise InvalidInput(
            f"stream URL {url!r}: scheme {scheme!r} is not supported"
            + did_you_mean(scheme, _SCHEMES)
            + f" Use one of: {', '.join(sorted(_SCHEMES))}."
        )
    key, others = _SCHEMES[scheme]
    example = _EXAMPLES[_base(scheme)]
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    params: dict[str, str] = {}
    for name, value in pairs:
        if name in params:
            raise InvalidInput(f"stream URL {url!r}: option {name!r} is given twice.")
        if name != key and name not in others:
            raise InvalidInput(
                f"stream URL {url!r}: unknown option {name!r}"
                + did_you_mean(name, [key, *others])
                + f" Options of {scheme}://: {', '.join([key, *sorted(others)])}."
            )
        params[name] = value
    name = params.get(key, "")
    if not name:
        raise InvalidInput(
            f"stream URL {url!r} names no {key}; add ?{key}=<name>, e.g. {example!r}."
        )
    try:
        port = parts.port
    except ValueError:
        raise InvalidInput(f"stream URL {url!r}: the port is not a number.") from None
    if not parts.hostname:
        raise InvalidInput(f"stream URL {url!r} names no host; e.g. {example!r}.")
    return Address(
        url=url,
        scheme=scheme,
        host=parts.hostname,
        port=port,
        path=unquote(parts.path.lstrip("/")),
        name=name,
        params=params,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
    )


def dead_letter_url(source: str) -> str:
    """The default dead-letter destination of a source: ``<name>.dead`` on the same broker.

    >>> dead_letter_url("amqp://guest:guest@127.0.0.1:5672/%2f?queue=flights")
    'amqp://guest:guest@127.0.0.1:5672/%2f?queue=flights.dead'
    """
    address = parse_url(source)
    options = {}
    if _base(address.scheme) == "nats" and "stream" in address.params:
        options["stream"] = f"{address.params['stream']}_DEAD"  # a stream of its own subject
    return address.with_name(f"{address.name}.dead", **options).url
