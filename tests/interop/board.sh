# board.sh - shell helpers for the campaigns that drive the emulated board
# (sourced by powercut.sh and badline.sh).
#
# Set SIM, SYSBOOT and NAME before sourcing, and TRANSPORT to choose how the
# host reaches the board's ROM bootloader: usart (AN3155 on USART2, through
# a pseudo-terminal; the default) or dfu (the ROM's USB DFU device, served
# through umockdev; the application is asked on USART2). A transport is
# these functions only: start_sim puts the board on it, host_update runs
# `sysboot update` over it.
# Provides TMP, PORT, fail, start_sim, stop_sim, wait_sim, host_update,
# board_state, and cleans up the temp dir and any emulator left running.

TRANSPORT=${TRANSPORT:-usart}
case $TRANSPORT in
usart|dfu) ;;
*)
	echo "FAIL: unknown transport '$TRANSPORT' (known: usart, dfu)" >&2
	exit 1
	;;
esac

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

# start_sim [sysboot-sim options and firmware...]: the board on the
# transport, flash kept in $TMP/board.bin, its messages in $TMP/sim.log.
start_sim() {
	rm -f "$PORT" "$TMP/env"
	if [ "$TRANSPORT" = dfu ]; then
		set -- --usb "umockdev:$TMP/env" "$@"
	fi
	"$SIM" --flash "$TMP/board.bin" --usart2 "pty:$PORT" "$@" > "$TMP/sim.log" 2>&1 &
	PID=$!
	n=0
	while { [ ! -e "$PORT" ] || { [ "$TRANSPORT" = dfu ] && [ ! -s "$TMP/env" ]; }; } &&
	      [ $n -lt 50 ]; do
		sleep 0.1
		n=$((n + 1))
	done
	[ -e "$PORT" ] || fail "the emulator did not start: $(cat "$TMP/sim.log")"
}

# stop_sim: end the emulator as Ctrl-C would (it prints its summary).
stop_sim() {
	kill -INT "$PID" 2>/dev/null
	wait "$PID" 2>/dev/null
	PID=""
}

# wait_sim SECONDS: wait for the emulator to end by itself (a power cut);
# false, and the emulator stopped, when it is still running after that.
wait_sim() {
	n=0
	while kill -0 "$PID" 2>/dev/null; do
		if [ $n -ge $(($1 * 10)) ]; then
			stop_sim
			return 1
		fi
		sleep 0.1
		n=$((n + 1))
	done
	wait "$PID" 2>/dev/null
	PID=""
	return 0
}

# host_update IMAGE [sysboot update options]: update the board on the transport.
host_update() {
	img=$1
	shift
	case $TRANSPORT in
	usart)
		"$SYSBOOT" update "$img" --port "$PORT" "$@"
		;;
	dfu)
		# The libusb client in the emulator's umockdev testbed (an
		# ASan-built one after the preload library).
		ASAN_OPTIONS="verify_asan_link_order=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}" \
			env $(cat "$TMP/env") "$SYSBOOT" update "$img" --port usb --enter-port "$PORT" "$@"
		;;
	esac
}

# board_state: power the board in $TMP/board.bin up as it is and say what it
# starts: v1 or v2 (the application, by its image header), rom (the ROM
# bootloader), or brick (a fault, or nothing that answers); details of a
# brick in $TMP/after.log and $TMP/after.trace.
board_state() {
	"$SIM" --flash "$TMP/board.bin" --usart2 none --fast --run-for 400 --trace "$TMP/after.trace" \
		> "$TMP/after.log" 2>&1 || { echo brick; return; }
	if grep -q "ROM bootloader ready" "$TMP/after.trace"; then
		echo rom
	elif grep -q "USART2: .*transmitter on" "$TMP/after.trace"; then
		"$SIM" --flash "$TMP/board.bin" --usart2 none --fast --run-for 1 --control stdin --quiet \
			> "$TMP/hdr" 2>&1 <<-EOC
			read 0x08002014 4
			quit
		EOC
		if grep -q "^ok 00000200" "$TMP/hdr"; then
			echo v2
		else
			echo v1
		fi
	else
		echo brick
	fi
}
