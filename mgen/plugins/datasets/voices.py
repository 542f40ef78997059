"""Multi-track datasets from music21's corpus, a named track per voice or instrument, written as
MIDI into the cache on first use (see `written`): `bach-satb` (the chorales' soprano, alto,
tenor and bass), `string-quartets` (Beethoven, Mozart, Haydn: violin, violin, viola, cello) and
`renaissance-voices` (Palestrina's masses, Monteverdi's madrigals: their voices as named).

Each score is parsed with music21, read into mgen's `Score` (a track per part), its repeats
written out (as bach-midi's are; see `repeats`) and written by mgen's MIDI writer with the
tracks' names, General MIDI programs, time signatures and keys. A score that opens with a pickup
bar is written from the start of its first full bar's length, so the file's bar lines fall where
the score's do.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import ClassVar

from mgen.core.contracts.errors import DataError, MgenError
from mgen.formats.midi.gm import program_of
from mgen.formats.score import Score, Track
from mgen.plugins.datasets.corpus import CORPUS_TERMS
from mgen.plugins.datasets.repeats import bar_order, expanded
from mgen.plugins.datasets.written import Converter, WrittenMidi

#: How the files are written; stored in each dataset's index (a change re-writes the cache).
VERSION = "voices-1"
SATB = ("Soprano", "Alto", "Tenor", "Bass")
QUARTET = (("Violin I", "violin"), ("Violin II", "violin"), ("Viola", "viola"), ("Cello", "cello"))
CHOIR = program_of("voice")  # 52, Choir Aahs: what every sung voice is played with
#: Parts of a Renaissance score that are instruments, not voices, and their program.
CONTINUO = {"continuo": program_of("harpsichord"), "organ": program_of("church organ")}


class VoicesMidi(WrittenMidi):
    """A multi-track dataset: the scores `patterns` match (but not `excluded`), each written
    with its parts arranged by `arrangement` (a key of `ARRANGEMENTS`)."""

    tokenizer = "midi-tracks"
    version = VERSION
    patterns: ClassVar[tuple[str, ...]] = ()
    excluded: ClassVar[tuple[str, ...]] = ()  # substrings of a file's path
    arrangement: ClassVar[str] = ""

    def sources(self) -> list[Path]:
        from mgen.formats.m21 import corpus_root

        root = corpus_root()
        files = sorted({f for pat in self.patterns for f in root.glob(pat)})
        files = [f for f in files if not any(x in str(f.relative_to(root)) for x in self.excluded)]
        if not files:
            raise DataError(f"music21's corpus at {root} has no {', '.join(self.patterns)} files")
        return files

    def converter(self) -> Converter:
        return partial(write_voices, self.arrangement)


class BachSatb(VoicesMidi):
    """~400 Bach chorales as four named voices: Soprano, Alto, Tenor, Bass (Choir Aahs)."""

    name = "bach-satb"
    source = "music21 corpus: bach (*.mxl, *.xml), the four voices of each chorale as tracks"
    patterns = ("bach/*.mxl", "bach/*.xml")
    arrangement = "satb"
    takes = "a minute or two"


class StringQuartets(VoicesMidi):
    """46 string-quartet movements (Beethoven, Mozart, Haydn): Violin I, Violin II, Viola, Cello."""

    name = "string-quartets"
    source = "music21 corpus: beethoven, mozart (k80, k155, k156, k458), haydn (*.mxl)"
    patterns = (
        "beethoven/**/*.mxl", "mozart/k80/*.mxl", "mozart/k155/*.mxl", "mozart/k156/*.mxl",
        "mozart/k458/*.mxl", "haydn/**/*.mxl",
    )  # fmt: skip
    arrangement = "quartet"
    takes = "several minutes"


class RenaissanceVoices(VoicesMidi):
    """~1,360 Palestrina mass movements and Monteverdi madrigals, 3 to 8 voices as named."""

    name = "renaissance-voices"
    source = "music21 corpus: palestrina (*.krn), monteverdi (madrigal.*.mxl)"
    patterns = ("palestrina/*.krn", "monteverdi/madrigal.*.mxl")
    excluded = ("_old",)  # madrigal.3.1_old.mxl: an older encoding of madrigal.3.1
    licence = (
        f"{CORPUS_TERMS}; Palestrina **kern: Copyright 2000 John Miller, derivative electronic "
        "formats reserved (do not redistribute the MIDI)"
    )
    arrangement = "voices"
    takes = "several minutes"


def write_voices(arrangement: str, src: str, out: str) -> str | None:
    """Write one score's parts as arranged tracks at `out`; returns why it failed, or None."""
    from mgen.formats.midi.write import write_midi

    try:
        score = read_parts(Path(src))
        score.tracks = ARRANGEMENTS[arrangement](score.tracks)
        write_midi(score, Path(out))
    except MgenError as e:
        return str(e)
    except Exception as e:  # noqa: BLE001 - one unconvertible score must not stop the others
        return f"{type(e).__name__}: {e}"
    return None


def read_parts(path: Path) -> Score:
    """A score file as mgen's `Score`, a track per part: repeats expanded where music21 can,
    a pickup bar padded to a full bar."""
    from music21 import stream

    from mgen.formats.m21 import music21_score, parse

    parsed = parse(path)
    if isinstance(parsed, stream.Opus):
        raise DataError("it holds several pieces (a music21 Opus)")
    pickup = _pickup(parsed)
    score = music21_score(parsed, str(path))
    plan = bar_order(parsed)  # after the notes are read: it takes them out of the bars
    return shifted(expanded(score, *plan) if plan else score, pickup)


def _pickup(parsed) -> float:
    """Beats missing from the first bar (a pickup's padding), 0 without one."""
    parts = list(parsed.parts) or [parsed]
    first = parts[0].getElementsByClass("Measure").first()
    return float(getattr(first, "paddingLeft", 0) or 0) if first is not None else 0.0


def shifted(score: Score, beats: float) -> Score:
    """The score with every note and every change after beat 0 moved `beats` later."""
    if beats > 0:
        for t in score.tracks:
            t.onset = t.onset + beats
        for changes in (score.tempos, score.meters, score.keys):
            changes[changes[:, 0] > 0, 0] += beats
    return score


def satb(tracks: list[Track]) -> list[Track]:
    """The soprano, alto, tenor and bass parts, in that order (instruments left out)."""
    found: dict[str, list[Track]] = {}
    for t in tracks:
        found.setdefault(_first_word(t.name), []).append(t)
    if any(len(found.get(v.lower(), [])) != 1 for v in SATB):
        names = ", ".join(t.name.replace("\r", " ") or "?" for t in tracks)
        raise DataError(f"not one soprano, alto, tenor and bass (parts: {names})")
    return [replace(found[v.lower()][0], name=v, program=CHOIR) for v in SATB]


def quartet(tracks: list[Track]) -> list[Track]:
    """The four parts, top to bottom, as violin I, violin II, viola and cello."""
    if len(tracks) != 4:
        raise DataError(f"{len(tracks)} parts, not a quartet's 4")
    return [
        replace(t, name=name, program=program_of(inst))
        for t, (name, inst) in zip(tracks, QUARTET, strict=True)
    ]


def voices(tracks: list[Track]) -> list[Track]:
    """Every part as the voice it is named for (a repeated name numbered: "Tenor 1", "Tenor 2");
    a continuo or organ part as that instrument."""
    names = [t.name.strip() or f"Voice {i}" for i, t in enumerate(tracks, 1)]
    repeated, seen = Counter(names), Counter()
    out = []
    for t, name in zip(tracks, names, strict=True):
        seen[name] += 1
        label = f"{name} {seen[name]}" if repeated[name] > 1 else name
        out.append(replace(t, name=label, program=CONTINUO.get(_first_word(name), CHOIR)))
    return out


def _first_word(name: str) -> str:
    """The first word of a part's name, lower case: "Soprano\\rOboe 1,2" -> "soprano"."""
    match = re.match(r"\s*([A-Za-z]+)", name)
    return match.group(1).lower() if match else ""


ARRANGEMENTS = {"satb": satb, "quartet": quartet, "voices": voices}
