r"""The run filter language, parsed into a small syntax tree (never into SQL text).

    metrics.acc > 0.8 and params.model = 'rf' and tags.team = 'ops'
    attributes.status = 'FINISHED' and (metrics.`val loss` < 0.2 or tags.kind IN ('a', 'b'))

Comparisons: ``= != < <= > >= LIKE ILIKE IN NOT IN IS NULL IS NOT NULL``; ``and`` / ``or``
with parentheses. Keys with spaces or symbols go in backticks or double quotes, and so may
the prefix (``\`metrics\`.acc``). As in MLflow, an attribute needs no prefix
(``run_name = 'x'``), ``datasets.name|digest|context`` filter on the inputs logged with
``log_input``, and params, tags and text attributes compare with quoted strings only. A
syntax error names the position and the token.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from mloop.core.errors import InvalidInput
from mloop.tracking.system_tags import canonical

ENTITIES = {
    "metric": "metrics",
    "metrics": "metrics",
    "param": "params",
    "params": "params",
    "parameter": "params",
    "parameters": "params",
    "tag": "tags",
    "tags": "tags",
    "attribute": "attributes",
    "attributes": "attributes",
    "attr": "attributes",
    "run": "attributes",
    "dataset": "datasets",
    "datasets": "datasets",
}
ATTRIBUTES = {
    "status": "status",
    "run_name": "run_name",
    "run name": "run_name",  # MLflow's column title: `Run name`
    "run_id": "run_id",
    "start_time": "start_time",
    "created": "start_time",
    "end_time": "end_time",
    "user_id": "user_id",
    "user": "user_id",
    "artifact_uri": "artifact_uri",
    "experiment_id": "experiment_id",
}
NUMERIC_ATTRIBUTES = {"start_time", "end_time", "experiment_id"}
DATASET_KEYS = ("name", "digest", "context")
DATASET_OPERATORS = ("=", "!=", "LIKE", "ILIKE", "IN", "NOT IN")
COMPARISONS = ("=", "!=", "<", "<=", ">", ">=")

Value = float | str | tuple[float | str | None, ...] | None


@dataclass(frozen=True)
class Comparison:
    entity: str  # metrics | params | tags | attributes
    key: str
    op: str  # one of COMPARISONS, LIKE, ILIKE, IN, NOT IN, IS NULL, IS NOT NULL
    value: Value


@dataclass(frozen=True)
class And:
    parts: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    parts: tuple[Node, ...]


Node = Comparison | And | Or

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<ident>(?:[A-Za-z_]\w*|`[A-Za-z_]\w*`)\.(?:`[^`]*`|"[^"]*"|[\w.\-/:]+))
  | (?P<string>'(?:[^'\\]|\\.|'')*'|"(?:[^"\\]|\\.)*")
  | (?P<number>[-+]?(?:\d+\.?\d*(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?|inf(?:inity)?|nan)(?![\w.]))
  | (?P<op><=|>=|!=|<>|==|=|<|>)
  | (?P<lparen>\()
  | (?P<rparen>\))
  | (?P<comma>,)
  | (?P<word>[A-Za-z_]\w*)
    """,
    re.VERBOSE | re.IGNORECASE,
)
_KEYWORDS = {"and", "or", "not", "in", "like", "ilike", "is", "null"}


@dataclass(frozen=True)
class _Tok:
    kind: str
    text: str
    pos: int


def _tokens(source: str) -> list[_Tok]:
    tokens = []
    pos = 0
    while pos < len(source):
        match = _TOKEN.match(source, pos)
        if match is None:
            raise _error(
                source, pos, source[pos], "a key such as metrics.acc, a value, or an operator"
            )
        kind = match.lastgroup or ""
        text = match.group()
        if kind == "word" and text.lower() in ATTRIBUTES:  # an attribute without its prefix
            kind, text = "ident", f"attributes.{text}"
        elif kind == "word":
            if text.lower() not in _KEYWORDS:
                raise _error(
                    source,
                    pos,
                    text,
                    "a key with its prefix (metrics., params., tags. or attributes.) or a keyword",
                )
            kind = text.lower()
        if kind != "ws":
            tokens.append(_Tok(kind, text, pos))
        pos = match.end()
    tokens.append(_Tok("end", "", len(source)))
    return tokens


def _error(source: str, pos: int, token: str, expected: str) -> InvalidInput:
    shown = token if token else "end of filter"
    return InvalidInput(
        f"filter_string: unexpected {shown!r} at position {pos}; expected {expected}.\n"
        f"  {source}\n  {' ' * pos}^"
    )


class _Parser:
    def __init__(self, source: str) -> None:
        self.source = source
        self.tokens = _tokens(source)
        self.index = 0

    @property
    def tok(self) -> _Tok:
        return self.tokens[self.index]

    def take(self, kind: str, expected: str) -> _Tok:
        tok = self.tok
        if tok.kind != kind:
            raise _error(self.source, tok.pos, tok.text, expected)
        self.index += 1
        return tok

    def parse(self) -> Node:
        node = self.disjunction()
        if self.tok.kind != "end":
            raise _error(
                self.source, self.tok.pos, self.tok.text, "'and', 'or' or the end of the filter"
            )
        return node

    def disjunction(self) -> Node:
        parts = [self.conjunction()]
        while self.tok.kind == "or":
            self.index += 1
            parts.append(self.conjunction())
        return parts[0] if len(parts) == 1 else Or(tuple(parts))

    def conjunction(self) -> Node:
        parts = [self.factor()]
        while self.tok.kind == "and":
            self.index += 1
            parts.append(self.factor())
        return parts[0] if len(parts) == 1 else And(tuple(parts))

    def factor(self) -> Node:
        if self.tok.kind == "lparen":
            self.index += 1
            node = self.disjunction()
            self.take("rparen", "')'")
            return node
        return self.comparison()

    def comparison(self) -> Comparison:
        ident = self.take("ident", "a key such as metrics.acc, params.model or attributes.status")
        entity, key = _split_ident(self.source, ident)
        tok = self.tok
        if tok.kind == "op":
            self.index += 1
            op = {"==": "=", "<>": "!="}.get(tok.text, tok.text)
            return _checked(self.source, ident, Comparison(entity, key, op, self.value()))
        if tok.kind in ("like", "ilike"):
            self.index += 1
            return _checked(
                self.source, ident, Comparison(entity, key, tok.kind.upper(), self.value())
            )
        if tok.kind == "not":
            self.index += 1
            self.take("in", "IN after NOT")
            return _checked(self.source, ident, Comparison(entity, key, "NOT IN", self.values()))
        if tok.kind == "in":
            self.index += 1
            return _checked(self.source, ident, Comparison(entity, key, "IN", self.values()))
        if tok.kind == "is":
            self.index += 1
            negate = self.tok.kind == "not"
            if negate:
                self.index += 1
            self.take("null", "NULL after IS")
            return Comparison(entity, key, "IS NOT NULL" if negate else "IS NULL", None)
        raise _error(
            self.source,
            tok.pos,
            tok.text,
            "a comparison operator (=, !=, <, <=, >, >=, LIKE, ILIKE, IN, NOT IN, IS NULL)",
        )

    def value(self) -> float | str:
        tok = self.tok
        if tok.kind == "number":
            self.index += 1
            return float(tok.text)
        if tok.kind == "string":
            self.index += 1
            return _unquote(tok.text)
        raise _error(self.source, tok.pos, tok.text, "a number or a quoted string")

    def values(self) -> tuple[float | str, ...]:
        self.take("lparen", "'(' starting the list of values")
        items = [self.value()]
        while self.tok.kind == "comma":
            self.index += 1
            items.append(self.value())
        self.take("rparen", "')' closing the list of values")
        return tuple(items)


def _unquote(text: str) -> str:
    quote = text[0]
    body = text[1:-1]
    if quote == "'":
        body = body.replace("''", "'")
    return re.sub(r"\\(.)", r"\1", body)


def _split_ident(source: str, tok: _Tok) -> tuple[str, str]:
    prefix, _, key = tok.text.partition(".")
    entity = ENTITIES.get(prefix.strip("`").lower())
    if entity is None:
        raise _error(
            source,
            tok.pos,
            prefix,
            "metrics., params., tags., attributes. or datasets. before the key",
        )
    if key[:1] in '`"':
        key = key[1:-1]
    if entity == "datasets":
        if key.lower() not in DATASET_KEYS:
            raise _error(
                source, tok.pos + len(prefix) + 1, key, "a dataset key: name, digest or context"
            )
        key = key.lower()
    if entity == "tags":
        key = canonical(key)
    if entity == "attributes":
        attribute = ATTRIBUTES.get(key.lower())
        if attribute is None:
            raise _error(
                source,
                tok.pos + len(prefix) + 1,
                key,
                "an attribute: " + ", ".join(sorted(ATTRIBUTES)),
            )
        key = attribute
    if not key:
        raise _error(source, tok.pos, tok.text, "a non-empty key")
    return entity, key


def _checked(source: str, tok: _Tok, comparison: Comparison) -> Comparison:
    numeric = comparison.entity == "metrics" or (
        comparison.key in NUMERIC_ATTRIBUTES and comparison.entity == "attributes"
    )
    values = comparison.value if isinstance(comparison.value, tuple) else (comparison.value,)
    if comparison.entity == "datasets" and comparison.op not in DATASET_OPERATORS:
        raise _error(
            source, tok.pos, tok.text, "=, !=, LIKE, ILIKE, IN or NOT IN on a dataset's " + tok.text
        )
    if numeric:
        if comparison.op in ("LIKE", "ILIKE"):
            raise _error(
                source,
                tok.pos,
                tok.text,
                f"a numeric comparison; {tok.text} is a number, LIKE needs text",
            )
        if any(isinstance(v, str) for v in values):
            raise _error(
                source,
                tok.pos,
                tok.text,
                f"a number to compare {tok.text} with, not a quoted string",
            )
        return comparison
    if comparison.op in ("<", "<=", ">", ">="):
        raise _error(
            source,
            tok.pos,
            tok.text,
            f"=, !=, LIKE, ILIKE or IN: {comparison.entity} are text and have no order",
        )
    number = next((v for v in values if isinstance(v, float)), None)
    if number is not None:  # MLflow refuses these too: '8' and '8.0' are different params
        quoted = f"'{_as_text(number)}'"
        if comparison.op in ("IN", "NOT IN"):
            quoted = f"({quoted}, ...)"
        raise _error(
            source,
            tok.pos,
            tok.text,
            f"a quoted string to compare {tok.text} with ({comparison.entity} are text): "
            f"write {tok.text} {comparison.op} {quoted}",
        )
    return comparison


def _as_text(value: float | str | None) -> str | None:
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return value


def parse(filter_string: str | None) -> Node | None:
    """The syntax tree of ``filter_string`` (None for an empty filter)."""
    if filter_string is None or not filter_string.strip():
        return None
    return _Parser(filter_string).parse()


@dataclass(frozen=True)
class OrderBy:
    entity: str
    key: str
    ascending: bool


def parse_order_by(clauses: list[str] | None) -> list[OrderBy]:
    """``["metrics.acc DESC", "attributes.start_time"]`` as order terms."""
    terms = []
    for clause in clauses or []:
        parts = clause.strip().rsplit(None, 1)
        direction = "ASC"
        if len(parts) == 2 and parts[1].upper() in ("ASC", "DESC"):
            clause, direction = parts[0], parts[1].upper()
        try:
            tokens = _tokens(clause.strip())
        except InvalidInput:
            tokens = []
        if len(tokens) != 2 or tokens[0].kind != "ident":
            raise InvalidInput(
                f"order_by {clause!r}: expected a key and an optional direction, "
                "e.g. 'metrics.acc DESC' or 'attributes.start_time ASC'."
            )
        entity, key = _split_ident(clause, tokens[0])
        terms.append(OrderBy(entity, key, direction == "ASC"))
    return terms
