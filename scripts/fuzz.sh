#!/usr/bin/env bash
# Runs the decode-path fuzzer (built by `make fuzz`) for SECONDS, seeded from the committed
# fixtures and Fixtures/fuzz/ (inputs that once crashed or hung: each stays a seed, so a
# regression fails at once). A fixed seed keeps CI's bounded run repeatable. Exit 1 with the
# input saved under build/fuzz/ when an input crashes, hangs (10 s) or takes over 2 GiB.
# Leak reports are off: libheif and libvips leak a few bytes on some error paths (not ours).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-120}
fuzzer=.build-fuzz/release/imgfn-fuzz
[ -x "$fuzzer" ] || { echo "fuzz.sh: $fuzzer is missing (make fuzz builds it)" >&2; exit 2; }
work=build/fuzz
rm -rf "$work/corpus"
mkdir -p "$work/corpus"
# Seeds: every committed fixture under 256 KiB, and every past finding.
find Fixtures/orientation Fixtures/formats Fixtures/colour Fixtures/bad Fixtures/photos Fixtures/fuzz \
  -type f -size -256k ! -name '*.md' -exec cp {} "$work/corpus/" \;
echo "fuzz.sh: $(ls "$work/corpus" | wc -l) seeds, ${seconds} s"
ASAN_OPTIONS=detect_leaks=0:allocator_may_return_null=1 "$fuzzer" \
  -seed=20261202 -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=262144 \
  -print_final_stats=1 -artifact_prefix="$work/" "$work/corpus" 2>"$work/log" || {
  tail -60 "$work/log"
  echo "fuzz.sh: an input crashed, hung or ran out of memory: $(ls "$work"/crash-* "$work"/timeout-* "$work"/oom-* 2>/dev/null)"
  echo "fuzz.sh: keep it as a test: copy it to Fixtures/fuzz/ and fix the cause"
  exit 1
}
grep -E "^stat::(number_of_executed_units|peak_rss_mb)" "$work/log" | sed 's/^/fuzz.sh: /'
echo "fuzz.sh: no crash, hang or memory blow-up in ${seconds} s"
