#!/bin/sh
# powercut.sh - the central promise: a power cut at any point of an update
# leaves a board that starts either the old application, the new one, or
# the ROM bootloader, and a second `sysboot update` then succeeds.
#
# A reference update (v1 to v2) counts the points the board goes through;
# then, for each phase, cuts are aimed at points spread over it (the
# emulator's --power-cut-on, so a cut lands in its phase whatever the
# host's timing):
#
#   entry    after the reset into the ROM: its start-up, the host connecting
#   erase    inside a page erase (the header's page first, then the body's)
#   program  inside a double-word program of the body (torn: ecc, bits, none)
#   block    just after a block was acknowledged, before the next one
#            (the ACK of a Write Memory; over DFU, the GETSTATUS after it)
#   header   inside one of the header's 8 double words, written last (torn)
#   go       after Go (DfuSe: leave), while the stub checks the image and
#            starts it
#
# Each board is powered again from its flash file and watched: its trace
# says which of the three it started, or it is a brick (a fault, or nothing
# running). Then the retry. The figures are printed per phase; any brick,
# failed retry, or outcome its phase cannot have fails the run.
#
# usage: powercut.sh SYSBOOT SIM FIRMWARE_DIR [CUTS_PER_PHASE] [TRANSPORT]
set -u
SYSBOOT=$1
SIM=$2
FW=$3
PER=${4:-2}
TRANSPORT=${5:-usart}
NAME=powercut
. "$(dirname "$0")/board.sh"
V1="$FW/app-v1.img@0x08002000"
V2="$FW/app-v2.img"
HEADER_LO=0x08002000
HEADER_HI=0x0800203f

# ---- The reference update: what there is to cut into --------------------
rm -f "$TMP/board.bin"
start_sim --trace "$TMP/full.trace" "$FW/stub.elf" "$V1"
sleep 0.3
host_update "$V2" --quiet > "$TMP/upd" 2>&1 || fail "the reference update failed: $(cat "$TMP/upd")"
stop_sim
count_of() {
	sed -n "s/.*cut points reached:.* $1 \([0-9]*\).*/\1/p" "$TMP/sim.log"
}
us_of() {
	awk -v pat="$1" '$0 ~ pat { t = $2; exit } END { printf "%d", t * 1000000 }' FS='[][ s]+' "$TMP/full.trace"
}
ERASES=$(count_of erase)
PROGRAMS=$(count_of program)
BLOCKS=$(count_of block)
ENTRY_GAP=$(($(us_of "page [0-9]* erased") - 22000 - $(us_of "ROM bootloader entered")))
# From Go to the application's USART set-up: the stub checking the image.
STUB_GAP=$(awk '/Go 0x08000000|DFU leave to 0x08000000:/ { go = $2 }
	go && /transmitter on/ && $2 > go { printf "%d", ($2 - go) * 1000000; exit }' \
	FS='[][ s]+' "$TMP/full.trace")
# The block holding the header is programmed last: 256 bytes over AN3155,
# 2048 (the ROM's transfer size) over DfuSe.
HEADER_BLOCK=256
[ "$TRANSPORT" = dfu ] && HEADER_BLOCK=2048
BODY_PROGRAMS=$((PROGRAMS - HEADER_BLOCK / 8))
[ "${ERASES:-0}" -gt 0 ] && [ "$BODY_PROGRAMS" -gt 0 ] && [ "${BLOCKS:-0}" -gt 1 ] &&
	[ "$ENTRY_GAP" -gt 0 ] && [ "${STUB_GAP:-0}" -gt 0 ] ||
	fail "cannot find the update's steps in the reference run: $(cat "$TMP/sim.log")"
echo "reference update over $TRANSPORT: $ERASES erases, $PROGRAMS double words, $BLOCKS blocks;" \
	"ROM entry to first erase $((ENTRY_GAP / 1000)) ms, Go to the application $((STUB_GAP / 1000)) ms"

# ---- One cut --------------------------------------------------------------
TORN_MODES="ecc bits none"
torn_mode() {   # the i-th of TORN_MODES, cyclically
	echo "$TORN_MODES" | awk -v i="$1" '{ print $((i - 1) % NF + 1) }'
}

# cut PHASE TRIGGER TORN ALLOWED: one cut, its recovery and its retry.
cut() {
	phase=$1 trigger=$2 torn=$3 allowed=$4
	rm -f "$TMP/board.bin"
	start_sim --quiet --trace "$TMP/cut.trace" --torn-program "$torn" --power-cut-on "$trigger" \
		"$FW/stub.elf" "$V1"
	sleep 0.3
	host_update "$V2" --quiet > "$TMP/upd" 2>&1
	wait_sim 5 || fail "$phase cut $trigger: the cut never came (the emulator still ran after the update)"
	grep -q "power cut aimed at" "$TMP/cut.trace" ||
		fail "$phase cut $trigger: the trigger did not fire: $(tail -3 "$TMP/cut.trace")"
	state=$(board_state)
	if [ "$state" = brick ]; then
		echo "$phase cut $trigger (torn $torn): BRICK" >&2
		cat "$TMP/after.log" >&2
		grep -v uart "$TMP/after.trace" | tail -5 >&2
		eval "bricks_$phase=\$((bricks_$phase + 1))"
	else
		eval "${state}_$phase=\$((${state}_$phase + 1))"
		case " $allowed " in
		*" $state "*) ;;
		*) fail "$phase cut $trigger: the board came up in $state, which a cut there cannot give (expected: $allowed)" ;;
		esac
	fi
	eval "cuts_$phase=\$((cuts_$phase + 1))"

	# The retry: a second update must succeed from whatever state.
	start_sim --quiet
	sleep 0.2
	retry=succeeded
	if host_update "$V2" --quiet > "$TMP/retry" 2>&1; then
		eval "retried_$phase=\$((retried_$phase + 1))"
	else
		retry="FAILED: $(grep "sysboot update:" "$TMP/retry")"
	fi
	stop_sim
	echo "$phase: cut at $trigger (torn $torn): came up in $state, retry $retry"
}

# spread I N LO HI: the I-th of N values spread evenly inside [LO, HI].
spread() {
	echo $(($3 + ($4 - $3) * (2 * $1 - 1) / (2 * $2)))
}

# pick I N COUNT: the I-th of N occurrences spread evenly over 1..COUNT.
pick() {
	echo $((1 + (2 * $1 - 1) * $3 / (2 * $2)))
}

PHASES="entry erase program block header go"
for p in $PHASES; do
	eval "cuts_$p=0 v1_$p=0 v2_$p=0 rom_$p=0 bricks_$p=0 retried_$p=0"
done
i=1
while [ $i -le "$PER" ]; do
	cut entry "rom-entry+$(spread $i "$PER" 0 $((ENTRY_GAP * 8 / 10)))" ecc "v1"
	# A cut before the header's page has lost a byte leaves v1 whole.
	cut erase "erase#$(pick $i "$PER" "$ERASES")+$(spread $i "$PER" 500 21500)" ecc "v1 rom"
	cut program "program#$(pick $i "$PER" "$BODY_PROGRAMS")+$(spread $i "$PER" 10 72)" \
		"$(torn_mode $i)" "rom"
	cut block "block#$(pick $i "$PER" $((BLOCKS - 1)))+50" ecc "rom"
	cut header "program@$HEADER_LO-$HEADER_HI#$(pick $i "$PER" 8)+$(spread $i "$PER" 10 72)" \
		"$(torn_mode $i)" "rom"
	cut go "go+$(spread $i "$PER" 0 "$STUB_GAP")" ecc "v2"
	i=$((i + 1))
done

# ---- Figures --------------------------------------------------------------
printf '\npower cuts over sysboot update (%s), torn double words %s:\n' "$TRANSPORT" "$TORN_MODES"
printf '%-8s %5s %9s %4s %4s %4s %7s %9s\n' phase cuts recovered v1 v2 ROM bricks "retry ok"
tc=0 tr=0 t1=0 t2=0 tm=0 tb=0 tk=0
for p in $PHASES; do
	eval "c=\$cuts_$p a=\$v1_$p b=\$v2_$p m=\$rom_$p k=\$bricks_$p r=\$retried_$p"
	printf '%-8s %5d %9d %4d %4d %4d %7d %9d\n' "$p" "$c" $((a + b + m)) "$a" "$b" "$m" "$k" "$r"
	tc=$((tc + c)) t1=$((t1 + a)) t2=$((t2 + b)) tm=$((tm + m)) tb=$((tb + k)) tk=$((tk + r))
done
printf '%-8s %5d %9d %4d %4d %4d %7d %9d\n' total "$tc" $((t1 + t2 + tm)) "$t1" "$t2" "$tm" "$tb" "$tk"
echo "power cuts: $tc injected, $((t1 + t2 + tm)) boards recovered (v1 $t1, v2 $t2, ROM $tm), bricks $tb, retries succeeded $tk"
[ "$tb" -eq 0 ] || fail "$tb bricked boards"
[ "$tk" -eq "$tc" ] || fail "$((tc - tk)) retries failed"
