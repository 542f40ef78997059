"""`mgen serve` streaming: POST /api/stream (server-sent events: notes as they come, then the
batch), its refusals, a client that goes away; the page growing its roll and playing before the
batch ends (Debian's chromium, Selenium); play-along."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

pytest.importorskip("fastapi", reason="mgen serve needs the web extra: pip install 'mgen[web]'")
pytest.importorskip("verovio", reason="mgen serve needs the web extra: pip install 'mgen[web]'")

from conftest import served  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402

from mgen import api  # noqa: E402
from mgen.web.app import create_app  # noqa: E402

LOCAL = "http://127.0.0.1"
MIDI = "pretrained:bach-midi"


@pytest.fixture(scope="module")
def shipped(tmp_path_factory: pytest.TempPathFactory):
    """The app serving the shipped models only."""
    empty = tmp_path_factory.mktemp("no-runs")
    with TestClient(create_app([empty], pretrained=True), base_url=LOCAL) as c:
        yield c


def events(response) -> list[tuple[str, dict]]:
    """The server-sent events of a streamed response: (event, data)."""
    out, kind = [], None
    for line in response.iter_lines():
        if line.startswith("event:"):
            kind = line[6:].strip()
        elif line.startswith("data:"):
            out.append((kind, json.loads(line[5:])))
    return out


def test_a_stream_sends_the_notes_of_the_batch_it_ends_with(shipped: TestClient):
    body = {"model": MIDI, "length": 200, "num_samples": 1, "seed": 5}
    with shipped.stream("POST", "/api/stream", json=body) as r:
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
        got = events(r)
    kinds = [k for k, _ in got]
    assert kinds[0] == "start" and kinds[-1] == "done" and set(kinds[1:-1]) == {"notes"}
    assert got[0][1] == {"accepted": True, "phrase": None} and len(kinds) > 3
    streamed = sorted(tuple(n) for kind, d in got if kind == "notes" for n in d["notes"])
    sample = got[-1][1]["samples"][0]
    assert streamed == sorted(tuple(n) for n in sample["notes"])  # the written MIDI's notes
    again = shipped.post("/api/generate", json=body).json()["samples"][0]
    assert again["notes"] == sample["notes"]  # the batch of the same seed


@pytest.mark.parametrize(
    ("change", "status", "words"),
    [
        ({"num_samples": 2}, 422, "a stream is one sample"),
        ({"model": "nope"}, 404, "no model named"),
        ({"model": "pretrained:bach-satb", "instruments": "kazooo"}, 422, "kazooo"),
        ({"primer": "not tokens"}, 422, "primer"),
    ],
)
def test_a_refused_stream_is_one_json_error_before_any_event(shipped, change, status, words):
    r = shipped.post("/api/stream", json={"model": MIDI, "num_samples": 1, **change})
    assert r.status_code == status, r.text
    assert words in r.json()["error"]


def test_a_client_that_goes_away_leaves_the_server_serving(shipped: TestClient):
    body = {"model": MIDI, "length": 2000, "num_samples": 1, "seed": 1, "grammar": False}
    with shipped.stream("POST", "/api/stream", json=body) as r:
        assert next(line for line in r.iter_lines() if line.startswith("data:"))
    deadline = time.monotonic() + 60
    while shipped.get("/api/status").json()["queue"]["running"] and time.monotonic() < deadline:
        time.sleep(0.05)
    assert shipped.get("/api/status").json()["queue"]["running"] == 0
    r = shipped.post("/api/generate", json={"model": MIDI, "length": 30, "num_samples": 1})
    assert r.status_code == 200, r.text


def test_the_servers_cancel_stops_a_stream_at_its_next_token(tmp_path: Path):
    from multiprocessing import Pipe

    from mgen.core.runs.pretrained import resolve_run
    from mgen.evaluate.verovio_box import CANCEL
    from mgen.web.engine import Cancelled, Engine
    from mgen.web.limits import GenerateRequest

    server, worker = Pipe()
    settings = GenerateRequest(model=MIDI, length=2000, num_samples=1).model_dump()
    server.send(CANCEL)  # waiting before the first token
    with pytest.raises(Cancelled):
        Engine(worker).stream(str(resolve_run("bach-midi")), settings, str(tmp_path))
    sent = []
    while server.poll():
        sent.append(server.recv())
    assert sent == [("event", {"accepted": True, "phrase": None})]  # no note: it stopped at once
    assert not list(tmp_path.iterdir())  # nothing written


def test_the_stream_relays_what_api_stream_gives(shipped: TestClient):
    body = {"model": MIDI, "length": 120, "num_samples": 1, "seed": 9}
    with shipped.stream("POST", "/api/stream", json=body) as r:
        got = events(r)
    run = api.load_run("bach-midi")
    notes = [e for e in api.stream(run, 120, seed=9) if isinstance(e, api.Note)]
    sent = [n for kind, d in got if kind == "notes" for n in d["notes"]]
    assert sent == [[n.pitch, n.start, n.end, n.velocity] for n in notes]  # in the same order


# -- the page ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory):
    """The app (shipped models) under uvicorn in a thread; its base URL."""
    empty = tmp_path_factory.mktemp("no-runs-live")
    with served(create_app([empty], pretrained=True)) as url:
        yield url


def _open(browser, url: str, model: str, length: int):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait

    browser.get(url)
    wait = WebDriverWait(browser, 180)
    wait.until(lambda b: b.find_elements(By.CSS_SELECTOR, "#model option"))
    Select(browser.find_element(By.ID, "model")).select_by_value(model)
    box = browser.find_element(By.ID, "length")
    box.clear()
    box.send_keys(str(length))
    return wait


def _generate_and_wait(browser, wait) -> dict:
    from selenium.webdriver.common.by import By

    browser.execute_script("window.mgenLive = null;")
    browser.find_element(By.ID, "generate").click()
    wait.until(lambda b: b.execute_script(
        "return window.mgenLive && window.mgenLive.log.some(e => e.event === 'done')"))  # fmt: skip
    return browser.execute_script(
        "const m = window.mgenLive; return {log: m.log, firstSoundMs: m.firstSoundMs, "
        "firstNoteMs: m.firstNoteMs};")  # fmt: skip


@pytest.mark.slow
def test_the_page_grows_its_roll_and_plays_before_the_batch_ends(page: str, tmp_path: Path):
    from selenium.webdriver.common.by import By
    from test_serve import _chromium

    browser = _chromium()
    try:
        wait = _open(browser, page, MIDI, 300)
        _generate_and_wait(browser, wait)  # the worker loads the model: a cold start
        live = _generate_and_wait(browser, wait)
        before = [e for e in live["log"] if e["event"] == "notes"]
        done = next(e for e in live["log"] if e["event"] == "done")
        assert before and before[0]["rolled"] > 0 and before[0]["playing"]
        assert before[0]["ms"] < done["ms"] and before[0]["notes"] < done["notes"]
        assert live["firstSoundMs"] is not None
        print(f"\nGenerate -> first note: scheduled {live['firstNoteMs']:.0f} ms, "
              f"sounding {live['firstSoundMs']:.0f} ms; batch done {done['ms']:.0f} ms")  # fmt: skip
        play = browser.find_element(By.CSS_SELECTOR, "#sample-1 button.play")
        assert play.text == "Stop"  # still playing, now on the whole sample's card
        assert browser.find_elements(By.CSS_SELECTOR, "#sample-1 svg.roll rect.note")
        browser.save_screenshot(str(tmp_path / "live.png"))
        errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
        assert not errors, errors
    finally:
        browser.quit()


# -- play along ----------------------------------------------------------------------------------

#: A recorded phrase: C D E F G at 120 bpm (a note every 0.5 s, held 0.4 s), as Web MIDI events.
PHRASE = [
    (t, [0x90, p, 80])
    for t, p in zip((0, 500, 1000, 1500, 2000), (60, 62, 64, 65, 67), strict=True)
]
PHRASE += [(t + 400, [0x80, p, 0]) for t, (_, p, _) in PHRASE]

FAKE_MIDI = """
const input = {name: "recorded keyboard", onmidimessage: null};
navigator.requestMIDIAccess = async () => ({inputs: new Map([["k", input]]), onstatechange: null});
window.fakeKeyboard = input;
"""


def test_a_phrase_must_come_alone_to_a_midi_model(shipped: TestClient):
    body = {"model": "pretrained:folk-abc", "num_samples": 1, "phrase": [[60, 0, 0.5, 80]]}
    r = shipped.post("/api/stream", json=body)
    assert r.status_code == 422 and "needs a MIDI model" in r.json()["error"]
    r = shipped.post("/api/stream", json={**body, "model": MIDI, "primer": "60 d4"})
    assert r.status_code == 422 and "leave the primer empty" in r.json()["error"]


def test_a_phrase_is_answered_at_the_tempo_it_was_played(shipped: TestClient):
    played = [[p, t / 1000, t / 1000 + 0.4, 80] for t, (s, p, _) in PHRASE if s == 0x90]
    body = {"model": MIDI, "num_samples": 1, "length": 80, "seed": 1, "phrase": played}
    with shipped.stream("POST", "/api/stream", json=body) as r:
        got = events(r)
    assert got[0] == ("start", {"accepted": True, "phrase": {"bpm": 120.0, "beats": 4.8,
                                                              "seconds": 2.4}})  # fmt: skip
    notes = [(n, primer) for kind, d in got if kind == "notes"
             for n, primer in zip(d["notes"], d["primer"], strict=True)]  # fmt: skip
    assert [n[0] for n, primer in notes if primer] == [60, 62, 64, 65, 67]
    assert [n[1] for n, primer in notes if primer] == [0.0, 0.5, 1.0, 1.5, 2.0]  # 120 bpm
    assert any(not primer for _, primer in notes)  # and an answer


@pytest.mark.slow
def test_the_page_answers_a_phrase_played_on_a_midi_keyboard(page: str, tmp_path: Path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait
    from test_serve import _chromium

    browser = _chromium()
    try:
        _open(browser, page, MIDI, 120)
        assert browser.find_element(By.ID, "along").is_displayed()
        browser.find_element(By.CSS_SELECTOR, '#along-keys [data-pitch="60"]').click()  # the keys
        assert browser.execute_script("return window.mgenAlong.notes.length") == 1
        browser.execute_script("clearTimeout(mgenAlong.timer); mgenAlong.notes = [];"
                               "mgenAlong.t0 = null; window.mgenLive = null;")  # fmt: skip
        browser.execute_script(FAKE_MIDI)
        browser.find_element(By.ID, "connect-midi").click()
        wait = WebDriverWait(browser, 180)
        wait.until(lambda b: "recorded keyboard" in b.find_element(By.ID, "midi-info").text)
        browser.execute_script(
            "for (const [t, data] of arguments[0]) "
            "setTimeout(() => fakeKeyboard.onmidimessage({data}), t);", PHRASE)  # fmt: skip
        wait.until(lambda b: b.execute_script(
            "return window.mgenLive && window.mgenLive.log.some(e => e.event === 'done')"))  # fmt: skip
        live = browser.execute_script(
            "const m = window.mgenLive; return {answered: m.answered, phrase: m.phrase, "
            "sent: mgenAlong.sent};")  # fmt: skip
        assert [n[0] for n in live["sent"][0]] == [60, 62, 64, 65, 67]
        assert abs(live["phrase"]["bpm"] - 120) < 8  # the tempo it was played at
        assert live["answered"] > 0  # the model's own notes played
        assert "answered 5 note(s)" in browser.find_element(By.ID, "along-info").text
        browser.save_screenshot(str(tmp_path / "along.png"))
        errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
        assert not errors, errors
    finally:
        browser.quit()
