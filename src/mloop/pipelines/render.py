"""Pictures of a pipeline: a text tree, a Mermaid flowchart, and a self-contained HTML page.

>>> print(to_tree(training, "training"))
>>> Path("training.mmd").write_text(to_mermaid(training))
>>> Path("training.html").write_text(to_html(training, "training"))   # inline SVG, opens offline
"""

from __future__ import annotations

import html
import re
from typing import Any

from mloop.pipelines.node import Node, is_param

# a Pipeline, read by attribute: Pipeline._repr_html_ draws through this module, below it
Pipeline = Any

__all__ = ["to_html", "to_mermaid", "to_svg", "to_tree"]


def _label(item: Node) -> str:
    ins = ", ".join(item.inputs) or "-"
    outs = ", ".join(item.outputs) or "-"
    return f"{item.name}  [{ins}] -> [{outs}]"


def to_tree(pipe: Pipeline, name: str = "pipeline") -> str:
    """The DAG as an indented tree from its first nodes; a node reached twice is shown once."""
    lines = [f"{name} ({len(pipe.nodes)} nodes)"]
    shown: set[str] = set()

    def walk(item: Node, prefix: str, last: bool) -> None:
        branch = "└── " if last else "├── "
        if item.name in shown:
            lines.append(f"{prefix}{branch}{item.name} (see above)")
            return
        shown.add(item.name)
        lines.append(f"{prefix}{branch}{_label(item)}")
        children = pipe.children(item)
        for index, child in enumerate(children):
            walk(child, prefix + ("    " if last else "│   "), index == len(children) - 1)

    roots = [n for n in pipe.nodes if not pipe.parents(n)]
    for index, root in enumerate(roots):
        walk(root, "", index == len(roots) - 1)
    return "\n".join(lines)


def _mermaid_id(value: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", value)


def to_mermaid(pipe: Pipeline) -> str:
    """A Mermaid ``flowchart LR``: nodes as boxes, datasets as rounded boxes, params dotted."""
    lines = ["flowchart LR"]
    datasets = sorted(pipe.datasets())
    for dataset in datasets:
        shape = f'{{{{"{dataset}"}}}}' if is_param(dataset) else f'(["{dataset}"])'
        lines.append(f"    d_{_mermaid_id(dataset)}{shape}")
    for item in pipe.nodes:
        lines.append(f'    n_{_mermaid_id(item.name)}["{item.name}"]')
        for dataset in item.inputs:
            arrow = "-.->" if is_param(dataset) else "-->"
            lines.append(f"    d_{_mermaid_id(dataset)} {arrow} n_{_mermaid_id(item.name)}")
        for dataset in item.outputs:
            lines.append(f"    n_{_mermaid_id(item.name)} --> d_{_mermaid_id(dataset)}")
    return "\n".join(lines) + "\n"


def to_svg(pipe: Pipeline) -> str:
    """The DAG as an inline SVG drawing, left to right (no scripts, no network)."""
    width, height, gap_x, gap_y = 220, 46, 80, 24
    layers = pipe.layers
    place: dict[str, tuple[int, int]] = {}
    for column, layer in enumerate(layers):
        for row, item in enumerate(layer):
            place[item.name] = (20 + column * (width + gap_x), 20 + row * (height + gap_y))
    total_w = 40 + max(1, len(layers)) * (width + gap_x)
    total_h = 40 + max((len(layer) for layer in layers), default=1) * (height + gap_y)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{total_w}" height="{total_h}" '
        'font-family="sans-serif" font-size="12">',
        '<defs><marker id="a" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="6" '
        'markerHeight="6" orient="auto"><path d="M0,0L10,5L0,10z" fill="#555"/></marker></defs>',
    ]
    for item in pipe.nodes:
        x2, y2 = place[item.name]
        for parent in pipe.parents(item):
            x1, y1 = place[parent.name]
            shared = ", ".join(o for o in parent.outputs if o in item.inputs)
            sx, sy, ex, ey = x1 + width, y1 + height // 2, x2, y2 + height // 2
            parts.append(
                f'<path d="M{sx},{sy} C{sx + gap_x // 2},{sy} {ex - gap_x // 2},{ey} {ex},{ey}" '
                f'fill="none" stroke="#555" marker-end="url(#a)"><title>{html.escape(shared)}</title></path>'
            )
    for item in pipe.nodes:
        x, y = place[item.name]
        reads = ", ".join(i for i in item.inputs) or "-"
        writes = ", ".join(item.outputs) or "-"
        parts.append(
            f"<g><title>{html.escape(str(item))}</title>"
            f'<rect x="{x}" y="{y}" width="{width}" height="{height}" rx="6" fill="#eef4fb" '
            'stroke="#3b6ea5"/>'
            f'<text x="{x + 8}" y="{y + 18}" font-weight="bold">{html.escape(item.name[:30])}</text>'
            f'<text x="{x + 8}" y="{y + 36}" fill="#555">{html.escape((reads + " → " + writes)[:34])}</text></g>'
        )
    parts.append("</svg>")
    return "".join(parts)


def to_html(pipe: Pipeline, name: str = "pipeline") -> str:
    """A standalone HTML page with the DAG drawn as inline SVG (no scripts, no network)."""
    rows = "".join(
        f"<tr><td>{html.escape(n.name)}</td><td>{html.escape(', '.join(n.inputs))}</td>"
        f"<td>{html.escape(', '.join(n.outputs))}</td><td>{html.escape(n.func_name)}</td></tr>"
        for n in pipe.nodes
    )
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(name)}</title>"
        "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}</style></head><body>"
        f"<h1>Pipeline {html.escape(name)}</h1><p>{len(pipe.nodes)} nodes, run left to right.</p>"
        + to_svg(pipe)
        + "<h2>Nodes</h2><table><tr><th>node</th><th>inputs</th><th>outputs</th><th>function</th></tr>"
        + rows
        + "</table></body></html>\n"
    )
