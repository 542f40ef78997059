"""A BPE or Unigram vocabulary over MidiTok's base tokens, learned with MidiTok's own trainer
(Hugging Face tokenizers), merges kept within a bar as MidiTok keeps them.

A learned token is named by the base tokens it stands for, joined by `+`: decoding needs only
the names, and the model is needed to read files into learned tokens."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from mgen.core.contracts.errors import CheckpointError, DataError
from mgen.plugins.tokenizers.miditok_import import miditok


class Learned:
    """MidiTok's tokenizer once trained, and each learned id's name."""

    def __init__(self, trained: Any, saved: dict[str, Any] | None = None):
        self.trained = trained
        self.names = [_name(trained, i) for i in range(len(trained.vocab_model))]
        self.saved = saved if saved is not None else _saved(trained)  # state(): once, not per call

    @classmethod
    def train(cls, base: Any, pieces: list[list[str]], size: int, model: str) -> Learned:
        """Learn `size` tokens from `pieces` (base tokens) with `model` (BPE or Unigram)."""
        trained = _copy(base)
        bars = [_bars(trained, p) for p in pieces]
        if not any(bars):
            raise DataError("no training piece to learn a vocabulary from")
        if size <= len(trained.vocab):
            raise DataError(f"vocab_size {size} must exceed the {len(trained.vocab)} base tokens")
        trained.train(vocab_size=size, model=model, iterator=bars)
        return cls(trained)

    def encode(self, tokens: list[str]) -> list[str]:
        """Base tokens -> learned tokens. The bar mark MidiTok's trainer adds where a bar starts
        (Metaspace's "▁"), left alone when unmerged, stands for no base token: it is dropped."""
        seq = miditok.TokSequence(tokens=tokens)
        self.trained.complete_sequence(seq)
        self.trained.encode_token_ids(seq)
        return [name for name in (self.names[i] for i in seq.ids) if name]

    def state(self) -> dict[str, Any]:
        """MidiTok's saved tokenizer (its JSON), learned model included: what the run keeps,
        what the corpus cache's key and the parsing workers are given."""
        return self.saved

    @classmethod
    def load(cls, base: Any, state: dict[str, Any]) -> Learned:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "miditok.json"
            path.write_text(json.dumps(state), encoding="utf-8")
            try:
                trained = type(base)(params=path)
            except Exception as e:  # noqa: BLE001 - a damaged tokenizer.json
                raise CheckpointError(
                    f"the learned MidiTok vocabulary does not load: {e}"
                ) from None
        if not trained.is_trained:
            raise CheckpointError("the saved MidiTok vocabulary holds no learned model")
        return cls(trained, state)


def _saved(trained: Any) -> dict[str, Any]:
    """MidiTok's own save of a tokenizer (it writes a file), as a dict."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "miditok.json"
        trained.save(path)
        return json.loads(path.read_text(encoding="utf-8"))


def _copy(base: Any) -> Any:
    """A fresh MidiTok tokenizer with `base`'s settings (training changes it in place)."""
    return type(base)(base.config)


def _bars(tok: Any, tokens: list[str]) -> list[str]:
    """One piece as MidiTok's trainer takes it: each bar's ids as one string of characters."""
    seq = miditok.TokSequence(tokens=tokens)
    tok.complete_sequence(seq)
    split = seq.split_per_bars() if tok.config.encode_ids_split == "bar" else [seq]
    return [
        "".join(chr(i + miditok.constants.CHR_ID_START) for i in s.ids) for s in split if len(s)
    ]


def _name(tok: Any, learned_id: int) -> str:
    seq = miditok.TokSequence(ids=[learned_id], are_ids_encoded=True)
    tok.decode_token_ids(seq)
    return "+".join(seq.tokens)
