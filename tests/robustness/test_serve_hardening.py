"""Issue 19, finding 6: a real ``psychometrika serve`` on 127.0.0.1 authenticates before reading a body, answers
413/400/411 for bodies it will not read, drops idle connections after its socket timeout, and refuses to bind
beyond loopback without a key."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
KEY = "serve-key-19-abcdef"
ENV = {**os.environ, "PYTHONPATH": str(ROOT), "PM_SERVE_KEY_19": KEY}


@pytest.fixture(scope="module")
def server():
    proc = subprocess.Popen([sys.executable, "-m", "psychometrika", "serve", "--port", "0", "--api-key-env",
                             "PM_SERVE_KEY_19", "--timeout-s", "1.5"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=ENV)
    line = proc.stdout.readline()
    m = re.search(r"http://([\d.]+):(\d+)/v1", line)
    if not m:
        proc.kill()
        raise AssertionError(line + proc.stderr.read())
    yield m.group(1), int(m.group(2))
    proc.terminate()
    proc.wait(timeout=10)


def _exchange(addr, head: str, body: bytes = b"", timeout: float = 10) -> tuple[int, bytes, float]:
    """Send a raw request; return (status, response bytes, seconds until the reply)."""
    t = time.time()
    with socket.create_connection(addr, timeout=timeout) as s:
        s.sendall(head.encode() + b"\r\n" + body)
        data = b""
        while True:
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                break
            if not chunk:
                break
            data += chunk
            if b"\r\n\r\n" in data:
                hdr, _, rest = data.partition(b"\r\n\r\n")
                n = re.search(rb"Content-Length: (\d+)", hdr)
                if n and len(rest) >= int(n.group(1)):
                    break
    status = int(data.split(b" ", 2)[1]) if data.startswith(b"HTTP/") else 0
    return status, data, time.time() - t


def _post(length: str, key: str | None = KEY) -> str:
    auth = f"Authorization: Bearer {key}\r\n" if key else ""
    return (f"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n{auth}"
            f"Content-Length: {length}\r\n")


def test_the_key_is_checked_before_the_body_is_read(server):
    status, data, secs = _exchange(server, _post(str(5 * 2**20), key=None))  # promises 5 MB, sends nothing
    assert status == 401 and secs < 1.5, data  # answered at once, not after waiting for the body (timeout 1.5 s)
    status, _, _ = _exchange(server, _post(str(100 * 2**20), key="wrong-key"))
    assert status == 413  # a length above the limit is refused from the headers too, whoever asks
    status, data, secs = _exchange(server, _post("5000", key="wrong-key"))
    assert status == 401 and secs < 5 and b"invalid or missing API key" in data


@pytest.mark.parametrize("length,status", [("-1", 400), ("abc", 400), (str(10**12), 413), ("1" * 40, 413)])
def test_bad_or_huge_content_length_gets_an_http_answer(server, length, status):
    got, data, secs = _exchange(server, _post(length))
    assert got == status and secs < 5, data
    assert json.loads(data.partition(b"\r\n\r\n")[2])["error"]["code"] == status


def test_chunked_bodies_are_refused(server):
    head = _post("0").replace("Content-Length: 0\r\n", "Transfer-Encoding: chunked\r\n")
    assert _exchange(server, head)[0] == 411


def test_idle_and_slow_connections_are_dropped_by_the_socket_timeout(server):
    t = time.time()
    with socket.create_connection(server, timeout=20) as s:  # connect and say nothing
        assert s.recv(1024) == b""
    assert time.time() - t < 10
    # a body that never arrives: the connection is closed after the timeout, the server lives on
    t = time.time()
    with socket.create_connection(server, timeout=20) as s:
        s.sendall((_post("1000") + "\r\n").encode() + b"{")
        s.recv(1024)
    assert time.time() - t < 10
    ok, data, _ = _exchange(server, f"GET /v1/models HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {KEY}\r\n")
    assert ok == 200 and b'"object": "list"' in data


def test_binding_beyond_loopback_without_a_key_is_refused():
    res = subprocess.run([sys.executable, "-m", "psychometrika", "serve", "--host", "0.0.0.0", "--port", "0"],
                         capture_output=True, text=True, env=ENV, timeout=60)
    assert res.returncode == 2, res.stderr
    assert "refusing to serve on '0.0.0.0' without an API key" in res.stderr and "--insecure" in res.stderr
    res = subprocess.run([sys.executable, "-m", "psychometrika", "serve", "--api-key-env", "PM_UNSET_19"],
                         capture_output=True, text=True, env=ENV, timeout=60)
    assert res.returncode == 2 and "PM_UNSET_19: that environment variable is not set" in res.stderr


def test_exposure_rule():
    from psychometrika.serve import check_exposure, is_loopback

    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("")
    assert check_exposure("127.0.0.1", None) is None
    assert "unencrypted" in check_exposure("0.0.0.0", "k")
    assert "WITHOUT an API key" in check_exposure("0.0.0.0", None, insecure=True)
    from psychometrika.backends import serve as old  # the old import path still works

    assert old.start_server is __import__("psychometrika.serve", fromlist=["x"]).start_server
