"""Fuzz every tokenizer's `read` with property-based inputs (hypothesis, a test-only extra).

    python -m tools.fuzz --examples 10000                 # every registered tokenizer
    python -m tools.fuzz -t kern -t midi-notes --examples 20000 --real ../shared/data

The property (`check`): `read(path)` returns pieces (lists of string tokens) or raises
`MgenError` with a one-line message. Any other exception, or a malformed result, is a bug; the
run prints the smallest input hypothesis finds for it and saves that input under --save.

Nothing here knows a file format. Inputs are generic (random bytes and text, huge lines, empty
files), the inputs of the tokenizer's own format (generated files and named edge cases, in
tools/fuzz/inputs_*.py, keyed by tokenizer name in strategies.OWN), and real files
mutated: truncated, spliced, bit-flipped and line-shuffled. The real files are a few of the
tokenizer's default dataset (when it is ready to use) and of each --real folder (by the
tokenizer's file patterns). The tests (tests/test_fuzz.py) run the same strategies with a few
hundred examples each.
"""

from tools.fuzz.property import MAX_MESSAGE, FuzzFailure, check, input_suffix
from tools.fuzz.runner import fuzz, main
from tools.fuzz.seeds import real_files, seed_inputs
from tools.fuzz.strategies import named_cases, own_strategy, strategy

__all__ = [
    "MAX_MESSAGE",
    "FuzzFailure",
    "check",
    "fuzz",
    "input_suffix",
    "main",
    "named_cases",
    "own_strategy",
    "real_files",
    "seed_inputs",
    "strategy",
]
