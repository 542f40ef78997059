"""Humdrum **kern: writing a spine, and reading one with a parser of its own."""
