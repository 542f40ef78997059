"""Judging generated music: note extraction, musical metrics, held-out loss, rendering.

Everything here reads files through their formats (mgen.formats: MIDI, MusicXML, or the `format`
of any installed tokenizer plugin), never a tokenizer's internals, so the same figures
compare samples from every tokenizer with each other and with real corpora.
"""
