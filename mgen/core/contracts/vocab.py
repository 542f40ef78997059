"""Token <-> id table with the four special tokens every piece and model shares."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from mgen.core.contracts.errors import DataError

PAD, START, END, UNK = "<pad>", "<start>", "<end>", "<unk>"
SPECIALS = (PAD, START, END, UNK)


class Vocab:
    """Token <-> id table. Ids 0..3 are always the special tokens, in SPECIALS order."""

    pad_id, start_id, end_id, unk_id = 0, 1, 2, 3

    def __init__(self, tokens: Sequence[str]):
        extra = [t for t in tokens if t not in SPECIALS]
        self.tokens: list[str] = [*SPECIALS, *extra]
        self.index: dict[str, int] = {t: i for i, t in enumerate(self.tokens)}
        if len(self.index) != len(self.tokens):
            raise DataError("vocabulary has duplicate tokens")

    @classmethod
    def build(cls, counts: Mapping[str, int], min_count: int = 1) -> Vocab:
        """Every token seen at least `min_count` times, sorted; the rest will read as <unk>."""
        kept = [t for t, c in counts.items() if c >= min_count and t not in SPECIALS]
        return cls(sorted(kept))

    def __len__(self) -> int:
        return len(self.tokens)

    def __contains__(self, token: str) -> bool:
        return token in self.index

    def encode(self, tokens: Iterable[str]) -> list[int]:
        get = self.index.get
        return [get(t, self.unk_id) for t in tokens]

    def decode(self, ids: Iterable[int]) -> list[str]:
        return [self.tokens[i] for i in ids]
