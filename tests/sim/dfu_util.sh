#!/bin/sh
# dfu_util.sh - Debian's unmodified dfu-util, and a plain libusb program,
# against the emulated ROM's USB DFU device served through umockdev (no
# kernel USB). Proves the DfuSe interface end to end:
#  - dfu-util -l shows 0483:df11 with its four alternate settings and their
#    memory layout strings, and the ROM's serial;
#  - dfu-util -D writes the stub + application image, -U reads it back
#    byte-identical, and -s 0x08000000:leave starts it: the board then runs
#    the application (its banner on USART2);
#  - a DfuSe file (.dfu, two elements) made by `sysboot image build` goes in
#    through the alternate setting it names, and reads back as the image;
#  - a mass erase empties the flash;
#  - an address outside the memory map fails with errTARGET;
#  - a board without a DFU clock (no LSE and no HSE, or a 25 MHz HSE) offers
#    no USB: dfu-util finds no device and the trace says why;
#  - usb_client: hotplug, a stall and its recovery, errADDRESS, port reset,
#    and the device leaving and coming back with a new address;
#  - usb_client attach: 100 detaches and attaches (DFU_DETACH, an instant
#    host), each new device asked for its strings the moment it appears:
#    every request answered, none refused as if the device were gone.
#
# usage: dfu_util.sh SIM USB_CLIENT FIRMWARE_DIR SYSBOOT
set -u
SIM=$1
CLIENT=$2
FW=$3
SYSBOOT=$4
TMP=$(mktemp -d "${TMPDIR:-/tmp}/sysboot-dfu.XXXXXX")
PID=""
NAME=""
# An ASan-built client under the umockdev preload library needs this.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"

cleanup() {
	[ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

fail() {
	echo "FAIL: $*" >&2
	[ -f "$TMP/out" ] && cat "$TMP/out" >&2
	[ -n "$NAME" ] && [ -f "$TMP/$NAME.trace" ] && tail -15 "$TMP/$NAME.trace" >&2
	[ -n "$NAME" ] && [ -f "$TMP/$NAME.log" ] && cat "$TMP/$NAME.log" >&2
	exit 1
}

command -v dfu-util > /dev/null || fail "dfu-util is not installed (scripts/setup-deps installs it)"

# start NAME SIM-OPTIONS...: a board with its USB device served through umockdev.
start() {
	NAME=$1
	shift
	"$SIM" --usb "umockdev:$TMP/$NAME.env" --usart2 none --trace "$TMP/$NAME.trace" "$@" \
		> "$TMP/$NAME.log" 2>&1 &
	PID=$!
	n=0
	while [ ! -s "$TMP/$NAME.env" ] && [ $n -lt 100 ]; do sleep 0.05; n=$((n + 1)); done
	[ -s "$TMP/$NAME.env" ] || fail "$NAME: the emulator wrote no client environment"
}

# stop: end the board; it must shut down cleanly (status 0: no crash, no leak).
stop() {
	kill "$PID" 2>/dev/null
	wait "$PID"
	st=$?
	PID=""
	[ $st -eq 0 ] || fail "$NAME: the emulator exited $st when stopped"
}

# traced TEXT [SECONDS]: wait until the trace shows TEXT.
traced() {
	n=0
	while ! grep -q "$1" "$TMP/$NAME.trace" 2>/dev/null && [ $n -lt $((${2:-5} * 20)) ]; do
		sleep 0.05
		n=$((n + 1))
	done
	grep -q "$1" "$TMP/$NAME.trace" 2>/dev/null
}

client() {
	env $(cat "$TMP/$NAME.env") "$@" > "$TMP/out" 2>&1
}

# The image dfu-util writes: the boot stub at 0x08000000, the application at 0x08002000.
arm-none-eabi-objcopy -O binary "$FW/stub.elf" "$TMP/stub.bin" || fail "cannot make the stub binary"
size=$(stat -c %s "$TMP/stub.bin")
[ "$size" -le 8192 ] || fail "the stub is larger than 8 KB"
{ cat "$TMP/stub.bin"; head -c $((8192 - size)) /dev/zero | tr '\0' '\377'; cat "$FW/app-v1.img"; } \
	> "$TMP/image.bin"
isize=$(stat -c %s "$TMP/image.bin")

# 1. List, write, read back, leave: the application runs.
start a --boot0 --flash "$TMP/a.bin" --until-uart "sysboot reference application v1"
traced "USB DFU device attached" || fail "the DFU device never attached"
client dfu-util -l || fail "dfu-util -l failed"
grep -q 'Found DFU: \[0483:df11\] ver=2200, devnum=2, cfg=1, intf=0, path="1-1", alt=0, name="@Internal Flash  /0x08000000/0512\*0002Kg", serial="327931683634"' "$TMP/out" ||
	fail "dfu-util -l does not show the internal flash alternate setting"
grep -q 'alt=1, name="@Option Bytes  /0x1FFF7800/01\*040 e"' "$TMP/out" || fail "no option bytes alternate setting"
grep -q 'alt=2, name="@OTP Memory /0x1FFF7000/01\*0001Ke"' "$TMP/out" || fail "no OTP alternate setting"
grep -q 'alt=3, name="@Device Feature/0xFFFF0000/01\*004 e"' "$TMP/out" || fail "no device feature alternate setting"
client dfu-util -a 0 -s 0x08000000 -D "$TMP/image.bin" || fail "dfu-util -D failed"
grep -q "File downloaded successfully" "$TMP/out" || fail "dfu-util did not report a successful download"
client dfu-util -a 0 -s "0x08000000:$isize" -U "$TMP/back.bin" || fail "dfu-util -U failed"
cmp "$TMP/image.bin" "$TMP/back.bin" || fail "the image read back differs from the one written"
client dfu-util -a 0 -s 0x08000000:leave -D "$TMP/image.bin" || fail "dfu-util -s 0x08000000:leave -D failed"
grep -q "Transitioning to dfuMANIFEST state" "$TMP/out" || fail "dfu-util did not see dfuMANIFEST"
n=0
while kill -0 "$PID" 2>/dev/null && [ $n -lt 100 ]; do sleep 0.05; n=$((n + 1)); done
kill -0 "$PID" 2>/dev/null && fail "the application did not print its banner after the leave request"
wait "$PID"
st=$?
PID=""
[ $st -eq 0 ] || fail "the emulator exited $st"
grep -q "expected serial output seen" "$TMP/a.log" || fail "the emulator did not see the banner"
grep -q "DFU leave to 0x08000000: MSP=0x20018000" "$TMP/a.trace" || fail "no jump traced"
grep -q "USB DFU device detached: the ROM leaves DFU mode" "$TMP/a.trace" || fail "the device did not detach"

# 2. A DfuSe file, then a mass erase: the flash reads erased.
start b --boot0 --flash "$TMP/a.bin"
traced "USB DFU device attached" || fail "the DFU device never attached"
"$SYSBOOT" image build "$FW/app-v1.elf" --version 1.0.0 -o "$TMP/app.dfu" > "$TMP/out" 2>&1 ||
	fail "sysboot image build could not make a .dfu"
client dfu-util -a 0 -D "$TMP/app.dfu" || fail "dfu-util -D app.dfu failed"
grep -q "Image for alternate setting 0, (2 elements" "$TMP/out" || fail "dfu-util did not read two elements"
client dfu-util -a 0 -s "0x08002000:$(stat -c %s "$FW/app-v1.img")" -U "$TMP/img.bin" ||
	fail "dfu-util -U of the .dfu's image failed"
cmp "$FW/app-v1.img" "$TMP/img.bin" || fail "the .dfu did not write the image"
client dfu-util -a 0 -s 0x08000000:mass-erase:force || fail "dfu-util mass erase failed"
grep -q "DFU: mass erase done" "$TMP/b.trace" || fail "the ROM did not mass erase"
client dfu-util -a 0 -s 0x08000000:64 -U "$TMP/erased.bin" || fail "dfu-util -U after the mass erase failed"
head -c 64 /dev/zero | tr '\0' '\377' | cmp - "$TMP/erased.bin" || fail "the flash is not erased"

# 3. An address outside the memory map: errTARGET.
head -c 64 /dev/zero > "$TMP/small.bin"
client dfu-util -a 0 -s 0x08100000:force -D "$TMP/small.bin" && fail "dfu-util wrote outside the flash"
grep -q 'SET_ADDRESS" not correctly executed\|SET_ADDRESS not correctly executed' "$TMP/out" ||
	fail "dfu-util did not report the failed Set Address Pointer"
grep -q "dfuERROR, errTARGET: Set Address Pointer 0x08100000: not an address of the memory map" "$TMP/b.trace" ||
	fail "the trace does not say why"
stop

# 4. The libusb client: hotplug (it starts before the device attaches), stall, errADDRESS, reset, re-attach.
start c --boot0
client "$CLIENT" checks 5000 || fail "usb_client failed"
grep -q "usb_client: all checks passed" "$TMP/out" || fail "usb_client did not finish"
grep -q "the device came back at address 3" "$TMP/out" || fail "the device did not come back with a new address"
stop

# 5. Attach after attach: a device the host can see serves its requests at once.
start f --boot0 --instant-host
client "$CLIENT" attach 100 5000 || fail "usb_client attach failed"
grep -q "usb_client: 100 attaches, every descriptor answered at the first request" "$TMP/out" ||
	fail "usb_client attach did not finish"
stop
[ "$(grep -c "USB DFU device attached" "$TMP/f.trace")" -ge 100 ] || fail "the board did not attach 100 times"

# 6. No DFU clock: no USB, and the trace says why.
start d --boot0 --no-lse --hse 0
traced "USB DFU not offered: the board has no LSE and no HSE" || fail "no trace of the missing DFU clock"
client dfu-util -l || fail "dfu-util -l failed without a device"
grep -q "Found DFU" "$TMP/out" && fail "dfu-util found a device on a board without a DFU clock"
client dfu-util -a 0 -s 0x08000000 -D "$TMP/image.bin" && fail "dfu-util downloaded to a board without USB"
grep -q "No DFU capable USB device available" "$TMP/out" || fail "dfu-util did not say it found no device"
stop

start e --boot0 --no-lse --hse 25000000
traced "an HSE of 25 MHz, not one of 24, 20, 18, 16, 12, 9, 8, 6 or 4 MHz" ||
	fail "no trace of the unlisted HSE"
client dfu-util -l || fail "dfu-util -l failed without a device"
grep -q "Found DFU" "$TMP/out" && fail "dfu-util found a device on a board with a 25 MHz HSE"
stop

echo "dfu-util: list, download, upload identical, leave and run, .dfu file, mass erase, errTARGET, usb_client, 100 attaches, no DFU clock: all passed"
