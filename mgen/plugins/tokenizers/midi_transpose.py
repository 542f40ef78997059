"""Transposition for the MIDI tokenizers' training augmentation (`-T transpose=-5..6`)."""

from __future__ import annotations

import re
from typing import Any

from mgen.core.contracts.errors import ConfigError

_PITCHES = re.compile(r"^\d{1,3}(\.\d{1,3})*$")  # a pitch (60) or a chord (60.64.67)
MAX_SHIFT = 24  # semitones either way


def parse_range(spec: str | int) -> tuple[int, ...]:
    """ "" or 0: (0,), no augmentation; N: -N..N; "LO..HI": LO..HI, both ends included."""
    if spec in ("", 0):
        return (0,)
    if isinstance(spec, int) and not isinstance(spec, bool):
        lo, hi = -abs(spec), abs(spec)
    else:
        m = re.fullmatch(r"\s*([+-]?\d+)\s*\.\.\s*([+-]?\d+)\s*", str(spec))
        if not m:
            raise ConfigError(f"transpose must be LO..HI (e.g. -5..6) or N, got {spec!r}")
        lo, hi = int(m.group(1)), int(m.group(2))
    if lo > hi or max(-lo, hi) > MAX_SHIFT:
        raise ConfigError(f"transpose {spec!r}: need LO <= HI within -{MAX_SHIFT}..{MAX_SHIFT}")
    return tuple(range(lo, hi + 1))


class TransposeMixin:
    """`transpositions` from the config's `transpose`; `transpose` moves pitch and chord tokens."""

    config: Any

    def transpositions(self) -> tuple[int, ...]:
        return parse_range(self.config.transpose)

    def transpose(self, token: str, semitones: int) -> str | None:
        """A pitch or chord token moved by `semitones`; None when a pitch leaves 0..127."""
        if not semitones or not _PITCHES.match(token):
            return token
        moved = [int(p) + semitones for p in token.split(".")]
        if min(moved) < 0 or max(moved) > 127:
            return None
        return ".".join(map(str, moved))
