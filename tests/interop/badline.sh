#!/bin/sh
# badline.sh - updates over a serial line that drops and damages bytes.
#
# The emulated ROM's line loses and flips bytes at the given rates (both
# directions, a different seed each run). Each `sysboot update` must either
# finish and be confirmed by the new application, or stop with a clear error
# and exit code; either way the board must then start an application whose
# image the stub checked, or the ROM bootloader, and a retry on a clean line
# must succeed: never a silently wrong image, never a brick.
#
# usage: badline.sh SYSBOOT SIM FIRMWARE_DIR [RUNS] [DROP_PPM] [CORRUPT_PPM]
set -u
SYSBOOT=$1
SIM=$2
FW=$3
RUNS=${4:-4}
DROP=${5:-500}
CORRUPT=${6:-2000}
NAME=badline
. "$(dirname "$0")/board.sh"

done_ok=0 failed_clearly=0
i=1
while [ $i -le "$RUNS" ]; do
	rm -f "$TMP/board.bin"
	start_sim --line-drop "$DROP" --line-corrupt "$CORRUPT" --line-seed "$i" \
		"$FW/stub.elf" "$FW/app-v1.img@0x08002000"
	sleep 0.5
	"$SYSBOOT" update "$FW/app-v2.img" --port "$PORT" > "$TMP/out" 2> "$TMP/err"
	st=$?
	stop_sim
	faults=$(grep "line faults injected" "$TMP/sim.log")
	case $st in
	0)
		grep -q "confirmed: the board runs v2.0.0" "$TMP/out" || fail "run $i: success without confirmation"
		done_ok=$((done_ok + 1))
		echo "run $i: updated and confirmed ($faults)"
		;;
	5|6|8)
		grep -q "^sysboot update: " "$TMP/err" || fail "run $i: exit $st without a message"
		failed_clearly=$((failed_clearly + 1))
		echo "run $i: stopped with exit $st: $(grep "^sysboot update: " "$TMP/err" | head -1 | cut -c1-160) ($faults)"
		;;
	*)
		fail "run $i: unexpected exit $st: $(cat "$TMP/err")"
		;;
	esac

	# What starts now? A checked application or the ROM, never a fault.
	"$SIM" --flash "$TMP/board.bin" --usart2 none --fast --run-for 400 --trace "$TMP/after" \
		> "$TMP/after.log" 2>&1 || fail "run $i: the board faults after the update: $(cat "$TMP/after.log")"
	grep -q "ROM bootloader ready\|USART2: .*transmitter on" "$TMP/after" ||
		fail "run $i: neither the ROM nor an application started"

	# A retry on a clean line succeeds.
	start_sim
	sleep 0.3
	"$SYSBOOT" update "$FW/app-v2.img" --port "$PORT" > "$TMP/retry" 2>&1 ||
		fail "run $i: the retry on a clean line failed: $(cat "$TMP/retry")"
	stop_sim
	i=$((i + 1))
done
echo "bad line (drop $DROP ppm, corrupt $CORRUPT ppm): $RUNS runs, $done_ok completed, $failed_clearly stopped with a clear error, 0 bricks"
