"""Judging generated music: note extraction, musical metrics, held-out loss.

Everything here reads files (any supported format), never a tokenizer's internals, so the same
figures compare samples from every tokenizer with each other and with real corpora.
"""
