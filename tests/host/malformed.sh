#!/bin/sh
# malformed.sh - every malformed image (tests/host/badimage.c) refused by
# the tool, with a message that says what is wrong and the exit code that
# says it is the file: `image show` exits 8 (the image does not verify),
# `update` exits 3 (unacceptable input) before it opens the port at all.
#
# usage: malformed.sh SYSBOOT MKBADIMG FIRMWARE_DIR
set -u
SYSBOOT=$1
MKBADIMG=$2
FW=$3
TMP=$(mktemp -d "${TMPDIR:-/tmp}/sysboot-malformed.XXXXXX")
trap 'rm -rf "$TMP"' EXIT INT TERM
fail() {
	echo "FAIL: $*" >&2
	exit 1
}
expect() {
	want=$1
	needle=$2
	shift 2
	"$@" > "$TMP/out" 2>&1
	got=$?
	[ "$got" -eq "$want" ] || fail "$* exited $got, expected $want: $(cat "$TMP/out")"
	grep -qF -- "$needle" "$TMP/out" || fail "$*: no '$needle' in: $(cat "$TMP/out")"
}

n=0
"$MKBADIMG" list > "$TMP/kinds" || fail "mkbadimg list"
while read -r kind status problem; do
	"$MKBADIMG" "$FW/app-v2.img" "$kind" "$TMP/$kind.img" || fail "mkbadimg $kind"
	expect 8 "$problem" "$SYSBOOT" image show "$TMP/$kind.img"
	# The port does not exist: opening it would fail with exit 4.
	expect 3 "$problem" "$SYSBOOT" update "$TMP/$kind.img" --port "$TMP/no-such-port"
	n=$((n + 1))
done < "$TMP/kinds"
[ $n -ge 8 ] || fail "only $n kinds of malformed image"
echo "malformed images: $n kinds refused by image show (exit 8) and update (exit 3) with their reason"
