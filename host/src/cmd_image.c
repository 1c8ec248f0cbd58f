/*
 * cmd_image.c - `sysboot image`: make an application image from a linked
 * application, and check one.
 *
 * The header (common/include/sysboot/image.h) is what lets the boot stub
 * refuse a half-written update, so it is computed here from exactly the
 * bytes that will be in flash: the application from SYSBOOT_APP_BASE to its
 * last byte, gaps and the tail to a double word filled with 0xFF, which is
 * what erased flash reads.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd_rom.h"
#include "segments.h"
#include "sysboot/crc32.h"
#include "sysboot/image.h"

static int image_usage(void)
{
	fprintf(stderr,
		"usage: sysboot image build INPUT --version X.Y.Z -o OUTPUT [--address ADDR] [--json]\n"
		"       sysboot image show FILE [--json]\n"
		"INPUT is the application linked at 0x%08x (ELF, Intel HEX, or binary with --address);\n"
		"OUTPUT is .img/.bin (raw from 0x%08x) or .hex.\n",
		SYSBOOT_APP_BASE, SYSBOOT_HEADER_ADDR);
	return ROM_EXIT_USAGE;
}

static int fail(bool json, const char *msg)
{
	if (json) {
		printf("{\"ok\":false,\"error\":");
		json_str(stdout, msg);
		printf("}\n");
	}
	fprintf(stderr, "sysboot: error: %s\n", msg);
	return ROM_EXIT_INPUT;
}

static bool parse_version(const char *s, uint32_t *v)
{
	unsigned a, b, c;
	char tail;

	if (sscanf(s, "%u.%u.%u%c", &a, &b, &c, &tail) != 3 || a > 0xFFFF || b > 0xFF || c > 0xFF)
		return false;
	*v = SYSBOOT_VERSION(a, b, c);
	return true;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* Header and body as flash will hold them, in one buffer from the header. */
static int write_output(const char *path, const uint8_t *img, uint32_t len, char *err, size_t errlen)
{
	FILE *f;

	if (ends_with(path, ".hex")) {
		struct segments s;
		int ret;

		segments_init(&s);
		/* The header slot's padding is erased flash: leave it out. */
		if (segments_add(&s, SYSBOOT_HEADER_ADDR, img, SYSBOOT_IMAGE_HEADER_SIZE) < 0 ||
		    segments_add(&s, SYSBOOT_APP_BASE, img + SYSBOOT_HEADER_SLOT, len - SYSBOOT_HEADER_SLOT) < 0) {
			segments_free(&s);
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		ret = ihex_write(&s, path, err, errlen);
		segments_free(&s);
		return ret;
	}
	if (!ends_with(path, ".img") && !ends_with(path, ".bin")) {
		snprintf(err, errlen, "%s: unknown output format (use .img, .bin or .hex)", path);
		return -1;
	}
	f = fopen(path, "wb");
	if (!f || fwrite(img, 1, len, f) != len || fclose(f) != 0) {
		snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
		if (f)
			fclose(f);
		return -1;
	}
	return 0;
}

static int image_build(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "version", required_argument, NULL, 'V' },
		{ "output", required_argument, NULL, 'o' },
		{ "address", required_argument, NULL, 'a' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	const char *out = NULL, *in;
	uint32_t version = 0, lo, end, body_len, initial_sp, reset;
	unsigned long raw_base = SYSBOOT_APP_BASE;
	bool have_version = false, json = false;
	struct sysboot_image_header hdr;
	enum sysboot_image_status st;
	struct segments s;
	uint8_t *img = NULL;
	char err[512], msg[600];
	int c, ret = ROM_EXIT_INPUT;
	size_t i;

	optind = 1;
	while ((c = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
		switch (c) {
		case 'V':
			if (!parse_version(optarg, &version)) {
				fprintf(stderr, "sysboot: error: bad version '%s': use MAJOR.MINOR.PATCH\n", optarg);
				return ROM_EXIT_USAGE;
			}
			have_version = true;
			break;
		case 'o':
			out = optarg;
			break;
		case 'a':
			if (!rom_parse_u32(optarg, &raw_base))
				return image_usage();
			break;
		case 'j':
			json = true;
			break;
		default:
			return image_usage();
		}
	}
	if (optind != argc - 1 || !out || !have_version)
		return image_usage();
	in = argv[optind];
	if (segments_load(&s, in, (uint32_t)raw_base, err, sizeof(err)) < 0)
		return fail(json, err);
	segments_span(&s, &lo, &end);
	for (i = 0; i < s.count; i++) {
		const struct segment *g = &s.seg[i];

		if (g->addr < SYSBOOT_APP_BASE) {
			snprintf(msg, sizeof(msg),
				 "%s: data at 0x%08x lies below the application slot (0x%08x): %s; link the application at 0x%08x",
				 in, g->addr, SYSBOOT_APP_BASE,
				 g->addr < SYSBOOT_STUB_BASE + SYSBOOT_STUB_SIZE && g->addr >= SYSBOOT_STUB_BASE ?
				 "it would overwrite the boot stub" :
				 g->addr >= SYSBOOT_HEADER_ADDR ?
				 "it is in the image header slot (is this already an image?)" : "outside the flash",
				 SYSBOOT_APP_BASE);
			goto fail;
		}
		if ((uint64_t)g->addr + g->len > STM32_FLASH_BASE + STM32_FLASH_SIZE) {
			snprintf(msg, sizeof(msg), "%s: data at 0x%08x..0x%08x runs past the end of flash (0x%08x)",
				 in, g->addr, g->addr + g->len - 1, STM32_FLASH_BASE + STM32_FLASH_SIZE - 1);
			goto fail;
		}
	}
	if (lo != SYSBOOT_APP_BASE) {
		snprintf(msg, sizeof(msg), "%s: the application must start with its vector table at 0x%08x, not 0x%08x",
			 in, SYSBOOT_APP_BASE, lo);
		goto fail;
	}
	body_len = (end - SYSBOOT_APP_BASE + 7u) & ~7u;
	img = malloc(SYSBOOT_HEADER_SLOT + body_len);
	if (!img) {
		snprintf(msg, sizeof(msg), "out of memory");
		goto fail;
	}
	memset(img, 0xFF, SYSBOOT_HEADER_SLOT);
	segments_read(&s, SYSBOOT_APP_BASE, img + SYSBOOT_HEADER_SLOT, body_len, 0xFF);
	sysboot_image_header_init(&hdr, body_len, sysboot_crc32(img + SYSBOOT_HEADER_SLOT, body_len), version);
	memcpy(&initial_sp, img + SYSBOOT_HEADER_SLOT, 4);
	memcpy(&reset, img + SYSBOOT_HEADER_SLOT + 4, 4);
	st = sysboot_image_check_vectors(&hdr, initial_sp, reset);
	if (st != SYSBOOT_IMAGE_OK) {
		snprintf(msg, sizeof(msg), "%s: %s (initial SP 0x%08x, reset vector 0x%08x)",
			 in, sysboot_image_status_str(st), initial_sp, reset);
		goto fail;
	}
	sysboot_image_header_encode(img, &hdr);
	if (write_output(out, img, SYSBOOT_HEADER_SLOT + body_len, err, sizeof(err)) < 0) {
		snprintf(msg, sizeof(msg), "%s", err);
		goto fail;
	}
	if (json)
		printf("{\"ok\":true,\"output\":"), json_str(stdout, out),
		printf(",\"size\":%u,\"crc32\":\"0x%08x\",\"version\":\"%u.%u.%u\"}\n",
		       body_len, hdr.image_crc32, SYSBOOT_VERSION_MAJOR(version),
		       SYSBOOT_VERSION_MINOR(version), SYSBOOT_VERSION_PATCH(version));
	else
		printf("%s: application %u.%u.%u, %u bytes at 0x%08x, CRC-32 0x%08x\n", out,
		       SYSBOOT_VERSION_MAJOR(version), SYSBOOT_VERSION_MINOR(version),
		       SYSBOOT_VERSION_PATCH(version), body_len, SYSBOOT_APP_BASE, hdr.image_crc32);
	ret = ROM_EXIT_OK;
	goto out;
fail:
	ret = fail(json, msg);
out:
	free(img);
	segments_free(&s);
	return ret;
}

static int image_show(int argc, char **argv)
{
	bool json = argc > 2 && strcmp(argv[argc - 1], "--json") == 0;
	const char *path = argc > 1 ? argv[1] : NULL;
	uint8_t raw[SYSBOOT_IMAGE_HEADER_SIZE], *body = NULL;
	struct sysboot_image_header hdr;
	enum sysboot_image_status st;
	uint32_t sp = 0, reset = 0;
	struct segments s;
	char err[512], msg[600];
	int ret;

	if (!path || argc > 3 || (argc == 3 && !json))
		return image_usage();
	/* A raw image starts at the header. */
	if (segments_load(&s, path, SYSBOOT_HEADER_ADDR, err, sizeof(err)) < 0)
		return fail(json, err);
	segments_read(&s, SYSBOOT_HEADER_ADDR, raw, sizeof(raw), 0xFF);
	st = sysboot_image_check_header(raw, &hdr);
	if (st == SYSBOOT_IMAGE_OK) {
		body = malloc(hdr.image_size);
		if (!body) {
			segments_free(&s);
			return fail(json, "out of memory");
		}
		segments_read(&s, SYSBOOT_APP_BASE, body, hdr.image_size, 0xFF);
		if (sysboot_crc32(body, hdr.image_size) != hdr.image_crc32)
			st = SYSBOOT_IMAGE_BAD_CRC;
		memcpy(&sp, body, 4);
		memcpy(&reset, body + 4, 4);
		if (st == SYSBOOT_IMAGE_OK)
			st = sysboot_image_check_vectors(&hdr, sp, reset);
	}
	if (json)
		printf("{\"ok\":%s,\"status\":\"%s\",\"version\":\"%u.%u.%u\",\"size\":%u,\"crc32\":\"0x%08x\",\"load_address\":\"0x%08x\"}\n",
		       st == SYSBOOT_IMAGE_OK ? "true" : "false", sysboot_image_status_str(st),
		       SYSBOOT_VERSION_MAJOR(hdr.app_version), SYSBOOT_VERSION_MINOR(hdr.app_version),
		       SYSBOOT_VERSION_PATCH(hdr.app_version), hdr.image_size, hdr.image_crc32,
		       hdr.load_address);
	else
		printf("%s:\n  magic        0x%08x\n  format       %u\n  load address 0x%08x\n"
		       "  size         %u bytes\n  CRC-32       0x%08x\n  version      %u.%u.%u\n"
		       "  initial SP   0x%08x\n  reset vector 0x%08x\n  status       %s\n",
		       path, hdr.magic, hdr.format, hdr.load_address, hdr.image_size, hdr.image_crc32,
		       SYSBOOT_VERSION_MAJOR(hdr.app_version), SYSBOOT_VERSION_MINOR(hdr.app_version),
		       SYSBOOT_VERSION_PATCH(hdr.app_version), sp, reset, sysboot_image_status_str(st));
	ret = ROM_EXIT_OK;
	if (st != SYSBOOT_IMAGE_OK) {
		snprintf(msg, sizeof(msg), "%s: %s", path, sysboot_image_status_str(st));
		fprintf(stderr, "sysboot: error: %s\n", msg);
		ret = ROM_EXIT_INPUT;
	}
	free(body);
	segments_free(&s);
	return ret;
}

int cmd_image(int argc, char **argv)
{
	if (argc < 2)
		return image_usage();
	if (strcmp(argv[1], "build") == 0)
		return image_build(argc - 1, argv + 1);
	if (strcmp(argv[1], "show") == 0)
		return image_show(argc - 1, argv + 1);
	return image_usage();
}
