"""``mloop models``: registered models, versions, aliases and promotion."""

# mloop imports inside the commands are deferred for start-up time: `mloop --help` and
# each command load only what they use.

from __future__ import annotations

import typer

from mloop.cli.output import console, emit_json, format_ms, table

app = typer.Typer(help="The model registry: models, versions, aliases.", no_args_is_help=True)
alias_app = typer.Typer(
    help="Set or delete an alias (champion, challenger, ...).", no_args_is_help=True
)
app.add_typer(alias_app, name="alias")


@app.command("list")
def list_(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """List registered models with their latest version and aliases."""
    from mloop.registry import list_models

    rows = [
        {
            "name": m.name,
            "latest_version": m.latest_version,
            "aliases": ", ".join(f"{a}={v}" for a, v in sorted(m.aliases.items())),
            "updated": format_ms(m.last_updated_timestamp),
        }
        for m in list_models()
    ]
    table(rows, ["name", "latest_version", "aliases", "updated"], "Registered models", as_json)


@app.command("versions")
def versions_(name: str, as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """List the versions of a model, newest first."""
    from mloop.registry import list_versions

    rows = [
        {
            "version": v.version,
            "aliases": ", ".join(v.aliases),
            "flavor": v.flavor,
            "status": v.status,
            "run_id": v.run_id,
            "created": format_ms(v.creation_timestamp),
            "created_by": v.user_id,
        }
        for v in list_versions(name)
    ]
    table(
        rows,
        ["version", "aliases", "flavor", "status", "run_id", "created", "created_by"],
        f"Versions of {name}",
        as_json,
    )


@app.command("show")
def show(
    ref: str = typer.Argument(..., help="name, name/version or name@alias"),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Show a model version (the latest when only a name is given), its signature and the
    environment it was logged in (Python and package versions)."""
    from mloop.registry import get_version, model_metadata

    name, version = _split(ref)
    found = get_version(name, version)
    meta = model_metadata(f"models:/{found.name}/{found.version}")
    versions: dict[str, str] = dict(meta.get("library_versions") or {})
    environment = {"python_version": meta.get("python_version"), "library_versions": versions}
    if as_json:
        emit_json({**found.__dict__, "environment": environment})
        return
    console.print(
        f"[bold]{found.name}[/bold] version {found.version}  aliases: {', '.join(found.aliases) or '-'}"
    )
    console.print(
        f"flavor {found.flavor}  status {found.status}  run {found.run_id}  source {found.source}"
    )
    if found.description:
        console.print(found.description)
    if found.signature:
        inputs, outputs = found.signature.get("inputs", []), found.signature.get("outputs", [])
        shape = ["shape"] if any("shape" in c for c in [*inputs, *outputs]) else []
        table(inputs, ["name", "type", *shape, "optional"], "Signature inputs")
        table(outputs, ["name", "type", *shape], "Signature outputs")
    packages = " ".join(f"{k}=={v}" for k, v in versions.items())
    console.print(f"python {environment['python_version'] or '?'}  {packages}")


@alias_app.command("set")
def alias_set(
    name: str,
    alias: str,
    version: int,
    reason: str = typer.Option("", "--reason", "-r", help="Why (kept in the audit log)."),
) -> None:
    """Point ALIAS of model NAME at VERSION."""
    from mloop.registry import set_alias

    found = set_alias(name, alias, version, reason=reason)
    console.print(f"{name}@{alias} -> version {found.version}")


@alias_app.command("delete")
def alias_delete(
    name: str,
    alias: str,
    reason: str = typer.Option("", "--reason", "-r", help="Why (kept in the audit log)."),
) -> None:
    """Remove ALIAS from model NAME."""
    from mloop.registry import delete_alias

    delete_alias(name, alias, reason=reason)
    console.print(f"{name}@{alias} deleted")


def _split(ref: str) -> tuple[str, str]:
    if "@" in ref:
        name, alias = ref.split("@", 1)
        return name, alias
    if "/" in ref:
        name, version = ref.split("/", 1)
        return name, version
    return ref, "latest"


@app.command("promote")
def promote(
    name: str = typer.Argument(..., help="Registered model name."),
    version: str = typer.Argument(..., help="Version number to promote."),
    alias: str = typer.Option("champion", "--alias", "-a", help="Alias to move."),
    gate: str | None = typer.Option(
        None,
        "--gate",
        "-g",
        help="Gate: a YAML file or module:attr naming a mloop.evaluation.Gate.",
    ),
    data: str | None = typer.Option(
        None, "--data", "-d", help="Rows the gate evaluates on: dataset@N or a Parquet/CSV path."
    ),
    target: str | None = typer.Option(None, "--target", "-t", help="Label column of --data."),
    force: bool = typer.Option(False, "--force", help="Promote even if the gate fails."),
    reason: str = typer.Option("", "--reason", "-r", help="Why (required with --force; audited)."),
    as_json: bool = typer.Option(False, "--json", help="Print the gate result as JSON."),
) -> None:
    """Move ALIAS to VERSION of NAME if the gate passes (or with --force and a --reason)."""
    from mloop.core.errors import GateFailed, InvalidInput
    from mloop.registry import promote as promote_version

    checked = None
    if gate is not None:
        from mloop.evaluation import load_gate

        checked = load_gate(gate)
        if data is None or target is None:
            raise InvalidInput(
                "a gate evaluates the models on labelled rows; pass --data dataset@N|path.parquet "
                "and --target <label column>."
            )
    try:
        found = promote_version(
            name,
            version,
            alias=alias,
            gate=checked,
            data=data,
            target=target,
            force=force,
            reason=reason,
        )
    except GateFailed as exc:
        _print_gate(getattr(exc, "results", None), as_json)
        raise
    if checked is not None:
        from mloop.evaluation import _records

        stored = _records.load(found, "gate")
        _print_gate_dict(stored, as_json)
    if not as_json:
        forced = " (forced)" if force else ""
        console.print(f"{name}@{alias} -> version {found.version}{forced}")


def _print_gate(result: object, as_json: bool) -> None:
    to_dict = getattr(result, "to_dict", None)
    _print_gate_dict(to_dict() if callable(to_dict) else None, as_json)


def _print_gate_dict(result: dict[str, object] | None, as_json: bool) -> None:
    if result is None:
        return
    if as_json:
        emit_json(result)
        return
    rules = result.get("rules") or []
    rows = [
        {
            "rule": r["rule"],
            "verdict": "skipped" if r.get("skipped") else "pass" if r["passed"] else "FAIL",
            "detail": r.get("message", ""),
        }
        for r in rules  # type: ignore[attr-defined]
    ]
    verdict = "passed" if result.get("passed") else "FAILED"
    table(rows, ["rule", "verdict", "detail"], f"Gate {result.get('gate')!s} {verdict}")


@app.command("card")
def card(
    ref: str = typer.Argument(..., help="name/version, name@alias or name (latest)."),
    format: str = typer.Option("html", "--format", "-f", help="html or md."),
    out: str | None = typer.Option(
        None, "--out", "-o", help="Output file (default <name>-v<version>-card.<ext>; '-' prints)."
    ),
) -> None:
    """Write the model card of a version: intended use, data, lineage, metrics, slices, gate."""
    from mloop.evaluation import model_card
    from mloop.evaluation.card import parse_version_ref
    from mloop.registry import get_version

    name, version = parse_version_ref(ref)
    found = get_version(name, version)
    text = model_card(found, format=format)
    if out == "-":
        import sys

        sys.stdout.write(text)
        return
    extension = "html" if format == "html" else "md"
    path = out or f"{found.name}-v{found.version}-card.{extension}"
    from pathlib import Path

    Path(path).write_text(text)
    console.print(f"model card of {found.name} version {found.version} written to {path}")


@app.command("env")
def env(
    uri: str = typer.Argument(..., help="models:/<name>@<alias> or models:/<name>/<version>"),
    mloop_source: str | None = typer.Option(
        None, "--mloop-source", help="The mloop wheel or project folder to install mloop from."
    ),
    python: str | None = typer.Option(
        None, "--python", help="The interpreter to build on (default: this one)."
    ),
    rebuild: bool = typer.Option(False, "--rebuild", help="Build again even if cached."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Create (or find in the cache) a virtual environment with exactly the packages the
    model was logged with; mloop itself comes from the local project or wheel.

    Example: mloop models env models:/delays@champion
    """
    from mloop.registry.flavors.venv import model_env

    found = model_env(uri, mloop_source, python, rebuild)
    info = {
        "path": str(found.path),
        "python": str(found.python),
        "key": found.key,
        "built": found.built,
        "seconds": round(found.seconds, 1),
        "packages": list(found.requirements.pins),
        "mloop_wheel": str(found.wheel),
    }
    if as_json:
        emit_json(info)
        return
    state = "built" if found.built else "found in the cache"
    console.print(f"[bold]{uri}[/bold]: environment {state} in {found.seconds:.1f} s")
    console.print(f"  {found.path}")
    console.print(f"  python {found.python}; mloop from {found.wheel.name}")
    console.print("  " + ", ".join(found.requirements.pins))
    console.print(f"Serve from it: mloop serve {uri} --env-manager venv")


@app.command("build-image")
def build_image(
    uri: str = typer.Argument(..., help="models:/<name>@<alias> or models:/<name>/<version>"),
    output: str = typer.Option(..., "--output", help="A new or empty folder for the context."),
    mloop_source: str | None = typer.Option(
        None, "--mloop-source", help="The mloop wheel or project folder to install mloop from."
    ),
) -> None:
    """Write a container build context: Dockerfile, requirements lock, the model's files,
    mloop's wheel, install.sh and entrypoint.sh (which runs mloop serve).

    Example: mloop models build-image models:/delays@champion --output image
    """
    from mloop.registry.flavors.image import build_context

    context = build_context(uri, output, mloop_source)
    console.print(f"[bold]{uri}[/bold]: build context in {context.path}")
    for name in context.files:
        if not name.startswith("model/"):
            console.print(f"  {name}")
    console.print(f"  model/ ({sum(f.startswith('model/') for f in context.files)} files)")
    console.print(
        f"Build and run it: docker build -t {context.served_uri.split(':/')[1].split('@')[0]} "
        f"{context.path} && docker run -p 8080:8080 <image>"
    )


@app.command("import")
def import_(
    folder: str = typer.Argument(..., help="A folder of a model's files (MLmodel.json and more)."),
    name: str = typer.Option(..., "--name", help="The registered model to add a version to."),
    alias: str | None = typer.Option(None, "--alias", help="Point this alias at the version."),
) -> None:
    """Register a model from a folder of its files, such as a build context's model/.

    Example: mloop models import image/model --name delays --alias champion
    """
    from mloop.registry.flavors.image import import_model

    version = import_model(folder, name, alias)
    console.print(f"registered {version.name} version {version.version} ({version.flavor})")
