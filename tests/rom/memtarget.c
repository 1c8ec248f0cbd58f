/*
 * memtarget.c - the in-memory STM32L476 behind rom_usart in tests and the
 * fuzzer (see memtarget.h).
 */
#include "memtarget.h"

#include <string.h>

static bool span(uint32_t addr, uint32_t len, uint32_t base, uint32_t size)
{
	return addr >= base && addr - base < size && len <= size - (addr - base);
}

static uint8_t *mem(struct memtarget *t, uint32_t addr, uint32_t len)
{
	if (span(addr, len, STM32_FLASH_BASE, STM32_FLASH_SIZE))
		return &t->flash[addr - STM32_FLASH_BASE];
	if (span(addr, len, STM32_SRAM1_BASE, STM32_SRAM1_SIZE))
		return &t->sram1[addr - STM32_SRAM1_BASE];
	if (span(addr, len, STM32_SRAM2_BASE, STM32_SRAM2_SIZE))
		return &t->sram2[addr - STM32_SRAM2_BASE];
	return NULL;
}

static bool all(const uint8_t *p, uint32_t n, uint8_t v)
{
	uint32_t i;

	for (i = 0; i < n; i++)
		if (p[i] != v)
			return false;
	return true;
}

static int t_read(void *ctx, uint32_t addr, uint8_t *buf, uint32_t len)
{
	uint8_t *p = mem(ctx, addr, len);

	if (!p)
		return -1;
	memcpy(buf, p, len);
	return 0;
}

static int t_write(void *ctx, uint32_t addr, const uint8_t *buf, uint32_t len)
{
	struct memtarget *t = ctx;
	uint8_t *p = mem(t, addr, len);
	uint32_t i;

	t->last_write_len = len;
	if (!p || len == 0)
		return -1;
	if (t->refuse_addr && t->refuse_addr >= addr && t->refuse_addr - addr < len)
		return -1;
	if (span(addr, len, STM32_FLASH_BASE, STM32_FLASH_SIZE)) {
		/*
		 * RM0351 3.3.7: a double word programs only while it reads
		 * 0xFF (erased), unless the data is all zero.
		 */
		for (i = 0; i < len; i += STM32_FLASH_DWORD) {
			uint32_t n = len - i < STM32_FLASH_DWORD ? len - i : STM32_FLASH_DWORD;

			if (!all(p + i, n, 0xFF) && !all(buf + i, n, 0x00))
				return -1;
		}
		t->writes++;
	}
	memcpy(p, buf, len);
	return 0;
}

static void erase_page(struct memtarget *t, uint16_t page)
{
	uint32_t off = (uint32_t)page * STM32_FLASH_PAGE_SIZE;

	memset(&t->flash[off], 0xFF, STM32_FLASH_PAGE_SIZE);
}

static int t_erase_pages(void *ctx, const uint16_t *pages, uint32_t count)
{
	struct memtarget *t = ctx;
	uint32_t i;

	if (t->fail_ops)
		return -1;
	for (i = 0; i < count; i++) {
		if (pages[i] >= 2 * STM32_FLASH_PAGES_PER_BANK)
			return -1;
		erase_page(t, pages[i]);
		if (t->erased_count < ROM_USART_MAX_PAGES)
			t->erased[t->erased_count] = pages[i];
		t->erased_count++;
	}
	return 0;
}

static int t_erase_bank(void *ctx, int bank)
{
	struct memtarget *t = ctx;
	uint16_t p;

	if (t->fail_ops)
		return -1;
	for (p = 0; p < 2 * STM32_FLASH_PAGES_PER_BANK; p++)
		if (bank == 0 || (bank == 1 && p < STM32_FLASH_PAGES_PER_BANK) ||
		    (bank == 2 && p >= STM32_FLASH_PAGES_PER_BANK))
			erase_page(t, p);
	t->bank_erased = bank;
	return 0;
}

static void t_go(void *ctx, uint32_t addr)
{
	struct memtarget *t = ctx;

	t->go_addr = addr;
	t->go_calls++;
}

static int t_write_protect(void *ctx, const uint8_t *pages, uint32_t count)
{
	struct memtarget *t = ctx;

	if (t->fail_ops || count > sizeof(t->wp_pages))
		return -1;
	memcpy(t->wp_pages, pages, count);
	t->wp_count = count;
	return 0;
}

static int t_write_unprotect(void *ctx)
{
	struct memtarget *t = ctx;

	if (t->fail_ops)
		return -1;
	t->unprotects++;
	return 0;
}

static int t_readout_protect(void *ctx)
{
	struct memtarget *t = ctx;

	if (t->fail_ops)
		return -1;
	t->rdp_sets++;
	t->rdp = 1;
	return 0;
}

static int t_readout_unprotect(void *ctx)
{
	struct memtarget *t = ctx;

	if (t->fail_ops)
		return -1;
	t->rdp_clears++;
	t->rdp = 0;
	return t_erase_bank(ctx, 0);
}

static int t_rdp_level(void *ctx)
{
	return ((struct memtarget *)ctx)->rdp;
}

static void t_tx(void *ctx, const uint8_t *buf, uint32_t len)
{
	struct memtarget *t = ctx;

	if (t->tx_fn) {
		t->tx_fn(t, buf, len);
		return;
	}
	if (t->txlen + len > sizeof(t->tx)) {
		t->tx_overflow = true;
		return;
	}
	memcpy(&t->tx[t->txlen], buf, len);
	t->txlen += len;
}

const struct rom_target_ops memtarget_ops = {
	.read = t_read,
	.write = t_write,
	.erase_pages = t_erase_pages,
	.erase_bank = t_erase_bank,
	.go = t_go,
	.write_protect = t_write_protect,
	.write_unprotect = t_write_unprotect,
	.readout_protect = t_readout_protect,
	.readout_unprotect = t_readout_unprotect,
	.rdp_level = t_rdp_level,
	.tx = t_tx,
};

/* ---- The DFU engine's operations on the same chip ------------------------------ */

static int d_erase_page(void *ctx, uint32_t addr)
{
	uint16_t page = (uint16_t)((addr - STM32_FLASH_BASE) / STM32_FLASH_PAGE_SIZE);

	return t_erase_pages(ctx, &page, 1) < 0 ? ROM_DFU_ERASE_FAILED : ROM_DFU_ERASED;
}

static int d_mass_erase(void *ctx)
{
	return t_erase_bank(ctx, 0);
}

static void d_leave(void *ctx, uint32_t addr)
{
	struct memtarget *t = ctx;

	t->leaves++;
	t->go_addr = addr;
}

static void d_option_reset(void *ctx)
{
	((struct memtarget *)ctx)->option_resets++;
}

static void d_detach(void *ctx)
{
	((struct memtarget *)ctx)->detaches++;
}

const struct rom_dfu_ops memtarget_dfu_ops = {
	.read = t_read,
	.write = t_write,
	.erase_page = d_erase_page,
	.mass_erase = d_mass_erase,
	.read_unprotect = t_readout_unprotect,
	.rdp_level = t_rdp_level,
	.leave = d_leave,
	.option_reset = d_option_reset,
	.detach = d_detach,
};

#define ROM_RAM 0x3000u    /* AN2606: the ROM's first 12 KB of SRAM1 */

const struct rom_dfu_region memtarget_dfu_regions[] = {
	{ STM32_FLASH_BASE, STM32_FLASH_SIZE,
	  ROM_DFU_READ | ROM_DFU_WRITE | ROM_DFU_ERASE | ROM_DFU_POINTER, ROM_DFU_MEM_FLASH, "flash" },
	{ STM32_SRAM1_BASE, ROM_RAM, ROM_DFU_READ | ROM_DFU_POINTER, ROM_DFU_MEM_RAM, "the ROM's RAM" },
	{ STM32_SRAM1_BASE + ROM_RAM, STM32_SRAM1_SIZE - ROM_RAM,
	  ROM_DFU_READ | ROM_DFU_WRITE | ROM_DFU_POINTER, ROM_DFU_MEM_RAM, "SRAM1" },
	{ STM32_SRAM2_BASE, STM32_SRAM2_SIZE, ROM_DFU_READ | ROM_DFU_WRITE | ROM_DFU_POINTER,
	  ROM_DFU_MEM_RAM, "SRAM2" },
};

const unsigned memtarget_dfu_nregions =
	sizeof(memtarget_dfu_regions) / sizeof(memtarget_dfu_regions[0]);

void memtarget_reset(struct memtarget *t)
{
	void (*fn)(struct memtarget *, const uint8_t *, uint32_t) = t->tx_fn;
	void *ctx = t->tx_ctx;

	memset(t, 0, sizeof(*t));
	memset(t->flash, 0xFF, sizeof(t->flash));
	t->bank_erased = -1;
	t->tx_fn = fn;
	t->tx_ctx = ctx;
}
