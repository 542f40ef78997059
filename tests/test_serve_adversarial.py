"""`mgen serve` against a hostile but fair client (issue 25): decoder numbers at and beyond
their limits, another site's Host or Origin, a body that never comes, and no path of the
server's machine in any answer. The slow-work and signal cases are in test_serve_limits.py and
test_serve_signals.py."""

from __future__ import annotations

import json
import math
import os
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")

from fastapi.testclient import TestClient  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import mgen  # noqa: E402
from mgen.web.app import create_app  # noqa: E402
from mgen.web.limits import Limits  # noqa: E402

LOCAL = "http://127.0.0.1"


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory, music21_corpus: Path) -> Path:
    """A --runs folder: a tiny abc-char run ("tiny") and a run whose weights are garbage."""
    root = tmp_path_factory.mktemp("hostile-runs")
    tunes = music21_corpus / "essenFolksong" / "testd.abc"
    mgen.train(tokenizer="abc-char", data=[str(tunes)], max_steps=3, out=root / "tiny",
               batch_size=8, seq_len=32, device="cpu",
               model_options={"hidden_size": 16, "embed_dim": 8})  # fmt: skip
    corrupt = root / "corrupt"
    corrupt.mkdir()
    for name in ("config.json", "tokenizer.json", "metrics.csv"):
        (corrupt / name).write_bytes((root / "tiny" / name).read_bytes())
    (corrupt / "model.safetensors").write_bytes(b"\x00garbage" * 64)
    return root


@pytest.fixture(scope="module")
def client(runs: Path):
    with TestClient(create_app([runs], pretrained=False), base_url=LOCAL) as c:
        yield c


def _machine_paths(runs: Path) -> list[str]:
    """Folders of this machine that a response must never name."""
    found = {str(runs), str(runs.resolve()), tempfile.gettempdir() + "/", os.getcwd() + "/",
             str(Path.home()) + "/", sys.prefix + "/", str(Path(mgen.__file__).parent)}  # fmt: skip
    return sorted(p for p in found if len(p) > 2)


def _no_path(body: str, runs: Path) -> None:
    for path in _machine_paths(runs):
        assert path not in body, (path, body)


# -- 4. decoder numbers: the same check as the CLI's, never a 500 -----------------------------


@settings(max_examples=40, deadline=None, derandomize=True)
@given(
    decoder=st.sampled_from(["temperature", "top-k", "top-p"]),
    temperature=st.one_of(
        st.none(), st.floats(min_value=0, max_value=5, exclude_min=True),
        st.sampled_from([1e-39, 1e-300, 5e-324, 1e-45, 5.0]),
    ),
    top_p=st.one_of(st.floats(min_value=0, max_value=1, exclude_min=True),
                    st.sampled_from([1e-300, 5e-324, 1e-46, 1.0])),
)  # fmt: skip
def test_decoder_numbers_the_schema_accepts_always_sample(client, decoder, temperature, top_p):
    """`"temperature": 1e-39` or `"top_p": 1e-300` gave 500 "probability tensor contains
    either inf, nan": they are accepted, so they must sample."""
    body = {"model": "tiny", "decoder": decoder, "length": 8, "num_samples": 2,
            "temperature": temperature}  # fmt: skip
    if decoder == "top-p":
        body["top_p"] = top_p
    r = client.post("/api/generate", json=body)
    assert r.status_code == 200, r.text
    assert len(r.json()["samples"]) >= 1


@pytest.mark.parametrize(
    "change",
    [{"temperature": math.inf}, {"temperature": -1e-300}, {"top_p": 0}, {"top_p": 1e300},
     {"seed": -1}, {"seed": 2**31}, {"length": 10**9}, {"num_samples": 10**5}],
)  # fmt: skip
def test_numbers_beyond_their_limits_are_422(client, change: dict):
    body = {"model": "tiny", "decoder": "top-p", "length": 8, **change}
    r = client.post("/api/generate", content=json.dumps(body, allow_nan=True),
                    headers={"content-type": "application/json"})  # fmt: skip
    assert r.status_code == 422, r.text
    assert list(r.json()) == ["error"] and "\n" not in r.json()["error"]


# -- 5. no path of the server's machine in any answer ---------------------------------------


def test_a_corrupt_listed_run_is_named_by_its_name_not_its_path(client, runs: Path):
    r = client.post("/api/generate", json={"model": "corrupt", "length": 4})
    assert r.status_code == 409, r.text
    assert "'corrupt'" in r.json()["error"] and "model.safetensors" in r.json()["error"]
    _no_path(r.text, runs)


def test_an_upload_error_names_no_temporary_folder(client, runs: Path):
    r = client.post("/api/primer", data={"model": "tiny"},
                    files={"file": ("tune.abc", b"\x00\x01\x02" * 100, "text/plain")})  # fmt: skip
    assert r.status_code == 422, r.text
    assert "mgen-upload" not in r.text
    _no_path(r.text, runs)


def test_no_response_carries_a_path(client, runs: Path):
    """Every kind of answer to a hostile sweep: errors, lists, batches, the judge."""
    requests = [
        ("get", "/api/models", {}), ("get", "/api/options", {}), ("get", "/api/status", {}),
        ("post", "/api/generate", {"json": {"model": "corrupt"}}),
        ("post", "/api/generate", {"json": {"model": "../../etc/passwd"}}),
        ("post", "/api/generate", {"json": {"model": "tiny", "primer": "/etc/passwd"}}),
        ("post", "/api/generate", {"json": {"model": "tiny", "length": 30, "num_samples": 2}}),
        ("post", "/api/primer", {"data": {"model": "tiny"},
                                 "files": {"file": ("x.mid", b"MThd", "audio/midi")}}),
        ("get", "/api/batches/nope/eval", {}),
        ("get", "/api/batches/nope/samples/1/native", {}),
    ]  # fmt: skip
    for method, url, kwargs in requests:
        r = getattr(client, method)(url, **kwargs)
        assert r.status_code < 500, (url, r.text)
        _no_path(r.text, runs)


def test_scrub_keeps_the_pages_own_urls_and_names_models():
    from mgen.web.paths import scrub

    names = {"/srv/runs/corrupt": "model 'corrupt'"}
    assert scrub("cannot read weights /srv/runs/corrupt/model.safetensors", names) == (
        "cannot read weights model 'corrupt'/model.safetensors"
    )
    assert scrub("/tmp/mgen-upload-x1/primer.abc is binary") == "primer.abc is binary"
    assert scrub("choose one from /api/models") == "choose one from /api/models"
    assert scrub("meter 3/4, 1/8 notes") == "meter 3/4, 1/8 notes"


# -- 9. another site's Host or Origin ---------------------------------------------------------


@pytest.mark.parametrize("host", ["evil.example", "evil.example:8000", "127.0.0.1.evil.example"])
def test_another_sites_host_is_refused(client, host: str):
    """DNS rebinding: a page on evil.example whose name now resolves to 127.0.0.1."""
    r = client.get("/api/models", headers={"host": host})
    assert r.status_code == 421, r.text
    assert "is not served here" in r.json()["error"]


@pytest.mark.parametrize("host", ["127.0.0.1:8000", "localhost:8000", "[::1]:8000", "localhost"])
def test_this_machines_names_are_served(client, host: str):
    assert client.get("/api/status", headers={"host": host}).status_code == 200


def test_a_cross_origin_post_is_refused(client):
    """A form on another site posting to the server (CSRF): its Origin gives it away."""
    upload = {"data": {"model": "tiny"}, "files": {"file": ("t.abc", b"X:1\nK:C\nCDEF|\n")}}
    r = client.post("/api/primer", headers={"origin": "http://evil.example"}, **upload)
    assert r.status_code == 403, r.text
    r = client.post("/api/primer", headers={"sec-fetch-site": "cross-site"}, **upload)
    assert r.status_code == 403, r.text
    r = client.post("/api/primer", headers={"origin": "null"}, **upload)
    assert r.status_code == 403, r.text
    same = client.post("/api/primer", headers={"origin": "http://127.0.0.1"}, **upload)
    assert same.status_code == 200, same.text
    assert client.post("/api/primer", **upload).status_code == 200  # curl sends no Origin


def test_allow_host_serves_a_proxys_name(runs: Path):
    app = create_app([runs], pretrained=False, hosts=["127.0.0.1", "music.example.org"])
    with TestClient(app, base_url="http://music.example.org") as c:
        assert c.get("/api/status").status_code == 200
        assert c.get("/api/status", headers={"host": "evil.example"}).status_code == 421


def test_serve_plans_hosts_from_its_address():
    from mgen.web.server import served_hosts

    said: list[str] = []
    assert "*" not in served_hosts("127.0.0.1", [], said.append)
    assert "music.example.org" in served_hosts("127.0.0.1", ["music.example.org"], said.append)
    assert "*" in served_hosts("0.0.0.0", [], said.append)
    assert said and "--allow-host" in said[0]


def test_serve_warns_of_a_runs_folder_that_does_not_exist(tmp_path: Path):
    """`serve --runs /nonexistent` said nothing: a typo looked like an empty folder."""
    from mgen.web.server import announce

    said: list[str] = []
    announce("127.0.0.1", 8000, [tmp_path, tmp_path / "nonexistent"], 0, said.append)
    warnings = [line for line in said if line.startswith("warning: --runs")]
    assert warnings == [f"warning: --runs {tmp_path / 'nonexistent'}: no such folder "
                        "(listed once it exists)"]  # fmt: skip
    said.clear()
    announce("127.0.0.1", 8000, [tmp_path], 0, said.append)
    assert not any(line.startswith("warning") for line in said)


# -- 9. a body that never comes ---------------------------------------------------------------


def _response(s: socket.socket) -> str:
    """One whole HTTP response: its headers, then as many body bytes as they announce (a loaded
    machine may deliver the body in a later segment than the headers)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(4096)
        if not chunk:
            return data.decode("latin-1")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next((int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                   if line.lower().startswith(b"content-length:")), 0)  # fmt: skip
    while len(body) < length and (chunk := s.recv(4096)):
        body += chunk
    return (head + b"\r\n\r\n" + body).decode("latin-1")


def _serve_in_thread(app) -> tuple[int, object, threading.Thread]:
    import uvicorn

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    for _ in range(200):
        if server.started:
            break
        time.sleep(0.05)
    return port, server, thread


@pytest.mark.slow
def test_a_body_shorter_than_declared_is_answered_408(runs: Path):
    """Content-Length 5,000, 10 bytes sent, then silence: held open past 70 s before."""
    app = create_app([runs], Limits(body_seconds=1.5), pretrained=False)
    port, server, thread = _serve_in_thread(app)
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            s.sendall(b"POST /api/generate HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                      b"Content-Type: application/json\r\nContent-Length: 5000\r\n\r\n"
                      b'{"model": ')  # fmt: skip
            started = time.monotonic()
            answer = _response(s)
            waited = time.monotonic() - started
        assert answer.startswith("HTTP/1.1 408"), answer
        assert "not received within 1.5 s" in answer
        assert waited < 6, waited
        # A body sent in full after its headers, in pieces, is served as usual.
        with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
            body = b'{"model": "tiny", "length": 4}'
            s.sendall(b"POST /api/generate HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
                      b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body))  # fmt: skip
            for i in range(0, len(body), 8):
                s.sendall(body[i : i + 8])
                time.sleep(0.1)
            answer = _response(s)
        assert answer.startswith("HTTP/1.1 200"), answer
    finally:
        server.should_exit = True
        thread.join(10)
