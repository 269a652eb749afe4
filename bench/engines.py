#!/usr/bin/env python3
"""The engines side by side (issue 17): one whole nightly `run` per engine on the same data, in
one invocation, rounds alternating between engines so that machine noise hits them alike.

  history, polars, datafusion   in process (the driver is the only process);
  ballista                      a loopback cluster started here: `churnflow cluster scheduler`
                                and --executors `churnflow cluster executor` processes on
                                127.0.0.1, each with --tasks concurrent tasks.

Measured per run: wall time of the driver's `run`, its stage times (from the run manifest), the
driver's peak RSS (getrusage of the child), and for ballista the executors' and the
scheduler's peak RSS (VmHWM from /proc before they are stopped). Data: `churnflow generate`
(like bench.py) or a CSV given with --csv (for instance from ../shared/bench/gen_synth.py).
Needs a release build with the feature: `cargo build --release --features distributed`.

    python3 bench/engines.py --size 1e7 --runs 3
"""

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench import PIPELINE, generate, measure  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def free_port():
    """A free port (an executor pulls its tasks, so it listens on its --bind port only)."""
    with socket.socket() as a:
        a.bind(("127.0.0.1", 0))
        return a.getsockname()[1]


def wait_listening(port, timeout=60):
    start = time.time()
    while time.time() - start < timeout:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    sys.exit(f"nothing listens on {port}")


def peak_rss(pid):
    """VmHWM of a running process, in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


class Cluster:
    def __init__(self, binary, work, executors, tasks, log):
        self.port = free_port()
        self.procs = []
        out = open(log, "ab")
        self.procs.append(subprocess.Popen(
            [binary, "cluster", "scheduler", "--bind", f"127.0.0.1:{self.port}"],
            stdout=out, stderr=subprocess.STDOUT))
        wait_listening(self.port)
        for i in range(executors):
            port = free_port()
            shuffle = work / f"shuffle-{i}"
            shuffle.mkdir(parents=True, exist_ok=True)
            self.procs.append(subprocess.Popen(
                [binary, "cluster", "executor", "--scheduler", f"127.0.0.1:{self.port}",
                 "--bind", f"127.0.0.1:{port}", "--work-dir", shuffle,
                 "--concurrent-tasks", str(tasks), "--heartbeat-seconds", "5"],
                stdout=out, stderr=subprocess.STDOUT))
            wait_listening(port)
        time.sleep(6)  # the executors' first heartbeats register them

    def stop(self):
        """Stops every process; returns (scheduler peak RSS, [executor peak RSS])."""
        peaks = [peak_rss(p.pid) for p in self.procs]
        for p in self.procs:
            p.kill()
            p.wait()
        return peaks[0], peaks[1:]


def run_night(binary, csv, work, engine, log):
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    pipeline = work / "bench.toml"
    pipeline.write_text(PIPELINE.format(workdir=work / "wd", csv=csv) + f"[engine]\n{engine}\n")
    wall, rss = measure([binary, "-q", "run", pipeline], log)
    manifest = json.loads(next((work / "wd" / "runs").glob("*.json")).read_text())
    stages = {s["name"]: s["seconds"] for s in manifest["stages"]}
    latest = json.loads((work / "wd" / "outputs" / "latest.json").read_text())
    listed = (work / "wd" / "outputs" / latest["dir"] / "at_risk_key_accounts.csv").read_text()
    return {"wall": wall, "rss": rss, "stages": stages, "listed_rows": listed.count("\n") - 1,
            "scored": manifest.get("scored_accounts")}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--size", type=float, default=1e7, help="rows for `churnflow generate`")
    ap.add_argument("--csv", type=Path, help="an export with generate's columns instead")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--engines", default="history,polars,datafusion,ballista")
    ap.add_argument("--executors", type=int, default=2)
    ap.add_argument("--tasks", type=int, default=1, help="concurrent tasks per executor")
    ap.add_argument("--partitions", type=int, default=2, help="[engine] target_partitions")
    ap.add_argument("--work", type=Path, default=Path("/tmp/churnflow-engines"))
    ap.add_argument("--json", type=Path, help="write every measurement here")
    ap.add_argument("--binary", type=Path, default=ROOT / "target" / "release" / "churnflow",
                    help="a release build with `--features distributed`")
    args = ap.parse_args()

    binary = args.binary
    args.work.mkdir(parents=True, exist_ok=True)
    log = args.work / "bench.log"
    if args.csv:
        csv = args.csv.resolve()
        with open(csv, "rb") as f:
            rows = sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 24), b"")) - 1
    else:
        csv, rows = generate(binary, args.size, args.work / "data", log)
    print(f"{rows} rows in {csv}", flush=True)
    engines = args.engines.split(",")
    results = {e: [] for e in engines}
    for r in range(args.runs):
        for e in engines:
            print(f"round {r + 1}: {e}", flush=True)
            work = args.work / e
            if e == "ballista":
                cluster = Cluster(binary, args.work / "cluster", args.executors, args.tasks, log)
                engine = (f'kind = "ballista"\nendpoint = "df://127.0.0.1:{cluster.port}"\n'
                          f"target_partitions = {args.partitions}")
                try:
                    res = run_night(binary, csv, work, engine, log)
                finally:
                    scheduler, executors = cluster.stop()
                res["scheduler_rss"], res["executor_rss"] = scheduler, executors
            elif e == "history" or e == "polars":
                res = run_night(binary, csv, work, f'kind = "{e}"', log)
            else:
                res = run_night(binary, csv, work,
                                f'kind = "{e}"\ntarget_partitions = {args.partitions}', log)
            print(f"  {res['wall']:.1f} s, driver {res['rss'] / 1e9:.2f} GB, stages {res['stages']}",
                  flush=True)
            results[e].append(res)
    if args.json:
        args.json.write_text(json.dumps({"rows": rows, "csv": str(csv), "results": results}, indent=1))

    med = lambda xs: statistics.median(xs)  # noqa: E731
    print(f"\n{rows} rows, medians of {args.runs} run(s)\n")
    print("| engine | run | ingest | train | score | driver peak | cluster peaks | listed |")
    print("|---|---|---|---|---|---|---|---|")
    for e in engines:
        rs = results[e]
        stage = lambda n: med([x["stages"].get(n, 0.0) for x in rs])  # noqa: E731
        cluster = "-"
        if e == "ballista":
            ex = [max(x["executor_rss"]) for x in rs]
            cluster = (f"scheduler {med([x['scheduler_rss'] for x in rs]) / 1e9:.2f} GB, "
                       f"executor max {med(ex) / 1e9:.2f} GB")
        print(f"| {e} | {med([x['wall'] for x in rs]):.1f} s | {stage('ingest'):.1f} s | "
              f"{stage('train'):.1f} s | {stage('score'):.1f} s | "
              f"{med([x['rss'] for x in rs]) / 1e9:.2f} GB | {cluster} | {rs[0]['listed_rows']} |")


if __name__ == "__main__":
    main()
