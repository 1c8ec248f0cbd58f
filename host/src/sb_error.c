/*
 * sb_error.c - filling struct sb_error (see sb_error.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "sb_error.h"

int sb_error_set(struct sb_error *e, int code, const char *fmt, ...)
{
	va_list ap;

	if (!e)
		return code;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return code;
}

int sb_error_prefix(struct sb_error *e, int code, const char *prefix)
{
	size_t plen, mlen;

	if (!e)
		return code;
	/* Shift the message right in place; what no longer fits is cut. */
	e->msg[sizeof(e->msg) - 1] = '\0';
	plen = strlen(prefix) + 2;
	if (plen >= sizeof(e->msg))
		plen = sizeof(e->msg) - 1;
	mlen = strlen(e->msg);
	if (mlen > sizeof(e->msg) - 1 - plen)
		mlen = sizeof(e->msg) - 1 - plen;
	memmove(e->msg + plen, e->msg, mlen);
	e->msg[plen + mlen] = '\0';
	memcpy(e->msg, prefix, plen - 2);
	e->msg[plen - 2] = ':';
	e->msg[plen - 1] = ' ';
	return code;
}
