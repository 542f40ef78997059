"""Standard MIDI files: the fast reader, a strict reader of its own, and the notes of a file."""
