"""``mloop traces``: search the stored spans of language-model calls and applications."""

# mloop imports inside the commands are deferred for start-up time: `mloop --help` and
# each command load only what they use.

from __future__ import annotations

import typer

from mloop.cli.output import emit_json, format_ms, table

app = typer.Typer(help="Traces of GenAI calls: search and show.", no_args_is_help=True)


@app.command("search")
def search(
    route: str = typer.Option(None, "--route"),
    user: str = typer.Option(None, "--user"),
    status: str = typer.Option(None, "--status", help="ok or error"),
    model: str = typer.Option(None, "--model"),
    prompt: str = typer.Option(None, "--prompt", help="name, name@3 or name/3"),
    min_latency_ms: float = typer.Option(None, "--min-latency-ms"),
    min_cost: float = typer.Option(None, "--min-cost"),
    limit: int = typer.Option(50, "--limit"),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Spans matching every filter given, newest first."""
    from mloop.genai.tracing import search_traces

    found = search_traces(
        route=route,
        user=user,
        status=status,
        model=model,
        prompt=prompt,
        min_latency_ms=min_latency_ms,
        min_cost=min_cost,
        limit=limit,
    )
    if as_json:
        emit_json([span.to_dict() for span in found])
        return
    rows = [
        {
            "trace": span.trace_id[:12],
            "name": span.name,
            "kind": span.kind,
            "started": format_ms(int(span.start_ms)),
            "latency_ms": round(span.latency_ms, 2),
            "status": span.status,
            "route": span.route,
            "user": span.user,
            "tokens": None
            if span.input_tokens is None
            else f"{span.input_tokens}/{span.output_tokens or 0}",
            "cost": span.cost,
            "prompt": None
            if span.prompt_name is None
            else f"{span.prompt_name}@{span.prompt_version}",
        }
        for span in found
    ]
    columns = ["trace", "name", "kind", "started", "latency_ms", "status", "route", "user"]
    table(rows, [*columns, "tokens", "cost", "prompt"], "Spans", as_json=False)


@app.command("show")
def show(trace_id: str, as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Every stored span of one trace, oldest first."""
    from mloop.core.errors import NotFound
    from mloop.genai.tracing import search_traces

    spans = sorted(search_traces(trace_id=trace_id, limit=10_000), key=lambda s: s.start_ms)
    if not spans:
        raise NotFound(f"no stored spans for trace {trace_id!r}; `mloop traces search` lists them.")
    if as_json:
        emit_json([span.to_dict() for span in spans])
        return
    rows = [
        {
            "span": s.span_id,
            "parent": s.parent_span_id,
            "name": s.name,
            "kind": s.kind,
            "latency_ms": round(s.latency_ms, 2),
            "status": s.status,
        }
        for s in spans
    ]
    table(rows, ["span", "parent", "name", "kind", "latency_ms", "status"], f"Trace {trace_id}")
