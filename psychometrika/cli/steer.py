"""Steering commands: ``steer build`` (trait directions for activation steering, issue 23)."""

from __future__ import annotations

from pathlib import Path

import typer

from .app import app, console

steer_app = typer.Typer(no_args_is_help=True, help="Activation steering: build trait directions.")
app.add_typer(steer_app, name="steer")


@steer_app.command("build")
def build(trait: str = typer.Option(..., "--trait", help="A trait (or code) of the marker list, e.g. extraversion "
                                    "or E; with --high/--low any name."),
          out: Path = typer.Option(..., "--out", help="Artefact path (writes <out>.safetensors and <out>.json)."),
          model: str = typer.Option("embedded", "--model", help="'embedded', a model folder, .gguf file or hub id."),
          layer: int | None = typer.Option(None, "--layer", min=1, help="Layer to steer at (default: the layer of "
                                           "the largest held-out Cohen's d)."),
          norm: str = typer.Option("raw", "--norm", help="raw (the mean difference as measured) or unit."),
          markers: str = typer.Option("big5", "--markers", help="Shipped marker list or a YAML file."),
          high: str | None = typer.Option(None, "--high", help="Trait-high persona text (with --low)."),
          low: str | None = typer.Option(None, "--low", help="Trait-low persona text (with --high)."),
          questions: Path | None = typer.Option(None, "--questions", help="Neutral questions (YAML 'questions:' "
                                                "list or a text file, one a line); default: the shipped 40."),
          device: str | None = typer.Option(None, "--device", help="cpu, cuda or cuda:N (backend default)."),
          dtype: str | None = typer.Option(None, "--dtype", help="float32, bfloat16, float16 (backend default).")
          ) -> None:
    """Compute mean-difference residual-stream directions of a trait for every layer and store them."""
    from ..engine.steering import build_steering

    settings = {k: v for k, v in (("device", device), ("dtype", dtype)) if v is not None}
    meta = build_steering(out, trait=trait, model=model, settings=settings, layer=layer, norm=norm,
                          markers=markers, high=high, low=low, questions=questions)
    sep = meta["separation"]
    console.print(f"trait {meta['trait']}, model {meta['model_id']} (weights {meta['weights_sha256'][:12]}), "
                  f"{meta['n_questions']} neutral questions, prompt set {meta['prompt_set_sha256'][:12]}")
    console.print("layer  held-out d  |mean diff|  mean |residual|")
    for i in range(1, len(sep)):
        mark = "  <- chosen" if i == meta["layer"] else ""
        d = "n/a" if sep[i] is None else f"{sep[i]:.3f}"
        console.print(f"{i:5d}  {d:>10}  {meta['mean_diff_norm'][i]:11.3f}  {meta['residual_norm'][i]:15.3f}{mark}")
    console.print(f"layer {meta['layer']} ({meta['layer_choice']})")
    console.print(f"wrote {Path(str(out)).with_suffix('')}.safetensors/.json")


__all__ = ["build"]
