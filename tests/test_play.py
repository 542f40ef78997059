"""Play along: a played phrase as a MIDI model's primer at its tempo (mgen.core.sampling.phrase),
`mgen play`'s listening and playing (on stand-in ports, on any machine), its one-line refusals,
and `mgen play` against a virtual MIDI port where the platform has one."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from mgen import api
from mgen.api.play import listen, perform, phrase_primer
from mgen.core.contracts.errors import ConfigError
from mgen.core.sampling.phrase import check_notes, played_tempo

LIVE = "mgen play needs the live extra: pip install 'mgen[live]' (mido, python-rtmidi)"

SEQ = Path("/dev/snd/seq")
#: C D E F G, a note every 0.5 s (120 bpm), each held 0.4 s.
PHRASE = [
    [p, t, t + 0.4, 80] for p, t in zip((60, 62, 64, 65, 67), (0, 0.5, 1, 1.5, 2), strict=True)
]


@pytest.fixture(scope="module")
def run():
    return api.load_run("bach-midi")


def test_the_tempo_is_the_typical_gap_between_onsets_folded_into_a_beat():
    assert played_tempo([0, 0.5, 1.0, 1.5]) == 120
    assert played_tempo([0, 0.25, 0.5, 0.75, 1.0]) == 120  # sixteenths at 60: a beat of two
    assert played_tempo([0, 0.0, 0.01, 0.75, 1.5]) == 80  # a chord's onsets are one
    assert played_tempo([0]) == 120  # nothing to measure


def test_a_phrase_becomes_the_tokens_of_a_file_at_its_tempo(run):
    phrase = phrase_primer(run, PHRASE)
    assert phrase.bpm == 120 and phrase.seconds == 2.4 and phrase.beats == 4.8
    assert phrase.tokens[0] == "tempo_120"
    assert [t for t in phrase.tokens if t.isdigit()] == ["60", "62", "64", "65", "67"]
    late = [[p, s + 3.0, e + 3.0, v] for p, s, e, v in PHRASE]  # from the first onset
    assert phrase_primer(run, late).tokens == phrase.tokens


@pytest.mark.parametrize(
    ("notes", "words"),
    [([], "no notes"), ([[60, 1]], "each note is"), ([[200, 0, 1]], "out of range"),
     ([[60, 1, 0.5]], "out of range"), ([[60, 0, 1]] * 600, "at most")],
)  # fmt: skip
def test_a_bad_phrase_is_one_clear_refusal(notes, words):
    with pytest.raises(ConfigError, match=words):
        check_notes(notes)


def test_play_along_needs_a_midi_model():
    with pytest.raises(ConfigError, match="needs a MIDI model"):
        phrase_primer("folk-abc", PHRASE)


class FakeInput:
    """A MIDI input playing `messages` [(seconds, mido.Message)] from its first poll."""

    def __init__(self, messages):
        self.messages, self.started = list(messages), None

    def poll(self):
        now = time.monotonic()
        self.started = self.started or now
        if self.messages and self.messages[0][0] <= now - self.started:
            return self.messages.pop(0)[1]
        return None


class FakeOutput:
    def __init__(self):
        self.sent: list[tuple[float, object]] = []

    def send(self, message):
        self.sent.append((time.monotonic(), message))


def _played(notes, scale: float = 1.0):
    mido = pytest.importorskip("mido", reason=LIVE)
    out = [(s * scale, mido.Message("note_on", note=p, velocity=v)) for p, s, _, v in notes]
    out += [(e * scale, mido.Message("note_off", note=p)) for p, _, e, _ in notes]
    return sorted(out, key=lambda m: m[0])


def test_a_phrase_ends_after_a_pause_with_no_key_down():
    got = listen(FakeInput(_played(PHRASE, 0.2)), pause=0.15)
    assert [n[0] for n in got] == [60, 62, 64, 65, 67]
    starts = [n[1] for n in got]
    assert starts[0] == 0 and all(
        0.05 < b - a < 0.2 for a, b in zip(starts, starts[1:], strict=False)
    )


def test_the_answer_plays_only_new_notes_in_time(run):
    pytest.importorskip("mido", reason=LIVE)
    phrase = phrase_primer(run, PHRASE)
    events = list(api.stream(run, 30, primer=phrase.tokens, seed=2))
    answer = [e for e in events if isinstance(e, api.Note) and not e.primer]
    out = FakeOutput()
    assert perform(iter(events), out) == len(answer) > 0
    ons = [(t, m) for t, m in out.sent if m.type == "note_on"]
    assert [m.note for _, m in ons] == [n.pitch for n in sorted(answer, key=lambda n: n.start)]
    first = min(n.start for n in answer)
    for (t, _), note in zip(ons, sorted(answer, key=lambda n: n.start), strict=True):
        assert abs((t - ons[0][0]) - (note.start - first)) < 0.05  # in time, at the tempo
    assert len(out.sent) == 2 * len(answer)  # each note on, then off


def test_play_without_a_port_says_so_in_one_line(cli):
    result = cli("play", "--run", "bach-midi", "--port", "no-such-port", "--answers", "1")
    assert result.exit_code == 3
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ")
    try:
        import mido  # noqa: F401
    except ImportError:
        assert "live extra" in lines[0]
        return
    assert "no-such-port" in lines[0]
    if not SEQ.exists():
        assert "no ALSA sequencer" in lines[0]


def test_play_refuses_a_model_that_is_not_midi(cli):
    result = cli("play", "--run", "folk-abc", "--port", "x")
    assert result.exit_code == 2 and "needs a MIDI model" in result.stderr


@pytest.mark.skipif(
    not SEQ.exists(),
    reason="this machine has no ALSA sequencer (/dev/snd/seq): rtmidi cannot open a virtual "
    "MIDI port, so mgen play is tested here on stand-in ports only",
)
def test_mgen_play_answers_a_phrase_sent_to_its_virtual_port(run):
    mido = pytest.importorskip("mido", reason=LIVE)
    from mgen.api.play import play_along

    answers: list[int] = []
    thread = threading.Thread(
        target=lambda: answers.append(
            play_along(run, "mgen-test", 60, virtual=True, answers=1, pause=0.3, seed=1)
        ),
        daemon=True,
    )
    thread.start()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:  # its input (we play into it), its output (we hear it)
        to_mgen = [n for n in mido.get_output_names() if "mgen-test" in n]
        from_mgen = [n for n in mido.get_input_names() if "mgen-test" in n]
        if to_mgen and from_mgen:
            break
        time.sleep(0.05)
    assert to_mgen and from_mgen, "mgen play's virtual ports did not appear"
    heard = []
    with mido.open_output(to_mgen[0]) as keyboard, mido.open_input(from_mgen[0]) as ears:
        start = time.monotonic()
        for when, message in _played(PHRASE, 0.3):
            time.sleep(max(0.0, start + when - time.monotonic()))
            keyboard.send(message)
        deadline = time.monotonic() + 60
        while thread.is_alive() and time.monotonic() < deadline:
            heard += [m for m in ears.iter_pending() if m.type == "note_on"]
            time.sleep(0.01)
    assert answers == [1] and heard
