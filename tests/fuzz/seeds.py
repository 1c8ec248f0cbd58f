#!/usr/bin/env python3
# seeds.py - writes the seed corpus in corpus/<target>/ (small files, kept
# in the tree; the fuzzers start from them and `make fuzz FUZZ_KEEP=1` adds
# inputs that reach new code).
#
# File seeds come from the firmware build (a stripped ELF, and the image in
# each format `sysboot image build` writes); protocol seeds are the byte
# sequences a host sends, written out here command by command.
#
# usage: seeds.py BUILD_DIR   (with build/host/sysboot and build/firmware)
import os
import shutil
import struct
import subprocess
import sys
import tempfile

here = os.path.dirname(os.path.abspath(__file__))
build = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "..", "..", "build")
sysboot = os.path.join(build, "host", "sysboot")
fw = os.path.join(build, "firmware")


def put(target, name, data):
    d = os.path.join(here, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def read(path):
    with open(path, "rb") as f:
        return f.read()


tmp = tempfile.mkdtemp()
try:
    # ---- firmware files -----------------------------------------------
    for src, dst in (("app-v1.elf", "app.elf"), ("stub.elf", "stub.elf")):
        subprocess.run(["arm-none-eabi-strip", "-o", os.path.join(tmp, dst),
                        os.path.join(fw, src)], check=True)
    for ext in ("hex", "srec", "dfu", "img"):
        subprocess.run([sysboot, "image", "build", os.path.join(fw, "app-v1.elf"),
                        "--version", "1.0.0", "-o", os.path.join(tmp, "app." + ext)],
                       check=True, stdout=subprocess.DEVNULL)
    elf, stub = read(os.path.join(tmp, "app.elf")), read(os.path.join(tmp, "stub.elf"))
    hexf, srec_file = read(os.path.join(tmp, "app.hex")), read(os.path.join(tmp, "app.srec"))
    dfu, img = read(os.path.join(tmp, "app.dfu")), read(os.path.join(tmp, "app.img"))
finally:
    shutil.rmtree(tmp)

put("elf", "app", elf)
put("elf", "stub", stub)
def ihex(rtype, offset, data):
    rec = bytes([len(data)]) + struct.pack(">H", offset) + bytes([rtype]) + data
    return b":" + (rec + bytes([(-sum(rec)) & 0xFF])).hex().upper().encode() + b"\n"


def srec(rtype, address, data):
    alen = {0: 2, 1: 2, 2: 3, 3: 4, 5: 2, 7: 4, 8: 3, 9: 2}[rtype]
    rec = bytes([alen + len(data) + 1]) + address.to_bytes(alen, "big") + data
    return b"S%d" % rtype + (rec + bytes([~sum(rec) & 0xFF])).hex().upper().encode() + b"\n"


put("ihex", "app", hexf)
# Every record type: extended segment (02), start segment (03), extended
# linear (04), start linear (05), data, EOF.
put("ihex", "records", ihex(2, 0, b"\x10\x00") + ihex(3, 0, b"\x00\x00\x10\x00")
    + ihex(0, 0x10, b"\x01\x02\x03\x04") + ihex(4, 0, b"\x08\x00")
    + ihex(5, 0, b"\x08\x00\x01\xc5") + ihex(0, 0x2000, bytes(16)) + ihex(1, 0, b""))
put("srec", "app", srec_file)
put("srec", "s19", srec(0, 0, b"HDR") + srec(1, 0x0000, b"\x01\x02\x03\x04")
    + srec(5, 1, b"") + srec(9, 0, b""))
put("srec", "s28", srec(2, 0x080000, b"\x01\x02\x03\x04") + srec(8, 0x080000, b""))
put("srec", "s37", srec(3, 0x08002000, bytes(range(32))) + srec(7, 0x08002000, b""))
put("dfu", "app", dfu)
# fwfile: the first byte picks the name (and bit 7 allows a raw binary).
put("fwfile", "elf", b"\x01" + elf)
put("fwfile", "hex", b"\x02" + hexf)
put("fwfile", "srec", b"\x03" + srec_file)
put("fwfile", "dfu", b"\x04" + dfu)
put("fwfile", "img", b"\x86" + img)
# image: the 64-byte header, then the body's first two words.
put("image", "app", img[:64] + img[0x200:0x208])

# ---- the ROM's AN3155 parser: what a host sends ---------------------------
def cmd(c):
    return bytes([c, c ^ 0xFF])


def addr(a):
    b = struct.pack(">I", a)
    return b + bytes([b[0] ^ b[1] ^ b[2] ^ b[3]])


def xor(data):
    x = 0
    for v in data:
        x ^= v
    return x


def write(a, data):
    n = bytes([len(data) - 1]) + data
    return cmd(0x31) + addr(a) + n + bytes([xor(n)])


def erase(pages):
    body = struct.pack(">H", len(pages) - 1) + b"".join(struct.pack(">H", p) for p in pages)
    return cmd(0x44) + body + bytes([xor(body)])


sync = b"\x7f"
put("rom_usart", "info", sync + cmd(0x00) + cmd(0x01) + cmd(0x02))
put("rom_usart", "read", sync + cmd(0x11) + addr(0x08000000) + b"\xff\x00"
    + cmd(0x11) + addr(0x1FFF7800) + b"\x27\xd8")
put("rom_usart", "update", sync + erase([4, 5]) + write(0x08002200, bytes(range(256)))
    + write(0x08002000, bytes(64)) + cmd(0x21) + addr(0x08000000))
put("rom_usart", "ram", sync + write(0x20004000, b"\x01\x02\x03") + cmd(0x21) + addr(0x20004000))
put("rom_usart", "special", sync + cmd(0x44) + b"\xff\xfe\x01" + cmd(0x44) + b"\xff\xff\x00")
put("rom_usart", "protect", sync + cmd(0x63) + b"\x03\x00\x01\x02\x03\x03" + cmd(0x73)
    + cmd(0x82) + cmd(0x92))
put("rom_usart", "errors", sync + b"\x7f\x7f" + cmd(0x43) + cmd(0x31) + addr(0x08000003)
    + b"\x00\x00\x00" + cmd(0x44) + b"\x80\x00")


# ---- the ROM's DfuSe engine: requests as fuzz_rom_dfu.c reads them --------
def req(r, value=0, data=b"", length=None, dev_to_host=False):
    if length is None:
        length = len(data)
    return bytes([r | (0x80 if dev_to_host else 0)]) + struct.pack("<HH", value, length) + \
        (b"" if dev_to_host else data)


DNLOAD, UPLOAD, GETSTATUS, CLRSTATUS, GETSTATE, ABORT = 1, 2, 3, 4, 5, 6
status = req(GETSTATUS, length=6, dev_to_host=True)
put("rom_dfu", "download", req(DNLOAD, 0, b"\x21" + struct.pack("<I", 0x08002000)) + status
    + status + req(DNLOAD, 0, b"\x41" + struct.pack("<I", 0x08002000)) + status + status
    + req(DNLOAD, 2, bytes(range(256)) * 2) + status + status
    + req(DNLOAD, 0, b"\x21" + struct.pack("<I", 0x08000000)) + status + status
    + req(DNLOAD, 0, b"") + status)
put("rom_dfu", "upload", req(ABORT) + req(DNLOAD, 0, b"\x21" + struct.pack("<I", 0x08000000))
    + status + status + req(ABORT) + req(UPLOAD, 2, length=2048, dev_to_host=True)
    + req(UPLOAD, 0, length=64, dev_to_host=True))
put("rom_dfu", "states", req(GETSTATE, length=1, dev_to_host=True) + req(DNLOAD, 0, b"\x41")
    + status + status + req(DNLOAD, 0, b"\x92") + status + req(CLRSTATUS) + bytes([7, 1, 0, 0, 0])
    + bytes([8, 0, 0, 0, 0]) + req(0) + status)
