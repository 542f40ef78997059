"""`mgen bench`: every section runs and prints positive figures with their units, on any
processor (no timing thresholds, and nothing assumes native bf16)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"

#: One row every section must print, as (section, part of the measurement's name).
EXPECTED = [
    ("machine", "processor"),
    ("machine", "mgen's fastest setting"),
    ("peak", "fp32 measured peak"),
    ("peak", "bf16 measured peak"),
    ("preprocess", "folk-abc (abc-char) first parse"),
    ("preprocess", "folk-abc (abc-char) cached start"),
    ("train", "rnn fp32"),
    ("train", "lstm fp32"),
    ("train", "seed-002 fp32"),
    ("train", "lstm2 plain-fp32"),
    ("train", "lstm2 plain-fp32 validation loss"),
    ("train", "lstm2 batch building"),
    ("sample", "lstm2 batch 1, carried state"),
    ("sample", "lstm2 64 concurrent samples"),
    ("sample", "window re-run per token"),
    ("latency", "per token, stream at batch 1"),
    ("latency", "concurrent streams, per token"),
    ("memory", "peak RSS"),
    ("threads", "PASSIVE, alone"),
    ("threads", "ACTIVE, beside a busy process"),
]


#: A figure printed as zero: "0", "0.0" or "0.00" followed by a space, a unit, % or x.
ZERO = re.compile(r"(?<![\d.,+-])0(?:\.0*)?(?=[ %x]|$)")


@pytest.mark.slow
def test_quick_bench_prints_every_section(cli, tmp_path: Path):
    out = tmp_path / "bench.json"
    shared = SHARED_DATA if SHARED_DATA.is_dir() else tmp_path / "absent"
    result = cli("bench", "--quick", "--shared-data", shared, "--json", out)
    assert result.exit_code == 0, result.output
    rows = json.loads(out.read_text())
    table = [line for line in result.stdout.splitlines() if line.startswith("| ")]
    assert len(table) == len(rows) + 1  # the header, then one line per row
    for section, item in EXPECTED:
        assert any(r["section"] == section and item in r["item"] for r in rows), (section, item)
    # Every figure is a positive number with its unit (no timing thresholds), and none in a
    # value or a note was rounded to zero.
    for r in rows:
        if r["section"] in ("peak", "train", "sample", "latency", "memory", "threads"):
            number = re.match(r"[\d,.]+", r["value"])
            assert number and float(number.group().replace(",", "")) > 0, r
            # (a latency note counts lost and stalled streams, where 0 is the figure aimed at)
            text = r["value"] if r["section"] == "latency" else f"{r['value']} | {r['note']}"
            assert not ZERO.search(text), r
    if SHARED_DATA.is_dir():
        assert any("essen-deutschl-kern" in r["item"] for r in rows)
        assert any("piano-midi" in r["item"] for r in rows)


def test_quick_latency_section_times_every_shipped_model_and_counts_lost_streams(cli, tmp_path):
    from mgen.core.runs import shipped

    out = tmp_path / "bench.json"
    result = cli("bench", "--quick", "--section", "latency", "--json", out)
    assert result.exit_code == 0, result.output
    rows = [r for r in json.loads(out.read_text()) if r["section"] == "latency"]
    for name in shipped.names():
        row = next(r for r in rows if r["item"].startswith(f"{name}: per token"))
        assert re.fullmatch(r"[\d.,]+ / [\d.,]+ / [\d.,]+ ms", row["value"]), row
        assert "the model step alone" in row["note"]
    many = next(r for r in rows if "concurrent streams" in r["item"])
    assert "lost 0, stalled" in many["note"], many


def test_bench_rejects_unknown_section(cli):
    result = cli("bench", "--quick", "--section", "nope")
    assert result.exit_code != 0
    assert "unknown section" in result.stderr


def test_figures_keep_significant_digits_and_never_round_to_zero():
    from mgen.bench.common import fig

    assert fig(0.4213) == "0.421"  # a slow CPU's 64-square product, once printed as "0"
    assert fig(0.000123) == "0.000123"
    assert fig(42.06) == "42.1"
    assert fig(999.7) == "1,000"
    assert fig(69_283) == "69,300"
    assert fig(0) == "0"
    for x in (1e-9, 0.004, 0.5, 3.0, 1e7):
        assert not ZERO.search(fig(x)) and float(fig(x).replace(",", "")) > 0, x


def test_quick_peak_without_native_bf16_times_emulated_bf16_once(monkeypatch):
    """An AVX2-only processor (e.g. AMD Zen 3): no bf16 in hardware. The peak section times
    bf16 once, at a small size, marks it emulated, and `auto` picks fp32."""
    import mgen.bench.machine
    import mgen.core.training.device
    from mgen.bench import Bench, BenchConfig

    monkeypatch.setattr(mgen.core.training.device, "cpu_has_native_bf16", lambda: False)
    monkeypatch.setattr(mgen.bench.machine, "cpu_flags", lambda: {"avx", "avx2", "fma"})
    bench = Bench(BenchConfig(quick=True, device="cpu"))
    rows = {(r.section, r.item): r for r in bench.run(("machine", "peak"))}
    assert rows["machine", "native bf16 instructions"].value == "none"
    assert rows["machine", "mgen's fastest setting"].value == "fp32"
    bf16 = [r for (section, item), r in rows.items() if item.startswith("bf16 matmul")]
    assert len(bf16) == 1 and "emulated" in bf16[0].note
    assert bf16[0].item == "bf16 matmul (torch.mm) square 64"  # named by the size timed
    assert float(bf16[0].value.split()[0].replace(",", "")) > 0
    assert "emulated" in rows["peak", "bf16 measured peak (best above)"].note
    for (section, item), r in rows.items():
        if section == "peak":  # --quick times 64x64 products only, and says so
            assert ("64" in item or "measured peak" in item) and not ZERO.search(r.value), r


def test_bench_command_does_not_import_torch():
    """`mgen --help` stays fast: the bench's CLI module imports the library only when run."""
    code = "import sys, mgen.cli.bench; assert 'torch' not in sys.modules, 'torch imported'"
    subprocess.run([sys.executable, "-c", code], check=True)
