"""Every ```python block in README.md and docs/*.md runs, so the docs cannot rot.

Blocks of one page run in order, in one namespace, in a fresh mloop home. Use
```python for code that must run and ```py for a fragment that is only illustrative.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGES = sorted([ROOT / "README.md", *(ROOT / "docs").glob("*.md")])
_BLOCK = re.compile(r"^```python\n(.*?)^```", re.MULTILINE | re.DOTALL)


def _blocks(page: Path) -> list[str]:
    return _BLOCK.findall(page.read_text())


@pytest.mark.parametrize("page", [p for p in PAGES if _blocks(p)], ids=lambda p: p.name)
def test_the_examples_of_the_page_run(page: Path) -> None:
    namespace: dict[str, object] = {"__name__": f"docs_{page.stem}"}
    for index, block in enumerate(_blocks(page)):
        try:
            exec(compile(block, f"{page.name}[block {index + 1}]", "exec"), namespace)
        except Exception as exc:
            raise AssertionError(
                f"{page.name}, block {index + 1} failed: {exc!r}\n{block}"
            ) from exc


def test_the_configuration_table_lists_every_setting() -> None:
    from mloop.core.config import SETTINGS

    text = (ROOT / "docs" / "configuration.md").read_text()
    for setting in SETTINGS:
        assert f"`{setting.env}`" in text and f"`{setting.key}`" in text, setting.key
