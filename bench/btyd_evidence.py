#!/usr/bin/env python3
"""Evidence for the BTYD features (issue 19): on a transactions CSV (by default the shared
synthetic data, `../shared/bench/gen_synth.py`: customer_id, date, amount), ingest once and run
`churnflow backtest` with the default features plus `builtin = "bgnbd"`. At every out-of-time
cutoff the backtest fits the model with and without the BTYD features and scores BG/NBD alone
and recency on the same rows; this prints the table (markdown) and the medians.

    python3 bench/btyd_evidence.py --binary target/release/churnflow \
        --csv ../shared/bench/data/synth_1e6.csv [--csv ../shared/bench/data/synth_1e7.csv]

Only the Python standard library is used.
"""

import argparse
import csv
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
[[features]]
builtin = "bgnbd"
[label]
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


def evidence(binary, data, cutoffs, keep):
    header = data.open().readline()
    timestamp = "date" if "date" in header.split(",") else "order_date"
    work = Path(keep) if keep else Path(tempfile.mkdtemp(prefix="btyd-evidence-"))
    work.mkdir(parents=True, exist_ok=True)
    pipeline = work / "pipeline.toml"
    pipeline.write_text(PIPELINE.format(workdir=work / "work", csv=data.resolve(),
                                        timestamp=timestamp, cutoffs=cutoffs))
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
    a = ap.parse_args()
    for data in a.csv:
        evidence(a.binary, data, a.cutoffs, a.keep)


if __name__ == "__main__":
    main()
