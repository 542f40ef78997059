"""`mgen sample`: generate pieces from a trained run and write them (native format and MIDI)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated, Optional

import typer

from mgen.core import registry, rundir
from mgen.core.device import resolve_device
from mgen.core.errors import ConfigError, DataError, MgenError
from mgen.core.sample import RepetitionConfig, generate


def sample(
    run: Annotated[Path, typer.Option(help="Run directory to sample from.")] = Path("runs/latest"),
    decoder: Annotated[str, typer.Option("--decoder", help="Decoder plugin: argmax, temperature, multinomial, top-k, top-p, ...")] = "temperature",
    n: Annotated[int, typer.Option("-n", "--length", help="Maximum tokens to generate per sample.")] = 500,
    num_samples: Annotated[int, typer.Option("--num-samples", "-k", help="Samples to generate (as one batch).")] = 1,
    temperature: Annotated[Optional[float], typer.Option(help="Softmax temperature (decoders that take it).")] = None,
    top_k: Annotated[Optional[int], typer.Option(help="Keep the K most likely tokens (top-k).")] = None,
    top_p: Annotated[Optional[float], typer.Option(help="Nucleus probability mass (top-p).")] = None,
    repetition_penalty: Annotated[float, typer.Option(help="Penalize recently generated tokens (1 = off).")] = 1.0,
    no_repeat_ngram: Annotated[int, typer.Option(help="Forbid repeating any n-gram of this length (0 = off).")] = 0,
    primer: Annotated[Optional[str], typer.Option(help="Text (or a file) to continue after <start>.")] = None,
    seed: Annotated[int, typer.Option(help="Random seed: the same seed gives the same output.")] = 0,
    device: Annotated[str, typer.Option(help="auto, cpu, cuda or mps.")] = "auto",
    out: Annotated[Optional[Path], typer.Option(help="Output folder (default: <run>/samples/<time>).")] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite files already in --out.")] = False,
) -> None:
    """Generate pieces from a trained run; write each in its native format and as MIDI."""
    if n < 1 or num_samples < 1:
        raise ConfigError("-n and --num-samples must be >= 1")
    dec = _decoder(decoder, {"temperature": temperature, "top_k": top_k, "top_p": top_p})
    dev = resolve_device(device)
    run_dir, config, tok, model = rundir.load_run(run, dev)
    rep = RepetitionConfig.from_dict({"repetition_penalty": repetition_penalty,
                                      "no_repeat_ngram": no_repeat_ngram})
    vocab = tok.vocab
    assert vocab is not None
    primer_tokens = _primer_tokens(tok, primer)
    unknown = sorted({t for t in primer_tokens if t not in vocab})
    if unknown:
        raise ConfigError(f"primer has symbols this tokenizer does not know: {' '.join(unknown)[:200]}")
    prime = [vocab.start_id, *vocab.encode(primer_tokens)]
    ids = generate(model, prime, steps=n, num_samples=num_samples, decoder=dec, vocab=vocab,
                   seed=seed, device=dev, repetition=rep)
    folder = out or run_dir / "samples" / datetime.now().strftime("%Y%m%d-%H%M%S-%f")
    _write_all(tok, [primer_tokens + tok.decode(s) for s in ids], folder, force)


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


def _write_all(tok, pieces: list[list[str]], folder: Path, force: bool) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise MgenError(f"cannot create output folder {folder}: {e.strerror}") from None
    failed = []
    for i, tokens in enumerate(pieces, 1):
        stem = folder / f"sample-{i:03d}"
        if not force and any(folder.glob(f"{stem.name}.*")):
            raise MgenError(f"{stem}.* already exists; choose another --out or pass --force")
        try:
            typer.echo(str(tok.write(tokens, stem)))
        except OSError as e:
            raise MgenError(f"cannot write {stem}: {e.strerror}") from None
        try:
            typer.echo(str(tok.to_midi(tokens, stem.with_suffix(".mid"))))
        except DataError as e:
            failed.append(f"{stem.name}: {e}")
    for line in failed:
        typer.echo(f"could not convert to MIDI: {line}", err=True)
    typer.echo(f"wrote {len(pieces)} sample(s) to {folder}"
               + (f"; {len(failed)} could not be converted to MIDI" if failed else ""), err=True)
