"""`mgen sample`: generate pieces from a trained run and write them (native format and MIDI)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from mgen.core import registry, rundir
from mgen.core.device import resolve_device
from mgen.core.errors import ConfigError, DataError, MgenError
from mgen.core.sample import RepetitionConfig, generate

_REP = RepetitionConfig()  # the defaults of the repetition options
#: --repetition-penalty for argmax: sampling escapes loops by chance, greedy decoding cannot
#: (measured in docs/evaluation.md).
GREEDY_PENALTY = 1.3


def sample(
    run: Annotated[Path, typer.Option(help="Run directory to sample from.")] = Path("runs/latest"),
    decoder: Annotated[
        str,
        typer.Option(
            "--decoder", help="Decoder plugin: argmax, temperature, multinomial, top-k, top-p, ..."
        ),
    ] = "temperature",
    n: Annotated[
        int, typer.Option("-n", "--length", help="Maximum tokens to generate per sample.")
    ] = 500,
    num_samples: Annotated[
        int, typer.Option("--num-samples", "-k", help="Samples to generate (as one batch).")
    ] = 1,
    temperature: Annotated[
        float | None, typer.Option(help="Softmax temperature (decoders that take it).")
    ] = None,
    top_k: Annotated[
        int | None, typer.Option(help="Keep the K most likely tokens (top-k).")
    ] = None,
    top_p: Annotated[float | None, typer.Option(help="Nucleus probability mass (top-p).")] = None,
    repetition_penalty: Annotated[
        float | None,
        typer.Option(
            help=f"Penalize tokens used in the last --repetition-window tokens (1 = off). Default: {GREEDY_PENALTY} with argmax (it stops greedy loops), {_REP.repetition_penalty} with sampling decoders.",
            show_default=False,
        ),
    ] = None,
    repetition_window: Annotated[
        int, typer.Option(help="How many recent tokens --repetition-penalty looks at.")
    ] = _REP.repetition_window,
    no_repeat_ngram: Annotated[
        int, typer.Option(help="Forbid repeating any n-gram of this many tokens (0 = off).")
    ] = _REP.no_repeat_ngram,
    primer: Annotated[
        str | None, typer.Option(help="Text (or a file) to continue after <start>.")
    ] = None,
    seed: Annotated[
        int, typer.Option(help="Random seed: the same seed gives the same output.")
    ] = 0,
    device: Annotated[str, typer.Option(help="auto, cpu, cuda or mps.")] = "auto",
    out: Annotated[
        Path | None, typer.Option(help="Output folder (default: <run>/samples/<time>).")
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Overwrite files already in --out.")
    ] = False,
    evaluate: Annotated[
        bool,
        typer.Option(
            "--eval", help="Run `mgen eval` on the samples, against the run's training data."
        ),
    ] = False,
    wav: Annotated[
        bool, typer.Option("--wav", help="Also render each sample as audio (FluidSynth).")
    ] = False,
) -> None:
    """Generate pieces from a trained run; write each in its native format and as MIDI."""
    if n < 1 or num_samples < 1:
        raise ConfigError("-n and --num-samples must be >= 1")
    dec = _decoder(decoder, {"temperature": temperature, "top_k": top_k, "top_p": top_p})
    dev = resolve_device(device)
    run_dir, config, tok, model = rundir.load_run(run, dev)
    if repetition_penalty is None:
        repetition_penalty = GREEDY_PENALTY if decoder == "argmax" else _REP.repetition_penalty
    rep = RepetitionConfig.from_dict(
        {
            "repetition_penalty": repetition_penalty,
            "repetition_window": repetition_window,
            "no_repeat_ngram": no_repeat_ngram,
        }
    )
    vocab = tok.vocab
    assert vocab is not None
    primer_tokens = _primer_tokens(tok, primer)
    unknown = sorted({t for t in primer_tokens if t not in vocab})
    if unknown:
        shown = " ".join(repr(t) for t in unknown)  # repr: a newline token stays on one line
        raise ConfigError(f"primer has symbols this tokenizer does not know: {shown[:200]}")
    prime = [vocab.start_id, *vocab.encode(primer_tokens)]
    folder = out or run_dir / "samples" / datetime.now().strftime("%Y%m%d-%H%M%S-%f")
    _refuse_overwrite(folder, num_samples, force)  # before the work, so nothing is half-done
    ids = generate(
        model,
        prime,
        steps=n,
        num_samples=num_samples,
        decoder=dec,
        vocab=vocab,
        seed=seed,
        device=dev,
        repetition=rep,
    )
    written = _write_all(tok, [primer_tokens + tok.decode(s) for s in ids], folder)
    if wav:
        from mgen.cli.render import render_wavs

        render_wavs(written)
    if evaluate:
        from mgen.cli.eval import evaluate_samples

        evaluate_samples(written, tok, config)


def _decoder(name: str, given: dict):
    cls = registry.load("decoder", name)
    fields = cls.Options.field_names()
    ignored = [k for k, v in given.items() if v is not None and k not in fields]
    if ignored:
        flags = ", ".join("--" + k.replace("_", "-") for k in ignored)
        raise ConfigError(f"decoder {name!r} does not take {flags}")
    return cls(cls.Options.from_dict({k: v for k, v in given.items() if v is not None}))


def _primer_tokens(tok, primer: str | None) -> list[str]:
    if not primer:
        return []
    path = Path(primer)
    if len(primer) < 4096 and path.is_file():
        try:
            pieces = tok.read(path)
        except MgenError:
            pieces = []
        if pieces:
            return pieces[0]
        return tok.parse_primer(path.read_text(encoding="utf-8", errors="replace"))
    return tok.parse_primer(primer)


def _refuse_overwrite(folder: Path, count: int, force: bool) -> None:
    """Earlier samples are never replaced unless --force: check every name before writing any."""
    if force or not folder.is_dir():
        return
    taken = sorted(p.name for i in range(1, count + 1) for p in folder.glob(f"sample-{i:03d}.*"))
    if taken:
        raise MgenError(
            f"{folder} already holds {', '.join(taken[:4])}{' ...' if len(taken) > 4 else ''}; "
            "choose another --out or pass --force to overwrite"
        )


def _write_all(tok, pieces: list[list[str]], folder: Path) -> list[Path]:
    """Write each piece natively and as MIDI; a piece that cannot be written is reported, not fatal."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise MgenError(f"cannot create output folder {folder}: {e.strerror}") from None
    problems, written, done = [], [], 0
    for i, tokens in enumerate(pieces, 1):
        stem = folder / f"sample-{i:03d}"
        try:
            written.append(_write_one(tok.write, tokens, stem))
            done += 1
            if tok.suffix != ".mid":  # a MIDI-native tokenizer has just written the .mid
                written.append(_write_one(tok.to_midi, tokens, stem.with_suffix(".mid")))
        except DataError as e:
            problems.append(f"{stem.name}: {e}")
    for line in problems:
        typer.echo(f"could not write: {line}", err=True)
    summary = f"wrote {done} of {len(pieces)} sample(s) to {folder}"
    if problems:
        summary += f"; {len(problems)} could not be written or converted to MIDI"
    typer.echo(summary, err=True)
    if not written:
        raise MgenError("no sample could be written (train longer, or try a sampling decoder)")
    return written


def _write_one(writer, tokens: list[str], path: Path) -> Path:
    try:
        out = writer(tokens, path)
    except OSError as e:
        raise MgenError(f"cannot write {path}: {e.strerror}") from None
    typer.echo(str(out))
    return out
