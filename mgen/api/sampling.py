"""Sampling: `mgen sample` and the web server's batches both check a request, read its
primer, sample and write the pieces here (`sample`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mgen.api.results import GrammarUse, SampleResult

if TYPE_CHECKING:
    from mgen.core.runs.live import Stream
    from mgen.core.runs.run import Run
    from mgen.core.sampling.engine import RepetitionConfig
    from mgen.core.sampling.primer import PrimerText

__all__ = [
    "accompany",
    "check_decoder",
    "decoder_names",
    "decoders",
    "infill",
    "check_output",
    "sample",
    "stream",
    "write",
    "upload_primer",
]


def load_run(path: Path | str = "runs/latest", device: str = "cpu") -> Run:
    """Load a run directory (`runs/latest` by default) or a shipped model by name (`mgen
    models`) for sampling or scoring."""
    from mgen.core.runs.run import load_run as load

    return load(path, device)


def warm() -> None:
    """Import what loading and sampling a run needs (torch: seconds) ahead of the first job."""
    import mgen.core.runs.run  # noqa: F401


def loop_guards(
    decoder: str, given: RepetitionConfig | Mapping[str, Any] | None = None
) -> RepetitionConfig:
    """The loop guards to sample with: the decoder's own (argmax's, else none), each setting
    in `given` that is not None instead."""
    from mgen.core.sampling.engine import RepetitionConfig, default_repetition

    if isinstance(given, RepetitionConfig):
        return given
    base = default_repetition(decoder).to_dict()
    return RepetitionConfig.from_dict({**base, **{k: v for k, v in (given or {}).items()
                                                  if v is not None}})  # fmt: skip


def sample(
    run: Run | Path | str = "runs/latest",
    n: int = 500,
    num_samples: int = 1,
    decoder: str | None = None,
    *,
    primer: str | list[str] | None = None,
    seed: int = 0,
    repetition: RepetitionConfig | Mapping[str, Any] | None = None,
    grammar: bool = True,
    rules: Sequence[str] | None = None,
    instruments: str | Sequence[str] | None = None,
    controls: Mapping[str, Any] | None = None,
    guidance: float | None = None,
    out: Path | str | None = None,
    force: bool = False,
    device: str = "cpu",
    **options: Any,
) -> SampleResult:
    """Sample `num_samples` pieces of up to `n` new tokens from `run` (a loaded Run, a run
    directory or a shipped model's name) and write each natively and as MIDI into `out`
    (default: a new samples folder of the run). `primer`: text or a file name (its first
    piece), or tokens already read; `options` go to the decoder (temperature=..., top_k=...);
    `repetition`: loop guards (`loop_guards`); `rules`: the grammar's style rules, e.g.
    ["no-parallels"] (None: the run's chosen ones; []: none); `instruments`, `controls`
    ({"key": "D minor", "meter": "6/8", "tempo": 120}): see `opening`; `guidance`: their
    pull (mgen.core.sampling.guidance). Values are checked before any writing."""
    from mgen.core.sampling.engine import GrammarReport

    _checked(n, num_samples, seed, decoder, repetition, options)
    check_output(out, num_samples, force)  # before the work, so nothing is half-done
    loaded = load_run(run, device) if isinstance(run, (str, Path)) else run
    decoder, guards, options = _decoding(loaded, decoder, repetition, options)
    folder = Path(out) if out is not None else None
    tokens, report = opening(loaded, primer, instruments, controls), GrammarReport()
    pieces = loaded.continue_tokens(tokens, n, num_samples, decoder, seed=seed, report=report,
                                    repetition=guards, grammar=grammar, rules=_listed(rules),
                                    guidance=guidance, **options)  # fmt: skip
    used = GrammarUse(grammar, report) if loaded.has_grammar() else None
    return SampleResult(loaded, pieces, loaded.write(pieces, folder, force=force), used)


def stream(
    run: Run | Path | str = "runs/latest",
    n: int = 500,
    decoder: str | None = None,
    *,
    primer: str | list[str] | None = None,
    seed: int = 0,
    repetition: RepetitionConfig | Mapping[str, Any] | None = None,
    grammar: bool = True,
    rules: Sequence[str] | None = None,
    instruments: str | Sequence[str] | None = None,
    controls: Mapping[str, Any] | None = None,
    guidance: float | None = None,
    device: str = "cpu",
    every: int = 16,
    **options: Any,
) -> Stream:
    """One sample of up to `n` new tokens, as it is sampled: an iterator of events
    (mgen.core.sampling.stream): a `Token` per token, a `Note` once each note is final, a
    `Finished` with the piece (what `sample` with `num_samples=1` and the same seed gives) and
    all its notes. Stop it at any time: `stop()` (its last event is then the Finished of the
    piece so far), or `close()`. Nothing is written:
    `run.write([finished.piece])` writes it. The arguments are `sample`'s, checked here,
    before the first event; `every`: tokens between readings of the notes at first."""
    from mgen.core.runs.live import stream as live

    _checked(n, 1, seed, decoder, repetition, options)
    loaded = load_run(run, device) if isinstance(run, (str, Path)) else run
    decoder, guards, options = _decoding(loaded, decoder, repetition, options)
    tokens = opening(loaded, primer, instruments, controls)
    return live(loaded, tokens, n, decoder, seed=seed, repetition=guards, grammar=grammar,
                every=every, rules=_listed(rules), guidance=guidance, **options)  # fmt: skip


def _listed(rules: Sequence[str] | None) -> list[str] | None:
    return None if rules is None else [str(r) for r in rules]


def _checked(
    n: int, k: int, seed: int, decoder: str | None, repetition: Any, options: dict
) -> None:
    """The request's values checked before any loading: a wrong decoder name or option, or
    loop guard, too (no decoder named and no option: the run's choice, checked when used)."""
    from mgen.core.contracts.decoder import build_decoder
    from mgen.core.sampling.engine import check_request

    check_request(n, k, seed)
    if decoder is not None or any(v is not None for v in options.values()):
        build_decoder(decoder or "temperature", options)
    loop_guards(decoder or "temperature", repetition)


def _decoding(
    run: Run, decoder: str | None, repetition: Any, options: dict
) -> tuple[str, RepetitionConfig, dict[str, Any]]:
    """The decoder, loop guards and decoder options to sample `run` with: those asked, else
    the run's chosen decoding (`Run.resolve_decoding`), with that decoder's guards."""
    decoder, options = run.resolve_decoding(decoder, options)
    return decoder, loop_guards(decoder, repetition), options


def check_output(out: Path | str | None, count: int = 1, force: bool = False) -> None:
    """Refuse, before any work, an `out` folder already holding samples (unless `force`)."""
    from mgen.core.runs.output import refuse_overwrite

    if out is not None and not force:
        refuse_overwrite(Path(out), count)


def write(
    run: Run, pieces: list[list[str]], out: Path | str | None = None, force: bool = False
) -> SampleResult:
    """Pieces already sampled (a stream's `Finished.piece`) written as `sample` writes them."""
    folder = Path(out) if out is not None else None
    return SampleResult(run, pieces, run.write(pieces, folder, force=force), None)


def infill(
    run: Run | Path | str,
    file: Path | str,
    span: str | tuple[int, int],
    n: int = 500,
    num_samples: int = 1,
    decoder: str | None = None,
    *,
    seed: int = 0,
    grammar: bool = True,
    rules: Sequence[str] | None = None,
    out: Path | str | None = None,
    force: bool = False,
    device: str = "cpu",
    **options: Any,
) -> tuple[SampleResult, list[int]]:
    """`file`'s first piece with the bars (beats, for MIDI) `span` ("5-8") regenerated by
    `run` (trained with --infill), everything outside them kept, written as `sample` writes;
    and how many bars each new middle has (mgen.core.runs.infill)."""
    from mgen.core.contracts.infill import parse_span
    from mgen.core.runs.infill import fill, middle_units, read_parts
    from mgen.core.runs.output import refuse_overwrite
    from mgen.core.sampling.engine import GrammarReport, check_request

    check_request(n, num_samples, seed)
    first, last = parse_span(span) if isinstance(span, str) else span
    loaded = load_run(run, device) if isinstance(run, (str, Path)) else run
    if out is not None and not force:
        refuse_overwrite(Path(out), num_samples)
    parts, report = read_parts(loaded, file, first, last), GrammarReport()
    pieces = fill(loaded, parts, n, num_samples, decoder, seed=seed, grammar=grammar,
                  rules=_listed(rules), report=report, **options)  # fmt: skip
    units = [middle_units(loaded.tokenizer, p, parts, last - first + 1) for p in pieces]
    used = GrammarUse(grammar, report) if loaded.has_grammar() else None
    written = loaded.write(pieces, Path(out) if out is not None else None, force=force)
    return SampleResult(loaded, pieces, written, used), units


def accompany(
    run: Run | Path | str,
    file: Path | str,
    instruments: str | Sequence[str],
    n: int = 1500,
    num_samples: int = 1,
    decoder: str | None = None,
    *,
    track: int | None = None,
    seed: int = 0,
    rules: Sequence[str] | None = None,
    out: Path | str | None = None,
    force: bool = False,
    device: str = "cpu",
    **options: Any,
) -> SampleResult:
    """`file`'s track `track` (from 1; default its first pitched track) kept note for note as
    track 1, and new tracks `instruments` sampled by `run` (a multi-track tokenizer: midi-tracks)
    around it, in up to `n` new tokens; written as `sample` writes (mgen.core.runs.accompany)."""
    from mgen.core.contracts.ensemble import instrument_list
    from mgen.core.runs.accompany import accompany as play
    from mgen.core.runs.output import refuse_overwrite
    from mgen.core.sampling.engine import GrammarReport, check_request

    check_request(n, num_samples, seed)
    loaded = load_run(run, device) if isinstance(run, (str, Path)) else run
    if out is not None and not force:
        refuse_overwrite(Path(out), num_samples)
    report = GrammarReport()
    pieces = play(loaded, file, instrument_list(instruments), n, num_samples, decoder,
                  track=track, seed=seed, rules=_listed(rules), report=report,
                  **options)  # fmt: skip
    written = loaded.write(pieces, Path(out) if out is not None else None, force=force)
    return SampleResult(loaded, pieces, written, GrammarUse(True, report))


def opening(
    run: Run,
    primer: str | list[str] | None,
    instruments: str | Sequence[str] | None = None,
    controls: Mapping[str, Any] | None = None,
) -> list[str]:
    """The tokens samples continue: the primer's (tokens, or text or a file as `primer_tokens`
    reads it), opened by the ensemble `instruments` where given (a tokenizer that names its
    instruments: mgen.core.contracts.ensemble; ConfigError for one that does not), all after
    the attribute `controls` asked ({name: value}: mgen.core.contracts.controls; ConfigError
    naming what the run knows for one it was not trained with)."""
    from mgen.core.contracts import controls as attrs
    from mgen.core.contracts.ensemble import instrument_list, with_ensemble
    from mgen.core.contracts.vocabulary import require_vocab

    asked = attrs.opening(require_vocab(run.tokenizer), controls or {})
    tokens = primer if isinstance(primer, list) else primer_tokens(run, primer)
    chosen = instrument_list(instruments)
    return asked + with_ensemble(run.tokenizer, run.tokenizer_name, chosen, tokens)


def controls_of(run: Run) -> dict[str, list[str]]:
    """The attributes `run` was trained with and the values it saw ({} for none)."""
    from mgen.core.contracts.controls import known
    from mgen.core.contracts.vocabulary import require_vocab

    return known(require_vocab(run.tokenizer))


def primer_tokens(run: Run, text: str | None, *, web: bool = False) -> list[str]:
    """`text` as the primer tokens of `run`'s tokenizer, each checked against its vocabulary:
    the first piece of a file it names, else its text. `web`: a web client's text, never
    read as a file name, its unknown symbols named as the model's."""
    from mgen.core.sampling import primer

    if web:
        return primer.primer_tokens(run.tokenizer, text, files=False,
                                    message=primer.UNKNOWN_TO_MODEL)  # fmt: skip
    return primer.primer_tokens(run.tokenizer, text)


def upload_primer(run: Run, suffix: str, data: bytes, max_chars: int) -> PrimerText:
    """An uploaded file's first piece as primer text of at most `max_chars` characters."""
    from mgen.core.sampling.primer import upload_primer as read

    return read(run.tokenizer, suffix, data, max_chars)


def decoder_names() -> list[str]:
    """The installed decoders' names."""
    from mgen.core.contracts import registry

    return registry.names("decoder")


def check_decoder(name: str, options: Mapping[str, Any]) -> None:
    """A decoder name and its options, checked (a PluginError or ConfigError when wrong)."""
    from mgen.core.contracts.decoder import build_decoder

    build_decoder(name, dict(options))


def decoders() -> list[dict[str, Any]]:
    """Each decoder plugin: its name, one-line description and the options it takes."""
    from mgen.core.contracts import registry
    from mgen.core.contracts.errors import MgenError

    out = []
    for info in registry.describe("decoder"):
        try:
            options = registry.load("decoder", info.name).Options.field_names()
        except MgenError:
            continue  # a broken third-party decoder is not offered
        out.append({"name": info.name, "description": info.description, "options": list(options)})
    return out
