/*
 * cmd_rom.c - read, write, erase, go, protect and unprotect: the direct
 * ROM bootloader commands, and the helpers every ROM command (info,
 * update) shares.
 *
 * Why these exist beside update: a technician diagnosing a board needs to
 * do single steps by hand. They reuse the update's connection sequence so
 * that entering the bootloader works the same way everywhere, and they
 * guard the stub's pages and the irreversible operations (readout
 * unprotect mass-erases the flash, RM0351 3.5.1) behind explicit flags.
 */
#include "cmd_rom.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "boardstate.h"
#include "dfuse.h"
#include "formats.h"
#include "sysboot/image.h"
#include "sysboot/stm32l476.h"

/* ---- Shared helpers ------------------------------------------------------ */

int rom_exit_code(enum op_status st)
{
	switch (st) {
	case OP_OK: return ROM_EXIT_OK;
	case OP_ERR_USAGE: return ROM_EXIT_USAGE;
	case OP_ERR_INPUT: return ROM_EXIT_INPUT;
	case OP_ERR_PORT: return ROM_EXIT_PORT;
	case OP_ERR_LINK: return ROM_EXIT_PORT;
	case OP_ERR_NO_ANSWER: return ROM_EXIT_NO_ANSWER;
	case OP_ERR_TIMEOUT: return ROM_EXIT_NO_ANSWER;
	case OP_ERR_NACK: return ROM_EXIT_REFUSED;
	case OP_ERR_PROTOCOL: return ROM_EXIT_FAILURE;
	case OP_ERR_WRONG_CHIP: return ROM_EXIT_WRONG_CHIP;
	case OP_ERR_VERIFY: return ROM_EXIT_VERIFY;
	case OP_ERR_INTERRUPTED: return ROM_EXIT_INTERRUPTED;
	case OP_ERR_INTERNAL: return ROM_EXIT_FAILURE;
	}
	return ROM_EXIT_FAILURE;
}

bool rom_parse_u32(const char *s, unsigned long *v)
{
	char *end;
	unsigned long x;

	if (!s || !*s || *s == '-')
		return false;
	errno = 0;
	x = strtoul(s, &end, 0);
	if (errno || end == s)
		return false;
	if (*end == 'K' || *end == 'k') {
		x *= 1024;
		end++;
	} else if (*end == 'M' || *end == 'm') {
		x *= 1024 * 1024;
		end++;
	}
	if (*end || x > 0xFFFFFFFFul)
		return false;
	*v = x;
	return true;
}

int rom_fail(const struct rom_common *rc, const char *cmd, enum op_status st,
	     const char *msg)
{
	int code = rom_exit_code(st);

	if (rc && rc->json) {
		printf("{\"command\":");
		json_str(stdout, cmd);
		printf(",\"ok\":false,\"exit_code\":%d,\"error\":", code);
		json_str(stdout, msg);
		printf("}\n");
	}
	fprintf(stderr, "sysboot %s: %s\n", cmd, msg);
	return code;
}

/* The update's progress callbacks, drawn by output.c's progress reporter. */
static void pr_begin(void *ctx, const char *phase, size_t total)
{
	struct rom_common *rc = ctx;

	progress_start(&rc->progress, &rc->out, phase, total);
}

static void pr_step(void *ctx, size_t done)
{
	struct rom_common *rc = ctx;

	progress_update(&rc->progress, done);
}

static void pr_end(void *ctx)
{
	struct rom_common *rc = ctx;

	progress_finish(&rc->progress, true);
}

void rom_progress_init(struct progress_ops *po, struct rom_common *rc)
{
	output_init(&rc->out, NULL, rc->json);
	rc->out.quiet = rc->quiet;
	po->begin = pr_begin;
	po->step = pr_step;
	po->end = pr_end;
	po->ctx = rc;
}

/* Unescape \r \n \t \\ \xHH in an --enter-cmd string, in place. */
void rom_unescape(char *s)
{
	char *o = s;

	while (*s) {
		if (*s == '\\' && s[1]) {
			s++;
			switch (*s) {
			case 'r': *o++ = '\r'; s++; break;
			case 'n': *o++ = '\n'; s++; break;
			case 't': *o++ = '\t'; s++; break;
			case 'x': {
				char hex[3] = { 0 };
				unsigned i;

				s++;
				for (i = 0; i < 2 && s[i] && strchr("0123456789abcdefABCDEF", s[i]); i++)
					hex[i] = s[i];
				*o++ = (char)strtoul(hex, NULL, 16);
				s += i;
				break;
			}
			default: *o++ = *s++; break;
			}
		} else {
			*o++ = *s++;
		}
	}
	*o = '\0';
}

int rom_usage(const char *cmd, const char *use)
{
	fprintf(stderr, "usage: sysboot %s %s\n", cmd, use);
	return ROM_EXIT_USAGE;
}

/* --help: the usage on stdout, and success. */
static int help(const char *cmd, const char *use)
{
	printf("usage: sysboot %s %s\n(sysboot --help lists the port spellings and "
	       "exit codes; docs/dfu.md covers USB)\n", cmd, use);
	return ROM_EXIT_OK;
}

enum common_opt_result { COMMON_BAD_VALUE, COMMON_NOT_ONE, COMMON_TAKEN, COMMON_HELP };

static enum common_opt_result common_opt(struct rom_common *rc, const char *cmd,
					 int c, const char *arg)
{
	static char enter[256];
	unsigned long v;

	switch (c) {
	case OPT_PORT:
		rc->co.port = arg;
		return COMMON_TAKEN;
	case OPT_BAUD:
		if (!rom_parse_u32(arg, &v) || !transport_baud_supported((unsigned)v)) {
			fprintf(stderr, "sysboot %s: unsupported baud rate '%s' "
				"(1200 to 115200 per AN3155; also 230400, "
				"460800, 921600)\n", cmd, arg);
			return COMMON_BAD_VALUE;
		}
		rc->co.baud = (unsigned)v;
		return COMMON_TAKEN;
	case OPT_ENTER:
		snprintf(enter, sizeof(enter), "%s", arg);
		rom_unescape(enter);
		rc->co.enter_cmd = enter;
		return COMMON_TAKEN;
	case OPT_NO_ENTER:
		rc->co.no_enter = true;
		return COMMON_TAKEN;
	case OPT_ENTER_PORT:
		rc->co.enter_port = arg;
		return COMMON_TAKEN;
	case OPT_ENTER_EXEC:
		rc->co.enter_exec = arg;
		return COMMON_TAKEN;
	case OPT_DFU_WAIT:
		if (!rom_parse_u32(arg, &v) || v == 0 || v > 600000) {
			fprintf(stderr, "sysboot %s: bad --dfu-wait '%s' (milliseconds, "
				"1 to 600000)\n", cmd, arg);
			return COMMON_BAD_VALUE;
		}
		rc->co.dfu_wait_ms = (unsigned)v;
		return COMMON_TAKEN;
	case OPT_JSON:
		rc->json = true;
		return COMMON_TAKEN;
	case OPT_QUIET:
		rc->quiet = true;
		return COMMON_TAKEN;
	case OPT_HELP:
		return COMMON_HELP;
	}
	return COMMON_NOT_ONE;
}

bool rom_common_opt(struct rom_common *rc, const char *cmd, int c, const char *arg,
		    const char *use, int *code)
{
	switch (common_opt(rc, cmd, c, arg)) {
	case COMMON_TAKEN:
		return true;
	case COMMON_HELP:
		*code = help(cmd, use);
		return false;
	case COMMON_NOT_ONE:
		*code = rom_usage(cmd, use);
		return false;
	case COMMON_BAD_VALUE:
		break;
	}
	*code = ROM_EXIT_USAGE;
	return false;
}

/*
 * A refusal (NACK) that readout protection explains: say what it means,
 * with what the ROM answered, and leave the protection alone (lifting it
 * would erase everything, which only `unprotect --readout
 * --yes-erase-everything` does). The session is still open.
 */
static void explain_refusal(struct session *s, const char *cmd, enum op_status st,
			    char *err, size_t errlen)
{
	char was[768];

	if (st != OP_ERR_NACK || !board_readout_protected(s))
		return;
	snprintf(was, sizeof(was), "%s", err);
	snprintf(err, errlen, "cannot %s: %s (the ROM: %.300s)", cmd, board_rdp1_text, was);
}

/*
 * Close the session after the command's one operation; a failure's
 * message is copied into err first, for the report made once the session
 * is gone.
 */
static enum op_status close_after(struct session *s, enum op_status st, char *err,
				  size_t errlen)
{
	if (st != OP_OK)
		snprintf(err, errlen, "%s", s->err);
	session_close(s);
	return st;
}

int rom_check_connect(const struct rom_common *rc, const char *cmd)
{
	if (!rc->co.port) {
		fprintf(stderr, "sysboot %s: --port PORT is required (a serial device "
			"such as /dev/ttyACM0, a pty, tcp:HOST:PORT, or usb for the "
			"ROM's USB DFU device)\n", cmd);
		return ROM_EXIT_USAGE;
	}
	if (rc->co.no_enter && (rc->co.enter_cmd || rc->co.enter_exec)) {
		fprintf(stderr, "sysboot %s: --no-enter excludes --enter-cmd and "
			"--enter-exec\n", cmd);
		return ROM_EXIT_USAGE;
	}
	return 0;
}

bool rom_common_only(int argc, char **argv, struct rom_common *rc, const char *use,
		     int *code)
{
	static const struct option longopts[] = { COMMON_LONG_OPTIONS, { 0 } };
	int c;

	optind = 0;
	while ((c = getopt_long(argc, argv, "p:b:h", longopts, NULL)) != -1)
		if (!rom_common_opt(rc, argv[0], c, optarg, use, code))
			return false;
	return true;
}

/* ---- read ---------------------------------------------------------------- */

/*
 * The file's extension picks its format: .hex, .srec/.s19/.s37 and .dfu
 * keep the address; anything else is the raw bytes. A .dfu names the
 * memory the way the device does, so dfu-util takes it back as it is.
 */
static int write_output(struct session *s, const char *path, uint32_t addr,
			const uint8_t *buf, size_t len, char *err, size_t errlen)
{
	enum fw_format f = fw_format_from_ext(path);
	struct dfuse *d = dfuse_session_client(s);
	struct segments segs;
	struct sb_error e;
	uint8_t alt = 0;
	const char *target = addr >= STM32_FLASH_BASE &&
		addr - STM32_FLASH_BASE < STM32_FLASH_SIZE ? "Internal Flash" : NULL;
	int ret;

	if (f != FW_IHEX && f != FW_SREC && f != FW_DFU)
		f = FW_BIN;
	if (d && d->cur_alt >= 0 && d->alts[d->cur_alt].parsed) {
		alt = d->alts[d->cur_alt].alt;
		target = d->alts[d->cur_alt].layout.name;
	}
	segments_init(&segs);
	ret = segments_add(&segs, addr, buf, (uint32_t)len, &e);
	if (ret == 0)
		ret = fw_write_file(&segs, path, f, alt, target, &e);
	segments_free(&segs);
	if (ret < 0)
		snprintf(err, errlen, "%s", e.msg);
	return ret;
}

int cmd_read(int argc, char **argv)
{
	static const struct option longopts[] = {
		COMMON_LONG_OPTIONS,
		{ "output", required_argument, NULL, OPT_OUTPUT },
		{ 0 } };
	static const char *use = "ADDR LEN -o FILE[.bin|.hex|.srec|.dfu] " ROM_CONNECT_USAGE;
	struct rom_common rc = { 0 };
	struct progress_ops po;
	struct session s;
	const char *out = NULL;
	unsigned long addr, len;
	uint8_t *buf = NULL;
	char err[768];
	enum op_status st;
	int c, r, ret;
	double t0 = now_s();

	optind = 0;
	while ((c = getopt_long(argc, argv, "p:b:o:h", longopts, NULL)) != -1) {
		if (c == OPT_OUTPUT) {
			out = optarg;
			continue;
		}
		if (!rom_common_opt(&rc, argv[0], c, optarg, use, &r))
			return r;
	}
	if (argc - optind != 2 || !out)
		return rom_usage(argv[0], use);
	if (!rom_parse_u32(argv[optind], &addr) ||
	    !rom_parse_u32(argv[optind + 1], &len) || len == 0 ||
	    addr + len - 1 > 0xFFFFFFFFul) {
		fprintf(stderr, "sysboot %s: bad address or length: %s %s\n",
			argv[0], argv[optind], argv[optind + 1]);
		return ROM_EXIT_USAGE;
	}
	if ((r = rom_check_connect(&rc, argv[0])))
		return r;
	buf = malloc(len);
	if (!buf)
		return rom_fail(&rc, argv[0], OP_ERR_INTERNAL, "out of memory");
	rom_progress_init(&po, &rc);
	st = session_open(&s, &rc.co, err, sizeof(err));
	if (st != OP_OK) {
		ret = rom_fail(&rc, argv[0], st, err);
		goto out;
	}
	st = flash_read(&s, (uint32_t)addr, buf, len, &po, err, sizeof(err));
	if (st != OP_OK)
		explain_refusal(&s, argv[0], st, err, sizeof(err));
	else if (write_output(&s, out, (uint32_t)addr, buf, len, err, sizeof(err)) != 0)
		st = OP_ERR_INPUT;
	session_close(&s);
	if (st != OP_OK) {
		ret = rom_fail(&rc, argv[0], st, err);
		goto out;
	}
	if (rc.json)
		printf("{\"command\":\"read\",\"ok\":true,\"address\":\"0x%08lx\","
		       "\"bytes\":%lu,\"file\":\"%s\",\"seconds\":%.3f}\n",
		       addr, len, out, now_s() - t0);
	else if (!rc.quiet)
		printf("read %lu bytes from 0x%08lx into %s in %.2f s\n", len,
		       addr, out, now_s() - t0);
	ret = ROM_EXIT_OK;
out:
	free(buf);
	return ret;
}

/* ---- write ---------------------------------------------------------------- */

static bool touches_stub(uint32_t addr, size_t len)
{
	return addr < SYSBOOT_STUB_BASE + SYSBOOT_STUB_SIZE &&
	       addr + len > SYSBOOT_STUB_BASE;
}

static const char *stub_refusal =
	"touches the boot stub (0x08000000-0x08001FFF, pages 0-3): refusing, "
	"because a board without BOOT0 access cannot be recovered from a "
	"broken stub; pass --allow-stub-erase if this is really meant";

int cmd_write(int argc, char **argv)
{
	static const struct option longopts[] = {
		COMMON_LONG_OPTIONS,
		{ "address", required_argument, NULL, OPT_ADDRESS },
		{ "allow-stub-erase", no_argument, NULL, OPT_ALLOW_STUB },
		{ 0 } };
	static const char *use = "FILE [--address ADDR] [--allow-stub-erase] " ROM_CONNECT_USAGE;
	struct rom_common rc = { 0 };
	struct progress_ops po;
	struct flash_image im = { 0 };
	struct session s;
	struct write_stats ws;
	unsigned long addr = SYSBOOT_HEADER_ADDR;
	struct load_opts lo = { .raw = false };
	bool allow_stub = false;
	char err[768];
	enum op_status st;
	int c, r, ret;
	double t0 = now_s();

	optind = 0;
	while ((c = getopt_long(argc, argv, "p:b:h", longopts, NULL)) != -1) {
		if (c == OPT_ADDRESS) {
			if (!rom_parse_u32(optarg, &addr)) {
				fprintf(stderr, "sysboot %s: bad address '%s'\n",
					argv[0], optarg);
				return ROM_EXIT_USAGE;
			}
			/* Only an address makes a raw binary acceptable. */
			lo.raw = true;
			continue;
		}
		if (c == OPT_ALLOW_STUB) {
			allow_stub = true;
			continue;
		}
		if (!rom_common_opt(&rc, argv[0], c, optarg, use, &r))
			return r;
	}
	if (argc - optind != 1)
		return rom_usage(argv[0], use);
	if ((r = rom_check_connect(&rc, argv[0])))
		return r;
	lo.raw_base = (uint32_t)addr;
	st = flash_image_load(&im, argv[optind], &lo, err, sizeof(err));
	if (st != OP_OK)
		return rom_fail(&rc, argv[0], st, err);
	if (touches_stub(im.base, im.len) && !allow_stub) {
		snprintf(err, sizeof(err), "%s at 0x%08x %s", argv[optind],
			 im.base, stub_refusal);
		ret = rom_fail(&rc, argv[0], OP_ERR_INPUT, err);
		goto out;
	}
	rom_progress_init(&po, &rc);
	st = session_open(&s, &rc.co, err, sizeof(err));
	if (st != OP_OK) {
		ret = rom_fail(&rc, argv[0], st, err);
		goto out;
	}
	st = flash_write_image(&s, &im, NULL, NULL, &po, NULL, &ws, err,
			       sizeof(err));
	if (st != OP_OK)
		explain_refusal(&s, argv[0], st, err, sizeof(err));
	session_close(&s);
	if (st != OP_OK) {
		ret = rom_fail(&rc, argv[0], st, err);
		goto out;
	}
	if (rc.json)
		printf("{\"command\":\"write\",\"ok\":true,\"address\":\"0x%08x\","
		       "\"bytes\":%zu,\"pages_erased\":%u,\"blocks_written\":%u,"
		       "\"blocks_skipped\":%u,\"seconds\":%.3f}\n", im.base,
		       im.len, ws.pages_erased, ws.blocks_written,
		       ws.blocks_skipped, now_s() - t0);
	else if (!rc.quiet)
		printf("wrote %zu bytes at 0x%08x (%u pages erased, %u blocks "
		       "written, %u skipped) in %.2f s\n", im.len, im.base,
		       ws.pages_erased, ws.blocks_written, ws.blocks_skipped,
		       now_s() - t0);
	ret = ROM_EXIT_OK;
out:
	flash_image_free(&im);
	return ret;
}

/* ---- erase --------------------------------------------------------------- */

int cmd_erase(int argc, char **argv)
{
	static const struct option longopts[] = {
		COMMON_LONG_OPTIONS,
		{ "pages", required_argument, NULL, OPT_PAGES },
		{ "mass", no_argument, NULL, OPT_MASS },
		{ "bank", required_argument, NULL, OPT_BANK },
		{ "allow-stub-erase", no_argument, NULL, OPT_ALLOW_STUB },
		{ 0 } };
	static const char *use = "(--pages A-B | --mass | --bank N) [--allow-stub-erase] "
		ROM_CONNECT_USAGE;
	struct rom_common rc = { 0 };
	struct session s;
	const char *pages_arg = NULL;
	unsigned long first = 0, last = 0, bank = 0;
	bool mass = false, allow_stub = false;
	uint16_t *pages = NULL;
	char err[768], what[96];
	enum op_status st;
	int c, r, ret, modes;
	double t0 = now_s();

	optind = 0;
	while ((c = getopt_long(argc, argv, "p:b:h", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_PAGES: pages_arg = optarg; continue;
		case OPT_MASS: mass = true; continue;
		case OPT_ALLOW_STUB: allow_stub = true; continue;
		case OPT_BANK:
			if (!rom_parse_u32(optarg, &bank) || (bank != 1 && bank != 2)) {
				fprintf(stderr, "sysboot %s: --bank takes 1 or 2\n",
					argv[0]);
				return ROM_EXIT_USAGE;
			}
			continue;
		}
		if (!rom_common_opt(&rc, argv[0], c, optarg, use, &r))
			return r;
	}
	modes = !!pages_arg + mass + !!bank;
	if (argc != optind || modes != 1)
		return rom_usage(argv[0], use);
	if (pages_arg) {
		char *dash = strchr(pages_arg, '-'), a[32];

		snprintf(a, sizeof(a), "%.*s", dash ? (int)(dash - pages_arg) : 31,
			 pages_arg);
		if (!rom_parse_u32(a, &first) ||
		    !rom_parse_u32(dash ? dash + 1 : a, &last) || first > last ||
		    last >= 2 * STM32_FLASH_PAGES_PER_BANK) {
			fprintf(stderr, "sysboot %s: bad page range '%s' (pages "
				"are 0 to %u, 2 KB each)\n", argv[0], pages_arg,
				2 * STM32_FLASH_PAGES_PER_BANK - 1);
			return ROM_EXIT_USAGE;
		}
	}
	if (!allow_stub && (mass || bank == 1 || (pages_arg && first < SYSBOOT_STUB_PAGES))) {
		snprintf(err, sizeof(err), "this erase %s", stub_refusal);
		return rom_fail(&rc, argv[0], OP_ERR_USAGE, err);
	}
	if ((r = rom_check_connect(&rc, argv[0])))
		return r;
	st = session_open(&s, &rc.co, err, sizeof(err));
	if (st != OP_OK)
		return rom_fail(&rc, argv[0], st, err);
	if (pages_arg) {
		unsigned long p;

		pages = calloc(last - first + 1, sizeof(*pages));
		if (!pages) {
			ret = rom_fail(&rc, argv[0], OP_ERR_INTERNAL, "out of memory");
			goto out;
		}
		for (p = first; p <= last; p++)
			pages[p - first] = (uint16_t)p;
		st = s.ops->erase_pages(&s, pages, last - first + 1);
		snprintf(what, sizeof(what), "pages %lu-%lu", first, last);
	} else if (mass) {
		st = s.ops->erase_special(&s, BL_ERASE_MASS);
		snprintf(what, sizeof(what), "the whole flash");
	} else {
		st = s.ops->erase_special(&s, bank == 1 ? BL_ERASE_BANK1 :
					  BL_ERASE_BANK2);
		snprintf(what, sizeof(what), "bank %lu", bank);
	}
	if (st != OP_OK) {
		snprintf(err, sizeof(err), "%s", s.err);
		explain_refusal(&s, argv[0], st, err, sizeof(err));
		ret = rom_fail(&rc, argv[0], st, err);
		goto out;
	}
	if (rc.json)
		printf("{\"command\":\"erase\",\"ok\":true,\"erased\":\"%s\","
		       "\"seconds\":%.3f}\n", what, now_s() - t0);
	else if (!rc.quiet)
		printf("erased %s in %.2f s\n", what, now_s() - t0);
	ret = ROM_EXIT_OK;
out:
	session_close(&s);
	free(pages);
	return ret;
}

/* ---- go ---------------------------------------------------------------- */

int cmd_go(int argc, char **argv)
{
	static const char *use = "[ADDR] " ROM_CONNECT_USAGE;
	struct rom_common rc = { 0 };
	struct session s;
	unsigned long addr = STM32_FLASH_BASE;
	char err[768];
	enum op_status st;
	int r;

	if (!rom_common_only(argc, argv, &rc, use, &r))
		return r;
	if (argc - optind > 1)
		return rom_usage(argv[0], use);
	if (argc - optind == 1 && !rom_parse_u32(argv[optind], &addr)) {
		fprintf(stderr, "sysboot %s: bad address '%s'\n", argv[0],
			argv[optind]);
		return ROM_EXIT_USAGE;
	}
	if ((r = rom_check_connect(&rc, argv[0])))
		return r;
	st = session_open(&s, &rc.co, err, sizeof(err));
	if (st != OP_OK)
		return rom_fail(&rc, argv[0], st, err);
	st = close_after(&s, s.ops->go(&s, (uint32_t)addr), err, sizeof(err));
	if (st != OP_OK)
		return rom_fail(&rc, argv[0], st, err);
	if (rc.json)
		printf("{\"command\":\"go\",\"ok\":true,\"address\":\"0x%08lx\"}\n",
		       addr);
	else if (!rc.quiet)
		printf("started the code at 0x%08lx\n", addr);
	return ROM_EXIT_OK;
}

/* ---- protect / unprotect ------------------------------------------------- */

static int protect_common(int argc, char **argv, bool protect)
{
	static const struct option longopts[] = {
		COMMON_LONG_OPTIONS,
		{ "stub", no_argument, NULL, OPT_STUB },
		{ "readout", no_argument, NULL, OPT_READOUT },
		{ "write", no_argument, NULL, OPT_WRITE },
		{ "yes-erase-everything", no_argument, NULL, OPT_YES_ERASE },
		{ 0 } };
	const char *use = protect ? "(--stub | --readout) " ROM_CONNECT_USAGE :
		"(--write | --readout --yes-erase-everything) " ROM_CONNECT_USAGE;
	struct rom_common rc = { 0 };
	struct session s;
	bool stub = false, readout = false, wr = false, yes = false;
	const struct bl_ops *ops;
	char err[768];
	const char *done;
	enum op_status st;
	int c, r;

	optind = 0;
	while ((c = getopt_long(argc, argv, "p:b:h", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_STUB: stub = true; continue;
		case OPT_READOUT: readout = true; continue;
		case OPT_WRITE: wr = true; continue;
		case OPT_YES_ERASE: yes = true; continue;
		}
		if (!rom_common_opt(&rc, argv[0], c, optarg, use, &r))
			return r;
	}
	if (argc != optind)
		return rom_usage(argv[0], use);
	if (protect ? (stub + readout != 1 || wr || yes) :
	    (wr + readout != 1 || stub || (wr && yes)))
		return rom_usage(argv[0], use);
	if (!protect && readout && !yes)
		return rom_fail(&rc, argv[0], OP_ERR_USAGE,
				"readout unprotect MASS-ERASES THE WHOLE FLASH "
				"(RM0351 3.5.1: going back to RDP level 0 erases "
				"the stub, the application and all data) and the "
				"board then has no firmware at all; add "
				"--yes-erase-everything if that is what you want");
	if ((r = rom_check_connect(&rc, argv[0])))
		return r;
	ops = bl_ops_for_port(rc.co.port);
	if (protect ? (stub ? !ops->write_protect : !ops->readout_protect) :
	    (wr ? !ops->write_unprotect : !ops->readout_unprotect)) {
		snprintf(err, sizeof(err), "%s %s is not possible on %s: %s",
			 argv[0], stub ? "--stub" : wr ? "--write" : "--readout",
			 rc.co.port, ops->cannot);
		return rom_fail(&rc, argv[0], OP_ERR_USAGE, err);
	}
	if (!protect && readout && !rc.quiet)
		fprintf(stderr, "sysboot: warning: removing readout protection "
			"erases the whole flash\n");
	st = session_open(&s, &rc.co, err, sizeof(err));
	if (st != OP_OK)
		return rom_fail(&rc, argv[0], st, err);
	if (protect && stub) {
		uint8_t pages[SYSBOOT_STUB_PAGES];
		unsigned i;

		for (i = 0; i < SYSBOOT_STUB_PAGES; i++)
			pages[i] = (uint8_t)i;
		st = s.ops->write_protect(&s, pages, SYSBOOT_STUB_PAGES);
		done = "write-protected the boot stub (pages 0-3, 0x08000000-"
		       "0x08001FFF); the chip resets to load the option bytes";
	} else if (protect) {
		st = s.ops->readout_protect(&s);
		done = "set readout protection (RDP level 1); the chip resets "
		       "to load the option bytes, and from now on the ROM "
		       "bootloader refuses reads";
	} else if (wr) {
		st = s.ops->write_unprotect(&s);
		done = "removed write protection from every page; the chip "
		       "resets to load the option bytes";
	} else {
		st = s.ops->readout_unprotect(&s);
		done = "removed readout protection: the flash has been "
		       "mass-erased and the chip resets";
	}
	st = close_after(&s, st, err, sizeof(err));
	if (st != OP_OK)
		return rom_fail(&rc, argv[0], st, err);
	if (rc.json) {
		printf("{\"command\":\"%s\",\"ok\":true,\"result\":", argv[0]);
		json_str(stdout, done);
		printf("}\n");
	} else if (!rc.quiet) {
		printf("%s\n", done);
	}
	return ROM_EXIT_OK;
}

int cmd_protect(int argc, char **argv)
{
	return protect_common(argc, argv, true);
}

int cmd_unprotect(int argc, char **argv)
{
	return protect_common(argc, argv, false);
}
