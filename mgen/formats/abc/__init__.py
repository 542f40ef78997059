"""ABC notation: reading tunes strictly, keys and meters, their notes, and checking files."""
