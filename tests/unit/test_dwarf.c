/*
 * test_dwarf.c - the DWARF line table reader (common/src/dwarf_line.c)
 * and the ELF section walk it is fed by (common/src/elf32.c).
 *
 * Real tables: the fixture (fixtures/lines_a.c, lines_b.c) is linked by
 * arm-none-eabi-gcc three times, with line tables of DWARF version 3 (what
 * Debian's toolchain emits by default), 4 and 5; every MARK(label) in the
 * sources must come back at the line it is written on, in every version.
 * Hand-made tables cover what GCC does not emit here (64-bit DWARF, the
 * other DWARF 5 forms) and every way a table can be malformed; truncated
 * and damaged copies of the real tables must be refused, never overrun
 * (the sanitizers watch).
 */
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sysboot/dwarf_line.h"
#include "sysboot/elf32.h"

/* ---- Files --------------------------------------------------------------- */

static uint8_t *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	long n;

	if (!f)
		fail_msg("cannot open %s", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return buf;
}

/* The line of the source file holding "MARK(label)" or "MARK_WEAK(label)". */
static unsigned marker_line(const char *label, const char **file)
{
	static const char *const sources[] = {
		FIXTURE_DIR "/lines_a.c", FIXTURE_DIR "/lines_b.c",
		FIXTURE_DIR "/include/lines_inline.h",
	};
	char want1[80], want2[80], line[256];
	unsigned i, n;

	snprintf(want1, sizeof(want1), "MARK(%s)", label);
	snprintf(want2, sizeof(want2), "MARK_WEAK(%s)", label);
	for (i = 0; i < 3; i++) {
		FILE *f = fopen(sources[i], "r");

		assert_non_null(f);
		for (n = 1; fgets(line, sizeof(line), f); n++) {
			if (strstr(line, want1) || strstr(line, want2)) {
				fclose(f);
				/* "include/lines_inline.h": the directory is kept. */
				*file = sources[i] + strlen(FIXTURE_DIR) + 1;
				return n;
			}
		}
		fclose(f);
	}
	fail_msg("no marker for %s", label);
	return 0;
}

struct sections {
	uint8_t *elf;
	size_t len;
	struct dwarf_line_sections s;
};

static void load_fixture(struct sections *x, const char *path)
{
	x->elf = slurp(path, &x->len);
	memset(&x->s, 0, sizeof(x->s));
	x->s.line = elf32_section_data(x->elf, x->len, ".debug_line", &x->s.line_len);
	x->s.line_str = elf32_section_data(x->elf, x->len, ".debug_line_str", &x->s.line_str_len);
	x->s.str = elf32_section_data(x->elf, x->len, ".debug_str", &x->s.str_len);
	assert_non_null(x->s.line);
}

struct marks {
	struct dwarf_lines *dl;
	unsigned checked;
};

static int check_mark(void *ctx, const struct elf32_symbol *sym)
{
	struct marks *m = ctx;
	const char *want_file, *file;
	unsigned want, line;

	if (strncmp(sym->name, "mark_", 5) != 0)
		return 0;
	want = marker_line(sym->name, &want_file);
	if (dwarf_lines_find(m->dl, sym->value & ~1u, &file, &line) < 0)
		fail_msg("no line for %s at 0x%08x", sym->name, sym->value);
	if (line != want || strlen(file) < strlen(want_file) ||
	    strcmp(file + strlen(file) - strlen(want_file), want_file) != 0)
		fail_msg("%s at 0x%08x: %s:%u, expected %s:%u", sym->name, sym->value,
			 file, line, want_file, want);
	m->checked++;
	return 0;
}

static void every_marker_at_its_line(const char *path)
{
	struct sections x;
	struct marks m = { 0 };
	char err[200];
	const char *file;
	unsigned line;

	load_fixture(&x, path);
	m.dl = dwarf_lines_read(&x.s, err, sizeof(err));
	if (!m.dl)
		fail_msg("%s: %s", path, err);
	elf32_symbols(x.elf, x.len, check_mark, &m);
	assert_int_equal(m.checked, 7);
	/* Outside every sequence: before the code, and far after it. */
	assert_int_equal(dwarf_lines_find(m.dl, 0x07FFFFFEu, &file, &line), -1);
	assert_int_equal(dwarf_lines_find(m.dl, 0x08100000u, &file, &line), -1);
	dwarf_lines_free(m.dl);
	free(x.elf);
}

static void dwarf3_lines(void **state)
{
	(void)state;
	every_marker_at_its_line(FIXTURE_ELF_V3);
}

static void dwarf4_lines(void **state)
{
	(void)state;
	every_marker_at_its_line(FIXTURE_ELF_V4);
}

static void dwarf5_lines(void **state)
{
	(void)state;
	every_marker_at_its_line(FIXTURE_ELF_V5);
}

/* ---- Hand-made tables ------------------------------------------------------ */

struct buf {
	uint8_t b[512];
	size_t n;
};

static void put(struct buf *b, uint64_t v, unsigned bytes)
{
	unsigned i;

	for (i = 0; i < bytes; i++)
		b->b[b->n++] = (uint8_t)(v >> (8 * i));
}

/* Write v at offset at, bytes wide, where a length was left to fill in. */
static void patch(struct buf *b, size_t at, uint64_t v, unsigned bytes)
{
	size_t save = b->n;

	b->n = at;
	put(b, v, bytes);
	b->n = save;
}

static void put_uleb(struct buf *b, uint64_t v)
{
	do {
		uint8_t c = v & 0x7Fu;

		v >>= 7;
		b->b[b->n++] = (uint8_t)(c | (v ? 0x80u : 0));
	} while (v);
}

static void put_str(struct buf *b, const char *s)
{
	size_t l = strlen(s) + 1;

	memcpy(b->b + b->n, s, l);
	b->n += l;
}

/* Where put_program() wrote the DW_LNS_set_file operand. */
static size_t set_file_at;

/*
 * The program shared by the hand-made units (minimum instruction length
 * 2): rows 0x1000 line 10 (copy), 0x1004 line 12 (a special opcode: two
 * operations, two lines), 0x1006 line 11 (fixed advance, advance_line -1,
 * copy), end of sequence 20 bytes later at 0x101A.
 */
static void put_program(struct buf *b, unsigned file)
{
	put(b, 0, 1);                   /* extended: set_address 0x1000 */
	put_uleb(b, 5);
	put(b, 2, 1);
	put(b, 0x1000, 4);
	put(b, 4, 1);                   /* DW_LNS_set_file */
	set_file_at = b->n;
	put_uleb(b, file);
	put(b, 3, 1);                   /* advance_line +9 */
	b->b[b->n++] = 9;
	put(b, 1, 1);                   /* copy: row at 0x1000 line 10 */
	/* special: opcode_base 13, line_base -5, range 14: 2 operations, line +2 */
	put(b, 13 + (2 + 5) + 14 * 2, 1);
	put(b, 9, 1);                   /* fixed_advance_pc 2 */
	put(b, 2, 2);
	put(b, 3, 1);                   /* advance_line -1 */
	b->b[b->n++] = 0x7F;
	put(b, 1, 1);                   /* copy: 0x1006 line 11 */
	put(b, 2, 1);                   /* advance_pc: 10 operations, 20 bytes */
	put_uleb(b, 10);
	put(b, 0, 1);                   /* end_sequence at 0x101A */
	put_uleb(b, 1);
	put(b, 1, 1);
}

static void put_common_header(struct buf *b, unsigned version)
{
	static const uint8_t std[12] = { 0, 1, 1, 1, 1, 0, 0, 0, 1, 0, 0, 1 };

	put(b, 2, 1);                   /* minimum_instruction_length */
	if (version >= 4)
		put(b, 1, 1);           /* maximum_operations_per_instruction */
	put(b, 1, 1);                   /* default_is_stmt */
	put(b, (uint8_t)-5, 1);         /* line_base */
	put(b, 14, 1);                  /* line_range */
	put(b, 13, 1);                  /* opcode_base */
	memcpy(b->b + b->n, std, sizeof(std));
	b->n += sizeof(std);
}

/* Where a unit's two lengths go, to fill them in once the unit is written. */
struct unit_marks {
	size_t len_at, start, hlen_at, hstart;
	unsigned osize;              /* 4, or 8 for 64-bit DWARF */
};

/* A unit up to its directory table. */
static void begin_unit(struct buf *b, unsigned version, bool dwarf64, struct unit_marks *m)
{
	m->osize = dwarf64 ? 8 : 4;
	b->n = 0;
	if (dwarf64)
		put(b, 0xFFFFFFFFu, 4);
	m->len_at = b->n;
	put(b, 0, m->osize);
	m->start = b->n;
	put(b, version, 2);
	if (version >= 5) {
		put(b, 4, 1);           /* address_size */
		put(b, 0, 1);           /* segment_selector_size */
	}
	m->hlen_at = b->n;
	put(b, 0, m->osize);
	m->hstart = b->n;
	put_common_header(b, version);
}

/* The header is over: its length, the program, the unit's length. */
static void end_unit(struct buf *b, const struct unit_marks *m, unsigned file)
{
	patch(b, m->hlen_at, b->n - m->hstart, m->osize);
	put_program(b, file);
	patch(b, m->len_at, b->n - m->start, m->osize);
}

/* A DWARF 2-4 unit; dwarf64 selects the 64-bit format. */
static void make_v4(struct buf *b, unsigned version, bool dwarf64)
{
	struct unit_marks m;

	begin_unit(b, version, dwarf64, &m);
	put_str(b, "src");              /* directory 1 */
	put_str(b, "");
	put_str(b, "x.c");              /* file 1, in directory 1 */
	put_uleb(b, 1);
	put_uleb(b, 0);
	put_uleb(b, 0);
	put_str(b, "/abs/y.c");         /* file 2, absolute: no directory joined */
	put_uleb(b, 1);
	put_uleb(b, 0);
	put_uleb(b, 0);
	put(b, 0, 1);
	end_unit(b, &m, 1);
}

static void expect_rows(const struct buf *b, const uint8_t *line_str, size_t line_str_len,
			const char *file)
{
	struct dwarf_line_sections s = { b->b, b->n, line_str, line_str_len, NULL, 0 };
	char err[200];
	struct dwarf_lines *dl = dwarf_lines_read(&s, err, sizeof(err));
	const char *f;
	unsigned l;

	if (!dl)
		fail_msg("refused: %s", err);
	assert_int_equal(dwarf_lines_find(dl, 0x1000, &f, &l), 0);
	assert_string_equal(f, file);
	assert_int_equal(l, 10);
	assert_int_equal(dwarf_lines_find(dl, 0x1003, &f, &l), 0);
	assert_int_equal(l, 10);
	assert_int_equal(dwarf_lines_find(dl, 0x1004, &f, &l), 0);
	assert_int_equal(l, 12);
	assert_int_equal(dwarf_lines_find(dl, 0x1005, &f, &l), 0);
	assert_int_equal(l, 12);
	assert_int_equal(dwarf_lines_find(dl, 0x1006, &f, &l), 0);
	assert_int_equal(l, 11);
	assert_int_equal(dwarf_lines_find(dl, 0x1019, &f, &l), 0);
	assert_int_equal(l, 11);
	assert_int_equal(dwarf_lines_find(dl, 0x101A, &f, &l), -1);
	assert_int_equal(dwarf_lines_find(dl, 0x0FFF, &f, &l), -1);
	assert_int_equal(dwarf_lines_count(dl), 3);
	dwarf_lines_free(dl);
}

static void handmade_v2_v3_v4(void **state)
{
	struct buf b;
	unsigned v;

	(void)state;
	for (v = 2; v <= 4; v++) {
		make_v4(&b, v, false);
		expect_rows(&b, NULL, 0, "src/x.c");
	}
}

static void handmade_dwarf64(void **state)
{
	struct buf b;

	(void)state;
	make_v4(&b, 4, true);
	expect_rows(&b, NULL, 0, "src/x.c");
}

/*
 * A DWARF 5 unit: directories as line_strp, files as inline strings with
 * a udata directory index and an MD5 (data16) that must be skipped.
 */
static const uint8_t v5_line_str[] = "/comp/dir\0lib\0";

static void make_v5(struct buf *b, bool dwarf64, unsigned file)
{
	struct unit_marks m;

	begin_unit(b, 5, dwarf64, &m);
	put(b, 1, 1);                   /* directory formats: path as line_strp */
	put_uleb(b, 1);
	put_uleb(b, 0x1f);
	put_uleb(b, 2);                 /* directories: comp dir, "lib" */
	put(b, 0, m.osize);
	put(b, 10, m.osize);
	put(b, 3, 1);                   /* file formats: path string, dir udata, MD5 */
	put_uleb(b, 1);
	put_uleb(b, 0x08);
	put_uleb(b, 2);
	put_uleb(b, 0x0f);
	put_uleb(b, 5);
	put_uleb(b, 0x1e);
	put_uleb(b, 2);                 /* files 0 and 1 */
	put_str(b, "main.c");
	put_uleb(b, 0);
	memset(b->b + b->n, 0xAB, 16);
	b->n += 16;
	put_str(b, "util.c");
	put_uleb(b, 1);
	memset(b->b + b->n, 0xCD, 16);
	b->n += 16;
	end_unit(b, &m, file);
}

static void handmade_v5(void **state)
{
	struct buf b;

	(void)state;
	/* File 0 is in directory 0, the compilation directory: not prepended. */
	make_v5(&b, false, 0);
	expect_rows(&b, v5_line_str, sizeof(v5_line_str), "main.c");
	make_v5(&b, false, 1);
	expect_rows(&b, v5_line_str, sizeof(v5_line_str), "lib/util.c");
	make_v5(&b, true, 1);
	expect_rows(&b, v5_line_str, sizeof(v5_line_str), "lib/util.c");
}

static void two_units_in_one_section(void **state)
{
	struct buf a, b;

	(void)state;
	make_v4(&a, 3, false);
	make_v4(&b, 3, false);
	memcpy(a.b + a.n, b.b, b.n);
	a.n += b.n;
	/* Same rows twice: found, and both units counted. */
	{
		struct dwarf_line_sections s = { a.b, a.n, NULL, 0, NULL, 0 };
		char err[200];
		struct dwarf_lines *dl = dwarf_lines_read(&s, err, sizeof(err));
		const char *f;
		unsigned l;

		assert_non_null(dl);
		assert_int_equal(dwarf_lines_count(dl), 6);
		assert_int_equal(dwarf_lines_find(dl, 0x1007, &f, &l), 0);
		assert_int_equal(l, 11);
		dwarf_lines_free(dl);
	}
}

/* ---- Malformed tables --------------------------------------------------------- */

static void expect_refusal(const struct buf *b, const uint8_t *line_str, size_t line_str_len,
			   const char *needle)
{
	struct dwarf_line_sections s = { b->b, b->n, line_str, line_str_len, NULL, 0 };
	char err[200] = "";
	struct dwarf_lines *dl = dwarf_lines_read(&s, err, sizeof(err));

	if (dl) {
		dwarf_lines_free(dl);
		fail_msg("accepted a table that should fail with \"%s\"", needle);
	}
	if (!strstr(err, needle))
		fail_msg("message \"%s\" does not say \"%s\"", err, needle);
	assert_non_null(strstr(err, ".debug_line unit at offset 0x0"));
}

static void refuses_bad_versions_and_lengths(void **state)
{
	struct buf b;

	(void)state;
	make_v4(&b, 4, false);
	b.b[4] = 6;
	expect_refusal(&b, NULL, 0, "unsupported line table version 6 (2 to 5 are)");
	make_v4(&b, 4, false);
	b.b[4] = 1;
	expect_refusal(&b, NULL, 0, "unsupported line table version 1");

	make_v4(&b, 4, false);
	b.b[0] += 1;                    /* one byte longer than the section */
	expect_refusal(&b, NULL, 0, "the unit is longer than the section");

	make_v4(&b, 4, false);
	b.b[0] = 0xF0;
	b.b[1] = b.b[2] = b.b[3] = 0xFF;
	expect_refusal(&b, NULL, 0, "reserved unit length");

	make_v4(&b, 4, false);
	b.b[6] = 0xFF;                  /* header_length beyond the unit */
	expect_refusal(&b, NULL, 0, "the header is longer than the unit");

	make_v4(&b, 4, false);
	b.b[14] = 0;                    /* line_range (after length, version, */
					/* header_length, 4 one-byte fields) */
	expect_refusal(&b, NULL, 0, "line_range, opcode_base and maximum_operations_per_instruction must not be 0");
}

static void refuses_bad_file_references(void **state)
{
	struct buf b;

	(void)state;
	/* DW_LNS_set_file 7: only files 1 and 2 exist. */
	make_v4(&b, 4, false);
	b.b[set_file_at] = 7;
	expect_refusal(&b, NULL, 0, "a row refers to a file that is not in the file table");

	/* DWARF 5: a line_strp past the end of .debug_line_str. */
	make_v5(&b, false, 1);
	expect_refusal(&b, v5_line_str, 5, "a name points outside .debug_line_str");
	expect_refusal(&b, NULL, 0, "a name points outside .debug_line_str (or the section is missing)");
}

static void refuses_unknown_forms(void **state)
{
	struct buf b;
	size_t i;

	(void)state;
	make_v5(&b, false, 1);
	/* The file formats' udata directory index becomes DW_FORM_strx (0x1a). */
	for (i = 0; i + 2 < b.n; i++)
		if (b.b[i] == 2 && b.b[i + 1] == 0x0f && b.b[i + 2] == 5)
			break;
	assert_true(i + 2 < b.n);
	b.b[i + 1] = 0x1a;
	expect_refusal(&b, v5_line_str, sizeof(v5_line_str), "unsupported attribute form 0x1a in the file table");
}

static void refuses_an_empty_section(void **state)
{
	struct dwarf_line_sections s = { NULL, 0, NULL, 0, NULL, 0 };
	char err[200];

	(void)state;
	assert_null(dwarf_lines_read(&s, err, sizeof(err)));
	assert_string_equal(err, "no .debug_line section (built without -g?)");
}

/* Truncated or damaged real tables: refused or read, never overrun. */
static void survives_truncation_and_damage(void **state)
{
	static const char *const elfs[] = { FIXTURE_ELF_V3, FIXTURE_ELF_V5 };
	unsigned i, refused = 0, read = 0;

	(void)state;
	for (i = 0; i < 2; i++) {
		struct sections x;
		uint8_t *copy;
		size_t n, k;
		uint32_t rng = 12345;

		load_fixture(&x, elfs[i]);
		for (n = 1; n < x.s.line_len; n++) {
			struct dwarf_line_sections s = x.s;
			struct dwarf_lines *dl;
			char err[200];

			/* An exact-size copy, so that ASan sees any read past the end. */
			copy = malloc(n);
			assert_non_null(copy);
			memcpy(copy, x.s.line, n);
			s.line = copy;
			s.line_len = n;
			dl = dwarf_lines_read(&s, err, sizeof(err));
			if (dl)
				read++;
			else
				refused++;
			dwarf_lines_free(dl);
			free(copy);
		}
		copy = malloc(x.s.line_len);
		assert_non_null(copy);
		for (k = 0; k < 2000; k++) {
			struct dwarf_line_sections s = x.s;
			struct dwarf_lines *dl;
			char err[200];

			memcpy(copy, x.s.line, x.s.line_len);
			rng = rng * 1103515245u + 12345u;
			copy[(rng >> 8) % x.s.line_len] ^= (uint8_t)(1u << ((rng >> 4) & 7u));
			s.line = copy;
			dl = dwarf_lines_read(&s, err, sizeof(err));
			dwarf_lines_free(dl);
		}
		free(copy);
		free(x.elf);
	}
	/* Most prefixes cut a unit short; a prefix ending between units reads. */
	assert_true(refused > read);
	assert_true(read >= 1);
}

/* ---- ELF sections -------------------------------------------------------------- */

struct sec_seen {
	bool text, bss, debug_line;
	uint32_t text_addr;
};

static int note_section(void *ctx, const struct elf32_section *s)
{
	struct sec_seen *seen = ctx;

	if (strcmp(s->name, ".text") == 0) {
		seen->text = s->data && (s->flags & ELF32_SHF_ALLOC);
		seen->text_addr = s->addr;
	}
	if (strcmp(s->name, ".debug_line") == 0)
		seen->debug_line = s->data != NULL;
	if (strcmp(s->name, ".bss") == 0)
		seen->bss = s->type == ELF32_SHT_NOBITS && !s->data;
	return 0;
}

static void elf_sections_are_walked(void **state)
{
	struct sections x;
	struct sec_seen seen = { 0 };
	size_t n;

	(void)state;
	load_fixture(&x, FIXTURE_ELF_V5);
	elf32_sections(x.elf, x.len, note_section, &seen);
	assert_true(seen.text);
	assert_true(seen.bss);
	assert_true(seen.debug_line);
	assert_int_equal(seen.text_addr, 0x08000000u);
	assert_null(elf32_section_data(x.elf, x.len, ".no_such_section", &n));
	/* A header cut short: nothing is walked. */
	memset(&seen, 0, sizeof(seen));
	elf32_sections(x.elf, 40, note_section, &seen);
	assert_false(seen.text);
	free(x.elf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(dwarf3_lines),
		cmocka_unit_test(dwarf4_lines),
		cmocka_unit_test(dwarf5_lines),
		cmocka_unit_test(handmade_v2_v3_v4),
		cmocka_unit_test(handmade_dwarf64),
		cmocka_unit_test(handmade_v5),
		cmocka_unit_test(two_units_in_one_section),
		cmocka_unit_test(refuses_bad_versions_and_lengths),
		cmocka_unit_test(refuses_bad_file_references),
		cmocka_unit_test(refuses_unknown_forms),
		cmocka_unit_test(refuses_an_empty_section),
		cmocka_unit_test(survives_truncation_and_damage),
		cmocka_unit_test(elf_sections_are_walked),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
