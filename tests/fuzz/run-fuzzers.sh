#!/usr/bin/env bash
# run-fuzzers.sh SECONDS [TARGET...] — run each libFuzzer target (built by
# build-fuzzers.sh into build-fuzz/, or $FUZZ_OUT) for SECONDS, starting from
# the seed corpus tests/fuzz/corpus/<target>/ (read only; new inputs go to
# build-fuzz/corpus/<target>/, crashes to build-fuzz/artifacts/).
#
# Prints one line per target (executions, run time, exec/s, corpus size) and
# a closing "N passed, N failed". Exit 1 if any target found a crash, a leak,
# a timeout or a broken property, or if no target could be built or run:
# both callers (`make fuzz`, and meson's fuzz-brief in `make check`) run
# scripts/install-deps.sh first, which installs clang and libFuzzer.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=${FUZZ_OUT:-$root/build-fuzz}
seconds=${1:?usage: run-fuzzers.sh SECONDS [TARGET...]}
shift

mkdir -p "$out"
"$here/build-fuzzers.sh" "$out" >"$out/build.log" 2>&1
rc=$?
if [ $rc -ne 0 ]; then
	cat "$out/build.log" >&2
	# 77 is build-fuzzers.sh saying clang or libFuzzer is missing: not a skip.
	[ $rc -eq 77 ] && echo "run-fuzzers: cannot build the fuzzers; scripts/install-deps.sh installs clang and libclang-rt-14-dev" >&2
	exit 1
fi
if [ $# -gt 0 ]; then
	targets=("$@")
else
	targets=()
	for bin in "$out"/fuzz_*; do
		[ -x "$bin" ] && targets+=("${bin##*/fuzz_}")
	done
fi

passed=0
failed=0
mkdir -p "$out/artifacts"
for t in "${targets[@]}"; do
	mkdir -p "$out/corpus/$t"
	log="$out/fuzz_$t.log"
	seeds="$here/corpus/$t"
	[ -d "$seeds" ] || seeds=""
	start=$(date +%s.%N)
	# -timeout: one input taking 10 s is a hang; -rss_limit_mb bounds memory;
	# leaks are reported by LeakSanitizer at exit.
	"$out/fuzz_$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
		-print_final_stats=1 -artifact_prefix="$out/artifacts/$t-" \
		"$out/corpus/$t" $seeds >"$log" 2>&1
	rc=$?
	end=$(date +%s.%N)
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	corpus=$(sed -n 's/.*corp: \([0-9]*\).*/\1/p' "$log" | tail -1)
	elapsed=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.0f", b - a }')
	rate=$(awk -v e="${execs:-0}" -v s="$elapsed" 'BEGIN { printf "%.0f", (s > 0 ? e / s : 0) }')
	if [ $rc -eq 0 ]; then
		passed=$((passed + 1))
		echo "fuzz_$t: ok, ${execs:-0} executions in ${elapsed} s (${rate}/s), corpus ${corpus:-?}"
	else
		failed=$((failed + 1))
		echo "fuzz_$t: FAILED (exit $rc) after ${execs:-?} executions; log $log"
		grep -E "ERROR|property broken|SUMMARY|Test unit written" "$log" | head -8 | sed 's/^/  /'
	fi
done
echo "$passed passed, $failed failed"
[ $failed -eq 0 ] && [ $passed -gt 0 ]
