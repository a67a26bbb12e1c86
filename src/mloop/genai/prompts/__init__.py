"""The prompt registry: versioned templates with aliases, loaded by ``prompts:/name@alias``."""

from __future__ import annotations

from mloop.genai.prompts.entities import PromptInfo, PromptVersion
from mloop.genai.prompts.promote import promote_prompt
from mloop.genai.prompts.registry import (
    delete_prompt_alias,
    list_prompt_versions,
    list_prompts,
    load_prompt,
    register_prompt,
    set_prompt_alias,
)

__all__ = [
    "PromptInfo",
    "PromptVersion",
    "delete_prompt_alias",
    "list_prompt_versions",
    "list_prompts",
    "load_prompt",
    "promote_prompt",
    "register_prompt",
    "set_prompt_alias",
]
