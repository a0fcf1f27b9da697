#!/usr/bin/env bash
# The standard benchmark set (docs/BENCHMARKS.md): each scenario at its standard size,
# RUNS times (default 3), one JSON line per run in $OUT (default bench-results.jsonl),
# then the medians and ranges of the headline figures. About 9 minutes on a 2-core
# machine with RUNS=3 (idle at 10,000 connections runs once: it alone takes minutes).
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-3}
OUT=${OUT:-bench-results.jsonl}
target=${CARGO_TARGET_DIR:-target}
cargo build --release -p chatroom-server -p chatroom-bench
bench="$target/release/chatroom-bench"
: > "$OUT"
run() { echo "== $*" >&2; "$bench" "$@" --json | tail -n 1 >> "$OUT"; }
for _ in $(seq "$RUNS"); do
  run fanout --clients 1000 --senders 10 --seconds 10
  run fanout --clients 1000 --senders 10 --rate 1000 --seconds 10 --no-limit
  run store --senders 10 --seconds 10
  run logins --logins 200 --bcrypt-cost 10
  run reconnect --clients 1000
  run transfer --size 268435456
done
run idle --connections "${IDLE_CONNECTIONS:-10000}"
python3 - "$OUT" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
def flat(d, prefix=""):
    for k, v in d.items():
        if isinstance(v, dict):
            yield from flat(v, f"{prefix}{k}.")
        elif isinstance(v, (int, float)) and not isinstance(v, bool):
            yield f"{prefix}{k}", v
groups = {}
for r in rows:
    key = r.get("scenario", "?") + (" rate" if r.get("mode") == "rate" or r.get("rate") else "")
    groups.setdefault(key, []).append(dict(flat(r)))
for key, runs in groups.items():
    print(f"\n{key} ({len(runs)} runs): median [min .. max]")
    for k in runs[0]:
        vals = [r[k] for r in runs if k in r]
        print(f"  {k:45} {statistics.median(vals):14.3f} [{min(vals):.3f} .. {max(vals):.3f}]")
PY
