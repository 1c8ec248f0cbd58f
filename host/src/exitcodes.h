/*
 * exitcodes.h - the sysboot command's exit codes, one list for every
 * command.
 *
 * Scripts and CI jobs decide what to do next from the code alone (retry a
 * board that did not answer, reject a file, call a technician), so a code
 * keeps its meaning across commands and releases. `sysboot --help` prints
 * this table; docs and tests/interop rely on the values.
 */
#ifndef SYSBOOT_EXITCODES_H
#define SYSBOOT_EXITCODES_H

enum sb_exit {
	/* Everything asked for was done (and verified where that applies). */
	SB_EXIT_OK = 0,
	/* Something failed that none of the codes below describes. */
	SB_EXIT_FAILURE = 1,
	/* The command line is wrong: unknown command or option, missing argument. */
	SB_EXIT_USAGE = 2,
	/*
	 * A file given is not acceptable: cannot be opened, malformed (bad
	 * checksum, truncated), or data outside flash or over the stub.
	 */
	SB_EXIT_INPUT = 3,
	/* The port cannot be opened or configured, or the link broke. */
	SB_EXIT_PORT = 4,
	/* The board does not answer (no ACK to 0x7F, timeout mid-command). */
	SB_EXIT_NO_ANSWER = 5,
	/* The ROM bootloader answered NACK (protection, bad address). */
	SB_EXIT_REFUSED = 6,
	/* The device is not an STM32L47x/L48x (product ID is not 0x415). */
	SB_EXIT_WRONG_CHIP = 7,
	/*
	 * Verification failed: written data reads back different, the stub
	 * refused the image, or `image show` found the header, body CRC or
	 * vectors invalid.
	 */
	SB_EXIT_VERIFY = 8,
	/* Stopped by Ctrl-C (128 + SIGINT, as shells report it). */
	SB_EXIT_INTERRUPTED = 130,
};

/* The same codes under the names the ROM commands were written with. */
#define ROM_EXIT_OK          SB_EXIT_OK
#define ROM_EXIT_FAILURE     SB_EXIT_FAILURE
#define ROM_EXIT_USAGE       SB_EXIT_USAGE
#define ROM_EXIT_INPUT       SB_EXIT_INPUT
#define ROM_EXIT_PORT        SB_EXIT_PORT
#define ROM_EXIT_NO_ANSWER   SB_EXIT_NO_ANSWER
#define ROM_EXIT_REFUSED     SB_EXIT_REFUSED
#define ROM_EXIT_WRONG_CHIP  SB_EXIT_WRONG_CHIP
#define ROM_EXIT_VERIFY      SB_EXIT_VERIFY
#define ROM_EXIT_INTERRUPTED SB_EXIT_INTERRUPTED

/* Map a negative sb_error code from the file modules to an exit code. */
int sb_exit_from_error(int code);

#endif /* SYSBOOT_EXITCODES_H */
