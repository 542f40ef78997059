"""Does infilling use what follows the gap? (issue 29's second target, docs/control.md)

    python tools/infill_bench.py --run runs/infill [--pieces 300] [--seed 0]

For a run trained with `--infill`: each of its validation pieces (at most `--pieces`) is cut at
two span boundaries drawn from the seed (bars for abc-char and kern, beats for MIDI: as training
cuts them), and the middle is scored three ways, nats per token of the middle and its <end>:

- prefix and suffix: `<suffix> SUFFIX <prefix> PREFIX <middle> MIDDLE <end>` (what `mgen sample
  --infill` asks);
- prefix only, same layout with an empty suffix;
- left to right: `PREFIX MIDDLE`, the model reading the tune as it does when it is not infilling
  (its loss on the middle, the piece's end not scored).

Lower with the suffix than without is the target. The model reads each sequence in one pass
(the recurrent state carried), in fp32.

With `--seams K`, the first K of those pieces also get a sampled middle (`mgen sample --infill`
with the run's decoding, `-n` tokens at most) and the seams are judged: the melodic interval
(`melody` hook: the top line) from the prefix's last note into the middle and from the middle's
last note into the suffix, pooled, as a histogram of -13..+13 semitones; its divergence (JSD)
from the same seams of the original pieces is printed beside the originals' own (their odd
pieces' seams against their even pieces'). For ABC, the share of inner bars as long as the
meter, before and after infilling.
"""

from __future__ import annotations

import argparse

import numpy as np


def middle_nats(run, tokens: list[str], first: int, last: int) -> tuple[float, int]:
    """(nats, count) of the tokens at positions first..last-1 of <start> + tokens."""
    import torch
    import torch.nn.functional as F

    ids = torch.tensor([run.tokenizer.vocab.encode(["<start>", *tokens])], device=run.device)
    with torch.no_grad():
        logits, _ = run.model(ids[:, :-1], None)  # [1, L-1, V]: the prediction of each next id
    nll = F.cross_entropy(logits[0].float(), ids[0, 1:], reduction="none")  # [L-1]
    return float(nll[first - 1 : last - 1].sum()), last - first


def three_ways(run, body: list[str], a: int, b: int) -> list[tuple[float, int]]:
    """The middle body[a:b] scored with prefix and suffix, prefix only, left to right."""
    from mgen.core.contracts.infill import layout

    out = []
    for suffix in (body[b:], []):
        seq = [*layout(body[:a], body[a:b], suffix), "<end>"]
        start = len(seq) - (b - a) - 1  # the middle's first token in seq, after <start>: +1
        out.append(middle_nats(run, seq, start + 1, len(seq) + 1))
    out.append(middle_nats(run, body[:b], a + 1, b + 1))
    return out


def main() -> None:
    from mgen import api
    from mgen.core.contracts.infill import trained
    from mgen.core.data.infill import boundaries
    from mgen.core.data.prepare import run_split

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--run", default="runs/latest")
    p.add_argument("--pieces", type=int, default=300)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--seams", type=int, default=0, help="sample this many middles, judge seams")
    p.add_argument("-n", type=int, default=400, help="--seams: tokens per middle at most")
    args = p.parse_args()
    run = api.load_run(args.run)
    if not trained(run.tokenizer.vocab):
        p.error(f"{args.run} was not trained with --infill")
    split = run_split(run.config, run.tokenizer, log=lambda _: None)
    rng = np.random.default_rng(args.seed)
    totals = np.zeros((3, 2))
    used, cuts_made = 0, []
    for i in split.val[: args.pieces]:
        body = split.held.piece(int(i))
        cuts = boundaries(run.tokenizer, body)
        if len(cuts) < 3:
            continue
        a, b = sorted(rng.choice(cuts, size=2, replace=False))
        if b - a < 1:
            continue
        totals += np.asarray(three_ways(run, body, int(a), int(b)))
        cuts_made.append((body, int(a), int(b)))
        used += 1
    print(f"run {args.run}: {used} validation pieces, the middle cut at two span boundaries "
          f"(seed {args.seed}), {int(totals[0, 1]):,} middle tokens\n")  # fmt: skip
    print("| the middle given | nats/token |\n|---|---|")
    for label, (nats, count) in zip(("prefix and suffix", "prefix only (empty suffix)",
                                     "left to right (no sentinels)"), totals, strict=True):  # fmt: skip
        print(f"| {label} | {nats / count:.4f} |")
    if args.seams:
        print_seams(run, cuts_made[: args.seams], args.n, args.seed)


def seam_intervals(tok, parts: tuple[list[str], ...], piece: list[str]) -> list[int]:
    """The melodic intervals into and out of the middle of `piece` (prefix, middle, suffix:
    `parts` gives the prefix and suffix it was made from); one where the middle has no note."""
    line = tok.melody(piece)
    before = len(tok.melody(parts[0]))
    after = len(tok.melody([*parts[0], *parts[1], *parts[2]])) - len(
        tok.melody([*parts[0], *parts[1]]))  # fmt: skip
    seams = sorted({before, len(line) - after})
    return [line[k] - line[k - 1] for k in seams if 0 < k < len(line)]


def histogram(intervals: list[int]) -> np.ndarray:
    h = np.bincount(np.clip(np.asarray(intervals, dtype=int), -13, 13) + 13, minlength=27)
    return h / max(h.sum(), 1)


def jsd(p: np.ndarray, q: np.ndarray) -> float:
    m = (p + q) / 2
    kl = lambda a: float(np.sum(a[a > 0] * np.log2(a[a > 0] / m[a > 0])))  # noqa: E731
    return (kl(p) + kl(q)) / 2


def bar_fit(tokens: list[str], abc: bool) -> float | None:
    """ABC: the share of inner bars as long as the meter (None for other formats, or a tune
    with no meter)."""
    from mgen.evaluate.validity import abc_form
    from mgen.formats.abc.check import read

    return abc_form(read("".join(tokens)))["bar_fit"] if abc else None


def print_seams(run, cuts: list, n: int, seed: int) -> None:
    from mgen.core.runs.infill import fill

    tok = run.tokenizer
    filled, original, fits = [], [], []
    for j, (body, a, b) in enumerate(cuts):
        parts = (body[:a], body[a:b], body[b:])
        new = fill(run, parts, n, 1, None, seed=seed + j)[0]
        filled.append(seam_intervals(tok, parts, new))
        original.append(seam_intervals(tok, parts, body))
        abc = run.tokenizer_name == "abc-char"
        fits.append((bar_fit(body, abc), bar_fit(new, abc)))
    flat = lambda xs: [i for x in xs for i in x]  # noqa: E731
    own = jsd(histogram(flat(original[1::2])), histogram(flat(original[::2])))
    print(
        f"\nseams: {len(cuts)} middles sampled ({run.resolve_decoding(None, {})[0]}, "
        f"at most {n} tokens), {len(flat(filled))} seam intervals\n"
    )
    print("| | interval JSD against the originals' seams |\n|---|---|")
    print(f"| infilled seams | {jsd(histogram(flat(filled)), histogram(flat(original))):.3f} |")
    print(f"| the originals' own (odd pieces against even) | {own:.3f} |")
    leaps = lambda xs: np.mean([abs(i) > 4 for i in flat(xs)])  # noqa: E731
    print(
        f"\nleaps over a major third at the seams: infilled {leaps(filled):.0%}, "
        f"originals {leaps(original):.0%}"
    )
    pairs = [(x, y) for x, y in fits if x is not None and y is not None]
    if pairs:
        print(
            f"inner bars as long as the meter: originals {np.mean([x for x, _ in pairs]):.1%}, "
            f"infilled {np.mean([y for _, y in pairs]):.1%} ({len(pairs)} tunes)"
        )


if __name__ == "__main__":
    main()
