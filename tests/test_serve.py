"""`mgen serve`: the JSON API and every refusal (TestClient), the queue, the server's start-up,
and the page itself in Debian's chromium (Selenium): generate, see, play, download."""

from __future__ import annotations

import asyncio
import io
import shutil
import threading
import time
from pathlib import Path

import pytest

pytest.importorskip("fastapi", reason="mgen serve needs the web extra: pip install 'mgen[web]'")
pytest.importorskip("verovio", reason="mgen serve needs the web extra: pip install 'mgen[web]'")

from conftest import free_port, served  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402

import mgen  # noqa: E402
from mgen.web.app import create_app  # noqa: E402
from mgen.web.limits import Limits  # noqa: E402
from mgen.web.queue import Busy, JobQueue  # noqa: E402

TINY = {"batch_size": 8, "seq_len": 32, "device": "cpu"}
LOCAL = "http://127.0.0.1"  # the server answers only to this machine's names (DNS rebinding)


def _first_tunes(source: Path, dest: Path, count: int) -> Path:
    """The first `count` tunes of a multi-tune ABC file."""
    text = source.read_text(encoding="utf-8", errors="replace")
    tunes = text.split("\nX:")
    dest.write_text("\nX:".join(tunes[: count + 1]) + "\n", encoding="utf-8")
    return dest


@pytest.fixture(scope="session")
def runs(
    tmp_path_factory: pytest.TempPathFactory, music21_corpus: Path, chorale_midi: Path
) -> Path:
    """A --runs folder: a small abc-char run ("folk"), a MIDI run ("chorales"), a
    multi-track one ("voices") and MidiTok's REMI with a learned vocabulary ("remi")."""
    root = tmp_path_factory.mktemp("serve-runs")
    data = _first_tunes(
        music21_corpus / "essenFolksong" / "ballad10.abc", root.parent / "tunes.abc", 16
    )
    mgen.train(tokenizer="abc-char", data=[str(data)], max_steps=40, out=root / "folk",
               model_options={"hidden_size": 48, "embed_dim": 16}, **TINY)  # fmt: skip
    mgen.train(tokenizer="midi-notes", data=[str(chorale_midi.parent)], max_steps=8,
               out=root / "chorales", model_options={"hidden_size": 32, "embed_dim": 16}, **TINY)  # fmt: skip
    mgen.train(tokenizer="midi-tracks", data=[str(chorale_midi.parent)], max_steps=8,
               out=root / "voices", model_options={"hidden_size": 32, "embed_dim": 16}, **TINY)  # fmt: skip
    mgen.train(tokenizer="miditok", tokenizer_options={"vocab_size": 400},
               data=[str(chorale_midi.parent)], max_steps=8, out=root / "remi",
               model_options={"hidden_size": 32, "embed_dim": 16}, **TINY)  # fmt: skip
    return root


@pytest.fixture(scope="session")
def client(runs: Path):
    limits = Limits(max_upload_bytes=64 * 1024, max_body_bytes=96 * 1024)
    with TestClient(create_app([runs], limits, pretrained=False), base_url=LOCAL) as c:
        yield c


@pytest.fixture(scope="session")
def batch(client: TestClient) -> dict:
    r = client.post(
        "/api/generate", json={"model": "folk", "length": 120, "num_samples": 2, "seed": 1}
    )
    assert r.status_code == 200, r.text
    return r.json()


def refused(response, status: int, *words: str) -> str:
    """A refusal: the status, one `error` line naming `words`, never a traceback."""
    assert response.status_code == status, response.text
    message = response.json()["error"]
    assert "Traceback" not in message and "\n" not in message
    for w in words:
        assert w in message, message
    return message


# -- listing and choosing models ----------------------------------------------------------------


def test_models_lists_each_run_once_with_its_figures(client: TestClient):
    models = {m["name"]: m for m in client.get("/api/models").json()["models"]}
    assert set(models) == {
        "folk",
        "chorales",
        "voices",
        "remi",
    }  # runs/latest is the same run as one of them
    folk = models["folk"]
    assert (folk["source"], folk["tokenizer"], folk["model"]) == ("run", "abc-char", "lstm2")
    assert folk["parameters"] > 1000 and folk["val_loss"] > 0
    assert "path" not in folk  # the server's folders stay on the server


@pytest.mark.parametrize(
    "name", ["../folk", "folk/..", "/etc/passwd", "folk/../chorales", "latest", "", "~"]
)
def test_a_model_is_chosen_by_listed_name_only(client: TestClient, runs: Path, name: str):
    for model in (name, str(runs / "folk")):
        r = client.post("/api/generate", json={"model": model, "length": 5})
        refused(r, 404, "no model named", "/api/models")


def test_symlinks_out_of_runs_are_not_listed(runs: Path, tmp_path: Path):
    outside = tmp_path / "outside"
    shutil.copytree(runs / "folk", outside / "run")
    root = tmp_path / "root"
    shutil.copytree(runs / "folk", root / "inside")
    (root / "escape").symlink_to(outside / "run", target_is_directory=True)
    leaky = root / "leaky"
    leaky.mkdir()
    for f in ("config.json", "tokenizer.json"):
        shutil.copy(runs / "folk" / f, leaky / f)
    (leaky / "model.safetensors").symlink_to(outside / "run" / "model.safetensors")
    with TestClient(create_app([root], pretrained=False), base_url=LOCAL) as c:
        assert [m["name"] for m in c.get("/api/models").json()["models"]] == ["inside"]
        for name in ("escape", "leaky"):
            refused(c.post("/api/generate", json={"model": name, "length": 5}), 404, "no model")


# -- generating ---------------------------------------------------------------------------------


def test_a_batch_has_notation_notes_and_downloads(client: TestClient, batch: dict):
    assert len(batch["samples"]) == 2 and batch["settings"]["seed"] == 1
    drawn = [s for s in batch["samples"] if s["svg"]]
    assert drawn and all(s["svg"].startswith("<svg") for s in drawn)
    played = [s for s in batch["samples"] if s["notes"]]
    assert played and all(0 <= n[0] < 128 and n[2] > n[1] for s in played for n in s["notes"])
    sample = played[0]
    base = f"/api/batches/{batch['id']}/samples/{sample['index']}"
    native = client.get(f"{base}/native")
    assert native.status_code == 200 and native.text.startswith("X:")
    midi = client.get(f"{base}/midi")
    assert midi.status_code == 200 and midi.content[:4] == b"MThd"
    assert "attachment" in midi.headers["content-disposition"]
    xml = client.get(f"{base}/musicxml")
    assert xml.status_code == 200 and b"score-partwise" in xml.content


def test_the_same_seed_gives_the_same_batch(client: TestClient, batch: dict):
    again = client.post("/api/generate", json={**batch["settings"]}).json()
    assert [s["text"] for s in again["samples"]] == [s["text"] for s in batch["samples"]]
    assert again["id"] != batch["id"]


def test_continue_this_primes_with_the_sample(client: TestClient, batch: dict):
    sample = batch["samples"][0]
    assert sample["primer"]
    body = {"model": "folk", "length": 20, "num_samples": 1, "primer": sample["primer"]}
    more = client.post("/api/generate", json=body).json()["samples"][0]
    assert more["tokens"] > sample["tokens"]


def test_a_primer_is_text_never_a_file_name(client: TestClient, tmp_path: Path):
    secret = tmp_path / "secret.abc"
    secret.write_text("X:1\nK:C\nQQQQ|\n")
    r = client.post("/api/generate", json={"model": "folk", "length": 5, "primer": str(secret)})
    if r.status_code == 200:
        assert "QQQQ" not in r.json()["samples"][0]["text"]
    else:  # a path's characters the model never saw are refused by name
        refused(r, 422, "primer has symbols this model does not know")


def test_a_midi_model_is_engraved_through_musicxml(client: TestClient):
    r = client.post("/api/generate", json={"model": "chorales", "length": 60, "num_samples": 1})
    assert r.status_code == 200, r.text
    sample = r.json()["samples"][0]
    assert sample["text"] is None and sample["formats"] == {"native": ".mid", "midi": True}
    assert sample["notes"]
    assert sample["svg"] or "piano roll" in sample["notation_note"]


def test_a_miditok_model_generates_notes_and_takes_a_midi_primer(
    client: TestClient, chorale_midi: Path
):
    got = upload(client, "remi", "bach.mid", chorale_midi.read_bytes())
    assert got.status_code == 200, got.text
    body = {"model": "remi", "length": 120, "num_samples": 1, "seed": 2,
            "primer": got.json()["primer"]}  # fmt: skip
    r = client.post("/api/generate", json=body)
    assert r.status_code == 200, r.text
    sample = r.json()["samples"][0]
    assert sample["formats"] == {"native": ".mid", "midi": True} and sample["notes"]


def test_the_batch_is_judged_against_the_training_corpus(client: TestClient, batch: dict):
    report = client.get(f"/api/batches/{batch['id']}/eval").json()
    assert "tunes.abc" in report["reference"]["source"] and report["copy_index"]["pieces"] > 0
    rows = report["formats"]["midi"]["rows"]
    labels = [r[0] for r in rows]
    assert labels[0] == "valid" and any(lb.startswith("stuck") for lb in labels)
    assert any(lb.startswith("copied") for lb in labels)
    assert all(len(r) == 3 for r in rows)  # samples beside the corpus


# -- limits: each refused with a clear message and a 4xx ----------------------------------------

BAD_SETTINGS = [
    ({"length": 0}, "length: must be >= 1"),
    ({"length": 2001}, "length: must be <= 2000"),
    ({"num_samples": 0}, "num_samples: must be >= 1"),
    ({"num_samples": 9}, "num_samples: must be <= 8"),
    ({"seed": -1}, "seed: must be >= 0"),
    ({"temperature": 0}, "temperature: must be > 0"),
    ({"temperature": 50}, "temperature: must be <= 5"),
    ({"decoder": "top-p", "top_p": 1.5}, "top_p: must be <= 1"),
    ({"decoder": "top-k", "top_k": 0}, "top_k: must be >= 1"),
    ({"primer": "a" * 20_001}, "primer: too long: at most 20000 characters"),
    ({"model": "x" * 201}, "model: too long"),
    ({"decoder": "beam"}, "decoder: no decoder 'beam'"),
    ({"decoder": "argmax", "top_k": 5}, "does not take --top-k"),
    ({"primer": "\u266b"}, "primer has symbols this model does not know"),
    ({"lenght": 5}, "lenght: is not a setting"),
    ({"length": "long"}, "length:"),
]


@pytest.mark.parametrize(("change", "message"), BAD_SETTINGS)
def test_every_setting_has_a_limit(client: TestClient, change: dict, message: str):
    r = client.post("/api/generate", json={"model": "folk", **change})
    refused(r, 422, message)


def test_a_body_that_is_not_json_is_refused(client: TestClient):
    r = client.post(
        "/api/generate", content=b"{not json", headers={"content-type": "application/json"}
    )
    refused(r, 422, "not valid JSON")


def test_an_oversized_body_is_refused_before_it_is_read(client: TestClient):
    big = b"x" * (97 * 1024)
    refused(client.post("/api/generate", content=big), 413, "request body over")

    def chunks():  # no Content-Length: counted as it streams
        for _ in range(200):
            yield b"x" * 1024

    refused(client.post("/api/generate", content=chunks()), 413, "request body over")


def test_a_server_may_set_tighter_limits(runs: Path):
    with TestClient(
        create_app([runs], Limits(max_length=50, max_samples=2), pretrained=False), base_url=LOCAL
    ) as c:
        refused(c.post("/api/generate", json={"model": "folk", "length": 51}), 422, "<= 50")
        body = {"model": "folk", "length": 10, "num_samples": 3}
        refused(c.post("/api/generate", json=body), 422, "num_samples: must be <= 2")
        assert c.get("/api/options").json()["limits"]["max_length"] == 50


# -- primer uploads -----------------------------------------------------------------------------


def upload(client: TestClient, model: str, name: str, data: bytes):
    return client.post("/api/primer", data={"model": model}, files={"file": (name, data)})


def test_an_abc_file_becomes_primer_text(client: TestClient):
    got = upload(client, "folk", "tune.abc", b"X:1\nM:3/4\nK:G\nGAB cde|d2 B2 G2|\n").json()
    assert got["primer"].startswith("M:3/4") and got["tokens"] == got["of"] > 10
    r = client.post("/api/generate", json={"model": "folk", "length": 10, "primer": got["primer"]})
    assert r.status_code == 200


def test_a_midi_file_becomes_primer_text(client: TestClient, chorale_midi: Path):
    got = upload(client, "chorales", "bach.mid", chorale_midi.read_bytes())
    assert got.status_code == 200, got.text
    assert got.json()["tokens"] > 0
    r = client.post(
        "/api/generate", json={"model": "chorales", "length": 10, "primer": got.json()["primer"]}
    )
    assert r.status_code == 200, r.text


def test_uploads_of_the_wrong_type_are_refused(client: TestClient, chorale_midi: Path):
    refused(upload(client, "folk", "bach.mid", chorale_midi.read_bytes()), 415, "reads .abc")
    refused(upload(client, "chorales", "tune.abc", b"X:1\nK:C\nC|\n"), 415, "reads .mid")
    refused(upload(client, "folk", "noextension", b"X:1\nK:C\nC|\n"), 415, "no suffix")
    refused(upload(client, "../folk", "tune.abc", b"X:1\nK:C\nC|\n"), 404, "no model")


def test_oversized_uploads_are_refused(client: TestClient):
    refused(upload(client, "folk", "big.abc", b"X:1\nK:C\n" + b"C" * 70_000), 413, "at most 65,536")
    refused(upload(client, "folk", "huge.abc", b"C" * 200_000), 413, "request body over")


MALFORMED = [
    ("empty.mid", b""),
    ("junk.mid", b"MThd\x00\x00\x00\x06\x00\x01\x00\x02"),
    ("text.mid", b"this is not a MIDI file at all"),
    ("noise.mid", bytes(range(256)) * 20),
    ("track.mid", b"MThd\x00\x00\x00\x06\x00\x00\x00\x01\x01\xe0MTrk\xff\xff\xff\xff\x00\x90"),
]


@pytest.mark.parametrize(("name", "data"), MALFORMED)
def test_a_malformed_midi_upload_is_a_clear_4xx(client: TestClient, name: str, data: bytes):
    refused(upload(client, "chorales", name, data), 422, "upload:")


@pytest.mark.parametrize(
    "data", [b"", b"\x00\xff\xfe" * 100, b"X:1\n", "K:C\n\u266b\u266b\n".encode(), b"\n" * 50]
)
def test_a_malformed_abc_upload_is_never_a_500(client: TestClient, data: bytes):
    r = upload(client, "folk", "odd.abc", data)
    assert r.status_code == 200 or 400 <= r.status_code < 500, r.text
    assert "error" in r.json() or "primer" in r.json()


def test_a_malformed_form_is_a_4xx(client: TestClient):
    bad = b'--XX\r\nContent-Disposition: form-data; name="file"; filename="a.mid"\r\n\r\nabc'
    r = client.post(
        "/api/primer", content=bad, headers={"content-type": "multipart/form-data; boundary=XX"}
    )
    assert 400 <= r.status_code < 500 and "error" in r.json()
    r = client.post("/api/primer", data={"model": "folk"})
    refused(r, 422, "file:")
    r = client.post("/api/primer", files={"file": ("a.abc", b"X:1\n")})
    refused(r, 422, "model:")


# -- downloads, the page, the queue --------------------------------------------------------------


def test_downloads_are_named_by_batch_and_number_only(client: TestClient, batch: dict):
    base = f"/api/batches/{batch['id']}/samples"
    refused(client.get(f"{base}/0/midi"), 404, "samples 1 to 2")
    refused(client.get(f"{base}/3/midi"), 404, "samples 1 to 2")
    refused(client.get(f"{base}/1/config"), 404, "no download 'config'")
    refused(client.get("/api/batches/0123456789abcdef/samples/1/midi"), 404, "no batch")
    refused(client.get("/api/batches/0123456789abcdef/eval"), 404, "no batch")
    for path in (f"{base}/1/../../../../etc/passwd", f"{base}/%2e%2e/midi", "/static/../app.py"):
        assert 400 <= client.get(path).status_code < 500  # no route, or no such sample


def test_the_page_and_its_docs_need_no_internet(client: TestClient):
    page = client.get("/")
    assert page.status_code == 200 and "static/app.js" in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]
    for name in ("app.js", "roll.js", "synth.js", "style.css"):
        assert client.get(f"/static/{name}").status_code == 200
    docs = client.get("/docs")
    assert docs.status_code == 200 and "cdn" not in docs.text.lower()
    assert "/api/generate" in client.get("/openapi.json").json()["paths"]
    options = client.get("/api/options").json()
    assert {"temperature", "top-k", "top-p", "argmax"} <= {d["name"] for d in options["decoders"]}


def test_a_full_queue_answers_503_at_once(client: TestClient, monkeypatch: pytest.MonkeyPatch):
    queue = client.app.state.service.queue

    async def full(*_args, **_kwargs):
        raise Busy("the server is busy: 1 generating, 64 waiting (at most 64); try again")

    monkeypatch.setattr(queue, "run", full)
    r = client.post("/api/generate", json={"model": "folk", "length": 5})
    refused(r, 503, "busy")
    assert r.headers["retry-after"] == "2"


def test_the_queue_runs_a_bounded_number_and_refuses_past_its_length():
    queue = JobQueue(workers=1, max_waiting=2)
    gate = threading.Event()
    running: list[int] = []

    def job(i: int) -> int:
        running.append(i)
        gate.wait(10)
        return i

    async def scenario():
        tasks = [asyncio.create_task(queue.run(job, i)) for i in range(3)]
        await asyncio.sleep(0.2)
        assert queue.status()["running"] == 1 and queue.status()["waiting"] == 2
        with pytest.raises(Busy):
            await queue.run(job, 99)
        gate.set()
        return await asyncio.gather(*tasks)

    assert asyncio.run(scenario()) == [0, 1, 2]
    assert running == [0, 1, 2] and queue.status()["done"] == 3


# -- the server and the command ------------------------------------------------------------------


def test_serve_binds_loopback_by_default_and_warns_otherwise(
    runs: Path, monkeypatch: pytest.MonkeyPatch
):
    import uvicorn

    from mgen.web import server

    calls = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: calls.append(kw))
    lines: list[str] = []
    port = free_port()
    server.serve("127.0.0.1", port, [runs], Limits(), lines.append)
    assert calls[-1]["host"] == "127.0.0.1" and f"http://127.0.0.1:{port}/" in lines[0]
    assert "model(s) from" in lines[0] and not any("warning" in ln for ln in lines)
    monkeypatch.setattr(server, "check_port", lambda host, port: None)  # bind nothing public
    server.serve("0.0.0.0", port, [runs], Limits(), lines.append)
    assert calls[-1]["host"] == "0.0.0.0"
    assert any(ln.startswith("warning: listening on 0.0.0.0") for ln in lines)
    assert server.is_loopback("::1") and server.is_loopback("localhost")
    assert not server.is_loopback("192.168.1.2") and not server.is_loopback("example.org")


def test_a_port_in_use_is_one_clear_error(runs: Path):
    import socket

    from mgen.core.contracts.errors import ConfigError
    from mgen.web import server

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(ConfigError, match=f"cannot listen on http://127.0.0.1:{port}/"):
            server.serve("127.0.0.1", port, [runs], Limits(), print)


def test_the_serve_command(cli, tmp_path: Path):
    result = cli("serve", "--help")
    assert result.exit_code == 0 and "--runs" in result.output and "127.0.0.1" in result.output
    assert "serve" in cli("--help").output
    from conftest import assert_one_line_error
    from conftest import mgen as run_mgen

    assert_one_line_error(*run_mgen("serve", "--port", "70000", "--runs", tmp_path), "--port")
    assert_one_line_error(*run_mgen("serve", "--workers", "0", "--runs", tmp_path), "--workers")


# -- choosing the ensemble --------------------------------------------------------------------


def test_the_options_name_the_tokenizers_that_choose_their_ensemble(client: TestClient):
    ensembles = client.get("/api/options").json()["ensembles"]
    assert "midi-tracks" in ensembles["tokenizers"]
    assert "abc-char" not in ensembles["tokenizers"] and "midi-notes" not in ensembles["tokenizers"]
    assert "violin,violin,viola,cello" in ensembles["presets"]
    assert {"violin", "drums", "Acoustic Grand Piano"} <= set(ensembles["instruments"])


def test_a_batch_has_the_instruments_asked_for(client: TestClient):
    import pretty_midi

    body = {"model": "voices", "length": 80, "num_samples": 2, "seed": 3,
            "instruments": "violin,cello,drums"}  # fmt: skip
    r = client.post("/api/generate", json=body)
    assert r.status_code == 200, r.text
    for sample in r.json()["samples"]:
        names = [t["instrument"] for t in sample["tracks"]]
        assert set(names) <= {"Violin", "Cello", "Drums"}, names
        got = client.get(f"/api/batches/{r.json()['id']}/samples/{sample['index']}/midi")
        midi = pretty_midi.PrettyMIDI(io.BytesIO(got.content))
        assert {(i.program, i.is_drum) for i in midi.instruments} <= {(40, False), (42, False),
                                                                      (0, True)}  # fmt: skip


def test_an_unknown_instrument_is_one_clear_refusal(client: TestClient):
    body = {"model": "voices", "length": 20, "instruments": "violin,kazooo"}
    refused(client.post("/api/generate", json=body), 422, "kazooo")
    body = {"model": "folk", "length": 20, "instruments": "violin"}
    refused(client.post("/api/generate", json=body), 422, "midi-tracks")


# -- a real server, a real browser ----------------------------------------------------------------


@pytest.fixture(scope="session")
def live(runs: Path):
    """`mgen serve`'s app under uvicorn on 127.0.0.1 in a thread; its base URL."""
    with served(create_app([runs], pretrained=False)) as url:
        yield url


@pytest.mark.slow
def test_concurrent_requests_are_all_answered_and_the_page_stays_responsive(live: str):
    from tools.load_serve import main

    assert main(["--url", live, "--requests", "12", "--length", "40", "--timeout", "300"]) == 0


def _chromium():
    """Selenium driving Debian's chromium headless; skipped with the reason where absent."""
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed")
    binary, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if not (binary and driver):
        pytest.skip(
            "Debian's chromium and chromium-driver are not installed (`make test` installs "
            "them with apt-get where it runs as root: tools/install_browser.sh)"
        )
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                "--window-size=1400,1600", "--autoplay-policy=no-user-gesture-required"):  # fmt: skip
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(driver), options=options)


def _download(browser, folder: Path, link) -> Path:
    """Click a download link; the file once the browser has written it whole."""
    browser.execute_cdp_cmd(
        "Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(folder)}
    )
    link.click()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        done = [p for p in folder.iterdir() if not p.name.endswith(".crdownload")]
        if done:
            return done[0]
        time.sleep(0.1)
    raise AssertionError("the download did not arrive")


@pytest.mark.slow
def test_the_page_generates_shows_plays_downloads_and_continues(live: str, tmp_path: Path):
    import pretty_midi
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    browser = _chromium()
    try:
        browser.get(live)
        wait = WebDriverWait(browser, 180)
        wait.until(lambda b: b.find_elements(By.CSS_SELECTOR, "#model option"))
        for field, value in (("length", "120"), ("num_samples", "3"), ("seed", "2")):
            box = browser.find_element(By.ID, field)
            box.clear()
            box.send_keys(value)
        browser.find_element(By.ID, "generate").click()
        wait.until(lambda b: b.find_elements(By.CSS_SELECTOR, ".sample"))
        assert browser.find_elements(By.CSS_SELECTOR, ".sample .notation svg")  # verovio's SVG
        assert browser.find_elements(By.CSS_SELECTOR, ".sample svg.roll rect.note")
        play = next(
            b for b in browser.find_elements(By.CSS_SELECTOR, "button.play") if b.is_enabled()
        )
        play.click()
        time.sleep(0.5)
        assert play.text == "Stop"
        link = browser.find_element(By.CSS_SELECTOR, "a[href$='/midi']")
        midi = _download(browser, tmp_path, link)
        assert midi.suffix == ".mid" and pretty_midi.PrettyMIDI(str(midi)).instruments[0].notes
        wait.until(lambda b: b.find_elements(By.CSS_SELECTOR, "#eval-body table"))
        assert browser.find_element(By.ID, "error").get_attribute("hidden")
        first = browser.find_element(By.ID, "batch-info").text
        more = next(
            b for b in browser.find_elements(By.CSS_SELECTOR, "button.continue") if b.is_enabled()
        )
        more.click()  # the sample becomes the primer of a new batch
        wait.until(lambda b: b.find_element(By.ID, "batch-info").text not in ("", first))
        assert browser.find_element(By.ID, "primer").get_attribute("value")
        browser.save_screenshot(str(tmp_path / "serve.png"))
        errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
        assert not errors, errors
    finally:
        browser.quit()


@pytest.mark.slow
def test_the_page_shows_mutes_and_solos_the_tracks_of_a_sample(
    live: str, tmp_path: Path, music21_corpus: Path
):
    """A sample of several tracks (a four-part chorale and a drum kit, as the server's view
    makes it) on the live page: a legend names each track with its instrument, the roll is
    coloured by track, and soloing or muting a track dims the others or it, playing on."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait
    from test_serve_tracks import multi_track_sample

    from mgen.core.contracts import registry
    from mgen.web.views import sample_view

    midi = multi_track_sample(music21_corpus, tmp_path / "tracks")
    sample = sample_view(1, registry.load("tokenizer", "midi-notes")(), [], [midi])
    browser = _chromium()
    try:
        browser.get(live)
        WebDriverWait(browser, 180).until(
            lambda b: b.find_elements(By.CSS_SELECTOR, "#model option")
        )
        browser.execute_script(
            "document.getElementById('samples').replaceChildren("
            "sampleCard({id: 'tracks'}, arguments[0]));", sample)  # fmt: skip
        items = browser.find_elements(By.CSS_SELECTOR, ".sample .legend .legend-track")
        assert [i.find_element(By.CSS_SELECTOR, ".track-name").text for i in items] == [
            "Soprano (Choir Aahs)", "Alto (Choir Aahs)", "Tenor (Cello)", "Bass (Acoustic Bass)",
            "Kit (drums)"]  # fmt: skip
        notes = browser.find_elements(By.CSS_SELECTOR, ".sample svg.roll rect.note")
        colours = {n.get_attribute("class").split()[-1] for n in notes}
        assert colours == {"t0", "t1", "t2", "t3", "t4"}  # a colour per track
        swatch = items[1].find_element(By.CSS_SELECTOR, ".swatch")
        assert swatch.value_of_css_property("background-color") != "rgba(0, 0, 0, 0)"

        def muted() -> set[str]:
            rects = browser.find_elements(By.CSS_SELECTOR, "svg.roll rect.note.muted")
            return {r.get_attribute("data-track") for r in rects}

        browser.find_element(By.CSS_SELECTOR, "button.play").click()
        items[0].find_element(By.CSS_SELECTOR, "button.solo").click()  # the soprano alone
        assert muted() == {"1", "2", "3", "4"}
        items[0].find_element(By.CSS_SELECTOR, "button.solo").click()
        items[4].find_element(By.CSS_SELECTOR, "button.mute").click()  # everything but drums
        assert muted() == {"4"}
        assert browser.find_element(By.CSS_SELECTOR, "button.play").text == "Stop"
        browser.save_screenshot(str(tmp_path / "tracks.png"))
        errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
        assert not errors, errors
    finally:
        browser.quit()


@pytest.mark.slow
def test_the_page_chooses_the_ensemble_of_a_multi_track_model(live: str, tmp_path: Path):
    """The Ensemble field is there for a model whose tokenizer names its instruments and not
    for the others; what is typed in it names the tracks of the batch."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait

    browser = _chromium()
    try:
        browser.get(live)
        wait = WebDriverWait(browser, 180)
        wait.until(lambda b: b.find_elements(By.CSS_SELECTOR, "#model option"))
        model = Select(browser.find_element(By.ID, "model"))
        model.select_by_value("folk")
        assert not browser.find_element(By.ID, "ensemble").is_displayed()
        model.select_by_value("voices")
        assert browser.find_element(By.ID, "ensemble").is_displayed()
        presets = browser.find_elements(By.CSS_SELECTOR, "#ensembles option")
        assert "soprano,alto,tenor,bass" in [p.get_attribute("value") for p in presets]
        browser.find_element(By.ID, "instruments").send_keys("flute,cello")
        length = browser.find_element(By.ID, "length")
        length.clear()
        length.send_keys("400")  # (seed 0: a first sample with notes in both tracks)
        browser.find_element(By.ID, "generate").click()
        wait.until(lambda b: b.find_elements(By.CSS_SELECTOR, ".sample"))
        labels = {e.text for e in browser.find_elements(By.CSS_SELECTOR, ".legend .track-name")}
        assert labels and all(("Flute" in x or "Cello" in x) for x in labels), labels
        browser.find_element(By.ID, "instruments").send_keys(",kazooo")
        browser.find_element(By.ID, "generate").click()
        wait.until(lambda b: not b.find_element(By.ID, "error").get_attribute("hidden"))
        assert "kazooo" in browser.find_element(By.ID, "error").text
        browser.save_screenshot(str(tmp_path / "ensemble.png"))
    finally:
        browser.quit()


def test_shipped_models_are_listed_beside_the_runs(runs: Path):
    from mgen.core.runs.pretrained import list_pretrained

    shipped = {f"pretrained:{p.name}" for p in list_pretrained() if not p.error}
    with TestClient(create_app([runs]), base_url=LOCAL) as c:
        listed = {m["name"]: m for m in c.get("/api/models").json()["models"]}
    assert shipped <= set(listed) and {"folk", "chorales"} <= set(listed)
    assert all(listed[name]["source"] == "pretrained" for name in shipped)


def test_verovio_crashing_on_malformed_kern_does_not_take_the_server_down():
    from mgen.evaluate import verovio_box
    from mgen.web.views import engrave

    crash = "**kern\nthis\tis\nnot kern at all\n*-\n"  # verovio 6 aborts its process on this
    assert verovio_box.run(crash)[0] == verovio_box.CRASHED
    assert engrave(crash) is None
    assert engrave("**kern\n*M4/4\n4c\n4d\n4e\n4f\n=\n*-\n").startswith("<svg")  # a new child


@pytest.mark.parametrize(
    ("model", "decoder", "primer"),
    [
        ("folk", "temperature", "M:6/8\nK:G\n"),
        ("folk", "argmax", "K:D\n"),
        ("chorales", "argmax", ""),
        ("folk", None, "K:D\n"),  # no decoder: the run's chosen decoding (here none: temperature)
    ],
)
def test_the_server_samples_exactly_as_run_sample(
    client: TestClient, runs: Path, model: str, decoder: str | None, primer: str
):
    """The server repeats Run.sample's steps (its primer is never a file name): same samples."""
    body = {"model": model, "decoder": decoder, "length": 60, "num_samples": 2, "seed": 4,
            "primer": primer}  # fmt: skip
    body = {k: v for k, v in body.items() if v is not None}
    got = client.post("/api/generate", json=body).json()["samples"]
    pieces = mgen.load_run(runs / model).sample(60, 2, decoder, primer=primer, seed=4)
    tok = mgen.load_run(runs / model).tokenizer
    assert [tok.parse_primer(s["primer"]) for s in got] == pieces
