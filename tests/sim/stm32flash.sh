#!/bin/sh
# stm32flash.sh - Debian's unmodified stm32flash against the emulated ROM
# bootloader, through the board's pseudo-terminal (AN3155 interoperability).
#
# Reads the device ID, writes an image with verification, reads it back
# identical, then starts it with Go (-g) and sees it run. Linux ptys refuse
# even parity, so stm32flash runs with the noparity LD_PRELOAD shim; the
# emulated ROM itself is not relaxed in any way.
#
# usage: stm32flash.sh SIM NOPARITY_SO FIRMWARE_DIR
set -u
SIM=$1
NOPARITY=$2
FW=$3
TMP=$(mktemp -d "${TMPDIR:-/tmp}/sysboot-stm32flash.XXXXXX")
PORT=$TMP/nucleo
SIM_PID=""

cleanup() {
	[ -n "$SIM_PID" ] && kill "$SIM_PID" 2>/dev/null && wait "$SIM_PID" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

fail() {
	echo "FAIL: $*" >&2
	[ -f "$TMP/out" ] && cat "$TMP/out" >&2
	[ -f "$TMP/trace" ] && tail -15 "$TMP/trace" >&2
	exit 1
}

flash() {
	LD_PRELOAD=$NOPARITY stm32flash -b 115200 "$@" "$PORT" > "$TMP/out" 2>&1
}

command -v stm32flash > /dev/null || fail "stm32flash is not installed (scripts/setup-deps installs it)"

# The board boots the ROM bootloader (BOOT0 high), flash erased.
"$SIM" --boot0 --flash "$TMP/board.bin" --usart2 "pty:$PORT" --trace "$TMP/trace" \
	> "$TMP/sim.log" 2>&1 &
SIM_PID=$!
n=0
while [ ! -e "$PORT" ] && [ $n -lt 50 ]; do sleep 0.1; n=$((n + 1)); done
[ -e "$PORT" ] || fail "the emulator did not create $PORT"
sleep 0.2   # the ROM's start-up time (55 ms with LSE)

flash || fail "stm32flash could not talk to the ROM"
grep -q "Device ID    : 0x0415" "$TMP/out" || fail "stm32flash did not read device ID 0x0415"
grep -q "Version      : 0x31" "$TMP/out" || fail "stm32flash did not read protocol version 3.1"

# Write with verification, read back, compare.
arm-none-eabi-objcopy -O binary "$FW/tests/uart_echo.elf" "$TMP/image.bin" ||
	fail "cannot make a binary of the test firmware"
flash -w "$TMP/image.bin" -v -S 0x08000000 || fail "stm32flash -w -v failed"
grep -q "Done" "$TMP/out" || fail "stm32flash did not finish writing"
size=$(stat -c %s "$TMP/image.bin")
flash -r "$TMP/back.bin" -S "0x08000000:$size" || fail "stm32flash -r failed"
cmp "$TMP/image.bin" "$TMP/back.bin" || fail "the image read back differs from the one written"
grep -q "page 0 erased" "$TMP/trace" || fail "the ROM model traced no erase of page 0"

# Go: the firmware starts; its first act, configuring USART2, shows in the
# board's trace after the ROM's Go.
flash -g 0x08000000 || fail "stm32flash -g failed"
n=0
while ! awk '/Go 0x08000000/ { go = 1 } go && /USART2: .* transmitter on/ { found = 1 } END { exit !found }' \
	"$TMP/trace" && [ $n -lt 30 ]; do
	sleep 0.1
	n=$((n + 1))
done
grep -q "Go 0x08000000: MSP=0x20018000" "$TMP/trace" || fail "the ROM model did not trace the Go"
awk '/Go 0x08000000/ { go = 1 } go && /USART2: .* transmitter on/ { found = 1 } END { exit !found }' \
	"$TMP/trace" || fail "the firmware did not run after Go (it never configured USART2)"
echo "stm32flash: ID, write+verify, read back identical, Go: all passed"
