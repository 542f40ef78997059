"""Validity per format, by readers other than the one that wrote the file; form facts on the way.

ABC (`.abc`, and `.txt` read as ABC): the strict check of `abc_check`, music21's warnings, and
abc2midi's printed errors where it is installed; per tune. **kern: the Humdrum parser of
`humdrum` (spine structure, token grammar) beside music21's reader (the notes), and verovio's
where installed. MIDI: the SMF reader of `smf`, mido, symusic where installed, and pretty_midi
(the notes): every reader must read it, and it must sound (a note with velocity above 0).
Each verdict names the checks that ran. A unit is what validity is counted over: a tune of an
ABC file, a whole file otherwise.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

from mgen.evaluate.notes import reason
from mgen.formats.abc import check as abc_check
from mgen.formats.abc.abc2midi import abc2midi
from mgen.formats.abc.tunes import read_text, tune_texts
from mgen.formats.kern.humdrum import read_kern
from mgen.formats.midi.smf import read_smf

#: abc2midi "Error" lines that fire on valid ABC or on notation habits of the training corpora
#: (annotations in quotes, ties and slurs between different notes, R:hornpipe in other meters,
#: ...); docs/evaluation.md counts them on folk-abc. Everything else it calls an error counts.
ABC2MIDI_FALSE_ALARMS = (
    "Guitar chord does not start",
    "Unrecognized chord name",
    "Hornpipe must be in",
    "found [1 or like before",
    "Missing :| at end",
    "Could not find note to be tied",
    "Cannot find note before tie",
    "Cannot apply broken rhythm",
    "Broken rhythm not allowed in chord",
    "Chord already finished",
    "Too many notes in chord",
    "Malformed note",
    "nested tuples",
    "Intervening note needed between grace notes",
    "Rolls and trills not supported in chords",
    "Grace notes not allowed in chord",
    "in middle of line ignored",
)


@dataclass
class Unit:
    """One judged piece: its name, what is wrong with it, and form facts (None: unknown)."""

    name: str
    errors: list[str] = field(default_factory=list)
    form: dict[str, Any] = field(default_factory=dict)


@dataclass
class Verdict:
    checks: list[str]
    units: list[Unit]


def judge(path: Path, kind: str, limit: int | None = None) -> Verdict:
    """The checks of one file of `kind` ("abc", "kern", "midi" or other: none of its own)."""
    try:
        if kind == "abc":
            return judge_abc(path, limit)
        if kind == "kern":
            return judge_kern(path)
        if kind == "midi":
            return judge_midi(path)
    except OSError as e:
        return Verdict([], [Unit(str(path), [f"cannot read it: {e.strerror or e}"])])
    except Exception as e:  # noqa: BLE001 - a checker's own failure must not stop the report
        return Verdict([f"{kind} checks"], [Unit(str(path), [f"{kind} check failed: {reason(e)}"])])
    return Verdict([], [Unit(str(path))])


def kind_of(path: Path, format_name: str) -> str:
    suffix = Path(path).suffix.lower()
    if suffix == ".abc" or (suffix == ".txt" and format_name == "abc"):
        return "abc"
    if suffix == ".krn":
        return "kern"
    return "midi" if suffix in (".mid", ".midi") else "other"


# -- ABC --------------------------------------------------------------------------------------


def judge_abc(path: Path, limit: int | None = None) -> Verdict:
    from mgen.evaluate.notes import evenly

    tunes, starts = tune_texts(read_text(path))
    checks = [
        "strict ABC (header fields, every body character, bar lengths, final bar line)",
        "music21 (parses, has notes, no warnings)",
    ]
    a2m: dict[int, list[str]] = {}
    if abc2midi():
        checks.append("abc2midi -c (its Error lines, known false alarms aside)")
        a2m = abc2midi_errors(path, starts)
    else:
        checks.append("abc2midi: not installed, skipped")
    units = []
    for i in evenly(range(len(tunes)), limit):
        name = str(path) if len(tunes) == 1 else f"{path}#{i + 1}"
        tune = abc_check.read(tunes[i])
        errors = abc_check.strict_problems(tune) + abc_check.music21_problems(tunes[i])
        units.append(Unit(name, errors + a2m.get(i, []), abc_form(tune)))
    return Verdict(checks, units)


def abc2midi_errors(path: Path, starts: list[int]) -> dict[int, list[str]]:
    found = abc_check.abc2midi_errors(path, starts)
    return {
        tune: kept
        for tune, errors in found.items()
        if (kept := [e for e in errors if not any(f in e for f in ABC2MIDI_FALSE_ALARMS)])
    }


def abc_form(tune) -> dict[str, Any]:
    """Ending on the key's tonic, the share of inner bars as long as the meter, repeat signs."""
    last = max(tune.notes, key=lambda n: (n[1], n[0]), default=None)
    tonic = tune.key.tonic if tune.key is not None else None
    return {
        "ends_on_tonic": None if last is None or tonic is None else last[0] % 12 == tonic,
        "bar_fit": _fit([(b.duration, b.meter) for b in tune.bars]),
        "repeat_signs": tune.repeats > 0,
    }


def _fit(bars: list[tuple[Fraction, Fraction | None]]) -> float | None:
    """The share of bars, first and last left out, exactly as long as their meter."""
    inner = [(d, m) for d, m in bars[1:-1] if m is not None]
    return sum(d == m for d, m in inner) / len(inner) if inner else None


# -- **kern -----------------------------------------------------------------------------------


def judge_kern(path: Path) -> Verdict:
    text = Path(path).read_bytes().decode("utf-8", errors="replace")
    found = read_kern(text)
    checks = [
        "own Humdrum parser (spine structure, kern token grammar)",
        "music21 humdrum reader (its notes)",
    ]
    errors = list(found.problems[:5])
    verovio = _verovio(text)
    if verovio is not None:
        checks.append("verovio (loads it)")
        errors += verovio
    forms = [
        {
            "ends_on_tonic": None
            if s.last_pitch is None or not s.tonics
            else s.last_pitch % 12 in s.tonics,
            "bar_fit": _fit(s.bars),
            "repeat_signs": s.repeats > 0,
        }
        for s in found.spines
    ]
    return Verdict(checks, [Unit(str(path), errors, forms[0] if len(forms) == 1 else {})])


def _verovio(text: str) -> list[str] | None:
    """verovio's verdict, or None when it is not installed. It runs in a child process
    (`verovio_box`): some malformed **kern makes it abort the process that loads it."""
    from mgen.evaluate import verovio_box

    status, _ = verovio_box.run(text)
    if status == verovio_box.MISSING:
        return None
    if status == verovio_box.OK:
        return []
    if status == verovio_box.UNREADABLE:
        return ["verovio cannot load it"]
    return [f"verovio {'crashes' if status == verovio_box.CRASHED else 'hangs'} reading it"]


# -- MIDI -------------------------------------------------------------------------------------


def judge_midi(path: Path) -> Verdict:
    data = Path(path).read_bytes()
    own = read_smf(data)
    checks = ["own SMF reader (chunks, events, end of track)", "mido", "pretty_midi (its notes)"]
    errors = [f"SMF: {p}" for p in own.problems[:3]]
    if not own.problems and own.notes == 0:
        errors.append("SMF: no sounding note (no note-on with a velocity above 0)")
    errors += _mido(path)
    symusic = _symusic(path)
    if symusic is not None:
        checks.append("symusic")
        errors += symusic
    return Verdict(checks, [Unit(str(path), errors, {"ends_on_tonic": _midi_tonic(path)})])


def _mido(path: Path) -> list[str]:
    import mido

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            mid = mido.MidiFile(str(path))
    except Exception as e:  # noqa: BLE001 - mido raises many types on bad files
        return [f"mido: {reason(e)}"]
    if not any(m.type == "note_on" and m.velocity > 0 for t in mid.tracks for m in t):
        return ["mido: no sounding note"]
    return []


def _symusic(path: Path) -> list[str] | None:
    try:
        import symusic
    except ImportError:
        return None
    try:
        score = symusic.Score(str(path))
    except Exception as e:  # noqa: BLE001 - as above
        return [f"symusic: {reason(e)}"]
    notes = [n for t in score.tracks for n in t.notes if n.velocity > 0 and n.duration > 0]
    return [] if notes else ["symusic: no sounding note"]


def _midi_tonic(path: Path) -> bool | None:
    """Whether the last note is on the tonic of the file's first key signature (None: none)."""
    import pretty_midi

    try:
        pm = pretty_midi.PrettyMIDI(str(path))
    except Exception:  # noqa: BLE001 - the readers above say why
        return None
    notes = [n for i in pm.instruments if not i.is_drum for n in i.notes]
    if not pm.key_signature_changes or not notes:
        return None
    last = max(notes, key=lambda n: (n.start, n.pitch))
    return last.pitch % 12 == pm.key_signature_changes[0].key_number % 12
