/*
 * test_elf.c - ELF input: PT_LOAD file bytes at p_paddr, empty segments
 * skipped, and malformed files (offsets and sizes past the end, wrong
 * class, byte order or machine) refused with a message, never a crash.
 */
#include "host_test.h"
#include "sysboot/byteorder.h"

/*
 * A minimal ELF32 ARM file: two program headers, a PT_LOAD with n bytes
 * at paddr (vaddr elsewhere, as for .data) and an empty PT_LOAD (.bss).
 */
static size_t make_elf(uint8_t *f, size_t cap, uint32_t paddr,
		       const uint8_t *data, uint32_t n)
{
	memset(f, 0, cap);
	memcpy(f, "\177ELF", 4);
	f[4] = 1;                       /* ELFCLASS32 */
	f[5] = 1;                       /* little-endian */
	f[6] = 1;
	f[18] = 40;                     /* EM_ARM */
	f[28] = 52;                     /* e_phoff */
	f[42] = 32;                     /* e_phentsize */
	f[44] = 2;                      /* e_phnum */
	f[52] = 1;                      /* PT_LOAD */
	put_le32(f + 56, 116);             /* p_offset */
	put_le32(f + 60, 0x20000000u);     /* p_vaddr: not what is loaded */
	put_le32(f + 64, paddr);           /* p_paddr */
	put_le32(f + 68, n);               /* p_filesz */
	put_le32(f + 72, n + 100);         /* p_memsz: .bss not loaded */
	f[84] = 1;                      /* second: PT_LOAD with no file bytes */
	put_le32(f + 84 + 12, 0x20001000u);
	put_le32(f + 84 + 20, 64);
	memcpy(f + 116, data, n);
	return 116 + n;
}

static void good(void **state)
{
	uint8_t f[256];
	const uint8_t data[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	struct segments s;
	struct load_info info;
	struct sb_error e;
	size_t n;

	(void)state;
	n = make_elf(f, sizeof(f), 0x08002200u, data, sizeof(data));
	/* Content decides: the extension says binary, the magic says ELF. */
	assert_int_equal(segments_load(&s, write_tmp("a.bin", f, n), &no_raw, &info, &e), 0);
	assert_int_equal(info.format, FW_ELF);
	assert_int_equal(s.count, 1);
	assert_int_equal(s.seg[0].addr, 0x08002200u);
	assert_int_equal(s.seg[0].len, 8);
	assert_memory_equal(s.seg[0].data, data, 8);
	segments_free(&s);
}

static void malformed(void **state)
{
	uint8_t f[256];
	const uint8_t data[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	size_t n;

	(void)state;
	/* The segment claims more bytes than the file holds. */
	n = make_elf(f, sizeof(f), 0x08002200u, data, sizeof(data));
	put_le32(f + 68, 200);
	expect_load_error("b.elf", f, n, &no_raw, -EINVAL,
			  "b.elf: segment 0 (200 bytes at offset 116) lies outside the file");
	/* The segment's offset is past the end. */
	n = make_elf(f, sizeof(f), 0x08002200u, data, sizeof(data));
	put_le32(f + 56, 0xFFFFFFF0u);
	expect_load_error("o.elf", f, n, &no_raw, -EINVAL, "o.elf: segment 0 (8 bytes at offset 4294967280) lies outside the file");
	/* Program headers past the end. */
	n = make_elf(f, sizeof(f), 0x08002200u, data, sizeof(data));
	f[28] = 250;
	expect_load_error("c.elf", f, n, &no_raw, -EINVAL, "c.elf: program header table at offset 250 lies outside the file");
	/* 64-bit, big-endian, other machine, truncated, no program headers. */
	n = make_elf(f, sizeof(f), 0x08002200u, data, 8);
	f[4] = 2;
	expect_load_error("d.elf", f, n, &no_raw, -EINVAL, "d.elf: a 64-bit ELF file; STM32 firmware is ELF32");
	n = make_elf(f, sizeof(f), 0x08002200u, data, 8);
	f[5] = 2;
	expect_load_error("e.elf", f, n, &no_raw, -EINVAL, "e.elf: a big-endian ELF file");
	n = make_elf(f, sizeof(f), 0x08002200u, data, 8);
	f[18] = 62;
	expect_load_error("f.elf", f, n, &no_raw, -EINVAL, "f.elf: not ARM code (ELF machine 62)");
	expect_load_error("g.elf", f, 20, &no_raw, -EINVAL, "g.elf: truncated ELF header (20 bytes)");
	n = make_elf(f, sizeof(f), 0x08002200u, data, 8);
	f[44] = 0;
	expect_load_error("h.elf", f, n, &no_raw, -EINVAL, "h.elf: ELF file has no program headers");
	/* Only the empty segment: nothing to load. */
	n = make_elf(f, sizeof(f), 0x08002200u, data, 8);
	put_le32(f + 68, 0);
	expect_load_error("i.elf", f, n, &no_raw, -EINVAL, "i.elf: no loadable segment with data");
	/* Runs past 4 GB. */
	n = make_elf(f, sizeof(f), 0xFFFFFFFCu, data, 8);
	expect_load_error("j.elf", f, n, &no_raw, -EINVAL, "j.elf: segment 0 at 0xfffffffc runs past the 4 GB address space");
	/* The extension says ELF, the content does not. */
	expect_load_error("k.elf", "hello world", 11, &no_raw, -EINVAL, "k.elf: not an ELF file (no \\177ELF magic at offset 0)");
}

static void every_truncation_is_safe(void **state)
{
	uint8_t f[256];
	const uint8_t data[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	struct segments s;
	struct sb_error e;
	size_t n, cut;

	(void)state;
	n = make_elf(f, sizeof(f), 0x08002200u, data, sizeof(data));
	/* ASan watches: no cut may read past the buffer. */
	for (cut = 4; cut < n; cut++) {
		uint8_t *copy = malloc(cut);

		assert_non_null(copy);
		memcpy(copy, f, cut);
		segments_init(&s);
		assert_int_equal(elf_read(&s, copy, cut, "cut.elf", &e) < 0, 1);
		segments_free(&s);
		free(copy);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(good),
		cmocka_unit_test(malformed),
		cmocka_unit_test(every_truncation_is_safe),
	};

	return cmocka_run_group_tests(tests, setup_tmpdir, teardown_tmpdir);
}
