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
 * be recovered from a broken stub.
 */
#include "update.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "formats.h"
#include "sysboot/crc32.h"
#include "sysboot/image.h"
#include "sysboot/stm32l476.h"

#define ROM_STARTUP_MS     300u    /* AN2606: 55 ms with LSE; margin */
#define SYNC_TOTAL_MS      4000u
#define SYNC_TRY_MS        100u
#define BLOCK              AN3155_MAX_DATA
#define FLASH_END          (STM32_FLASH_BASE + STM32_FLASH_SIZE)

double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

enum op_status op_from_an(enum an_status st)
{
	switch (st) {
	case AN_OK: return OP_OK;
	case AN_ERR_NACK: return OP_ERR_NACK;
	case AN_ERR_TIMEOUT: return OP_ERR_TIMEOUT;
	case AN_ERR_NO_ANSWER: return OP_ERR_NO_ANSWER;
	case AN_ERR_LINK: return OP_ERR_LINK;
	case AN_ERR_PROTOCOL: return OP_ERR_PROTOCOL;
	case AN_ERR_WRONG_CHIP: return OP_ERR_WRONG_CHIP;
	case AN_ERR_ARG: return OP_ERR_USAGE;
	case AN_ERR_INTR: return OP_ERR_INTERRUPTED;
	}
	return OP_ERR_INTERNAL;
}

static enum op_status an_fail(struct session *s, enum an_status st,
			      char *err, size_t errlen)
{
	snprintf(err, errlen, "%s", an3155_error(&s->an));
	return op_from_an(st);
}

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

/* ---- Connecting ---------------------------------------------------------- */

void session_close(struct session *s)
{
	transport_close(s->tp);
	s->tp = NULL;
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

enum op_status session_open(struct session *s, const struct connect_opts *co,
			    char *err, size_t errlen)
{
	unsigned baud = co->baud ? co->baud : TRANSPORT_DEFAULT_BAUD;
	unsigned sync_ms = co->sync_ms ? co->sync_ms : SYNC_TOTAL_MS;
	const char *cmd = co->enter_cmd ? co->enter_cmd : DEFAULT_ENTER_CMD;
	char msg[160];
	enum tp_status ts;
	enum an_status st;

	memset(s, 0, sizeof(*s));
	if (!transport_baud_supported(baud)) {
		snprintf(err, errlen, "unsupported baud rate %u (AN3155 "
			 "documents 1200 to 115200)", baud);
		return OP_ERR_USAGE;
	}
	/* (a) The application listens at 115200 8N1. */
	ts = transport_open(&s->tp, co->port,
			    co->no_enter ? baud : TRANSPORT_DEFAULT_BAUD,
			    co->no_enter ? TP_PARITY_EVEN : TP_PARITY_NONE,
			    err, errlen);
	if (ts != TP_OK)
		return ts == TP_ERR_CLOSED ? OP_ERR_LINK : OP_ERR_PORT;
	an3155_init(&s->an, s->tp);
	if (co->resume) {
		st = an3155_resync(&s->an);
		if (st != AN_OK)
			goto fail_an;
	}
	if (!co->no_enter) {
		if (transport_write(s->tp, cmd, strlen(cmd)) != TP_OK ||
		    transport_drain(s->tp) != TP_OK) {
			snprintf(err, errlen, "%s", transport_error(s->tp));
			goto fail_link;
		}
		/* AN2606: the ROM takes 55 ms (LSE) to 2.56 s to start;
		 * the sync below keeps trying for the rest. */
		sleep_ms(co->rom_startup_ms ? co->rom_startup_ms : ROM_STARTUP_MS);
		if (transport_set_line(s->tp, baud, TP_PARITY_EVEN) != TP_OK) {
			snprintf(err, errlen, "%s", transport_error(s->tp));
			session_close(s);
			return OP_ERR_PORT;
		}
	}
	st = an3155_sync(&s->an, sync_ms / SYNC_TRY_MS, SYNC_TRY_MS);
	if (st != AN_OK) {
		if (st == AN_ERR_NO_ANSWER && !co->no_enter)
			snprintf(err, errlen, "%s (sent the enter command %s%s)",
				 an3155_error(&s->an),
				 co->enter_cmd ? "given by --enter-cmd" :
				 "\"bootloader\"",
				 ": use --no-enter if the board already runs the "
				 "ROM bootloader, or --enter-cmd for another "
				 "application");
		else
			snprintf(err, errlen, "%s", an3155_error(&s->an));
		goto fail;
	}
	/* (b) Who is there. */
	st = an3155_get(&s->an);
	if (st != AN_OK)
		goto fail_an;
	s->chip.protocol = s->an.bl_version;
	st = an3155_get_id(&s->an, &s->chip.pid);
	if (st != AN_OK)
		goto fail_an;
	if (an3155_check_id(s->chip.pid, msg, sizeof(msg)) != AN_OK) {
		snprintf(err, errlen, "%s on %s", msg, co->port);
		session_close(s);
		return OP_ERR_WRONG_CHIP;
	}
	st = an3155_get_version(&s->an, &s->chip.version, s->chip.opt);
	if (st != AN_OK)
		goto fail_an;
	return OP_OK;
fail_an:
	snprintf(err, errlen, "%s", an3155_error(&s->an));
fail:
	session_close(s);
	return op_from_an(st);
fail_link:
	session_close(s);
	return OP_ERR_LINK;
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

static bool all_ff(const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] != 0xFF)
			return false;
	return true;
}

/* The flash already holds these bytes (the ACK of an earlier write was lost). */
static bool already_written(struct session *s, uint32_t addr, const uint8_t *buf, size_t n)
{
	uint8_t back[BLOCK];

	return an3155_read(&s->an, addr, back, n) == AN_OK && memcmp(back, buf, n) == 0;
}

/*
 * Write one block, padded with 0xFF to whole double words. A line that
 * damages one byte in a thousand spoils a quarter of all 256-byte frames
 * but a sixteenth of 64-byte ones, so a block that fails after the
 * client's retries is tried again in SMALL_BLOCK pieces.
 */
#define SMALL_BLOCK 64u

static enum an_status write_block(struct session *s, const struct flash_image *im,
				  uint32_t addr, size_t n)
{
	uint8_t buf[BLOCK];
	size_t padded = (n + STM32_FLASH_DWORD - 1) & ~(size_t)(STM32_FLASH_DWORD - 1), off;
	enum an_status st;

	memset(buf, 0xFF, sizeof(buf));
	memcpy(buf, im->data + (addr - im->base), n);
	st = an3155_write(&s->an, addr, buf, padded);
	if ((st != AN_ERR_NACK && st != AN_ERR_TIMEOUT && st != AN_ERR_PROTOCOL) ||
	    padded <= SMALL_BLOCK)
		return st;
	for (off = 0; off < padded; off += SMALL_BLOCK) {
		size_t len = padded - off < SMALL_BLOCK ? padded - off : SMALL_BLOCK;

		st = an3155_write(&s->an, addr + (uint32_t)off, buf + off, len);
		if (st == AN_ERR_NACK && already_written(s, addr + (uint32_t)off, buf + off, len))
			st = AN_OK;
		if (st != AN_OK)
			return st;
	}
	return AN_OK;
}

/*
 * A block that still fails after the client's retries may have been half
 * written: a lost byte can make the ROM take the next command's bytes as
 * data, and flash takes a double word only once (RM0351 3.3.7). Erase its
 * page and write the page again from its start, a bounded number of times;
 * the header is still written last, so the board stays safe throughout.
 */
#define PAGE_REWRITES 4u

static enum an_status rewrite_page(struct session *s, enum an_status failed, uint32_t *addr,
				   uint32_t start, struct write_stats *ws)
{
	uint16_t page = (uint16_t)flash_page_of(*addr);
	uint32_t page_base = STM32_FLASH_BASE + page * STM32_FLASH_PAGE_SIZE;

	if ((failed != AN_ERR_NACK && failed != AN_ERR_TIMEOUT) || ws->pages_rewritten >= PAGE_REWRITES)
		return failed;
	if (an3155_erase_pages(&s->an, &page, 1) != AN_OK)
		return failed;
	ws->pages_rewritten++;
	*addr = page_base > start ? page_base : start;
	return AN_OK;
}

enum op_status flash_write_image(struct session *s, const struct flash_image *im,
				 const uint32_t *erase_first_page_addr,
				 const uint32_t *last_block,
				 const struct progress_ops *po,
				 volatile sig_atomic_t *stop,
				 struct write_stats *ws, char *err, size_t errlen)
{
	unsigned first, last, p, n = 0, head = ~0u;
	uint16_t *pages = NULL;
	uint32_t start, end, addr, held = 0;
	bool have_held = false;
	enum an_status st;
	enum op_status ret = OP_OK;
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
	if (!pages) {
		snprintf(err, errlen, "out of memory");
		return OP_ERR_INTERNAL;
	}
	if (erase_first_page_addr) {
		head = flash_page_of(*erase_first_page_addr);
		if (head >= first && head <= last)
			pages[n++] = (uint16_t)head;
	}
	for (p = first; p <= last; p++)
		if (p != head)
			pages[n++] = (uint16_t)p;

	t0 = now_s();
	pbegin(po, "erase", n);
	for (p = 0; p < n; p++) {
		/* One page per command for the first, so the header page is
		 * gone before anything else changes; then in chunks of 8 to
		 * keep Ctrl-C responsive. */
		unsigned chunk = p == 0 ? 1 : (n - p > 8 ? 8 : n - p);

		if (stop && *stop) {
			ret = OP_ERR_INTERRUPTED;
			goto out_end;
		}
		st = an3155_erase_pages(&s->an, pages + p, chunk);
		if (st != AN_OK) {
			ret = an_fail(s, st, err, errlen);
			goto out_end;
		}
		p += chunk - 1;
		ws->pages_erased = p + 1;
		pstep(po, p + 1);
	}
	pend(po);
	ws->erase_s = now_s() - t0;

	/* (d) Write in 256-byte blocks aligned to 256, skipping erased ones. */
	t0 = now_s();
	start = im->base;
	end = im->base + (uint32_t)im->len;
	pbegin(po, "write", im->len);
	addr = start;
write_from:
	for (; addr < end;) {
		uint32_t next = (addr & ~(uint32_t)(BLOCK - 1)) + BLOCK;
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
			st = write_block(s, im, addr, len);
			if (st != AN_OK) {
				if (rewrite_page(s, st, &addr, start, ws) == AN_OK)
					continue;
				ret = an_fail(s, st, err, errlen);
				goto out_end;
			}
			ws->blocks_written++;
		}
		addr = next;
		pstep(po, addr - start);
	}
	/* (e) The block holding the header goes last. */
	if (have_held) {
		uint32_t next = (held & ~(uint32_t)(BLOCK - 1)) + BLOCK;

		if (stop && *stop) {
			ret = OP_ERR_INTERRUPTED;
			goto out_end;
		}
		if (next > end)
			next = end;
		st = write_block(s, im, held, next - held);
		if (st != AN_OK) {
			addr = held;
			if (rewrite_page(s, st, &addr, start, ws) == AN_OK)
				goto write_from;
			ret = an_fail(s, st, err, errlen);
			goto out_end;
		}
		ws->blocks_written++;
	}
	ws->write_s = now_s() - t0;
out_end:
	pend(po);
	free(pages);
	return ret;
}

enum op_status flash_read(struct session *s, uint32_t addr, uint8_t *buf,
			  size_t len, const struct progress_ops *po,
			  char *err, size_t errlen)
{
	size_t done = 0;
	enum an_status st;

	pbegin(po, "read", len);
	while (done < len) {
		size_t n = len - done > BLOCK ? BLOCK : len - done;

		st = an3155_read(&s->an, addr + (uint32_t)done, buf + done, n);
		if (st != AN_OK) {
			pend(po);
			return an_fail(s, st, err, errlen);
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
	const uint8_t *raw, *body;
	enum sysboot_image_status ist;
	uint32_t sp, rv;

	if (im->base > SYSBOOT_HEADER_ADDR ||
	    im->base + im->len < SYSBOOT_HEADER_ADDR + SYSBOOT_IMAGE_HEADER_SIZE) {
		snprintf(err, errlen, "%s is not a sysboot application image: it "
			 "has nothing at 0x%08x where the image header goes "
			 "(build one with sysboot image build)", path,
			 SYSBOOT_HEADER_ADDR);
		return OP_ERR_INPUT;
	}
	raw = im->data + (SYSBOOT_HEADER_ADDR - im->base);
	ist = sysboot_image_check_header(raw, hdr);
	if (ist != SYSBOOT_IMAGE_OK) {
		snprintf(err, errlen, "%s is not a sysboot application image: "
			 "no valid image header at 0x%08x (%s); build one with "
			 "sysboot image build", path, SYSBOOT_HEADER_ADDR,
			 sysboot_image_status_str(ist));
		return OP_ERR_INPUT;
	}
	if (!in_flash(im->base, im->len)) {
		snprintf(err, errlen, "%s does not fit the flash: 0x%08x-0x%08zx "
			 "goes past 0x%08x", path, im->base,
			 im->base + im->len - 1, FLASH_END - 1);
		return OP_ERR_INPUT;
	}
	if (hdr->load_address + hdr->image_size > im->base + im->len) {
		snprintf(err, errlen, "%s is truncated: its header announces "
			 "%u bytes of body at 0x%08x but the file ends at "
			 "0x%08zx", path, hdr->image_size, hdr->load_address,
			 im->base + im->len);
		return OP_ERR_INPUT;
	}
	body = im->data + (hdr->load_address - im->base);
	if (sysboot_crc32(body, hdr->image_size) != hdr->image_crc32) {
		snprintf(err, errlen, "%s is corrupt: the body does not match the "
			 "CRC-32 in its header", path);
		return OP_ERR_INPUT;
	}
	sp = (uint32_t)body[0] | (uint32_t)body[1] << 8 |
	     (uint32_t)body[2] << 16 | (uint32_t)body[3] << 24;
	rv = (uint32_t)body[4] | (uint32_t)body[5] << 8 |
	     (uint32_t)body[6] << 16 | (uint32_t)body[7] << 24;
	ist = sysboot_image_check_vectors(hdr, sp, rv);
	if (ist != SYSBOOT_IMAGE_OK) {
		snprintf(err, errlen, "%s would not start: %s", path,
			 sysboot_image_status_str(ist));
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

enum op_status wait_banner(struct session *s, const char *banner,
			   unsigned timeout_ms, char *version, size_t vlen,
			   bool *rom_answered, char *err, size_t errlen)
{
	char text[4096];
	size_t len = 0;
	double deadline = now_s() + timeout_ms / 1000.0;
	enum an_status st;

	*rom_answered = false;
	if (transport_set_line(s->tp, TRANSPORT_DEFAULT_BAUD, TP_PARITY_NONE) != TP_OK) {
		snprintf(err, errlen, "%s", transport_error(s->tp));
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
		ts = transport_read(s->tp, text + len, 1, 50, &got);
		if (got) {
			if (text[len] != '\0')
				len++;
			text[len] = '\0';
			if (find_version(text, banner, version, vlen))
				return OP_OK;
			continue;
		}
		if (ts != TP_ERR_TIMEOUT) {
			snprintf(err, errlen, "%s", transport_error(s->tp));
			return OP_ERR_LINK;
		}
	}
	/* No banner: is the ROM bootloader there instead? */
	if (transport_set_line(s->tp, TRANSPORT_DEFAULT_BAUD, TP_PARITY_EVEN) != TP_OK) {
		snprintf(err, errlen, "%s", transport_error(s->tp));
		return OP_ERR_PORT;
	}
	st = an3155_sync(&s->an, 5, 100);
	if (st == AN_OK) {
		*rom_answered = true;
		snprintf(err, errlen, "image rejected by the boot stub: after Go "
			 "0x%08x the ROM bootloader answers on %s instead of the "
			 "application (run sysboot info --no-enter to look at the "
			 "board)", SYSBOOT_STUB_BASE, transport_name(s->tp));
		return OP_ERR_VERIFY;
	}
	text[len] = '\0';
	snprintf(err, errlen, "verification failed: no \"%sX.Y.Z\" banner from "
		 "the application on %s within %u ms, and no answer from the ROM "
		 "bootloader either%s%.60s", banner, transport_name(s->tp),
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
	enum an_status ast;

	memset(res, 0, sizeof(*res));
	memset(&s, 0, sizeof(s));
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
	ast = an3155_go(&s.an, SYSBOOT_STUB_BASE);
	/*
	 * A Go whose last ACK the line lost may well have started the stub:
	 * what answers next tells, the application's banner or the ROM.
	 */
	if (ast != AN_OK && !(uo->verify == VERIFY_STUB &&
			      (ast == AN_ERR_TIMEOUT || ast == AN_ERR_PROTOCOL))) {
		ret = an_fail(&s, ast, err, errlen);
		goto out;
	}
	if (uo->verify == VERIFY_STUB) {
		bool rom = false;

		ret = wait_banner(&s, uo->banner ? uo->banner : DEFAULT_BANNER,
				  uo->banner_timeout_ms ? uo->banner_timeout_ms : 5000,
				  res->running_version,
				  sizeof(res->running_version), &rom, err, errlen);
		res->rejected = rom;
		if (ret != OP_OK && rom && ast != AN_OK)
			snprintf(err, errlen, "the ROM bootloader did not acknowledge Go "
				 "0x%08x and still answers on %s: the image was written but "
				 "not started", SYSBOOT_STUB_BASE, transport_name(s.tp));
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
	res->retries = s.an.retry_count;
	free(back);
	session_close(&s);
out_image:
	flash_image_free(&im);
	res->total_s = now_s() - t_start;
	return ret;
}
