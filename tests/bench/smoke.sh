#!/bin/sh
# smoke.sh - sysboot-bench on a small image, so that `make bench` (not part
# of `make test`) cannot rot unnoticed: two runs give the same simulated
# times to the nanosecond over the USART and over USB DFU, stm32flash's
# and dfu-util's sessions are nothing but wire or bus, flash and the poll
# timeouts the ROM asked for, the limits printed are the ones worked out
# by hand, a host program quicker than the emulator does not lose its
# enter command, and the errors say what went wrong. No wall-clock figure
# is checked.
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

# USB DFU: 4 blocks of 2 KB and 4 page erases, each DNLOAD with its two
# GETSTATUS (20018 + 2 x 427 and 419 + 2 x 427 bits at 12 Mbit/s), plus
# 88 ms of erase and 1024 x 82 us of programming.
grep -q "^| physical limit, 8 KB | 0.179 | 24 | 0.007 |" "$TMP/out" ||
	fail "wrong USB limit: $(grep 'physical limit' "$TMP/out")"
grep -q "^| 8 KB | [0-9.]* | [0-9.]* | [0-9.]* | [0-9.]* | 0.179 | [01]\.[0-9]* |" "$TMP/out" ||
	fail "no USB update-time row: $(grep '8 KB' "$TMP/out")"
# dfu-util: bus, flash, and each 2 KB write's 21 ms poll timeout waited out
# beyond its 20.992 ms of programming (4 x 8 us); nothing after the leave.
awk -F'|' '/^\| dfu-util/ { n++; if ($8 + 0 != 0.000032 || $9 + 0 != 0) bad = $0 } END { exit !(n == 2 && bad == "") }' \
	"$TMP/out" || fail "dfu-util's session is not bus, flash and poll timeouts: $(grep '^| dfu-util' "$TMP/out")"
awk -F'|' '/^\| sysboot update --enter-port, 8 KB \|/ { found = 1; if ($9 + 0 <= 0) bad = 1 } END { exit !(found && !bad) }' \
	"$TMP/out" || fail "no time after the leave (stub check, banner) for sysboot over USB: $(grep '^| sysboot update --' "$TMP/out")"

# The emulator held back after sysboot starts (a loaded machine): v1 must
# have finished its banner, or the enter command is lost in it.
bench --sizes 8 --runs 1 --app-seconds 1 --links usart --stall-ms 200 ||
	{ cat "$TMP/err" >&2; fail "sysboot-bench failed when the host program was quicker than the emulator"; }

# The ROM's flash work inside the GETSTATUS (--dfu-work in-status): every
# poll timeout starts after the work, so a host waits them whole: 4 x 21 +
# 4 x 22 ms on the limit (less the 4 x 8 us it had), and in dfu-util's poll wait.
bench --sizes 8 --runs 1 --app-seconds 1 --links usb --dfu-work in-status ||
	{ cat "$TMP/err" >&2; fail "sysboot-bench --dfu-work in-status failed"; }
grep -q "^| physical limit, 8 KB | 0.351 | 24 | 0.007 | 0.088 | 0.084 | 0.172000 |" "$TMP/out" ||
	fail "wrong USB limit in-status: $(grep 'physical limit' "$TMP/out")"
awk -F'|' '/^\| dfu-util/ { n++; if ($8 + 0 != 0.172 || $9 + 0 != 0) bad = $0 } END { exit !(n == 2 && bad == "") }' \
	"$TMP/out" || fail "dfu-util in-status does not wait the poll timeouts whole: $(grep '^| dfu-util' "$TMP/out")"
grep -q "(sysboot-sim --dfu-work in-status)" "$TMP/out" || fail "the ROM model's setting is not printed"

# Errors are specific.
bench --dfu-work later
[ $? -eq 2 ] || fail "--dfu-work later did not exit 2"
grep -q "bad --dfu-work 'later': use after-status or in-status" "$TMP/err" || fail "unclear error: $(cat "$TMP/err")"
bench --runs 0
[ $? -eq 2 ] || fail "--runs 0 did not exit 2"
grep -q -- "--runs takes 1 to 9" "$TMP/err" || fail "unclear error: $(cat "$TMP/err")"
bench --sizes 1020
[ $? -eq 1 ] || fail "an image too big for the flash did not fail"
grep -q "1020 KB does not fit between the application" "$TMP/err" || fail "unclear error: $(cat "$TMP/err")"
"$BENCH" --sysboot "$SYSBOOT" --firmware "$TMP/none" --noparity "$NOPARITY" > /dev/null 2> "$TMP/err"
grep -q "cannot read $TMP/none/app-v2.img (make firmware first)" "$TMP/err" || fail "unclear error: $(cat "$TMP/err")"
bench --sizes 8 --runs 1 --links usart --stm32flash false
[ $? -eq 1 ] || fail "a failing reference tool did not fail the benchmark"
grep -q "stm32flash -w -v, 8 KB failed (exit status 1): see " "$TMP/err" || fail "unclear error: $(cat "$TMP/err")"
bench --sizes 8 --runs 1 --links usb --dfu-util false
[ $? -eq 1 ] || fail "a failing dfu-util did not fail the benchmark"
grep -q "dfu-util -D, -U, cmp, 8 KB failed (exit status 1): see " "$TMP/err" || fail "unclear error: $(cat "$TMP/err")"
bench --links usart,bluetooth
[ $? -eq 2 ] || fail "--links bluetooth did not exit 2"
grep -q "bad --links 'bluetooth': usart, usb or both" "$TMP/err" || fail "unclear error: $(cat "$TMP/err")"
echo "sysboot-bench: figures repeatable, limits right, errors clear"
