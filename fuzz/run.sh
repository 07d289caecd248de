#!/usr/bin/env bash
# Runs every fuzz target for a while (default 60 s each; the figures in SECURITY.md are from
# 600 s each). Not part of .ci/run: libFuzzer needs nightly compiler flags, which this uses on
# the stable toolchain through RUSTC_BOOTSTRAP=1.
#
#   cargo install cargo-fuzz        # once
#   fuzz/run.sh [SECONDS]
#
# New inputs go to a scratch corpus; the committed seeds in fuzz/corpus/ are only read. A crash
# leaves its input in fuzz/artifacts/TARGET/ and the script fails.
set -euo pipefail
cd "$(dirname "$0")"
secs="${1:-60}"
export RUSTC_BOOTSTRAP=1
scratch="$(mktemp -d)"
for t in command csv payloads signature; do
  mkdir -p "$scratch/$t"
  echo "== fuzz $t for ${secs}s"
  if ! cargo fuzz run -O "$t" "$scratch/$t" "corpus/$t" -- \
      -max_total_time="$secs" -rss_limit_mb=2048 >"$scratch/$t.log" 2>&1; then
    tail -n 40 "$scratch/$t.log"
    echo "fuzz target $t failed"
    exit 1
  fi
  grep -E "^Done" "$scratch/$t.log"
done
