"""Tool commands: ``bench`` (inference benchmark), ``serve`` (OpenAI-compatible server), ``convert`` (GGUF to
safetensors)."""

from __future__ import annotations

from pathlib import Path

import typer

from .app import app, console


@app.command("bench")
def bench(device: str = typer.Option("cpu", "--device", help="cpu, cuda or cuda:N."),
          model: str = typer.Option("smollm2", "--model", help="smollm2 (embedded) or llama3-8b-random."),
          items: int = typer.Option(22, "--items", min=1, help="Items per option order."),
          orders: int = typer.Option(4, "--orders", min=1, help="Option orders (distinct permutations of the scale)."),
          batch_size: int = typer.Option(16, "--batch-size", min=1),
          compile: bool = typer.Option(False, "--compile", help="torch.compile the lean forward's decoder layer."),
          variant: list[str] = typer.Option([], "--variant", help="Also time shared-prefix scoring with these "
                                            "backend settings, e.g. attention=matmul (repeatable)."),
          json_out: Path | None = typer.Option(None, "--json", help="Also write the results as JSON.")) -> None:
    """Benchmark per-item generation, batched generation, batched and shared-prefix option scoring."""
    from ..tools.bench import main as bench_main

    argv = ["--device", device, "--model", model, "--items", str(items), "--orders", str(orders),
            "--batch-size", str(batch_size)] + (["--json", str(json_out)] if json_out else []) \
        + (["--compile"] if compile else []) + (["--variants", *variant] if variant else [])
    bench_main(argv)


@app.command("serve")
def serve(model: str = typer.Option("embedded", "--model", help="'embedded', a model folder, .gguf file or hub id."),
          host: str = typer.Option("127.0.0.1", "--host"),
          port: int = typer.Option(8000, "--port", min=0, max=65535),
          api_key_env: str | None = typer.Option(None, "--api-key-env",
                                                 help="Environment variable holding the key clients must send."),
          timeout_s: float = typer.Option(30.0, "--timeout-s", min=0.1, help="Socket timeout: idle or slow "
                                                                            "connections are closed after it."),
          insecure: bool = typer.Option(False, "--insecure", help="Allow serving beyond loopback without a key.")
          ) -> None:
    """Serve a model over an OpenAI-compatible API (``/v1/chat/completions`` with logprobs) for the openai backend."""
    from ..serve import main as serve_main

    serve_main(["--model", model, "--host", host, "--port", str(port), "--timeout-s", str(timeout_s)]
               + (["--api-key-env", api_key_env] if api_key_env else []) + (["--insecure"] if insecure else []))


@app.command("convert")
def convert(gguf: str = typer.Argument("embedded", help="A .gguf file, or 'embedded'."),
            out: Path | None = typer.Argument(None, help="Output folder (default: the psychometrika cache)."),
            dtype: str = typer.Option("bfloat16", "--dtype", help="bfloat16, float16 or float32.")) -> None:
    """Convert a GGUF model into a safetensors folder (what vLLM loads)."""
    from ..models.convert import gguf_to_safetensors

    console.print(str(gguf_to_safetensors(gguf, out, dtype=dtype)))


__all__ = ["bench", "convert", "serve"]
