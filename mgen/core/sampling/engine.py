"""Sampling engine: prime once, then one token per step with the recurrent state carried.

The K samples run as one batch [K, 1] per step; nothing is ever recomputed over a window.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch

from mgen.core.contracts.config import Config, check_seed
from mgen.core.contracts.decoder import Decoder
from mgen.core.contracts.errors import ConfigError
from mgen.core.contracts.grammar import Grammar
from mgen.core.contracts.model import SequenceModel
from mgen.core.contracts.vocab import Vocab


@dataclasses.dataclass
class RepetitionConfig(Config):
    """Loop guards: logit adjustments applied before the decoder. Off by default, so sampling
    decoders sample the model's own distribution; `default_repetition` turns them on for
    argmax, which cannot escape a loop by chance (measured in docs/evaluation.md)."""

    repetition_penalty: float = 1.0  # >1 divides positive logits of recently used tokens
    repetition_window: int = 32  # how many recent tokens the penalty looks at
    no_repeat_ngram: int = 0  # >0 forbids repeating any n-gram of this many note events
    # >0: a neutral token (hold, rest, shift) may repeat at most this often in a row. The
    # guards exempt those tokens so a long note stays possible, but a greedy decoder would
    # then hold one note forever; `Run.sample` sets this to the longest run in the training
    # data whenever a guard is on, so nothing the corpus does is ever forbidden.
    max_neutral_run: int = 0

    def validate(self) -> None:
        if not (self.repetition_penalty >= 1.0 and math.isfinite(self.repetition_penalty)):
            raise ConfigError(
                f"--repetition-penalty must be >= 1 and finite, got {self.repetition_penalty}"
            )
        if self.repetition_window < 1:
            raise ConfigError("--repetition-window must be >= 1")
        if self.no_repeat_ngram < 0 or self.no_repeat_ngram == 1:
            raise ConfigError("--no-repeat-ngram must be 0 (off) or >= 2")
        if self.max_neutral_run < 0:
            raise ConfigError("max_neutral_run must be >= 0 (0: no limit)")

    @property
    def on(self) -> bool:
        """Whether any loop guard is active."""
        return self.repetition_penalty > 1.0 or self.no_repeat_ngram > 0


#: The most samples in one batch and new tokens per sample (the web server's are smaller): a
#: batch holds K x length ids and K recurrent states, and a user who wants more runs again.
MAX_SAMPLES, MAX_LENGTH = 1000, 100_000


def check_request(n: int, num_samples: int, seed: int) -> None:
    """The one check of a sampling request's sizes and seed (the CLI, the API, the server)."""
    if n < 1 or num_samples < 1:
        raise ConfigError("-n and --num-samples must be >= 1")
    if n > MAX_LENGTH:
        raise ConfigError(f"-n must be <= {MAX_LENGTH:,}, got {n}")
    if num_samples > MAX_SAMPLES:
        raise ConfigError(
            f"--num-samples must be <= {MAX_SAMPLES:,} (one batch; run again with "
            f"another --seed for more), got {num_samples}"
        )
    check_seed(seed)


@dataclasses.dataclass
class GrammarReport:
    """What the grammar did to each sample: the steps at which it refused the model's first
    choice, the steps sampled, and how many tokens a sample that ran out of steps keeps to end
    where the grammar lets a piece end."""

    refused: list[int] = dataclasses.field(default_factory=list)
    steps: list[int] = dataclasses.field(default_factory=list)
    ends: list[int] = dataclasses.field(default_factory=list)

    def record(self, refused: list[int], ends: list[int], out: torch.Tensor, end_id: int) -> None:
        self.refused, self.ends = refused, ends
        self.steps = [row.index(end_id) + 1 if end_id in row else len(row) for row in out.tolist()]

    def share(self) -> float:
        """The share of all steps at which the model's first choice was refused."""
        return sum(self.refused) / max(1, sum(self.steps))


#: argmax's guards: a penalty on recently used tokens and no repeated 16-event sequence.
GREEDY = RepetitionConfig(repetition_penalty=1.3, no_repeat_ngram=16)


def default_repetition(decoder: str) -> RepetitionConfig:
    """The loop guards a decoder gets unless told otherwise: argmax's, else none."""
    return GREEDY if decoder == "argmax" else RepetitionConfig()


def penalize(
    logits: torch.Tensor,
    history: torch.Tensor,
    rep: RepetitionConfig,
    neutral: torch.Tensor | None = None,
    caps: torch.Tensor | None = None,
) -> torch.Tensor:
    """logits [K, V], history [K, t] of generated ids -> adjusted logits [K, V].

    `neutral` ([V] bool) marks tokens the guards leave alone (a hold, a rest, a time shift:
    repeating them is how a long note is written): they are never penalized or banned, and
    n-grams are counted over the other tokens only, the note events. A run of one neutral token
    ends once it is `caps[v]` long ([V] ints) where v is the token before the run (a hold after a
    pitch: how long that note may last), else `rep.max_neutral_run` long (0: no limit)."""
    if rep.repetition_penalty > 1.0 and history.shape[1]:
        recent = history[:, -rep.repetition_window :]  # [K, w]
        seen = torch.zeros_like(logits, dtype=torch.bool).scatter_(1, recent, True)
        if neutral is not None:
            seen &= ~neutral
        scaled = torch.where(
            logits > 0, logits / rep.repetition_penalty, logits * rep.repetition_penalty
        )
        logits = torch.where(seen, scaled, logits)
    n = rep.no_repeat_ngram
    if n >= 2:
        logits = logits.clone()
        for row in range(history.shape[0]):
            events = history[row] if neutral is None else history[row][~neutral[history[row]]]
            logits[row, _banned(events, n)] = float("-inf")
    m = rep.max_neutral_run
    if neutral is not None and (m > 0 or caps is not None) and history.shape[1]:
        held = _run_capped(history, neutral, m, caps)  # [K]
        if bool(held.any()):
            logits = logits.clone()
            logits[held, history[held, -1]] = float("-inf")
    return logits


def _run_capped(
    history: torch.Tensor, neutral: torch.Tensor, cap: int, caps: torch.Tensor | None
) -> torch.Tensor:
    """[K] bool: the row ends in a run of a neutral token as long as its cap allows."""
    last = history[:, -1]  # [K]
    # Length of the trailing run of `last`: ones until the first other token, from the end.
    run = (history == last[:, None]).flip(1).long().cumprod(1).sum(1)  # [K]
    before_at = history.shape[1] - 1 - run  # [K]: -1 when the run fills the history
    limit = torch.full_like(run, cap)
    if caps is not None:
        before = history.gather(1, before_at.clamp(min=0)[:, None]).squeeze(1)  # [K]
        own = torch.where(before_at >= 0, caps[before], 0)
        limit = torch.where(own > 0, own, limit)
    return neutral[last] & (limit > 0) & (run >= limit)


def _banned(events: torch.Tensor, n: int) -> torch.Tensor:
    """Ids that would complete an n-gram already in `events` ([t] ids): the successors of
    every earlier (n-1)-gram equal to the current last n-1 events."""
    if len(events) < n:
        return events[:0]
    windows = events.unfold(0, n, 1)  # [t-n+1, n]
    hit = (windows[:, :-1] == events[-(n - 1) :]).all(-1)  # [t-n+1]
    return windows[hit, -1]


@torch.inference_mode()
def generate(
    model: SequenceModel,
    prime: list[int],
    *,
    steps: int,
    num_samples: int,
    decoder: Decoder,
    vocab: Vocab,
    seed: int,
    device: torch.device | str = "cpu",
    repetition: RepetitionConfig | None = None,
    neutral: list[int] | None = None,
    neutral_caps: dict[int, int] | None = None,
    stop_at_end: bool = True,
    grammar: Grammar | None = None,
    report: GrammarReport | None = None,
) -> list[list[int]]:
    """`num_samples` continuations of `prime` (ids), each ending before <end> or at `steps`
    (`stop_at_end=False` bans <end>: for speed). Sample i draws from its own generator, seeded by
    (seed, i). `grammar` (fed the prime) masks each step; `report` receives what it did."""
    rows = [step.ids for step in sample_steps(
        model, prime, steps=steps, num_samples=num_samples, decoder=decoder, vocab=vocab,
        seed=seed, device=device, repetition=repetition, neutral=neutral,
        neutral_caps=neutral_caps, stop_at_end=stop_at_end, grammar=grammar, report=report,
    )]  # fmt: skip
    out = torch.stack(rows, dim=1).tolist() if rows else [[] for _ in range(num_samples)]
    return [row[: row.index(vocab.end_id)] if vocab.end_id in row else row for row in out]


@dataclasses.dataclass(frozen=True)
class Step:
    """One sampling step: the token each sample took (ids [K]; a finished sample repeats <end>),
    and whether the grammar let each sample end before it (may_end [K]; None: no grammar)."""

    ids: torch.Tensor
    may_end: torch.Tensor | None


@torch.inference_mode()
def sample_steps(
    model: SequenceModel,
    prime: list[int],
    *,
    steps: int,
    num_samples: int,
    decoder: Decoder,
    vocab: Vocab,
    seed: int,
    device: torch.device | str = "cpu",
    repetition: RepetitionConfig | None = None,
    neutral: list[int] | None = None,
    neutral_caps: dict[int, int] | None = None,
    stop_at_end: bool = True,
    grammar: Grammar | None = None,
    report: GrammarReport | None = None,
) -> Iterator[Step]:
    """`generate` one step at a time: each step as soon as it is sampled, the recurrent state
    carried, so a caller may stop at any step (`mgen.core.runs.live` streams K=1 on it). The
    same draws as `generate`, which collects these steps; `report` is filled at the end."""
    model.eval()
    gens = [_generator(seed, i, device) for i in range(num_samples)]
    out = torch.tensor([prime] * num_samples, dtype=torch.long, device=device)  # [K, P]
    logits, state = _last(model, out, None)  # the prime in one fused call: [K, V]
    guards = _Guards(repetition or RepetitionConfig(), vocab, stop_at_end, neutral, neutral_caps,
                     logits.shape[-1], device)  # fmt: skip
    finished = torch.zeros(num_samples, dtype=torch.bool, device=device)
    out, guide = out[:, :0], _Guide(grammar, vocab, device)  # out: [K, t], nothing yet
    for t in range(steps):
        logits = guards.apply(guide.mask(guards.ban(logits), t, finished), out)
        nxt = torch.cat([decoder(logits[i : i + 1], g) for i, g in enumerate(gens)])  # [K]
        nxt = torch.where(finished, vocab.end_id, nxt)  # finished samples just repeat <end>
        out = torch.cat([out, nxt[:, None]], dim=1)
        finished |= nxt == vocab.end_id
        guide.advance(nxt)
        yield Step(nxt, guide.may_end)
        if bool(finished.all()):
            break
        logits, state = _last(model, nxt[:, None], state)  # [K, 1] in, state carried
    guide.close(report, out, finished)


class _Guards:
    """The bans and loop guards of one `generate`: tokens never sampled, then `penalize`."""

    def __init__(
        self,
        rep: RepetitionConfig,
        vocab: Vocab,
        stop_at_end: bool,
        neutral: list[int] | None,
        neutral_caps: dict[int, int] | None,
        size: int,
        device: torch.device | str,
    ):
        self.rep, self.banned = rep, _never(vocab, stop_at_end, device)
        self.mask = _mask(neutral, size, device)
        self.caps = _caps(neutral_caps, size, device) if rep.on else None

    def ban(self, logits: torch.Tensor) -> torch.Tensor:
        return logits.float().index_fill(1, self.banned, float("-inf"))

    def apply(self, logits: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
        """`penalize`, except where its bans would leave a row no token at all (the grammar
        may allow only the token a guard forbids): that row keeps the logits it had."""
        guarded = penalize(logits, out, self.rep, self.mask, self.caps)
        empty = ~(guarded > float("-inf")).any(dim=-1, keepdim=True)  # [K, 1]
        return torch.where(empty, logits, guarded)


class _Guide:
    """The grammar during one `generate` (a no-op without one): masks each step's logits,
    counts the samples whose first choice it refused, remembers where each last could end."""

    def __init__(self, grammar: Grammar | None, vocab: Vocab, device: torch.device | str):
        self.grammar, self.end_id, self.device = grammar, vocab.end_id, device
        k = grammar.k if grammar is not None else 0
        self.refused = torch.zeros(k, dtype=torch.long, device=device)  # [K]
        self.ends = torch.zeros(k, dtype=torch.long, device=device)  # [K]
        self.may_end: torch.Tensor | None = None  # [K]: the last step let each sample end

    def mask(self, logits: torch.Tensor, t: int, finished: torch.Tensor) -> torch.Tensor:
        """logits [K, V] with the tokens the grammar forbids at -inf. A row the grammar would
        leave empty (a token the vocabulary lacks) keeps its logits: the sample goes on
        unguarded rather than stop."""
        if self.grammar is None:
            return logits
        allowed = torch.from_numpy(self.grammar.allowed()).to(self.device)  # [K, V] bool
        self.may_end = allowed[:, self.end_id] & ~finished  # [K]
        self.ends = torch.where(self.may_end, t, self.ends)
        allowed &= logits > float("-inf")
        allowed |= ~allowed.any(dim=-1, keepdim=True)  # empty rows: everything
        first = logits.argmax(dim=-1, keepdim=True)  # [K, 1]
        self.refused += (~allowed.gather(1, first).squeeze(1) & ~finished).long()
        return logits.masked_fill(~allowed, float("-inf"))

    def advance(self, nxt: torch.Tensor) -> None:
        if self.grammar is not None:
            self.grammar.advance(nxt.cpu().numpy())

    def close(self, report: GrammarReport | None, out: torch.Tensor, finished: torch.Tensor):
        if report is None or self.grammar is None:
            return
        may_end = torch.from_numpy(self.grammar.allowed()[:, self.end_id].copy()).to(self.device)
        ends = torch.where(may_end & ~finished, out.shape[1], self.ends)
        report.record(self.refused.tolist(), ends.tolist(), out, self.end_id)


def _last(model: SequenceModel, x: torch.Tensor, state: Any) -> tuple[torch.Tensor, Any]:
    """The model on x [K, t] from `state`: the last step's logits [K, V] and the new state."""
    logits, state = model(x, state)
    return logits[:, -1], state


def _never(vocab: Vocab, stop_at_end: bool, device: torch.device | str) -> torch.Tensor:
    """Ids never sampled: <pad>, <start>, <unk>, and <end> when samples run all their steps."""
    never = [vocab.pad_id, vocab.start_id, vocab.unk_id] + ([] if stop_at_end else [vocab.end_id])
    return torch.tensor(never, device=device)


def _generator(seed: int, index: int, device: torch.device | str) -> torch.Generator:
    """Sample `index`'s own random stream, from (seed, index) alone."""
    state = np.random.SeedSequence([seed, index]).generate_state(1, np.uint64)
    return torch.Generator(device=device).manual_seed(int(state[0]) & (2**63 - 1))


def _caps(
    caps: dict[int, int] | None, size: int, device: torch.device | str
) -> torch.Tensor | None:
    if not caps:
        return None
    out = torch.zeros(size, dtype=torch.long, device=device)
    for i, n in caps.items():
        if 0 <= i < size:
            out[i] = n
    return out


def _mask(ids: list[int] | None, size: int, device: torch.device | str) -> torch.Tensor | None:
    if not ids:
        return None
    mask = torch.zeros(size, dtype=torch.bool, device=device)
    mask[torch.tensor(ids, device=device)] = True
    return mask
