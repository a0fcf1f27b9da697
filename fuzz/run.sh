#!/usr/bin/env bash
# Run the fuzz targets, each for SECONDS, on the stable toolchain.
#
#   bash fuzz/run.sh SECONDS [TARGET...]     (targets: frames names; default all)
#
# Each target starts from its committed seeds (fuzz/seeds/<target>/), copied
# into a scratch corpus outside git (fuzz/corpus/<target>/, or
# $FUZZ_CORPUS_DIR/<target>/) that keeps growing from run to run. A crash
# leaves its input in fuzz/artifacts/<target>/ and makes the script exit
# non-zero (after the other targets have run); each run's libFuzzer output is
# in fuzz/logs/<target>.log, and the summary lines give runs and coverage.
#
# Long runs: `nice -n 19 bash fuzz/run.sh 1800` (see fuzz/README.md).
# CI (.ci/run) installs cargo-fuzz if it is missing and runs a short smoke run,
# `bash fuzz/run.sh 15`: both targets, 15 seconds each.
#
# Needs cargo-fuzz (`cargo install cargo-fuzz --locked`). No nightly: the
# targets are built with `--sanitizer none`, which works on stable; debug
# assertions (and so overflow checks) are on.
set -euo pipefail

if [ $# -lt 1 ] || ! [[ $1 =~ ^[0-9]+$ ]] || [ "$1" -lt 1 ]; then
  echo "usage: bash fuzz/run.sh SECONDS [TARGET...]" >&2
  exit 2
fi
seconds=$1
shift
cd "$(dirname "$0")"
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(frames names)
fi
corpus_root=${FUZZ_CORPUS_DIR:-corpus}
mkdir -p logs

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "cargo-fuzz is missing: cargo install cargo-fuzz --locked" >&2
  exit 2
fi

# Longest input libFuzzer makes up, per target (seeds may be longer).
max_len() {
  case $1 in
    frames) echo 8192 ;;
    *) echo 1024 ;;
  esac
}

failed=()
summary=()
for target in "${targets[@]}"; do
  if [ ! -d "seeds/$target" ]; then
    echo "no target $target (no seeds/$target)" >&2
    exit 2
  fi
  corpus="$corpus_root/$target"
  mkdir -p "$corpus" "artifacts/$target"
  cp -n "seeds/$target"/* "$corpus"/ 2>/dev/null || true
  log="logs/$target.log"
  echo "=== fuzz $target for ${seconds}s (corpus $corpus, log fuzz/$log)"
  start=$(date +%s)
  status=0
  cargo fuzz run --sanitizer none --debug-assertions "$target" "$corpus" -- \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -max_len="$(max_len "$target")" -print_final_stats=1 \
    ${FUZZ_ARGS:-} >"$log" 2>&1 || status=$?
  elapsed=$(( $(date +%s) - start ))
  # The final status line: "#N DONE cov: C ft: F corp: U/S ..." (or the last
  # status line before a crash), and "Done N runs in S second(s)".
  last=$(grep -E '^#[0-9]+' "$log" | tail -n 1 || true)
  done_line=$(grep -E '^Done [0-9]+ runs' "$log" | tail -n 1 || true)
  files=$(find "$corpus" -type f | wc -l)
  if [ "$status" -ne 0 ]; then
    failed+=("$target")
    tail -n 40 "$log"
    echo "!!! $target FAILED (exit $status); input in fuzz/artifacts/$target/" >&2
    summary+=("$target: FAILED after ${elapsed}s; last: ${last:-none}")
  else
    summary+=("$target: ok, ${elapsed}s, ${done_line:-?}; ${last:-?}; corpus $files files")
  fi
done

echo
echo "=== fuzz summary"
printf '%s\n' "${summary[@]}"
if [ ${#failed[@]} -gt 0 ]; then
  echo "crashed: ${failed[*]}" >&2
  exit 1
fi
