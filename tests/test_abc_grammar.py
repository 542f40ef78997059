"""The abc-char grammar (issue 27): it accepts folk-abc's tunes that the strict judge accepts
(and that keep the rules the grammar adds, `abc_grammar_check.beyond_judge`), refuses
hand-made broken tunes where they break, and whatever it lets through, the judge accepts."""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from mgen.core.contracts.grammar import grammar_of
from mgen.core.contracts.vocab import Vocab
from mgen.formats.abc.check import strict_problems
from mgen.formats.abc.read import read_tune
from mgen.plugins.tokenizers.abc_char import AbcCharTokenizer
from mgen.plugins.tokenizers.abc_grammar_check import beyond_judge

#: (collection, every n-th file, every n-th tune of a file): about 300 tunes of folk-abc.
SAMPLE = (("essenFolksong", 3, 20), ("oneills1850", 4, 10), ("ryansMammoth", 8, 1))


@pytest.fixture(scope="module")
def folk(music21_corpus: Path) -> tuple[AbcCharTokenizer, list[list[str]]]:
    tok = AbcCharTokenizer()
    pieces = []
    for name, files, tunes in SAMPLE:
        for f in sorted((music21_corpus / name).glob("*.abc"))[::files]:
            pieces += tok.read(f)[::tunes]
    tok.vocab = Vocab.build(Counter(t for p in pieces for t in p))
    return tok, pieces


def test_the_grammar_accepts_the_tunes_the_judge_accepts(folk):
    tok, pieces = folk
    judged = [p for p in pieces if not strict_problems(read_tune(tok.text(p)))]
    kept = [p for p in judged if not beyond_judge(tok.text(p))]
    # The grammar also keeps abc2midi's rules for quotes, decorations and hornpipes (2/4 or
    # 4/4 only: O'Neill's write theirs in C|), which O'Neill's and Ryan's tunes (most of this
    # sample) break more often than Essen's songs: 229 of the 318 judged here keep every rule
    # (242 before the hornpipe rule; 9,401 of 10,498 on the whole corpus, grammar_bench.py
    # --corpus). The test is that each one kept is accepted; this bound guards the share.
    assert len(kept) >= 225 and len(kept) >= 0.7 * len(judged), (len(pieces), len(judged))
    for piece in kept:
        at = grammar_of(tok, tok.vocab, 1).accepts(piece)
        assert at is None, "".join(piece[max(0, at - 40) : at]) + "⟦" + "".join(piece[at:][:8])


HEAD = "T:t\nM:2/4\nL:1/8\nK:G\n"
#: Broken tunes: the grammar refuses the character after ⟦ (at the end: <end>).
BROKEN = [
    (HEAD + "ABcd|ABcd⟦e|", "an overfull bar"),
    (HEAD + "ABcd|A2-⟦B2|", "a tie to another pitch"),
    (HEAD + "|:ABcd|ABcd|⟦", "an unclosed repeat at <end>"),
    (HEAD + "|1 ABcd|⟦|", "a first ending not closed by :|"),
    (HEAD + "ABcd|ABc|A⟦Bcd|", "a short bar whose next bar does not complete it"),
    (HEAD + "ABcd|AB⟦", "<end> in the middle of a bar"),
    (HEAD + "ABcd|\nAB⟦", "<end> without a bar line where lines end with one"),
    (HEAD + "A⟦:|", "a body line that reads as a field"),
    (HEAD + "ABcd|\n⟦\nABcd|", "an empty line (the end of a tune to every reader)"),
    ("⟦M:2/4\nT:t\n", "a header that does not start with T:"),
    ("T:t\nM:2/4\nK:⟦H\n", "a key the readers do not take"),
    ("T:t\nK:G\n⟦AB", "a body before M:"),
    (HEAD + "z4|A2\nT⟦:x\n", "a title in the body"),
    (HEAD + "(3ABc d(3A⟦|", "a bar line inside a tuplet"),
    (HEAD + 'ABcd|"^tr⟦\nA', "a line end inside an annotation"),
    (HEAD + "ABcd|z4⟦-|z4|", "a tied rest (abc2midi: no note before the tie)"),
    (HEAD + 'ABcd|"⟦d2 "A', "a quote abc2midi reads as no chord (a lower-case start)"),
    (HEAD + 'ABcd|"G⟦.!."A', "a chord name abc2midi does not know"),
    (HEAD + 'ABcd|"4⟦x"A', "a fingering with a letter in it"),
    (HEAD + 'ABcd|"Ama⟦"A', "a chord name closed short of its type (maj7)"),
    (HEAD + "A2>B⟦c|", "a broken rhythm between notes of unequal length (abc2midi)"),
    ("T:t\nR:hornpipe\nM:⟦3/4\nL:1/8\nK:G\nABc|", "a hornpipe's meter not 2/4 or 4/4"),
    ("T:t\nM:C|\nR: Hornpip⟦e\nL:1/8\nK:G\nABcd|", "a hornpipe after a meter it cannot have"),
]


@pytest.mark.parametrize(("text", "why"), BROKEN, ids=[b[1] for b in BROKEN])
def test_the_grammar_refuses_broken_tunes(folk, text: str, why: str):
    tok, _ = folk
    at = text.index("⟦")
    assert grammar_of(tok, tok.vocab, 1).accepts(list(text.replace("⟦", ""))) == at, why


@pytest.mark.parametrize("body", ['"4"{e}v.', '"4"{e}v', "{e}u.", '"^x"{g}.'])
def test_no_character_the_grammar_allows_leads_to_a_dead_end(folk, body: str):
    """After decorations, a chord symbol and grace notes in a row (folk-abc's most), every
    character allowed next leaves something allowed after it: a sample of folk-abc's model once
    met an empty mask after `"4"{e}v.(` (a slur past the limit, a tuplet not after `.`)."""
    tok, _ = folk
    vocab = tok.vocab
    prefix = vocab.encode(list(HEAD + "ABcd|" + body))
    for token in np.nonzero(_after(tok, prefix))[0]:
        if token != vocab.end_id:
            assert _after(tok, [*prefix, int(token)]).any(), vocab.decode([int(token)])


def _after(tok: AbcCharTokenizer, ids: list[int]) -> np.ndarray:
    """The grammar's mask after the token ids `ids`."""
    rules = grammar_of(tok, tok.vocab, 1)
    for i in ids:
        rules.advance(np.array([i]))
    return rules.allowed()[0]


def _walk(tok: AbcCharTokenizer, rng: random.Random, steps: int = 500) -> list[str]:
    """A tune the grammar writes with random choices (music favoured), cut where it last
    could end if it runs out of steps; every mask is asserted non-empty."""
    vocab = tok.vocab
    weight = np.ones(len(vocab))
    for chars, w in (("ABCDEFGabcdefg", 8.0), ("|", 6.0), ("234/ \n", 3.0)):
        weight[vocab.encode(list(chars))] = w
    weight[vocab.end_id] = 30.0
    rules, ids, last_end = grammar_of(tok, vocab, 1), [], 0
    for n in range(steps):
        mask = rules.allowed()[0]
        assert mask.any(), "".join(vocab.decode(ids))
        last_end = len(ids) if mask[vocab.end_id] else last_end
        w = weight * mask * (np.arange(len(vocab)) != vocab.end_id if n < 60 else 1)
        token = rng.choices(range(len(vocab)), weights=w if w.any() else mask)[0]
        if token == vocab.end_id:
            return vocab.decode(ids)
        rules.advance(np.array([token]))
        ids.append(token)
    return vocab.decode(ids[:last_end])


def test_what_the_grammar_writes_the_judge_accepts(folk):
    """Random walks under the grammar (a model that knows nothing): the strict judge and the
    grammar's own rules accept every tune, whatever odd text its free fields hold."""
    tok, _ = folk
    rng = random.Random(27)
    for _ in range(40):
        piece = _walk(tok, rng)
        text = tok.text(piece)
        assert piece and not strict_problems(read_tune(text)) and not beyond_judge(text), text


def test_a_broken_primer_leaves_the_samples_unguarded(folk):
    tok, _ = folk
    rules = grammar_of(tok, tok.vocab, 2)
    rules.feed(list("M:2/4\n"))  # T: must come first: the grammar steps aside
    chars = [i for i, t in enumerate(tok.vocab.tokens) if len(t) == 1] + [tok.vocab.end_id]
    assert rules.allowed()[:, chars].all()  # every character, and <end>


@pytest.mark.parametrize(
    ("asked", "field", "written", "refused"),
    [
        ("<meter=6/8>", "M", "6/8", "3/4"),
        ("<key=D_minor>", "K", "Dm", "D"),
        ("<meter=4/4>", "M", "C", "C|"),
    ],
)
def test_an_asked_key_or_meter_is_the_tunes_field(folk, asked, field, written, refused):
    """Sampling asked for a key or meter (a run trained with --controls): the grammar writes it
    as the tune's K: or M: field, in any spelling that reads as it, and no other."""
    from mgen.core.contracts.controls import with_controls

    tok, _ = folk
    vocab = Vocab([*tok.vocab.tokens, asked])
    head = f"T:t\n{field}:"

    def accepts(value: str) -> int | None:
        grammar = with_controls(grammar_of(tok, vocab, 1), vocab)
        grammar.feed([asked])
        return grammar.accepts(list(head + value + "\n"), end=False)

    assert accepts(written) is None
    assert accepts(refused) is not None
    plain = grammar_of(tok, vocab, 1)  # asked for nothing: any value the tokenizer reads
    assert plain.accepts(list(head + refused + "\n"), end=False) is None
