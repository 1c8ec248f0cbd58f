#!/bin/sh
# cli.sh - the built `sysboot` on error cases: every exit code and message a
# script or a person relies on, without any firmware or board.
#
# usage: cli.sh SYSBOOT
set -u
SYSBOOT=$1
TMP=$(mktemp -d "${TMPDIR:-/tmp}/sysboot-cli.XXXXXX")
trap 'rm -rf "$TMP"' EXIT INT TERM
. "$(dirname "$0")/expect.sh"

# A minimal application as Intel HEX: SP 0x20018000, reset 0x08002209.
cat > "$TMP/app.hex" <<'HEX'
:020000040800F2
:1022000000800120092200080000000000000000FA
:00000001FF
HEX
expect -F 0 "application 1.2.3, 16 bytes at 0x08002200" \
	"$SYSBOOT" image build "$TMP/app.hex" --version 1.2.3 -o "$TMP/a.img"
expect -F 0 "status        valid image" "$SYSBOOT" image show "$TMP/a.img"
for ext in hex srec s19 s37 dfu; do
	expect -F 0 "CRC-32" "$SYSBOOT" image build "$TMP/app.hex" --version 1.2.3 -o "$TMP/a.$ext"
	expect -F 0 "version       1.2.3" "$SYSBOOT" image show "$TMP/a.$ext"
done
expect -F 0 '"status":"valid image"' "$SYSBOOT" --json image show "$TMP/a.dfu"
expect -F 0 '"ok":true' "$SYSBOOT" image build "$TMP/app.hex" --version 1.2.3 -o "$TMP/b.img" --json

# Exit 8 with the status string when the stub would refuse the image.
cp "$TMP/a.img" "$TMP/bad.img"
printf '\001' | dd of="$TMP/bad.img" bs=1 seek=520 conv=notrunc 2>/dev/null
expect -F 8 "sysboot: error: $TMP/bad.img: the application does not match its header: CRC-32" "$SYSBOOT" image show "$TMP/bad.img"
expect -F 8 '"ok":false' "$SYSBOOT" image show "$TMP/bad.img" --json
cp "$TMP/a.img" "$TMP/hdr.img"
printf '\001' | dd of="$TMP/hdr.img" bs=1 seek=20 conv=notrunc 2>/dev/null
expect -F 8 "header CRC" "$SYSBOOT" image show "$TMP/hdr.img"
expect -F 8 "no image header" "$SYSBOOT" image show "$TMP/app.hex"

# Bad input files: exit 3, the file, what and where.
printf ':0400000001020304F3\n:00000001FF\n' > "$TMP/sum.hex"
expect -F 3 "sysboot: error: $TMP/sum.hex:1: bad checksum: record says F3, computed F2" \
	"$SYSBOOT" image build "$TMP/sum.hex" --version 1.0.0 -o "$TMP/x.img"
printf 'S3090800000001020304E4\n' > "$TMP/noend.srec"
expect -F 3 "noend.srec:1: no end record (S7, S8 or S9): truncated file?" \
	"$SYSBOOT" image show "$TMP/noend.srec"
head -c 100 "$TMP/a.dfu" > "$TMP/cut.dfu"
expect -F 3 "cut.dfu: no DFU suffix" "$SYSBOOT" image show "$TMP/cut.dfu"
head -c 300 /dev/zero > "$TMP/zero.dat"
expect -F 3 "for a raw binary give --address" \
	"$SYSBOOT" image build "$TMP/zero.dat" --version 1.0.0 -o "$TMP/x.img"
expect -F 3 "cannot open $TMP/none.elf" "$SYSBOOT" image build "$TMP/none.elf" --version 1.0.0 -o "$TMP/x.img"
expect -F 3 "(is this already an image?)" "$SYSBOOT" image build "$TMP/a.hex" --version 1.0.0 -o "$TMP/x.img"
expect -F 3 "overlaps the boot stub area" \
	"$SYSBOOT" image build "$TMP/zero.dat" --address 0x08000000 --version 1.0.0 -o "$TMP/x.img"
expect -F 3 "image vector table invalid (stack pointer or reset vector) (initial SP 0x00000000" \
	"$SYSBOOT" image build "$TMP/zero.dat" --address 0x08002200 --version 1.0.0 -o "$TMP/x.img"
expect -F 3 "unknown output format '.zip'" \
	"$SYSBOOT" image build "$TMP/app.hex" --version 1.0.0 -o "$TMP/x.zip"
expect -F 3 '"exit_code":3' "$SYSBOOT" --json image show "$TMP/sum.hex"

# USB DFU ports, without a board: each error names what is wrong.
expect -F 5 "no DFU device 0483:df11 appeared within 200 ms" \
	"$SYSBOOT" info --port usb --dfu-wait 200
expect -F 5 "the ROM offers USB DFU only with an LSE (32.768 kHz) or an HSE of 24, 20, 18, 16, 12, 9, 8, 6 or 4 MHz" \
	"$SYSBOOT" update "$TMP/a.img" --port usb:0483:df11:NOSUCH --dfu-wait 200
expect -F 2 "bad USB port 'usb:12:xyz'" "$SYSBOOT" info --port usb:12:xyz
expect -F 2 "bad --dfu-wait 'soon'" "$SYSBOOT" info --port usb --dfu-wait soon
expect -F 2 "--enter-cmd needs --enter-port PORT over USB" \
	"$SYSBOOT" info --port usb --enter-cmd 'boot\r\n'
expect -F 2 "--enter-port is for USB ports" \
	"$SYSBOOT" info --port "$TMP/nothing" --enter-port "$TMP/app-line"
expect -F 2 "--no-enter excludes --enter-cmd and --enter-exec" \
	"$SYSBOOT" info --port usb --no-enter --enter-exec true
expect -F 1 "the --enter-exec command \"exit 4\" failed (exit status 4)" \
	"$SYSBOOT" info --port usb --enter-exec "exit 4"
expect -F 2 "protect --stub is not possible on usb: the ROM's USB DFU interface has no write-protect" \
	"$SYSBOOT" protect --stub --port usb
expect -F 2 "unprotect --write is not possible on usb" "$SYSBOOT" unprotect --write --port usb
expect -F 2 "--verify=stub watches the application's banner on its serial line, and over USB there is none" \
	"$SYSBOOT" update "$TMP/a.img" --port usb --verify=stub
# .dfu files: one for another USB device, and one with a damaged body, are
# refused before any board is looked for (exit 3, not 5).
python3 - "$TMP/a.dfu" "$TMP/other.dfu" "$TMP/badcrc.dfu" <<'PY'
import sys, zlib
d = bytearray(open(sys.argv[1], 'rb').read())
o = bytearray(d)
o[-14:-10] = bytes([0x34, 0x12, 0x78, 0x56])      # idProduct 0x1234, idVendor 0x5678
o[-4:] = (zlib.crc32(bytes(o[:-4])) ^ 0xFFFFFFFF).to_bytes(4, 'little')
open(sys.argv[2], 'wb').write(o)
d[300] ^= 1
open(sys.argv[3], 'wb').write(d)
PY
expect -F 3 "other.dfu is a DfuSe file for another chip: its suffix names USB device 5678:1234, and this chip's ROM bootloader is 0483:df11; refusing it before anything is erased" \
	"$SYSBOOT" update "$TMP/other.dfu" --port usb --dfu-wait 200
expect -F 3 "is a DfuSe file for another chip" \
	"$SYSBOOT" write "$TMP/other.dfu" --port usb --dfu-wait 200
expect -F 3 "badcrc.dfu: DFU suffix CRC mismatch" \
	"$SYSBOOT" update "$TMP/badcrc.dfu" --port usb --dfu-wait 200
expect -F 0 "usb:VID:PID[:SERIAL]" "$SYSBOOT" --help
expect -F 0 "usage: sysboot update IMAGE --port PORT" "$SYSBOOT" update --help
for cmd in info read write erase go protect unprotect; do
	expect -F 0 "[--enter-port PORT] [--enter-exec CMD] [--dfu-wait MS]" "$SYSBOOT" $cmd --help
done

# Usage: exit 2.
expect -F 2 "bad version '1.x'" "$SYSBOOT" image build "$TMP/app.hex" --version 1.x -o "$TMP/x.img"
expect -F 2 "-o OUTPUT is required" "$SYSBOOT" image build "$TMP/app.hex" --version 1.0.0
expect -F 2 "--version X.Y.Z is required" "$SYSBOOT" image build "$TMP/app.hex" -o "$TMP/x.img"
expect -F 2 "bad address 'zz'" "$SYSBOOT" image build "$TMP/app.hex" --address zz --version 1.0.0 -o "$TMP/x.img"
expect -F 2 "image: unknown subcommand" "$SYSBOOT" image frob
expect -F 2 "image show: give exactly one FILE" "$SYSBOOT" image show
expect -F 2 "unknown command 'frobnicate'" "$SYSBOOT" frobnicate
expect -F 2 "unknown option '--frob' before the command" "$SYSBOOT" --frob image
expect -F 2 "no command given" "$SYSBOOT"
expect -F 0 "exit codes" "$SYSBOOT" --help
expect -F 0 "usage: sysboot image build" "$SYSBOOT" image --help
expect -F 0 "usage: sysboot image build" "$SYSBOOT" image show --help
expect -F 0 "sysboot 0." "$SYSBOOT" --version
echo "sysboot command line: all checks passed"
