"""PII with Presidio's pattern recognizers: found, redacted, and nothing fetched from the network."""

from __future__ import annotations

import importlib.util
import socket

import pytest

from mloop.core.errors import ConfigError
from mloop.genai import pii


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("write to jane.doe@example.com please", "write to <EMAIL_ADDRESS> please"),
        ("card 4111 1111 1111 1111 expires soon", "card <CREDIT_CARD> expires soon"),
        ("my IBAN is GB82 WEST 1234 5698 7654 32", "my IBAN is <IBAN_CODE>"),
        ("the server is at 10.20.30.40", "the server is at <IP_ADDRESS>"),
        ("call me on +1 415-555-0132", "call me on <PHONE_NUMBER>"),
    ],
)
def test_pattern_recognizers_redact_each_kind(text: str, expected: str) -> None:
    assert pii.redact(text)[0] == expected


def test_overlapping_findings_are_merged_into_the_longest() -> None:
    # the URL recognizer also matches the e-mail's domain: one redaction, not two
    text, findings = pii.redact("contact jane.doe@example.com")
    assert text == "contact <EMAIL_ADDRESS>"
    assert [f.entity for f in findings] == ["EMAIL_ADDRESS"]


def test_ordinary_text_is_left_alone() -> None:
    text = "In 2023 the team shipped version 2.4 of the model to 3 regions."
    assert pii.redact(text) == (text, [])


def test_the_analyzer_builds_without_any_network_or_model_download(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"network access attempted: {args}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    pii._build_analyzer.cache_clear()
    try:
        assert pii.redact("mail ops@example.org now")[0] == "mail <EMAIL_ADDRESS> now"
    finally:
        pii._build_analyzer.cache_clear()


def test_names_without_the_model_are_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None)
    pii._build_analyzer.cache_clear()
    try:
        with pytest.raises(ConfigError, match=r"pip install 'mloop\[genai-ner\]'"):
            pii.redact("Ada Lovelace lives in London", ner=True)
    finally:
        pii._build_analyzer.cache_clear()


@pytest.mark.skipif(pii._ner_model_path() is None, reason="needs the genai-ner extra")
def test_names_and_places_with_the_spacy_small_model() -> None:
    text, findings = pii.redact(
        "Ada Lovelace met Charles Babbage in London.", pii.NER_ENTITIES, ner=True
    )
    assert text == "<PERSON> met <PERSON> in <LOCATION>."
    assert {f.entity for f in findings} == {"PERSON", "LOCATION"}
