#!/bin/sh
# cli.sh - sysboot-sim as a command (its pty is tested in test_core.c): a
# fault ending the run with status 3 and its explanation, a power cut at an
# exact instruction count, the control channel, and usage errors (serial
# ports, USB options, an unwritable USB environment file).
#
# usage: cli.sh SIM FIRMWARE_DIR
set -u
SIM=$1
FW=$2
TMP=$(mktemp -d "${TMPDIR:-/tmp}/sysboot-cli.XXXXXX")
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

# 1. A fault ends the run: exit status 3, the PC and a plain-words reason.
"$SIM" --usart2 none "$FW/tests/even_jump.elf" --run-for 100 2> "$TMP/fault"
st=$?
[ $st -eq 3 ] || fail "a faulting firmware exited $st, expected 3"
grep -q "fault at pc 0x" "$TMP/fault" || fail "no faulting PC: $(cat "$TMP/fault")"
grep -q "branch to the even address" "$TMP/fault" || fail "no explanation: $(cat "$TMP/fault")"
line=$(grep -n "fn();" "$(dirname "$0")/../../firmware/tests/even_jump.c" | cut -d: -f1)
grep -q "the instruction at 0x0800.* is main+0x[0-9a-f]* (tests/even_jump.c:$line)" "$TMP/fault" ||
	fail "the faulting instruction is not located at even_jump.c:$line: $(cat "$TMP/fault")"

# 2. A power cut at an exact instruction count.
"$SIM" --usart2 none "$FW/tests/systick.elf" --power-cut-at-insn 500 --run-for 100 2> "$TMP/cut" ||
	fail "a power cut is not a failure of the run"
grep -q "power off after .* 500 instructions" "$TMP/cut" || fail "power cut not at 500: $(cat "$TMP/cut")"

# The ROM's session time is reported, for benchmarks in simulated seconds.
"$SIM" --boot0 --usart2 none --run-for 100 2> "$TMP/rom" || fail "a ROM run failed"
grep -q "last ROM bootloader session: 0.1000" "$TMP/rom" || fail "no ROM session time: $(cat "$TMP/rom")"

# With --instant-host the ROM's waits for the host take no simulated time:
# the session is the 55 ms start-up plus the two bytes of a sync at 11 bits
# each, to the microsecond, however long this shell takes between steps.
"$SIM" --boot0 --instant-host --usart2 "pty:$TMP/port" 2> "$TMP/instant" &
PID=$!
n=0
while [ ! -e "$TMP/port" ] && [ $n -lt 50 ]; do sleep 0.1; n=$((n + 1)); done
exec 3<>"$TMP/port" || fail "cannot open the board's pty"
stty raw -echo 115200 <&3
sleep 0.3
printf '\177' >&3
ack=$(timeout 5 dd bs=1 count=1 <&3 2>/dev/null | od -An -tx1 | tr -d ' ')
sleep 0.3
exec 3>&-
kill -INT "$PID"
wait "$PID"
PID=""
[ "$ack" = "79" ] || fail "no ACK to 0x7F with --instant-host (got '$ack')"
grep -q "last ROM bootloader session: 0.055191 s simulated (1 bytes in, 1 out, erase 0.000000 s, program 0.000000 s, waiting for the host 0.000000 s)" \
	"$TMP/instant" || fail "the instant host's session is not start-up plus wire time: $(cat "$TMP/instant")"

# The board's last bytes reach a host that reads them late, after the run
# ended: under RDP level 1 Readout Unprotect is acknowledged twice, then the
# ROM mass-erases and resets, and the board faults on its erased flash; the
# emulator must not take the second ACK away with its pty when it exits.
"$SIM" --optr 0xFFEFF8BB --usart2 "pty:$TMP/port2" "$FW/stub.elf" 2> "$TMP/last" &
PID=$!
n=0
while [ ! -e "$TMP/port2" ] && [ $n -lt 50 ]; do sleep 0.1; n=$((n + 1)); done
exec 3<>"$TMP/port2" || fail "cannot open the board's pty"
stty raw -echo 115200 <&3
sleep 0.3
printf '\177' >&3
ack=$(timeout 5 dd bs=1 count=1 <&3 2>/dev/null | od -An -tx1 | tr -d ' ')
[ "$ack" = "79" ] || fail "no ACK to 0x7F from the stub's ROM (got '$ack')"
printf '\222\155' >&3
sleep 0.5
acks=$(timeout 5 dd bs=1 count=2 <&3 2>/dev/null | od -An -tx1 | tr -d ' ')
exec 3>&-
wait "$PID"
st=$?
PID=""
[ "$acks" = "7979" ] || fail "the ACKs of Readout Unprotect were lost when the board halted (got '$acks')"
[ $st -eq 3 ] || fail "the erased board did not fault (exit $st): $(cat "$TMP/last")"

# 3. The control channel on standard input.
printf 'status\nread 0x08000000 8\nbutton press\nbogus\npower-cut-on erase#0\npower-cut-on go+10\nquit\n' |
	"$SIM" --usart2 none --control stdin --quiet "$FW/tests/systick.elf" > "$TMP/ctl" ||
	fail "control session failed"
grep -q "^ok time=.* mode=cpu" "$TMP/ctl" || fail "no status line: $(cat "$TMP/ctl")"
grep -q "^ok [0-9a-f]\{16\}$" "$TMP/ctl" || fail "read did not answer 8 bytes in hex: $(cat "$TMP/ctl")"
grep -q "^ok 00800120" "$TMP/ctl" || fail "read 0x08000000 is not the initial SP 0x20018000: $(cat "$TMP/ctl")"
grep -q "^error unknown command 'bogus'" "$TMP/ctl" || fail "unknown command not refused: $(cat "$TMP/ctl")"
grep -q "^error bad cut trigger 'erase#0': POINT\[@ADDR\[-END\]\]\[#N\]\[+MICROSECONDS\]" "$TMP/ctl" ||
	fail "a bad cut trigger not refused: $(cat "$TMP/ctl")"
[ "$(grep -c "^ok$" "$TMP/ctl")" -eq 1 ] || fail "power-cut-on go+10 not accepted: $(cat "$TMP/ctl")"
grep -q "^ok bye" "$TMP/ctl" || fail "quit not acknowledged"

# 4. Usage errors are specific.
"$SIM" --usart2 bogus 2> "$TMP/usage"
[ $? -eq 2 ] || fail "a bad option did not exit 2"
grep -q "bad serial port 'bogus'" "$TMP/usage" || fail "unclear usage error: $(cat "$TMP/usage")"
"$SIM" --usart2 none "$TMP/missing.elf" 2> "$TMP/missing"
[ $? -eq 4 ] || fail "a missing firmware file did not exit 4"
grep -q "missing.elf: No such file" "$TMP/missing" || fail "unclear error: $(cat "$TMP/missing")"

"$SIM" --usb bogus 2> "$TMP/usage"
[ $? -eq 2 ] || fail "a bad --usb did not exit 2"
grep -q "bad --usb 'bogus': use umockdev, umockdev:ENVFILE or none" "$TMP/usage" || fail "unclear usage error: $(cat "$TMP/usage")"
"$SIM" --dfu-alt 4=x 2> "$TMP/usage"
[ $? -eq 2 ] || fail "a bad --dfu-alt did not exit 2"
grep -q "bad --dfu-alt '4=x': use N=TEXT with N from 0 to 3" "$TMP/usage" || fail "unclear usage error: $(cat "$TMP/usage")"
"$SIM" --boot0 --usart2 none --run-for 1 --quiet --dfu-alt "0=Internal Flash/0x08000000/512*2Kg" 2> "$TMP/usage"
[ $? -eq 0 ] || fail "a --dfu-alt that is not a memory layout stopped the board"
grep -q "warning: --dfu-alt 0: memory layout \"Internal Flash/0x08000000/512\*2Kg\": no '@' at the start at offset 0; served as given" "$TMP/usage" ||
	fail "no warning for a --dfu-alt that is not a memory layout: $(cat "$TMP/usage")"
"$SIM" --boot0 --usart2 none --run-for 1 --quiet --dfu-alt "0=@Internal Flash  /0x08000000/0256*0002Kg" 2> "$TMP/usage"
[ -s "$TMP/usage" ] && fail "a valid --dfu-alt was warned about: $(cat "$TMP/usage")"
"$SIM" --dfu-tail some 2> "$TMP/usage"
[ $? -eq 2 ] || fail "a bad --dfu-tail did not exit 2"
grep -q "bad --dfu-tail 'some': use lost, pad or error" "$TMP/usage" || fail "unclear usage error: $(cat "$TMP/usage")"
"$SIM" --dfu-work later 2> "$TMP/usage"
[ $? -eq 2 ] || fail "a bad --dfu-work did not exit 2"
grep -q "bad --dfu-work 'later': use after-status or in-status" "$TMP/usage" || fail "unclear usage error: $(cat "$TMP/usage")"
"$SIM" --boot0 --usart2 none --run-for 1 --quiet --dfu-work in-status 2> "$TMP/usage" ||
	fail "--dfu-work in-status refused: $(cat "$TMP/usage")"
"$SIM" --boot0 --usart2 none --usb "umockdev:$TMP/no/such/dir/env" --run-for 10 2> "$TMP/envfile"
[ $? -eq 4 ] || fail "an unwritable USB environment file did not exit 4"
grep -q "cannot write the USB environment to $TMP/no/such/dir/env: No such file or directory" "$TMP/envfile" ||
	fail "unclear error: $(cat "$TMP/envfile")"

# The reliability options: their errors, and what they inject.
"$SIM" --power-cut-on bogus 2> "$TMP/usage"
[ $? -eq 2 ] || fail "a bad --power-cut-on did not exit 2"
grep -q "unknown cut point in 'bogus': use rom-entry, erase, program, block or go" "$TMP/usage" ||
	fail "unclear usage error: $(cat "$TMP/usage")"
"$SIM" --torn-program half 2> "$TMP/usage"
[ $? -eq 2 ] || fail "a bad --torn-program did not exit 2"
grep -q "bad --torn-program 'half': use none, bits or ecc" "$TMP/usage" || fail "unclear usage error: $(cat "$TMP/usage")"
"$SIM" --optr 0xFFEFF8CC 2> "$TMP/usage"
[ $? -eq 2 ] || fail "--optr with RDP level 2 did not exit 2"
grep -q "RDP 0xCC is level 2, which disables the ROM bootloader for good" "$TMP/usage" ||
	fail "unclear usage error: $(cat "$TMP/usage")"
"$SIM" --line-delay 10:abc 2> "$TMP/usage"
[ $? -eq 2 ] || fail "a bad --line-delay did not exit 2"
grep -q "bad number '10:abc'" "$TMP/usage" || fail "unclear usage error: $(cat "$TMP/usage")"
"$SIM" --boot0 --usart2 none --optr 0xFFEEF8AA --power-cut-on rom-entry+5000 --line-delay 1000 \
	--run-for 100 --trace "$TMP/rel.trace" 2> "$TMP/rel" || fail "a run with the reliability options failed"
grep -q "power cut aimed at rom-entry #1 (0x1fff0f68) in 5000.0 us" "$TMP/rel.trace" ||
	fail "the aimed cut did not fire: $(cat "$TMP/rel.trace")"
grep -q "cut points reached: rom-entry 1, erase 0, program 0, block 0, go 0" "$TMP/rel" ||
	fail "no cut point counts: $(cat "$TMP/rel")"
grep -q "independent watchdog started" "$TMP/rel.trace" || fail "--optr did not start the hardware watchdog"

echo "sysboot-sim command line: 5 checks passed"
