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
    args = p.parse_args()
    run = api.load_run(args.run)
    if not trained(run.tokenizer.vocab):
        p.error(f"{args.run} was not trained with --infill")
    split = run_split(run.config, run.tokenizer, log=lambda _: None)
    rng = np.random.default_rng(args.seed)
    totals = np.zeros((3, 2))
    used = 0
    for i in split.val[: args.pieces]:
        body = split.held.piece(int(i))
        cuts = boundaries(run.tokenizer, body)
        if len(cuts) < 3:
            continue
        a, b = sorted(rng.choice(cuts, size=2, replace=False))
        if b - a < 1:
            continue
        totals += np.asarray(three_ways(run, body, int(a), int(b)))
        used += 1
    print(f"run {args.run}: {used} validation pieces, the middle cut at two span boundaries "
          f"(seed {args.seed}), {int(totals[0, 1]):,} middle tokens\n")  # fmt: skip
    print("| the middle given | nats/token |\n|---|---|")
    for label, (nats, count) in zip(("prefix and suffix", "prefix only (empty suffix)",
                                     "left to right (no sentinels)"), totals, strict=True):  # fmt: skip
        print(f"| {label} | {nats / count:.4f} |")


if __name__ == "__main__":
    main()
