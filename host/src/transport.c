/*
 * transport.c - serial (termios) and TCP byte links for the sysboot tool.
 *
 * Why this is more than open() and read(): the ROM bootloader speaks 8E1
 * (AN3155 section 2) while applications speak 8N1, so the line has to be
 * reconfigured in the middle of an update; every read needs a deadline,
 * because a lost byte must turn into a timeout the AN3155 client can
 * recover from rather than a hang; and a Linux pseudo-terminal (how the
 * emulator exposes the board's USART2) has no parity at all, so asking for
 * 8E1 there must degrade to 8N1 with a note instead of failing, while on a
 * real UART a failure to set 8E1 must stay an error. Errors carry a message
 * a technician can act on (dialout group, port busy, emulator not running).
 */
#include "transport.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define PTY_SLAVE_MAJOR_FIRST 136u  /* Unix98 pty slaves: majors 136-143 */
#define PTY_SLAVE_MAJOR_LAST  143u

struct transport {
	int fd;
	bool is_tcp;
	bool is_pty;
	char name[256];
	char err[512];
};

static bool pty_note_given;

static void set_err(struct transport *t, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(t->err, sizeof(t->err), fmt, ap);
	va_end(ap);
}

const char *transport_name(const struct transport *t)
{
	return t->name;
}

const char *transport_error(const struct transport *t)
{
	return t->err;
}

static const struct {
	unsigned baud;
	speed_t speed;
} bauds[] = {
	{ 1200, B1200 }, { 2400, B2400 }, { 4800, B4800 }, { 9600, B9600 },
	{ 19200, B19200 }, { 38400, B38400 }, { 57600, B57600 },
	{ 115200, B115200 }, { 230400, B230400 }, { 460800, B460800 },
	{ 921600, B921600 },
};

static bool baud_to_speed(unsigned baud, speed_t *speed)
{
	size_t i;

	for (i = 0; i < sizeof(bauds) / sizeof(bauds[0]); i++) {
		if (bauds[i].baud == baud) {
			*speed = bauds[i].speed;
			return true;
		}
	}
	return false;
}

bool transport_baud_supported(unsigned baud)
{
	speed_t s;

	return baud_to_speed(baud, &s);
}

/* Unix98 pty slave by device number, or by where the path leads. */
static bool fd_is_pty(int fd, const char *path)
{
	struct stat st;
	char *real;
	bool pty = false;

	if (fstat(fd, &st) == 0 && S_ISCHR(st.st_mode) &&
	    major(st.st_rdev) >= PTY_SLAVE_MAJOR_FIRST &&
	    major(st.st_rdev) <= PTY_SLAVE_MAJOR_LAST)
		return true;
	real = realpath(path, NULL);
	if (real) {
		pty = strncmp(real, "/dev/pts/", 9) == 0;
		free(real);
	}
	return pty;
}

static void pty_note(const struct transport *t)
{
	if (pty_note_given)
		return;
	pty_note_given = true;
	fprintf(stderr, "sysboot: note: %s is a pseudo-terminal, which cannot "
		"carry parity; continuing with 8N1\n", t->name);
}

static enum tp_status serial_set_line(struct transport *t, unsigned baud,
				      enum tp_parity parity)
{
	struct termios tio, back;
	speed_t speed;
	int rc;

	if (!baud_to_speed(baud, &speed)) {
		set_err(t, "unsupported baud rate %u on %s (use 1200 to 115200, "
			"the range AN3155 documents, or a standard higher rate)",
			baud, t->name);
		return TP_ERR_CONFIG;
	}
	if (tcgetattr(t->fd, &tio) != 0) {
		set_err(t, "%s is not a serial port: %s", t->name, strerror(errno));
		return TP_ERR_CONFIG;
	}
	cfmakeraw(&tio);
	tio.c_cflag &= ~(CSIZE | PARENB | PARODD | CSTOPB | CRTSCTS);
	tio.c_cflag |= CS8 | CLOCAL | CREAD;
	tio.c_iflag &= ~(INPCK | IGNPAR | PARMRK | ISTRIP | IXON | IXOFF | IXANY);
	tio.c_cc[VMIN] = 0;
	tio.c_cc[VTIME] = 0;
	cfsetispeed(&tio, speed);
	cfsetospeed(&tio, speed);
	if (parity == TP_PARITY_EVEN && !t->is_pty)
		tio.c_cflag |= PARENB;

	rc = tcsetattr(t->fd, TCSANOW, &tio);
	if (rc != 0 && errno == EINVAL && (tio.c_cflag & PARENB)) {
		/* A pty we did not recognise by its name or number. */
		t->is_pty = true;
		tio.c_cflag &= ~PARENB;
		rc = tcsetattr(t->fd, TCSANOW, &tio);
	}
	if (rc != 0) {
		set_err(t, "cannot set %u baud %s on %s: %s", baud,
			parity == TP_PARITY_EVEN ? "8E1" : "8N1", t->name,
			strerror(errno));
		return TP_ERR_CONFIG;
	}
	/* tcsetattr succeeds if any change was applied: check the parity. */
	if (parity == TP_PARITY_EVEN && !t->is_pty) {
		if (tcgetattr(t->fd, &back) != 0 || !(back.c_cflag & PARENB)) {
			set_err(t, "%s refused even parity: the ROM bootloader "
				"needs 8E1 (AN3155 section 2); check the USB-serial "
				"adapter supports parity", t->name);
			return TP_ERR_CONFIG;
		}
	}
	if (parity == TP_PARITY_EVEN && t->is_pty)
		pty_note(t);
	return TP_OK;
}

enum tp_status transport_set_line(struct transport *t, unsigned baud,
				  enum tp_parity parity)
{
	if (t->is_tcp)
		return TP_OK;
	return serial_set_line(t, baud, parity);
}

static enum tp_status open_serial(struct transport *t, unsigned baud,
				  enum tp_parity parity)
{
	enum tp_status st;

	t->fd = open(t->name, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (t->fd < 0) {
		switch (errno) {
		case ENOENT:
		case ENODEV:
		case ENXIO:
		case ENOTDIR:
			set_err(t, "no such device: %s (is the board plugged in, "
				"or the emulator running?)", t->name);
			return TP_ERR_NODEV;
		case EACCES:
		case EPERM:
			set_err(t, "permission denied opening %s: add your user "
				"to the dialout group (sudo usermod -aG dialout "
				"$USER) and log in again", t->name);
			return TP_ERR_PERM;
		case EBUSY:
			set_err(t, "%s is busy: another program has it open "
				"exclusively (a terminal, ModemManager?)", t->name);
			return TP_ERR_BUSY;
		case EIO:
			set_err(t, "link closed by the peer: %s has no one on the "
				"other side", t->name);
			return TP_ERR_CLOSED;
		default:
			set_err(t, "cannot open %s: %s", t->name, strerror(errno));
			return TP_ERR_IO;
		}
	}
	if (!isatty(t->fd)) {
		set_err(t, "%s is not a serial port (use a tty device or "
			"tcp:HOST:PORT)", t->name);
		return TP_ERR_NODEV;
	}
	if (flock(t->fd, LOCK_EX | LOCK_NB) != 0) {
		set_err(t, "%s is busy: another program has it open and locked "
			"(a terminal, another sysboot?)", t->name);
		return errno == EWOULDBLOCK ? TP_ERR_BUSY : TP_ERR_IO;
	}
	t->is_pty = fd_is_pty(t->fd, t->name);
	st = serial_set_line(t, baud, parity);
	if (st != TP_OK)
		return st;
	tcflush(t->fd, TCIOFLUSH);
	return TP_OK;
}

static enum tp_status open_tcp(struct transport *t)
{
	struct addrinfo hints, *res = NULL, *ai;
	char host[256];
	const char *spec = t->name + 4, *colon;
	size_t hlen;
	int rc, one = 1, saved = 0;
	enum tp_status st = TP_ERR_IO;

	colon = strrchr(spec, ':');
	if (!colon || colon == spec || !colon[1]) {
		set_err(t, "bad port %s: expected tcp:HOST:PORT", t->name);
		return TP_ERR_NODEV;
	}
	hlen = (size_t)(colon - spec);
	if (spec[0] == '[' && hlen >= 2 && spec[hlen - 1] == ']') {
		spec++;
		hlen -= 2;
	}
	if (hlen >= sizeof(host)) {
		set_err(t, "bad port %s: host name too long", t->name);
		return TP_ERR_NODEV;
	}
	memcpy(host, spec, hlen);
	host[hlen] = '\0';

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	rc = getaddrinfo(host, colon + 1, &hints, &res);
	if (rc != 0) {
		set_err(t, "no such host: %s (%s)", t->name, gai_strerror(rc));
		return TP_ERR_NODEV;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		t->fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
			       ai->ai_protocol);
		if (t->fd < 0) {
			saved = errno;
			continue;
		}
		if (connect(t->fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		saved = errno;
		close(t->fd);
		t->fd = -1;
	}
	if (t->fd < 0) {
		if (saved == ECONNREFUSED) {
			set_err(t, "connection refused by %s: is ser2net or "
				"sysboot-sim --usart2 tcp:PORT running there?",
				t->name);
			st = TP_ERR_REFUSED;
		} else {
			set_err(t, "cannot connect to %s: %s", t->name,
				strerror(saved));
		}
		goto out;
	}
	setsockopt(t->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	fcntl(t->fd, F_SETFL, fcntl(t->fd, F_GETFL) | O_NONBLOCK);
	st = TP_OK;
out:
	freeaddrinfo(res);
	return st;
}

enum tp_status transport_open(struct transport **out, const char *port,
			      unsigned baud, enum tp_parity parity,
			      char *err, size_t errlen)
{
	struct transport *t;
	enum tp_status st;

	*out = NULL;
	t = calloc(1, sizeof(*t));
	if (!t) {
		snprintf(err, errlen, "out of memory");
		return TP_ERR_IO;
	}
	t->fd = -1;
	snprintf(t->name, sizeof(t->name), "%s", port);
	if (strncmp(port, "tcp:", 4) == 0) {
		t->is_tcp = true;
		st = open_tcp(t);
	} else {
		st = open_serial(t, baud, parity);
	}
	if (st != TP_OK) {
		snprintf(err, errlen, "%s", t->err);
		transport_close(t);
		return st;
	}
	*out = t;
	return TP_OK;
}

struct transport *transport_from_fd(int fd, const char *name)
{
	struct transport *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->fd = fd;
	t->is_tcp = !isatty(fd);
	snprintf(t->name, sizeof(t->name), "%s", name);
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	return t;
}

void transport_close(struct transport *t)
{
	if (!t)
		return;
	if (t->fd >= 0)
		close(t->fd);
	free(t);
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static enum tp_status closed_err(struct transport *t)
{
	set_err(t, "link closed by the peer on %s (the board or emulator "
		"went away)", t->name);
	return TP_ERR_CLOSED;
}

enum tp_status transport_read(struct transport *t, void *buf, size_t len,
			      unsigned timeout_ms, size_t *got)
{
	unsigned char *p = buf;
	size_t done = 0;
	long long deadline = now_ms() + timeout_ms;
	enum tp_status st = TP_OK;

	while (done < len) {
		struct pollfd pfd = { .fd = t->fd, .events = POLLIN };
		long long left = deadline - now_ms();
		ssize_t n;
		int rc;

		if (left <= 0) {
			set_err(t, "timed out on %s after %u ms (%zu of %zu bytes)",
				t->name, timeout_ms, done, len);
			st = TP_ERR_TIMEOUT;
			goto out;
		}
		rc = poll(&pfd, 1, left > INT_MAX ? INT_MAX : (int)left);
		if (rc < 0) {
			if (errno == EINTR)
				continue;
			set_err(t, "poll on %s: %s", t->name, strerror(errno));
			st = TP_ERR_IO;
			goto out;
		}
		if (rc == 0)
			continue;
		n = read(t->fd, p + done, len - done);
		if (n > 0) {
			done += (size_t)n;
			continue;
		}
		/* A tty in raw mode with VMIN = 0 reads 0 when empty: only a
		 * hang-up means the other side is gone. */
		if ((n == 0 && (t->is_tcp || (pfd.revents & POLLHUP))) ||
		    (n < 0 && (errno == EIO || errno == ECONNRESET))) {
			st = closed_err(t);
			goto out;
		}
		if (errno == EAGAIN || errno == EINTR)
			continue;
		set_err(t, "read from %s: %s", t->name, strerror(errno));
		st = TP_ERR_IO;
		goto out;
	}
out:
	if (got)
		*got = done;
	return st;
}

enum tp_status transport_write(struct transport *t, const void *buf, size_t len)
{
	const unsigned char *p = buf;
	size_t done = 0;

	while (done < len) {
		ssize_t n;

		if (t->is_tcp)
			n = send(t->fd, p + done, len - done, MSG_NOSIGNAL);
		else
			n = write(t->fd, p + done, len - done);
		if (n > 0) {
			done += (size_t)n;
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			struct pollfd pfd = { .fd = t->fd, .events = POLLOUT };

			if (poll(&pfd, 1, 5000) == 0) {
				set_err(t, "write to %s stalled for 5 s", t->name);
				return TP_ERR_TIMEOUT;
			}
			continue;
		}
		if (n < 0 && (errno == EIO || errno == EPIPE ||
			      errno == ECONNRESET))
			return closed_err(t);
		set_err(t, "write to %s: %s", t->name,
			n < 0 ? strerror(errno) : "nothing written");
		return TP_ERR_IO;
	}
	return TP_OK;
}

enum tp_status transport_flush(struct transport *t)
{
	unsigned char junk[256];

	if (!t->is_tcp)
		tcflush(t->fd, TCIFLUSH);
	/* Sockets (and anything tcflush missed): read until empty. */
	for (;;) {
		ssize_t n = read(t->fd, junk, sizeof(junk));

		if (n > 0)
			continue;
		if (n == 0)
			return t->is_tcp ? closed_err(t) : TP_OK;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN)
			return TP_OK;
		if (errno == EIO)
			return closed_err(t);
		return TP_OK;
	}
}

enum tp_status transport_drain(struct transport *t)
{
	if (t->is_tcp)
		return TP_OK;
	if (tcdrain(t->fd) != 0 && errno != EINTR) {
		if (errno == EIO)
			return closed_err(t);
		set_err(t, "tcdrain on %s: %s", t->name, strerror(errno));
		return TP_ERR_IO;
	}
	return TP_OK;
}
