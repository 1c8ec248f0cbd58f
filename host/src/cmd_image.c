/*
 * cmd_image.c - `sysboot image build` and `sysboot image show`: the
 * command-line side of appimage.c.
 *
 * build turns a linked application into the file an update writes (header
 * in front, CRC over exactly what flash will hold); show lets a technician
 * or a CI job check such a file before it goes to the field, with the exit
 * code saying whether the stub would accept it.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "appimage.h"
#include "cmd_rom.h"
#include "formats.h"

const char cmd_image_help[] =
	"usage: sysboot image build INPUT --version X.Y.Z -o OUTPUT [--address ADDR] [--json]\n"
	"       sysboot image show FILE [--json]\n"
	"\n"
	"build: INPUT is the application linked with its vector table at 0x08002200\n"
	"  (ELF, Intel HEX, S-record, DfuSe, or a raw binary with --address ADDR).\n"
	"  OUTPUT's extension picks its format: .img/.bin (raw bytes from the header\n"
	"  at 0x08002000), .hex, .srec/.s19/.s37 or .dfu.\n"
	"show: prints the header of an image file (a raw .img/.bin starts at\n"
	"  0x08002000), checks the header CRC, the body CRC and the vectors, and\n"
	"  exits 8 when the boot stub would refuse the image.\n";

static int usage_error(const struct output *o, const char *why)
{
	fprintf(stderr, "%s", cmd_image_help);
	return out_error(o, SB_EXIT_USAGE, "%s", why);
}

static int load(const struct output *o, const char *path,
		const struct load_opts *lo, struct segments *s)
{
	struct load_info info;
	struct sb_error e;
	int ret = segments_load(s, path, lo, &info, &e);

	if (ret < 0)
		return out_error(o, sb_exit_from_error(ret), "%s", e.msg);
	if (info.warning[0])
		out_warning(o, "%s", info.warning);
	return 0;
}

static int image_build_cmd(int argc, char **argv, bool json)
{
	static const struct option opts[] = {
		{ "version", required_argument, NULL, 'V' },
		{ "output", required_argument, NULL, 'o' },
		{ "address", required_argument, NULL, 'a' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct load_opts lo = { .raw = false };
	struct sysboot_image_header hdr;
	struct segments app, img;
	struct output o;
	struct sb_error e;
	const char *out = NULL, *in;
	uint32_t version = 0;
	unsigned long addr;
	bool have_version = false;
	int c, ret;

	output_init(&o, "image build", json);
	segments_init(&app);
	segments_init(&img);
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'V':
			if (!image_parse_version(optarg, &version))
				return out_error(&o, SB_EXIT_USAGE,
						 "bad version '%s': use MAJOR.MINOR.PATCH (at most 65535.255.255)",
						 optarg);
			have_version = true;
			break;
		case 'o':
			out = optarg;
			break;
		case 'a':
			if (!rom_parse_u32(optarg, &addr))
				return out_error(&o, SB_EXIT_USAGE,
						 "bad address '%s' (decimal or 0x hex)", optarg);
			lo.raw = true;
			lo.raw_base = (uint32_t)addr;
			break;
		case 'j':
			o.json = true;
			break;
		case 'h':
			fputs(cmd_image_help, stdout);
			return SB_EXIT_OK;
		default:
			return usage_error(&o, "image build: unknown option or missing value");
		}
	}
	if (optind != argc - 1)
		return usage_error(&o, "image build: give exactly one INPUT file");
	if (!out)
		return usage_error(&o, "image build: -o OUTPUT is required");
	if (!have_version)
		return usage_error(&o, "image build: --version X.Y.Z is required");
	in = argv[optind];
	ret = load(&o, in, &lo, &app);
	if (ret)
		return ret;
	ret = image_build(&app, in, version, &img, &hdr, &e);
	if (ret == 0)
		ret = image_write(&img, out, &e);
	if (ret < 0) {
		ret = out_error(&o, sb_exit_from_error(ret), "%s", e.msg);
		goto out;
	}
	if (o.json) {
		struct json_obj j;
		char v[24];

		snprintf(v, sizeof(v), "%u.%u.%u", SYSBOOT_VERSION_MAJOR(version),
			 SYSBOOT_VERSION_MINOR(version), SYSBOOT_VERSION_PATCH(version));
		json_begin(&j, o.out);
		json_kv_str(&j, "command", o.cmd);
		json_kv_bool(&j, "ok", true);
		json_kv_str(&j, "output", out);
		json_kv_str(&j, "version", v);
		json_kv_int(&j, "size", hdr.image_size);
		json_kv_hex32(&j, "crc32", hdr.image_crc32);
		json_kv_hex32(&j, "load_address", hdr.load_address);
		json_end(&j);
	} else {
		printf("%s: application %u.%u.%u, %u bytes at 0x%08x, CRC-32 0x%08x\n",
		       out, SYSBOOT_VERSION_MAJOR(version), SYSBOOT_VERSION_MINOR(version),
		       SYSBOOT_VERSION_PATCH(version), hdr.image_size, SYSBOOT_APP_BASE,
		       hdr.image_crc32);
	}
	ret = SB_EXIT_OK;
out:
	segments_free(&app);
	segments_free(&img);
	return ret;
}

static void show_human(const char *path, const struct image_report *r)
{
	const struct sysboot_image_header *h = &r->hdr;

	printf("%s:\n", path);
	printf("  magic         0x%08x%s\n", h->magic,
	       h->magic == SYSBOOT_IMAGE_MAGIC ? " (SYBI)" : "");
	printf("  format        %u\n", h->format);
	printf("  header size   %u bytes\n", h->header_size);
	printf("  load address  0x%08x\n", h->load_address);
	printf("  size          %u bytes\n", h->image_size);
	printf("  CRC-32        0x%08x", h->image_crc32);
	if (r->body_checked)
		printf(" (computed 0x%08x)", r->body_crc_computed);
	printf("\n  version       %u.%u.%u\n", SYSBOOT_VERSION_MAJOR(h->app_version),
	       SYSBOOT_VERSION_MINOR(h->app_version), SYSBOOT_VERSION_PATCH(h->app_version));
	printf("  flags         0x%08x\n", h->flags);
	printf("  header CRC-32 0x%08x (computed 0x%08x)\n", h->header_crc32,
	       r->header_crc_computed);
	if (r->body_checked) {
		printf("  initial SP    0x%08x\n", r->initial_sp);
		printf("  reset vector  0x%08x\n", r->reset_vector);
	}
	printf("  status        %s\n", sysboot_image_status_str(r->status));
}

static void show_json(const char *path, const struct image_report *r)
{
	const struct sysboot_image_header *h = &r->hdr;
	struct json_obj j;
	char v[24];

	snprintf(v, sizeof(v), "%u.%u.%u", SYSBOOT_VERSION_MAJOR(h->app_version),
		 SYSBOOT_VERSION_MINOR(h->app_version), SYSBOOT_VERSION_PATCH(h->app_version));
	json_begin(&j, stdout);
	json_kv_str(&j, "command", "image show");
	json_kv_bool(&j, "ok", r->status == SYSBOOT_IMAGE_OK);
	json_kv_str(&j, "file", path);
	json_kv_str(&j, "status", sysboot_image_status_str(r->status));
	json_kv_hex32(&j, "magic", h->magic);
	json_kv_int(&j, "format", h->format);
	json_kv_int(&j, "header_size", h->header_size);
	json_kv_hex32(&j, "load_address", h->load_address);
	json_kv_int(&j, "size", h->image_size);
	json_kv_hex32(&j, "crc32", h->image_crc32);
	if (r->body_checked)
		json_kv_hex32(&j, "crc32_computed", r->body_crc_computed);
	json_kv_str(&j, "version", v);
	json_kv_hex32(&j, "flags", h->flags);
	json_kv_hex32(&j, "header_crc32", h->header_crc32);
	json_kv_hex32(&j, "header_crc32_computed", r->header_crc_computed);
	if (r->body_checked) {
		json_kv_hex32(&j, "initial_sp", r->initial_sp);
		json_kv_hex32(&j, "reset_vector", r->reset_vector);
	}
	json_end(&j);
}

static int image_show_cmd(int argc, char **argv, bool json)
{
	struct load_opts lo = { .raw = false, .raw_base = SYSBOOT_HEADER_ADDR };
	const char *path = NULL;
	struct image_report r;
	struct segments s;
	struct output o;
	int i, ret;

	output_init(&o, "image show", json);
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0) {
			o.json = true;
		} else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			fputs(cmd_image_help, stdout);
			return SB_EXIT_OK;
		} else if (argv[i][0] == '-' && argv[i][1]) {
			return usage_error(&o, "image show: unknown option");
		} else if (path) {
			return usage_error(&o, "image show: give exactly one FILE");
		} else {
			path = argv[i];
		}
	}
	if (!path)
		return usage_error(&o, "image show: give exactly one FILE");
	/* An image file is raw bytes from the header slot on. */
	lo.raw = fw_format_from_ext(path) == FW_BIN;
	ret = load(&o, path, &lo, &s);
	if (ret)
		return ret;
	image_inspect(&s, &r);
	segments_free(&s);
	if (o.json)
		show_json(path, &r);
	else
		show_human(path, &r);
	if (r.status != SYSBOOT_IMAGE_OK) {
		char why[256];

		/* The result object above already says which check failed. */
		image_problem(&r, why, sizeof(why));
		fprintf(stderr, "sysboot: error: %s: %s\n", path, why);
		return SB_EXIT_VERIFY;
	}
	return SB_EXIT_OK;
}

int cmd_image(int argc, char **argv)
{
	bool json = false;
	struct output o;

	/* `sysboot --json image ...` puts --json first. */
	while (argc > 1 && strcmp(argv[1], "--json") == 0) {
		json = true;
		argc--;
		argv++;
	}
	output_init(&o, "image", json);
	if (argc < 2)
		return usage_error(&o, "image: give a subcommand, build or show");
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		fputs(cmd_image_help, stdout);
		return SB_EXIT_OK;
	}
	if (strcmp(argv[1], "build") == 0)
		return image_build_cmd(argc - 1, argv + 1, json);
	if (strcmp(argv[1], "show") == 0)
		return image_show_cmd(argc - 1, argv + 1, json);
	return usage_error(&o, "image: unknown subcommand (build or show)");
}
