#!/bin/sh
# badline.sh - updates over a serial line that drops, damages and delays
# bytes.
#
# For each rate, the emulated ROM's line (both directions, a different seed
# each run) drops bytes, flips a bit in them, holds them back 2 ms, or
# stalls 1.5 s (longer than the host's 1 s timeout), each with its
# probability per byte. Each `sysboot update` must either finish and be
# confirmed by the new application, or stop with a clear error and exit
# code. Either way the board is then powered up from its flash file: it
# must start the ROM bootloader or an application whose flash holds exactly
# v1 or v2, byte for byte (read back from the flash file): never a silently
# wrong image, never a brick. A retry on a clean line must then succeed.
#
# usage: badline.sh SYSBOOT SIM FIRMWARE_DIR [RUNS_PER_RATE] [RATE...]
#        RATE is DROP:CORRUPT:DELAY:STALL in bytes per million
set -u
SYSBOOT=$1
SIM=$2
FW=$3
RUNS=${4:-3}
shift 3
[ $# -gt 0 ] && shift
RATES=${*:-500:2000:2000:300}
NAME=badline
. "$(dirname "$0")/board.sh"
V1="$FW/app-v1.img"
V2="$FW/app-v2.img"

# Does the flash hold exactly this image at 0x08002000?
flash_holds() {
	cmp -s -n "$(wc -c < "$1")" -i 8192:0 "$TMP/board.bin" "$1"
}

printf '%-22s %4s %9s %11s %6s %11s  %s\n' "rate (ppm)" runs completed "clear error" bricks "wrong image" \
	"faults injected (dropped/corrupted/delayed/stalled)" > "$TMP/table"
total_runs=0 total_done=0 total_bricks=0 total_wrong=0
for rate in $RATES; do
	IFS=: read -r drop corrupt delay stall <<-EOR
	$rate
	EOR
	done_ok=0 failed_clearly=0 bricks=0 wrong=0 fd=0 fc=0 fl=0 fs=0
	i=1
	while [ $i -le "$RUNS" ]; do
		rm -f "$TMP/board.bin"
		start_sim --line-drop "$drop" --line-corrupt "$corrupt" --line-delay "$delay:2000" \
			--line-stall "$stall:1500" --line-seed "$i" "$FW/stub.elf" "$V1@0x08002000"
		sleep 0.3
		host_update "$V2" > "$TMP/out" 2> "$TMP/err"
		st=$?
		stop_sim
		faults=$(sed -n 's/.*line faults injected: \([0-9]*\) bytes dropped, \([0-9]*\) corrupted, \([0-9]*\) delayed, \([0-9]*\) stalled/\1 \2 \3 \4/p' "$TMP/sim.log")
		set -- $faults
		fd=$((fd + $1)) fc=$((fc + $2)) fl=$((fl + $3)) fs=$((fs + $4))
		case $st in
		0)
			grep -q "confirmed: the board runs v2.0.0" "$TMP/out" || fail "rate $rate run $i: success without confirmation"
			done_ok=$((done_ok + 1))
			what="updated and confirmed ($(sed -n 's/.* \([0-9]*\) retries.*/\1 retries/p' "$TMP/out"))"
			;;
		5|6|8)
			msg=$(grep "^sysboot update: " "$TMP/err" | tail -1)
			[ -n "$msg" ] || fail "rate $rate run $i: exit $st without a message"
			failed_clearly=$((failed_clearly + 1))
			what="stopped with exit $st: $(echo "$msg" | cut -c1-150)"
			;;
		*)
			fail "rate $rate run $i: unexpected exit $st: $(cat "$TMP/err")"
			;;
		esac

		# What starts now: the ROM, or an application whose image is v1 or v2 exactly.
		state=$(board_state)
		case $state in
		brick)
			bricks=$((bricks + 1))
			echo "rate $rate run $i: BRICK: $(cat "$TMP/after.log")" >&2
			;;
		v1|v2)
			if ! flash_holds "$V1" && ! flash_holds "$V2"; then
				wrong=$((wrong + 1))
				echo "rate $rate run $i: an application runs from an image that is neither v1 nor v2" >&2
			fi
			[ $st -ne 0 ] || [ "$state" = v2 ] || fail "rate $rate run $i: confirmed, yet the board starts $state"
			;;
		esac
		echo "rate $rate run $i: $what; then starts $state (faults $*)"

		# A retry on a clean line succeeds.
		start_sim
		sleep 0.2
		host_update "$V2" > "$TMP/retry" 2>&1 ||
			fail "rate $rate run $i: the retry on a clean line failed: $(cat "$TMP/retry")"
		stop_sim
		i=$((i + 1))
	done
	printf '%-22s %4d %9d %11d %6d %11d  %s/%s/%s/%s\n' "$drop/$corrupt/$delay/$stall" "$RUNS" "$done_ok" \
		"$failed_clearly" "$bricks" "$wrong" "$fd" "$fc" "$fl" "$fs" >> "$TMP/table"
	total_runs=$((total_runs + RUNS)) total_done=$((total_done + done_ok))
	total_bricks=$((total_bricks + bricks)) total_wrong=$((total_wrong + wrong))
done

printf '\nbad line: drop/corrupt/delay (2 ms)/stall (1.5 s) per million bytes, both directions:\n'
cat "$TMP/table"
echo "bad line: $total_runs runs, $total_done completed, $((total_runs - total_done)) stopped with a clear error, $total_bricks bricks, $total_wrong silently wrong images"
[ $total_bricks -eq 0 ] || fail "$total_bricks bricked boards"
[ $total_wrong -eq 0 ] || fail "$total_wrong boards run an image that is neither the old nor the new one"
