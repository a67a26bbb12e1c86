"""``mloop lineage <uri>``: what a model, run or dataset was made from, or what was made from it."""

# mloop imports inside the commands are deferred for start-up time: `mloop --help` and
# each command load only what they use.

from __future__ import annotations

from typing import Any

import typer

from mloop.cli.output import console, emit_json


def register(app: typer.Typer) -> None:
    app.command("lineage")(lineage)


def lineage(
    uri: str = typer.Argument(
        ...,
        help="models:/<name>@<alias>, models:/<name>/<version>, runs:/<run_id>, "
        "datasets:/<name>@<version> or <kind>:<id> (e.g. deployment:delays).",
    ),
    downstream: bool = typer.Option(
        False, "--downstream", help="What was made from it (default: what it was made from)."
    ),
    depth: int = typer.Option(20, "--depth", min=1, help="Most steps to walk."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON (nodes, edges and the tree)."),
) -> None:
    """Walk the lineage of a model, run or dataset: a tree in the terminal, JSON with --json.

    "What data trained the model serving now?": mloop lineage models:/delays@champion
    """
    import mloop.lineage as walk

    found = walk.downstream(uri, depth) if downstream else walk.upstream(uri, depth)
    if as_json:
        emit_json(found.to_dict())
        return
    from rich.markup import escape
    from rich.tree import Tree

    def label(entry: dict[str, Any]) -> str:
        text = f"[bold]{escape(entry['kind'])}[/bold] {escape(entry['id'])}"
        if "relation" in entry:
            text += f"  [dim]{escape(entry['relation'])}[/dim]"
        if entry.get("repeated"):
            text += "  [dim](shown above)[/dim]"
        return text

    def grow(branch: Tree, entry: dict[str, Any]) -> None:
        for child in entry.get("children", []):
            grow(branch.add(label(child)), child)

    tree_data = found.tree()
    view = Tree(label(tree_data))
    grow(view, tree_data)
    console.print(view)
    if not found.edges:
        what = "was made from it" if downstream else "it was made from"
        console.print(f"[dim](no lineage recorded: nothing {what})[/dim]")
