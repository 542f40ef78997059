"""A trained run, loaded: its settings, tokenizer and model, ready to sample or score."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import torch

from mgen.core.contracts import controls
from mgen.core.contracts.cutoff import cut_off
from mgen.core.contracts.decoder import build_decoder
from mgen.core.contracts.errors import CheckpointError, ConfigError
from mgen.core.contracts.grammar import Grammar, HasGrammar, grammar_of, with_rules
from mgen.core.contracts.loops import neutral_ids
from mgen.core.contracts.model import SequenceModel
from mgen.core.contracts.tokenizer import Tokenizer
from mgen.core.contracts.vocabulary import require_vocab
from mgen.core.runs import decoding
from mgen.core.runs.artifact import RunDir
from mgen.core.runs.hub import local_name
from mgen.core.runs.output import Written, write_samples
from mgen.core.sampling.engine import (
    GrammarReport,
    RepetitionConfig,
    check_request,
    default_repetition,
    generate,
)
from mgen.core.sampling.guidance import guided
from mgen.core.sampling.primer import primer_tokens
from mgen.core.training.device import resolve_device


@dataclass
class Run:
    """A run directory, loaded. `mgen.load_run(path)` makes one."""

    path: Path
    config: dict[str, Any]  # config.json
    tokenizer: Tokenizer  # with its vocabulary
    model: SequenceModel  # best weights, in eval mode, on `device`
    device: torch.device
    shipped: str | None = None  # a read-only run's name: a shipped model's, or hf:owner/name

    @property
    def tokenizer_name(self) -> str:
        return str(self.config.get("tokenizer"))

    @property
    def train_data(self) -> list[str]:
        """The --data the run trained on (empty: its tokenizer's default dataset)."""
        data = self.config.get("train", {}).get("data") or []
        return [str(d) for d in data]

    def sample(
        self,
        n: int = 500,
        num_samples: int = 1,
        decoder: str | None = None,
        *,
        primer: str | None = None,
        seed: int = 0,
        repetition: RepetitionConfig | None = None,
        grammar: bool = True,
        rules: list[str] | None = None,
        guidance: float | None = None,
        report: GrammarReport | None = None,
        **options: Any,
    ) -> list[list[str]]:
        """`num_samples` pieces of up to `n` new tokens each (the primer's tokens first).
        `decoder` and `options` (temperature=..., top_k=..., top_p=...): `resolve_decoding`; `repetition`
        defaults to the decoder's loop guards (see `default_repetition`); `grammar=False`
        samples the raw model where the tokenizer has a grammar (see `continue_tokens`)."""
        tokens = primer_tokens(self.tokenizer, primer)
        return self.continue_tokens(tokens, n, num_samples, decoder, seed=seed,
                                    repetition=repetition, grammar=grammar, rules=rules,
                                    guidance=guidance, report=report, **options)  # fmt: skip

    def continue_tokens(
        self,
        tokens: list[str],
        n: int,
        num_samples: int,
        decoder: str,
        *,
        seed: int = 0,
        repetition: RepetitionConfig | None = None,
        grammar: bool = True,
        rules: list[str] | None = None,
        guidance: float | None = None,
        report: GrammarReport | None = None,
        **options: Any,
    ) -> list[list[str]]:
        """`sample` from primer tokens already parsed (a web client's primer text is never
        taken for a file name, as `sample`'s may be). With `grammar` (the default) a tokenizer
        that has a grammar (mgen.core.contracts.grammar) writes only valid pieces; `report` receives
        how often it refused the model's first choice."""
        report = report if report is not None else GrammarReport()
        plan = self.plan(tokens, n, num_samples, decoder, seed=seed, repetition=repetition,
                         grammar=grammar, rules=rules, guidance=guidance, **options)  # fmt: skip
        ids = generate(**plan, report=report)
        guided = plan["grammar"] is not None
        return [self.ending(tokens, s, n, report.ends[i] if guided else None)
                for i, s in enumerate(ids)]  # fmt: skip

    def plan(
        self,
        tokens: list[str],
        n: int,
        num_samples: int,
        decoder: str | None,
        *,
        seed: int = 0,
        repetition: RepetitionConfig | None = None,
        grammar: bool = True,
        rules: list[str] | None = None,
        guidance: float | None = None,
        **options: Any,
    ) -> dict[str, Any]:
        """The engine's arguments for `continue_tokens` (`generate`'s, or `sample_steps`' to
        stream them), checked: the model (under the control tokens' `guidance`, None: the
        run's chosen one), the prime, the decoder, the guards, the grammar with its `rules`
        (None: the run's chosen ones, `decoding.resolve_rules`) fed `tokens`."""
        check_request(n, num_samples, seed)
        decoder, options = self.resolve_decoding(decoder, options)
        dec = build_decoder(decoder, options)
        vocab = require_vocab(self.tokenizer)
        rep = self.guards(repetition or default_repetition(decoder))
        guide = self.grammar_for(num_samples, rules) if grammar else None  # raw: no rules
        every = int(self.config.get("train", {}).get("control_every") or 0)
        guide = controls.with_controls(guide, vocab, every)
        if guide is not None:
            guide.feed(tokens)
        prime, given = [vocab.start_id, *vocab.encode(tokens)], controls.ids(vocab)
        scale = decoding.resolve_guidance(self.config, guidance)
        if guidance is not None and scale != 1 and not given & set(prime):
            raise ConfigError("--guidance pushes toward asked controls: ask for one (--key, "
                              "--meter, ...) of a run trained with --controls")  # fmt: skip
        return dict(
            model=guided(self.model, prime, given, scale), prime=prime, steps=n,
            num_samples=num_samples, decoder=dec, vocab=vocab, seed=seed, device=self.device,
            repetition=rep, neutral=neutral_ids(self.tokenizer, vocab),
            neutral_caps=self.neutral_caps() if rep.on else None, grammar=guide,
        )  # fmt: skip

    def resolve_decoding(
        self, decoder: str | None, options: dict[str, Any]
    ) -> tuple[str, dict[str, Any]]:
        """The decoder and options to sample with: those given, else the run's chosen decoding
        (config.json's "decoding", measured: mgen.core.runs.decoding), else temperature 1."""
        return decoding.resolve(self.config, decoder, options)

    def ending(self, tokens: list[str], ids: list[int], n: int, end: int | None) -> list[str]:
        """A sample as long as n ran out of steps before its <end>: cut where the grammar last
        let it end, or without one where the tokenizer says (ABC: at its last bar line)."""
        decode = require_vocab(self.tokenizer).decode
        if len(ids) < n:
            return tokens + decode(ids)
        if end is not None:
            return tokens + decode(ids[:end])
        return cut_off(self.tokenizer, tokens + decode(ids))

    def grammar_for(self, num_samples: int, rules: list[str] | None = None) -> Grammar | None:
        """The tokenizer's grammar for a batch of `num_samples`, with the grammar's `rules`
        (None: the run's chosen ones, `decoding.resolve_rules`); None without a grammar."""
        guide = grammar_of(self.tokenizer, require_vocab(self.tokenizer), num_samples)
        if guide is None:
            return None
        return with_rules(guide, decoding.resolve_rules(self.config, rules))

    def has_grammar(self) -> bool:
        """Whether this run's tokenizer has a grammar to sample under (mgen.core.contracts.grammar)."""
        return isinstance(self.tokenizer, HasGrammar)

    def guards(self, rep: RepetitionConfig) -> RepetitionConfig:
        """`rep`, with holds, rests and time shifts limited to the longest run of them in the
        training data when any loop guard is on (exempt from the guards, a greedy decoder
        would otherwise hold one note forever)."""
        longest = int(self.config.get("data", {}).get("longest_neutral_run", 0))
        if not rep.on or rep.max_neutral_run or not longest:
            return rep
        return dataclasses.replace(rep, max_neutral_run=longest)

    def neutral_caps(self) -> dict[int, int]:
        """Ids -> the longest run of a hold, rest or time shift that followed that id in the
        training data. With a guard on, argmax then holds a note no longer than the corpus ever
        held that pitch; the single `longest_neutral_run` would let every note last as long as
        the longest rest. Empty for runs trained before mgen recorded it."""
        after = self.config.get("data", {}).get("longest_neutral_run_after") or {}
        vocab = require_vocab(self.tokenizer)
        return {vocab.index[t]: int(n) for t, n in after.items() if t in vocab}

    def write(
        self, pieces: list[list[str]], folder: Path | None = None, force: bool = False
    ) -> Written:
        """Write pieces natively and as MIDI into `folder` (default: a new
        <run>/samples/<time>/, or runs/<name>/samples/<time>/ in the current folder for a
        shipped model, which is read-only; runs/hf-owner--name/ for hf:owner/name); see
        `mgen.core.runs.output.write_samples`."""
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S-%f")
        base = RunDir(Path("runs") / local_name(self.shipped) if self.shipped else self.path)
        pieces = [controls.strip(p) for p in pieces]  # the attributes asked are not notes
        return write_samples(self.tokenizer, pieces, folder or base.samples(stamp), force)


def load_run(path: Path | str = "runs/latest", device: str | torch.device = "cpu") -> Run:
    """Load a run directory (`runs/latest` by default), a shipped model by name (`mgen
    models`) or a run on the Hugging Face Hub (hf:owner/name) for sampling or scoring."""
    dev = device if isinstance(device, torch.device) else resolve_device(device)
    run = RunDir.resolve(path)
    config = run.read_config()
    tok = run.load_tokenizer()
    if tok.vocab is None:
        raise CheckpointError(f"{run.tokenizer_file} holds no vocabulary")
    model = run.load_model(len(tok.vocab), config)
    return Run(run.path, config, tok, model.to(dev).eval(), dev, run.shipped_name())
