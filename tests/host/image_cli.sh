#!/bin/sh
# image_cli.sh - `sysboot image` and the tool's own usage errors: exit codes
# and messages, on the firmware the build produced; and every malformed
# image (badimage.c, made by MKBADIMG) refused with a message that says what
# is wrong: `image show` exits 8 (the image does not verify), `update`
# exits 3 (unacceptable input) before it opens the port at all.
#
# usage: image_cli.sh SYSBOOT FIRMWARE_DIR MKBADIMG
set -u
SYSBOOT=$1
FW=$2
MKBADIMG=$3
# The firmware is cross-built separately (make firmware): skip without it.
[ -f "$FW/app-v1.elf" ] && [ -f "$FW/stub.elf" ] || { echo "no firmware in $FW: skipped"; exit 77; }
TMP=$(mktemp -d "${TMPDIR:-/tmp}/sysboot-image.XXXXXX")
trap 'rm -rf "$TMP"' EXIT INT TERM
. "$(dirname "$0")/expect.sh"

expect 0 "application 1.2.3, .* bytes at 0x08002200" \
	"$SYSBOOT" image build "$FW/app-v1.elf" --version 1.2.3 -o "$TMP/a.img"
expect 0 "status        valid image" "$SYSBOOT" image show "$TMP/a.img"
expect 0 "version       1.2.3" "$SYSBOOT" image show "$TMP/a.img"
expect 0 '"ok":true' "$SYSBOOT" image build "$FW/app-v1.elf" --version 1.2.3 -o "$TMP/a.hex" --json
expect 0 '"status":"valid image"' "$SYSBOOT" image show "$TMP/a.hex" --json

# An image already holds a header: building from it again is refused.
expect 3 "is in the image header slot" "$SYSBOOT" image build "$TMP/a.hex" --version 1.2.3 -o "$TMP/c.img"

# One byte of the body changed: the CRC check says so.
cp "$TMP/a.img" "$TMP/bad.img"
printf '\001' | dd of="$TMP/bad.img" bs=1 seek=1000 conv=notrunc 2>/dev/null
expect 8 "image body CRC mismatch" "$SYSBOOT" image show "$TMP/bad.img"
# A torn header.
head -c 40 "$TMP/a.img" > "$TMP/torn.img"
expect 8 "header CRC" "$SYSBOOT" image show "$TMP/torn.img"

# Input that is not an application behind the stub.
expect 3 "it would overwrite the boot stub" "$SYSBOOT" image build "$FW/stub.elf" --version 1.0.0 -o "$TMP/x.img"
expect 3 "cannot open" "$SYSBOOT" image build "$TMP/none.elf" --version 1.0.0 -o "$TMP/x.img"
expect 3 "unknown output format" "$SYSBOOT" image build "$FW/app-v1.elf" --version 1.0.0 -o "$TMP/x.zip"
expect 2 "bad version '1.x'" "$SYSBOOT" image build "$FW/app-v1.elf" --version 1.x -o "$TMP/x.img"
expect 2 "usage: sysboot image" "$SYSBOOT" image build "$FW/app-v1.elf"
expect 0 "valid image" "$SYSBOOT" image show "$FW/app-v1.img"
expect 2 "unknown command 'frobnicate'" "$SYSBOOT" frobnicate
expect 2 "usage: sysboot .*COMMAND" "$SYSBOOT"
expect 0 "exit codes" "$SYSBOOT" --help
# Every malformed image; the port does not exist: opening it would exit 4.
n=0
"$MKBADIMG" list > "$TMP/kinds" || fail "mkbadimg list"
while read -r kind status problem; do
	"$MKBADIMG" "$FW/app-v2.img" "$kind" "$TMP/$kind.img" || fail "mkbadimg $kind"
	expect -F 8 "$problem" "$SYSBOOT" image show "$TMP/$kind.img"
	expect -F 3 "$problem" "$SYSBOOT" update "$TMP/$kind.img" --port "$TMP/no-such-port"
	n=$((n + 1))
done < "$TMP/kinds"
[ $n -ge 8 ] || fail "only $n kinds of malformed image"
echo "sysboot image: all checks passed, $n kinds of malformed image refused by image show and update"
