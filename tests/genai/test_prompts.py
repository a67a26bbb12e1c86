"""The prompt registry: immutable versions, aliases, references, rendering, gated promotion."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

import pytest

import mloop.genai as genai
from mloop.core.errors import Conflict, GateFailed, InvalidInput, NotFound
from mloop.core.principal import Principal, acting_as
from mloop.store import audit, get_store


def test_versions_are_numbered_and_identical_content_is_not_duplicated() -> None:
    v1 = genai.register_prompt("qa", "Answer: {{ question }}", params={"temperature": 0})
    v2 = genai.register_prompt("qa", "Answer briefly: {{ question }}")
    again = genai.register_prompt("qa", "Answer briefly: {{ question }}")
    assert (v1.version, v2.version, again.version) == (1, 2, 2)
    assert v1.params == {"temperature": 0} and v1.variables == ["question"]
    assert genai.load_prompt("qa/1").template == "Answer: {{ question }}"  # never rewritten
    assert [v.version for v in genai.list_prompt_versions("qa")] == [2, 1]


def test_references_resolve_aliases_numbers_and_latest(db_url: str) -> None:
    genai.register_prompt("qa", "one {{ x }}")
    genai.register_prompt("qa", "two {{ x }}")
    genai.set_prompt_alias("qa", "production", 1)
    assert genai.load_prompt("prompts:/qa@production").version == 1
    assert genai.load_prompt("prompts:/qa/2").version == 2
    assert genai.load_prompt("qa@production").aliases == ("production",)
    assert genai.load_prompt("qa").version == 2
    assert genai.load_prompt("qa", version=1).render(x="a") == "one a"
    assert genai.load_prompt("qa/1").uri == "prompts:/qa/1"


def test_unknown_prompt_version_and_alias_are_named() -> None:
    genai.register_prompt("support", "Hi {{ name }}")
    genai.set_prompt_alias("support", "production", 1)
    with pytest.raises(NotFound, match=r"'suport' is not registered\. Did you mean 'support'"):
        genai.load_prompt("prompts:/suport@production")
    with pytest.raises(NotFound, match="no version 7"):
        genai.load_prompt("support/7")
    with pytest.raises(NotFound, match=r"no alias 'prodution'.*Did you mean 'production'"):
        genai.load_prompt("support@prodution")
    with pytest.raises(InvalidInput, match="unknown scheme"):
        genai.load_prompt("models:/support/1")


def test_render_names_the_missing_variable_and_fills_chat_templates() -> None:
    chat = genai.register_prompt(
        "chat",
        [
            {"role": "system", "content": "You answer in {{ language }}."},
            {"role": "user", "content": "{{ question }}"},
        ],
        params={"model": "chat", "temperature": 0.2},
    )
    assert chat.is_chat and chat.variables == ["language", "question"]
    assert chat.render(language="French", question="Why?") == [
        {"role": "system", "content": "You answer in French."},
        {"role": "user", "content": "Why?"},
    ]
    with pytest.raises(
        InvalidInput, match=r"needs the variable\(s\) 'question'.*Did you mean 'qestion'"
    ):
        chat.render(language="French", qestion="Why?")


def test_bad_templates_and_names_are_refused_with_the_fix() -> None:
    with pytest.raises(InvalidInput, match="template is empty"):
        genai.register_prompt("p", "  ")
    with pytest.raises(InvalidInput, match=r"template\[0\].*is not a chat message"):
        genai.register_prompt("p", [{"role": "wizard", "content": "x"}])
    with pytest.raises(InvalidInput, match="prompt name 'a/b' is not valid"):
        genai.register_prompt("a/b", "x")
    genai.register_prompt("p", "x")
    with pytest.raises(InvalidInput, match="alias '3' is not valid"):
        genai.set_prompt_alias("p", "3", 1)


def test_alias_moves_are_audited_with_the_acting_principal() -> None:
    genai.register_prompt("qa", "a {{ x }}")
    genai.register_prompt("qa", "b {{ x }}")
    with acting_as(Principal("ada")):
        genai.set_prompt_alias("qa", "production", 1)
        genai.set_prompt_alias("qa", "production", 2, reason="better answers")
    entries = audit.entries(get_store(), object_kind="prompt", object_id="qa")
    moves = [e for e in entries if e.action == "prompt.alias.set"]
    assert [(e.actor, e.from_value, e.to_value) for e in moves] == [
        ("ada", "production=1", "production=2"),
        ("ada", None, "production=1"),
    ]
    assert moves[0].reason == "better answers"
    genai.delete_prompt_alias("qa", "production")
    with pytest.raises(NotFound):
        genai.load_prompt("qa@production")


@dataclass
class _Result:
    passed: bool
    failures: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"passed": self.passed, "failures": self.failures}


class _LengthGate:
    """Passes a candidate whose template is no longer than the incumbent's."""

    def __init__(self) -> None:
        self.seen: list[tuple[int, int | None]] = []

    def check(
        self, candidate: Any, incumbent: Any, *, data: Any = None, target: Any = None
    ) -> _Result:
        self.seen.append((candidate.version, None if incumbent is None else incumbent.version))
        if incumbent is not None and len(candidate.template) > len(incumbent.template):
            return _Result(False, [f"template grew to {len(candidate.template)} characters"])
        return _Result(True)


def test_gated_alias_moves_only_through_a_passing_gate_or_a_forced_reason(db_url: str) -> None:
    genai.register_prompt("qa", "short {{ x }}", gated_aliases=["production"])
    genai.register_prompt("qa", "a much longer template {{ x }}")
    with pytest.raises(Conflict, match="gated"):
        genai.set_prompt_alias("qa", "production", 1)
    gate = _LengthGate()
    assert genai.promote_prompt("qa", 1, gate=gate).aliases == ("production",)
    with pytest.raises(GateFailed, match="template grew to 30 characters"):
        genai.promote_prompt("qa", 2, gate=gate)
    assert gate.seen == [(1, None), (2, 1)]
    assert genai.load_prompt("qa@production").version == 1
    with pytest.raises(InvalidInput, match="needs a reason"):
        genai.promote_prompt("qa", 2, gate=gate, force=True)
    genai.promote_prompt("qa", 2, gate=gate, force=True, reason="reviewed by hand")
    assert genai.load_prompt("qa@production").version == 2
    actions = [e.action for e in audit.entries(get_store(), object_kind="prompt")]
    assert actions[:3] == ["prompt.promote.forced", "prompt.promote.refused", "prompt.promote"]


def test_concurrent_registrations_get_distinct_versions(db_url: str) -> None:
    genai.register_prompt("busy", "v0 {{ x }}")
    errors: list[BaseException] = []

    def register(i: int) -> None:
        try:
            genai.register_prompt("busy", f"v{i + 1} {{{{ x }}}}")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=register, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    versions = genai.list_prompt_versions("busy")
    assert sorted(v.version for v in versions) == list(range(1, 8))
    assert len({v.template for v in versions}) == 7


def test_list_prompts_shows_latest_version_and_aliases(db_url: str) -> None:
    genai.register_prompt("a", "x")
    genai.register_prompt("a", "y")
    genai.set_prompt_alias("a", "staging", 2)
    genai.register_prompt("b", "z", gated_aliases=["production"])
    info = {p.name: p for p in genai.list_prompts()}
    assert info["a"].latest_version == 2 and info["a"].aliases == {"staging": 2}
    assert info["b"].gated_aliases == ["production"]
