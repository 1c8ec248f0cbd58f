/*
 * link.c - byte pipes between the emulated USARTs and host programs.
 *
 * The pseudo-terminal kind keeps a descriptor of the slave side open for the
 * whole run, so that a host program closing and reopening the port (as
 * stm32flash and sysboot do between phases) never makes the master see a
 * hang-up, and reads the slave's termios to learn the baud rate the host
 * chose: the ROM model uses it as its "measured" baud rate. Linux ptys do
 * not carry parity; that is left to the host side.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "link.h"

#define MEM_CAP (1u << 20)

struct bytes {
	uint8_t *data;
	size_t len, cap, pos;
};

struct link {
	enum sim_link_kind kind;
	int fd;                      /* pty master or connected TCP client */
	int slave_fd;                /* pty: held open */
	int listen_fd;               /* TCP */
	uint16_t port;
	char pty_path[128];
	char symlink[256];
	struct bytes in, out;        /* memory links */
	uint64_t dropped;            /* bytes lost because nobody read them */
};

static int bytes_append(struct bytes *b, const void *data, size_t len)
{
	if (b->pos && b->pos == b->len)
		b->pos = b->len = 0;
	if (b->len + len > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		uint8_t *p;

		while (cap < b->len + len)
			cap *= 2;
		if (cap > MEM_CAP && b->len + len <= MEM_CAP)
			cap = MEM_CAP;
		if (b->len + len > MEM_CAP)
			return -1;
		p = realloc(b->data, cap);
		if (!p)
			return -1;
		b->data = p;
		b->cap = cap;
	}
	memcpy(b->data + b->len, data, len);
	b->len += len;
	return 0;
}

static size_t bytes_take(struct bytes *b, void *buf, size_t cap)
{
	size_t n = b->len - b->pos;

	if (n > cap)
		n = cap;
	memcpy(buf, b->data + b->pos, n);
	b->pos += n;
	return n;
}

static int open_pty(struct link *l, const struct sim_link_config *cfg, char *err, size_t errlen)
{
	struct termios tio;
	const char *name;
	struct stat st;

	l->fd = posix_openpt(O_RDWR | O_NOCTTY | O_NONBLOCK);
	if (l->fd < 0 || grantpt(l->fd) < 0 || unlockpt(l->fd) < 0 || !(name = ptsname(l->fd))) {
		snprintf(err, errlen, "cannot create a pseudo-terminal: %s", strerror(errno));
		return -1;
	}
	snprintf(l->pty_path, sizeof(l->pty_path), "%s", name);
	l->slave_fd = open(l->pty_path, O_RDWR | O_NOCTTY | O_NONBLOCK);
	if (l->slave_fd < 0) {
		snprintf(err, errlen, "cannot open %s: %s", l->pty_path, strerror(errno));
		return -1;
	}
	/* Raw bytes both ways until the host program sets its own modes. */
	if (tcgetattr(l->slave_fd, &tio) == 0) {
		cfmakeraw(&tio);
		cfsetispeed(&tio, B115200);
		cfsetospeed(&tio, B115200);
		tcsetattr(l->slave_fd, TCSANOW, &tio);
	}
	if (cfg->path && cfg->path[0]) {
		if (lstat(cfg->path, &st) == 0) {
			if (!S_ISLNK(st.st_mode)) {
				snprintf(err, errlen, "%s exists and is not a symbolic link: refusing to replace it",
					 cfg->path);
				return -1;
			}
			unlink(cfg->path);
		}
		if (symlink(l->pty_path, cfg->path) < 0) {
			snprintf(err, errlen, "cannot create the link %s -> %s: %s", cfg->path,
				 l->pty_path, strerror(errno));
			return -1;
		}
		snprintf(l->symlink, sizeof(l->symlink), "%s", cfg->path);
	}
	return 0;
}

static int open_tcp(struct link *l, const struct sim_link_config *cfg, char *err, size_t errlen)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t salen = sizeof(sa);
	int one = 1;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = htons(cfg->port);
	l->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (l->listen_fd < 0) {
		snprintf(err, errlen, "cannot create a socket: %s", strerror(errno));
		return -1;
	}
	setsockopt(l->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(l->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(l->listen_fd, 1) < 0) {
		snprintf(err, errlen, "cannot listen on 127.0.0.1:%u: %s", cfg->port, strerror(errno));
		return -1;
	}
	getsockname(l->listen_fd, (struct sockaddr *)&sa, &salen);
	l->port = ntohs(sa.sin_port);
	return 0;
}

struct link *link_open(const struct sim_link_config *cfg, char *err, size_t errlen)
{
	struct link *l = calloc(1, sizeof(*l));
	int ret = 0;

	if (!l) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	l->kind = cfg->kind;
	l->fd = l->slave_fd = l->listen_fd = -1;
	if (cfg->kind == SIM_LINK_PTY)
		ret = open_pty(l, cfg, err, errlen);
	else if (cfg->kind == SIM_LINK_TCP)
		ret = open_tcp(l, cfg, err, errlen);
	if (ret < 0) {
		link_close(l);
		return NULL;
	}
	return l;
}

void link_close(struct link *l)
{
	if (!l)
		return;
	if (l->symlink[0])
		unlink(l->symlink);
	if (l->fd >= 0)
		close(l->fd);
	if (l->slave_fd >= 0)
		close(l->slave_fd);
	if (l->listen_fd >= 0)
		close(l->listen_fd);
	free(l->in.data);
	free(l->out.data);
	free(l);
}

static void tcp_accept(struct link *l)
{
	int fd = accept4(l->listen_fd, NULL, NULL, SOCK_NONBLOCK);

	if (fd < 0)
		return;
	/* A new client replaces the old one, as with a serial server. */
	if (l->fd >= 0)
		close(l->fd);
	l->fd = fd;
}

size_t link_read(struct link *l, uint8_t *buf, size_t cap)
{
	ssize_t n;

	if (!l)
		return 0;
	switch (l->kind) {
	case SIM_LINK_MEMORY:
		return bytes_take(&l->in, buf, cap);
	case SIM_LINK_TCP:
		tcp_accept(l);
		/* fall through */
	case SIM_LINK_PTY:
		if (l->fd < 0)
			return 0;
		n = read(l->fd, buf, cap);
		if (n > 0)
			return (size_t)n;
		if (n == 0 && l->kind == SIM_LINK_TCP) {
			close(l->fd);
			l->fd = -1;
		}
		return 0;
	default:
		return 0;
	}
}

void link_write(struct link *l, const uint8_t *buf, size_t len)
{
	ssize_t n;

	if (!l)
		return;
	if (l->kind == SIM_LINK_MEMORY) {
		bytes_append(&l->out, buf, len);
		return;
	}
	if (l->kind == SIM_LINK_TCP)
		tcp_accept(l);
	if (l->fd < 0)
		return;
	/*
	 * A UART does not wait for its listener: when the host side is not
	 * reading and the buffer is full, the bytes are lost, as they are
	 * on a virtual COM port nobody has open.
	 */
	n = write(l->fd, buf, len);
	if (n < (ssize_t)len)
		l->dropped += n < 0 ? len : len - (size_t)n;
}

bool link_wait(struct link *l, int timeout_ms)
{
	struct pollfd p[2];
	int n = 0;

	if (!l || l->kind == SIM_LINK_MEMORY)
		return l && l->in.pos < l->in.len;
	if (l->kind == SIM_LINK_TCP) {
		tcp_accept(l);
		if (l->fd < 0) {
			p[n].fd = l->listen_fd;
			p[n++].events = POLLIN;
		}
	}
	if (l->fd >= 0) {
		p[n].fd = l->fd;
		p[n++].events = POLLIN;
	}
	if (n == 0 || poll(p, (nfds_t)n, timeout_ms) <= 0)
		return false;
	return l->fd >= 0 && (p[n - 1].revents & POLLIN) && p[n - 1].fd == l->fd;
}

int link_fd(const struct link *l)
{
	if (!l)
		return -1;
	if (l->kind == SIM_LINK_TCP)
		return l->fd >= 0 ? l->fd : l->listen_fd;
	return l->fd;
}

const char *link_pty_path(const struct link *l)
{
	return l && l->kind == SIM_LINK_PTY ? l->pty_path : "";
}

uint16_t link_tcp_port(const struct link *l)
{
	return l && l->kind == SIM_LINK_TCP ? l->port : 0;
}

uint32_t link_host_baud(const struct link *l)
{
	static const struct {
		speed_t code;
		uint32_t baud;
	} speeds[] = {
		{ B1200, 1200 }, { B2400, 2400 }, { B4800, 4800 }, { B9600, 9600 },
		{ B19200, 19200 }, { B38400, 38400 }, { B57600, 57600 },
		{ B115200, 115200 }, { B230400, 230400 }, { B460800, 460800 },
		{ B921600, 921600 },
	};
	struct termios tio;
	speed_t s;
	size_t i;

	if (!l || l->kind != SIM_LINK_PTY || tcgetattr(l->slave_fd, &tio) < 0)
		return 0;
	s = cfgetospeed(&tio);
	for (i = 0; i < sizeof(speeds) / sizeof(speeds[0]); i++)
		if (speeds[i].code == s)
			return speeds[i].baud;
	return 0;
}

void link_inject(struct link *l, const void *data, size_t len)
{
	if (l && l->kind == SIM_LINK_MEMORY)
		bytes_append(&l->in, data, len);
}

size_t link_take_output(struct link *l, char *buf, size_t cap)
{
	if (!l || l->kind != SIM_LINK_MEMORY)
		return 0;
	return bytes_take(&l->out, buf, cap);
}
