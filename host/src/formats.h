/*
 * formats.h - reading firmware files of every format the tool takes into a
 * segment list, and writing one out again.
 *
 * One module per format (elf.c, ihex.c, srec.c, bin.c, dfu.c); fwfile.c
 * reads the file, decides its format from its content (the extension only
 * when the content says nothing) and sorts the result, so that overlapping
 * data is refused whatever the format. Raw binary has no address of its
 * own, so it is taken only when the caller says where it goes.
 *
 * Every reader gets the file name for its messages and returns 0 or a
 * negative code (sb_error.h) with the file, what is wrong and where (line
 * or byte offset) in e->msg.
 */
#ifndef SYSBOOT_FORMATS_H
#define SYSBOOT_FORMATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sb_error.h"
#include "segments.h"

enum fw_format {
	FW_UNKNOWN = 0,
	FW_ELF,
	FW_IHEX,
	FW_SREC,
	FW_DFU,
	FW_BIN,
};

/* How to take a file. */
struct load_opts {
	bool raw;          /* the user gave an address: raw binary allowed */
	uint32_t raw_base; /* where a raw binary's first byte goes */
};

/* What a load found, beyond the segments. */
struct load_info {
	enum fw_format format;
	uint16_t dfu_vid, dfu_pid;  /* from a .dfu suffix */
	char warning[256];          /* not fatal, but worth telling; "" if none */
};

/* "ELF", "Intel HEX", ... */
const char *fw_format_name(enum fw_format f);

/* The format an extension names (case-insensitive); FW_UNKNOWN if none. */
enum fw_format fw_format_from_ext(const char *path);

/*
 * The format of buf: content first (ELF magic, "DfuSe", ':', 'S0'..'S9'),
 * then the extension. With o->raw, a .bin/.img/.raw file or one no other
 * format claims is FW_BIN. FW_UNKNOWN when nothing fits.
 */
enum fw_format fw_detect(const uint8_t *buf, size_t len, const char *path,
			 const struct load_opts *o);

/* The whole file in a new buffer (NUL-terminated; *len excludes the NUL). */
int fw_read_file(const char *path, uint8_t **buf, size_t *len,
		 struct sb_error *e);

/*
 * Read path into s (initialised here; empty after an error), sorted and
 * with touching segments merged. info may be NULL.
 */
int segments_load(struct segments *s, const char *path,
		  const struct load_opts *o, struct load_info *info,
		  struct sb_error *e);

/*
 * The same for a file already in memory, buf[len] a NUL as fw_read_file()
 * leaves it; path names it in messages and by its extension.
 */
int segments_parse(struct segments *s, const uint8_t *buf, size_t len, const char *path,
		   const struct load_opts *o, struct load_info *info, struct sb_error *e);

/* The value of a hexadecimal digit, -1 for anything else. */
int hex_digit(char c);

/* Readers: append to s (not sorted); name is used in messages. */
int elf_read(struct segments *s, const uint8_t *buf, size_t len,
	     const char *name, struct sb_error *e);
int ihex_read(struct segments *s, const char *text, size_t len,
	      const char *name, struct sb_error *e);
int srec_read(struct segments *s, const char *text, size_t len,
	      const char *name, struct sb_error *e);
int bin_read(struct segments *s, const uint8_t *buf, size_t len,
	     uint32_t base, const char *name, struct sb_error *e);

/* DfuSe (UM0391): what the file says besides its elements. */
struct dfu_info {
	uint16_t vid, pid, bcd_device;
	unsigned targets;
	unsigned elements;
	uint8_t first_alt;
	char first_name[256];
};

int dfu_read(struct segments *s, const uint8_t *buf, size_t len,
	     const char *name, struct dfu_info *info, struct sb_error *e);

/*
 * Writers: s sorted. ihex uses type 04 records and 16 data bytes a line;
 * srec uses S3 records (32-bit addresses), an S0 header and S7.
 */
int ihex_write(const struct segments *s, const char *path, struct sb_error *e);
int srec_write(const struct segments *s, const char *path, struct sb_error *e);

/* One DfuSe target (alt, target_name), one element per segment. */
int dfu_write(const struct segments *s, const char *path, uint8_t alt,
	      const char *target_name, uint16_t vid, uint16_t pid,
	      struct sb_error *e);

/*
 * Write s in format f: HEX, S-record, DfuSe (one target, alt dfu_alt named
 * dfu_target, the STM32 ROM's USB IDs in the suffix) or raw bytes from the
 * lowest address (gaps 0xFF). -ENOTSUP for a format without a writer.
 */
int fw_write_file(const struct segments *s, const char *path, enum fw_format f,
		  uint8_t dfu_alt, const char *dfu_target, struct sb_error *e);

/* The DfuSe suffix CRC: CRC-32 register of bytes without the final XOR. */
uint32_t dfu_suffix_crc(const uint8_t *buf, size_t len);

#endif /* SYSBOOT_FORMATS_H */
