/*
 * fake_rom.c - the scripted ROM bootloader of fake_rom.h.
 *
 * Kept deliberately small and literal: each case is the byte sequence of
 * one AN3155 command, so a test failure points at the host, not at here.
 */
#include "fake_rom.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "sysboot/an3155.h"
#include "sysboot/crc32.h"
#include "sysboot/image.h"
#include "sysboot/romentry.h"
#include "sysboot/stm32l476.h"


static bool rx(struct fake_rom *r, uint8_t *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = read(r->fd, buf + done, len - done);

		if (n <= 0)
			return false;
		done += (size_t)n;
	}
	return true;
}

static void txb(struct fake_rom *r, uint8_t b)
{
	if (write(r->fd, &b, 1) != 1)
		return;
}

static bool rx_addr(struct fake_rom *r, uint32_t *addr)
{
	uint8_t a[AN3155_ADDRESS_FRAME];

	if (!rx(r, a, sizeof(a)))
		return false;
	if ((a[0] ^ a[1] ^ a[2] ^ a[3]) != a[4]) {
		txb(r, AN3155_NACK);
		return false;
	}
	*addr = get_be32(a);
	return true;
}

static uint8_t *flash_at(struct fake_rom *r, uint32_t addr, size_t len)
{
	if (addr == SYSBOOT_ROM_RECORD_ADDR && len <= sizeof(r->rom_record))
		return r->rom_record;
	if (addr < STM32_FLASH_BASE || addr - STM32_FLASH_BASE + len > FAKE_FLASH_SIZE)
		return NULL;
	return r->flash + (addr - STM32_FLASH_BASE);
}

/* What sysboot_enter_rom() leaves in SRAM2 for the host. */
static void record_rom_entry(struct fake_rom *r, uint32_t why)
{
	uint32_t word = SYSBOOT_ROM_MARKER | why, check = ~word;

	memcpy(r->rom_record, &word, 4);
	memcpy(r->rom_record + 4, &check, 4);
}


/* The reference application: "bootloader\r\n" hands over to the ROM. */
static void app_byte(struct fake_rom *r, uint8_t b)
{
	if (b == '\n') {
		if (r->line_len >= 10 && !memcmp(r->line, "bootloader", 10)) {
			r->app_mode = false;
			r->synced = false;
			r->entered++;
		}
		r->line_len = 0;
		return;
	}
	if (b != '\r' && r->line_len < sizeof(r->line))
		r->line[r->line_len++] = (char)b;
}

/* What the boot stub does after Go 0x08000000: check, then run or fall back. */
static void boot_stub(struct fake_rom *r)
{
	struct sysboot_image_header hdr;
	const uint8_t *raw = r->flash + (SYSBOOT_HEADER_ADDR - STM32_FLASH_BASE);
	enum sysboot_image_status st;
	char banner[80];
	int n;

	if (r->go_addr != STM32_FLASH_BASE)
		return;
	st = sysboot_image_check_header(raw, &hdr);
	if (st == SYSBOOT_IMAGE_OK &&
	    (hdr.load_address + hdr.image_size > STM32_FLASH_BASE + FAKE_FLASH_SIZE ||
	     sysboot_crc32(r->flash + (hdr.load_address - STM32_FLASH_BASE),
			   hdr.image_size) != hdr.image_crc32))
		st = SYSBOOT_IMAGE_BAD_CRC;
	if (st != SYSBOOT_IMAGE_OK) {
		r->synced = false;   /* the stub starts the ROM bootloader */
		r->stub_rejected++;
		record_rom_entry(r, SYSBOOT_ROM_WHY_IMAGE(st));
		return;
	}
	r->app_mode = true;
	n = snprintf(banner, sizeof(banner), "\r\nsysboot reference application "
		     "v%u.%u.%u\r\n", SYSBOOT_VERSION_MAJOR(hdr.app_version),
		     SYSBOOT_VERSION_MINOR(hdr.app_version),
		     SYSBOOT_VERSION_PATCH(hdr.app_version));
	if (write(r->fd, banner, (size_t)n) != n)
		return;
}

void *fake_rom_main(void *arg)
{
	struct fake_rom *r = arg;
	uint8_t c[2], buf[300];
	uint32_t addr;

	for (;;) {
		if (!rx(r, c, 1))
			return NULL;
		if (r->app_mode) {
			app_byte(r, c[0]);
			continue;
		}
		if (!r->synced) {
			if (c[0] == AN3155_SYNC) {
				if (r->ignore_syncs > 0) {
					r->ignore_syncs--;
					continue;
				}
				r->synced = true;
				txb(r, AN3155_ACK);
			}
			continue;
		}
		if (!rx(r, c + 1, 1))
			return NULL;
		if ((uint8_t)(c[0] ^ c[1]) != 0xFF) {
			txb(r, AN3155_NACK);
			continue;
		}
		r->cmds_seen++;
		switch (c[0]) {
		case AN3155_CMD_GET: {
			static const uint8_t ans[] = { 11, 0x31, 0x00, 0x01, 0x02,
				0x11, 0x21, 0x31, 0x44, 0x63, 0x73, 0x82, 0x92 };
			txb(r, AN3155_ACK);
			for (size_t i = 0; i < sizeof(ans); i++)
				txb(r, ans[i]);
			txb(r, AN3155_ACK);
			break;
		}
		case AN3155_CMD_GET_VERSION:
			txb(r, AN3155_ACK);
			txb(r, 0x31);
			txb(r, 0);
			txb(r, 0);
			txb(r, AN3155_ACK);
			break;
		case AN3155_CMD_GET_ID:
			txb(r, AN3155_ACK);
			txb(r, 1);
			txb(r, (uint8_t)(r->pid >> 8));
			txb(r, (uint8_t)r->pid);
			txb(r, AN3155_ACK);
			break;
		case AN3155_CMD_READ_MEMORY: {
			uint8_t *p;
			size_t n;

			txb(r, AN3155_ACK);
			if (!rx_addr(r, &addr))
				break;
			txb(r, AN3155_ACK);
			if (!rx(r, c, 2))
				return NULL;
			n = (size_t)c[0] + 1;
			p = flash_at(r, addr, n);
			if ((uint8_t)(c[0] ^ c[1]) != 0xFF || !p) {
				txb(r, AN3155_NACK);
				break;
			}
			txb(r, AN3155_ACK);
			if (r->drop_read_bytes > 0) {
				r->drop_read_bytes--;
				n--;
			}
			for (size_t i = 0; i < n; i++)
				txb(r, p[i]);
			break;
		}
		case AN3155_CMD_WRITE_MEMORY: {
			uint8_t x, *p;
			size_t n, i;
			bool ok = true;

			txb(r, AN3155_ACK);
			if (!rx_addr(r, &addr))
				break;
			txb(r, AN3155_ACK);
			if (!rx(r, c, 1))
				return NULL;
			n = (size_t)c[0] + 1;
			if (!rx(r, buf, n + 1))
				return NULL;
			x = c[0];
			for (i = 0; i < n; i++)
				x ^= buf[i];
			p = flash_at(r, addr, n);
			if (x != buf[n] || !p ||
			    (r->wrp_page && (addr - STM32_FLASH_BASE) /
			     STM32_FLASH_PAGE_SIZE == r->wrp_page)) {
				txb(r, AN3155_NACK);
				break;
			}
			for (i = 0; i < n; i++)
				if (p[i] != 0xFF)
					ok = false;
			if (!ok) {
				txb(r, AN3155_NACK);
				break;
			}
			if (r->corrupt_addr && addr == r->corrupt_addr)
				buf[8] ^= 0x01;
			memcpy(p, buf, n);
			if (r->nwritten < 128)
				r->write_order[r->nwritten++] = addr;
			if (r->drop_write_ack > 0) {
				r->drop_write_ack--;
				break;
			}
			txb(r, AN3155_ACK);
			break;
		}
		case AN3155_CMD_EXT_ERASE: {
			uint8_t x = 0;
			size_t n, i;

			txb(r, AN3155_ACK);
			if (!rx(r, buf, 2))
				return NULL;
			n = ((size_t)buf[0] << 8 | buf[1]);
			if (n >= 0xFFF0) {
				if (!rx(r, buf + 2, 1))
					return NULL;
				memset(r->flash, 0xFF, sizeof(r->flash));
				txb(r, (buf[0] ^ buf[1]) == buf[2] ?
				    AN3155_ACK : AN3155_NACK);
				break;
			}
			n++;
			if (!rx(r, buf + 2, 2 * n + 1))
				return NULL;
			for (i = 0; i < 2 * n + 2; i++)
				x ^= buf[i];
			if (x != buf[2 * n + 2]) {
				txb(r, AN3155_NACK);
				break;
			}
			for (i = 0; i < n && r->erase_nack_page; i++)
				if (((unsigned)buf[2 + 2 * i] << 8 | buf[3 + 2 * i]) == r->erase_nack_page)
					break;
			if (r->erase_nack_page && i < n) {
				txb(r, AN3155_NACK);
				break;
			}
			for (i = 0; i < n; i++) {
				unsigned pg = (unsigned)buf[2 + 2 * i] << 8 | buf[3 + 2 * i];

				if (r->nerased < 64)
					r->erase_order[r->nerased++] = pg;
				if ((pg + 1) * STM32_FLASH_PAGE_SIZE <= FAKE_FLASH_SIZE)
					memset(r->flash + pg * STM32_FLASH_PAGE_SIZE,
					       0xFF, STM32_FLASH_PAGE_SIZE);
			}
			txb(r, AN3155_ACK);
			break;
		}
		case AN3155_CMD_GO:
			txb(r, AN3155_ACK);
			if (!rx_addr(r, &addr))
				break;
			if (r->drop_go_ack)
				break;   /* the ACK lost on the line, the Go never done */
			r->go_addr = addr;
			txb(r, AN3155_ACK);
			boot_stub(r);
			break;
		default:
			txb(r, AN3155_NACK);
			break;
		}
	}
}

