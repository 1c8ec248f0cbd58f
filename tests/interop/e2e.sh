#!/bin/sh
# e2e.sh - end-to-end tests of the sysboot tool against the emulated board.
#
# Why shell: these tests are about processes meeting on a pseudo-terminal
# (sysboot, sysboot-sim, stm32flash) exactly as a technician would run them.
# Each case starts its own emulator with a fresh flash file in its own temp
# dir and kills it on exit. The emulator keeps real time on a pty, which is
# right for external programs; images stay small so each case takes seconds.
#
# usage: e2e.sh CASE   (env: SYSBOOT, SIM, FW, NOPARITY)
set -u

CASE=$1
TMP=$(mktemp -d "${TMPDIR:-/tmp}/sysboot-e2e-$CASE.XXXXXX")
SIM_PID=""
PORT=$TMP/nucleo

cleanup() {
	[ -n "$SIM_PID" ] && kill "$SIM_PID" 2>/dev/null
	[ -n "$SIM_PID" ] && wait "$SIM_PID" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

fail() {
	echo "FAIL ($CASE): $*" >&2
	[ -f "$TMP/sim.log" ] && tail -20 "$TMP/sim.log" >&2
	exit 1
}

# start_sim [firmware files...]: the board with a (kept) flash file.
start_sim() {
	"$SIM" --flash "$TMP/board.bin" --usart2 "pty:$PORT" "$@" \
		>> "$TMP/sim.log" 2>&1 &
	SIM_PID=$!
	n=0
	while [ ! -e "$PORT" ] && [ "$n" -lt 50 ]; do
		sleep 0.1
		n=$((n + 1))
	done
	[ -e "$PORT" ] || fail "the emulator did not create $PORT"
}

stop_sim() {
	kill "$SIM_PID" 2>/dev/null
	wait "$SIM_PID" 2>/dev/null
	SIM_PID=""
	rm -f "$PORT"
}

. "$(dirname "$0")/checks.sh"

v1=$FW/app-v1.img
v2=$FW/app-v2.img

case "$CASE" in
update)
	start_sim "$FW/stub.elf" "$v1@0x08002000"
	sleep 1
	run 0 update "$v2" --port "$PORT" --json
	expect_out '"confirmed":true'
	grep -o '"running_version":"[^"]*"' "$TMP/out"
	;;
no-lse)
	# No LSE: the ROM starts in 2.56 s (AN2606), past the quick tries of
	# the first 500 ms; the slower ones that follow must still find it.
	start_sim --no-lse --trace "$TMP/trace" "$FW/stub.elf" "$v1@0x08002000"
	sleep 1
	run 0 update "$v2" --port "$PORT"
	expect_out 'confirmed: the board runs v2.0.0'
	grep -q "ROM bootloader ready after 2560.0 ms" "$TMP/trace" ||
		fail "the ROM did not take the no-LSE start-up: $(grep 'ROM bootloader ready' "$TMP/trace")"
	;;
readback)
	start_sim "$FW/stub.elf" "$v1@0x08002000"
	sleep 1
	run 0 update "$v2" --port "$PORT" --verify=readback
	expect_out 'reads back identical'
	;;
info)
	start_sim "$FW/stub.elf"          # no image: the stub starts the ROM
	run 0 info --port "$PORT" --no-enter
	expect_out 'device ID 0x415'
	expect_out 'RDP:       0xaa, level 0'
	# The stub's record in SRAM2 says why the board is in the ROM.
	expect_out 'entered by:   the boot stub refused the application image: no image header (erased or never written) (record 0x11 at 0x10007ff8)'
	run 0 info --port "$PORT" --no-enter --json
	expect_out '"device_id":"0x415"'
	expect_out '"rom_entry":{"why":"0x11","reason":"the boot stub refused the application image: no image header'
	;;
readwrite)
	start_sim "$FW/stub.elf"
	head -c 3000 /dev/urandom > "$TMP/data.bin"
	run 0 write "$TMP/data.bin" --address 0x08010000 --port "$PORT" --no-enter
	run 0 read 0x08010000 3000 -o "$TMP/back.bin" --port "$PORT" --no-enter
	cmp "$TMP/data.bin" "$TMP/back.bin" || fail "read differs from write"
	;;
erase)
	start_sim "$FW/stub.elf"
	head -c 2048 /dev/urandom > "$TMP/data.bin"
	run 0 write "$TMP/data.bin" --address 0x08010000 --port "$PORT" --no-enter
	run 0 erase --pages 32-32 --port "$PORT" --no-enter
	run 0 read 0x08010000 2048 -o "$TMP/back.bin" --port "$PORT" --no-enter
	[ "$(tr -d '\377' < "$TMP/back.bin" | wc -c)" -eq 0 ] || fail "page not erased"
	run 2 erase --pages 0-3 --port "$PORT" --no-enter
	run 2 erase --mass --port "$PORT" --no-enter
	expect_err 'touches the boot stub'
	;;
go)
	start_sim "$FW/stub.elf"
	run 0 write "$v1" --address 0x08002000 --port "$PORT" --no-enter
	run 0 go --port "$PORT" --no-enter
	expect_out 'started the code at 0x08000000'
	;;
no-such-port)
	run 4 info --port "$TMP/nothing-here" --no-enter
	expect_err "no such device: $TMP/nothing-here"
	;;
nobody)
	# A pty with nobody behind it: python holds the master and reads nothing.
	python3 -c 'import os,pty,sys,time
m,s=pty.openpty()
os.symlink(os.ttyname(s), sys.argv[1])
time.sleep(30)' "$PORT" &
	PY=$!
	sleep 0.5
	"$SYSBOOT" info --port "$PORT" --no-enter > "$TMP/out" 2> "$TMP/err"
	st=$?
	kill "$PY"
	[ "$st" -eq 5 ] || fail "exit $st, expected 5"
	expect_err "no answer from the ROM bootloader on $PORT: is the board in bootloader mode? (tried"
	;;
not-image)
	echo "hello" > "$TMP/x.img"
	run 3 update "$TMP/x.img" --port "$PORT"
	expect_err 'is not a sysboot application image'
	;;
nack)
	start_sim "$FW/stub.elf"
	run 0 protect --stub --port "$PORT" --no-enter
	sleep 3                               # option byte reload, ROM again
	head -c 8 /dev/zero > "$TMP/z.bin"
	run 6 write "$TMP/z.bin" --address 0x08000000 --allow-stub-erase --port "$PORT" --no-enter
	expect_err 'refused'
	run 0 unprotect --write --port "$PORT" --no-enter
	;;
whole-bank)
	# An image reaching the end of the flash: bank 2 goes in one bank
	# erase, after the header's page; bank 1's pages (never the stub's) one
	# by one. An instant host keeps this 1 MB update to a few seconds.
	tail -c +513 "$v2" > "$TMP/body.bin"
	head -c $((1040384 - 512 - $(stat -c %s "$TMP/body.bin"))) /dev/urandom >> "$TMP/body.bin"
	run 0 image build "$TMP/body.bin" --address 0x08002200 --version 2.0.0 -o "$TMP/big.img"
	start_sim --instant-host --trace "$TMP/trace" "$FW/stub.elf" "$v1@0x08002000"
	sleep 0.5
	run 0 update "$TMP/big.img" --port "$PORT" --json
	expect_out '"confirmed":true'
	expect_out '"pages_erased":508,"bank_erases":1'
	grep 'erased' "$TMP/trace" | head -1 | grep -q 'page 4 erased' ||
		fail "the header's page was not erased first: $(grep erased "$TMP/trace" | head -3)"
	[ "$(grep -c 'page [0-9]* erased' "$TMP/trace")" -eq 252 ] || fail "bank 1 was not erased page by page"
	grep -q 'bank 2 erased' "$TMP/trace" || fail "no bank 2 erase in the trace"
	grep -q 'page [0-3] erased' "$TMP/trace" && fail "a page of the boot stub was erased"
	;;
watchdog-hw)
	# OPTR.IWDG_SW = 0: the watchdog runs from every reset (512 ms); the
	# application refreshes it, the ROM takes it over (AN2606), the stub
	# refreshes it while it checks the new image.
	start_sim --optr 0xFFEEF8AA --trace "$TMP/trace" "$FW/stub.elf" "$v1@0x08002000"
	sleep 1.5
	run 0 update "$v2" --port "$PORT"
	expect_out 'confirmed: the board runs v2.0.0'
	sleep 1
	stop_sim
	grep -q "the ROM sets the watchdog prescaler to /256" "$TMP/trace" || fail "the ROM did not take the watchdog over"
	! grep -q "watchdog expired" "$TMP/trace" || fail "a watchdog reset: $(grep expired "$TMP/trace")"
	;;
watchdog-sw)
	# An application that starts its own watchdog (50 ms), updated to
	# another that does too.
	start_sim --trace "$TMP/trace" "$FW/stub.elf" "$FW/app-wdg-v1.img@0x08002000"
	sleep 1
	run 0 update "$FW/app-wdg-v2.img" --port "$PORT"
	expect_out 'confirmed: the board runs v2.0.0'
	sleep 1
	stop_sim
	[ "$(grep -c "independent watchdog started" "$TMP/trace")" -eq 2 ] || fail "v1 and v2 did not both start their watchdog"
	! grep -q "watchdog expired" "$TMP/trace" || fail "a watchdog reset: $(grep expired "$TMP/trace")"
	;;
rdp)
	# Readout protection level 1: every command says what it means, and
	# nothing erases the flash without --yes-erase-everything.
	start_sim "$FW/stub.elf" "$v1@0x08002000"
	sleep 1
	run 0 protect --readout --port "$PORT"
	sleep 1                               # option byte reload: the stub starts v1 again
	rdp1="readout-protected (RDP level 1): its ROM bootloader answers only Get, Get Version and Get ID"
	erases="Removing the protection mass-erases the whole flash, the boot stub included"
	run 0 info --port "$PORT"
	expect_out "readout:      PROTECTED (RDP level 1): its ROM bootloader answers only Get, Get Version and Get ID"
	expect_out "$erases"
	expect_out 'sysboot unprotect --readout --yes-erase-everything does it'
	run 0 info --port "$PORT" --no-enter --json
	expect_out '"rdp_level":1,"readout_protection":"the chip is readout-protected'
	run 6 read 0x08002000 64 -o "$TMP/r.bin" --port "$PORT" --no-enter
	expect_err "sysboot read: cannot read: the chip is $rdp1"
	run 6 update "$v2" --port "$PORT" --no-enter
	expect_err "sysboot update: cannot update: the chip is $rdp1"
	expect_err "$erases"
	run 6 write "$v2" --address 0x08002000 --port "$PORT" --no-enter
	expect_err "cannot write: the chip is $rdp1"
	run 6 erase --pages 10-10 --port "$PORT" --no-enter
	expect_err "cannot erase: the chip is $rdp1"
	run 2 unprotect --readout --port "$PORT" --no-enter
	expect_err 'MASS-ERASES THE WHOLE FLASH'
	# The flash file holds v1 and the stub as before, and the board still runs v1.
	stop_sim
	cmp -s -n "$(wc -c < "$v1")" -i 8192:0 "$TMP/board.bin" "$v1" || fail "the image changed under RDP level 1"
	start_sim
	sleep 1
	run 0 info --port "$PORT"
	expect_out 'PROTECTED'
	# With the flag: protection gone, and the flash with it.
	run 0 unprotect --readout --yes-erase-everything --port "$PORT" --no-enter
	expect_out 'the flash has been mass-erased'
	stop_sim
	[ "$(head -c 16384 "$TMP/board.bin" | tr -d '\377' | wc -c)" -eq 0 ] || fail "the flash was not erased"
	;;
interrupt)
	start_sim "$FW/stub.elf" "$v1@0x08002000"
	sleep 1
	"$SYSBOOT" update "$v2" --port "$PORT" > "$TMP/out" 2> "$TMP/err" &
	UP=$!
	# Stop it once the write phase has begun.
	n=0
	while ! grep -q "write" "$TMP/err" && [ "$n" -lt 100 ]; do
		sleep 0.05
		n=$((n + 1))
	done
	kill -INT "$UP"
	wait "$UP"
	st=$?
	[ "$st" -eq 130 ] || fail "exit $st, expected 130"
	expect_err 'interrupted: the board will start the ROM bootloader at its next reset'
	stop_sim
	start_sim                             # same flash file, power on again
	sleep 3
	run 0 info --port "$PORT" --no-enter
	expect_out 'device ID 0x415'
	;;
stm32flash)
	start_sim "$FW/stub.elf"
	head -c 4096 /dev/urandom > "$TMP/a.bin"
	# sysboot writes, stm32flash reads back.
	run 0 write "$TMP/a.bin" --address 0x08010000 --port "$PORT" --no-enter
	LD_PRELOAD=$NOPARITY stm32flash -b 115200 -S 0x08010000:4096 -r "$TMP/b.bin" "$PORT" \
		> "$TMP/sf.log" 2>&1 || { cat "$TMP/sf.log" >&2; fail "stm32flash read"; }
	cmp "$TMP/a.bin" "$TMP/b.bin" || fail "stm32flash read back different data"
	# stm32flash writes, sysboot reads back.
	head -c 4096 /dev/urandom > "$TMP/c.bin"
	LD_PRELOAD=$NOPARITY stm32flash -b 115200 -S 0x08020000 -w "$TMP/c.bin" "$PORT" \
		> "$TMP/sf.log" 2>&1 || { cat "$TMP/sf.log" >&2; fail "stm32flash write"; }
	run 0 read 0x08020000 4096 -o "$TMP/d.bin" --port "$PORT" --no-enter
	cmp "$TMP/c.bin" "$TMP/d.bin" || fail "sysboot read back different data"
	;;
*)
	fail "unknown case"
	;;
esac
echo "ok ($CASE)"
