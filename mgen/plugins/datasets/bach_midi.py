"""bach-midi: MusicXML scores from music21's corpus written as MIDI into the cache on first use,
by music21's own MIDI writer (repeats expanded); the machinery is `written`'s."""

from __future__ import annotations

from pathlib import Path

from mgen.core.contracts.errors import MgenError
from mgen.core.contracts.io import atomic_path
from mgen.plugins.datasets.written import Converter, WrittenMidi, dataset_dir, write_dataset

__all__ = ["BACH_MIDI", "BachMidi", "bach_midi_sources", "build_midi_dataset", "dataset_dir"]

BACH_MIDI = "bach-midi"
#: music21 corpus folders whose MusicXML scores make bach-midi: the Bach chorales (410 of the
#: 504 files) plus other common-practice scores. Atonal (Schoenberg, Webern), medieval (trecento)
#: and test material (demos, theoryExercises) are left out so the style stays coherent; so are
#: Beethoven's quartets: they took ~13 of the 17 CPU-minutes that writing them all needed.
MIDI_COLLECTIONS = (
    "bach", "beach", "corelli", "cpebach", "handel", "haydn", "joplin", "monteverdi",
    "mozart", "schubert", "schumann_clara", "schumann_robert", "verdi", "weber",
)  # fmt: skip
SCORE_PATTERNS = ("*.mxl", "*.xml", "*.musicxml")


class BachMidi(WrittenMidi):
    """~500 Bach chorales and other scores from music21's corpus, written as MIDI on first use."""

    name = BACH_MIDI
    tokenizer = "midi-notes"
    source = "music21 corpus: Bach chorales + other MusicXML scores, written as MIDI"

    def sources(self) -> list[Path]:
        return bach_midi_sources()

    def converter(self) -> Converter:
        return score_to_midi


def bach_midi_sources() -> list[Path]:
    """The MusicXML scores bach-midi is written from (cheap: a glob of the installed corpus)."""
    from mgen.formats.m21 import corpus_files

    return corpus_files(MIDI_COLLECTIONS, SCORE_PATTERNS)


def build_midi_dataset(
    sources: list[Path], root: Path, dest: Path, workers: int | None = None, progress: bool = True
) -> list[Path]:
    """Write every score in `sources` (under `root`) as `dest/<relative path>.mid`, as bach-midi
    is written (see `written.write_dataset`)."""
    return write_dataset(sources, root, dest, score_to_midi, workers, progress)


def score_to_midi(src: str, out: str) -> str | None:
    """Parse one score with music21 and write it as MIDI; returns why it failed, or None."""
    import warnings

    from music21.midi.translate import streamToMidiFile

    from mgen.formats.m21 import parse

    try:
        score = parse(Path(src))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            mf = streamToMidiFile(score)
        with atomic_path(Path(out)) as tmp:
            mf.open(str(tmp), "wb")
            try:
                mf.write()
            finally:
                mf.close()
    except MgenError as e:
        return str(e)
    except Exception as e:  # noqa: BLE001 - one unconvertible score must not stop the others
        return f"{type(e).__name__}: {e}"
    return None
