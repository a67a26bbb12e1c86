"""What the prompt registry returns: immutable prompt versions and a prompt's summary."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mloop.genai.prompts import template as _template
from mloop.genai.tracing.context import note_prompt

__all__ = ["PromptInfo", "PromptVersion"]


@dataclass(frozen=True)
class PromptVersion:
    """One immutable version of a prompt.

    >>> qa = PromptVersion("qa", 1, "Answer briefly: {{ question }}", ["question"])
    >>> qa.render(question="why is the sky blue?")
    'Answer briefly: why is the sky blue?'
    """

    name: str
    version: int
    template: _template.Template
    variables: list[str]
    params: dict[str, Any] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    description: str = ""
    digest: str = ""
    created_by: str = ""
    created_at: int = 0
    aliases: tuple[str, ...] = ()

    @property
    def uri(self) -> str:
        """``prompts:/name/version``: what a trace or an evaluation records as lineage."""
        return f"prompts:/{self.name}/{self.version}"

    @property
    def is_chat(self) -> bool:
        """True when the template is a list of chat messages rather than one text."""
        return not isinstance(self.template, str)

    def render(self, **variables: Any) -> _template.Template:
        """The template with every ``{{ variable }}`` filled in.

        Returns a string for a text template and a list of {"role", "content"} messages for
        a chat template. When an mloop span is recording, the prompt version is recorded
        on it, so the trace keeps which prompt produced the call.

        Raises:
            InvalidInput: a variable of the template is not passed (the message names it).
        """
        rendered = _template.render(
            self.template, variables, f"prompt {self.name!r} version {self.version}"
        )
        note_prompt(self.name, self.version)
        return rendered


@dataclass(frozen=True)
class PromptInfo:
    """A registered prompt: its latest version and its aliases."""

    name: str
    latest_version: int
    aliases: dict[str, int]
    gated_aliases: list[str]
    description: str
    updated_at: int
