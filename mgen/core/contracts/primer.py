"""Primer text, an optional protocol: how a user's `--primer` text becomes tokens.

A tokenizer opts in with `parse_primer(text) -> tokens` (abc-char: characters; kern: checks each
token and adds the intervals); without it the text is split at whitespace. It may raise
ConfigError naming a token it cannot take.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable


@runtime_checkable
class ParsesPrimer(Protocol):
    def parse_primer(self, text: str) -> list[str]: ...


def parse_primer(tok: object, text: str) -> list[str]:
    """`text` as the tokenizer's tokens (whitespace-separated tokens by default)."""
    return tok.parse_primer(text) if isinstance(tok, ParsesPrimer) else text.split()
