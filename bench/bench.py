#!/usr/bin/env python3
"""Benchmark churnflow against the Python reference pipeline, in one invocation, on the same data.

For each data shape and size it makes the transactions (reused when present), then runs, `--runs`
times each and in alternation so that machine noise hits both sides alike:

  churnflow: ingest (CSV -> warehouse), features (as of the scoring day), train (features at every
             training cutoff, alpha grid, out-of-time validation), score (scores, lists, report),
             and the whole nightly `run` on a fresh workdir;
  reference: ../shared/bench/baseline.py with --engine polars and --engine pandas on the same CSV.

Shapes (`--shapes`, default both): `generate` is `churnflow generate` (about 12.8 rows per customer
over two years, order ids, quantities); `synth` is `../shared/bench/gen_synth.py` (BG/NBD buyers,
about 7.8 rows per customer, many short histories; customer_id, date, amount only), made with the
reference's own virtualenv. Each shape has its own pipeline, scoring day and reference cutoffs.

Wall time is measured around each process; peak memory is the process's maximum resident set size
(getrusage of the child). Medians go to a Markdown table (default bench/RESULTS.md). Only the Python
standard library is used here; the reference runs in its own virtualenv.

    python3 bench/bench.py --sizes 1e6,1e7 --runs 3 [--shapes generate,synth] [--incremental]

Model quality is printed next to the times: the validation ROC AUC of the model the whole `run`
trained (from its model.json) and the reference's test ROC AUC.
"""

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ROWS_PER_CUSTOMER = 12.8  # what `churnflow generate` yields on average over its default 730 days
LAST_DAY = "2024-12-30"  # `churnflow generate` defaults: 730 days from 2023-01-01
SYNTH_LAST_DAY = "2023-12-31"  # gen_synth.py defaults: 2022-01-01 .. 2023-12-31

PIPELINE = """name = "bench"
workdir = "{workdir}"
[source]
path = "{csv}"
[source.columns]
customer_id = "customer_id"
timestamp = "order_date"
amount = "amount"
order_id = "order_id"
quantity = "quantity"
"""

SYNTH_PIPELINE = """name = "bench-synth"
workdir = "{workdir}"
[source]
path = "{csv}"
[source.columns]
customer_id = "customer_id"
timestamp = "date"
amount = "amount"
[label]
horizon_days = 90
[population]
active_within_days = 365
"""


def measure(cmd, log):
    """Runs cmd; returns (wall seconds, peak RSS bytes). Fails loudly with the log's tail."""
    t = time.perf_counter()
    with open(log, "ab") as out:
        out.write(("$ " + " ".join(map(str, cmd)) + "\n").encode())
        out.flush()
        p = subprocess.Popen([str(c) for c in cmd], stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        tail = Path(log).read_text(errors="replace").splitlines()[-15:]
        sys.exit(f"failed ({code}): {' '.join(map(str, cmd))}\n" + "\n".join(tail))
    return wall, usage.ru_maxrss * 1024


def generate(binary, size, data_dir, log):
    folder = data_dir / f"gen_{size:.0e}".replace("+", "")
    csv = folder / "transactions.csv"
    if not csv.exists():
        customers = max(100, int(size / ROWS_PER_CUSTOMER))
        print(f"generating ~{size:.0e} rows ({customers} customers) in {folder}", flush=True)
        measure([binary, "-q", "generate", "--out", folder, "--customers", customers,
                 "--seed", "7"], log)
    with open(csv, "rb") as f:
        rows = sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 24), b"")) - 1
    return csv, rows


def gen_synth(python, ref_dir, size, data_dir, log):
    """The reference's synthetic shape (gen_synth.py, its default seed) at `size` rows."""
    stem = data_dir / f"synth_{size:.0e}".replace("+", "")
    csv = stem.with_suffix(".csv")
    if not csv.exists():
        print(f"generating ~{size:.0e} rows with gen_synth.py into {csv}", flush=True)
        measure([python, ref_dir / "gen_synth.py", "--txns", f"{size:.0e}", "--out", stem], log)
    with open(csv, "rb") as f:
        rows = sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 24), b"")) - 1
    return csv, rows


class Shape:
    """A data shape: how its data is made, its pipeline, its last day and the reference's
    cutoffs (a training cutoff and an out-of-time test cutoff 90 days later)."""

    def __init__(self, name, pipeline, date_col, last_day, cutoffs, make):
        self.name, self.pipeline, self.date_col = name, pipeline, date_col
        self.last_day, self.cutoffs, self.make = last_day, cutoffs, make


def shapes(binary, python, ref_dir):
    return {
        "generate": Shape("generate", PIPELINE, "order_date", LAST_DAY,
                          ("2024-06-30", "2024-09-30"),
                          lambda size, d, log: generate(binary, size, d, log)),
        "synth": Shape("synth", SYNTH_PIPELINE, "date", SYNTH_LAST_DAY,
                       ("2023-03-31", "2023-06-30"),
                       lambda size, d, log: gen_synth(python, ref_dir, size, d, log)),
    }


def validation_auc(workdir):
    """The validation ROC AUC of the current model of a workdir (None without one)."""
    registry = workdir / "models" / "registry.json"
    if not registry.exists():
        return None
    current = json.loads(registry.read_text()).get("current")
    if not current:
        return None
    model = json.loads((workdir / "models" / current / "model.json").read_text())
    return model["metrics"]["validation"]["roc_auc"]


def churnflow_round(binary, shape, csv, work, log):
    """One pass over the stages and one whole `run`; returns {stage: (wall, rss)} and the
    whole run's validation ROC AUC under "auc"."""
    res = {}
    for name in ("stages", "run"):
        wd = work / name
        if wd.exists():
            shutil.rmtree(wd)
        wd.mkdir(parents=True)
        (wd / "bench.toml").write_text(shape.pipeline.format(workdir=wd / "work", csv=csv))
    pipeline = work / "stages" / "bench.toml"
    res["ingest"] = measure([binary, "-q", "ingest", pipeline], log)
    res["features"] = measure([binary, "-q", "features", "--as-of", shape.last_day, pipeline],
                              log)
    res["train"] = measure([binary, "-q", "train", pipeline], log)
    res["score"] = measure([binary, "-q", "score", pipeline], log)
    res["run"] = measure([binary, "-q", "run", work / "run" / "bench.toml"], log)
    res["auc"] = (validation_auc(work / "run" / "work"), None)
    return res


def reference_round(python, ref_dir, engine, shape, csv, log):
    train_cutoff, test_cutoff = shape.cutoffs
    before = Path(log).stat().st_size if Path(log).exists() else 0
    wall, rss = measure([python, ref_dir / "baseline.py", "--engine", engine, "--input", csv,
                         "--date-col", shape.date_col, "--train-cutoff", train_cutoff,
                         "--test-cutoff", test_cutoff, "--horizon-days", "90",
                         "--window-days", "365"], log)
    with open(log, "rb") as f:
        f.seek(before)
        text = f.read().decode(errors="replace")
    result = json.loads([l for l in text.splitlines() if l.startswith("RESULT ")][-1][7:])
    t = result["timings"]
    return {"run": (wall, rss), "ingest": (t["ingest_s"], None),
            "features": (t["features_s"], None), "train": (t["train_s"], None),
            "score": (t["score_s"], None)}, result


def incremental(binary, shape, csv, work, log, runs, reference):
    """A nightly delivery of one day on top of everything before it: night 1 ingests the history
    and trains; each measured night 2 starts from night 1's workdir and adds the last day's file,
    and is followed by `reference()` (the reference's whole runs, so both see the same noise).
    Returns ((night-1 wall, rss), [(night-2 wall, rss)], day's rows, [reference()])."""
    base = work / "incremental"
    shutil.rmtree(base, ignore_errors=True)
    (base / "src").mkdir(parents=True)
    day_file = base / "day.csv"
    with open(csv) as f, open(base / "src" / "history.csv", "w") as hist, \
            open(day_file, "w") as day:
        header = f.readline()
        hist.write(header)
        day.write(header)
        date_col = header.strip().split(",").index(shape.date_col)
        day_rows = 0
        for line in f:
            if line.split(",")[date_col].startswith(shape.last_day):
                day.write(line)
                day_rows += 1
            else:
                hist.write(line)
    pipeline = base / "bench.toml"
    pipeline.write_text(shape.pipeline.format(workdir=base / "work", csv=base / "src"))
    night1 = measure([binary, "-q", "run", pipeline], log)
    shutil.copytree(base / "work", base / "after_night1")
    nights, refs = [], []
    for _ in range(runs):
        shutil.rmtree(base / "work")
        shutil.copytree(base / "after_night1", base / "work")
        shutil.copy(day_file, base / "src" / "day.csv")
        nights.append(measure([binary, "-q", "run", pipeline], log))
        (base / "src" / "day.csv").unlink()
        refs.append(reference())
    shutil.rmtree(base, ignore_errors=True)
    return night1, nights, day_rows, refs


def median(rounds, stage, i):
    vals = [r[stage][i] for r in rounds if r[stage][i] is not None]
    return statistics.median(vals) if vals else None


def fmt_s(x):
    return "" if x is None else f"{x:.2f}"


def fmt_gb(x):
    return "" if x is None else f"{x / 1e9:.2f}"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="1e6,1e7", help="comma-separated row counts")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--data-dir", default=os.environ.get("CHURNFLOW_BENCH_DATA",
                                                         "/tmp/churnflow-bench"))
    ap.add_argument("--reference", default=str(ROOT.parent / "shared" / "bench"))
    ap.add_argument("--binary", default=str(ROOT / "target" / "release" / "churnflow"))
    ap.add_argument("--engines", default="polars,pandas")
    ap.add_argument("--skip-reference-above", type=float, default=float("inf"),
                    help="do not run the reference above this size (it may not fit in memory)")
    ap.add_argument("--out", default=None,
                    help="Markdown file for the tables (default: RESULTS.md in --data-dir; "
                         "bench/RESULTS.md is the curated record, tables pasted with analysis)")
    ap.add_argument("--incremental", action="store_true",
                    help="only measure a one-day nightly delivery on top of the history (and the "
                         "reference's whole run on the same data), and append the result to --out")
    ap.add_argument("--shapes", default="generate,synth",
                    help="data shapes: generate (churnflow generate), synth (gen_synth.py)")
    a = ap.parse_args()

    binary = Path(a.binary)
    if not binary.exists():
        sys.exit(f"{binary} not found: run `cargo build --release` first")
    ref_dir = Path(a.reference)
    python = ref_dir / ".venv" / "bin" / "python"
    if not python.exists():
        sys.exit(f"{python} not found: set up the reference (see {ref_dir}/README.md)")
    data_dir = Path(a.data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    if a.out is None:
        a.out = str(data_dir / "RESULTS.md")
    log = data_dir / "bench.log"
    engines = [e for e in a.engines.split(",") if e]
    known = shapes(binary, python, ref_dir)
    chosen = [s for s in a.shapes.split(",") if s]
    for s in chosen:
        if s not in known:
            sys.exit(f"unknown shape {s!r}: expected one of {', '.join(known)}")

    if a.incremental:
        for name in chosen:
            shape = known[name]
            for label in a.sizes.split(","):
                size = float(label)
                text = incremental_section(binary, python, ref_dir, shape, size, label, data_dir,
                                           log, a.runs, engines[:1])
                print(text, flush=True)
                with open(a.out, "a") as out:
                    out.write(text)
        return

    sections = []
    for name in chosen:
        shape = known[name]
        for size in [float(s) for s in a.sizes.split(",")]:
            csv, rows = shape.make(size, data_dir, log)
            work = data_dir / f"work_{size:.0e}".replace("+", "")
            cf, ref = [], {e: [] for e in engines}
            ref_result = {}
            run_ref = size <= a.skip_reference_above
            for i in range(a.runs):
                print(f"{shape.name} {rows:,} rows: round {i + 1}/{a.runs}", flush=True)
                cf.append(churnflow_round(binary, shape, csv, work, log))
                for e in engines if run_ref else []:
                    r, ref_result[e] = reference_round(python, ref_dir, e, shape, csv, log)
                    ref[e].append(r)
            sections.append(table(shape, rows, csv, cf, ref, ref_result, a.runs))
            print(sections[-1], flush=True)
            shutil.rmtree(work, ignore_errors=True)

    head = (f"# churnflow benchmark\n\nMachine: {os.cpu_count()} cores, {platform.machine()}, "
            f"{platform.system()} {platform.release()}; {time.strftime('%Y-%m-%d')}. Produced by "
            f"`python3 bench/bench.py --sizes {a.sizes} --runs {a.runs} --shapes {a.shapes}`; "
            f"medians of {a.runs} runs, churnflow and the reference alternating.\n\n"
            "Wall time in seconds, peak RSS in GB. churnflow's stages are separate processes "
            "(ingest, features as of the scoring day, train over every training cutoff, score "
            "with lists and report); `run` is the whole nightly job on a fresh workdir. The "
            "reference's stages are its own in-process timings; its `run` is the whole process "
            "(interpreter start and imports included). Ratio = churnflow / reference: below 1 "
            "means churnflow is faster.\n")
    Path(a.out).write_text(head + "\n" + "\n".join(sections))
    print(f"wrote {a.out}")


def incremental_section(binary, python, ref_dir, shape, size, label, data_dir, log, runs,
                        engines):
    """Night 1 and night 2 of `shape` at `size`, and the reference's whole run on the same
    data (alternating with night 2), as a Markdown section."""
    csv, rows = shape.make(size, data_dir, log)
    work = data_dir / f"work_{size:.0e}".replace("+", "")
    print(f"{shape.name} {rows:,} rows: incremental night, {runs} runs", flush=True)
    (w1, m1), nights, day_rows, ref = incremental(binary, shape, csv, work, log, runs,
                                                  lambda: [reference_round(python, ref_dir, e,
                                                                           shape, csv, log)[0]
                                                           for e in engines])
    w2 = statistics.median(n[0] for n in nights)
    m2 = statistics.median(n[1] for n in nights)
    text = (f"\n## Incremental night, {shape.name}, {rows:,} rows\n\n"
            f"`python3 bench/bench.py --sizes {label} --runs {runs} --incremental --shapes "
            f"{shape.name}`, {time.strftime('%Y-%m-%d')}. Night 1 ingests the history (all but "
            f"{shape.last_day}) and trains; night 2 adds {shape.last_day} ({day_rows:,} rows) "
            "as a new file in the source folder, checks drift and scores (median of "
            f"{runs}, each from night 1's workdir).\n\n"
            "| night | wall s | peak GB |\n|---|---|---|\n"
            f"| 1: full history, training | {w1:.2f} | {fmt_gb(m1)} |\n"
            f"| 2: one more day | {w2:.2f} | {fmt_gb(m2)} |\n\n"
            f"Night 2 costs {w2 / w1:.2f} of night 1.")
    for e, rounds in zip(engines, zip(*ref) if ref and ref[0] else []):
        r = statistics.median(x["run"][0] for x in rounds)
        text += (f" The {e} reference's whole run on the same data: {r:.2f} s; night 2 / "
                 f"reference = {w2 / r:.3f}.")
    return text + "\n"


def table(shape, rows, csv, cf, ref, ref_result, runs):
    size_mb = csv.stat().st_size / 1e6
    lines = [f"## {shape.name}: {rows:,} rows ({size_mb:,.0f} MB of CSV)\n",
             "| stage | churnflow s | churnflow GB | " +
             " | ".join(f"{e} ref s | ratio vs {e}" for e in ref) + " |",
             "|---|---|---|" + "---|---|" * len(ref)]
    for stage in ("ingest", "features", "train", "score", "run"):
        c = median(cf, stage, 0)
        cells = [stage if stage != "run" else "**whole run**", fmt_s(c), fmt_gb(median(cf, stage, 1))]
        for e, rounds in ref.items():
            r = median(rounds, stage, 0) if rounds else None
            cells += [fmt_s(r), "" if (r is None or c is None) else f"{c / r:.2f}"]
        lines.append("| " + " | ".join(cells) + " |")
    auc = median(cf, "auc", 0)
    lines.append(f"\nchurnflow's validation ROC AUC (whole run's model, out of time): "
                 f"{'' if auc is None else f'{auc:.4f}'}.")
    for e, rounds in ref.items():
        if rounds:
            lines.append(f"Reference `{e}` peak RSS {fmt_gb(median(rounds, 'run', 1))} GB; "
                         f"its test ROC AUC {ref_result[e]['test']['roc_auc']:.4f}.")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
