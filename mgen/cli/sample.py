"""`mgen sample`: generate pieces from a trained run and write them (native format and MIDI)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mgen.cli.common import parse_options

#: Shown in --help; the values are mgen.core.sampling.engine's (a test checks they agree). Written out
#: here so that `mgen --help` need not import torch.
GREEDY_PENALTY, GREEDY_NGRAM, REPETITION_WINDOW = 1.3, 16, 32


def sample(
    run: Annotated[
        Path,
        typer.Option(
            help="Run directory, a shipped model's name (`mgen models`), or hf:OWNER/NAME for a "
            "run on the Hugging Face Hub (cached; `pip install 'mgen[hub]'`), to sample."
        ),
    ] = Path("runs/latest"),
    decoder: Annotated[
        str | None,
        typer.Option(
            "--decoder",
            help="Decoder plugin: argmax, temperature, multinomial, top-k, top-p, ... Default: "
            "the run's chosen decoding (a shipped model's was measured: `mgen models`), with "
            "no run's choice or with --temperature/--top-k/--top-p given, temperature.",
            show_default=False,
        ),
    ] = None,
    n: Annotated[
        int,
        typer.Option(
            "-n",
            "--length",
            help="Maximum tokens to generate per sample. A sample stopped by it before its end is cut where its format allows (ABC: at its last bar line).",
        ),
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
            help=f"Penalize tokens used in the last --repetition-window tokens (1 = off). Default: {GREEDY_PENALTY} with argmax (it stops greedy loops), off for sampling decoders (they sample the model as it is). Holds, rests and time shifts are never penalized.",
            show_default=False,
        ),
    ] = None,
    repetition_window: Annotated[
        int, typer.Option(help="How many recent tokens --repetition-penalty looks at.")
    ] = REPETITION_WINDOW,
    no_repeat_ngram: Annotated[
        int | None,
        typer.Option(
            help=f"Forbid repeating any sequence of this many note events (holds, rests and time shifts do not count; 0 = off). Default: {GREEDY_NGRAM} with argmax, off for sampling decoders.",
            show_default=False,
        ),
    ] = None,
    primer: Annotated[
        str | None, typer.Option(help="Text (or a file) to continue after <start>.")
    ] = None,
    grammar: Annotated[
        bool,
        typer.Option(
            "--grammar/--no-grammar",
            help="Sample only what the format's grammar allows, where the tokenizer has one "
            "(midi-notes, midi-chords, midi-tracks, kern): every sample valid. --no-grammar "
            "samples the raw model.",
        ),
    ] = True,
    rule: Annotated[
        list[str] | None,
        typer.Option(
            "--rule",
            help="Add a style rule of the format's grammar, e.g. no-parallels (midi-tracks: no "
            "parallel fifths or octaves between tracks); repeatable; 'none' for none. Default: "
            "the run's chosen rules (config.json's decoding).",
        ),
    ] = None,
    instruments: Annotated[
        str | None,
        typer.Option(
            help="The tracks to write, in order: General MIDI names or program numbers 0-127, "
            '"drums" for a drum kit, e.g. "violin,violin,viola,cello" (tokenizers that name '
            "their instruments: midi-tracks).",
        ),
    ] = None,
    key: Annotated[
        str | None,
        typer.Option(
            help='Ask for a key, e.g. "D minor", "F# major" (a run trained with '
            "--controls: docs/control.md)."
        ),
    ] = None,
    meter: Annotated[str | None, typer.Option(help="Ask for a meter, e.g. 6/8.")] = None,
    tempo: Annotated[
        str | None,
        typer.Option(help="Ask for a tempo in quarter notes a minute (its band), e.g. 120."),
    ] = None,
    guidance: Annotated[
        float | None,
        typer.Option(
            help="How hard to push each step toward the asked --key, --meter, ... "
            "(classifier-free guidance; 1 = the model as trained, 2 = twice its pull). "
            "Default: the run's chosen guidance, else 1.",
            show_default=False,
        ),
    ] = None,
    control: Annotated[
        list[str] | None,
        typer.Option(
            help="Ask for any attribute the run was trained with, NAME=VALUE, e.g. "
            "length=short or collection=bach (repeatable)."
        ),
    ] = None,
    infill: Annotated[
        Path | None,
        typer.Option(
            help="Regenerate the --bars of this file's first piece, everything else kept (a run "
            "trained with --infill: docs/control.md).",
        ),
    ] = None,
    bars: Annotated[
        str | None,
        typer.Option(
            "--bars",
            "--beats",
            help="With --infill: the span to regenerate, A-B: bars (abc-char, kern) or beats "
            "(midi-notes, midi-chords, midi-tracks), from 1.",
        ),
    ] = None,
    accompany: Annotated[
        Path | None,
        typer.Option(
            help="Keep one track of this MIDI file note for note and write the --instruments "
            "as new tracks around it (a multi-track run: midi-tracks; docs/control.md).",
        ),
    ] = None,
    accompany_track: Annotated[
        int | None,
        typer.Option(
            help="With --accompany: the track to keep, from 1 (default: the first pitched one)."
        ),
    ] = None,
    seed: Annotated[
        int, typer.Option(help="Random seed: the same seed gives the same output.")
    ] = 0,
    device: Annotated[str, typer.Option(help="auto, cpu, cuda or mps.")] = "auto",
    out: Annotated[
        Path | None,
        typer.Option(
            help="Output folder (default: <run>/samples/<time>; for a shipped model, which is "
            "read-only, runs/<name>/samples/<time> in the current folder; for hf:OWNER/NAME, "
            "runs/hf-OWNER--NAME/samples/<time>)."
        ),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Overwrite files already in --out.")
    ] = False,
    evaluate: Annotated[
        bool,
        typer.Option(
            "--eval",
            help="Run `mgen eval` on the samples: a reference drawn from the run's validation split, copies sought in its training split.",
        ),
    ] = False,
    wav: Annotated[
        bool, typer.Option("--wav", help="Also render each sample as audio (FluidSynth).")
    ] = False,
    stream: Annotated[
        bool,
        typer.Option(
            "--stream",
            help="Print each note as soon as it is final (seconds, pitch, beats, track), one "
            "sample at a time; Ctrl-C stops it and writes the piece so far. The notes and the "
            "piece are those of the same seed without --stream.",
        ),
    ] = False,
) -> None:
    """Generate pieces from a trained run; write each in its native format and as MIDI."""
    from mgen import api

    if infill is not None or bars is not None:
        _infill(run, infill, bars, n, num_samples, decoder, seed, grammar, out, force, device,
                {"temperature": temperature, "top_k": top_k, "top_p": top_p,
                 "rules": _rules(rule)})  # fmt: skip
        return
    if accompany is not None or accompany_track is not None:
        _accompany(run, accompany, accompany_track, instruments, n, num_samples, decoder, seed,
                   grammar, out, force, device,
                   {"temperature": temperature, "top_k": top_k, "top_p": top_p,
                    "rules": _rules(rule)})  # fmt: skip
        return
    asked = {**parse_options(control, "--control"), "key": key, "meter": meter,
             "tempo": tempo}  # fmt: skip
    guards = {"repetition_penalty": repetition_penalty, "repetition_window": repetition_window,
              "no_repeat_ngram": no_repeat_ngram}  # fmt: skip
    sampler = api.sample
    if stream:
        from mgen.cli.live import stream_sample as sampler
    result = sampler(run, n, num_samples, decoder, primer=primer, seed=seed,
                     repetition=guards, grammar=grammar, instruments=instruments, controls=asked,
                     rules=_rules(rule), guidance=guidance,
                     out=out, force=force, device=device,
                     temperature=temperature, top_k=top_k, top_p=top_p)  # fmt: skip
    _say_grammar(result)
    _report(result.written, len(result.pieces))
    if wav:
        for path in api.render_audio(result.paths):
            typer.echo(str(path))
    if evaluate:
        log = lambda msg: typer.echo(msg, err=True)  # noqa: E731 - a one-line sink
        typer.echo(api.judge(result.paths, run=result.run, log=log).text())


def _rules(given: list[str] | None) -> list[str] | None:
    """--rule as sampling's `rules`: None (the run's own) when not given, [] for 'none'."""
    if given is None:
        return None
    return [r for r in given if r != "none"]


def _infill(run, file, bars, n, k, decoder, seed, grammar, out, force, device, options) -> None:
    """`--infill FILE --bars A-B`: the span regenerated, and how many bars each new one has."""
    from mgen import api
    from mgen.core.contracts.errors import ConfigError

    if file is None or bars is None:
        raise ConfigError("--infill FILE and --bars A-B go together")
    result, units = api.infill(run, file, bars, n, k, decoder, seed=seed, grammar=grammar,
                               out=out, force=force, device=device, **options)  # fmt: skip
    _say_grammar(result)
    typer.echo(f"infill: {bars} of {file} regenerated; the new spans have "
               f"{', '.join(map(str, units))} unit(s) each", err=True)  # fmt: skip
    _report(result.written, len(result.pieces))


def _accompany(run, file, track, instruments, n, k, decoder, seed, grammar, out, force, device,
               options) -> None:  # fmt: skip
    """`--accompany FILE --instruments ...`: a track kept, new ones written around it."""
    from mgen import api
    from mgen.core.contracts.errors import ConfigError

    if file is None:
        raise ConfigError("--accompany-track goes with --accompany FILE")
    if not grammar:
        raise ConfigError("--accompany needs the grammar: it forces the given track's notes")
    if not instruments:
        raise ConfigError("--accompany: name the tracks to add with --instruments")
    result = api.accompany(run, file, instruments, n, k, decoder, track=track, seed=seed,
                           out=out, force=force, device=device, **options)  # fmt: skip
    _say_grammar(result)
    typer.echo(f"accompany: the given track of {file} kept note for note as track 1 of each "
               f"sample, with {instruments}", err=True)  # fmt: skip
    _report(result.written, len(result.pieces))


def _say_grammar(result) -> None:
    """Which way the samples were made, and how often the grammar overruled the model."""
    used, name = result.grammar, result.run.tokenizer_name
    if used is None:
        return
    if not used.on:
        typer.echo(f"grammar: off (--no-grammar): the raw {name} model", err=True)
        return
    per = ", ".join(f"{r}/{s}" for r, s in zip(used.refused, used.steps, strict=True))
    typer.echo(
        f"grammar: on ({name}); it refused the model's first choice at "
        f"{used.share():.1%} of steps (per sample: {per[:200]})",
        err=True,
    )


def _report(written, total: int) -> None:
    """Each written path on stdout; problems and a summary on stderr."""
    for path in written.paths:
        typer.echo(str(path))
    for line in written.problems:
        typer.echo(f"could not write: {line}", err=True)
    summary = f"wrote {written.pieces} of {total} sample(s) to {written.folder}"
    if written.problems:
        summary += f"; {len(written.problems)} could not be written or converted to MIDI"
    typer.echo(summary, err=True)
