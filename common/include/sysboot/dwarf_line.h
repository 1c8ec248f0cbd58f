/*
 * dwarf_line.h - the source file and line of an address, from the DWARF
 * line table (.debug_line) of a firmware ELF file.
 *
 * sysboot-sim names the instruction where a firmware goes wrong by its
 * file and line. Reading the line table here keeps binutils out of the
 * emulator's run-time dependencies. It reads DWARF versions 2 to 5 in the
 * 32- and 64-bit formats, as arm-none-eabi-gcc and GNU as emit them
 * (DWARF 5 section 6.2; DWARF 4 section 6.2 for the older headers). The
 * file is the user's, not ours: every offset and length is checked before
 * it is used, and a malformed table is refused with a message saying
 * where. Hosted code only.
 *
 * File names come back as the compiler saw them: the directory entry and
 * the name joined, relative to the compilation directory unless absolute
 * (the compilation directory itself is not prepended, so DWARF 3 and
 * DWARF 5 tables of the same build give the same names).
 */
#ifndef SYSBOOT_DWARF_LINE_H
#define SYSBOOT_DWARF_LINE_H

#include <stddef.h>
#include <stdint.h>

/* The sections the line table refers to; line_str and str may be absent. */
struct dwarf_line_sections {
	const uint8_t *line;         /* .debug_line */
	size_t line_len;
	const uint8_t *line_str;     /* .debug_line_str (DWARF 5 DW_FORM_line_strp) */
	size_t line_str_len;
	const uint8_t *str;          /* .debug_str (DW_FORM_strp) */
	size_t str_len;
};

struct dwarf_lines;

/*
 * Decode every line number program in the section. Returns the table, or
 * NULL with a message in err (which unit, at which offset, what is wrong).
 */
struct dwarf_lines *dwarf_lines_read(const struct dwarf_line_sections *s,
				     char *err, size_t errlen);

/*
 * The row that covers addr. Returns 0 with *file (owned by the table) and
 * *line set, or -1 when no row covers addr.
 */
int dwarf_lines_find(const struct dwarf_lines *dl, uint32_t addr,
		     const char **file, unsigned *line);

/* Address ranges in the table (for tests and statistics). */
size_t dwarf_lines_count(const struct dwarf_lines *dl);

void dwarf_lines_free(struct dwarf_lines *dl);

#endif /* SYSBOOT_DWARF_LINE_H */
