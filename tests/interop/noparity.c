/*
 * noparity.c - LD_PRELOAD shim that lets an unmodified serial tool (Debian's
 * stm32flash) talk to the emulator through a pseudo-terminal.
 *
 * Why: the ROM bootloader's USART runs 8E1 (AN3155 section 2), so such a
 * tool asks for PARENB, and a Linux pty refuses PARENB with EINVAL. Parity
 * means nothing on a pty (no bits on a wire), so for ptys only this drops
 * PARENB/PARODD before the real tcsetattr, and tcgetattr reports them
 * back as set (stm32flash reads the settings back and compares); a real
 * serial port is passed through untouched. The emulator itself is not
 * weakened in any way.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <termios.h>

typedef int (*tcsetattr_fn)(int, int, const struct termios *);
typedef int (*tcgetattr_fn)(int, struct termios *);

#define MAX_FDS 1024

/* The parity bits asked for on each pty fd, to report them back. */
static tcflag_t wanted[MAX_FDS];

static int is_pty(int fd)
{
	struct stat st;

	/* Unix98 pty slaves have majors 136-143; the ptmx master is 5:2. */
	if (fstat(fd, &st) != 0 || !S_ISCHR(st.st_mode))
		return 0;
	return (major(st.st_rdev) >= 136 && major(st.st_rdev) <= 143) ||
	       (major(st.st_rdev) == 5 && minor(st.st_rdev) == 2);
}

int tcsetattr(int fd, int action, const struct termios *tio)
{
	static tcsetattr_fn real;
	struct termios copy;

	if (!real)
		real = (tcsetattr_fn)dlsym(RTLD_NEXT, "tcsetattr");
	if (tio && (tio->c_cflag & PARENB) && is_pty(fd)) {
		copy = *tio;
		copy.c_cflag &= ~(tcflag_t)(PARENB | PARODD);
		if (fd >= 0 && fd < MAX_FDS)
			wanted[fd] = tio->c_cflag & (PARENB | PARODD);
		return real(fd, action, &copy);
	}
	if (fd >= 0 && fd < MAX_FDS)
		wanted[fd] = 0;
	return real(fd, action, tio);
}

int tcgetattr(int fd, struct termios *tio)
{
	static tcgetattr_fn real;
	int rc;

	if (!real)
		real = (tcgetattr_fn)dlsym(RTLD_NEXT, "tcgetattr");
	rc = real(fd, tio);
	if (rc == 0 && fd >= 0 && fd < MAX_FDS && wanted[fd] && is_pty(fd))
		tio->c_cflag |= wanted[fd];
	return rc;
}
