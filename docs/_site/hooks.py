"""MkDocs hooks of the documentation site (mkdocs.yml ``hooks:``).

The README, BENCHMARKS.md and CONTRIBUTING.md live at the repository root, where GitHub
shows them; the site takes them in as generated pages, with their ``docs/`` links made
relative to the site. The API reference and the list of decisions are generated from their
sources (``mloop._EXPORTS``, each package's ``__all__``, ``docs/decisions/*.md``), so they
cannot fall behind the code.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import re
from pathlib import Path
from typing import Any

from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File, Files

ROOT = Path(__file__).resolve().parents[2]
# what a page or a stylesheet would fetch from the network: scripts, styles, images, frames
_REMOTE = re.compile(
    r"<(?:script|img|iframe|source|link)\b[^>]*\b(?:src|href)=[\"']?(https?:)?//[^\"'\s>]*"
    r"|url\(\s*[\"']?(?:https?:)?//[^)]*\)"
    r"|@import\s+[\"']?(?:url\()?\s*[\"']?(?:https?:)?//[^;]*",
    re.IGNORECASE,
)
_ROOT_PAGES = {
    "index.md": "README.md",
    "BENCHMARKS.md": "BENCHMARKS.md",
    "CONTRIBUTING.md": "CONTRIBUTING.md",
}
# the packages with a reference page (reference/<name>.md), in the order of the nav
PACKAGES = (
    "tracking",
    "data",
    "features",
    "pipelines",
    "evaluation",
    "registry",
    "serving",
    "monitoring",
    "loop",
    "streams",
    "genai",
    "lineage",
    "store",
    "errors",
)


def identifier(package: str, name: str) -> str:
    """The reference's anchor of ``package.name``.

    A function that shares its name with the module defining it (``mloop.evaluation.evaluate``)
    is shadowed by that module in griffe's tree (one object per path), so its page renders
    it from the module, at ``package.name.name``.
    """
    module = importlib.import_module(package)
    value = getattr(module, name)
    shadowed = (
        hasattr(module, "__path__")  # a package, not a module such as mloop.lineage
        and not inspect.ismodule(value)
        and importlib.util.find_spec(f"{package}.{name}") is not None
    )
    return f"{package}.{name}.{name}" if shadowed else f"{package}.{name}"


def _package_page(name: str) -> str:
    package = f"mloop.{name}"
    module = importlib.import_module(package)
    # the package's __all__, less private helpers some packages export for their tests, and
    # less the names rendered after it: public submodules and functions named like theirs
    members = [
        n
        for n in module.__all__
        if not n.startswith("_")
        and not inspect.ismodule(getattr(module, n))
        and identifier(package, n) == f"{package}.{n}"
    ]
    lines = [f"# {package}", "", f"::: {package}", "    options:", "      show_root_heading: false"]
    lines.append(f"      members: [{', '.join(members)}]")
    for export in module.__all__:
        value = getattr(module, export)
        if inspect.ismodule(value):  # a public submodule: mloop.data.checks
            lines += ["", f"::: {package}.{export}", "    options:", "      heading_level: 2"]
        elif identifier(package, export) != f"{package}.{export}":
            lines += ["", f"::: {identifier(package, export)}"]
    return "\n".join(lines) + "\n"


def _root_page(text: str) -> str:
    """A root-level page with its links written for the site (docs/x.md -> x.md)."""
    text = text.replace("](docs/decisions/)", "](decisions/index.md)")
    return re.sub(r"\]\(docs/", "](", text)


def _decisions_page() -> str:
    lines = [
        "# Decisions",
        "",
        "Each decision records what was chosen, what else was considered and the figures",
        "that decided it.",
        "",
    ]
    for path in sorted((ROOT / "docs" / "decisions").glob("[0-9]*.md")):
        title = path.read_text().splitlines()[0].lstrip("# ").strip()
        lines.append(f"- [{title}]({path.name})")
    return "\n".join(lines) + "\n"


def _root_reference_page() -> str:
    import mloop

    lines = [
        "# mloop",
        "",
        "::: mloop",
        "    options:",
        "      members: false",
        "      show_root_heading: false",
        "",
        "## Names of the root package",
        "",
        "`import mloop` gives these names, each loaded on first use from the package that",
        "defines it, where it is documented:",
        "",
        "| name | defined in |",
        "| --- | --- |",
    ]
    for name, module in sorted(mloop._EXPORTS.items()):
        if module.removeprefix("mloop.") not in PACKAGES:
            raise ValueError(f"mloop.{name} comes from {module}, which has no reference page")
        lines.append(f"| [`mloop.{name}`][{identifier(module, name)}] | [`{module}`][{module}] |")
    lines += [
        "",
        "and the packages: " + ", ".join(f"`mloop.{m}`" for m in mloop._SUBMODULES) + ".",
    ]
    return "\n".join(lines) + "\n"


def on_config(config: Any) -> Any:
    # material's offline plugin adds a script from a CDN that lets search run in a worker
    # from file://; the site must load nothing from the network, so search needs the site
    # served over HTTP (`python -m http.server -d site`); every page opens from disk
    polyfills = config.extra.get("polyfills", [])
    config.extra["polyfills"] = [url for url in polyfills if not url.startswith("http")]
    return config


def on_files(files: Files, config: Any) -> Files:
    for target, source in _ROOT_PAGES.items():
        files.append(
            File.generated(config, target, content=_root_page((ROOT / source).read_text()))
        )
    files.append(File.generated(config, "decisions/index.md", content=_decisions_page()))
    files.append(File.generated(config, "reference/index.md", content=_root_reference_page()))
    for name in PACKAGES:
        files.append(File.generated(config, f"reference/{name}.md", content=_package_page(name)))
    return files


def remote_resources(text: str) -> list[str]:
    """What ``text`` (HTML or CSS) would load from the network."""
    return [match.group(0) for match in _REMOTE.finditer(text)]


def on_post_build(config: Any) -> None:
    # the site must open offline: a page or stylesheet that loads from the network fails
    # the build (links a reader follows, <a href="https://...">, are fine)
    found = []
    for path in sorted(Path(config.site_dir).rglob("*")):
        if path.suffix in (".html", ".css"):
            found += [f"{path.name}: {hit[:100]}" for hit in remote_resources(path.read_text())]
    if found:
        raise PluginError("the site loads from the network:\n" + "\n".join(found[:20]))


def on_page_markdown(markdown: str, page: Any, config: Any, files: Files) -> str:
    # docs/*.md link to the root files as ../BENCHMARKS.md (right on GitHub); on the site
    # those files are pages beside them
    return re.sub(r"\]\(\.\./(BENCHMARKS|CONTRIBUTING)\.md", r"](\1.md", markdown)
