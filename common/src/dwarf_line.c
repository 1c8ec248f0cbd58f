/*
 * dwarf_line.c - the DWARF line number program (see dwarf_line.h).
 *
 * Each unit of .debug_line is a header (file and directory tables) and a
 * byte-coded program for a state machine whose rows map addresses to
 * lines (DWARF 5 section 6.2.2). The rows of one sequence are in address
 * order; consecutive rows give the address range [row, next row) of the
 * first row's line, and the table keeps just those ranges, sorted, so a
 * lookup is a binary search.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sysboot/dwarf_line.h"

/* Standard opcodes (DWARF 5 section 6.2.5.2). */
enum {
	DW_LNS_copy = 1,
	DW_LNS_advance_pc,
	DW_LNS_advance_line,
	DW_LNS_set_file,
	DW_LNS_set_column,
	DW_LNS_negate_stmt,
	DW_LNS_set_basic_block,
	DW_LNS_const_add_pc,
	DW_LNS_fixed_advance_pc,
	DW_LNS_set_prologue_end,
	DW_LNS_set_epilogue_begin,
	DW_LNS_set_isa,
};

/* Extended opcodes (6.2.5.3). */
enum {
	DW_LNE_end_sequence = 1,
	DW_LNE_set_address = 2,
	DW_LNE_define_file = 3,      /* DWARF 2 to 4 only */
	DW_LNE_set_discriminator = 4,
};

/* Line table content types and the forms they come in (6.2.4.1, 7.5.6). */
enum {
	DW_LNCT_path = 1,
	DW_LNCT_directory_index = 2,
};

enum {
	DW_FORM_block2 = 0x03,
	DW_FORM_block4 = 0x04,
	DW_FORM_data2 = 0x05,
	DW_FORM_data4 = 0x06,
	DW_FORM_data8 = 0x07,
	DW_FORM_string = 0x08,
	DW_FORM_block = 0x09,
	DW_FORM_block1 = 0x0a,
	DW_FORM_data1 = 0x0b,
	DW_FORM_sdata = 0x0d,
	DW_FORM_strp = 0x0e,
	DW_FORM_udata = 0x0f,
	DW_FORM_data16 = 0x1e,
	DW_FORM_line_strp = 0x1f,
};

struct range {
	uint64_t lo, hi;             /* [lo, hi) */
	uint32_t file;               /* index into files */
	uint32_t line;
};

struct dwarf_lines {
	struct range *ranges;
	size_t nranges, cap;
	char **files;
	size_t nfiles, files_cap;
};

/* A bounds-checked reader over one section; any overrun sets bad. */
struct cursor {
	const uint8_t *p, *end;
	bool bad;
};

static bool take(struct cursor *c, size_t n)
{
	if (c->bad || (size_t)(c->end - c->p) < n) {
		c->bad = true;
		return false;
	}
	return true;
}

static uint64_t rd_le(struct cursor *c, unsigned n)
{
	uint64_t v = 0;
	unsigned i;

	if (!take(c, n))
		return 0;
	for (i = 0; i < n; i++)
		v |= (uint64_t)c->p[i] << (8 * i);
	c->p += n;
	return v;
}

/* A LEB128 number, sign-extended when it is signed (DWARF 5 section 7.6). */
static uint64_t rd_leb(struct cursor *c, bool is_signed)
{
	uint64_t v = 0;
	unsigned shift = 0;
	uint8_t b;

	do {
		if (!take(c, 1))
			return 0;
		b = *c->p++;
		if (shift < 64)
			v |= (uint64_t)(b & 0x7Fu) << shift;
		shift += 7;
	} while (b & 0x80u);
	if (is_signed && shift < 64 && (b & 0x40u))
		v |= ~(uint64_t)0 << shift;
	return v;
}

static uint64_t rd_uleb(struct cursor *c)
{
	return rd_leb(c, false);
}

static int64_t rd_sleb(struct cursor *c)
{
	return (int64_t)rd_leb(c, true);
}

/* A NUL-terminated string inside the cursor's bounds. */
static const char *rd_cstr(struct cursor *c)
{
	const uint8_t *nul;

	if (c->bad)
		return NULL;
	nul = memchr(c->p, 0, (size_t)(c->end - c->p));
	if (!nul) {
		c->bad = true;
		return NULL;
	}
	{
		const char *s = (const char *)c->p;

		c->p = nul + 1;
		return s;
	}
}

static bool skip(struct cursor *c, uint64_t n)
{
	if (n > (uint64_t)(c->end - c->p)) {
		c->bad = true;
		return false;
	}
	c->p += n;
	return true;
}

/* A string at an offset into a string section, checked. */
static const char *str_at(const uint8_t *sec, size_t len, uint64_t off)
{
	if (!sec || off >= len || !memchr(sec + off, 0, len - (size_t)off))
		return NULL;
	return (const char *)sec + off;
}

/* ---- Building the table -------------------------------------------------- */

static int add_file(struct dwarf_lines *dl, const char *dir, const char *name, uint32_t *id)
{
	size_t dlen = dir && *dir && name[0] != '/' ? strlen(dir) : 0, i;
	char *path = malloc(dlen + strlen(name) + 2);

	if (!path)
		return -1;
	if (dlen)
		sprintf(path, "%s/%s", dir, name);
	else
		strcpy(path, name);
	for (i = 0; i < dl->nfiles; i++) {
		if (strcmp(dl->files[i], path) == 0) {
			free(path);
			*id = (uint32_t)i;
			return 0;
		}
	}
	if (dl->nfiles == dl->files_cap) {
		size_t cap = dl->files_cap ? 2 * dl->files_cap : 16;
		char **f = realloc(dl->files, cap * sizeof(*f));

		if (!f) {
			free(path);
			return -1;
		}
		dl->files = f;
		dl->files_cap = cap;
	}
	dl->files[dl->nfiles] = path;
	*id = (uint32_t)dl->nfiles++;
	return 0;
}

static int add_range(struct dwarf_lines *dl, uint64_t lo, uint64_t hi, uint32_t file, uint32_t line)
{
	if (lo >= hi || lo > UINT32_MAX)
		return 0;
	if (dl->nranges == dl->cap) {
		size_t cap = dl->cap ? 2 * dl->cap : 256;
		struct range *r = realloc(dl->ranges, cap * sizeof(*r));

		if (!r)
			return -1;
		dl->ranges = r;
		dl->cap = cap;
	}
	dl->ranges[dl->nranges++] = (struct range){ .lo = lo, .hi = hi, .file = file, .line = line };
	return 0;
}

/* ---- One unit --------------------------------------------------------------- */

/* What a unit's header says, and its file table mapped to table file ids. */
struct unit {
	unsigned version;
	unsigned offset_size;        /* 4, or 8 for 64-bit DWARF */
	unsigned min_inst, max_ops;
	bool default_is_stmt;
	int line_base;
	unsigned line_range, opcode_base;
	uint8_t std_len[256];
	const char **dirs;
	size_t ndirs;
	uint32_t *file_ids;          /* file register value -> table file id */
	size_t nfile_ids;
	bool file_zero_based;        /* DWARF 5: file 0 is the primary file */
};

struct reader {
	struct dwarf_lines *dl;
	const struct dwarf_line_sections *s;
	size_t unit_off;
	char *err;
	size_t errlen;
};

static int fail(struct reader *rd, const char *what)
{
	snprintf(rd->err, rd->errlen, ".debug_line unit at offset 0x%zx: %s", rd->unit_off, what);
	return -1;
}

static int push_ptr(const char ***v, size_t *n, const char *s)
{
	const char **nv = realloc(*v, (*n + 1) * sizeof(**v));

	if (!nv)
		return -1;
	nv[(*n)++] = s;
	*v = nv;
	return 0;
}

static int push_id(struct unit *u, uint32_t id)
{
	uint32_t *nv = realloc(u->file_ids, (u->nfile_ids + 1) * sizeof(*nv));

	if (!nv)
		return -1;
	nv[u->nfile_ids++] = id;
	u->file_ids = nv;
	return 0;
}

/* A file entry (name, directory index) into the table. */
static int unit_add_file(struct reader *rd, struct unit *u, const char *name, uint64_t dir)
{
	const char *d = NULL;
	uint32_t id;

	/*
	 * DWARF 5: directory 0 is the compilation directory; DWARF 2 to 4:
	 * directory 0 is the compilation directory (implicit), 1.. the list.
	 * Either way the compilation directory is not prepended.
	 */
	if (u->version >= 5) {
		if (dir >= u->ndirs)
			return fail(rd, "file entry refers to a directory that does not exist");
		if (dir > 0)
			d = u->dirs[dir];
	} else if (dir > 0) {
		if (dir > u->ndirs)
			return fail(rd, "file entry refers to a directory that does not exist");
		d = u->dirs[dir - 1];
	}
	if (add_file(rd->dl, d, name, &id) < 0 || push_id(u, id) < 0)
		return fail(rd, "out of memory");
	return 0;
}

/* One attribute value of a DWARF 5 directory or file entry. */
static int read_form(struct reader *rd, struct cursor *c, const struct unit *u, uint64_t form,
		     const char **str, uint64_t *num)
{
	uint64_t off;

	*str = NULL;
	*num = 0;
	switch (form) {
	case DW_FORM_string:
		*str = rd_cstr(c);
		break;
	case DW_FORM_line_strp:
	case DW_FORM_strp:
		off = rd_le(c, u->offset_size);
		if (c->bad)
			break;
		*str = form == DW_FORM_line_strp ?
		       str_at(rd->s->line_str, rd->s->line_str_len, off) :
		       str_at(rd->s->str, rd->s->str_len, off);
		if (!*str)
			return fail(rd, form == DW_FORM_line_strp ?
				    "a name points outside .debug_line_str (or the section is missing)" :
				    "a name points outside .debug_str (or the section is missing)");
		break;
	case DW_FORM_udata:
		*num = rd_uleb(c);
		break;
	case DW_FORM_sdata:
		*num = (uint64_t)rd_sleb(c);
		break;
	case DW_FORM_data1:
		*num = rd_le(c, 1);
		break;
	case DW_FORM_data2:
		*num = rd_le(c, 2);
		break;
	case DW_FORM_data4:
		*num = rd_le(c, 4);
		break;
	case DW_FORM_data8:
		*num = rd_le(c, 8);
		break;
	case DW_FORM_data16:
		skip(c, 16);
		break;
	case DW_FORM_block:
		skip(c, rd_uleb(c));
		break;
	case DW_FORM_block1:
		skip(c, rd_le(c, 1));
		break;
	case DW_FORM_block2:
		skip(c, rd_le(c, 2));
		break;
	case DW_FORM_block4:
		skip(c, rd_le(c, 4));
		break;
	default: {
		char msg[96];

		snprintf(msg, sizeof(msg), "unsupported attribute form 0x%llx in the file table",
			 (unsigned long long)form);
		return fail(rd, msg);
	}
	}
	if (c->bad)
		return fail(rd, "the file table runs past the end of the unit");
	return 0;
}

/* DWARF 5 directory and file tables: self-describing entries (6.2.4). */
static int read_v5_entries(struct reader *rd, struct cursor *c, struct unit *u, bool files)
{
	uint64_t fmt[2 * 16], count, i;
	unsigned nfmt, k;

	nfmt = (unsigned)rd_le(c, 1);
	if (nfmt > 16)
		return fail(rd, "too many entry formats in the file table");
	for (k = 0; k < nfmt; k++) {
		fmt[2 * k] = rd_uleb(c);
		fmt[2 * k + 1] = rd_uleb(c);
	}
	count = rd_uleb(c);
	if (c->bad)
		return fail(rd, "the header runs past the end of the unit");
	for (i = 0; i < count; i++) {
		const char *path = NULL;
		uint64_t dir = 0;

		for (k = 0; k < nfmt; k++) {
			const char *s;
			uint64_t n;

			if (read_form(rd, c, u, fmt[2 * k + 1], &s, &n) < 0)
				return -1;
			if (fmt[2 * k] == DW_LNCT_path)
				path = s;
			else if (fmt[2 * k] == DW_LNCT_directory_index)
				dir = n;
		}
		if (!path)
			return fail(rd, files ? "a file entry has no name" : "a directory entry has no name");
		if (files) {
			if (unit_add_file(rd, u, path, dir) < 0)
				return -1;
		} else if (push_ptr(&u->dirs, &u->ndirs, path) < 0) {
			return fail(rd, "out of memory");
		}
	}
	return 0;
}

/* DWARF 2 to 4: include_directories and file_names, each ended by a 0 byte. */
static int read_v4_tables(struct reader *rd, struct cursor *c, struct unit *u)
{
	for (;;) {
		const char *d = rd_cstr(c);

		if (!d)
			return fail(rd, "the directory table runs past the end of the header");
		if (!*d)
			break;
		if (push_ptr(&u->dirs, &u->ndirs, d) < 0)
			return fail(rd, "out of memory");
	}
	for (;;) {
		const char *name = rd_cstr(c);
		uint64_t dir;

		if (!name)
			return fail(rd, "the file table runs past the end of the header");
		if (!*name)
			break;
		dir = rd_uleb(c);
		rd_uleb(c);                  /* modification time */
		rd_uleb(c);                  /* length */
		if (c->bad)
			return fail(rd, "the file table runs past the end of the header");
		if (unit_add_file(rd, u, name, dir) < 0)
			return -1;
	}
	return 0;
}

struct state {
	uint64_t addr;
	unsigned op_index;
	uint64_t file;
	int64_t line;
	bool have_row;               /* a row of this sequence is pending */
	uint64_t row_addr;
	uint32_t row_file, row_line;
};

static void state_reset(struct state *st)
{
	st->addr = 0;
	st->op_index = 0;
	st->file = 1;
	st->line = 1;
	st->have_row = false;
}

/* Append a row: the pending one gets the range up to this address. */
static int emit(struct reader *rd, const struct unit *u, struct state *st, bool end)
{
	uint64_t idx = u->file_zero_based ? st->file : st->file - 1;
	uint32_t file;

	if (st->have_row && st->addr > st->row_addr &&
	    add_range(rd->dl, st->row_addr, st->addr, st->row_file, st->row_line) < 0)
		return fail(rd, "out of memory");
	if (end) {
		state_reset(st);
		return 0;
	}
	if (idx >= u->nfile_ids)
		return fail(rd, "a row refers to a file that is not in the file table");
	file = u->file_ids[idx];
	st->have_row = true;
	st->row_addr = st->addr;
	st->row_file = file;
	st->row_line = st->line > 0 && st->line <= UINT32_MAX ? (uint32_t)st->line : 0;
	return 0;
}

static void advance(const struct unit *u, struct state *st, uint64_t operation_advance)
{
	uint64_t ops = st->op_index + operation_advance;

	st->addr += (uint64_t)u->min_inst * (ops / u->max_ops);
	st->op_index = (unsigned)(ops % u->max_ops);
}

static int run_program(struct reader *rd, struct cursor *c, struct unit *u)
{
	struct state st;

	state_reset(&st);
	while (c->p < c->end) {
		unsigned op = *c->p++;

		if (op >= u->opcode_base) {
			unsigned adj = op - u->opcode_base;

			advance(u, &st, adj / u->line_range);
			st.line += u->line_base + (int)(adj % u->line_range);
			if (emit(rd, u, &st, false) < 0)
				return -1;
			continue;
		}
		switch (op) {
		case 0: {                    /* extended opcode */
			uint64_t len = rd_uleb(c);
			const uint8_t *next;
			unsigned sub;

			if (c->bad || len == 0 || len > (uint64_t)(c->end - c->p))
				return fail(rd, "an extended opcode runs past the end of the unit");
			next = c->p + len;
			sub = *c->p++;
			switch (sub) {
			case DW_LNE_end_sequence:
				if (emit(rd, u, &st, true) < 0)
					return -1;
				break;
			case DW_LNE_set_address:
				if (len - 1 > 8)
					return fail(rd, "DW_LNE_set_address with an address wider than 8 bytes");
				st.addr = rd_le(c, (unsigned)(len - 1));
				st.op_index = 0;
				break;
			case DW_LNE_define_file: {
				const char *name = rd_cstr(c);
				uint64_t dir = rd_uleb(c);

				if (!name || c->bad)
					return fail(rd, "DW_LNE_define_file runs past the end of the unit");
				if (unit_add_file(rd, u, name, dir) < 0)
					return -1;
				break;
			}
			default:
				break;   /* set_discriminator and vendor opcodes: no effect on lines */
			}
			c->p = next;
			break;
		}
		case DW_LNS_copy:
			if (emit(rd, u, &st, false) < 0)
				return -1;
			break;
		case DW_LNS_advance_pc:
			advance(u, &st, rd_uleb(c));
			break;
		case DW_LNS_advance_line:
			st.line += rd_sleb(c);
			break;
		case DW_LNS_set_file:
			st.file = rd_uleb(c);
			break;
		case DW_LNS_const_add_pc:
			advance(u, &st, (255u - u->opcode_base) / u->line_range);
			break;
		case DW_LNS_fixed_advance_pc:
			st.addr += rd_le(c, 2);
			st.op_index = 0;
			break;
		default: {
			/* Other standard opcodes: skip their ULEB128 operands. */
			unsigned n = u->std_len[op - 1], k;

			for (k = 0; k < n; k++)
				rd_uleb(c);
			break;
		}
		}
		if (c->bad)
			return fail(rd, "an opcode's operands run past the end of the unit");
	}
	return 0;
}

static int read_unit(struct reader *rd, struct cursor *sec, struct unit *u)
{
	struct cursor c, hdr;
	uint64_t len, header_len;
	unsigned i;

	len = rd_le(sec, 4);
	u->offset_size = 4;
	if (len == 0xFFFFFFFFu) {
		len = rd_le(sec, 8);
		u->offset_size = 8;
	} else if (len >= 0xFFFFFFF0u) {
		return fail(rd, "reserved unit length");
	}
	if (sec->bad || len > (uint64_t)(sec->end - sec->p))
		return fail(rd, "the unit is longer than the section");
	c.p = sec->p;
	c.end = sec->p + len;
	c.bad = false;
	sec->p = c.end;

	u->version = (unsigned)rd_le(&c, 2);
	if (c.bad || u->version < 2 || u->version > 5) {
		char msg[64];

		snprintf(msg, sizeof(msg), "unsupported line table version %u (2 to 5 are)", u->version);
		return fail(rd, msg);
	}
	if (u->version >= 5) {
		unsigned asize = (unsigned)rd_le(&c, 1);

		rd_le(&c, 1);                /* segment selector size */
		if (asize != 4 && asize != 8)
			return fail(rd, "address size is neither 4 nor 8");
	}
	header_len = rd_le(&c, u->offset_size);
	if (c.bad || header_len > (uint64_t)(c.end - c.p))
		return fail(rd, "the header is longer than the unit");
	hdr.p = c.p;
	hdr.end = c.p + header_len;
	hdr.bad = false;
	c.p = hdr.end;                   /* the program follows the header */

	u->min_inst = (unsigned)rd_le(&hdr, 1);
	u->max_ops = u->version >= 4 ? (unsigned)rd_le(&hdr, 1) : 1u;
	u->default_is_stmt = rd_le(&hdr, 1) != 0;
	u->line_base = (int8_t)rd_le(&hdr, 1);
	u->line_range = (unsigned)rd_le(&hdr, 1);
	u->opcode_base = (unsigned)rd_le(&hdr, 1);
	if (hdr.bad)
		return fail(rd, "the header is truncated");
	if (u->line_range == 0 || u->opcode_base == 0 || u->max_ops == 0)
		return fail(rd, "line_range, opcode_base and maximum_operations_per_instruction must not be 0");
	memset(u->std_len, 0, sizeof(u->std_len));
	for (i = 1; i < u->opcode_base; i++)
		u->std_len[i - 1] = (uint8_t)rd_le(&hdr, 1);
	if (hdr.bad)
		return fail(rd, "the standard opcode lengths run past the header");

	u->file_zero_based = u->version >= 5;
	if (u->version >= 5) {
		if (read_v5_entries(rd, &hdr, u, false) < 0 || read_v5_entries(rd, &hdr, u, true) < 0)
			return -1;
	} else if (read_v4_tables(rd, &hdr, u) < 0) {
		return -1;
	}
	return run_program(rd, &c, u);
}

static int cmp_range(const void *a, const void *b)
{
	const struct range *x = a, *y = b;

	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	return x->hi < y->hi ? -1 : x->hi > y->hi;
}

struct dwarf_lines *dwarf_lines_read(const struct dwarf_line_sections *s, char *err, size_t errlen)
{
	struct dwarf_lines *dl = calloc(1, sizeof(*dl));
	struct reader rd = { .dl = dl, .s = s, .err = err, .errlen = errlen };
	struct cursor sec = { .p = s->line, .end = s->line + s->line_len };

	if (!dl) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (!s->line || !s->line_len) {
		snprintf(err, errlen, "no .debug_line section (built without -g?)");
		goto fail;
	}
	while (sec.p < sec.end) {
		struct unit u;
		int r;

		memset(&u, 0, sizeof(u));
		rd.unit_off = (size_t)(sec.p - s->line);
		r = read_unit(&rd, &sec, &u);
		free(u.dirs);
		free(u.file_ids);
		if (r < 0)
			goto fail;
	}
	qsort(dl->ranges, dl->nranges, sizeof(*dl->ranges), cmp_range);
	return dl;
fail:
	dwarf_lines_free(dl);
	return NULL;
}

int dwarf_lines_find(const struct dwarf_lines *dl, uint32_t addr, const char **file, unsigned *line)
{
	size_t lo = 0, hi = dl ? dl->nranges : 0, i;

	/* The last range starting at or below addr... */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (dl->ranges[mid].lo <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* ...or, where ranges overlap (discarded code at 0), an earlier one. */
	for (i = lo; i-- > 0;) {
		const struct range *r = &dl->ranges[i];

		if (addr < r->hi) {
			*file = dl->files[r->file];
			*line = r->line;
			return 0;
		}
		if (lo - i > 64)
			break;
	}
	return -1;
}

size_t dwarf_lines_count(const struct dwarf_lines *dl)
{
	return dl ? dl->nranges : 0;
}

void dwarf_lines_free(struct dwarf_lines *dl)
{
	size_t i;

	if (!dl)
		return;
	for (i = 0; i < dl->nfiles; i++)
		free(dl->files[i]);
	free(dl->files);
	free(dl->ranges);
	free(dl);
}
