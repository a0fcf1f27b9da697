#!/usr/bin/env bash
# The two-node comparison (docs/BENCHMARKS.md, "Two nodes"): fanout flat out, fanout at
# 1000 msg/s and store flat out, each on (a) one node on SQLite, (b) one node on
# PostgreSQL, (c) two nodes on PostgreSQL + NATS, interleaved, RUNS rounds (default 3).
# One JSON line per run in $OUT (default cluster-results.jsonl), each with a "config"
# field; then the medians. Failed runs are named on stderr and left out. The PostgreSQL URL is an admin URL: every run gets a fresh
# database there, dropped after it.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-3}
OUT=${OUT:-cluster-results.jsonl}
PG=${PG:-postgres://postgres@127.0.0.1:5432/postgres}
NATS=${NATS:-nats://127.0.0.1:4222}
# The servers' logs (n1.log, n2.log, server.log), appended run after run.
LOGS=${LOGS:-cluster-logs}
mkdir -p "$LOGS"
target=${CARGO_TARGET_DIR:-target}
cargo build --release -p chatroom-server -p chatroom-bench
bench="$target/release/chatroom-bench"
: > "$OUT"
run() {
  local config=$1
  shift
  echo "== $config: $*" >&2
  local report
  if report=$("$bench" "$@" --server-logs "$LOGS" --json | tail -n 1); then
    python3 -c 'import json,sys; r=json.loads(sys.argv[2]); r["config"]=sys.argv[1]; print(json.dumps(r))' \
      "$config" "$report" >> "$OUT"
  else
    echo "== FAILED: $config: $*" >&2
  fi
}
declare -A server=(
  [sqlite]=""
  [postgres]="--database-url $PG"
  [cluster]="--nodes 2 --nats-url $NATS --database-url $PG"
)
for _ in $(seq "$RUNS"); do
  for config in sqlite postgres cluster; do
    # shellcheck disable=SC2086 # the flags are meant to split
    run "$config" fanout --clients 1000 --senders 10 --seconds 10 ${server[$config]}
  done
  for config in sqlite postgres cluster; do
    # shellcheck disable=SC2086
    run "$config" fanout --clients 1000 --senders 10 --rate 1000 --seconds 10 --no-limit ${server[$config]}
  done
  for config in sqlite postgres cluster; do
    # shellcheck disable=SC2086
    run "$config" store --senders 10 --seconds 10 ${server[$config]}
  done
done
python3 - "$OUT" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
pick = {
    "fanout flat": ["deliveries_per_s", "msgs_in_per_s", "pct_of_limit", "latency_ms.p50", "latency_ms.p99",
                    "ack_latency_ms.p99", "server_cpu_s", "server_peak_rss_kib", "lost", "disconnected",
                    "cpu.machine_busy_pct"],
    "fanout rate": ["deliveries_per_s", "msgs_in_per_s", "latency_ms.p50", "latency_ms.p99", "ack_latency_ms.p50",
                    "ack_latency_ms.p99", "server_cpu_s", "server_peak_rss_kib", "lost", "disconnected",
                    "cpu.machine_busy_pct"],
    "store": ["acked_msgs_per_s", "flat.ack_latency_ms.p50", "flat.ack_latency_ms.p99", "flat.cpu.server_cpu_s",
              "ack_p99_ms_at_half_rate", "raw_rows_per_s", "acked_over_raw", "server_peak_rss_kib", "lost",
              "disconnected", "flat.cpu.machine_busy_pct"],
}
def get(r, path):
    for p in path.split("."):
        r = r.get(p) if isinstance(r, dict) else None
    return r
groups = {}
for r in rows:
    key = r["scenario"] + ("" if r["scenario"] == "store" else " " + r["mode"].replace("flat", "flat"))
    groups.setdefault((key, r["config"]), []).append(r)
for (key, config), runs in sorted(groups.items()):
    print(f"\n{key} / {config} ({len(runs)} runs): median [min .. max]")
    for k in pick[key]:
        vals = [v for v in (get(r, k) for r in runs) if isinstance(v, (int, float))]
        if vals:
            print(f"  {k:28} {statistics.median(vals):14.2f} [{min(vals):.2f} .. {max(vals):.2f}]")
    exited = [r.get("servers_exited") for r in runs if r.get("servers_exited")]
    if exited:
        print(f"  servers exited: {exited}")
PY
