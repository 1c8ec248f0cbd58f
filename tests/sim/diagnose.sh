#!/bin/sh
# diagnose.sh - `sysboot-sim diagnose` as a command: the exit status (0 the
# entry works, 1 a problem was diagnosed), the text report pointing at the
# source line, the JSON report (checked with jq), and every usage error.
#
# usage: diagnose.sh SIM FIRMWARE_DIR FIRMWARE_SOURCE_DIR
set -u
SIM=$1
FW=$2
SRC=$3
TMP=$(mktemp -d "${TMPDIR:-/tmp}/sysboot-diagnose.XXXXXX")
trap 'rm -rf "$TMP"' EXIT INT TERM
fail() {
	echo "FAIL: $*" >&2
	exit 1
}
# expect STATUS TEXT COMMAND...: the exit status, and TEXT in stdout or stderr.
expect() {
	want=$1 text=$2
	shift 2
	"$@" > "$TMP/out" 2> "$TMP/err"
	st=$?
	[ "$st" -eq "$want" ] || fail "$* exited $st, expected $want: $(cat "$TMP/out" "$TMP/err")"
	grep -qF -- "$text" "$TMP/out" "$TMP/err" || fail "$*: no \"$text\" in: $(cat "$TMP/out" "$TMP/err")"
}
line_of() {
	grep -n -- "$2" "$SRC/$1" | head -n 1 | cut -d: -f1
}

# 1. The project's own entry works: exit 0.
expect 0 "Result: the entry into the ROM bootloader works (exit status 0)." \
	"$SIM" diagnose "$FW/stub.elf" "$FW/app-v1.img@0x08002000" --trigger 'uart:bootloader\r\n'

# 2. A broken one: exit 1, the finding at its source line.
line=$(line_of tests/diag/vector_table.c "diagnose: branch")
expect 1 "the branch: 0x" "$SIM" diagnose "$FW/tests/diag/vector_table.elf"
grep -qF "(tests/diag/vector_table.c:$line)" "$TMP/out" || fail "no vector_table.c:$line in: $(cat "$TMP/out")"
grep -q "^Result: 2 problems found: rom-entry branch (exit status 1)." "$TMP/out" || fail "no result line: $(cat "$TMP/out")"

# 3. The same as JSON: one object, the check and its place.
"$SIM" diagnose "$FW/tests/diag/vector_table.elf" --json > "$TMP/json"
[ $? -eq 1 ] || fail "--json changed the exit status"
[ "$(wc -l < "$TMP/json")" -eq 1 ] || fail "--json printed more than one line"
jq -e '.command == "diagnose" and .ok == false and .exit_code == 1 and .rom_entries == 0 and
	.trigger == "reset"' "$TMP/json" > /dev/null ||
	fail "JSON header: $(cat "$TMP/json")"
jq -e --argjson line "$line" '.checks[] | select(.id == "branch") |
	.status == "failed" and (.summary | test("vector table")) and
	.locations[0].file == "tests/diag/vector_table.c" and .locations[0].line == $line and
	.locations[0].symbol == "jump_to_bootloader"' "$TMP/json" > /dev/null ||
	fail "JSON branch check: $(cat "$TMP/json")"
[ "$(jq '[.checks[] | select(.status == "not checked")] | length' "$TMP/json")" -eq 10 ] ||
	fail "JSON: expected 10 checks not made after the fault"
"$SIM" diagnose "$FW/stub.elf" "$FW/app-v1.img@0x08002000" --trigger 'uart:bootloader\r\n' --json > "$TMP/ok.json"
jq -e '.ok == true and .exit_code == 0 and .trigger == "uart" and .rom_entries == 1 and
	([.checks[] | select(.status != "passed")] | length) == 0 and
	(.serial_output | test("entering bootloader"))' "$TMP/ok.json" > /dev/null ||
	fail "JSON of a working entry: $(cat "$TMP/ok.json")"

# 4. Board options reach the board: the USB DFU clock check.
expect 1 "usb-clock" "$SIM" diagnose "$FW/stub.elf" "$FW/app-v1.img@0x08002000" \
	--trigger 'uart:bootloader\r\n' --no-lse --hse 25000000 --interface usb
grep -q "^Result: 1 problem found: usb-clock" "$TMP/out" || fail "usb-clock not the one problem: $(cat "$TMP/out")"

# The ROM's USB interrupt priority (a model parameter) decides whether BASEPRI stops USB DFU.
expect 1 "BASEPRI was 0x50 when the CPU reached the ROM" "$SIM" diagnose "$FW/tests/diag/basepri.elf" \
	--trigger 'uart:bootloader\r\n' --interface usb
grep -q "^Result: 1 problem found: primask" "$TMP/out" || fail "primask not the one problem: $(cat "$TMP/out")"
expect 0 "so its USB DFU works here" "$SIM" diagnose "$FW/tests/diag/basepri.elf" \
	--trigger 'uart:bootloader\r\n' --interface usb --rom-usb-priority 3

# 5. The trace option.
expect 1 "ROM bootloader entry" "$SIM" diagnose "$FW/tests/diag/no_remap.elf" --trigger button:2500 --trace -

# 6. Usage and setup errors: specific messages, status 2 (usage) or 4 (setup).
expect 2 "no firmware given" "$SIM" diagnose
expect 2 "bad --trigger 'bogus': use reset, uart:TEXT, button[:MS] or call:SYMBOL[@MS]" \
	"$SIM" diagnose "$FW/tests/diag/no_remap.elf" --trigger bogus
expect 2 "--trigger uart: needs the text to send" "$SIM" diagnose "$FW/tests/diag/no_remap.elf" --trigger uart:
expect 2 "bad escape '\\q' in the uart text" "$SIM" diagnose "$FW/tests/diag/no_remap.elf" --trigger 'uart:a\q'
expect 2 "\\x needs two hex digits" "$SIM" diagnose "$FW/tests/diag/no_remap.elf" --trigger 'uart:\x4'
expect 2 "bad button hold time 'soon'" "$SIM" diagnose "$FW/tests/diag/no_remap.elf" --trigger button:soon
expect 2 "--trigger call: needs a function name" "$SIM" diagnose "$FW/tests/diag/no_remap.elf" --trigger call:
expect 2 "bad call time 'x'" "$SIM" diagnose "$FW/tests/diag/no_remap.elf" --trigger call:main@x
expect 2 "no symbol 'nowhere' in the ELF files loaded" \
	"$SIM" diagnose "$FW/tests/diag/no_remap.elf" --trigger call:nowhere
expect 2 "bad --interface 'serial': use usart, usb or both" \
	"$SIM" diagnose "$FW/tests/diag/no_remap.elf" --interface serial
expect 2 "bad --timeout '-5'" "$SIM" diagnose "$FW/tests/diag/no_remap.elf" --timeout -5
expect 2 "unknown option '--frobnicate'" "$SIM" diagnose "$FW/tests/diag/no_remap.elf" --frobnicate
expect 2 "--hse 2000000: the STM32L476's HSE runs from 4 to 48 MHz" \
	"$SIM" diagnose "$FW/tests/diag/no_remap.elf" --hse 2000000
expect 2 "bad --rom-iwdg 'later': use once, always or ready" \
	"$SIM" diagnose "$FW/tests/diag/no_remap.elf" --rom-iwdg later
expect 2 "--rom-usb-priority 16: the STM32L476 has 16 priority levels, 0 to 15" \
	"$SIM" diagnose "$FW/tests/diag/no_remap.elf" --rom-usb-priority 16
expect 2 "bad number 'high' for --rom-usb-priority" \
	"$SIM" diagnose "$FW/tests/diag/no_remap.elf" --rom-usb-priority high
expect 2 "bad load address in" "$SIM" diagnose "$FW/app-v1.img@0x80zz"
expect 4 "missing.elf: No such file or directory" "$SIM" diagnose "$TMP/missing.elf"
expect 4 "not an ELF file; give the address" "$SIM" diagnose "$FW/app-v1.img"
expect 4 "$TMP/no/dir/trace: No such file or directory" \
	"$SIM" diagnose "$FW/tests/diag/no_remap.elf" --trace "$TMP/no/dir/trace"
seventeen=$(for i in $(seq 17); do printf '%s ' "$FW/tests/diag/no_remap.elf"; done)
expect 2 "too many firmware files (at most 16)" "$SIM" diagnose $seventeen
expect 0 "--trigger call:SYMBOL[@MS]" "$SIM" diagnose --help
# The board options, the firmware arguments and --trace are the main command's too.
expect 2 "bad --rom-iwdg 'later'" "$SIM" --rom-iwdg later
expect 2 "--rom-usb-priority 99: the STM32L476 has 16 priority levels" "$SIM" --rom-usb-priority 99
expect 2 "too many firmware files (at most 16)" "$SIM" --usart2 none $seventeen
expect 4 "$TMP/no/dir/trace: No such file or directory" "$SIM" --usart2 none --trace "$TMP/no/dir/trace"
expect 0 "sysboot-sim diagnose FIRMWARE" "$SIM" --help

echo "sysboot-sim diagnose command line: 6 groups of checks passed"
