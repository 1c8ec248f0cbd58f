/*
 * debuginfo.c - what the loaded ELF files say about an address: the
 * function or object it belongs to, its section, its source file and line.
 *
 * Tests find test_done and test_result by name, and the diagnose command
 * points at the instruction that went wrong as main+0x1c (app.c:42)
 * rather than as a bare address. Each sim_elf_load() adds one file's
 * symbols, allocated sections and DWARF line table (common/src/
 * dwarf_line.c); an ELF without -g still gives symbols and sections.
 */
#include <stdlib.h>
#include <string.h>

#include "board.h"
#include "sysboot/dwarf_line.h"
#include "sysboot/elf32.h"

struct dbg_sym {
	char *name;
	uint32_t value;              /* as in the file (Thumb bit kept) */
	uint32_t addr;               /* start address (Thumb bit cleared) */
	uint32_t size;
	bool locatable;              /* a function or object, not a label or marker */
};

struct dbg_sec {
	char *name;
	uint32_t addr, size;
	uint32_t type, flags;
};

struct sim_debug_file {
	char *path;
	struct dbg_sym *syms;
	size_t nsyms, syms_cap;
	struct dbg_sec *secs;
	size_t nsecs, secs_cap;
	struct dwarf_lines *lines;
	char lines_error[200];       /* why there is no line table, "" when there is */
	struct sim_debug_file *next;
};

/* Room for element n of a growing array: the array (moved or not), NULL when out of memory. */
static void *grow(void *arr, size_t *cap, size_t n, size_t elem, size_t first)
{
	size_t c = *cap ? 2 * *cap : first;
	void *p;

	if (n < *cap)
		return arr;
	p = realloc(arr, c * elem);
	if (p)
		*cap = c;
	return p;
}

static bool is_mapping_symbol(const char *name)
{
	/* ARM ELF mapping symbols ($a, $t, $d, $t.1 ...) mark code and data, not places. */
	return name[0] == '$';
}

static int add_sym(void *ctx, const struct elf32_symbol *es)
{
	struct sim_debug_file *df = ctx;
	struct dbg_sym *s;

	s = grow(df->syms, &df->syms_cap, df->nsyms, sizeof(*s), 64);
	if (!s)
		return -1;
	df->syms = s;
	s = &df->syms[df->nsyms];
	s->name = strdup(es->name);
	if (!s->name)
		return -1;
	s->value = es->value;
	s->size = es->size;
	s->addr = es->type == ELF32_STT_FUNC ? es->value & ~1u : es->value;
	/* Functions and objects; untyped global labels from assembly too. */
	/* Not undefined (0), absolute or common (0xFF00 and up: reserved indexes). */
	s->locatable = es->shndx != 0 && es->shndx < 0xFF00u && !is_mapping_symbol(es->name) &&
		       (es->type == ELF32_STT_FUNC || es->type == ELF32_STT_OBJECT ||
			(es->type == 0 && es->bind != 0));
	df->nsyms++;
	return 0;
}

static int add_sec(void *ctx, const struct elf32_section *es)
{
	struct sim_debug_file *df = ctx;
	struct dbg_sec *s;

	if (!(es->flags & ELF32_SHF_ALLOC) || !es->size)
		return 0;
	s = grow(df->secs, &df->secs_cap, df->nsecs, sizeof(*s), 16);
	if (!s)
		return -1;
	df->secs = s;
	s = &df->secs[df->nsecs];
	s->name = strdup(es->name);
	if (!s->name)
		return -1;
	s->addr = es->addr;
	s->size = es->size;
	s->type = es->type;
	s->flags = es->flags;
	df->nsecs++;
	return 0;
}

static void free_file(struct sim_debug_file *df)
{
	size_t i;

	for (i = 0; i < df->nsyms; i++)
		free(df->syms[i].name);
	for (i = 0; i < df->nsecs; i++)
		free(df->secs[i].name);
	free(df->syms);
	free(df->secs);
	dwarf_lines_free(df->lines);
	free(df->path);
	free(df);
}

int debuginfo_add(struct board *b, const char *path, const uint8_t *buf, size_t len)
{
	struct sim_debug_file *df = calloc(1, sizeof(*df)), **pp;
	struct dwarf_line_sections s = { 0 };

	if (!df)
		return -1;
	df->path = strdup(path);
	if (!df->path)
		goto fail;
	elf32_symbols(buf, len, add_sym, df);
	elf32_sections(buf, len, add_sec, df);
	s.line = elf32_section_data(buf, len, ".debug_line", &s.line_len);
	s.line_str = elf32_section_data(buf, len, ".debug_line_str", &s.line_str_len);
	s.str = elf32_section_data(buf, len, ".debug_str", &s.str_len);
	if (!s.line)
		snprintf(df->lines_error, sizeof(df->lines_error),
			 "no .debug_line section (built without -g?)");
	else
		df->lines = dwarf_lines_read(&s, df->lines_error, sizeof(df->lines_error));
	/* Files are searched in the order they were loaded. */
	for (pp = &b->debug; *pp; pp = &(*pp)->next)
		;
	*pp = df;
	return 0;
fail:
	free_file(df);
	return -1;
}

void debuginfo_free(struct board *b)
{
	while (b->debug) {
		struct sim_debug_file *next = b->debug->next;

		free_file(b->debug);
		b->debug = next;
	}
}

uint32_t sim_symbol(const struct sim_board *sb, const char *name)
{
	const struct sim_debug_file *df;
	size_t i;

	for (df = board_of_const(sb)->debug; df; df = df->next)
		for (i = 0; i < df->nsyms; i++)
			if (strcmp(df->syms[i].name, name) == 0)
				return df->syms[i].value;
	return 0;
}

static const struct dbg_sec *sec_at(const struct sim_debug_file *df, uint32_t addr)
{
	size_t i;

	for (i = 0; i < df->nsecs; i++)
		if (addr >= df->secs[i].addr && addr - df->secs[i].addr < df->secs[i].size)
			return &df->secs[i];
	return NULL;
}

/*
 * The function or object holding addr; else the nearest label before it
 * in the same section (assembly code without .size), unless a sized
 * symbol lies between them.
 */
static const struct dbg_sym *sym_at(const struct sim_debug_file *df, const struct dbg_sec *sec,
				    uint32_t addr)
{
	const struct dbg_sym *sized = NULL, *near = NULL;
	size_t i;

	for (i = 0; i < df->nsyms; i++) {
		const struct dbg_sym *s = &df->syms[i];

		if (!s->locatable || s->addr > addr)
			continue;
		if (s->size && addr - s->addr < s->size) {
			if (!sized || s->addr > sized->addr)
				sized = s;
		} else if (!s->size && sec && s->addr >= sec->addr &&
			   (!near || s->addr > near->addr)) {
			near = s;
		}
	}
	if (sized || !near)
		return sized;
	for (i = 0; i < df->nsyms; i++) {
		const struct dbg_sym *s = &df->syms[i];

		if (s->locatable && s->size && s->addr > near->addr && s->addr <= addr)
			return NULL;
	}
	return near;
}

static bool locate_in(const struct board *b, uint32_t addr, struct sim_location *loc)
{
	const struct sim_debug_file *df;

	for (df = b->debug; df; df = df->next) {
		const struct dbg_sec *sec = sec_at(df, addr);
		const struct dbg_sym *sym = sym_at(df, sec, addr);

		if (!sec && !sym)
			continue;
		loc->elf = df->path;
		if (sec) {
			loc->section = sec->name;
			loc->section_start = sec->addr;
			loc->section_writable = (sec->flags & ELF32_SHF_WRITE) != 0;
		}
		if (sym) {
			loc->symbol = sym->name;
			loc->offset = addr - sym->addr;
		}
		if (df->lines && dwarf_lines_find(df->lines, addr, &loc->file, &loc->line) < 0) {
			loc->file = NULL;
			loc->line = 0;
		}
		return true;
	}
	return false;
}

bool sim_locate(const struct sim_board *sb, uint32_t addr, struct sim_location *loc)
{
	const struct board *b = board_of_const(sb);

	memset(loc, 0, sizeof(*loc));
	loc->addr = addr;
	if (locate_in(b, addr, loc))
		return true;
	/* Code run through the boot alias at 0x0 is flash code. */
	if (addr < STM32_FLASH_SIZE && locate_in(b, addr + STM32_FLASH_BASE, loc))
		return true;
	return false;
}

size_t sim_debug_files(const struct sim_board *sb, const char **paths, const char **errors, size_t max)
{
	const struct sim_debug_file *df;
	size_t n = 0;

	for (df = board_of_const(sb)->debug; df; df = df->next, n++) {
		if (n < max) {
			paths[n] = df->path;
			errors[n] = df->lines_error;
		}
	}
	return n;
}
