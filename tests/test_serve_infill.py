"""`mgen serve` infilling (issue 29, item 2): POST /api/infill regenerates bars (beats) of a
sample the server made with a run trained with --infill, keeping the ABC header and every bar
outside the span (every note outside it, for MIDI), exactly as `api.infill` does; the models
listing says which models infill and in what; each refusal is one line with a 4xx; and the
page's "Regenerate bars" control on a sample card (Debian's chromium, Selenium). Real corpus
files throughout: Essen ballads and a Bach chorale."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest

pytest.importorskip("fastapi", reason="mgen serve needs the web extra: pip install 'mgen[web]'")
pytest.importorskip("verovio", reason="mgen serve needs the web extra: pip install 'mgen[web]'")

from conftest import served  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402
from test_serve import LOCAL, _chromium, refused  # noqa: E402

from mgen import api  # noqa: E402
from mgen.plugins.tokenizers.abc_char import AbcCharTokenizer  # noqa: E402
from mgen.web.app import create_app  # noqa: E402
from tests.conftest import TINY, mgen  # noqa: E402

SPAN = "2-3"  # the bars regenerated


@pytest.fixture(scope="module")
def tunes(tmp_path_factory: pytest.TempPathFactory, music21_corpus: Path) -> Path:
    folder = tmp_path_factory.mktemp("ballads")
    shutil.copy(music21_corpus / "essenFolksong" / "ballad10.abc", folder)
    return folder / "ballad10.abc"


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory, tunes: Path, chorale_midi: Path) -> Path:
    """A --runs folder: abc-char trained with --infill ("fill"), abc-char without ("plain")
    and midi-notes with --infill ("notes"), each a few steps of a tiny model."""
    root = tmp_path_factory.mktemp("infill-runs")
    for name, tokenizer, data, more in (
        ("fill", "abc-char", tunes.parent, ["--infill", "--infill-share", "1", "--max-steps", "2"]),
        ("plain", "abc-char", tunes.parent, ["--max-steps", "1"]),
        ("notes", "midi-notes", chorale_midi.parent,
         ["--infill", "--infill-share", "1", "--max-steps", "2"]),
    ):  # fmt: skip
        code, out = mgen("train", "--tokenizer", tokenizer, "--data", data, *more,
                         "--out", root / name, *TINY)  # fmt: skip
        assert code == 0, out
    return root


@pytest.fixture(scope="module")
def client(runs: Path):
    with TestClient(create_app([runs], pretrained=False), base_url=LOCAL) as c:
        yield c


def first_tune(tunes: Path) -> str:
    """The first ballad as abc-char reads it (its header, then its bars)."""
    return "".join(AbcCharTokenizer().read(tunes)[0])


@pytest.fixture(scope="module")
def source(client: TestClient, tunes: Path) -> dict:
    """A batch of two samples: the first ballad, continued a little by the plain model."""
    body = {"model": "plain", "primer": first_tune(tunes), "length": 10, "num_samples": 2,
            "seed": 1}  # fmt: skip
    r = client.post("/api/generate", json=body)
    assert r.status_code == 200, r.text
    return r.json()


def infill(client: TestClient, source: dict, **change):
    body = {"model": "fill", "batch": source["id"], "index": 1, "bars": SPAN, "length": 60,
            "num_samples": 2, "seed": 3, **change}  # fmt: skip
    return client.post("/api/infill", json=body)


def bars(tokens: list[str]) -> list[str]:
    """The text of every bar, in order (abc-char's spans: after the header)."""
    at = [o for _, o in AbcCharTokenizer().spans(tokens)]
    return ["".join(tokens[a:b]) for a, b in zip(at, at[1:], strict=False)]


def header(tokens: list[str]) -> list[str]:
    """The lines before the first bar."""
    return "".join(tokens[: AbcCharTokenizer().spans(tokens)[0][1]]).strip().splitlines()


def assert_kept_outside(before: str, after: str, first: int, last: int) -> None:
    """`after` has `before`'s header and every bar of it outside `first`-`last`."""
    tok = AbcCharTokenizer()
    old, new = tok.parse_primer(before), tok.parse_primer(after)
    assert set(header(old)) <= set(after.splitlines()), after
    assert bars(new)[: first - 1] == bars(old)[: first - 1], after
    assert bars(new)[len(bars(new)) - (len(bars(old)) - last) :] == bars(old)[last:], after


def test_the_listing_says_which_models_infill_and_in_what(client: TestClient):
    models = {m["name"]: m for m in client.get("/api/models").json()["models"]}
    assert (models["fill"]["infills"], models["fill"]["infill_unit"]) == (True, "bars")
    assert (models["notes"]["infills"], models["notes"]["infill_unit"]) == (True, "beats")
    assert (models["plain"]["infills"], models["plain"]["infill_unit"]) == (False, None)


def test_infill_keeps_the_header_and_every_bar_outside(client: TestClient, source: dict):
    r = infill(client, source)
    assert r.status_code == 200, r.text
    made = r.json()
    assert made["id"] != source["id"] and made["model"] == "fill"
    assert made["settings"]["bars"] == SPAN and made["settings"]["index"] == 1
    info = made["infill"]
    assert (info["batch"], info["index"], info["span"], info["unit"]) == (source["id"], 1, SPAN,
                                                                          "bars")  # fmt: skip
    assert len(made["samples"]) == len(info["units"]) == 2
    before = client.get(f"/api/batches/{source['id']}/samples/1/native").text
    texts = []
    for sample in made["samples"]:
        assert set(sample) >= {"index", "text", "svg", "notes", "primer", "formats"}
        native = client.get(f"/api/batches/{made['id']}/samples/{sample['index']}/native")
        assert native.status_code == 200 and native.text == sample["text"]
        assert_kept_outside(before, native.text, 2, 3)
        texts.append(native.text)
    assert before not in texts  # the span was written again
    again = infill(client, {"id": made["id"]}, index=2, bars="1")  # an infilled sample, again
    assert again.status_code == 200, again.text
    assert_kept_outside(texts[1], again.json()["samples"][0]["text"], 1, 1)


def test_the_server_infills_exactly_as_api_infill(
    client: TestClient, source: dict, runs: Path, tmp_path: Path
):
    """The server takes the sample's own file and calls `api.infill`: the same pieces."""
    native = tmp_path / "sample.abc"
    native.write_bytes(client.get(f"/api/batches/{source['id']}/samples/2/native").content)
    r = infill(client, source, index=2, decoder="top-k", top_k=5)
    assert r.status_code == 200, r.text
    result, units = api.infill(runs / "fill", native, SPAN, 60, 2, "top-k", seed=3, top_k=5)
    tok = result.run.tokenizer
    assert [tok.parse_primer(s["primer"]) for s in r.json()["samples"]] == result.pieces
    assert r.json()["infill"]["units"] == units


def test_a_midi_sample_keeps_every_note_outside_the_beats(client: TestClient, chorale_midi: Path):
    import pretty_midi

    got = client.post("/api/primer", data={"model": "notes"},
                      files={"file": ("bach.mid", chorale_midi.read_bytes())})  # fmt: skip
    assert got.status_code == 200, got.text
    body = {"model": "notes", "primer": got.json()["primer"], "length": 5, "num_samples": 1}
    made = client.post("/api/generate", json=body).json()
    r = infill(client, made, model="notes", bars="5-8", num_samples=1)
    assert r.status_code == 200, r.text
    assert r.json()["infill"]["unit"] == "beats"

    def notes(batch_id: str) -> set[tuple[int, int]]:
        data = client.get(f"/api/batches/{batch_id}/samples/1/midi").content
        pm = pretty_midi.PrettyMIDI(io.BytesIO(data))
        beat = lambda t: round(pm.time_to_tick(t) * 4 / pm.resolution)  # noqa: E731
        return {(beat(n.start), n.pitch) for i in pm.instruments for n in i.notes
                if beat(n.start) < 4 * 4 or beat(n.start) >= 4 * 8}  # fmt: skip

    want = notes(made["id"])
    assert want and want <= notes(r.json()["id"])


@pytest.mark.parametrize(
    ("change", "status", "words"),
    [
        ({"model": "plain"}, 422, ["model 'plain' was not trained for infilling"]),
        ({"bars": "300-302"}, 422, ["bars 300-302 are outside the piece", "its bars are 1-"]),
        ({"bars": "4-2"}, 422, ["bars: '4-2'", "1 <= A <= B"]),
        ({"bars": "five"}, 422, ["bars: 'five' is not a span such as 5-8"]),
        ({"bars": "1" * 21}, 422, ["bars: too long"]),
        ({"batch": "0123456789abcdef"}, 404, ["no batch '0123456789abcdef'"]),
        ({"index": 3}, 404, ["has samples 1 to 2, not 3"]),
        ({"index": 0}, 422, ["index: must be >= 1"]),
        ({"model": "nope"}, 404, ["no model named 'nope'"]),
        ({"model": "notes"}, 415, ["sample 1: this model reads .mid"]),
        ({"num_samples": 9}, 422, ["num_samples: must be <= 8"]),
        ({"decoder": "beam"}, 422, ["decoder: no decoder 'beam'"]),
        ({"primer": "K:D\n"}, 422, ["primer: is not a setting"]),
    ],
)
def test_each_refusal_is_one_line(client, source, change: dict, status: int, words: list[str]):
    refused(infill(client, source, **change), status, *words)
    assert client.post("/api/infill", json={"model": "fill"}).status_code == 422  # no batch


# -- the page ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def live(runs: Path):
    """The app serving `runs` under uvicorn on 127.0.0.1 in a thread; its base URL."""
    with served(create_app([runs], pretrained=False)) as url:
        yield url


@pytest.mark.slow
def test_the_page_regenerates_bars_of_a_sample(live: str, tunes: Path, tmp_path: Path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait

    browser = _chromium()
    try:
        browser.get(live)
        wait = WebDriverWait(browser, 180)
        wait.until(lambda b: b.find_elements(By.CSS_SELECTOR, "#model option"))
        Select(browser.find_element(By.ID, "model")).select_by_value("fill")
        for field, value in (("length", "10"), ("num_samples", "2"), ("seed", "1")):
            box = browser.find_element(By.ID, field)
            box.clear()
            box.send_keys(value)
        browser.execute_script("document.getElementById('primer').value = arguments[0];",
                               first_tune(tunes))  # fmt: skip
        browser.find_element(By.ID, "generate").click()
        wait.until(lambda b: b.find_elements(By.CSS_SELECTOR, "#sample-1 .infill"))
        first = browser.find_element(By.ID, "batch-info").text
        before = browser.execute_script(
            "return document.querySelector('#sample-1 pre').textContent"
        )
        button = browser.find_element(By.CSS_SELECTOR, "#sample-1 button.infill-go")
        assert button.text == "Regenerate bars"
        browser.find_element(By.CSS_SELECTOR, "#sample-1 input.infill-span").send_keys("300-302")
        button.click()  # a span outside the piece: one line in the error box, the cards stay
        wait.until(lambda b: not b.find_element(By.ID, "error").get_attribute("hidden"))
        assert "outside the piece" in browser.find_element(By.ID, "error").text
        span = browser.find_element(By.CSS_SELECTOR, "#sample-1 input.infill-span")
        span.clear()
        span.send_keys(SPAN)
        browser.find_element(By.CSS_SELECTOR, "#sample-1 button.infill-go").click()
        wait.until(lambda b: b.find_element(By.ID, "batch-info").text not in ("", first))
        info = browser.find_element(By.ID, "batch-info").text
        assert f"bars {SPAN} of sample 1" in info and "regenerated" in info, info
        assert browser.find_element(By.ID, "error").get_attribute("hidden")
        after = browser.execute_script(
            "return [...document.querySelectorAll('.sample pre')].map((p) => p.textContent)"
        )
        assert len(after) == 2
        for text in after:
            assert_kept_outside(before, text, 2, 3)
        browser.save_screenshot(str(tmp_path / "infill.png"))
        errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
        assert not [e for e in errors if "status of 422" not in e["message"]], errors  # 300-302
    finally:
        browser.quit()
