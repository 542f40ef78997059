"""Direct unit tests of small pure functions, with expected values worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from mgen.core.contracts.vocab import Vocab
from mgen.core.data.batches import (
    Windows,
    longest_run,
    longest_runs_after,
    split_pieces,
    token_stream,
)
from mgen.core.data.corpus import Corpus
from mgen.core.sampling.engine import RepetitionConfig, penalize
from mgen.plugins.tokenizers.abc_char import AbcCharTokenizer, split_tunes

INF = float("-inf")


def _rep(penalty: float = 1.0, window: int = 32, ngram: int = 0) -> RepetitionConfig:
    return RepetitionConfig(
        repetition_penalty=penalty, repetition_window=window, no_repeat_ngram=ngram
    )


# -- penalize: repetition penalty -------------------------------------------------------------


def test_penalty_divides_positive_and_multiplies_negative_logits_in_the_window_only():
    logits = torch.tensor([[2.0, -1.0, 0.5, -2.0, 4.0]])
    history = torch.tensor([[4, 1, 0, 0, 2, 3]])  # window 2: only tokens 2 and 3 count
    out = penalize(logits, history, _rep(penalty=2.0, window=2))
    assert torch.equal(out, torch.tensor([[2.0, -1.0, 0.25, -4.0, 4.0]]))
    assert torch.equal(logits, torch.tensor([[2.0, -1.0, 0.5, -2.0, 4.0]]))  # input untouched


def test_penalty_window_longer_than_history_covers_all_of_it_per_row():
    logits = torch.tensor([[3.0, 3.0, -3.0, 0.0, 1.0], [3.0, 3.0, -3.0, 0.0, 1.0]])
    history = torch.tensor([[0, 2, 3, 0], [1, 1, 1, 1]])
    out = penalize(logits, history, _rep(penalty=3.0, window=8))
    expected = torch.tensor([[1.0, 3.0, -9.0, 0.0, 1.0], [3.0, 1.0, -3.0, 0.0, 1.0]])
    assert torch.equal(out, expected)


def test_penalty_with_empty_history_changes_nothing():
    logits = torch.tensor([[1.0, -1.0, 2.0, 0.0, 5.0]])
    out = penalize(logits, torch.empty(1, 0, dtype=torch.long), _rep(penalty=2.0))
    assert torch.equal(out, logits)


# -- penalize: n-gram ban -----------------------------------------------------------------------


def test_ngram_ban_forbids_the_successor_of_each_earlier_match_per_row():
    logits = torch.tensor([[0.0, 1.0, 2.0, 3.0, 4.0], [0.0, 1.0, 2.0, 3.0, 4.0]])
    history = torch.tensor([
        [1, 2, 4, 1, 0, 1, 2],  # suffix (1, 2) seen once before, followed by 4
        [3, 3, 3, 0, 3, 1, 3],  # suffix (1, 3): never seen before -> nothing banned
    ])  # fmt: skip
    out = penalize(logits, history, _rep(ngram=3))
    expected = torch.tensor([[0.0, 1.0, 2.0, 3.0, INF], [0.0, 1.0, 2.0, 3.0, 4.0]])
    assert torch.equal(out, expected)


def test_ngram_ban_collects_every_successor_of_the_suffix():
    logits = torch.tensor([[0.0, 1.0, 2.0, 3.0, 4.0], [0.0, 1.0, 2.0, 3.0, 4.0]])
    history = torch.tensor([
        [3, 3, 3, 0, 3, 3],  # (3, 3) was followed by 3 and by 0
        [2, 4, 1, 0, 2, 4],  # (2, 4) was followed by 1
    ])  # fmt: skip
    out = penalize(logits, history, _rep(ngram=3))
    expected = torch.tensor([[INF, 1.0, 2.0, INF, 4.0], [0.0, INF, 2.0, 3.0, 4.0]])
    assert torch.equal(out, expected)


def test_ngram_ban_of_bigrams_bans_what_followed_the_last_token():
    logits = torch.tensor([[5.0, 5.0, 5.0, 5.0, 5.0]])
    history = torch.tensor([[2, 0, 2, 1, 4, 2]])  # 2 was followed by 0 and by 1
    out = penalize(logits, history, _rep(ngram=2))
    assert torch.equal(out, torch.tensor([[INF, INF, 5.0, 5.0, 5.0]]))


def test_ngram_ban_needs_a_history_of_at_least_n():
    logits = torch.tensor([[0.0, 1.0, 2.0, 3.0, 4.0]])
    history = torch.tensor([[1, 1, 1]])
    assert torch.equal(penalize(logits, history, _rep(ngram=4)), logits)
    assert torch.equal(penalize(logits, history, _rep(ngram=3))[0, 1], torch.tensor(INF))


def test_penalty_and_ngram_ban_apply_together():
    logits = torch.tensor([[2.0, -2.0, 1.0, 4.0, 8.0]])
    history = torch.tensor([[0, 1, 0, 4, 0, 1]])  # window 2: tokens 0, 1; (0, 1) -> 0 earlier
    out = penalize(logits, history, _rep(penalty=2.0, window=2, ngram=3))
    assert torch.equal(out, torch.tensor([[INF, -4.0, 1.0, 4.0, 8.0]]))


# -- penalize: the cap on a run of neutral tokens ---------------------------------------------


def test_a_neutral_token_is_banned_once_it_has_run_as_long_as_allowed_per_row():
    logits = torch.zeros(3, 5)
    neutral = torch.tensor([False, False, False, True, True])  # 3 and 4: a hold, a rest
    history = torch.tensor([
        [1, 3, 3, 3],  # three holds in a row: the cap -> hold banned
        [3, 3, 4, 3],  # mixed neutral tokens: no run of three -> nothing banned
        [2, 1, 1, 1],  # a run of a note, which the cap does not concern
    ])  # fmt: skip
    rep = RepetitionConfig(repetition_penalty=1.3, max_neutral_run=3)
    out = penalize(logits, history, rep, neutral)
    assert out[0].tolist() == [0.0, 0.0, 0.0, INF, 0.0]
    assert out[1].tolist() == [0.0, 0.0, 0.0, 0.0, 0.0]
    assert out[2, 3:].tolist() == [0.0, 0.0]  # (the penalty scales only positive logits)
    assert torch.equal(penalize(logits, history[:, :3], rep, neutral)[0], torch.zeros(5))  # 2 holds


def test_longest_run_counts_the_longest_repetition_of_the_given_ids():
    stream = np.array([5, 7, 7, 1, 7, 7, 7, 2, 8, 8, 8, 8, 7])
    assert longest_run(stream, [7]) == 3
    assert longest_run(stream, [7, 8]) == 4
    assert longest_run(stream, [9]) == 0


def test_penalize_is_the_identity_when_switched_off():
    logits = torch.tensor([[2.0, -1.0, 0.5, -2.0, 4.0], [0.0, 1.0, 2.0, 3.0, 4.0]])
    history = torch.tensor([[0, 1, 2, 3, 0, 1, 2, 3], [4, 4, 4, 4, 4, 4, 4, 4]])
    out = penalize(logits, history, _rep(penalty=1.0, ngram=0))
    assert torch.equal(out, logits)


# -- split_pieces -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("n", "fraction", "n_val"),
    [(10, 0.2, 2), (10, 0.25, 2), (7, 0.5, 4), (3, 0.01, 1), (2, 0.1, 1), (1, 0.5, 0), (0, 0.5, 0),
     (10, 0.0, 0)],
)  # fmt: skip
def test_split_pieces_sizes_and_partition(n, fraction, n_val):
    train, val = split_pieces(n, fraction, seed=0)
    assert len(val) == n_val and len(train) == n - n_val
    assert not set(train.tolist()) & set(val.tolist())
    assert sorted(train.tolist() + val.tolist()) == list(range(n))
    assert train.tolist() == sorted(train.tolist()) and val.tolist() == sorted(val.tolist())


def test_split_pieces_is_deterministic_by_seed():
    a_train, a_val = split_pieces(20, 0.25, seed=7)
    b_train, b_val = split_pieces(20, 0.25, seed=7)
    assert np.array_equal(a_train, b_train) and np.array_equal(a_val, b_val)
    others = [split_pieces(20, 0.25, seed=s)[1].tolist() for s in range(8, 12)]
    assert any(v != a_val.tolist() for v in others)


# -- token_stream -------------------------------------------------------------------------------


def _corpus() -> Corpus:
    """Three pieces: [a b c], [b z], [a], where z is not in the vocabulary below."""
    return Corpus(
        tokens=["a", "b", "c", "z"],
        ids=np.array([0, 1, 2, 1, 3, 0], dtype=np.uint16),
        offsets=np.array([0, 3, 5, 6], dtype=np.int64),
        piece_file=np.array([0, 0, 1], dtype=np.int32),
        files=["one.abc", "two.abc"],
    )


def test_token_stream_wraps_pieces_and_maps_unknown_tokens():
    vocab = Vocab(["a", "b", "c"])  # <pad>=0 <start>=1 <end>=2 <unk>=3 a=4 b=5 c=6
    corpus = _corpus()
    out = token_stream(corpus, [0, 1, 2], vocab)
    assert out.dtype == np.uint16
    assert out.tolist() == [1, 4, 5, 6, 2, 1, 5, 3, 2, 1, 4, 2]
    assert token_stream(corpus, [2, 0], vocab).tolist() == [1, 4, 2, 1, 4, 5, 6, 2]
    assert token_stream(corpus, [1], vocab).tolist() == [1, 5, 3, 2]
    assert token_stream(corpus, [], vocab).tolist() == []


def test_token_stream_uses_the_vocabularys_ids_not_the_corpus_ids():
    vocab = Vocab(["c", "z"])  # c=4 z=5; a and b are unknown
    assert token_stream(_corpus(), [0, 1], vocab).tolist() == [1, 3, 3, 4, 2, 1, 3, 5, 2]


# -- Windows ----------------------------------------------------------------------------------


def test_windows_count_and_batches_per_epoch():
    assert Windows(np.arange(11), seq_len=3, batch_size=2).n_windows == 3
    assert Windows(np.arange(10), seq_len=3, batch_size=2).n_windows == 3
    assert Windows(np.arange(9), seq_len=3, batch_size=2).n_windows == 2  # no target for 3rd
    assert Windows(np.arange(1), seq_len=3, batch_size=2).n_windows == 0
    assert Windows(np.arange(11), seq_len=3, batch_size=2).batches_per_epoch() == 2
    assert Windows(np.arange(41), seq_len=4, batch_size=3).batches_per_epoch() == 4
    assert Windows(np.arange(41), seq_len=4, batch_size=5).batches_per_epoch() == 2


def test_windows_batch_gives_inputs_and_next_token_targets():
    w = Windows(np.arange(100, 111, dtype=np.uint16), seq_len=3, batch_size=2)
    inputs, targets = w.batch(np.array([2, 0]))
    assert inputs.dtype == np.int64 and targets.dtype == np.int64
    assert inputs.tolist() == [[106, 107, 108], [100, 101, 102]]
    assert targets.tolist() == [[107, 108, 109], [101, 102, 103]]


def _epoch(w: Windows, seed: int, epoch: int, start: int = 0) -> list[tuple[int, list, list]]:
    return [(b, x.tolist(), y.tolist()) for b, (x, y) in w.epoch_batches(seed, epoch, start)]


def test_epoch_batches_visit_every_window_once():
    w = Windows(np.arange(41), seq_len=4, batch_size=3)  # 10 windows: batches of 3, 3, 3, 1
    batches = _epoch(w, seed=5, epoch=0)
    assert [b for b, _, _ in batches] == [0, 1, 2, 3]
    assert [len(x) for _, x, _ in batches] == [3, 3, 3, 1]
    firsts = [row[0] // 4 for _, x, _ in batches for row in x]
    assert sorted(firsts) == list(range(10))
    for _, x, y in batches:
        for xi, yi in zip(x, y, strict=True):
            assert xi == list(range(xi[0], xi[0] + 4)) and yi == [v + 1 for v in xi]


def test_epoch_batches_are_fixed_by_seed_and_epoch_and_resume_exactly():
    w = Windows(np.arange(41), seq_len=4, batch_size=3)
    full = _epoch(w, seed=5, epoch=1)
    assert _epoch(w, seed=5, epoch=1) == full
    assert _epoch(w, seed=5, epoch=2) != full
    assert _epoch(w, seed=6, epoch=1) != full
    for k in range(5):
        assert _epoch(w, seed=5, epoch=1, start=k) == full[k:]


# -- split_tunes --------------------------------------------------------------------------------

ABC = r"""%abc-2.1
T:Before any tune
K:C
abc |

X:1
T:First
S:Some source
Z:A transcriber
N:A note
M:4/4
L:1/8
K:G
% a whole-line comment
abc def | % a trailing comment
ga\%b |

stray text after a blank line
X:2
T:No key
M:3/4
abc |

X:3
T:Header only
K:D

X:4
T:Last
K:C
c2 c2 |
X:5
K:F
fga |
"""


def test_split_tunes_cleans_and_splits():
    assert split_tunes(ABC) == [
        "T:First\nM:4/4\nL:1/8\nK:G\nabc def |\nga\\%b |",
        "T:Last\nK:C\nc2 c2 |",
        "K:F\nfga |",
    ]


def test_split_tunes_without_titles():
    assert split_tunes(ABC, keep_titles=False) == [
        "M:4/4\nL:1/8\nK:G\nabc def |\nga\\%b |",
        "K:C\nc2 c2 |",
        "K:F\nfga |",
    ]


def test_split_tunes_blank_line_ends_a_tune_but_a_comment_line_does_not():
    assert split_tunes("X:1\nK:C\nabc\n\ndef\n") == ["K:C\nabc"]
    assert split_tunes("X:1\nK:C\nabc\n%comment\ndef\n") == ["K:C\nabc\ndef"]
    assert split_tunes("X:1\nK:C\nabc\n   % indented comment\ndef\n") == ["K:C\nabc\ndef"]


@pytest.mark.parametrize(
    ("generated", "kept"),
    [
        # Cut in the middle of a bar: back to the last bar line.
        (
            "T:x\nM:4/4\nL:1/8\nK:G\nD2 | G3AB2c2 |\nd2d2 | d2d",
            "T:x\nM:4/4\nL:1/8\nK:G\nD2 | G3AB2c2 |\nd2d2 |",
        ),
        # Still in the header (a `|` there is not a bar line), or no bar line yet: kept whole.
        ("T:a|b\nM:4/4\nL:1", "T:a|b\nM:4/4\nL:1"),
        ("T:x\nK:G\nabc", "T:x\nK:G\nabc"),
    ],
)
def test_an_abc_tune_stopped_by_the_length_limit_ends_at_its_last_bar_line(generated, kept):
    assert AbcCharTokenizer().cut_off(list(generated)) == list(kept)


def test_split_tunes_without_x_header_finds_nothing():
    assert split_tunes("T:Loose\nK:C\nabc |\n") == []


def test_a_neutral_run_ends_at_the_cap_of_the_token_it_follows():
    # 3 is a hold: after note 1 the data held it at most 2 steps, after rest 2 at most 4;
    # no cap recorded after note 4, so the overall `max_neutral_run` (3) applies.
    logits = torch.zeros(4, 5)
    neutral = torch.tensor([False, False, False, True, False])
    caps = torch.tensor([0, 2, 4, 0, 0])
    history = torch.tensor([
        [2, 1, 3, 3],  # note 1 held 2 steps: its cap
        [0, 2, 3, 3],  # rest 2 held 2 of its 4
        [4, 3, 3, 3],  # note 4 held 3: the overall cap
        [3, 3, 3, 3],  # a run with nothing before it: the overall cap
    ])  # fmt: skip
    rep = RepetitionConfig(repetition_penalty=1.3, max_neutral_run=3)
    held = penalize(logits, history, rep, neutral, caps)[:, 3]
    assert held.tolist() == [INF, 0.0, INF, INF]
    no_overall = RepetitionConfig(repetition_penalty=1.3)
    assert penalize(logits, history, no_overall, neutral, caps)[:, 3].tolist() == [INF, 0, 0, 0]


def test_longest_runs_after_records_the_longest_run_following_each_token():
    stream = np.array([7, 7, 5, 7, 7, 7, 2, 7, 5, 7, 8, 8, 8, 8, 2, 7])
    assert longest_runs_after(stream, [7]) == {5: 3, 2: 1}  # the opening run follows nothing
    assert longest_runs_after(stream, [7, 8]) == {5: 3, 2: 1, 7: 4}
    assert longest_runs_after(stream, [9]) == {}
