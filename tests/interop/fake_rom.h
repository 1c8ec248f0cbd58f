/*
 * fake_rom.h - a scripted STM32L476 ROM bootloader (and a sketch of the
 * boot stub and reference application) for unit tests of the host tool.
 *
 * Why: the emulator cannot pretend to be another chip, lose a byte on
 * demand or swallow an ACK, and those are exactly the recovery paths that
 * must be proven. It follows AN3155's byte sequences; flash is 16 KB at
 * 0x08000000 and, like the real part (RM0351 3.3.7), refuses to program a
 * non-erased double word.
 */
#ifndef TESTS_INTEROP_FAKE_ROM_H
#define TESTS_INTEROP_FAKE_ROM_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#define FAKE_FLASH_SIZE 0x4000u

struct fake_rom {
	int fd;
	pthread_t thread;
	uint16_t pid;
	bool synced;
	bool app_mode;           /* the application runs (8N1 text) */
	int drop_write_ack;      /* swallow the ACK of this many writes (done) */
	int drop_read_bytes;     /* send one byte short on this many reads */
	int ignore_syncs;        /* ignore this many 0x7F before syncing */
	bool drop_go_ack;        /* Go: no second ACK, no jump (the ROM stays) */
	uint8_t wrp_page;        /* writes to this page are NACKed (0 = none) */
	uint8_t erase_nack_page; /* an erase of this page is NACKed (0 = none) */
	unsigned cmds_seen;
	unsigned entered;        /* times the application entered the ROM */
	unsigned stub_rejected;  /* times the stub fell back to the ROM */
	unsigned erase_order[64];/* pages in the order they were erased */
	unsigned nerased;
	uint32_t write_order[128];/* addresses in the order they were written */
	unsigned nwritten;
	uint32_t go_addr;
	uint32_t corrupt_addr;    /* a write here is stored with a bit flipped */
	char line[64];
	unsigned line_len;
	uint8_t flash[FAKE_FLASH_SIZE];
	uint8_t rom_record[8];   /* the stub's ROM entry record (sysboot/romentry.h) */
};

/* Thread body: serve r->fd until it is closed. */
void *fake_rom_main(void *arg);

#endif
