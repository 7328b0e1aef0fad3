"""``psychometrika instruments ...``: list, show, validate instrument files and print their JSON Schema."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer
from rich.table import Table

from ..errors import PsychometrikaError
from .app import app, console

instruments_app = typer.Typer(no_args_is_help=True, help="List, show, validate instrument files.")
app.add_typer(instruments_app, name="instruments")


@instruments_app.command("list")
def instruments_list() -> None:
    """List the available instruments (built-in and plugins) with their licences."""
    from ..instruments import list_instruments
    from ..instruments.registry import catalogue_problems

    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # reported below, once, without a Python warning header
        found = list_instruments()
        problems = catalogue_problems()
    for p in problems:
        print(f"warning: {p}", file=sys.stderr)
    table = Table(title="Instruments")
    for col in ("id", "name", "items", "scales", "format", "licence", "source"):
        table.add_column(col, overflow="fold")
    for inst, source in found:
        lic = inst.licence.id + (" (research use only)" if inst.licence.research_use_only else "")
        table.add_row(inst.id, inst.name, str(len(inst.items)), str(len(inst.scales)), inst.response_format.type,
                      lic, source.origin)
    console.print(table)


@instruments_app.command("show")
def instruments_show(instrument: str = typer.Argument(..., help="Instrument id, alias, or YAML file.")) -> None:
    """Show an instrument: provenance, licence, scales and items."""
    from ..instruments import load_instrument

    inst = load_instrument(instrument)
    console.print(f"[bold]{inst.name}[/bold] ({inst.id} v{inst.version})")
    for c in inst.citations:
        console.print(f"  citation: {c.text}" + (f" doi:{c.doi}" if c.doi else ""))
    console.print(f"  licence: {inst.licence.id} — {inst.licence.redistribution}")
    if inst.licence.research_use_only:
        console.print("  [yellow]research use only: not covered by psychometrika's own licence[/yellow]")
    fmt = inst.response_format
    console.print(f"  response format: {fmt.type}" + (f" {list(zip(fmt.values, fmt.labels))}"
                                                       if fmt.type == "likert" else ""))
    console.print(f"  instructions: {len(inst.instructions)} paraphrase(s); scoring: {inst.scoring}")
    members = inst.scale_items()
    table = Table(title="Scales")
    for col in ("scale", "name", "items"):
        table.add_column(col, overflow="fold")
    keys = inst.item_keys()
    for sc in inst.scales:
        table.add_row(sc.id, sc.name, " ".join(i + ("R" if keys[i] == -1 else "") for i in members[sc.id]))
    console.print(table)
    items = Table(title="Items")
    for col in ("id", "scale", "key", "text"):
        items.add_column(col, overflow="fold")
    for it in inst.items:
        items.add_row(it.id, it.scale or "", "-" if it.keyed == -1 else "+", it.text or it.scenario or "")
    console.print(items)


@instruments_app.command("validate")
def instruments_validate(files: list[Path] = typer.Argument(..., help="Instrument YAML files.")) -> None:
    """Validate instrument files; prints one line per file, exit status 2 if any is invalid."""
    from ..instruments import load_instrument_file

    bad = 0
    for f in files:
        try:
            inst = load_instrument_file(f)
        except PsychometrikaError as exc:
            bad += 1
            print(f"✗ {exc}", file=sys.stderr)
            continue
        console.print(f"✓ {f}: {inst.id} — {len(inst.items)} items, {len(inst.scales)} scales", highlight=False)
    if bad:
        raise typer.Exit(2)


@instruments_app.command("schema")
def instruments_schema() -> None:
    """Print the JSON Schema of the instrument format (for editors)."""
    from ..instruments import json_schema

    sys.stdout.write(json.dumps(json_schema(), indent=2) + "\n")


__all__ = ["instruments_app", "instruments_list", "instruments_show", "instruments_validate",
           "instruments_schema"]
