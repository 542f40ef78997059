"""Where bars and beats begin in the built-in tokenizers' pieces: their `spans` hooks
(mgen.core.contracts.infill), and the MIDI tokenizers' `join`, which keeps the suffix's time.

Each returns [(unit, offset)]: unit numbers from 1 with the token offset where each begins,
then (the last unit + 1, where the last ends). No torch here (tokenizers never import it).
"""

from __future__ import annotations

import re
from collections.abc import Callable

#: A bar line: `|`, `||`, `|]`, `[|`, `:|`, `|:`, `:||:` ...
_BAR = re.compile(r"[:\[]*\|[|\]:]*")
_FIELD_LINE = re.compile(r"^[A-Za-z]:.*$|%.*$", re.MULTILINE)
_QUOTED = re.compile(r'"[^"\n]*"')


def abc_spans(tokens: list[str], header_chars: int) -> list[tuple[int, int]]:
    """An abc-char tune's bars: bar 1 after the header (a bar line opening the body belongs
    to it), each next one after a bar line; a last bar with no closing bar line ends with the
    tune. Bar lines in field lines (w:, P:), comments and chord symbols do not count."""
    text = "".join(tokens)
    body = _QUOTED.sub(lambda m: " " * len(m.group()), text[header_chars:])
    body = _FIELD_LINE.sub(lambda m: " " * len(m.group()), body)
    ends = [header_chars + m.end() for m in _BAR.finditer(body)]
    first = len(body) - len(body.lstrip())
    if ends and not body[first : ends[0] - header_chars].strip(":|[] "):
        ends = ends[1:]  # `|:` opening the body opens bar 1
    starts = [header_chars + first, *ends]
    if text[starts[-1] :].strip():  # a last bar not closed by a bar line
        starts.append(len(text))
    return [(k + 1, o) for k, o in enumerate(starts)] if len(starts) > 1 else []


def onset_spans(
    tokens: list[str], steps: Callable[[str], int | None], onset: Callable[[str], bool],
    unit_steps: int, own: Callable[[str], bool] = lambda t: False,
) -> list[tuple[int, int]]:  # fmt: skip
    """Spans of `unit_steps` grid steps over tokens whose time moves by `steps(token)` (None:
    no time) and where `onset(token)` opens a note: unit k begins at the first onset at or
    after (k-1) * unit_steps, with the tokens that lead to it (`own`: tokens that belong to
    the onset before them, such as a midi-notes duration, never lead)."""
    now, lead, onsets = 0, None, []  # lead: where the run of tokens before the next onset began
    for i, t in enumerate(tokens):
        if onset(t):
            onsets.append((now, i if lead is None else lead))
            lead = None
        elif lead is None and not own(t):
            lead = i
        now += steps(t) or 0
    if not onsets:
        return []
    last = onsets[-1][0] // unit_steps + 1
    out, j = [], 0
    for k in range(1, last + 1):
        while onsets[j][0] < (k - 1) * unit_steps:
            j += 1
        out.append((k, onsets[j][1]))
    return [*out, (last + 1, len(tokens))]


def midi_shift(token: str) -> int | None:
    """Steps a midi-notes or midi-chords time-shift token (`t4`) moves on."""
    return int(token[1:]) if token[:1] == "t" and token[1:].isdigit() else None


def midi_join(
    prefix: list[str], middle: list[str], suffix: list[str], old: list[str],
    onset: Callable[[str], bool], shifts: Callable[[int], list[str]],
) -> list[str]:  # fmt: skip
    """A MIDI piece with a new middle in which the suffix keeps its time: the middle's notes
    from the suffix's first onset on are dropped, and the time shifts that lead to the suffix
    are written again from where the new middle ends."""
    t_prefix = sum(midi_shift(t) or 0 for t in prefix)
    lead = next((i for i, t in enumerate(suffix) if onset(t)), len(suffix))
    target = t_prefix + sum(midi_shift(t) or 0 for t in [*old, *suffix[:lead]])
    now, kept, last_onset = t_prefix, [], t_prefix
    for t in middle:
        now += midi_shift(t) or 0
        if now >= target:
            break
        kept.append(t)
        if onset(t):
            last_onset = now
    while kept and (midi_shift(kept[-1]) is not None or kept[-1].startswith("tempo_")):
        kept.pop()  # the middle's trailing shifts: the gap is written below
    tempos = [t for t in suffix[:lead] if midi_shift(t) is None]
    return [*prefix, *kept, *shifts(target - last_onset), *tempos, *suffix[lead:]]


class MidiSpans:
    """Mixin of midi-notes and midi-chords: the infill hooks over their `t` shift tokens."""

    span_unit = "beat"

    def spans(self, tokens: list[str]) -> list[tuple[int, int]]:
        """The infill hook (mgen.core.contracts.infill): beats (quarter notes), each from the
        time shifts that lead to its first onset."""
        spb = self.config.steps_per_beat  # type: ignore[attr-defined]
        own = lambda t: (t[:1] in "dv" and t[1:].isdigit()) or t.startswith("tempo_")  # noqa: E731
        return onset_spans(tokens, midi_shift, _midi_onset, spb, own)

    def join(self, prefix: list[str], middle: list[str], suffix: list[str], old: list[str]):
        """A piece with a new middle (`old`: the one it replaces): every note of the suffix
        keeps its time (`midi_join`)."""
        cap = self.config.max_shift_steps  # type: ignore[attr-defined]

        def shifts(gap: int) -> list[str]:
            return [f"t{cap}"] * (gap // cap) + ([f"t{gap % cap}"] if gap % cap else [])

        return midi_join(prefix, middle, suffix, old, _midi_onset, shifts)


def _midi_onset(token: str) -> bool:
    """A note's pitch (midi-notes) or a chord's pitches (midi-chords, `60.64.67`)."""
    return token.replace(".", "").isdigit()
