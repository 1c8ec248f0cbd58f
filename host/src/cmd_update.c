/*
 * cmd_update.c - `sysboot update IMAGE --port PORT`: the one-command field
 * update.
 *
 * Why it is a command of its own rather than a script of erase + write +
 * go: the safety of an update comes from the order of its steps (header
 * page erased first, header written last, see update.c) and from the
 * confirmation that the new application really runs, and a technician in
 * the field should not have to know either. Ctrl-C is honoured only at a
 * block boundary so the ROM is never left in the middle of a command.
 */
#include "cmd_rom.h"

#include <getopt.h>
#include <signal.h>
#include <string.h>

#include "sysboot/image.h"

/* Whole updates run when one breaks off on a bad line or the stub refuses
 * what was written (AN3155 has no end-to-end check; the stub's CRC is it). */
#define UPDATE_ATTEMPTS 3u

static volatile sig_atomic_t interrupted;

static void on_sigint(int sig)
{
	(void)sig;
	interrupted = 1;
}

static const char *use =
	"IMAGE --port PORT [--baud B] [--enter-cmd STRING | --no-enter] "
	"[--enter-port PORT] [--enter-exec CMD] [--dfu-wait MS] "
	"[--verify=stub|readback|none] [--banner TEXT] [--banner-timeout MS] "
	"[--allow-stub-erase] [--json]";

static void print_json(const struct update_result *r, const char *path,
		       const char *port, enum verify_mode v)
{
	printf("{\"command\":\"update\",\"ok\":true,\"image\":\"%s\",\"port\":\"%s\","
	       "\"version\":\"%u.%u.%u\",\"running_version\":\"%s\","
	       "\"verify\":\"%s\",\"confirmed\":%s,\"bytes\":%zu,"
	       "\"pages_erased\":%u,\"bank_erases\":%u,\"blocks_written\":%u,\"blocks_skipped\":%u,"
	       "\"pages_rewritten\":%u,\"attempts\":%u,\"retries\":%u,\"durations\":{\"connect\":%.3f,\"erase\":%.3f,"
	       "\"write\":%.3f,\"verify\":%.3f,\"total\":%.3f}}\n",
	       path, port, SYSBOOT_VERSION_MAJOR(r->image_version),
	       SYSBOOT_VERSION_MINOR(r->image_version),
	       SYSBOOT_VERSION_PATCH(r->image_version), r->running_version,
	       v == VERIFY_STUB ? "stub" : v == VERIFY_READBACK ? "readback" : "none",
	       r->confirmed ? "true" : "false", r->bytes, r->ws.pages_erased, r->ws.bank_erases,
	       r->ws.blocks_written, r->ws.blocks_skipped, r->ws.pages_rewritten, r->attempts, r->retries,
	       r->connect_s, r->ws.erase_s, r->ws.write_s, r->verify_s,
	       r->total_s);
}

int cmd_update(int argc, char **argv)
{
	static const struct option longopts[] = {
		COMMON_LONG_OPTIONS,
		{ "verify", required_argument, NULL, OPT_VERIFY },
		{ "allow-stub-erase", no_argument, NULL, OPT_ALLOW_STUB },
		{ "banner", required_argument, NULL, OPT_BANNER },
		{ "banner-timeout", required_argument, NULL, OPT_BANNER_TIMEOUT },
		{ 0 } };
	struct rom_common rc = { 0 };
	struct update_opts uo = { 0 };
	struct update_result res;
	struct progress_ops po;
	struct sigaction sa, old;
	unsigned long v;
	char err[1024];
	bool verify_given = false;
	enum op_status st;
	unsigned attempts;
	int c, r, code;

	optind = 0;
	uo.verify = VERIFY_STUB;
	while ((c = getopt_long(argc, argv, "p:b:h", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_VERIFY:
			if (!strcmp(optarg, "stub"))
				uo.verify = VERIFY_STUB;
			else if (!strcmp(optarg, "readback"))
				uo.verify = VERIFY_READBACK;
			else if (!strcmp(optarg, "none"))
				uo.verify = VERIFY_NONE;
			else {
				fprintf(stderr, "sysboot update: --verify takes "
					"stub, readback or none\n");
				return ROM_EXIT_USAGE;
			}
			verify_given = true;
			continue;
		case OPT_ALLOW_STUB:
			uo.allow_stub_erase = true;
			continue;
		case OPT_BANNER:
			uo.banner = optarg;
			continue;
		case OPT_BANNER_TIMEOUT:
			if (!rom_parse_u32(optarg, &v) || v == 0) {
				fprintf(stderr, "sysboot update: bad --banner-timeout "
					"'%s' (milliseconds)\n", optarg);
				return ROM_EXIT_USAGE;
			}
			uo.banner_timeout_ms = (unsigned)v;
			continue;
		}
		if (!rom_common_opt(&rc, "update", c, optarg, use, &code))
			return code;
	}
	if (argc - optind != 1)
		return rom_usage("update", use);
	if ((r = rom_check_connect(&rc, "update")))
		return r;
	/* Over USB without the application's serial line there is no banner
	 * to wait for: check by reading back, and by the ROM staying away. */
	if (!verify_given && port_is_usb(rc.co.port) && !rc.co.enter_port)
		uo.verify = VERIFY_READBACK;
	rom_progress_init(&po, &rc);
	uo.co = rc.co;
	uo.co.stop = &interrupted;
	uo.po = &po;
	uo.stop = &interrupted;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigint;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &old);
	st = update_run(argv[optind], &uo, &res, err, sizeof(err));
	/*
	 * The board waits in the ROM with no valid header: write everything
	 * again, bringing the ROM back in step first.
	 */
	for (attempts = 1; update_worth_redoing(st, &res) && attempts < UPDATE_ATTEMPTS &&
	     !interrupted; attempts++) {
		if (!rc.quiet && !rc.json)
			fprintf(stderr, "sysboot update: %s; running the update again\n", err);
		uo.co.no_enter = true;
		uo.co.resume = true;
		st = update_run(argv[optind], &uo, &res, err, sizeof(err));
		res.erase_started = true;
	}
	res.attempts = attempts;
	if (st != OP_OK && attempts > 1 && st != OP_ERR_INTERRUPTED) {
		char last[sizeof(err)];

		memcpy(last, err, sizeof(last));
		snprintf(err, sizeof(err), "%.700s (after %u attempts at the whole update); "
			 "the board holds no image its stub accepts, so it stays in the "
			 "ROM bootloader and the same command can be run again", last, attempts);
	}
	sigaction(SIGINT, &old, NULL);

	if (st == OP_ERR_INTERRUPTED) {
		snprintf(err, sizeof(err), res.erase_started ?
			 "interrupted: the board will start the ROM bootloader "
			 "at its next reset (the image header was not written); "
			 "run the same command again to finish" :
			 "interrupted before anything was erased: the board "
			 "keeps its previous application");
	}
	if (st != OP_OK)
		return rom_fail(&rc, "update", st, err);
	code = ROM_EXIT_OK;
	if (rc.json) {
		print_json(&res, argv[optind], rc.co.port, uo.verify);
	} else if (!rc.quiet) {
		printf("updated %s to v%u.%u.%u: %zu bytes, %u pages erased, %u "
		       "blocks written, %u skipped, %u retries, %.2f s\n",
		       rc.co.port, SYSBOOT_VERSION_MAJOR(res.image_version),
		       SYSBOOT_VERSION_MINOR(res.image_version),
		       SYSBOOT_VERSION_PATCH(res.image_version), res.bytes,
		       res.ws.pages_erased, res.ws.blocks_written,
		       res.ws.blocks_skipped, res.retries, res.total_s);
		if (uo.verify == VERIFY_STUB)
			printf("confirmed: the board runs v%s\n",
			       res.running_version);
		else if (uo.verify == VERIFY_READBACK && port_is_usb(rc.co.port))
			printf("confirmed: the flash reads back identical; left "
			       "DFU for the boot stub, and the ROM's DFU device did "
			       "not come back\n");
		else if (uo.verify == VERIFY_READBACK)
			printf("confirmed: the flash reads back identical; "
			       "started the boot stub\n");
	}
	return code;
}
