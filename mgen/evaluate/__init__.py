"""Judging generated music: note extraction, musical metrics, held-out loss, rendering.

Everything here reads files (MIDI, MusicXML, or any installed tokenizer plugin's format, through
the plugin's `read_notes` or its `to_midi`), never a tokenizer's internals, so the same figures
compare samples from every tokenizer with each other and with real corpora.
"""
