"""General MIDI: the 128 program names, their 16 families, the short names people use for
instruments and voices, and the drum map (channel 10: a note names a drum, not a pitch).

Programs are numbered from 0, as in MIDI files, symusic, pretty_midi and mido (the GM table
printed in manuals counts from 1: its "1 Acoustic Grand Piano" is program 0 here).

    program_of("violin") -> 40        program_of("Electric Guitar (jazz)") -> 26
    program_of("42") -> 42            instrument_of("drums") -> Instrument("drums", 0, True)
    program_name(52) -> "Choir Aahs"  drum_of("closed hi-hat") -> 42;  DRUMS[42] -> "Closed Hi-Hat"

Names are matched without case, spaces or punctuation ("electric-guitar-jazz" is program 26).
"""

from __future__ import annotations

import difflib
import re
from typing import NamedTuple

from mgen.core.contracts.errors import ConfigError

#: The 128 General MIDI Level 1 program names, index = program number (0-127).
GM_NAMES: tuple[str, ...] = (
    # Piano
    "Acoustic Grand Piano", "Bright Acoustic Piano", "Electric Grand Piano", "Honky-tonk Piano",
    "Electric Piano 1", "Electric Piano 2", "Harpsichord", "Clavinet",
    # Chromatic Percussion
    "Celesta", "Glockenspiel", "Music Box", "Vibraphone", "Marimba", "Xylophone",
    "Tubular Bells", "Dulcimer",
    # Organ
    "Drawbar Organ", "Percussive Organ", "Rock Organ", "Church Organ", "Reed Organ",
    "Accordion", "Harmonica", "Tango Accordion",
    # Guitar
    "Acoustic Guitar (nylon)", "Acoustic Guitar (steel)", "Electric Guitar (jazz)",
    "Electric Guitar (clean)", "Electric Guitar (muted)", "Overdriven Guitar",
    "Distortion Guitar", "Guitar Harmonics",
    # Bass
    "Acoustic Bass", "Electric Bass (finger)", "Electric Bass (pick)", "Fretless Bass",
    "Slap Bass 1", "Slap Bass 2", "Synth Bass 1", "Synth Bass 2",
    # Strings
    "Violin", "Viola", "Cello", "Contrabass", "Tremolo Strings", "Pizzicato Strings",
    "Orchestral Harp", "Timpani",
    # Ensemble
    "String Ensemble 1", "String Ensemble 2", "Synth Strings 1", "Synth Strings 2",
    "Choir Aahs", "Voice Oohs", "Synth Voice", "Orchestra Hit",
    # Brass
    "Trumpet", "Trombone", "Tuba", "Muted Trumpet", "French Horn", "Brass Section",
    "Synth Brass 1", "Synth Brass 2",
    # Reed
    "Soprano Sax", "Alto Sax", "Tenor Sax", "Baritone Sax", "Oboe", "English Horn", "Bassoon",
    "Clarinet",
    # Pipe
    "Piccolo", "Flute", "Recorder", "Pan Flute", "Blown Bottle", "Shakuhachi", "Whistle",
    "Ocarina",
    # Synth Lead
    "Lead 1 (square)", "Lead 2 (sawtooth)", "Lead 3 (calliope)", "Lead 4 (chiff)",
    "Lead 5 (charang)", "Lead 6 (voice)", "Lead 7 (fifths)", "Lead 8 (bass + lead)",
    # Synth Pad
    "Pad 1 (new age)", "Pad 2 (warm)", "Pad 3 (polysynth)", "Pad 4 (choir)", "Pad 5 (bowed)",
    "Pad 6 (metallic)", "Pad 7 (halo)", "Pad 8 (sweep)",
    # Synth Effects
    "FX 1 (rain)", "FX 2 (soundtrack)", "FX 3 (crystal)", "FX 4 (atmosphere)",
    "FX 5 (brightness)", "FX 6 (goblins)", "FX 7 (echoes)", "FX 8 (sci-fi)",
    # Ethnic
    "Sitar", "Banjo", "Shamisen", "Koto", "Kalimba", "Bagpipe", "Fiddle", "Shanai",
    # Percussive
    "Tinkle Bell", "Agogo", "Steel Drums", "Woodblock", "Taiko Drum", "Melodic Tom",
    "Synth Drum", "Reverse Cymbal",
    # Sound Effects
    "Guitar Fret Noise", "Breath Noise", "Seashore", "Bird Tweet", "Telephone Ring",
    "Helicopter", "Applause", "Gunshot",
)  # fmt: skip

#: The 16 families of eight programs each: FAMILIES[program // 8].
FAMILIES: tuple[str, ...] = (
    "Piano", "Chromatic Percussion", "Organ", "Guitar", "Bass", "Strings", "Ensemble", "Brass",
    "Reed", "Pipe", "Synth Lead", "Synth Pad", "Synth Effects", "Ethnic", "Percussive",
    "Sound Effects",
)  # fmt: skip

#: Short names people write, and the voices of vocal music (sung on Choir Aahs), -> program.
SHORT_NAMES: dict[str, int] = {
    "piano": 0, "grand piano": 0, "electric piano": 4, "harpsichord": 6, "celesta": 8,
    "vibraphone": 11, "marimba": 12, "organ": 19, "church organ": 19, "accordion": 21,
    "guitar": 24, "acoustic guitar": 24, "classical guitar": 24, "electric guitar": 27,
    "bass": 33, "electric bass": 33, "bass guitar": 33, "acoustic bass": 32,
    "violin": 40, "viola": 41, "cello": 42, "violoncello": 42, "double bass": 43,
    "contrabass": 43, "harp": 46, "timpani": 47, "strings": 48, "choir": 52, "voice": 52,
    "soprano": 52, "mezzo": 52, "alto": 52, "countertenor": 52, "tenor": 52, "baritone": 52,
    "bass voice": 52, "trumpet": 56, "trombone": 57, "tuba": 58, "horn": 60, "french horn": 60,
    "brass": 61, "sax": 65, "saxophone": 65, "oboe": 68, "english horn": 69, "cor anglais": 69,
    "bassoon": 70, "clarinet": 71, "piccolo": 72, "flute": 73, "recorder": 74,
}  # fmt: skip

#: What a drum kit is called (channel 10); the kit's program is 0 (the GM standard kit).
DRUM_KIT_NAMES: tuple[str, ...] = ("drums", "drum kit", "drumkit", "kit", "percussion")

#: The General MIDI Level 1 percussion map: channel-10 note -> drum name (notes 35-81).
DRUMS: dict[int, str] = dict(enumerate((
    "Acoustic Bass Drum", "Bass Drum 1", "Side Stick", "Acoustic Snare", "Hand Clap",
    "Electric Snare", "Low Floor Tom", "Closed Hi-Hat", "High Floor Tom", "Pedal Hi-Hat",
    "Low Tom", "Open Hi-Hat", "Low-Mid Tom", "Hi-Mid Tom", "Crash Cymbal 1", "High Tom",
    "Ride Cymbal 1", "Chinese Cymbal", "Ride Bell", "Tambourine", "Splash Cymbal", "Cowbell",
    "Crash Cymbal 2", "Vibraslap", "Ride Cymbal 2", "Hi Bongo", "Low Bongo", "Mute Hi Conga",
    "Open Hi Conga", "Low Conga", "High Timbale", "Low Timbale", "High Agogo", "Low Agogo",
    "Cabasa", "Maracas", "Short Whistle", "Long Whistle", "Short Guiro", "Long Guiro", "Claves",
    "Hi Wood Block", "Low Wood Block", "Mute Cuica", "Open Cuica", "Mute Triangle",
    "Open Triangle",
), start=35))  # fmt: skip


def _key(name: str) -> str:
    """A name as it is matched: lower case, letters and digits only ("Hi-Hat" -> "hihat")."""
    return re.sub(r"[^a-z0-9]+", "", str(name).lower())


#: Every name a program is known by (GM names, short names) -> program, keyed by `_key`.
PROGRAMS: dict[str, int] = {name.lower(): i for i, name in enumerate(GM_NAMES)}
PROGRAMS.update(SHORT_NAMES)
_PROGRAM_KEYS: dict[str, int] = {_key(n): p for n, p in PROGRAMS.items()}
#: Drum name -> channel-10 note.
DRUM_NOTES: dict[str, int] = {name.lower(): note for note, name in DRUMS.items()}
_DRUM_KEYS: dict[str, int] = {_key(n): p for n, p in DRUM_NOTES.items()}
_KIT_KEYS = frozenset(_key(n) for n in DRUM_KIT_NAMES)


class Instrument(NamedTuple):
    """One track of an ensemble: the name it is written with, its program, its drum flag."""

    name: str
    program: int
    is_drum: bool = False


def program_name(program: int) -> str:
    """The General MIDI name of a program (0-127)."""
    return GM_NAMES[_program_number(program)]


def family_of(program: int) -> str:
    """The family a program belongs to ("Strings" for 40-47)."""
    return FAMILIES[_program_number(program) // 8]


def drum_name(note: int) -> str:
    """The GM name of a channel-10 note; a note outside the map is "Drum <note>"."""
    return DRUMS.get(int(note), f"Drum {int(note)}")


def drum_of(name_or_note: str | int) -> int:
    """The channel-10 note of a drum, by GM name ("Closed Hi-Hat") or note number."""
    text = str(name_or_note).strip()
    if text.isdigit() and 0 <= int(text) <= 127:
        return int(text)
    note = _DRUM_KEYS.get(_key(text))
    if note is None:
        known = ", ".join(DRUM_NOTES)
        raise ConfigError(f"unknown drum {text!r}{_suggest(text, DRUM_NOTES)}; known: {known}")
    return note


def program_of(name_or_number: str | int) -> int:
    """The program (0-127) of a GM or short instrument name, or of a number given as such;
    ConfigError naming the known names for anything else (a drum kit has no program)."""
    text = str(name_or_number).strip()
    if text.lstrip("-").isdigit():
        return _program_number(int(text))
    program = _PROGRAM_KEYS.get(_key(text))
    if program is None:
        raise ConfigError(f"unknown instrument {text!r}{_suggest(text, PROGRAMS)}; {known_names()}")
    return program


def instrument_of(name_or_number: str | int) -> Instrument:
    """One ensemble member: a drum kit by name ("drums"), else a program by name or number."""
    text = str(name_or_number).strip()
    if _key(text) in _KIT_KEYS:
        return Instrument("Drums", 0, True)
    program = program_of(text)
    name = text if not text.isdigit() else program_name(program)
    return Instrument(name[:1].upper() + name[1:], program, False)


def ensemble_of(spec: str | list[str] | tuple[str, ...]) -> list[Instrument]:
    """An ensemble from "violin,violin,viola,cello" (or a list of names / numbers)."""
    parts = spec.split(",") if isinstance(spec, str) else [str(p) for p in spec]
    parts = [p.strip() for p in parts if p.strip()]
    if not parts:
        raise ConfigError(f"no instruments given; {known_names()}")
    return [instrument_of(p) for p in parts]


def known_names() -> str:
    """The names `program_of` and `instrument_of` know, as one line for an error message."""
    return (
        f"known: {', '.join(SHORT_NAMES)}, {', '.join(DRUM_KIT_NAMES)}; a program number 0-127; "
        f"or a General MIDI name: {', '.join(n.lower() for n in GM_NAMES)}"
    )


def _suggest(text: str, names: dict[str, int]) -> str:
    close = difflib.get_close_matches(text.lower(), list(names), n=3, cutoff=0.6)
    return f" (did you mean {' or '.join(repr(c) for c in close)}?)" if close else ""


def _program_number(program: int) -> int:
    if not 0 <= int(program) <= 127:
        raise ConfigError(f"a General MIDI program is 0-127, not {program}")
    return int(program)
