"""The long fuzz run and its command line: `python -m tools.fuzz`."""

from __future__ import annotations

import argparse
import hashlib
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from mgen.core.contracts import registry
from mgen.core.contracts.tokenizer import Tokenizer
from tools.fuzz.property import FuzzFailure, check, input_suffix
from tools.fuzz.seeds import seed_inputs
from tools.fuzz.strategies import named_cases, strategy

Failures = list[tuple[str, FuzzFailure]]


def fuzz(tok: str | Tokenizer, examples: int, *, seed: int | None = None,
         real: Sequence[Path] = (), derandomize: bool = False) -> Failures:  # fmt: skip
    """The generic named cases, then `examples` generated inputs, through one tokenizer's
    `read` (`tok`: a registered name or a tokenizer). Returns the failures: (case name or
    'generated', failure), the generated one as small as hypothesis could make it."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import seed as hseed
    from hypothesis import strategies as st

    if isinstance(tok, str):
        tok = registry.load("tokenizer", tok)()
    failures: Failures = []
    with tempfile.TemporaryDirectory(prefix="mgen-fuzz-") as tmp:
        for case, data in named_cases().items():
            try:
                check(tok, data, Path(tmp))
            except FuzzFailure as e:
                failures.append((case, e))

        @settings(max_examples=examples, deadline=None, database=None, derandomize=derandomize,
                  suppress_health_check=list(HealthCheck), report_multiple_bugs=False)  # fmt: skip
        @given(strategy(st, tok, seed_inputs(tok, real)))
        def run(data: bytes) -> None:
            check(tok, data, Path(tmp))

        if seed is not None and not derandomize:
            run = hseed(seed)(run)
        try:
            run()
        except FuzzFailure as e:
            failures.append(("generated", e))
    return failures


def save(failure: FuzzFailure, name: str, suffix: str, folder: Path) -> Path:
    """Write a failing input as `folder/<tokenizer>-<hash><suffix>` for a regression test."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}-{hashlib.sha256(failure.data).hexdigest()[:12]}{suffix}"
    path.write_bytes(failure.data)
    return path


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m tools.fuzz",
                                     description="Fuzz every tokenizer's read() (hypothesis).")  # fmt: skip
    parser.add_argument("--examples", "-n", type=int, default=10_000,
                        help="inputs per tokenizer (default 10000)")  # fmt: skip
    parser.add_argument("--tokenizer", "-t", action="append",
                        help="tokenizer to fuzz (repeatable; default: every registered one)")  # fmt: skip
    parser.add_argument("--real", action="append", type=Path, default=[],
                        help="folder of real files to mutate as well (repeatable)")  # fmt: skip
    parser.add_argument("--seed", type=int, default=None, help="random seed (default: random)")
    parser.add_argument("--save", type=Path, default=Path("fuzz-failures"),
                        help="where failing inputs are written (default ./fuzz-failures)")  # fmt: skip
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.examples < 1:
        parser.error("--examples must be >= 1")
    if missing := [str(f) for f in args.real if not f.is_dir()]:
        parser.error(f"--real: no such folder: {', '.join(missing)}")
    try:
        import hypothesis  # noqa: F401
    except ImportError:
        print("python -m tools.fuzz needs hypothesis: pip install -e '.[test]'", file=sys.stderr)
        return 2
    names = args.tokenizer or registry.names("tokenizer")
    if unknown := sorted(set(names) - set(registry.names("tokenizer"))):
        parser.error(f"unknown tokenizer {', '.join(unknown)}; available: "
                     f"{', '.join(registry.names('tokenizer'))}")  # fmt: skip
    failed = 0
    for name in names:
        print(f"{name}: named cases and {args.examples} generated inputs ...", flush=True)
        start = time.monotonic()
        tok = registry.load("tokenizer", name)()
        failures = fuzz(tok, args.examples, seed=args.seed, real=args.real)
        for case, failure in failures:
            saved = save(failure, name, input_suffix(tok), args.save)
            print(f"{name}: FAILED ({case}): {failure}\n  input saved to {saved}")
        verdict = "ok" if not failures else f"{len(failures)} failure(s)"
        print(f"{name}: {verdict} ({time.monotonic() - start:.0f} s)", flush=True)
        failed += len(failures)
    return 1 if failed else 0
