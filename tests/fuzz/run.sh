#!/bin/sh
# run.sh - one libFuzzer harness for a bounded time, from its seed corpus.
#
# Fails on a crash, a sanitizer report, a leak, an input slower than 10 s
# (a hang) or more than 2 GB of memory; libFuzzer leaves the input that
# did it in the temp dir, and its bytes are printed. New inputs go to a
# temp corpus unless KEEP is set, when they are merged into the seed
# corpus (minimised: only inputs that add coverage). Prints the figures.
#
# usage: run.sh FUZZER CORPUS_DIR SECONDS [KEEP]
set -u
FUZZER=$1
CORPUS=$2
SECONDS_=$3
KEEP=${4:-}
name=$(basename "$FUZZER" | sed 's/^fuzz_//')
TMP=$(mktemp -d "${TMPDIR:-/tmp}/sysboot-fuzz-$name.XXXXXX")
trap 'rm -rf "$TMP"' EXIT INT TERM
mkdir -p "$TMP/new"
[ -x "$FUZZER" ] || { echo "FAIL: $FUZZER is not built" >&2; exit 1; }
[ -d "$CORPUS" ] || { echo "FAIL: no seed corpus $CORPUS" >&2; exit 1; }

"$FUZZER" -max_total_time="$SECONDS_" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
	-artifact_prefix="$TMP/" "$TMP/new" "$CORPUS" > "$TMP/log" 2>&1
st=$?
runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$TMP/log")
cov=$(grep -o 'cov: [0-9]*' "$TMP/log" | tail -1 | cut -d' ' -f2)
ft=$(grep -o 'ft: [0-9]*' "$TMP/log" | tail -1 | cut -d' ' -f2)
seeds=$(ls "$CORPUS" | wc -l)
found=$(ls "$TMP/new" | wc -l)
if [ $st -ne 0 ]; then
	tail -40 "$TMP/log" >&2
	for a in "$TMP"/crash-* "$TMP"/leak-* "$TMP"/timeout-* "$TMP"/oom-*; do
		[ -e "$a" ] || continue
		echo "input that failed ($(basename "$a")):" >&2
		od -A x -t x1z "$a" | head -20 >&2
	done
	echo "FAIL: fuzz $name: exit $st after ${runs:-?} executions" >&2
	exit 1
fi
[ -n "$runs" ] && [ "$runs" -gt 0 ] || { tail -20 "$TMP/log" >&2; echo "FAIL: fuzz $name ran nothing" >&2; exit 1; }
if [ -n "$KEEP" ]; then
	"$FUZZER" -merge=1 "$CORPUS" "$TMP/new" > "$TMP/merge" 2>&1 ||
		{ tail -5 "$TMP/merge" >&2; echo "FAIL: merging into $CORPUS" >&2; exit 1; }
	kept=$(($(ls "$CORPUS" | wc -l) - seeds))
	merged=", $kept new inputs kept in $CORPUS"
else
	merged=""
fi
echo "fuzz $name: $runs executions in $SECONDS_ s, coverage $cov edges ($ft features), $seeds seeds + $found new inputs$merged; no crash, leak, hang or sanitizer report"
