# board.sh - shell helpers for the campaigns that drive the emulated board
# through its pseudo-terminal (sourced by powercut.sh and badline.sh).
#
# Set SIM and NAME before sourcing; provides TMP, PORT, fail, start_sim,
# stop_sim, and cleans up the temp dir and any emulator left running.

TMP=$(mktemp -d "${TMPDIR:-/tmp}/sysboot-$NAME.XXXXXX")
PORT=$TMP/nucleo
PID=""
cleanup() {
	[ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

# start_sim [sysboot-sim options and firmware...]: the board on $PORT,
# flash kept in $TMP/board.bin, its messages in $TMP/sim.log.
start_sim() {
	rm -f "$PORT"
	"$SIM" --flash "$TMP/board.bin" --usart2 "pty:$PORT" "$@" > "$TMP/sim.log" 2>&1 &
	PID=$!
	n=0
	while [ ! -e "$PORT" ] && [ $n -lt 50 ]; do sleep 0.1; n=$((n + 1)); done
	[ -e "$PORT" ] || fail "the emulator did not start: $(cat "$TMP/sim.log")"
}

# stop_sim: end the emulator as Ctrl-C would (it prints its summary).
stop_sim() {
	kill -INT "$PID" 2>/dev/null
	wait "$PID" 2>/dev/null
	PID=""
}
