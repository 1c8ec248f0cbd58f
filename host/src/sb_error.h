/*
 * sb_error.h - how host functions report what went wrong.
 *
 * A function that can fail returns 0 or a negative errno-style code (the
 * kind of failure, for the caller to pick an exit code) and writes a
 * complete sentence for the user into a buffer the caller owns. No global
 * errno-like state: two loads in one process never see each other's errors.
 *
 * Codes used by the file modules:
 *   -ENOENT  the file cannot be opened       -EIO     read or write failed
 *   -EINVAL  the content is malformed        -ERANGE  data at a forbidden address
 *   -ENOMEM  out of memory                   -ENOTSUP a format or variant we do not take
 */
#ifndef SYSBOOT_SB_ERROR_H
#define SYSBOOT_SB_ERROR_H

#include <errno.h>

#define SB_ERROR_MSG_SIZE 512

struct sb_error {
	char msg[SB_ERROR_MSG_SIZE];
};

/* Format a message into e (when e is not NULL) and return code. */
int sb_error_set(struct sb_error *e, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Put "prefix: " in front of the message already in e; returns code. */
int sb_error_prefix(struct sb_error *e, int code, const char *prefix);

#endif /* SYSBOOT_SB_ERROR_H */
