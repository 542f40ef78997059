"""Which real pieces the reference holds: drawn piece by piece, then only those pieces read.

A corpus's files hold very different numbers of pieces (folk-abc: 31 Essen files with 8,500
tunes, 1,059 Ryan's Mammoth files with one each), so drawing files and a piece or two of each
makes the reference a picture of the many small files. Here every piece has the same chance:
the pieces are counted cheaply (an ABC file's `X:` tunes by the tune splitter; one piece for a
file of any other format), spread evenly over all of them, and only the drawn pieces are read
through music21. For a run the pieces are its validation split's (`draw_split`), mapped from
the token corpus to the tunes of their files.

A draw is {file: [piece index in the file, 0-based, as the judge numbers the file's pieces]}.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from mgen.core.contracts.tokenizer import Tokenizer
from mgen.core.data.corpus import Corpus
from mgen.evaluate.notes import Reader, Score, evenly, read_pieces, reader_for
from mgen.evaluate.validity import Unit, judge, kind_of
from mgen.formats.abc.tunes import read_text, tune_texts

Draw = dict[Path, list[int]]


def _kind(path: Path, reader: Reader) -> str:
    return kind_of(path, reader.format.name)


def _abc_texts(path: Path) -> tuple[list[str], str]:
    """The file's tunes as the ABC checks split it, and its text before the first `X:` line
    (file-wide fields that its tunes may rely on)."""
    text = read_text(path)
    tunes, starts = tune_texts(text)
    lines = text.splitlines()
    header = "\n".join(lines[: starts[0] - 1]) + "\n" if starts[0] > 1 else ""
    return tunes, header


def piece_count(path: Path) -> int:
    """How many pieces the judge reads in `path`, without music21: an ABC file's tunes, else 1
    (a **kern file's spines are drawn together: counting them needs a full parse)."""
    reader = reader_for(path)
    if reader is None or _kind(path, reader) != "abc":
        return 1
    try:
        return len(_abc_texts(path)[0])
    except Exception:  # noqa: BLE001 - an unreadable file is one (failing) piece
        return 1


def draw_files(files: Sequence[Path], limit: int | None) -> tuple[Draw, int]:
    """At most `limit` pieces spread evenly over every piece of `files` (in the sorted files'
    order, so each collection is drawn in proportion to its pieces) -> (draw, pieces in all)."""
    every = [(f, i) for f in sorted(files) for i in range(piece_count(f))]
    draw: Draw = {}
    for f, i in evenly(every, limit):
        draw.setdefault(f, []).append(i)
    return draw, len(every)


def draw_split(corpus: Corpus, ids: Sequence[int], tok: Tokenizer, limit: int | None) -> Draw:
    """At most `limit` of the corpus pieces `ids` (a run's validation split), spread evenly over
    them in corpus order, as a draw of the pieces of their files."""
    chosen = evenly(sorted(int(i) for i in ids), limit)
    first = {}  # file -> its first piece in the corpus
    for i, f in enumerate(corpus.piece_file.tolist()):
        first.setdefault(f, i)
    local: dict[int, list[int]] = {}
    for i in chosen:
        f = int(corpus.piece_file[i])
        local.setdefault(f, []).append(i - first[f])
    sizes = np.bincount(corpus.piece_file, minlength=len(corpus.files))
    draw: Draw = {}
    for f, pieces in local.items():
        path = Path(corpus.files[f])
        reader = reader_for(path)
        if reader is not None:
            draw[path] = _judge_numbers(path, reader, tok, pieces, int(sizes[f]))
    return draw


def _judge_numbers(
    path: Path, reader: Reader, tok: Tokenizer, pieces: list[int], size: int
) -> list[int]:
    """The token corpus's piece numbers of a file (of `size` pieces there) as the judge
    numbers them. The same, unless an ABC tokenizer skipped some tunes (no `K:`, too long):
    then each tune is read alone to see whether it gave a piece."""
    if _kind(path, reader) != "abc":
        return pieces
    try:
        tunes, _ = _abc_texts(path)
    except Exception:  # noqa: BLE001 - the judge reports the unreadable file itself
        return pieces
    if len(tunes) == size:
        return pieces
    owner: list[int] = []
    with tempfile.TemporaryDirectory(prefix="mgen-draw-") as tmp:
        one = Path(tmp) / f"tune{path.suffix}"
        for j, tune in enumerate(tunes):
            one.write_text(tune, encoding="utf-8")
            try:
                owner += [j] * len([p for p in tok.read(one) if p])
            except Exception:  # noqa: BLE001 - a tune the tokenizer refuses gave no piece
                continue
    return sorted({owner[k] for k in pieces if k < len(owner)})


def read_draw(draw: Draw) -> tuple[list[Score], list[Unit], list[str]]:
    """The drawn pieces (notes), their judged units, and the checks that ran."""
    pieces: list[Score] = []
    units: list[Unit] = []
    checks: dict[str, None] = {}
    for path, picks in sorted(draw.items()):
        reader = reader_for(path)
        if reader is None:
            continue
        if _kind(path, reader) == "abc":
            found, judged, ran = _read_tunes(path, reader, picks)
        else:
            found, judged, ran = _read_whole(path, reader, picks)
        pieces += found
        units += judged
        checks.update(dict.fromkeys(ran))
    return pieces, units, list(checks)


def _read_whole(
    path: Path, reader: Reader, picks: list[int]
) -> tuple[list[Score], list[Unit], list[str]]:
    """A file of another format, read whole (one piece, or a score's few spines): the picked
    pieces kept, or as many spread evenly when the reader numbers them otherwise."""
    pieces = read_pieces(path, None, reader)[0]
    if len(pieces) > max(picks):
        pieces = [pieces[i] for i in picks]
    verdict = judge(path, _kind(path, reader), len(picks))
    return evenly(pieces, len(picks)), verdict.units, verdict.checks


def _read_tunes(
    path: Path, reader: Reader, picks: list[int]
) -> tuple[list[Score], list[Unit], list[str]]:
    """The chosen tunes of an ABC file: copied (after the file's header) into a file of their
    own, read and judged there, and named back after their place in `path`."""
    tunes, header = _abc_texts(path)
    if len(picks) == len(tunes):
        verdict = judge(path, "abc")
        return read_pieces(path, None, reader)[0], verdict.units, verdict.checks
    with tempfile.TemporaryDirectory(prefix="mgen-draw-") as tmp:
        part = Path(tmp) / f"drawn{path.suffix}"
        part.write_text(header + "".join(tunes[j] for j in picks), encoding="utf-8")
        pieces = read_pieces(part, None, reader)[0]
        verdict = judge(part, "abc")
    names = {str(part) if len(picks) == 1 else f"{part}#{n}": f"{path}#{j + 1}"
             for n, j in enumerate(picks, 1)}  # fmt: skip
    for p in pieces:
        p.name = names.get(p.name, p.name)
    for u in verdict.units:
        u.name = names.get(u.name, u.name)
    return pieces, verdict.units, verdict.checks
