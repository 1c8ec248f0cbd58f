#!/bin/sh
# powercut.sh - the central promise: a power cut at any point of an update
# leaves a board that starts either the old application, the new one, or
# the ROM bootloader, and a second `sysboot update` then succeeds.
#
# For each cut time, spread over the whole update (the request and reset,
# the ROM start-up, the erases, the block writes, the header, the Go), the
# emulated board runs v1 from a flash file, `sysboot update` writes v2 and
# the emulator cuts power at that simulated time. The board is then powered
# again from the same flash file and watched: its trace says which of the
# three it started, or the run faults (a brick). Then the retry.
#
# usage: powercut.sh SYSBOOT SIM FIRMWARE_DIR [CUTS]
set -u
SYSBOOT=$1
SIM=$2
FW=$3
CUTS=${4:-12}
NAME=powercut
. "$(dirname "$0")/board.sh"

# Measure how long an uninterrupted update takes, in simulated time.
rm -f "$TMP/board.bin"
start_sim --quiet --trace "$TMP/full.trace" "$FW/stub.elf" "$FW/app-v1.img@0x08002000"
sleep 0.5
"$SYSBOOT" update "$FW/app-v2.img" --port "$PORT" > "$TMP/upd" 2>&1 || fail "the reference update failed: $(cat "$TMP/upd")"
stop_sim
# The update's window in the reference run: from the ROM's entry to the Go.
us_of() {
	awk -v pat="$1" '$0 ~ pat { t = $2; exit } END { printf "%d", t * 1000000 }' FS='[][ s]+' "$TMP/full.trace"
}
start_us=$(us_of "ROM bootloader entered")
end_us=$(us_of "Go 0x08000000")
[ "$start_us" -gt 0 ] && [ "$end_us" -gt "$start_us" ] || fail "no ROM entry and Go in the reference trace"

cuts=0 old=0 new=0 rom=0 bricks=0
i=1
while [ $i -le "$CUTS" ]; do
	# Spread over the window, from the request to a little past the Go.
	at=$((start_us - 50000 + (end_us - start_us + 70000) * i / CUTS))
	rm -f "$TMP/board.bin"
	start_sim --quiet --power-cut-at-us "$at" "$FW/stub.elf" "$FW/app-v1.img@0x08002000"
	sleep 0.5
	"$SYSBOOT" update "$FW/app-v2.img" --port "$PORT" > "$TMP/upd" 2>&1
	wait "$PID" 2>/dev/null
	PID=""
	cuts=$((cuts + 1))

	# Power on again, flash as the cut left it; what starts?
	"$SIM" --flash "$TMP/board.bin" --usart2 none --fast --run-for 400 --trace "$TMP/after.trace" \
		> "$TMP/after.log" 2>&1
	st=$?
	state=brick
	if [ $st -ne 0 ]; then
		bricks=$((bricks + 1))
		echo "cut at $at us: BRICK: $(cat "$TMP/after.log")" >&2
	elif grep -q "ROM bootloader ready" "$TMP/after.trace"; then
		rom=$((rom + 1))
		state=rom
	elif grep -q "USART2: .*transmitter on" "$TMP/after.trace"; then
		# The application runs: which one? The image header says.
		"$SIM" --flash "$TMP/board.bin" --usart2 none --fast --run-for 1 --control stdin --quiet \
			> "$TMP/hdr" 2>&1 <<-EOC
			read 0x08002014 4
			quit
		EOC
		if grep -q "^ok 00000200" "$TMP/hdr"; then
			new=$((new + 1))
			state=v2
		else
			old=$((old + 1))
			state=v1
		fi
	else
		bricks=$((bricks + 1))
		echo "cut at $at us: neither the ROM nor an application started" >&2
		tail -5 "$TMP/after.trace" >&2
	fi

	# The retry: a second update must succeed from whatever state.
	start_sim --quiet
	sleep 0.3
	"$SYSBOOT" update "$FW/app-v2.img" --port "$PORT" > "$TMP/retry" 2>&1 ||
		fail "cut at $at us (board then in $state): the retry failed: $(cat "$TMP/retry")"
	stop_sim
	echo "cut at $at us: board came up in $state; retry succeeded"
	i=$((i + 1))
done

echo "power cuts: $cuts injected, $((old + new + rom)) boards recovered (v1 $old, v2 $new, ROM $rom), bricks $bricks"
[ $bricks -eq 0 ] || fail "$bricks bricked boards"
[ $rom -gt 0 ] || fail "no cut landed inside the update (the ROM was never the outcome): the cut times are wrong"
