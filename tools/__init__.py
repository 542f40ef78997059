"""Developer tools that are not part of the installed mgen package (run from the checkout)."""
