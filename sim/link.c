/*
 * link.c - byte pipes between the emulated USARTs and host programs.
 *
 * Why a pty link looks the way it does:
 * - the emulator keeps a descriptor of the slave side open for the whole
 *   run, so a host program that closes and reopens the port (stm32flash and
 *   sysboot do between phases) never makes the master see a hang-up;
 * - because of that descriptor the kernel cannot tell us when the host
 *   program goes away, so inotify watches opens and closes of the slave
 *   node instead: bytes the board sends while no program has the port open
 *   are dropped, as on a virtual COM port nobody listens to, rather than
 *   piling up and greeting the next program with stale output;
 * - Linux keeps one termios per pty pair and tcgetattr() on the master
 *   returns the slave's, which is how the baud rate the host program chose
 *   is read back (the ROM model uses it as its "measured" baud rate);
 * - parity cannot be carried (Linux ptys refuse PARENB): that is the host
 *   side's problem, the link carries bytes only.
 *
 * TCP serves one client at a time, like a serial-port server: a client that
 * hangs up is forgotten and the next one in the listen queue takes its
 * place.
 */
#define _GNU_SOURCE             /* posix_openpt, accept4 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "link.h"

/* A memory link keeps at most this much unread data each way. */
#define QUEUE_MAX (1u << 20)

struct queue {
	uint8_t *data;
	size_t head, len, cap;
};

struct link {
	enum sim_link_kind kind;
	int fd;                      /* pty master, or the connected TCP client */

	/* PTY */
	int slave_fd;                /* held open so the pty never hangs up */
	int ino_fd;                  /* inotify on the slave node, -1 if unavailable */
	int host_opens;              /* descriptors of the slave other programs hold */
	char pty_path[64];
	char *symlink;               /* created by link_open, removed by link_close */

	/* TCP */
	int listen_fd;
	uint16_t port;

	/* MEMORY */
	struct queue in, out;

	uint64_t dropped;
};

/* ---- Memory queues -------------------------------------------------------- */

static size_t queue_put(struct queue *q, const void *data, size_t len)
{
	if (len > QUEUE_MAX - q->len)
		len = QUEUE_MAX - q->len;
	if (!len)
		return 0;
	if (q->head && q->head + q->len + len > q->cap) {
		/* Slide the unread bytes down before growing. */
		memmove(q->data, q->data + q->head, q->len);
		q->head = 0;
	}
	if (q->len + len > q->cap) {
		size_t cap = q->cap ? q->cap : 256;
		uint8_t *p;

		while (cap < q->len + len)
			cap *= 2;
		p = realloc(q->data, cap);
		if (!p)
			return 0;
		q->data = p;
		q->cap = cap;
	}
	memcpy(q->data + q->head + q->len, data, len);
	q->len += len;
	return len;
}

static size_t queue_get(struct queue *q, void *buf, size_t cap)
{
	size_t n = q->len < cap ? q->len : cap;

	if (!n)
		return 0;
	memcpy(buf, q->data + q->head, n);
	q->head += n;
	q->len -= n;
	if (!q->len)
		q->head = 0;
	return n;
}

/* ---- PTY -------------------------------------------------------------------- */

/* Count the opens and closes of the slave node by other programs. */
static void pty_watch(struct link *l)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	const struct inotify_event *ev;
	ssize_t n;
	char *p;

	if (l->ino_fd < 0)
		return;
	while ((n = read(l->ino_fd, buf, sizeof(buf))) > 0) {
		for (p = buf; p < buf + n; p += sizeof(*ev) + ev->len) {
			ev = (const struct inotify_event *)p;
			if (ev->mask & IN_Q_OVERFLOW) {
				/* Lost count: stop guessing, treat the port as open. */
				close(l->ino_fd);
				l->ino_fd = -1;
				return;
			}
			if (ev->mask & IN_OPEN) {
				l->host_opens++;
			} else if (ev->mask & (IN_CLOSE_WRITE | IN_CLOSE_NOWRITE)) {
				if (l->host_opens > 0)
					l->host_opens--;
				/*
				 * Output nobody read before the port was
				 * closed is gone, as it is on a real port.
				 */
				if (!l->host_opens)
					tcflush(l->slave_fd, TCIFLUSH);
			}
		}
	}
}

static bool pty_attached(struct link *l)
{
	pty_watch(l);
	return l->ino_fd < 0 || l->host_opens > 0;
}

static int make_symlink(struct link *l, const char *path, char *err, size_t errlen)
{
	struct stat st;

	if (lstat(path, &st) == 0) {
		if (!S_ISLNK(st.st_mode)) {
			snprintf(err, errlen,
				 "cannot create the serial port link: %s is not a symbolic link: refusing to replace it (remove it or choose another path)",
				 path);
			return -1;
		}
		if (unlink(path) < 0) {
			snprintf(err, errlen, "cannot replace the old symbolic link %s: %s", path,
				 strerror(errno));
			return -1;
		}
	}
	if (symlink(l->pty_path, path) < 0) {
		snprintf(err, errlen, "cannot create the symbolic link %s -> %s: %s", path,
			 l->pty_path, strerror(errno));
		return -1;
	}
	l->symlink = strdup(path);
	if (!l->symlink) {
		unlink(path);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

static int open_pty(struct link *l, const struct sim_link_config *cfg, char *err, size_t errlen)
{
	struct termios tio;
	const char *name;

	l->fd = posix_openpt(O_RDWR | O_NOCTTY | O_NONBLOCK);
	if (l->fd < 0) {
		snprintf(err, errlen, "cannot create a pseudo-terminal (posix_openpt): %s (is /dev/pts mounted?)",
			 strerror(errno));
		return -1;
	}
	if (grantpt(l->fd) < 0 || unlockpt(l->fd) < 0 || !(name = ptsname(l->fd))) {
		snprintf(err, errlen, "cannot set up the pseudo-terminal (grantpt/unlockpt): %s",
			 strerror(errno));
		return -1;
	}
	snprintf(l->pty_path, sizeof(l->pty_path), "%s", name);
	l->slave_fd = open(l->pty_path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (l->slave_fd < 0) {
		snprintf(err, errlen, "cannot open the pseudo-terminal slave %s: %s", l->pty_path,
			 strerror(errno));
		return -1;
	}
	/*
	 * Raw bytes both ways until the host program sets its own modes;
	 * above all no echo, which would send the host's bytes back to the
	 * board.
	 */
	if (tcgetattr(l->fd, &tio) < 0) {
		snprintf(err, errlen, "cannot read the modes of %s: %s", l->pty_path, strerror(errno));
		return -1;
	}
	cfmakeraw(&tio);
	cfsetispeed(&tio, B115200);
	cfsetospeed(&tio, B115200);
	if (tcsetattr(l->fd, TCSANOW, &tio) < 0) {
		snprintf(err, errlen, "cannot set raw mode on %s: %s", l->pty_path, strerror(errno));
		return -1;
	}
	/* Watch after our own open, so that only other programs are counted. */
	l->ino_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (l->ino_fd >= 0 && inotify_add_watch(l->ino_fd, l->pty_path, IN_OPEN | IN_CLOSE) < 0) {
		close(l->ino_fd);
		l->ino_fd = -1;
	}
	if (cfg->path && cfg->path[0])
		return make_symlink(l, cfg->path, err, errlen);
	return 0;
}

/* ---- TCP ---------------------------------------------------------------------- */

static int open_tcp(struct link *l, const struct sim_link_config *cfg, char *err, size_t errlen)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t salen = sizeof(sa);
	int one = 1;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = htons(cfg->port);
	l->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (l->listen_fd < 0) {
		snprintf(err, errlen, "cannot create a TCP socket: %s", strerror(errno));
		return -1;
	}
	/* Restarting the emulator must not wait for old connections to time out. */
	setsockopt(l->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(l->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		if (errno == EADDRINUSE)
			snprintf(err, errlen,
				 "cannot listen on 127.0.0.1:%u: the port is in use by another program (choose another port, or 0 for a free one)",
				 cfg->port);
		else
			snprintf(err, errlen, "cannot listen on 127.0.0.1:%u: %s", cfg->port,
				 strerror(errno));
		return -1;
	}
	if (listen(l->listen_fd, 4) < 0 ||
	    getsockname(l->listen_fd, (struct sockaddr *)&sa, &salen) < 0) {
		snprintf(err, errlen, "cannot listen on 127.0.0.1:%u: %s", cfg->port, strerror(errno));
		return -1;
	}
	l->port = ntohs(sa.sin_port);
	return 0;
}

static void tcp_drop_client(struct link *l)
{
	close(l->fd);
	l->fd = -1;
}

/*
 * Forget a client that hung up (nothing left to read and the connection
 * closed) and take the next waiting one, if any.
 */
static void tcp_service(struct link *l)
{
	uint8_t c;
	ssize_t n;
	int one = 1;

	if (l->fd >= 0) {
		n = recv(l->fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
			tcp_drop_client(l);
	}
	if (l->fd < 0) {
		l->fd = accept4(l->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		/* Bytes go out one by one at serial speed: do not hold them back. */
		if (l->fd >= 0)
			setsockopt(l->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	}
}

/* ---- Common ------------------------------------------------------------------- */

struct link *link_open(const struct sim_link_config *cfg, char *err, size_t errlen)
{
	struct link *l = calloc(1, sizeof(*l));
	int ret = 0;

	if (!l) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	l->kind = cfg->kind;
	l->fd = l->slave_fd = l->ino_fd = l->listen_fd = -1;
	switch (cfg->kind) {
	case SIM_LINK_NONE:
	case SIM_LINK_MEMORY:
		break;
	case SIM_LINK_PTY:
		ret = open_pty(l, cfg, err, errlen);
		break;
	case SIM_LINK_TCP:
		ret = open_tcp(l, cfg, err, errlen);
		break;
	default:
		snprintf(err, errlen, "unknown serial link kind %d", (int)cfg->kind);
		ret = -1;
		break;
	}
	if (ret < 0) {
		link_close(l);
		return NULL;
	}
	return l;
}

/*
 * The board's last bytes (a final ACK before the board halts, say) may
 * still wait in the pty when the emulator stops, and a pty whose master
 * closes discards what its slave has not read. Give the host program a
 * moment to read them, as the wire of a board that stays powered would.
 * (TCP needs nothing: the link has read all the host sent, so the close
 * sends a FIN behind the data, never a reset.)
 */
#define LINK_DRAIN_MS 1000

static int64_t now_ms(void);

static void link_drain(struct link *l)
{
	int64_t deadline = now_ms() + LINK_DRAIN_MS;
	int queued;

	while (l->kind == SIM_LINK_PTY && l->slave_fd >= 0 && pty_attached(l) &&
	       ioctl(l->slave_fd, FIONREAD, &queued) == 0 && queued > 0 &&
	       now_ms() < deadline)
		poll(NULL, 0, 5);
}

void link_close(struct link *l)
{
	char target[sizeof(l->pty_path)];
	ssize_t n;

	if (!l)
		return;
	link_drain(l);
	if (l->symlink) {
		/* Only remove the link if it is still ours. */
		n = readlink(l->symlink, target, sizeof(target) - 1);
		if (n >= 0) {
			target[n] = '\0';
			if (!strcmp(target, l->pty_path))
				unlink(l->symlink);
		}
		free(l->symlink);
	}
	if (l->fd >= 0)
		close(l->fd);
	if (l->slave_fd >= 0)
		close(l->slave_fd);
	if (l->ino_fd >= 0)
		close(l->ino_fd);
	if (l->listen_fd >= 0)
		close(l->listen_fd);
	free(l->in.data);
	free(l->out.data);
	free(l);
}

size_t link_read(struct link *l, uint8_t *buf, size_t cap)
{
	ssize_t n;

	if (!l || !cap)
		return 0;
	switch (l->kind) {
	case SIM_LINK_MEMORY:
		return queue_get(&l->in, buf, cap);
	case SIM_LINK_TCP:
		tcp_service(l);
		if (l->fd < 0)
			return 0;
		n = recv(l->fd, buf, cap, MSG_DONTWAIT);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
			tcp_drop_client(l);
		return n > 0 ? (size_t)n : 0;
	case SIM_LINK_PTY:
		pty_watch(l);
		n = read(l->fd, buf, cap);
		return n > 0 ? (size_t)n : 0;
	default:
		return 0;
	}
}

void link_write(struct link *l, const uint8_t *buf, size_t len)
{
	ssize_t n = 0;

	if (!l || !len)
		return;
	switch (l->kind) {
	case SIM_LINK_MEMORY:
		n = (ssize_t)queue_put(&l->out, buf, len);
		break;
	case SIM_LINK_PTY:
		/*
		 * A UART does not wait for its listener: with nobody on the
		 * port, or a host that stopped reading and let the buffer
		 * fill, the bytes are lost.
		 */
		if (pty_attached(l))
			n = write(l->fd, buf, len);
		break;
	case SIM_LINK_TCP:
		tcp_service(l);
		if (l->fd < 0)
			break;
		n = send(l->fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			tcp_drop_client(l);
		break;
	default:
		break;
	}
	if (n < 0)
		n = 0;
	l->dropped += len - (size_t)n;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

bool link_wait(struct link *l, int timeout_ms)
{
	int64_t deadline = now_ms() + (timeout_ms > 0 ? timeout_ms : 0);
	struct pollfd p;
	uint8_t c;
	int left;

	if (!l)
		return false;
	if (l->kind == SIM_LINK_MEMORY)
		return l->in.len > 0;
	if (l->kind != SIM_LINK_PTY && l->kind != SIM_LINK_TCP)
		return false;
	for (;;) {
		if (l->kind == SIM_LINK_TCP)
			tcp_service(l);
		p.fd = link_fd(l);
		p.events = POLLIN;
		p.revents = 0;
		left = (int)(deadline - now_ms());
		if (poll(&p, 1, left > 0 ? left : 0) > 0) {
			if (l->kind == SIM_LINK_PTY)
				return true;
			/* A hang-up is readable too: only data counts. */
			if (p.fd == l->fd && recv(l->fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) > 0)
				return true;
			/* Otherwise a client came or went: tcp_service() sorts it out. */
		}
		if (now_ms() >= deadline)
			return false;
	}
}

int link_fd(const struct link *l)
{
	if (!l)
		return -1;
	if (l->kind == SIM_LINK_TCP)
		return l->fd >= 0 ? l->fd : l->listen_fd;
	return l->kind == SIM_LINK_PTY ? l->fd : -1;
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
		{ B50, 50 }, { B75, 75 }, { B110, 110 }, { B134, 134 }, { B150, 150 },
		{ B200, 200 }, { B300, 300 }, { B600, 600 }, { B1200, 1200 },
		{ B1800, 1800 }, { B2400, 2400 }, { B4800, 4800 }, { B9600, 9600 },
		{ B19200, 19200 }, { B38400, 38400 }, { B57600, 57600 },
		{ B115200, 115200 }, { B230400, 230400 }, { B460800, 460800 },
		{ B500000, 500000 }, { B576000, 576000 }, { B921600, 921600 },
		{ B1000000, 1000000 }, { B1152000, 1152000 }, { B1500000, 1500000 },
		{ B2000000, 2000000 },
	};
	struct termios tio;
	speed_t s;
	size_t i;

	if (!l || l->kind != SIM_LINK_PTY || tcgetattr(l->fd, &tio) < 0)
		return 0;
	s = cfgetospeed(&tio);
	for (i = 0; i < sizeof(speeds) / sizeof(speeds[0]); i++)
		if (speeds[i].code == s)
			return speeds[i].baud;
	return 0;
}

bool link_connected(struct link *l)
{
	if (!l)
		return false;
	switch (l->kind) {
	case SIM_LINK_MEMORY:
		return true;
	case SIM_LINK_PTY:
		return pty_attached(l);
	case SIM_LINK_TCP:
		tcp_service(l);
		return l->fd >= 0;
	default:
		return false;
	}
}

uint64_t link_dropped(const struct link *l)
{
	return l ? l->dropped : 0;
}

void link_inject(struct link *l, const void *data, size_t len)
{
	/* Past QUEUE_MAX unread bytes the rest is lost, and counted. */
	if (l && l->kind == SIM_LINK_MEMORY)
		l->dropped += len - queue_put(&l->in, data, len);
}

size_t link_take_output(struct link *l, char *buf, size_t cap)
{
	if (!l || l->kind != SIM_LINK_MEMORY)
		return 0;
	return queue_get(&l->out, buf, cap);
}
