/*
 * test_link.c - the serial links of the emulator, without a board.
 *
 * Host programs only ever see the emulated board through these links, so
 * each kind is driven here from the host side the way stm32flash, sysboot
 * or a TCP client would: opening and reopening the pty, changing its baud
 * rate, connecting and reconnecting over TCP, and the error messages a
 * user gets when a path or port cannot be used.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <cmocka.h>

#include "link.h"

static char dir[64];
static char err[512];

static const char *tmp_path(const char *name)
{
	static char path[128];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return path;
}

/* Read exactly len bytes from fd within a second. */
static void read_fd(int fd, char *buf, size_t len)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	size_t got = 0;
	ssize_t n;

	while (got < len) {
		assert_true(poll(&p, 1, 1000) > 0);
		n = read(fd, buf + got, len - got);
		assert_true(n > 0);
		got += (size_t)n;
	}
}

/* Read from the link until len bytes came, waiting at most a second each. */
static void read_link(struct link *l, char *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		assert_true(link_wait(l, 1000));
		got += link_read(l, (uint8_t *)buf + got, len - got);
	}
}

static int open_host(const char *path)
{
	int fd = open(path, O_RDWR | O_NOCTTY);

	assert_true(fd >= 0);
	return fd;
}

/* ---- NONE and MEMORY -------------------------------------------------------- */

static void test_none_drops(void **state)
{
	struct sim_link_config cfg = { .kind = SIM_LINK_NONE };
	struct link *l = link_open(&cfg, err, sizeof(err));
	uint8_t buf[4];

	(void)state;
	assert_non_null(l);
	link_write(l, (const uint8_t *)"abc", 3);
	assert_int_equal(link_dropped(l), 3);
	assert_int_equal(link_read(l, buf, sizeof(buf)), 0);
	assert_false(link_wait(l, 10));
	assert_int_equal(link_fd(l), -1);
	assert_false(link_connected(l));
	link_close(l);
}

static void test_memory_round_trip(void **state)
{
	struct sim_link_config cfg = { .kind = SIM_LINK_MEMORY };
	struct link *l = link_open(&cfg, err, sizeof(err));
	uint8_t in[8];
	char out[16];

	(void)state;
	assert_non_null(l);
	assert_false(link_wait(l, 0));
	link_inject(l, "\x7f\x00\xff", 3);
	assert_true(link_wait(l, 0));
	assert_int_equal(link_read(l, in, 2), 2);
	assert_memory_equal(in, "\x7f\x00", 2);
	assert_int_equal(link_read(l, in, sizeof(in)), 1);
	assert_int_equal(in[0], 0xff);
	assert_false(link_wait(l, 0));

	link_write(l, (const uint8_t *)"hello", 5);
	link_write(l, (const uint8_t *)" you", 4);
	assert_int_equal(link_take_output(l, out, 3), 3);
	assert_memory_equal(out, "hel", 3);
	assert_int_equal(link_take_output(l, out, sizeof(out)), 6);
	assert_memory_equal(out, "lo you", 6);
	assert_int_equal(link_take_output(l, out, sizeof(out)), 0);

	assert_int_equal(link_fd(l), -1);
	assert_string_equal(link_pty_path(l), "");
	assert_int_equal(link_host_baud(l), 0);
	assert_int_equal(link_tcp_port(l), 0);
	assert_int_equal(link_dropped(l), 0);
	link_close(l);
}

/* A long stream through a memory link stays in order across the queue's growth. */
static void test_memory_long_stream(void **state)
{
	struct sim_link_config cfg = { .kind = SIM_LINK_MEMORY };
	struct link *l = link_open(&cfg, err, sizeof(err));
	uint8_t b, got[7];
	unsigned i, j, next = 0, n;

	(void)state;
	assert_non_null(l);
	for (i = 0; i < 100000; i++) {
		b = (uint8_t)i;
		link_inject(l, &b, 1);
		if (i % 5 == 0) {
			n = (unsigned)link_read(l, got, sizeof(got));
			for (j = 0; j < n; j++)
				assert_int_equal(got[j], (uint8_t)next++);
		}
	}
	while ((n = (unsigned)link_read(l, got, 1)) > 0)
		assert_int_equal(got[0], (uint8_t)next++);
	assert_int_equal(next, 100000);
	link_close(l);
}

/* ---- PTY ---------------------------------------------------------------------- */

static void test_pty_symlink_round_trip(void **state)
{
	const char *path = tmp_path("ttyBOARD");
	struct sim_link_config cfg = { .kind = SIM_LINK_PTY, .path = path };
	struct link *l;
	char target[128], buf[16];
	struct stat st;
	ssize_t n;
	int fd;

	(void)state;
	l = link_open(&cfg, err, sizeof(err));
	assert_non_null(l);
	assert_true(link_fd(l) >= 0);
	assert_true(strncmp(link_pty_path(l), "/dev/pts/", 9) == 0);
	n = readlink(path, target, sizeof(target) - 1);
	assert_true(n > 0);
	target[n] = '\0';
	assert_string_equal(target, link_pty_path(l));

	fd = open_host(path);
	/* Binary bytes pass untouched: the pty is raw, no echo, no CR/LF games. */
	assert_int_equal(write(fd, "\x7f\r\n\x03\x00", 5), 5);
	read_link(l, buf, 5);
	assert_memory_equal(buf, "\x7f\r\n\x03\x00", 5);
	link_write(l, (const uint8_t *)"\x79\n\r", 3);
	read_fd(fd, buf, 3);
	assert_memory_equal(buf, "\x79\n\r", 3);
	/* No echo came back to the board. */
	assert_false(link_wait(l, 50));
	close(fd);

	link_close(l);
	assert_int_equal(lstat(path, &st), -1);
	assert_int_equal(errno, ENOENT);
}

/* stm32flash and sysboot close and reopen the port: the pty must survive it. */
static void test_pty_reopen(void **state)
{
	struct sim_link_config cfg = { .kind = SIM_LINK_PTY };
	struct link *l = link_open(&cfg, err, sizeof(err));
	char buf[8];
	int fd;

	(void)state;
	assert_non_null(l);
	assert_false(link_connected(l));
	/* Nobody has the port open: the bytes are lost, not kept for later. */
	link_write(l, (const uint8_t *)"stale", 5);
	assert_int_equal(link_dropped(l), 5);

	fd = open_host(link_pty_path(l));
	assert_true(link_connected(l));
	assert_int_equal(write(fd, "A", 1), 1);
	read_link(l, buf, 1);
	assert_int_equal(buf[0], 'A');
	/* Output the host leaves unread when it closes is gone too. */
	link_write(l, (const uint8_t *)"unread", 6);
	close(fd);
	assert_false(link_connected(l));
	/* The master sees no hang-up while nobody has the port open. */
	assert_false(link_wait(l, 50));
	assert_int_equal(link_read(l, (uint8_t *)buf, sizeof(buf)), 0);

	fd = open_host(link_pty_path(l));
	link_write(l, (const uint8_t *)"B", 1);
	read_fd(fd, buf, 1);
	assert_int_equal(buf[0], 'B');
	assert_int_equal(write(fd, "C", 1), 1);
	read_link(l, buf, 1);
	assert_int_equal(buf[0], 'C');
	close(fd);
	link_close(l);
}

static void test_pty_host_baud(void **state)
{
	struct sim_link_config cfg = { .kind = SIM_LINK_PTY };
	struct link *l = link_open(&cfg, err, sizeof(err));
	struct termios tio;
	int fd;

	(void)state;
	assert_non_null(l);
	/* Until the host chooses, the pty says what a fresh port would. */
	assert_int_equal(link_host_baud(l), 115200);
	fd = open_host(link_pty_path(l));
	assert_int_equal(tcgetattr(fd, &tio), 0);
	cfsetispeed(&tio, B57600);
	cfsetospeed(&tio, B57600);
	assert_int_equal(tcsetattr(fd, TCSANOW, &tio), 0);
	assert_int_equal(link_host_baud(l), 57600);
	close(fd);
	/* The setting outlives the host's descriptor, as on a real port. */
	assert_int_equal(link_host_baud(l), 57600);
	link_close(l);
}

static void test_pty_replaces_old_symlink(void **state)
{
	const char *path = tmp_path("ttyOLD");
	struct sim_link_config cfg = { .kind = SIM_LINK_PTY, .path = path };
	struct link *l;
	char target[128];
	ssize_t n;

	(void)state;
	assert_int_equal(symlink("/dev/pts/no-such-pty", path), 0);
	l = link_open(&cfg, err, sizeof(err));
	assert_non_null(l);
	n = readlink(path, target, sizeof(target) - 1);
	assert_true(n > 0);
	target[n] = '\0';
	assert_string_equal(target, link_pty_path(l));
	link_close(l);
}

static void test_pty_refuses_regular_file(void **state)
{
	const char *path = tmp_path("precious");
	struct sim_link_config cfg = { .kind = SIM_LINK_PTY, .path = path };
	char buf[16] = "";
	FILE *f;

	(void)state;
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("keep me", f);
	fclose(f);
	assert_null(link_open(&cfg, err, sizeof(err)));
	assert_non_null(strstr(err, path));
	assert_non_null(strstr(err, "not a symbolic link"));
	assert_non_null(strstr(err, "refusing to replace it"));
	f = fopen(path, "r");
	assert_non_null(f);
	assert_non_null(fgets(buf, sizeof(buf), f));
	fclose(f);
	assert_string_equal(buf, "keep me");
	unlink(path);
}

static void test_pty_symlink_dir_missing(void **state)
{
	const char *path = tmp_path("no-such-dir/tty");
	struct sim_link_config cfg = { .kind = SIM_LINK_PTY, .path = path };

	(void)state;
	assert_null(link_open(&cfg, err, sizeof(err)));
	assert_non_null(strstr(err, "cannot create the symbolic link"));
	assert_non_null(strstr(err, path));
	assert_non_null(strstr(err, "No such file or directory"));
}

/* ---- TCP ---------------------------------------------------------------------- */

static int tcp_connect(uint16_t port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

static void test_tcp_round_trip(void **state)
{
	struct sim_link_config cfg = { .kind = SIM_LINK_TCP, .port = 0 };
	struct link *l = link_open(&cfg, err, sizeof(err));
	char buf[8];
	int fd;

	(void)state;
	assert_non_null(l);
	assert_true(link_tcp_port(l) != 0);
	assert_false(link_connected(l));
	assert_false(link_wait(l, 20));
	/* No client: output is dropped. */
	link_write(l, (const uint8_t *)"x", 1);
	assert_int_equal(link_dropped(l), 1);

	fd = tcp_connect(link_tcp_port(l));
	assert_int_equal(write(fd, "\x7f\x00", 2), 2);
	read_link(l, buf, 2);
	assert_memory_equal(buf, "\x7f\x00", 2);
	assert_true(link_connected(l));
	link_write(l, (const uint8_t *)"\x79", 1);
	read_fd(fd, buf, 1);
	assert_int_equal((uint8_t)buf[0], 0x79);
	assert_int_equal(link_dropped(l), 1);
	close(fd);
	link_close(l);
}

/* One client at a time; the next takes over when the first hangs up. */
static void test_tcp_reconnect(void **state)
{
	struct sim_link_config cfg = { .kind = SIM_LINK_TCP, .port = 0 };
	struct link *l = link_open(&cfg, err, sizeof(err));
	struct pollfd p;
	char buf[8];
	int a, b;

	(void)state;
	assert_non_null(l);
	a = tcp_connect(link_tcp_port(l));
	assert_int_equal(write(a, "1", 1), 1);
	read_link(l, buf, 1);
	assert_int_equal(buf[0], '1');

	/* A second client waits while the first is alive. */
	b = tcp_connect(link_tcp_port(l));
	link_write(l, (const uint8_t *)"2", 1);
	read_fd(a, buf, 1);
	assert_int_equal(buf[0], '2');
	p = (struct pollfd){ .fd = b, .events = POLLIN };
	assert_int_equal(poll(&p, 1, 50), 0);

	/* The first hangs up: its last bytes still arrive, then b takes over. */
	assert_int_equal(write(a, "3", 1), 1);
	close(a);
	read_link(l, buf, 1);
	assert_int_equal(buf[0], '3');
	assert_int_equal(write(b, "4", 1), 1);
	read_link(l, buf, 1);
	assert_int_equal(buf[0], '4');
	link_write(l, (const uint8_t *)"5", 1);
	read_fd(b, buf, 1);
	assert_int_equal(buf[0], '5');
	assert_true(link_connected(l));

	/* b goes too; the board's output is dropped until a new client comes. */
	close(b);
	assert_false(link_connected(l));
	link_write(l, (const uint8_t *)"6", 1);
	assert_int_equal(link_dropped(l), 1);
	a = tcp_connect(link_tcp_port(l));
	link_write(l, (const uint8_t *)"7", 1);
	read_fd(a, buf, 1);
	assert_int_equal(buf[0], '7');
	close(a);
	link_close(l);
}

static void test_tcp_port_in_use(void **state)
{
	struct sim_link_config cfg = { .kind = SIM_LINK_TCP, .port = 0 };
	struct link *l = link_open(&cfg, err, sizeof(err));
	char want[64];

	(void)state;
	assert_non_null(l);
	cfg.port = link_tcp_port(l);
	assert_null(link_open(&cfg, err, sizeof(err)));
	snprintf(want, sizeof(want), "127.0.0.1:%u", cfg.port);
	assert_non_null(strstr(err, want));
	assert_non_null(strstr(err, "in use"));
	link_close(l);
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/test_link.XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	return rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_none_drops),
		cmocka_unit_test(test_memory_round_trip),
		cmocka_unit_test(test_memory_long_stream),
		cmocka_unit_test(test_pty_symlink_round_trip),
		cmocka_unit_test(test_pty_reopen),
		cmocka_unit_test(test_pty_host_baud),
		cmocka_unit_test(test_pty_replaces_old_symlink),
		cmocka_unit_test(test_pty_refuses_regular_file),
		cmocka_unit_test(test_pty_symlink_dir_missing),
		cmocka_unit_test(test_tcp_round_trip),
		cmocka_unit_test(test_tcp_reconnect),
		cmocka_unit_test(test_tcp_port_in_use),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
