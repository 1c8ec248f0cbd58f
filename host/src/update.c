/*
 * update.c - the field update over the ROM bootloader, and the steps the
 * other ROM commands share with it.
 *
 * Why the order matters: the boot stub runs the application only when the
 * header at 0x08002000 is valid and the body matches its CRC. Erasing the
 * header's page before anything else and writing the header after
 * everything else means that at every instant of an update the flash holds
 * either no header (the stub starts the ROM bootloader, AN2606, and the
 * same command can simply be run again) or the complete new image: never a
 * valid-looking old header over a half-written new body. The stub's pages
 * are never touched unless asked for, because a board without BOOT0 cannot
 * be recovered from a broken stub. These rules are written once, here, for
 * both protocols: the session's operations (bootloader.h) reach the ROM
 * over AN3155 or USB DFU alike.
 */
#include "update.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "appimage.h"
#include "boardstate.h"
#include "formats.h"
#include "sysboot/crc32.h"
#include "sysboot/dfuse.h"
#include "sysboot/image.h"
#include "sysboot/stm32l476.h"

#define FLASH_END          (STM32_FLASH_BASE + STM32_FLASH_SIZE)

/* ---- Input files ------------------------------------------------------- */

void flash_image_free(struct flash_image *im)
{
	free(im->data);
	im->data = NULL;
	im->len = 0;
}

enum op_status flash_image_load(struct flash_image *im, const char *path,
				const struct load_opts *lo, char *err, size_t errlen)
{
	struct segments segs;
	struct load_info info;
	struct sb_error e;
	uint32_t lo_addr;
	uint64_t end;

	memset(im, 0, sizeof(*im));
	if (segments_load(&segs, path, lo, &info, &e) < 0) {
		snprintf(err, errlen, "%s", e.msg);
		return OP_ERR_INPUT;
	}
	/* Refused before any board is touched: DFU 1.1 B.1 names the device
	 * a file is for, and 0xFFFF means any. */
	if (info.format == FW_DFU &&
	    ((info.dfu_vid != DFUSE_VID && info.dfu_vid != 0xFFFF) ||
	     (info.dfu_pid != DFUSE_PID && info.dfu_pid != 0xFFFF))) {
		snprintf(err, errlen, "%s is a DfuSe file for another chip: its "
			 "suffix names USB device %04x:%04x, and this chip's ROM "
			 "bootloader is %04x:%04x; refusing it before anything is "
			 "erased", path, info.dfu_vid, info.dfu_pid, DFUSE_VID,
			 DFUSE_PID);
		segments_free(&segs);
		return OP_ERR_INPUT;
	}
	if (info.warning[0])
		fprintf(stderr, "sysboot: warning: %s\n", info.warning);
	segments_span(&segs, &lo_addr, &end);
	if (lo_addr < STM32_FLASH_BASE || end > STM32_FLASH_BASE + STM32_FLASH_SIZE) {
		snprintf(err, errlen, "%s: data at 0x%08x..0x%08x lies outside the flash "
			 "(0x%08x..0x%08x)", path, lo_addr, (uint32_t)(end - 1), STM32_FLASH_BASE,
			 STM32_FLASH_BASE + STM32_FLASH_SIZE - 1);
		segments_free(&segs);
		return OP_ERR_INPUT;
	}
	/* Gaps read as erased flash; blocks that are all 0xFF are not written. */
	im->data = malloc((size_t)(end - lo_addr));
	if (!im->data) {
		snprintf(err, errlen, "out of memory");
		segments_free(&segs);
		return OP_ERR_INPUT;
	}
	segments_read(&segs, lo_addr, im->data, (uint32_t)(end - lo_addr), 0xFF);
	im->base = lo_addr;
	im->len = (size_t)(end - lo_addr);
	segments_free(&segs);
	return OP_OK;
}

/* ---- Flash geometry (RM0351 3.3.1: 2 KB pages, two banks of 256) ------- */

unsigned flash_page_of(uint32_t addr)
{
	return (addr - STM32_FLASH_BASE) / STM32_FLASH_PAGE_SIZE;
}

void flash_pages(uint32_t addr, size_t len, unsigned *first, unsigned *last)
{
	*first = flash_page_of(addr);
	*last = flash_page_of(addr + (uint32_t)len - 1);
}

static bool in_flash(uint32_t addr, size_t len)
{
	return addr >= STM32_FLASH_BASE && addr < FLASH_END &&
	       len <= FLASH_END - addr;
}

/* ---- Writing and reading ------------------------------------------------ */

static void pbegin(const struct progress_ops *po, const char *phase, size_t total)
{
	if (po && po->begin)
		po->begin(po->ctx, phase, total);
}

static void pstep(const struct progress_ops *po, size_t done)
{
	if (po && po->step)
		po->step(po->ctx, done);
}

static void pend(const struct progress_ops *po)
{
	if (po && po->end)
		po->end(po->ctx);
}

#define SMALL_BLOCK 64u

static bool all_ff(const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] != 0xFF)
			return false;
	return true;
}

/* The flash already holds these bytes (the answer to an earlier write was lost). */
static bool already_written(struct session *s, uint32_t addr, const uint8_t *buf, size_t n)
{
	uint8_t back[SMALL_BLOCK];

	return s->ops->read(s, addr, back, n) == OP_OK && memcmp(back, buf, n) == 0;
}

/*
 * Write one block, padded with 0xFF to whole double words. A serial line
 * that damages one byte in a thousand spoils a quarter of all 256-byte
 * frames but a sixteenth of 64-byte ones, so over such a line
 * (split_failed_blocks) a block that fails after the backend's retries is
 * tried again in SMALL_BLOCK pieces.
 */
static enum op_status write_block(struct session *s, const struct flash_image *im,
				  uint8_t *buf, uint32_t addr, size_t n)
{
	size_t padded = (n + STM32_FLASH_DWORD - 1) & ~(size_t)(STM32_FLASH_DWORD - 1), off;
	enum op_status st;

	memset(buf, 0xFF, s->block);
	memcpy(buf, im->data + (addr - im->base), n);
	st = s->ops->write(s, addr, buf, padded);
	if ((st != OP_ERR_NACK && st != OP_ERR_TIMEOUT && st != OP_ERR_PROTOCOL) ||
	    padded <= SMALL_BLOCK || !s->ops->split_failed_blocks)
		return st;
	for (off = 0; off < padded; off += SMALL_BLOCK) {
		size_t len = padded - off < SMALL_BLOCK ? padded - off : SMALL_BLOCK;

		st = s->ops->write(s, addr + (uint32_t)off, buf + off, len);
		if (st == OP_ERR_NACK && already_written(s, addr + (uint32_t)off, buf + off, len))
			st = OP_OK;
		if (st != OP_OK)
			return st;
	}
	return OP_OK;
}

/*
 * A block that still fails after the client's retries may have been half
 * written: a lost byte can make the ROM take the next command's bytes as
 * data, and flash takes a double word only once (RM0351 3.3.7). Erase its
 * page and write the page again from its start, a bounded number of times;
 * the header is still written last, so the board stays safe throughout.
 */
#define PAGE_REWRITES 4u

static enum op_status rewrite_page(struct session *s, enum op_status failed, uint32_t *addr,
				   uint32_t start, struct write_stats *ws)
{
	uint16_t page = (uint16_t)flash_page_of(*addr);
	uint32_t page_base = STM32_FLASH_BASE + page * STM32_FLASH_PAGE_SIZE;
	char saved[sizeof(s->err)];

	if ((failed != OP_ERR_NACK && failed != OP_ERR_TIMEOUT) || ws->pages_rewritten >= PAGE_REWRITES)
		return failed;
	/* The write's message is the one worth reporting if the erase fails. */
	memcpy(saved, s->err, sizeof(saved));
	if (s->ops->erase_pages(s, &page, 1) != OP_OK) {
		memcpy(s->err, saved, sizeof(saved));
		return failed;
	}
	ws->pages_rewritten++;
	*addr = page_base > start ? page_base : start;
	return OP_OK;
}

static enum op_status fail_with(struct session *s, enum op_status st, char *err,
				size_t errlen)
{
	snprintf(err, errlen, "%s", s->err);
	return st;
}

/*
 * Erase pages[0..n) in order: in chunks of 8 to keep Ctrl-C responsive,
 * the first one alone when it is the header's page, so that it is gone
 * before anything else changes.
 */
static enum op_status erase_list(struct session *s, const uint16_t *pages, unsigned n,
				 bool first_alone, const struct progress_ops *po,
				 volatile sig_atomic_t *stop, struct write_stats *ws,
				 char *err, size_t errlen)
{
	unsigned p, chunk;
	enum op_status st;

	for (p = 0; p < n; p += chunk) {
		chunk = p == 0 && first_alone ? 1 : (n - p > 8 ? 8 : n - p);
		if (stop && *stop)
			return OP_ERR_INTERRUPTED;
		st = s->ops->erase_pages(s, pages + p, chunk);
		if (st != OP_OK)
			return fail_with(s, st, err, errlen);
		ws->pages_erased += chunk;
		pstep(po, ws->pages_erased);
	}
	return OP_OK;
}

/*
 * Bank 2 is cleared by one bank erase (MER2: 22 ms, DS10198) rather than
 * 256 page erases (5.6 s) when the image needs every page of it anyway and
 * the header's page is elsewhere, and the protocol has such a command
 * (DfuSe has not: its pages are erased one by one, each a Ctrl-C point).
 * Never bank 1: it holds the boot stub.
 * Page numbers, like addresses, are those of a ROM running with the banks
 * not swapped (FB_MODE 0: a BOOT0 boot or sysboot's entry).
 */
static bool erase_bank2_whole(const struct session *s, unsigned first, unsigned last,
			      unsigned head)
{
	return s->ops->bank_erase && first <= STM32_FLASH_PAGES_PER_BANK &&
	       last == 2 * STM32_FLASH_PAGES_PER_BANK - 1 &&
	       (head < STM32_FLASH_PAGES_PER_BANK || head == ~0u);
}

enum op_status flash_write_image(struct session *s, const struct flash_image *im,
				 const uint32_t *erase_first_page_addr,
				 const uint32_t *last_block,
				 const struct progress_ops *po,
				 volatile sig_atomic_t *stop,
				 struct write_stats *ws, char *err, size_t errlen)
{
	const uint32_t block = (uint32_t)s->block;
	unsigned first, last, p, n = 0, n_paged, head = ~0u;
	uint16_t *pages = NULL;
	uint8_t *buf = NULL;
	uint32_t start, end, limit, addr, held = 0;
	bool have_held = false;
	enum op_status st, ret = OP_OK;
	double t0;

	memset(ws, 0, sizeof(*ws));
	if (im->base % STM32_FLASH_DWORD) {
		snprintf(err, errlen, "address 0x%08x is not a multiple of 8: "
			 "flash is programmed in double words (RM0351 3.3.7)",
			 im->base);
		return OP_ERR_USAGE;
	}
	if (!in_flash(im->base, im->len)) {
		snprintf(err, errlen, "0x%08x-0x%08zx is not inside the flash "
			 "(0x%08x-0x%08x)", im->base, im->base + im->len - 1,
			 STM32_FLASH_BASE, FLASH_END - 1);
		return OP_ERR_INPUT;
	}
	/* (c) Erase: the chosen page first, then the others in order. */
	flash_pages(im->base, im->len, &first, &last);
	pages = calloc(last - first + 1, sizeof(*pages));
	buf = malloc(block);
	if (!pages || !buf) {
		snprintf(err, errlen, "out of memory");
		ret = OP_ERR_INTERNAL;
		goto out;
	}
	if (erase_first_page_addr) {
		head = flash_page_of(*erase_first_page_addr);
		if (head >= first && head <= last)
			pages[n++] = (uint16_t)head;
		else
			head = ~0u;
	}
	for (p = first; p <= last; p++)
		if (p != head)
			pages[n++] = (uint16_t)p;
	/* Bank 2's pages come last in the list: leave them to a bank erase. */
	n_paged = erase_bank2_whole(s, first, last, head) ? n - STM32_FLASH_PAGES_PER_BANK : n;

	t0 = now_s();
	pbegin(po, "erase", n);
	ret = erase_list(s, pages, n_paged, head != ~0u, po, stop, ws, err, errlen);
	if (ret == OP_OK && n_paged < n) {
		if (stop && *stop) {
			ret = OP_ERR_INTERRUPTED;
		} else {
			st = s->ops->erase_special(s, BL_ERASE_BANK2);
			if (st != OP_OK) {
				ret = fail_with(s, st, err, errlen);
			} else {
				ws->pages_erased = n;
				ws->bank_erases++;
				pstep(po, n);
			}
		}
	}
	if (ret != OP_OK)
		goto out_end;
	pend(po);
	ws->erase_s = now_s() - t0;

	/* (d) Write in blocks aligned to their size, skipping erased ones. */
	t0 = now_s();
	start = im->base;
	end = im->base + (uint32_t)im->len;
	limit = end;
	pbegin(po, "write", im->len);
	addr = start;
write_from:
	for (; addr < limit;) {
		uint32_t next = (addr & ~(block - 1)) + block;
		size_t len;

		if (next > end)
			next = end;
		len = next - addr;
		if (stop && *stop) {
			ret = OP_ERR_INTERRUPTED;
			goto out_end;
		}
		if (last_block && *last_block >= addr && *last_block < next) {
			held = addr;
			have_held = true;
		} else if (all_ff(im->data + (addr - im->base), len)) {
			ws->blocks_skipped++;
		} else {
			st = write_block(s, im, buf, addr, len);
			if (st != OP_OK) {
				if (rewrite_page(s, st, &addr, start, ws) == OP_OK)
					continue;
				ret = fail_with(s, st, err, errlen);
				goto out_end;
			}
			ws->blocks_written++;
		}
		addr = next;
		pstep(po, addr - start);
	}
	/* (e) The block holding the header goes last. */
	if (have_held) {
		uint32_t next = (held & ~(block - 1)) + block;

		if (stop && *stop) {
			ret = OP_ERR_INTERRUPTED;
			goto out_end;
		}
		if (next > end)
			next = end;
		st = write_block(s, im, buf, held, next - held);
		if (st != OP_OK) {
			addr = held;
			if (rewrite_page(s, st, &addr, start, ws) == OP_OK) {
				/* Only the header's page was erased again. */
				uint32_t page_end = STM32_FLASH_BASE +
					(flash_page_of(held) + 1) * STM32_FLASH_PAGE_SIZE;

				limit = page_end < end ? page_end : end;
				goto write_from;
			}
			ret = fail_with(s, st, err, errlen);
			goto out_end;
		}
		ws->blocks_written++;
	}
	ws->write_s = now_s() - t0;
out_end:
	pend(po);
out:
	free(buf);
	free(pages);
	return ret;
}

enum op_status flash_read(struct session *s, uint32_t addr, uint8_t *buf,
			  size_t len, const struct progress_ops *po,
			  char *err, size_t errlen)
{
	size_t done = 0;
	enum op_status st;

	pbegin(po, "read", len);
	while (done < len) {
		size_t n = len - done > s->block ? s->block : len - done;

		st = s->ops->read(s, addr + (uint32_t)done, buf + done, n);
		if (st != OP_OK) {
			pend(po);
			return fail_with(s, st, err, errlen);
		}
		done += n;
		pstep(po, done);
	}
	pend(po);
	return OP_OK;
}

/* ---- Checking the image -------------------------------------------------- */

enum op_status update_check_image(const struct flash_image *im, const char *path,
				  bool allow_stub_erase,
				  struct sysboot_image_header *hdr,
				  char *err, size_t errlen)
{
	struct image_report r;
	struct segments segs;
	struct sb_error e;
	char why[256];

	if (im->base > SYSBOOT_HEADER_ADDR ||
	    im->base + im->len < SYSBOOT_HEADER_ADDR + SYSBOOT_IMAGE_HEADER_SIZE) {
		snprintf(err, errlen, "%s is not a sysboot application image: it "
			 "has nothing at 0x%08x where the image header goes "
			 "(build one with sysboot image build)", path,
			 SYSBOOT_HEADER_ADDR);
		return OP_ERR_INPUT;
	}
	if (!in_flash(im->base, im->len)) {
		snprintf(err, errlen, "%s does not fit the flash: 0x%08x-0x%08zx "
			 "goes past 0x%08x", path, im->base,
			 im->base + im->len - 1, FLASH_END - 1);
		return OP_ERR_INPUT;
	}
	/* The same checks as `image show` and the stub (appimage.c, image.c). */
	segments_init(&segs);
	if (segments_add(&segs, im->base, im->data, (uint32_t)im->len, &e) < 0) {
		snprintf(err, errlen, "%s", e.msg);
		return OP_ERR_INTERNAL;
	}
	image_inspect(&segs, &r);
	segments_free(&segs);
	*hdr = r.hdr;
	image_problem(&r, why, sizeof(why));
	if (!r.body_checked) {
		snprintf(err, errlen, "%s is not a sysboot application image: %s; build "
			 "one with sysboot image build", path, why);
		return OP_ERR_INPUT;
	}
	if (hdr->load_address + hdr->image_size > im->base + im->len) {
		snprintf(err, errlen, "%s is truncated: its header announces "
			 "%u bytes of body at 0x%08x but the file ends at "
			 "0x%08zx", path, hdr->image_size, hdr->load_address,
			 im->base + im->len);
		return OP_ERR_INPUT;
	}
	if (r.status != SYSBOOT_IMAGE_OK) {
		snprintf(err, errlen, "%s %s: %s", path,
			 r.status == SYSBOOT_IMAGE_BAD_VECTORS ? "would not start" : "is corrupt",
			 why);
		return OP_ERR_INPUT;
	}
	if (im->base < SYSBOOT_HEADER_ADDR && !allow_stub_erase) {
		snprintf(err, errlen, "%s overlaps the boot stub (0x%08x-0x%08x "
			 "from 0x%08x): refusing to erase the stub, without which "
			 "a board with no BOOT0 access cannot be recovered; pass "
			 "--allow-stub-erase if this is really meant", path,
			 SYSBOOT_STUB_BASE, SYSBOOT_HEADER_ADDR - 1, im->base);
		return OP_ERR_INPUT;
	}
	return OP_OK;
}

/* ---- Verification --------------------------------------------------------- */

/* Find banner followed by X.Y.Z in text; copy "X.Y.Z" to version. */
static bool find_version(const char *text, const char *banner, char *version,
			 size_t vlen)
{
	const char *p = strstr(text, banner);
	unsigned a, b, c;
	int used = 0;

	while (p) {
		const char *v = p + strlen(banner);

		if (sscanf(v, "%u.%u.%u%n", &a, &b, &c, &used) == 3) {
			/* Only when the line has ended, so "1.2.3" is complete. */
			if (v[used] == '\0')
				return false;
			snprintf(version, vlen, "%u.%u.%u", a, b, c);
			return true;
		}
		p = strstr(p + 1, banner);
	}
	return false;
}

/* The stub refused the image: say so for the port the ROM came back on. */
static enum op_status rejected(struct session *s, char *err, size_t errlen)
{
	char text[160];
	uint32_t why;

	if (port_is_usb(s->port))
		snprintf(err, errlen, "image rejected by the boot stub: after "
			 "leaving DFU for 0x%08x the ROM bootloader's DFU device "
			 "came back on %s instead of the application starting (run "
			 "sysboot info --port %s to look at the board)",
			 SYSBOOT_STUB_BASE, s->port, s->port);
	else
		snprintf(err, errlen, "image rejected by the boot stub: after Go "
			 "0x%08x the ROM bootloader answers on %s instead of the "
			 "application (run sysboot info --no-enter to look at the "
			 "board)", SYSBOOT_STUB_BASE, s->port);
	if (board_rom_entry(s, &why)) {
		size_t used = strlen(err);

		board_rom_entry_str(why, text, sizeof(text));
		snprintf(err + used, errlen - used, "; the board says why: %s", text);
	}
	return OP_ERR_VERIFY;
}

enum op_status wait_banner(struct session *s, const char *banner,
			   unsigned timeout_ms, char *version, size_t vlen,
			   bool *rom_answered, char *err, size_t errlen)
{
	struct transport *app = s->app;
	char text[4096];
	size_t len = 0;
	double deadline = now_s() + timeout_ms / 1000.0;

	*rom_answered = false;
	if (!app) {
		snprintf(err, errlen, "cannot look for the application's banner: "
			 "no serial line to the application (give --enter-port, "
			 "or --verify=readback)");
		return OP_ERR_USAGE;
	}
	if (transport_set_line(app, TRANSPORT_DEFAULT_BAUD, TP_PARITY_NONE) != TP_OK) {
		snprintf(err, errlen, "%s", transport_error(app));
		return OP_ERR_PORT;
	}
	while (now_s() < deadline) {
		size_t got = 0;
		enum tp_status ts;

		if (len >= sizeof(text) - 1) {
			/* Keep the tail: the banner may straddle. */
			memmove(text, text + sizeof(text) / 2, len - sizeof(text) / 2);
			len -= sizeof(text) / 2;
		}
		ts = transport_read(app, text + len, 1, 50, &got);
		if (got) {
			if (text[len] != '\0')
				len++;
			text[len] = '\0';
			if (find_version(text, banner, version, vlen))
				return OP_OK;
			continue;
		}
		if (ts != TP_ERR_TIMEOUT) {
			snprintf(err, errlen, "%s", transport_error(app));
			return OP_ERR_LINK;
		}
	}
	/* No banner: is the ROM bootloader there instead? */
	if (s->ops->rom_back(s, 500)) {
		*rom_answered = true;
		return rejected(s, err, errlen);
	}
	text[len] = '\0';
	snprintf(err, errlen, "verification failed: no \"%sX.Y.Z\" banner from "
		 "the application on %s within %u ms, and no answer from the ROM "
		 "bootloader either%s%.60s", banner, transport_name(app),
		 timeout_ms, len ? "; the board said: " : "",
		 len ? text : "");
	return OP_ERR_VERIFY;
}

/* ---- The update -------------------------------------------------------- */

bool update_worth_redoing(enum op_status st, const struct update_result *res)
{
	if (st == OP_ERR_VERIFY)
		return res->rejected;
	return res->erase_started &&
	       (st == OP_ERR_TIMEOUT || st == OP_ERR_NACK || st == OP_ERR_PROTOCOL);
}

enum op_status update_run(const char *path, const struct update_opts *uo,
			  struct update_result *res, char *err, size_t errlen)
{
	struct flash_image im;
	struct sysboot_image_header hdr;
	struct session s;
	uint32_t header = SYSBOOT_HEADER_ADDR;
	enum op_status ret;
	double t_start = now_s(), t0;
	char want[32];
	uint8_t *back = NULL;
	bool go_unsure;

	memset(res, 0, sizeof(*res));
	memset(&s, 0, sizeof(s));
	if (uo->verify == VERIFY_STUB && port_is_usb(uo->co.port) && !uo->co.enter_port) {
		snprintf(err, errlen, "--verify=stub watches the application's banner on "
			 "its serial line, and over USB there is none: give --enter-port "
			 "PORT, or use --verify=readback");
		return OP_ERR_USAGE;
	}
	{
		/* An image file (.img) is raw bytes from the header slot on. */
		const struct load_opts lo = { .raw = true, .raw_base = SYSBOOT_HEADER_ADDR };

		ret = flash_image_load(&im, path, &lo, err, errlen);
	}
	if (ret != OP_OK)
		return ret;
	ret = update_check_image(&im, path, uo->allow_stub_erase, &hdr, err, errlen);
	if (ret != OP_OK)
		goto out_image;
	res->image_version = hdr.app_version;
	res->image_base = im.base;
	res->bytes = im.len;
	snprintf(want, sizeof(want), "%u.%u.%u",
		 SYSBOOT_VERSION_MAJOR(hdr.app_version),
		 SYSBOOT_VERSION_MINOR(hdr.app_version),
		 SYSBOOT_VERSION_PATCH(hdr.app_version));

	t0 = now_s();
	ret = session_open(&s, &uo->co, err, errlen);
	res->connect_s = now_s() - t0;
	if (ret != OP_OK)
		goto out_image;
	res->chip = s.chip;
	if (uo->stop && *uo->stop) {
		ret = OP_ERR_INTERRUPTED;
		goto out;
	}

	/* (c)-(e): the header page first, the header block last. */
	res->erase_started = true;
	ret = flash_write_image(&s, &im, &header, &header, uo->po, uo->stop,
				&res->ws, err, errlen);
	/*
	 * Refused from the first erase on: under readout protection the ROM
	 * refuses everything, and the board is as it was (nothing to redo).
	 */
	if (ret == OP_ERR_NACK && res->ws.pages_erased == 0 && board_readout_protected(&s)) {
		snprintf(err, errlen, "cannot update: %s", board_rdp1_text);
		res->erase_started = false;
		goto out;
	}
	if (ret != OP_OK)
		goto out;

	/* (f) */
	t0 = now_s();
	if (uo->verify == VERIFY_READBACK) {
		back = malloc(im.len);
		if (!back) {
			ret = OP_ERR_INTERNAL;
			snprintf(err, errlen, "out of memory");
			goto out;
		}
		ret = flash_read(&s, im.base, back, im.len, uo->po, err, errlen);
		if (ret != OP_OK)
			goto out;
		if (memcmp(back, im.data, im.len) != 0) {
			size_t i = 0;

			while (back[i] == im.data[i])
				i++;
			snprintf(err, errlen, "verification failed: the flash at "
				 "0x%08zx reads 0x%02x, the image has 0x%02x",
				 im.base + i, back[i], im.data[i]);
			ret = OP_ERR_VERIFY;
			goto out;
		}
		res->confirmed = true;
	}
	ret = s.ops->go(&s, SYSBOOT_STUB_BASE);
	/*
	 * A Go whose last answer the line lost may well have started the
	 * stub: what answers next tells, the application's banner or the ROM.
	 */
	go_unsure = uo->verify == VERIFY_STUB && (ret == OP_ERR_TIMEOUT || ret == OP_ERR_PROTOCOL);
	if (ret != OP_OK && !go_unsure) {
		snprintf(err, errlen, "%s", s.err);
		goto out;
	}
	/* Over USB the ROM's return can be watched without a word to the
	 * application: the stub starts the ROM when it refuses the image. */
	if (uo->verify == VERIFY_READBACK && s.ops->passive_watch &&
	    s.ops->rom_back(&s, uo->banner_timeout_ms ? uo->banner_timeout_ms :
			    DEFAULT_ROM_WATCH_MS)) {
		res->confirmed = false;
		res->rejected = true;
		ret = rejected(&s, err, errlen);
		goto out;
	}
	if (uo->verify == VERIFY_STUB) {
		bool rom = false;

		ret = wait_banner(&s, uo->banner ? uo->banner : DEFAULT_BANNER,
				  uo->banner_timeout_ms ? uo->banner_timeout_ms : 5000,
				  res->running_version,
				  sizeof(res->running_version), &rom, err, errlen);
		res->rejected = rom;
		if (ret != OP_OK && rom && go_unsure)
			snprintf(err, errlen, "the ROM bootloader did not acknowledge Go "
				 "0x%08x and still answers on %s: the image was written but "
				 "not started", SYSBOOT_STUB_BASE, s.port);
		if (ret != OP_OK)
			goto out;
		if (strcmp(res->running_version, want) != 0) {
			snprintf(err, errlen, "verification failed: the board "
				 "runs v%s after the update, the image is v%s",
				 res->running_version, want);
			ret = OP_ERR_VERIFY;
			goto out;
		}
		res->confirmed = true;
	}
	res->verify_s = now_s() - t0;
out:
	if (s.ops)
		res->retries = s.ops->retries(&s);
	free(back);
	session_close(&s);
out_image:
	flash_image_free(&im);
	res->total_s = now_s() - t_start;
	return ret;
}
