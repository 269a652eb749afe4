#!/usr/bin/env python3
"""Evidence for the BTYD features (issue 19): on a transactions CSV (by default the shared
synthetic data, `../shared/bench/gen_synth.py`: customer_id, date, amount), ingest once and run
`churnflow backtest` with the default features plus `builtin = "bgnbd"`. At every out-of-time
cutoff the backtest fits the model with and without the BTYD features and scores BG/NBD alone
and recency on the same rows; this prints the table (markdown) and the medians.

    python3 bench/btyd_evidence.py --binary target/release/churnflow \
        --csv ../shared/bench/data/synth_1e6.csv [--csv ../shared/bench/data/synth_1e7.csv]

With --speed RUNS: whole `run`s from CSV without and with the BTYD features (medians), and the
BTYD fits' own share from the log.

Only the Python standard library is used.
"""

import argparse
import csv
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PIPELINE = """name = "btyd-evidence"
workdir = "{workdir}"
[source]
path = "{csv}"
[source.columns]
customer_id = "customer_id"
timestamp = "{timestamp}"
amount = "amount"
[[features]]
builtin = "defaults"
{btyd}[label]
horizon_days = 90
[population]
active_within_days = 365
[train]
cutoffs = {cutoffs}
"""

COLUMNS = [
    ("roc_auc", "log_loss", "model with BTYD"),
    ("without_btyd_roc_auc", "without_btyd_log_loss", "model without BTYD"),
    ("btyd_alone_roc_auc", "btyd_alone_log_loss", "BG/NBD alone"),
    ("recency_roc_auc", None, "recency alone"),
]


def run(cmd):
    t = time.perf_counter()
    p = subprocess.run([str(c) for c in cmd], capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"failed ({p.returncode}): {' '.join(map(str, cmd))}\n{p.stderr[-3000:]}")
    return time.perf_counter() - t


def pipeline_text(workdir, data, timestamp, cutoffs, btyd):
    return PIPELINE.format(workdir=workdir, csv=data.resolve(), timestamp=timestamp,
                           cutoffs=cutoffs,
                           btyd='[[features]]\nbuiltin = "bgnbd"\n' if btyd else "")


def timestamp_column(data):
    header = data.open().readline().strip().split(",")
    return "date" if "date" in header else "order_date"


FIT = re.compile(r"counted in ([0-9.]+) s\).*fitted in ([0-9.]+) s")


def speed(binary, data, cutoffs, runs):
    """Whole `run`s from CSV (fresh workdir each) without and with the BTYD features,
    alternating; medians, and the BTYD share from the log (summary query + fit per as-of day)."""
    timestamp = timestamp_column(data)
    walls = {False: [], True: []}
    shares = []
    with tempfile.TemporaryDirectory(prefix="btyd-speed-") as tmp:
        for i in range(runs):
            for btyd in (False, True):
                work = Path(tmp) / f"{i}-{btyd}"
                work.mkdir()
                pipeline = work / "pipeline.toml"
                pipeline.write_text(pipeline_text(work / "work", data, timestamp, cutoffs, btyd))
                t = time.perf_counter()
                p = subprocess.run([str(binary), "--log-format", "json", "run", str(pipeline)],
                                   capture_output=True, text=True)
                wall = time.perf_counter() - t
                if p.returncode != 0:
                    sys.exit(f"run failed ({p.returncode})\n{p.stderr[-3000:]}")
                walls[btyd].append(wall)
                if btyd:
                    fits = [tuple(map(float, m.groups())) for m in FIT.finditer(p.stderr)]
                    shares.append((len(fits), sum(a for a, _ in fits), sum(f for _, f in fits)))
                shutil.rmtree(work)
    off, on = statistics.median(walls[False]), statistics.median(walls[True])
    n, asked, fitted = shares[len(shares) // 2]
    print(f"\n### {data.name}: whole run, median of {runs} (alternating)\n")
    print("| features | run (s) |\n|---|---|")
    print(f"| defaults | {off:.1f} |\n| defaults + bgnbd | {on:.1f} (+{(on / off - 1) * 100:.1f}%) |")
    print(f"\nBTYD at {n} as-of days: summaries counted in {asked:.2f} s, fits {fitted:.2f} s in all "
          f"({(asked + fitted) / on * 100:.1f}% of the run); the rest of the difference is the "
          f"features themselves and the card's fit without them.")


def evidence(binary, data, cutoffs, keep):
    timestamp = timestamp_column(data)
    work = Path(keep) if keep else Path(tempfile.mkdtemp(prefix="btyd-evidence-"))
    work.mkdir(parents=True, exist_ok=True)
    pipeline = work / "pipeline.toml"
    pipeline.write_text(pipeline_text(work / "work", data, timestamp, cutoffs, True))
    ingest = run([binary, "-q", "ingest", pipeline])
    backtest = run([binary, "-q", "backtest", pipeline])
    with open(work / "work" / "backtest" / "backtest.csv", newline="", encoding="utf-8-sig") as f:
        rows = list(csv.DictReader(f))
    print(f"\n### {data.name}: {len(rows)} out-of-time cutoffs "
          f"(ingest {ingest:.1f} s, backtest {backtest:.1f} s)\n")
    print("| cutoff | rows | " + " | ".join(
        f"{name} AUC" + ("" if ll is None else f" | {name} log loss")
        for _, ll, name in COLUMNS) + " |")
    print("|---|---|" + "---|" * sum(1 if ll is None else 2 for _, ll, _ in COLUMNS))
    for r in rows:
        cells = []
        for auc, ll, _ in COLUMNS:
            cells.append(r[auc])
            if ll is not None:
                cells.append(r[ll])
        print(f"| {r['cutoff']} | {r['rows']} | " + " | ".join(cells) + " |")
    medians = []
    for auc, ll, _ in COLUMNS:
        medians.append(f"{statistics.median(float(r[auc]) for r in rows):.4f}")
        if ll is not None:
            medians.append(f"{statistics.median(float(r[ll]) for r in rows):.4f}")
    print("| median | | " + " | ".join(medians) + " |")
    wins = sum(float(r["roc_auc"]) >= max(float(r["without_btyd_roc_auc"]),
                                          float(r["btyd_alone_roc_auc"])) for r in rows)
    ll_wins = sum(float(r["log_loss"]) <= min(float(r["without_btyd_log_loss"]),
                                              float(r["btyd_alone_log_loss"])) for r in rows)
    print(f"\nWith BTYD at least as good as both others: ROC AUC at {wins} of {len(rows)} "
          f"cutoffs, log loss at {ll_wins} of {len(rows)}.")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--binary", default="target/release/churnflow")
    ap.add_argument("--csv", action="append", required=True, type=Path)
    ap.add_argument("--cutoffs", type=int, default=6, help="training cutoffs per fit")
    ap.add_argument("--keep", help="work folder to keep (one --csv only)")
    ap.add_argument("--speed", type=int, metavar="RUNS",
                    help="instead: whole runs without and with the BTYD features, RUNS each")
    a = ap.parse_args()
    for data in a.csv:
        if a.speed:
            speed(a.binary, data, a.cutoffs, a.speed)
        else:
            evidence(a.binary, data, a.cutoffs, a.keep)


if __name__ == "__main__":
    main()
