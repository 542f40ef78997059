"""Play along (call and response): a phrase played on a MIDI keyboard, the page's keys or a DAW
is continued by a MIDI model at the tempo it was played.

`phrase_primer` turns the played notes into the model's primer (mgen.core.sampling.phrase);
`play_along` is `mgen play`: it listens on a MIDI port (mido, with python-rtmidi: the `live`
extra), takes a phrase to end after `pause` seconds of silence, streams the model's answer and
plays each of its notes on the port as soon as it is final, in time. A port that is missing, or
a machine without MIDI, is one MidiPortError line.
"""

from __future__ import annotations

import contextlib
import heapq
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mgen.core.contracts.errors import MgenError

if TYPE_CHECKING:
    from mgen.core.runs.run import Run
    from mgen.core.sampling.phrase import Phrase

LEAD = 0.1  # seconds between the answer's first note arriving and sounding
POLL = 0.005  # seconds between looks at the input port


class MidiPortError(MgenError):
    """No MIDI here, or no port by that name (mgen play, the `live` extra)."""

    exit_code = 3


def phrase_primer(run: Run | Path | str, notes: list[list[float]]) -> Phrase:
    """Notes played ([[pitch, start s, end s, velocity?], ...]) as the primer of a MIDI model:
    its tokens, the tempo read from the playing, its length (mgen.core.sampling.phrase)."""
    from mgen.api.sampling import load_run
    from mgen.core.sampling.phrase import phrase_primer as read

    loaded = load_run(run) if isinstance(run, (str, Path)) else run
    return read(loaded.tokenizer, notes)


@contextlib.contextmanager
def _quiet_stderr() -> Iterator[None]:
    """ALSA's C library prints its own complaints to fd 2; the one line is mgen's."""
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def open_ports(name: str, virtual: bool = False) -> tuple[Any, Any]:
    """(input, output) MIDI ports named `name` (mido): existing ones, or with `virtual` new
    ones others connect to (ALSA, CoreMIDI). MidiPortError in one line when that cannot be."""
    try:
        import mido
    except ImportError:
        raise MidiPortError("mgen play needs the live extra: pip install 'mgen[live]' "
                            "(mido and python-rtmidi)") from None  # fmt: skip
    try:
        with _quiet_stderr():
            if virtual:
                return mido.open_input(name, virtual=True), mido.open_output(name, virtual=True)
            ins, outs = mido.get_input_names(), mido.get_output_names()
            if name not in ins or name not in outs:
                known = sorted(set(ins) | set(outs))
                raise MidiPortError(f"no MIDI port named {name!r} to listen and play on; "
                                    f"ports here: {', '.join(known) or 'none'}")  # fmt: skip
            return mido.open_input(name), mido.open_output(name)
    except MidiPortError:
        raise
    except Exception as e:  # noqa: BLE001 - rtmidi's errors: no ALSA sequencer, no backend
        raise MidiPortError(f"cannot open MIDI port {name!r}: {_why(e)}") from None


def _why(e: Exception) -> str:
    text = " ".join(str(e).split())
    if "ALSA" in text and not Path("/dev/snd/seq").exists():
        return "this machine has no ALSA sequencer (/dev/snd/seq), so no MIDI ports"
    return text[:200] or type(e).__name__


def listen(
    port: Any, pause: float, clock: Callable[[], float] = time.monotonic
) -> list[list[float]]:
    """Notes played on `port` until `pause` seconds pass with no key down after the last one
    is released: [[pitch, start s, end s, velocity], ...] from the first onset."""
    held: dict[int, tuple[float, int]] = {}
    notes: list[list[float]] = []
    last = None
    while not notes or held or clock() - last < pause:
        message = port.poll()
        if message is None:
            time.sleep(POLL)
            continue
        now = last = clock()
        if message.type == "note_on" and message.velocity > 0:
            held[message.note] = (now, message.velocity)
        elif message.type in ("note_off", "note_on") and message.note in held:
            start, velocity = held.pop(message.note)
            notes.append([message.note, start, max(now, start + 0.01), velocity])
    first = min(n[1] for n in notes)
    return [[p, s - first, e - first, v] for p, s, e, v in notes]


def perform(events: Iterator[Any], port: Any, clock: Callable[[], float] = time.monotonic) -> int:
    """Play the answer's notes (a stream's Notes not of its primer) on `port` in time, each
    as soon as the stream gives it, the first LEAD seconds after it arrives; the notes played."""
    from mgen.api import Note

    queue: list[tuple[float, int, Any]] = []  # (when, order, message)
    start, played, order = None, 0, 0
    for event in events:
        if isinstance(event, Note) and not event.primer and not event.drum:
            if start is None:
                start = clock() + LEAD - event.start
            for when, msg in _messages(event, start):
                heapq.heappush(queue, (when, order, msg))
                order += 1
            played += 1
        _due(queue, port, clock, until=clock())
    _due(queue, port, clock, until=float("inf"))
    return played


def _messages(note: Any, start: float) -> list[tuple[float, Any]]:
    import mido

    on = mido.Message("note_on", note=note.pitch, velocity=max(1, min(127, note.velocity)))
    off = mido.Message("note_off", note=note.pitch, velocity=0)
    return [(start + note.start, on), (start + max(note.end, note.start + 0.02) - 0.005, off)]


def _due(queue: list[tuple[float, int, Any]], port: Any, clock: Callable[[], float],
         until: float) -> None:  # fmt: skip
    """Send every queued message due by `until`, each at its time."""
    while queue and queue[0][0] <= until:
        when, _, message = heapq.heappop(queue)
        wait = when - clock()
        if wait > 0:
            time.sleep(wait)
        port.send(message)


def play_along(
    run: Run | Path | str,
    port: str,
    n: int = 200,
    decoder: str | None = None,
    *,
    seed: int = 0,
    pause: float = 1.0,
    answers: int = 0,
    virtual: bool = False,
    log: Callable[[str], None] = lambda _: None,
    **options: Any,
) -> int:
    """`mgen play`: answer each phrase played on the MIDI port `port` with up to `n` tokens of
    the model `run`, played back on the same port; `answers` phrases (0: until interrupted).
    The seed of the k-th answer is `seed + k`. The answers given."""
    from mgen.api.sampling import load_run, stream
    from mgen.core.sampling.phrase import require_midi

    loaded = load_run(run) if isinstance(run, (str, Path)) else run
    require_midi(loaded.tokenizer)
    inport, outport = open_ports(port, virtual)
    given = 0
    with inport, outport:
        log(f"listening on {port!r}: play a phrase, then pause {pause:g} s")
        while not answers or given < answers:
            phrase = phrase_primer(loaded, listen(inport, pause))
            log(f"phrase: {len(phrase.tokens)} tokens at {phrase.bpm:g} bpm; answering")
            events = stream(loaded, n, decoder, primer=phrase.tokens, seed=seed + given,
                            **options)  # fmt: skip
            log(f"answered with {perform(events, outport)} notes")
            given += 1
    return given
