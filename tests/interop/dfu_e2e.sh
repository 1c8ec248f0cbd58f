#!/bin/sh
# dfu_e2e.sh - end-to-end tests of sysboot over USB DFU against the emulated
# board, whose ROM serves its DFU device through umockdev (no kernel USB).
#
# Why shell: as in e2e.sh, these are about separate, unmodified programs
# (sysboot, dfu-util, sysboot-sim) meeting as a technician would run them.
# Each case starts its own emulator, with its own umockdev testbed and a
# fresh flash file, and every USB client runs with the environment the
# emulator wrote (UMOCKDEV_DIR, LD_PRELOAD=libumockdev-preload.so.0).
#
# usage: dfu_e2e.sh CASE   (env: SYSBOOT, SIM, FW)
set -u

CASE=$1
NAME=dfu-$CASE
# TMP, PORT, PID, cleanup on exit, stop_sim.
. "$(dirname "$0")/board.sh"
CTL=$TMP/ctl
# An ASan-built client under the umockdev preload (which comes first).
ASAN_OPTIONS="verify_asan_link_order=0:detect_leaks=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export ASAN_OPTIONS

fail() {
	echo "FAIL ($CASE): $*" >&2
	[ -f "$TMP/sim.trace" ] && tail -15 "$TMP/sim.trace" >&2
	[ -f "$TMP/sim.log" ] && tail -5 "$TMP/sim.log" >&2
	exit 1
}

# start_sim [sysboot-sim options and firmware...]: the board, its USART2
# on $PORT, its USB device served through umockdev, a control socket.
start_sim() {
	rm -f "$TMP/env" "$PORT"
	"$SIM" --flash "$TMP/board.bin" --usart2 "pty:$PORT" --usb "umockdev:$TMP/env" \
		--control "unix:$CTL" --trace "$TMP/sim.trace" "$@" >> "$TMP/sim.log" 2>&1 &
	PID=$!
	n=0
	while { [ ! -s "$TMP/env" ] || [ ! -e "$PORT" ]; } && [ "$n" -lt 50 ]; do
		sleep 0.1
		n=$((n + 1))
	done
	[ -s "$TMP/env" ] || fail "the emulator wrote no client environment"
	CLIENT="env $(cat "$TMP/env")"
}

# control COMMAND: one line on the emulator's control socket.
control() {
	python3 - "$CTL" "$1" <<'PY' || fail "control command '$1' failed"
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(sys.argv[2].encode() + b"\n")
answer = s.recv(200).decode()
sys.exit(0 if answer.startswith("ok") else 1)
PY
}

# usb PROGRAM args...: a libusb program in the emulator's testbed.
usb() {
	env $(cat "$TMP/env") "$@"
}

. "$(dirname "$0")/checks.sh"

# dfu ARGS...: Debian's dfu-util on the emulated device.
dfu() {
	usb dfu-util "$@" > "$TMP/dfu.log" 2>&1 || { cat "$TMP/dfu.log" >&2; fail "dfu-util $*"; }
}

# Bytes of the flash file: flash_bytes OFFSET COUNT > FILE
flash_bytes() {
	dd if="$TMP/board.bin" bs=1 skip="$1" count="$2" 2>/dev/null
}

# A large valid image: application v2 followed by 60 KB it never runs,
# so an update takes long enough to be interrupted mid-write.
big_image() {
	dd if="$v2" bs=512 skip=1 2>/dev/null > "$TMP/big.bin"
	head -c 61440 /dev/urandom >> "$TMP/big.bin"
	"$SYSBOOT" image build "$TMP/big.bin" --address 0x08002200 --version 2.0.0 \
		-o "$TMP/big.img" > /dev/null || fail "image build"
}

# uart_capture: what the board prints on USART2 from now on, into $TMP/uart
# (the reader ends with the emulator, which holds the pty's other side).
uart_capture() {
	cat "$PORT" > "$TMP/uart" 2>/dev/null &
}

# header_erased: the header slot reads as erased flash (the board is in the
# ROM): an interrupted update never leaves a header over a partial body.
header_erased() {
	run 0 read 0x08002000 64 -o "$TMP/hdr.bin" --port usb
	[ "$(tr -d '\377' < "$TMP/hdr.bin" | wc -c)" -eq 0 ] || fail "a header was written before the body"
}

# wait_for TEXT FILE: until FILE holds TEXT (5 s at most).
wait_for() {
	n=0
	while ! grep -qF -- "$1" "$2" 2>/dev/null && [ "$n" -lt 100 ]; do
		sleep 0.05
		n=$((n + 1))
	done
	grep -qF -- "$1" "$2" || fail "no '$1' in $2"
}

v1=$FW/app-v1.img
v2=$FW/app-v2.img

case "$CASE" in
update)
	# A board in the ROM by BOOT0, its stub in flash; a valid v1 too.
	start_sim --boot0 "$FW/stub.elf" "$v1@0x08002000"
	run 0 update "$v2" --port usb --json
	expect_out '"verify":"readback","confirmed":true'
	grep -q "the host speaks USB DFU" "$TMP/sim.trace" || fail "no DFU session in the trace"
	grep -q "DFU leave to 0x08000000" "$TMP/sim.trace" || fail "no leave to the stub"
	stop_sim
	# The flash holds the stub as loaded and the new image after it.
	"$SIM" --flash "$TMP/ref.bin" --run-for 1 --quiet "$FW/stub.elf" > /dev/null 2>&1
	dd if="$TMP/ref.bin" bs=8192 count=1 2>/dev/null > "$TMP/stub.want"
	flash_bytes 0 8192 > "$TMP/stub.got"
	cmp "$TMP/stub.want" "$TMP/stub.got" || fail "the stub's pages changed"
	flash_bytes 8192 "$(wc -c < "$v2")" > "$TMP/img.got"
	cmp "$v2" "$TMP/img.got" || fail "the flash does not hold app-v2.img"
	;;
enter)
	# The application runs; it is asked over its serial line.
	start_sim "$FW/stub.elf" "$v1@0x08002000"
	sleep 1
	run 0 update "$v2" --port usb --enter-port "$PORT" --json
	expect_out '"verify":"stub","confirmed":true'
	expect_out '"running_version":"2.0.0"'
	grep -q "USB DFU device attached" "$TMP/sim.trace" || fail "the ROM never offered DFU"
	;;
enter-exec)
	# The user's own command asks the application (here: a printf to its
	# serial line); without a line to watch, the update reads back.
	start_sim "$FW/stub.elf" "$v1@0x08002000"
	sleep 1
	run 0 update "$v2" --port usb --enter-exec "printf 'bootloader\\r\\n' > $PORT" --json
	expect_out '"verify":"readback","confirmed":true'
	run 1 info --port usb --enter-exec "exit 9"
	expect_err 'the --enter-exec command "exit 9" failed (exit status 9)'
	;;
dfu-util)
	start_sim --boot0 "$FW/stub.elf"
	# sysboot writes (once the device is up), dfu-util uploads: identical.
	head -c 5000 /dev/urandom > "$TMP/a.bin"
	run 0 write "$TMP/a.bin" --address 0x08010000 --port usb
	# dfu-util lists the device sysboot found.
	dfu -l
	grep -q 'Found DFU: \[0483:df11\].*alt=0, name="@Internal Flash' "$TMP/dfu.log" ||
		fail "dfu-util -l does not list the internal flash"
	dfu -a 0 -s 0x08010000:5000 -U "$TMP/b.bin"
	cmp "$TMP/a.bin" "$TMP/b.bin" || fail "dfu-util uploaded other bytes than sysboot wrote"
	# Both read the same 8 KB across the stub and the header slot.
	run 0 read 0x08000000 8192 -o "$TMP/s.bin" --port usb
	dfu -a 0 -s 0x08000000:8192 -U "$TMP/u.bin"
	cmp "$TMP/s.bin" "$TMP/u.bin" || fail "sysboot read and dfu-util -U differ"
	;;
dfu-util-download)
	start_sim --boot0 "$FW/stub.elf"
	head -c 5000 /dev/urandom > "$TMP/a.bin"
	run 0 write "$TMP/a.bin" --address 0x08010000 --port usb
	# sysboot reads into a .dfu, dfu-util writes it back where it was.
	run 0 read 0x08010000 5000 -o "$TMP/a.dfu" --port usb
	dfu-suffix -c "$TMP/a.dfu" > /dev/null 2>&1 || fail "dfu-suffix rejects sysboot's .dfu"
	run 0 erase --pages 32-34 --port usb
	dfu -a 0 -D "$TMP/a.dfu"
	run 0 read 0x08010000 5000 -o "$TMP/c.bin" --port usb
	cmp "$TMP/a.bin" "$TMP/c.bin" || fail "sysboot read other bytes than dfu-util wrote"
	;;
runs)
	# A 66 KB image written and read back by sysboot in runs of blocks,
	# one Set Address Pointer each, then read by dfu-util: the same bytes.
	big_image
	len=$(wc -c < "$TMP/big.img")
	blocks=$(( (len + 2047) / 2048 ))
	start_sim --boot0 "$FW/stub.elf" "$v1@0x08002000"
	run 0 update "$TMP/big.img" --port usb --json
	expect_out '"verify":"readback","confirmed":true'
	stop_sim
	# The session's control transfers, as the emulator counted them: per
	# 2 KB a page erase (3), a DNLOAD with its two GETSTATUS (3) and an
	# UPLOAD (1), where a Set Address Pointer per block made it 15; the
	# rest is enumeration, the runs' addresses, the leave (260 at 32 blocks).
	n=$(sed -n 's/.*USB DFU: \([0-9]*\) control transfers.*/\1/p' "$TMP/sim.log" | tail -1)
	[ -n "$n" ] || fail "no USB DFU summary from the emulator"
	[ "$n" -le $((8 * blocks + 40)) ] || fail "$n control transfers for $blocks blocks"
	start_sim --boot0
	run 0 read 0x08002000 "$len" -o "$TMP/s.bin" --port usb
	cmp "$TMP/big.img" "$TMP/s.bin" || fail "sysboot read other bytes than it wrote"
	dfu -a 0 -s "0x08002000:$len" -U "$TMP/u.bin"
	cmp "$TMP/big.img" "$TMP/u.bin" || fail "dfu-util -U reads other bytes than sysboot wrote"
	flash_bytes 8192 "$len" > "$TMP/img.got"
	cmp "$TMP/big.img" "$TMP/img.got" || fail "the flash does not hold the image"
	;;
info)
	start_sim --boot0 "$FW/stub.elf"
	run 0 info --port usb
	expect_out 'chip:         STM32L47x/48x (known by its DFU interface'
	expect_out 'alt 0: @Internal Flash  /0x08000000/0512*0002Kg'
	expect_out '0x92 Read Unprotect'
	expect_out 'RDP:       0xaa, level 0'
	run 0 info --port usb --json
	expect_out '"protocol":"DfuSe","usb":{"vid":"0x0483","pid":"0xdf11"'
	expect_out '"transfer_size":2048'
	expect_out '"rdp_level":0'
	;;
erase)
	start_sim --boot0 "$FW/stub.elf"
	head -c 2048 /dev/urandom > "$TMP/a.bin"
	run 0 write "$TMP/a.bin" --address 0x08040000 --port usb
	run 0 erase --pages 128-128 --port usb
	run 0 read 0x08040000 2048 -o "$TMP/b.bin" --port usb
	[ "$(tr -d '\377' < "$TMP/b.bin" | wc -c)" -eq 0 ] || fail "page not erased"
	run 2 erase --mass --port usb
	expect_err 'touches the boot stub'
	run 0 erase --mass --allow-stub-erase --port usb
	run 0 read 0x08000000 64 -o "$TMP/c.bin" --port usb
	[ "$(tr -d '\377' < "$TMP/c.bin" | wc -c)" -eq 0 ] || fail "mass erase left the stub"
	;;
go)
	start_sim --boot0 "$FW/stub.elf"
	run 0 write "$v1" --address 0x08002000 --port usb
	uart_capture
	run 0 go --port usb
	expect_out 'started the code at 0x08000000'
	# The stub took the image and started it.
	wait_for "sysboot reference application v1.0.0" "$TMP/uart"
	;;
stall)
	# Readout protection (set over the serial line): the ROM stalls uploads.
	start_sim --boot0 "$FW/stub.elf"
	"$SYSBOOT" protect --readout --port "$PORT" --no-enter > /dev/null 2>&1 ||
		fail "protect --readout over the serial line"
	run 6 read 0x08000000 16 -o "$TMP/x.bin" --port usb
	expect_err 'refused the read of 16 bytes at 0x08000000: it stalled DFU_UPLOAD (status errVENDOR'
	expect_err '(4 attempts): the chip may be readout-protected (RDP level 1)'
	run 0 info --port usb
	expect_out 'readout:      PROTECTED (RDP level 1)'
	run 2 unprotect --readout --port usb
	expect_err 'MASS-ERASES THE WHOLE FLASH'
	run 0 unprotect --readout --yes-erase-everything --port usb
	run 0 read 0x08000000 16 -o "$TMP/x.bin" --port usb
	[ "$(tr -d '\377' < "$TMP/x.bin" | wc -c)" -eq 0 ] || fail "flash not erased by Read Unprotect"
	run 2 protect --stub --port usb
	expect_err "the ROM's USB DFU interface has no write-protect"
	;;
no-clock)
	# No LSE, no HSE: the ROM runs (it answers on its USART) but offers no USB.
	start_sim --boot0 --no-lse --hse 0 "$FW/stub.elf"
	run 5 info --port usb --dfu-wait 3000
	expect_err 'no DFU device 0483:df11 appeared within 3000 ms'
	expect_err 'the ROM offers USB DFU only with an LSE (32.768 kHz) or an HSE of 24, 20, 18, 16, 12, 9, 8, 6 or 4 MHz (AN2606)'
	run 0 info --port "$PORT" --no-enter
	expect_out 'device ID 0x415'
	;;
wrong-chip)
	# The ROM of a part with 512 KB of flash.
	start_sim --boot0 --dfu-alt "0=@Internal Flash  /0x08000000/0256*0002Kg" "$FW/stub.elf"
	run 7 update "$v2" --port usb
	expect_err 'wrong chip: the DFU device on usb (bus 1 device'
	expect_err '(512 KB in 2048-byte sectors from 0x08000000), but an STM32L47x/48x has 1 MB'
	grep -q "the host speaks USB DFU" "$TMP/sim.trace" && fail "DFU requests were sent"
	;;
dfu-files)
	# .dfu files that must be refused before the board is touched.
	start_sim --boot0 "$FW/stub.elf" "$v1@0x08002000"
	"$SYSBOOT" image build "$FW/app-v2.elf" --version 2.0.0 -o "$TMP/v2.dfu" > /dev/null ||
		fail "image build -o v2.dfu"
	# dfu-util's own tool gives it another device's suffix (and CRC).
	cp "$TMP/v2.dfu" "$TMP/other.dfu"
	dfu-suffix -D "$TMP/other.dfu" > /dev/null 2>&1
	dfu-suffix -v 1234 -p 5678 -S 0x011a -a "$TMP/other.dfu" > /dev/null 2>&1 || fail "dfu-suffix"
	run 3 update "$TMP/other.dfu" --port usb
	expect_err 'is a DfuSe file for another chip: its suffix names USB device 1234:5678'
	cp "$TMP/v2.dfu" "$TMP/crc.dfu"
	printf '\001' | dd of="$TMP/crc.dfu" bs=1 seek=400 conv=notrunc 2>/dev/null
	run 3 update "$TMP/crc.dfu" --port usb
	expect_err 'crc.dfu: DFU suffix CRC mismatch'
	grep -q "the host speaks USB DFU" "$TMP/sim.trace" && fail "the board was talked to"
	# The good one goes in.
	run 0 update "$TMP/v2.dfu" --port usb --json
	expect_out '"confirmed":true'
	;;
vanish)
	# The power goes in the middle of the write: the board disconnects,
	# then starts its ROM (no valid header), and the same update finishes.
	big_image
	start_sim "$FW/stub.elf" "$v1@0x08002000"
	sleep 1
	# Aimed at a block in the middle, not timed: the cut must fall inside
	# the write however loaded the machine is.
	control 'power-cut-on program@0x08008000'
	env $(cat "$TMP/env") "$SYSBOOT" update "$TMP/big.img" --port usb --enter-port "$PORT" \
		> "$TMP/out" 2> "$TMP/err" &
	UP=$!
	wait "$UP"
	st=$?
	[ "$st" -eq 4 ] || { cat "$TMP/err" >&2; fail "exit $st, expected 4"; }
	expect_err 'the board disconnected during the write of 2048 bytes at 0x08008000'
	# Powered again without BOOT0: only a stub that found no valid header
	# starts the ROM, whose DFU device the same update then finds.
	control power-on
	header_erased
	run 0 update "$TMP/big.img" --port usb --json
	expect_out '"confirmed":true'
	;;
interrupt)
	big_image
	start_sim --boot0 "$FW/stub.elf" "$v1@0x08002000"
	# Not through usb(): the signal must reach sysboot itself.
	env $(cat "$TMP/env") "$SYSBOOT" update "$TMP/big.img" --port usb \
		> "$TMP/out" 2> "$TMP/err" &
	UP=$!
	wait_for "write: " "$TMP/err"
	sleep 0.3
	kill -INT "$UP"
	wait "$UP"
	st=$?
	[ "$st" -eq 130 ] || { cat "$TMP/err" >&2; fail "exit $st, expected 130"; }
	expect_err 'interrupted: the board will start the ROM bootloader at its next reset'
	# The header is gone: reset without BOOT0, and the stub starts the
	# ROM, whose DFU device the same update finds.
	control "boot0 0"
	control reset
	header_erased
	run 0 update "$TMP/big.img" --port usb
	expect_out 'confirmed: the flash reads back identical'
	;;
*)
	fail "unknown case"
	;;
esac
echo "ok ($CASE)"
