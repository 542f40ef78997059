"""`mgen train --help` states each built-in tokenizer's training defaults, from its recipe."""

from __future__ import annotations

import re

import pytest

from mgen.core.contracts import registry

BUILTINS = [
    name
    for name in registry.names("tokenizer")
    if registry.plugin_distribution("tokenizer", name) == registry.BUILTIN
]


def _option_help(output: str, option: str) -> str:
    """The help of one option, on one line (click wraps it, breaking words at hyphens)."""
    found = re.search(rf"^  (-\w, )?{option} ", output, re.MULTILINE)
    assert found, option
    start = found.start()
    end = output.find("\n  -", start + 1)
    text = re.sub(r"\s+", " ", output[start:end])
    return re.sub(r"(\w)- (\w)", r"\1-\2", text)


def _states(text: str, value: str, name: str) -> bool:
    """`text` says "VALUE for ..., NAME, ..." (one group of tokenizers sharing the value)."""
    return (
        re.search(rf"{re.escape(value)} for [^;)]*(?<![\w-]){re.escape(name)}(?![\w-])", text)
        is not None
    )


@pytest.mark.parametrize("name", BUILTINS)
def test_train_help_states_each_builtin_recipe(cli, name: str) -> None:
    out = cli("train", "--help").output
    recipe = registry.load("tokenizer", name).recipe
    split = {"file": "whole files", "piece": "single pieces"}[recipe.split_by]
    expected = {
        "--data": str(recipe.dataset),
        "--epochs": f"{recipe.time_budget / 60:g} min",
        "--time-budget": f"{recipe.time_budget / 60:g} min",
        "--seq-len": str(recipe.seq_len),
        "--batching": recipe.batching,
        "--val-fraction": split,
    }
    for option, value in expected.items():
        text = _option_help(out, option)
        assert _states(text, value, name), (option, value, text)
    assert "{recipe." not in out


def test_builtin_tokenizers_are_found() -> None:
    assert {"abc-char", "kern", "midi-notes", "midi-chords"} <= set(BUILTINS)
