"""`mgen bench -s scale`: MIDI at collection scale (not in the default sections).

- A synthetic corpus of 20,000 small MIDI files (--quick: 200) is written into the bench's
  temporary folder, then, each in a fresh process: its first parse (every core, symusic) with the
  peak RSS of the parsing process and of its largest worker; a cached start (memory-mapped ids);
  the time from a fresh `python` to the first training step of lstm2 on it (cached corpus).
- A synthetic Lakh-like multi-track corpus of 2,000 songs (--quick: 100; 4 to 12 tracks, drums
  on channel 10, program changes: mgen.bench.synthetic_tracks), read by the Score reader
  (`read_midi`) on every core in a fresh process; and tokenized by `midi-tracks` when installed.
- piano-midi (../shared/data) parsed side by side by the old reader (miditoolkit) and symusic,
  for midi-notes and midi-chords; then the full checks on piano-midi and bach-midi (when
  written): read -> write -> read gives the same tokens and every quantized note, and both
  readers give the same tokens (mgen.bench.midi_checks).

docs/scale.md plans the Lakh MIDI set from these figures.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mgen.bench.common import fig, ratio

if TYPE_CHECKING:
    from mgen.bench import Bench

SYNTHETIC_FILES = 20_000
MULTITRACK_FILES = 2_000
MULTITRACK_TARGET = 1_000  # files/s through read_midi on 2 cores (issue 28)
GIB = 2**30


def scale(b: Bench) -> None:
    from mgen.bench import midi_checks, synthetic

    n = 200 if b.cfg.quick else SYNTHETIC_FILES
    folder = b.tmp / "scale" / "synthetic"
    t0 = time.perf_counter()
    files = synthetic.write_corpus(folder, n)
    took = time.perf_counter() - t0
    size = sum(f.stat().st_size for f in files)
    b.add("scale", f"synthetic corpus: {n:,} MIDI files written", f"{fig(n / took)} files/s",
          f"{fig(size / 2**20)} MiB in {-(-n // synthetic.FILES_PER_SHARD)} folder(s), {fig(took)} s "
          "(temporary)")  # fmt: skip
    synthetic_figures(b, folder, n)
    multitrack_figures(b)
    midi_checks.compare_readers(b)
    midi_checks.full_checks(b)


def synthetic_figures(b: Bench, folder: Path, n: int) -> None:
    """First parse, cached start and first training step, each in a fresh process."""
    cache = b.tmp / "scale" / "cache"
    parse = child(b, "parse", folder, cache)
    rss = max(parse["rss_self"], parse["rss_children"])
    b.add("scale", "synthetic corpus first parse (midi-notes, symusic)",
          f"{fig(n / parse['seconds'])} files/s",
          f"{parse['tokens']:,} tokens, {fig(parse['seconds'])} s, {os.cpu_count()} processes")  # fmt: skip
    b.add("scale", "synthetic corpus parse: peak RSS", f"{fig(rss / 2**20)} MiB",
          f"parsing process {fig(parse['rss_self'] / 2**20)} MiB, largest worker "
          f"{fig(parse['rss_children'] / 2**20)} MiB; target < 2 GiB: "
          f"{'met' if rss < 2 * GIB else 'missed'}")  # fmt: skip
    cached = child(b, "cached", folder, cache)
    b.add("scale", "synthetic corpus cached start", f"{fig(cached['seconds'] * 1000)} ms",
          f"{fig(n / cached['seconds'])} files/s, {ratio(parse['seconds'] / cached['seconds'])} "
          f"the first parse; peak RSS {fig(cached['rss_self'] / 2**20)} MiB (ids "
          "memory-mapped)")  # fmt: skip
    first = child(b, "train", folder, cache)
    b.add("scale", "synthetic corpus: time to first training step", f"{fig(first['seconds'])} s",
          f"fresh python to one lstm2 step (cached corpus, {first['pieces']:,} training pieces, "
          f"{first['device']}); peak RSS {fig(first['rss_self'] / 2**20)} MiB")  # fmt: skip


def multitrack_figures(b: Bench) -> None:
    """The multi-track corpus: written, read into Scores on every core, and tokenized."""
    from mgen.bench import synthetic_tracks
    from mgen.core.contracts import registry

    n = 100 if b.cfg.quick else MULTITRACK_FILES
    folder = b.tmp / "scale" / "multitrack"
    t0 = time.perf_counter()
    synthetic_tracks.write_corpus(folder, n)
    took = time.perf_counter() - t0
    read = child(b, "read", folder, b.tmp / "scale" / "cache-tracks")
    b.add("scale", f"multi-track corpus: {n:,} songs written", f"{fig(n / took)} files/s",
          f"{fig(took)} s; {read['tracks'][0]}-{read['tracks'][1]} tracks a song, drums in "
          f"{read['drums']:,} songs, {fig(read['notes'] / n)} notes a song")  # fmt: skip
    rate = n / read["seconds"]
    b.add("scale", "multi-track corpus read (read_midi, symusic)", f"{fig(rate)} files/s",
          f"fresh python, imports included, {os.cpu_count()} processes; target "
          f"{MULTITRACK_TARGET:,} on 2 cores: {'met' if rate >= MULTITRACK_TARGET else 'missed'}; "
          f"{fig(n / read['reading'])} files/s in the pool alone, "
          f"{fig(n / read['cpu'] * (os.cpu_count() or 1))} from its CPU time (as if idle)")  # fmt: skip
    if "midi-tracks" not in registry.names("tokenizer"):
        return
    try:
        tokens = child(b, "tokens", folder, b.tmp / "scale" / "cache-tracks")
    except RuntimeError as e:  # another plugin's failure: a row, not the end of the section
        b.add("scale", "multi-track corpus first parse (midi-tracks)", "failed", str(e))
    else:
        b.add("scale", "multi-track corpus first parse (midi-tracks)",
              f"{fig(n / tokens['seconds'])} files/s",
              f"{tokens['tokens']:,} tokens, {fig(tokens['seconds'])} s, {os.cpu_count()} "
              "processes")  # fmt: skip


def child(b: Bench, mode: str, folder: Path, cache: Path) -> dict[str, Any]:
    """Run one measurement in a fresh interpreter (not importing mgen.bench, which imports
    torch); its JSON figures."""
    env = {**os.environ, "MGEN_CACHE_DIR": str(cache)}
    code = _HEAD + {"train": _TRAIN, "read": _READ, "tokens": _TOKENS}.get(mode, _PARSE) + _TAIL
    args = [sys.executable, "-c", code, str(folder), str(b.tmp / "scale"), str(b.device),
            "1" if b.cfg.quick else "0"]  # fmt: skip
    out = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
    lines = [ln for ln in out.stdout.splitlines() if ln.startswith("{")]
    if out.returncode != 0 or not lines:
        tail = (out.stderr.strip().splitlines() or ["no output"])[-1]
        raise RuntimeError(f"scale child {mode} failed: {tail}")
    return json.loads(lines[-1])


#: The child programs: the clock starts before mgen is imported, as a user's command's would.
_HEAD = """
import json, resource, sys, time
t0 = time.perf_counter()
from pathlib import Path
folder, tmp, device, quick = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3], sys.argv[4] == "1"
"""
_PARSE = """
from mgen.plugins.tokenizers.midi_notes import MidiNotesTokenizer
from mgen.core.data.corpus import find_files, load_corpus
tok = MidiNotesTokenizer()
files = find_files([folder], tok.format.patterns)
corpus = load_corpus(tok, files, progress=False, warn=lambda m: None)
figures = {"tokens": int(corpus.offsets[-1]), "cached": corpus.from_cache}
"""
# Read the (cached) corpus, build lstm2 and take one step, as `mgen train` does.
_TRAIN = """
from mgen.plugins.tokenizers.midi_notes import MidiNotesTokenizer
from mgen.core.data.prepare import prepare_data
from mgen.core.training.train_config import TrainConfig
from mgen.core.training.signals import set_threads
from mgen.core.training.trainer import Trainer
small = {"hidden_size": 32, "embed_dim": 16} if quick else {}
cfg = TrainConfig(tokenizer="midi-notes", model="lstm2", max_steps=1, device=device,
                  model_options=small)
data = prepare_data(MidiNotesTokenizer(), [str(folder)], seq_len=cfg.seq_len,
                    batch_size=cfg.batch_size, log=lambda m: None, progress=False)
set_threads()
trainer = Trainer(cfg, tmp / "first-step", data, log=lambda m: None, progress=False)
_, (x, y) = next(iter(data.train.epoch_batches(cfg.seed, 0)))
trainer.step(x, y)
figures = {"pieces": data.summary["train_pieces"], "device": str(trainer.device)}
"""
# Every file read into a Score on every core (fork: the workers inherit the imports).
_READ = """
import multiprocessing as mp, os
from mgen.formats.midi.read import read_midi
def shape(path):
    s = read_midi(path)
    return len(s.tracks), sum(len(t) for t in s.tracks), any(t.is_drum for t in s.tracks)
files = sorted(folder.rglob("*.mid"))
t1, c1 = time.perf_counter(), os.times()
with mp.get_context("fork").Pool(os.cpu_count()) as pool:
    rows = pool.map(shape, files, chunksize=32)
c2 = os.times()
tracks = [r[0] for r in rows]
figures = {"reading": time.perf_counter() - t1, "tracks": [min(tracks), max(tracks)],
           "cpu": sum(c2[:4]) - sum(c1[:4]),
           "notes": sum(r[1] for r in rows), "drums": sum(r[2] for r in rows)}
"""
_TOKENS = """
from mgen.core.contracts import registry
from mgen.core.data.corpus import find_files, load_corpus
tok = registry.load("tokenizer", "midi-tracks")()
files = find_files([folder], tok.format.patterns)
corpus = load_corpus(tok, files, progress=False, warn=lambda m: None)
figures = {"tokens": int(corpus.offsets[-1])}
"""
_TAIL = """
figures["seconds"] = time.perf_counter() - t0
kb = 1 if sys.platform == "darwin" else 1024
figures["rss_self"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * kb
try:  # Linux: ru_maxrss keeps the forking parent's size across exec; VmHWM is this program's
    hwm = [ln for ln in open("/proc/self/status") if ln.startswith("VmHWM:")][0]
    figures["rss_self"] = int(hwm.split()[1]) * 1024
except (OSError, IndexError, ValueError):
    pass
figures["rss_children"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * kb
print(json.dumps(figures))
"""
