"""What a stream of samples gives its caller: each token as it is sampled, each note once it is
final, and at the end the piece as `sample` writes it (`mgen.core.runs.live` makes them).

A note is final once the piece so far has an onset at or after its end: no later token can
then lengthen it, cut it (a pitch struck again) or tie it on. Notes are read again from the
tokens every few tokens (`NoteReader`), through the tokenizer's `score` hook where it has one
(mgen.core.contracts.live), and only from the part of the piece that `sample` would keep if
the stream stopped there (up to where the grammar last let it end, or its `cut_off`). So the
notes a stream gives, in order, are exactly the notes of the piece `sample` writes with the
same seed.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace

from mgen.core.contracts import controls
from mgen.core.contracts.live import piece_score
from mgen.formats.score import Score

NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")


def pitch_name(pitch: int) -> str:
    """A MIDI pitch as a note name, middle C (60) as C4."""
    return f"{NAMES[pitch % 12]}{pitch // 12 - 1}"


@dataclass(frozen=True)
class Note:
    """One final note: pitch, onset and duration in beats (quarter notes), velocity, its track
    (index, and the track's name: an instrument or voice), start and end in seconds."""

    pitch: int
    onset: float
    duration: float
    velocity: int
    track: int = 0
    part: str = ""
    start: float = 0.0
    end: float = 0.0
    drum: bool = False
    primer: bool = False  # a note of the primer (a phrase played, the text given), not new

    @property
    def name(self) -> str:
        return pitch_name(self.pitch)

    def key(self) -> tuple[int, float, int]:
        """What identifies it in its piece: track, onset, pitch."""
        return (self.track, self.onset, self.pitch)

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass(frozen=True)
class Token:
    """One sampled token: its place among the new tokens (from 0) and its text."""

    index: int
    text: str


@dataclass(frozen=True)
class Finished:
    """The end of a stream: the piece's tokens (primer first, cut as `sample` cuts one that
    ran out of steps), every note of it, whether it sampled its <end>, how many steps ran."""

    piece: list[str]
    notes: list[Note] = field(default_factory=list)
    ended: bool = False
    steps: int = 0


Event = Token | Note | Finished


def score_notes(score: Score) -> list[Note]:
    """Every note of every track of `score` (drum hits too), by onset, track, pitch; each
    note's `part` is its track's name where the score has several tracks."""
    out, several = [], len(score.tracks) > 1
    for i, t in enumerate(score.tracks):
        start = score.seconds(t.onset).tolist()
        end = score.seconds(t.onset + t.duration).tolist()
        rows = zip(t.pitch.tolist(), t.onset.tolist(), t.duration.tolist(), t.velocity.tolist(),
                   start, end, strict=True)  # fmt: skip
        part = t.name if several else ""
        out += [Note(p, on, d, v, i, part, round(s, 4), round(e, 4), bool(t.is_drum))
                for p, on, d, v, s, e in rows if d > 0 or t.is_drum]  # fmt: skip
    return sorted(out, key=lambda n: (n.onset, n.track, n.pitch))


class NoteReader:
    """The final notes of a growing piece, each given once (the primer's marked `primer`).
    `every`: tokens between readings at the start; later at least an eighth of the piece, so
    reading stays linear overall."""

    def __init__(self, tok: object, primer: list[str], every: int = 16):
        self.tok, self.every = tok, every
        self.sent: set[tuple[int, float, int]] = set()
        self.read_at = 0
        self.primer = {n.key() for n in self._notes(primer)}

    def due(self, length: int) -> bool:
        """Whether to read again now that the stream has `length` tokens."""
        if length - self.read_at < max(self.every, length // 8):
            return False
        self.read_at = length
        return True

    def read(self, tokens: list[str]) -> list[Note]:
        """The notes of `tokens` (the part a stopped stream would keep) that are final now and
        were not given before."""
        notes = self._notes(tokens)
        frontier = max((n.onset for n in notes), default=0.0)
        return self._new([n for n in notes if n.onset + n.duration <= frontier])

    def rest(self, piece: list[str]) -> tuple[list[Note], list[Note]]:
        """The notes of the finished piece not given yet; and all of them, in order."""
        notes = self._notes(piece)
        fresh = self._new(notes)
        return fresh, [replace(n, primer=True) if n.key() in self.primer else n for n in notes]

    def _notes(self, tokens: list[str]) -> list[Note]:
        return score_notes(piece_score(self.tok, controls.strip(tokens)))

    def _new(self, notes: list[Note]) -> list[Note]:
        fresh = [n for n in notes if n.key() not in self.sent]
        self.sent.update(n.key() for n in fresh)
        return [replace(n, primer=True) if n.key() in self.primer else n for n in fresh]
