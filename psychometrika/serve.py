"""A small OpenAI-compatible HTTP server around the transformers backend (the embedded model by default).

It serves ``GET /v1/models`` and ``POST /v1/chat/completions`` (``max_tokens``, ``temperature``, ``top_p``,
``seed``, ``logprobs``/``top_logprobs``, and vLLM's ``continue_final_message``/``add_generation_prompt``), so
studies can exercise the ``openai`` backend offline, and it can inject faults for robustness tests: HTTP 503
every n-th request, 429 with ``Retry-After``, dropped connections, malformed JSON, truncated bodies, stalls
longer than the client's timeout, and delays.

Command line::

    psychometrika serve --model embedded --port 8000      # then: backend: openai, base_url: http://127.0.0.1:8000/v1

Requests are answered one at a time (the model runs under a lock); it is a test and teaching server, not a
production one -- use vLLM's server for throughput.

Hardening: the API key (``--api-key-env``) is checked from the headers before any body byte is read; a
``Content-Length`` that is missing on a body, not a number or negative is answered 400, one above
:data:`MAX_BODY` bytes 413, chunked bodies 411; every socket has a timeout (an idle or slow client is dropped
after ``timeout_s``), and at most ``max_connections`` are served at once. Binding beyond loopback without a
key is refused unless ``--insecure``; with a key it prints a warning (HTTP is not encrypted).

(Formerly ``psychometrika.backends.serve``, which still re-exports these names.)
"""

from __future__ import annotations

import ipaddress
import json
import os
import socket
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from .backends.chat import has_prefill, render_chat, with_special_start
from .errors import BackendError

#: largest request body accepted (a chat request is a few KB)
MAX_BODY = 8 * 1024 * 1024
#: seconds a connection may stay idle or a client may take to send its request
DEFAULT_TIMEOUT_S = 30.0
#: connections served at once (more are closed at once: each would hold a thread)
MAX_CONNECTIONS = 64


@dataclass
class Faults:
    """Injected failures: every n-th request (counting all POSTs from 1) fails in the given way; 0 = never."""

    fail_every: int = 0        # HTTP 503
    rate_limit_every: int = 0  # HTTP 429 with Retry-After: retry_after_s
    drop_every: int = 0        # close the connection without an answer
    retry_after_s: float = 0.0
    delay_s: float = 0.0       # added to every request
    malformed_every: int = 0   # HTTP 200 with a body that is not JSON
    truncate_every: int = 0    # HTTP 200 whose body stops half-way (Content-Length promises more)
    stall_every: int = 0       # wait stall_s before answering (longer than a client's timeout)
    stall_s: float = 0.0


class ChatServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, backend: Any, host: str = "127.0.0.1", port: int = 0, *, model_name: str | None = None,
                 api_key: str | None = None, faults: Faults | None = None, timeout_s: float = DEFAULT_TIMEOUT_S,
                 max_body: int = MAX_BODY, max_connections: int = MAX_CONNECTIONS) -> None:
        super().__init__((host, port), _Handler)
        self.backend = backend
        self.model_name = model_name or backend.info.model_id
        self.api_key = api_key
        self.faults = faults or Faults()
        self.timeout_s = float(timeout_s)
        self.max_body = int(max_body)
        self.slots = threading.BoundedSemaphore(max_connections)
        self.n_posts = 0
        self.n_answered = 0
        self.lock = threading.Lock()
        self.model_lock = threading.Lock()

    def process_request(self, request: Any, client_address: Any) -> None:
        """Serve the connection in a thread when a slot is free; close it at once otherwise."""
        if not self.slots.acquire(blocking=False):
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self.slots.release()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.slots.release()

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hung up (timeout, retry) is normal here; other errors are printed as usual."""
        if isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError, TimeoutError)):
            return
        super().handle_error(request, client_address)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}/v1"

    # ------------------------------------------------------------------ model
    def complete(self, body: dict[str, Any]) -> dict[str, Any]:
        be = self.backend
        torch = be._torch
        msgs = [{"role": m["role"], "content": _text(m.get("content"))} for m in body.get("messages") or []]
        if not msgs:
            raise ValueError("messages must be a non-empty list")
        if has_prefill(msgs) and body.get("continue_final_message"):
            prompt = render_chat(be.tokenizer, msgs)
        else:
            prompt = with_special_start(be.tokenizer, be.tokenizer.apply_chat_template(
                msgs, add_generation_prompt=True, tokenize=False)) \
                if getattr(be.tokenizer, "chat_template", None) else render_chat(be.tokenizer, msgs)
        ids = be._encode(prompt)
        max_tokens = int(body.get("max_tokens") or body.get("max_completion_tokens") or 16)
        temperature = 1.0 if body.get("temperature") is None else float(body["temperature"])  # OpenAI default 1
        want_lp = bool(body.get("logprobs"))
        k = int(body.get("top_logprobs") or 0)
        if max_tokens < 1 or max_tokens > 4096 or k < 0 or k > 20:
            raise ValueError("max_tokens must be in 1..4096 and top_logprobs in 0..20")
        if len(ids) + max_tokens > be.max_length:
            raise ValueError(f"prompt of {len(ids)} tokens + {max_tokens} exceeds the context ({be.max_length})")
        kwargs: dict[str, Any] = {"max_new_tokens": max_tokens, "pad_token_id": be.tokenizer.pad_token_id,
                                  "eos_token_id": be.tokenizer.eos_token_id, "return_dict_in_generate": True,
                                  "output_logits": True}
        if temperature <= 0:
            kwargs.update(do_sample=False, temperature=None, top_p=None, top_k=None)
        else:
            kwargs.update(do_sample=True, temperature=temperature, top_p=float(body.get("top_p") or 1.0), top_k=0)
        with self.model_lock, torch.inference_mode():
            if temperature > 0:
                torch.manual_seed(int(body.get("seed") or 0))
            x = torch.tensor([ids], dtype=torch.long, device=be.device)
            out = be.model.generate(input_ids=x, attention_mask=torch.ones_like(x), **kwargs)
        new = out.sequences[0, len(ids):].tolist()
        eos = be.tokenizer.eos_token_id
        stops = set(eos if isinstance(eos, list) else [eos])
        n_keep = next((i for i, t in enumerate(new) if t in stops), len(new))
        finish = "stop" if n_keep < len(new) else "length"
        content = []
        if want_lp:
            for i, tok in enumerate(new[:n_keep]):
                lp = torch.log_softmax(out.logits[i][0].float(), dim=-1)
                entry = self._token_entry(tok, float(lp[tok]))
                if k:
                    top = torch.topk(lp, k)
                    entry["top_logprobs"] = [self._token_entry(int(t), float(v))
                                             for v, t in zip(top.values.tolist(), top.indices.tolist())]
                else:
                    entry["top_logprobs"] = []
                content.append(entry)
        text = be.tokenizer.decode(new[:n_keep], skip_special_tokens=True)
        choice: dict[str, Any] = {"index": 0, "message": {"role": "assistant", "content": text},
                                  "finish_reason": finish, "logprobs": {"content": content} if want_lp else None}
        return {"id": f"chatcmpl-{uuid.uuid4().hex[:16]}", "object": "chat.completion", "created": int(time.time()),
                "model": self.model_name, "choices": [choice],
                "usage": {"prompt_tokens": len(ids), "completion_tokens": n_keep,
                          "total_tokens": len(ids) + n_keep}}

    def _token_entry(self, tok: int, logprob: float) -> dict[str, Any]:
        s = self.backend.tokenizer.decode([tok])
        return {"token": s, "logprob": logprob, "bytes": list(s.encode("utf-8"))}


class _Handler(BaseHTTPRequestHandler):
    server: ChatServer
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt: str, *args: Any) -> None:  # quiet
        pass

    def setup(self) -> None:
        self.timeout = self.server.timeout_s  # socket timeout for every read and write of this connection
        super().setup()

    def _send(self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def _raw(self, status: int, body: bytes, promise: int | None = None) -> None:
        """Send ``body`` as is; with ``promise`` the Content-Length claims more and the connection is closed."""
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(promise or len(body)))
        self.end_headers()
        self.wfile.write(body)
        if promise:
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(2)

    def _error(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        self._send(status, {"error": {"message": message, "type": "invalid_request_error", "code": status}},
                   headers)

    def _authorised(self) -> bool:
        key = self.server.api_key
        if key and not _same(self.headers.get("Authorization") or "", f"Bearer {key}"):
            self.close_connection = True  # the body (if any) is never read
            self._error(401, "invalid or missing API key")
            return False
        return True

    def _body_length(self) -> int | None:
        """The request's Content-Length, or None after answering 400/411/413 (the connection is then closed)."""
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            self.close_connection = True
            self._error(411, "chunked request bodies are not accepted; send a Content-Length")
            return None
        value = (self.headers.get("Content-Length") or "0").strip()
        if not value.isdigit() or len(value) > 18:
            self.close_connection = True
            if value.isdigit():
                self._error(413, f"the body is larger than the limit of {self.server.max_body} bytes")
            else:
                self._error(400, f"bad Content-Length {value[:40]!r}: a non-negative number of bytes is required")
            return None
        n = int(value)
        if n > self.server.max_body:
            self.close_connection = True
            self._error(413, f"a body of {n} bytes is larger than the limit of {self.server.max_body} bytes")
            return None
        return n

    def do_GET(self) -> None:  # noqa: N802
        if not self._authorised():
            return
        if self.path.rstrip("/") == "/v1/models":
            self._send(200, {"object": "list", "data": [{"id": self.server.model_name, "object": "model",
                                                         "owned_by": "psychometrika"}]})
        else:
            self._error(404, f"no route {self.path}")

    def do_POST(self) -> None:  # noqa: N802
        srv = self.server
        n = self._body_length()
        if n is None or not self._authorised():
            return
        try:
            raw = self.rfile.read(n) if n else b""
        except (TimeoutError, OSError):
            self.close_connection = True
            return
        if len(raw) < n:  # the client stopped sending
            self.close_connection = True
            return self._error(400, f"the body ended after {len(raw)} of {n} bytes")
        with srv.lock:
            srv.n_posts += 1
            count = srv.n_posts
        f = srv.faults
        if f.delay_s:
            time.sleep(f.delay_s)
        if f.drop_every and count % f.drop_every == 0:
            self.close_connection = True
            self.connection.shutdown(2)
            return
        if f.stall_every and count % f.stall_every == 0:
            time.sleep(f.stall_s)
        if f.malformed_every and count % f.malformed_every == 0:
            return self._raw(200, b'{"choices": [{"message": ')
        if f.truncate_every and count % f.truncate_every == 0:
            return self._raw(200, b'{"id": "chatcmpl-trunc", "choices": [', promise=4096)
        if f.fail_every and count % f.fail_every == 0:
            return self._error(503, "injected failure")
        if f.rate_limit_every and count % f.rate_limit_every == 0:
            return self._error(429, "injected rate limit", {"Retry-After": str(f.retry_after_s)})
        if self.path.rstrip("/") != "/v1/chat/completions":
            return self._error(404, f"no route {self.path}")
        try:
            body = json.loads(raw.decode("utf-8"))
            if not isinstance(body, dict):
                raise ValueError("the body must be a JSON object")
            result = srv.complete(body)
        except (ValueError, KeyError, TypeError) as exc:
            return self._error(400, f"{type(exc).__name__}: {exc}")
        except Exception as exc:  # noqa: BLE001 - a server error is reported, the server lives on
            return self._error(500, f"{type(exc).__name__}: {exc}")
        with srv.lock:
            srv.n_answered += 1
        self._send(200, result)


def _same(a: str, b: str) -> bool:
    import hmac

    return hmac.compare_digest(a.encode("utf-8", "replace"), b.encode("utf-8", "replace"))


def is_loopback(host: str) -> bool:
    """True when ``host`` is reachable only from this machine (127.0.0.0/8, ::1, localhost)."""
    if host == "localhost":
        return True
    if not host:
        return False  # '' binds every interface
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        try:
            return all(ipaddress.ip_address(a[4][0]).is_loopback for a in socket.getaddrinfo(host, None))
        except (OSError, ValueError):
            return False


def check_exposure(host: str, api_key: str | None, insecure: bool = False) -> str | None:
    """Refuse serving beyond loopback without a key (unless ``insecure``); return a warning to print, if any."""
    if is_loopback(host):
        return None
    if not api_key and not insecure:
        raise BackendError(f"refusing to serve on {host!r} without an API key: anyone who can reach this machine "
                           "could use the model",
                           hint="set a key in an environment variable and pass --api-key-env NAME, bind to "
                                "127.0.0.1, or pass --insecure if the network is trusted")
    return (f"warning: serving on {host!r}, beyond this machine, over unencrypted HTTP"
            + ("" if api_key else " and WITHOUT an API key (--insecure)"))


def _text(content: Any) -> str:
    """Message content as text (OpenAI also allows a list of {type: text, text: ...} parts)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(p.get("text", "") for p in content if isinstance(p, dict))
    raise ValueError("message content must be a string or a list of text parts")


def start_server(model: str | None = "embedded", host: str = "127.0.0.1", port: int = 0, *,
                 api_key_env: str | None = None, faults: Faults | None = None, insecure: bool = False,
                 timeout_s: float = DEFAULT_TIMEOUT_S, max_body: int = MAX_BODY,
                 **backend_settings: Any) -> ChatServer:
    """Load the model, start serving in a background thread and return the server (``.url``, ``.shutdown()``).

    ``api_key_env`` names an environment variable whose value clients must send as a bearer token (it must be
    set). Binding beyond loopback without a key is refused unless ``insecure``.
    """
    from .backends.hf import TransformersBackend

    key = None
    if api_key_env:
        key = os.environ.get(api_key_env)
        if not key:
            raise BackendError(f"--api-key-env {api_key_env}: that environment variable is not set (or empty)",
                               hint=f"export {api_key_env}=... first; without it every client would be let in")
    warning = check_exposure(host, key, insecure)
    if warning:
        print(warning, file=sys.stderr, flush=True)
    be = TransformersBackend(model, **backend_settings)
    srv = ChatServer(be, host, port, api_key=key, faults=faults, timeout_s=timeout_s, max_body=max_body)
    threading.Thread(target=srv.serve_forever, name="psychometrika-serve", daemon=True).start()
    return srv


def main(argv: list[str] | None = None) -> None:
    import argparse

    ap = argparse.ArgumentParser(prog="psychometrika serve", description=__doc__.split("\n")[0])
    ap.add_argument("--model", default="embedded")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8000)
    ap.add_argument("--api-key-env", default=None)
    ap.add_argument("--fail-every", type=int, default=0)
    ap.add_argument("--rate-limit-every", type=int, default=0)
    ap.add_argument("--drop-every", type=int, default=0)
    ap.add_argument("--delay-s", type=float, default=0.0)
    ap.add_argument("--malformed-every", type=int, default=0)
    ap.add_argument("--truncate-every", type=int, default=0)
    ap.add_argument("--timeout-s", type=float, default=DEFAULT_TIMEOUT_S,
                    help="socket timeout: idle or slow connections are closed after it")
    ap.add_argument("--max-body", type=int, default=MAX_BODY, help="largest request body in bytes (413 above)")
    ap.add_argument("--insecure", action="store_true", help="allow serving beyond loopback without an API key")
    a = ap.parse_args(argv)
    try:
        srv = start_server(a.model, a.host, a.port, api_key_env=a.api_key_env, insecure=a.insecure,
                           timeout_s=a.timeout_s, max_body=a.max_body,
                           faults=Faults(a.fail_every, a.rate_limit_every, a.drop_every, 0.0, a.delay_s,
                                         a.malformed_every, a.truncate_every))
    except BackendError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
    print(f"serving {srv.model_name} at {srv.url}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        srv.shutdown()


if __name__ == "__main__":
    main()
