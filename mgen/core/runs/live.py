"""Streaming one sample of a run: the engine's steps at batch 1 (`sample_steps`, the recurrent
state carried: one token costs one model step), each token as it comes, each note once final,
then the piece as `Run.continue_tokens` gives it with the same seed (the events:
mgen.core.sampling.stream). The caller may stop at any event: closing the iterator stops the
sampling there, and `Stream.stop()` ends it with the piece so far.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from mgen.core.contracts.cutoff import CutsOff
from mgen.core.runs.run import Run
from mgen.core.sampling.engine import GrammarReport, RepetitionConfig, sample_steps
from mgen.core.sampling.stream import Event, Finished, NoteReader, Token


class Stream(Iterator[Event]):
    """The events of one sample as it is sampled (`stream` makes one). `stop()` ends it at the
    next token: its last event is then the Finished of the piece so far, cut where the piece
    could have ended (as `sample` cuts one that ran out of steps). `close()` ends it at once."""

    def __init__(self, run: Run, tokens: list[str], n: int, plan: dict[str, Any], every: int):
        self.run, self.tokens, self.n, self.plan = run, tokens, n, plan
        self.reader, self.stopped = NoteReader(run.tokenizer, tokens, every), False
        self._events = self._run()

    def __next__(self) -> Event:
        return next(self._events)

    def stop(self) -> None:
        self.stopped = True  # read between steps: safe from a signal handler

    def close(self) -> None:
        self._events.close()

    def _run(self) -> Iterator[Event]:
        guided, report = self.plan["grammar"] is not None, GrammarReport()
        words, end_id = self.plan["vocab"].tokens, self.plan["vocab"].end_id
        piece, ids = _Piece(self.run, self.tokens, guided), []
        for step in sample_steps(**self.plan, report=report):
            i = int(step.ids[0])
            if step.may_end is not None and bool(step.may_end[0]):
                piece.keep = len(ids)  # the piece may end before this token
            if i == end_id:
                continue  # the last step: the engine ends its loop and fills `report`
            ids.append(i)
            piece.new.append(words[i])
            yield Token(len(ids) - 1, words[i])
            if self.stopped:
                yield from self._end(piece.kept(), False, len(ids))
                return
            if self.reader.due(len(piece.new)):
                yield from self.reader.read(piece.kept())
        end = report.ends[0] if guided else None
        yield from self._end(self.run.ending(self.tokens, ids, self.n, end), len(ids) < self.n,
                             len(ids))  # fmt: skip

    def _end(self, final: list[str], ended: bool, steps: int) -> Iterator[Event]:
        fresh, notes = self.reader.rest(final)
        yield from fresh
        yield Finished(final, notes, ended=ended, steps=steps)


def stream(
    run: Run,
    tokens: list[str],
    n: int,
    decoder: str | None,
    *,
    seed: int = 0,
    repetition: RepetitionConfig | None = None,
    grammar: bool = True,
    every: int = 16,
    **options: Any,
) -> Stream:
    """Sample `n` new tokens at most after `tokens` (primer tokens already parsed), as
    `run.continue_tokens(tokens, n, 1, decoder, seed=seed, ...)` does, one event at a time:
    a Token per token, Notes once final (read every `every` tokens at first), a Finished."""
    plan = run.plan(tokens, n, 1, decoder, seed=seed, repetition=repetition, grammar=grammar,
                    **options)  # fmt: skip
    return Stream(run, tokens, n, plan, every)


class _Piece:
    """The tokens so far, and how many of them `sample` would keep if the stream stopped now:
    up to where the grammar last let the piece end (`keep`), else the tokenizer's cut-off."""

    def __init__(self, run: Run, tokens: list[str], guided: bool):
        self.tokens, self.new, self.keep = tokens, [], 0
        self.guided = guided
        tok = run.tokenizer
        self.cut = tok.cut_off if isinstance(tok, CutsOff) else None

    def kept(self) -> list[str]:
        if self.guided:
            return self.tokens + self.new[: self.keep]
        whole = self.tokens + self.new
        return self.cut(whole) if self.cut is not None else whole
