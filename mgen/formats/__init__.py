"""Music formats, below the tokenizers: reading, writing and checking ABC, **kern and MIDI files,
and the in-memory score every format reads into. Nothing here imports torch or a plugin."""
