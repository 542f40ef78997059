"""The MIDI rows of the scale section: piano-midi parsed by the old reader and by symusic side
by side, and the full checks on piano-midi and bach-midi that CI runs on a subset:

- round trip: read -> write -> read gives the same tokens, and every note of the quantized
  original (pitch, onset, duration; velocity bin with `velocities=8`) and its tempo marks are in
  the written file (midi-notes);
- readers: symusic and miditoolkit give the same tokens (midi-notes and midi-chords).
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

from mgen.bench.common import cache_at, fig, quiet, ratio
from mgen.core.contracts import registry
from mgen.core.contracts.errors import MgenError
from mgen.core.data.corpus import Corpus, find_files, load_corpus

if TYPE_CHECKING:
    from mgen.bench import Bench

PATTERNS = ("*.mid", "*.midi", "*.MID", "*.MIDI")
QUICK_FILES = 8
TARGET = 20.0  # the target: symusic parses piano-midi 20x faster than the old first parse


def corpora(b: Bench) -> list[tuple[str, list[Path]]]:
    """(label, files) of piano-midi (../shared/data) and bach-midi (when written)."""
    out = []
    piano = Path(b.cfg.shared_data) / "piano-midi"
    if piano.is_dir():
        out.append(("piano-midi", find_files([piano], PATTERNS)))
    else:
        b.add("scale", "piano-midi", "absent", f"no {piano}")
    bach = registry.load("dataset", "bach-midi")()
    if bach.ready():
        out.append(("bach-midi", bach.files(progress=False)))
    else:
        b.add("scale", "bach-midi", "skipped", "not written yet: run `mgen data prepare bach-midi`")
    return [(label, files[:QUICK_FILES] if b.cfg.quick else files) for label, files in out]


def _tokenizer(name: str, **options):
    cls = registry.load("tokenizer", name)
    return cls(cls.Config.from_dict(options))


def _parse(b: Bench, name: str, reader: str, files: list[Path]) -> tuple[float, Corpus]:
    """Seconds of a first parse on every core, in a fresh cache; and the corpus."""
    tok = _tokenizer(name, reader=reader)
    with cache_at(Path(tempfile.mkdtemp(dir=b.tmp, prefix=f"parse-{name}-{reader}-"))):
        t0 = time.perf_counter()
        corpus = load_corpus(tok, files, progress=False, warn=quiet)
        return time.perf_counter() - t0, corpus


def compare_readers(b: Bench) -> None:
    """piano-midi's first parse by miditoolkit and by symusic, for both MIDI tokenizers."""
    found = [c for c in corpora(b) if c[0] == "piano-midi"]
    if not found:
        return
    files = found[0][1]
    old, _ = _parse(b, "midi-chords", "miditoolkit", files)  # mgen's parse before symusic
    b.add("scale", "piano-midi first parse, old reader (midi-chords, miditoolkit)",
          f"{fig(len(files) / old)} files/s", f"{len(files)} files, {fig(old)} s")  # fmt: skip
    for name in ("midi-chords", "midi-notes"):
        slow, ref = _parse(b, name, "miditoolkit", files) if name != "midi-chords" else (old, None)
        fast, corpus = _parse(b, name, "symusic", files)
        if ref is None:
            _, ref = _parse(b, name, "miditoolkit", files)
        same = sum(_same_pieces(corpus, ref, f) for f in map(str, files))
        b.add("scale", f"piano-midi first parse, symusic ({name})",
              f"{fig(len(files) / fast)} files/s",
              f"{ratio(slow / fast)} miditoolkit's {fig(len(files) / slow)} files/s, "
              f"{ratio(old / fast)} the old parse (target {fig(TARGET)}x); same tokens from "
              f"both readers in {same} of {len(files)} files; {int(corpus.offsets[-1]):,} tokens")  # fmt: skip


def _same_pieces(a: Corpus, b: Corpus, path: str) -> bool:
    """Whether file `path` gave the same pieces (or the same skip) in both corpora."""

    def pieces(c: Corpus) -> list[list[str]] | None:
        if path not in c.files:
            return None
        f = c.files.index(path)
        return [c.piece(i) for i in range(len(c)) if c.piece_file[i] == f]

    return pieces(a) == pieces(b)


def full_checks(b: Bench) -> None:
    """Round trip (midi-notes, plain and with 8 velocity bins) and reader agreement (bach-midi;
    piano-midi's is in `compare_readers`) on every file."""
    for label, files in corpora(b):
        for options in ({}, {"velocities": 8}):
            t0 = time.perf_counter()
            ok, notes, marks, failed = round_trip(files, **options)
            which = "midi-notes" + (", 8 velocity bins" if options else "")
            b.add("scale", f"{label} round trip ({which})", f"{ok} of {len(files)} files",
                  f"read -> write -> read: same tokens and all {notes:,} quantized notes, "
                  f"{marks:,} tempo marks kept{_failed(failed)}; {fig(time.perf_counter() - t0)} s")  # fmt: skip
        if label != "piano-midi":
            for name in ("midi-notes", "midi-chords"):
                same = readers_agree(name, files)
                b.add("scale", f"{label}: symusic and miditoolkit agree ({name})",
                      f"{same} of {len(files)} files", "identical tokens")  # fmt: skip


def _failed(failed: list[str]) -> str:
    return f"; failed: {', '.join(failed[:3])}" if failed else ""


def round_trip(files: list[Path], **options) -> tuple[int, int, int, list[str]]:
    """(files passing, notes checked, tempo marks checked, names of failing files)."""
    tok = _tokenizer("midi-notes", **options)
    ok = notes = marks = 0
    failed: list[str] = []
    with tempfile.TemporaryDirectory(prefix="mgen-round-trip-") as tmp:
        for f in files:
            good, n, m = _round_trip_one(tok, f, Path(tmp) / "piece.mid")
            ok, notes, marks = ok + good, notes + n, marks + m
            if not good:
                failed.append(f.name)
    return ok, notes, marks, failed


def _round_trip_one(tok, src: Path, out: Path) -> tuple[bool, int, int]:
    """(passed, notes, tempo marks) of one file."""
    try:
        [tokens] = tok.read(src)
        tok.write(tokens, out)
        grid, again = tok.grid(src), tok.grid(out)
        same = tok.read(out) == [tokens] and grid.notes() == again.notes()
        return same and grid.tempo == again.tempo, len(grid), len(grid.tempo)
    except MgenError:
        return False, 0, 0


def readers_agree(name: str, files: list[Path]) -> int:
    """Files whose tokens are the same from symusic as from miditoolkit (or both skip them)."""
    fast, ref = _tokenizer(name), _tokenizer(name, reader="miditoolkit")

    def read(tok, f: Path):
        try:
            return tok.read(f)
        except MgenError as e:
            return str(type(e))

    return sum(read(fast, f) == read(ref, f) for f in files)
