#!/usr/bin/env python3
"""Golden outputs: proof that a refactoring changes no number.

Runs one churnflow binary through fixed nights and records a SHA-256 of every output a person or a
downstream job reads, so that two builds can be compared byte for byte:

  demo          `run --as-of 2024-12-29` then `run` (the second night: list state, resolved,
                escalations) on the bundled sample (pipelines/demo.toml, side tables included);
  backtest      `backtest` on the same warehouse;
  generated     `run` on `churnflow generate --customers 80000` (about 10^6 rows).

Recorded per night: the at-risk list (CSV and Parquet), scores, win-back, resolved, the report, the
features, and every model.json and card with the fields that name the moment (created_at,
churnflow_version) blanked. Run manifests are not compared (they hold run ids and timings).

    python3 bench/golden.py --binary target/release/churnflow --record bench/golden.json
    python3 bench/golden.py --binary target/release/churnflow --check bench/golden.json

Only the Python standard library is used. The recorded hashes depend on the platform's floating
point (the same machine and toolchain give the same bytes); record before a change and check
after it on the same machine.
"""

import argparse
import hashlib
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Output files of a night, relative to its outputs/as_of=DAY folder.
NIGHT_FILES = [
    "at_risk_key_accounts.csv",
    "at_risk_key_accounts.parquet",
    "scores.parquet",
    "winback.csv",
    "resolved.csv",
    "report.html",
]


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def run(cmd, cwd=ROOT):
    p = subprocess.run([str(c) for c in cmd], cwd=cwd, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"failed ({p.returncode}): {' '.join(map(str, cmd))}\n{p.stderr[-2000:]}")
    return p.stdout


def model_digest(path: Path) -> str:
    """model.json without the fields that name when and by which version it was made."""
    m = json.loads(path.read_text())
    m["created_at"] = ""
    m["churnflow_version"] = ""
    return sha(json.dumps(m, sort_keys=True).encode())


def card_digest(path: Path) -> str:
    text = path.read_text()
    text = re.sub(r"churnflow \S+, created \S+\.", "churnflow -, created -.", text)
    return sha(text.encode())


def record_work(work: Path, tag: str, out: dict):
    for night in sorted((work / "outputs").glob("as_of=*")):
        for name in NIGHT_FILES:
            f = night / name
            if f.exists():
                out[f"{tag}/{night.name}/{name}"] = sha(f.read_bytes())
    for f in sorted((work / "features").glob("as_of=*/features.parquet")):
        out[f"{tag}/features/{f.parent.name}"] = sha(f.read_bytes())
    for m in sorted((work / "models").glob("*/model.json")):
        out[f"{tag}/models/{m.parent.name}/model.json"] = model_digest(m)
        out[f"{tag}/models/{m.parent.name}/card.md"] = card_digest(m.parent / "card.md")
    registry = work / "models" / "registry.json"
    if registry.exists():
        r = json.loads(registry.read_text())
        out[f"{tag}/registry"] = sha(
            json.dumps(
                {"current": r["current"], "history": [(e["model_id"], e["decision"], e["reason"]) for e in r["history"]]}
            ).encode()
        )
    bt = work / "backtest" / "backtest.csv"
    if bt.exists():
        out[f"{tag}/backtest.csv"] = sha(bt.read_bytes())


def pipeline_for(demo: Path) -> Path:
    text = (ROOT / "pipelines" / "demo.toml").read_text()
    # Paths in the file are relative to it, so the file (whose hash is part of every model id)
    # is the same text in every temporary folder.
    text = re.sub(r'workdir = "[^"]*"', 'workdir = "work"', text)
    text = text.replace('"../data/sample/', f'"{ROOT / "data" / "sample"}/')
    p = demo / "demo.toml"
    p.write_text(text)
    return p


def generated_pipeline(base: Path) -> Path:
    p = base / "generated.toml"
    p.write_text(
        '''name = "generated"
workdir = "work"
[source]
path = "transactions.csv"
[source.columns]
customer_id = "customer_id"
timestamp = "order_date"
amount = "amount"
order_id = "order_id"
quantity = "quantity"
product_id = "product_id"
'''
    )
    return p


def collect(binary: Path) -> dict:
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        demo = tmp / "demo"
        demo.mkdir()
        p = pipeline_for(demo)
        run([binary, "-q", "run", p, "--as-of", "2024-12-29"])
        run([binary, "-q", "run", p])
        run([binary, "-q", "backtest", p])
        record_work(demo / "work", "demo", out)
        gen = tmp / "generated"
        run([binary, "-q", "generate", "--customers", "80000", "--out", gen])
        g = generated_pipeline(gen)
        run([binary, "-q", "run", g])
        record_work(gen / "work", "generated", out)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--binary", default=str(ROOT / "target" / "release" / "churnflow"))
    g = ap.add_mutually_exclusive_group(required=True)
    g.add_argument("--record", help="write the hashes to this file")
    g.add_argument("--check", help="compare with the hashes in this file")
    args = ap.parse_args()
    got = collect(Path(args.binary))
    if args.record:
        Path(args.record).write_text(json.dumps(got, indent=1, sort_keys=True) + "\n")
        print(f"recorded {len(got)} outputs to {args.record}")
        return
    want = json.loads(Path(args.check).read_text())
    differ = sorted(k for k in set(want) | set(got) if want.get(k) != got.get(k))
    for k in differ:
        print(f"differs: {k} ({'missing' if k not in got else 'new' if k not in want else 'changed'})")
    if differ:
        sys.exit(f"{len(differ)} of {len(want)} outputs differ")
    print(f"all {len(want)} outputs are byte for byte the same")


if __name__ == "__main__":
    main()
