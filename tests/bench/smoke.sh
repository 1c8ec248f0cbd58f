#!/bin/sh
# smoke.sh - sysboot-bench on a small image, so that `make bench` (not part
# of `make test`) cannot rot unnoticed: two runs give the same simulated
# times to the nanosecond, stm32flash's session is nothing but wire and
# flash, the limit printed is the one worked out by hand, and its errors
# say what went wrong. No wall-clock figure is checked.
#
# usage: smoke.sh BENCH SYSBOOT FIRMWARE_DIR NOPARITY_SO
set -u
BENCH=$1
SYSBOOT=$2
FW=$3
NOPARITY=$4
TMP=$(mktemp -d "${TMPDIR:-/tmp}/sysboot-bench-smoke.XXXXXX")
trap 'rm -rf "$TMP"' EXIT INT TERM
fail() {
	echo "FAIL: $*" >&2
	exit 1
}

bench() {
	"$BENCH" --sysboot "$SYSBOOT" --firmware "$FW" --noparity "$NOPARITY" "$@" \
		> "$TMP/out" 2> "$TMP/err"
}

bench --sizes 8 --runs 2 --app-seconds 1 || { cat "$TMP/err" >&2; fail "sysboot-bench failed"; }
grep -q "WARNING" "$TMP/out" && fail "simulated times differ between runs: $(grep WARNING "$TMP/out")"
# 8192 bytes x 11 bits / 115200 + pages 4..7 x 22 ms + 1024 double words x 82 us.
grep -q "^| physical limit, 8 KB | 0.954 |" "$TMP/out" || fail "wrong limit: $(grep 'physical limit' "$TMP/out")"
# The ROM adds nothing of its own: stm32flash's time is wire, erase and programming.
awk -F'|' '/^\| stm32flash/ { n++; if ($10 + 0 != 0) bad = $0 } END { exit !(n == 2 && bad == "") }' \
	"$TMP/out" || fail "stm32flash's session is not just wire and flash: $(grep '^| stm32flash' "$TMP/out")"
awk -F'|' '/^\| sysboot update, 8 KB \|/ { found = 1; if ($10 + 0 <= 0) bad = 1 } END { exit !(found && !bad) }' \
	"$TMP/out" || fail "no time after Go (stub check, banner) for sysboot: $(grep '^| sysboot' "$TMP/out")"
grep -q "^| 8 KB | [0-9.]* | [0-9.]* | [0-9.]* | 0.954 | 0\.[0-9]* |" "$TMP/out" ||
	fail "no update-time row: $(grep '8 KB' "$TMP/out")"

# Errors are specific.
bench --runs 0
[ $? -eq 2 ] || fail "--runs 0 did not exit 2"
grep -q -- "--runs takes 1 to 9" "$TMP/err" || fail "unclear error: $(cat "$TMP/err")"
bench --sizes 1020
[ $? -eq 1 ] || fail "an image too big for the flash did not fail"
grep -q "1020 KB does not fit between the application" "$TMP/err" || fail "unclear error: $(cat "$TMP/err")"
"$BENCH" --sysboot "$SYSBOOT" --firmware "$TMP/none" --noparity "$NOPARITY" > /dev/null 2> "$TMP/err"
grep -q "cannot read $TMP/none/app-v2.img (make firmware first)" "$TMP/err" || fail "unclear error: $(cat "$TMP/err")"
bench --sizes 8 --runs 1 --stm32flash false
[ $? -eq 1 ] || fail "a failing reference tool did not fail the benchmark"
grep -q "stm32flash -w -v, 8 KB failed (exit status 1): see " "$TMP/err" || fail "unclear error: $(cat "$TMP/err")"
echo "sysboot-bench: figures repeatable, limit right, errors clear"
