"""What training with controls costs a model sampled with none (issue 29's third target): a run
trained with `--controls` against one trained without, at the same CPU budget on the same split.

    python tools/control_cost.py --with /work/scratch/folkctl/run --without folk-abc

Both models score the validation pieces of the run without controls (whole pieces from <start>
to <end>, no control token: what a model asked for nothing reads), and each samples `-k` pieces
of `-n` tokens asked for nothing, judged by `mgen eval --run` against its run (the classifier's
accuracy telling samples from validation pieces; 50%: it cannot).
"""

from __future__ import annotations

import argparse
import tempfile


def held_loss(run, pieces) -> tuple[float, float]:
    """(nats per token, nats per note) of `run` on `pieces` (token lists, no <start>/<end>)."""
    import numpy as np

    from mgen.core.contracts.judge import count_notes
    from mgen.core.sampling.scoring import score_pieces

    vocab = run.tokenizer.vocab
    arrays = [np.asarray([vocab.start_id, *vocab.encode(p), vocab.end_id]) for p in pieces]
    notes = [count_notes(run.tokenizer, p) for p in pieces]
    score = score_pieces(run.model, arrays, run.device, unk_id=vocab.unk_id,
                         notes=None if None in notes else notes, stateful=run.model.carries_state)  # fmt: skip
    per_note = score.nats / score.notes if score.notes else float("nan")
    return score.nats / score.tokens, per_note


def classifier(run, k: int, n: int, seed: int) -> str:
    from mgen import api

    with tempfile.TemporaryDirectory() as folder:
        batch = api.sample(run, n, k, seed=seed, out=folder, force=True)
        figures = api.judge(batch.paths, run=run).figures["formats"]
    fmt = next(iter(figures.values()))
    acc = fmt.get("distinguish", {}).get("accuracy")
    return "-" if acc is None else f"{100 * acc:.0f}%"


def main() -> None:
    from mgen import api
    from mgen.core.data.prepare import run_split

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--with", dest="with_", required=True, help="the run trained with controls")
    p.add_argument("--without", required=True, help="the run trained without (its split)")
    p.add_argument("-k", type=int, default=200, help="samples from each")
    p.add_argument("-n", type=int, default=600, help="tokens a sample")
    p.add_argument("--seed", type=int, default=21)
    args = p.parse_args()
    base, ctl = api.load_run(args.without), api.load_run(args.with_)
    split = run_split(base.config, base.tokenizer, log=lambda _: None)
    pieces = [split.held.piece(int(i)) for i in split.val]
    print(f"{len(pieces)} validation pieces of {args.without}; {args.k} samples of {args.n} "
          f"tokens each, seed {args.seed}, asked for nothing\n")  # fmt: skip
    print("| run | controls | val nats/token | val nats/note | classifier |\n|---|---|---|---|---|")
    for name, run in ((args.without, base), (args.with_, ctl)):
        per_token, per_note = held_loss(run, pieces)
        controls = ", ".join(api.controls_of(run)) or "none"
        print(f"| {name} | {controls} | {per_token:.4f} | {per_note:.4f} | "
              f"{classifier(run, args.k, args.n, args.seed)} |", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
