/*
 * limit.c - see limit.h.
 */
#include "limit.h"

#include <string.h>

#include "rom/rom_usb.h"
#include "sysboot/an3155.h"
#include "sysboot/dfuse.h"
#include "sysboot/stm32l476.h"

#define DFUSE_ERASE_CMD_LEN 5u      /* 0x41 and the page's address (AN3156 6.3) */

static double seconds(sim_time_t t)
{
	return (double)t / (double)SIM_S(1);
}

/* The bwPollTimeout the ROM asks for work that takes t: whole milliseconds. */
static sim_time_t poll_timeout(sim_time_t t)
{
	return (t + SIM_MS(1) - 1) / SIM_MS(1) * SIM_MS(1);
}

/* What of one operation's poll timeout a DFU 1.1 host waits beyond its work. */
static sim_time_t poll_beyond(enum sim_dfu_work work, sim_time_t t)
{
	return work == SIM_DFU_WORK_IN_STATUS ? poll_timeout(t) : poll_timeout(t) - t;
}

void flash_limit(const struct sim_timing *t, uint32_t addr, uint32_t len, bool bank_erase,
		 struct update_limit *l)
{
	unsigned first, last, bank;
	uint64_t dwords;

	l->erase_s = l->program_s = 0;
	l->pages = l->banks_mass_erased = 0;
	if (len) {
		first = (addr - STM32_FLASH_BASE) / STM32_FLASH_PAGE_SIZE;
		last = (addr + len - 1 - STM32_FLASH_BASE) / STM32_FLASH_PAGE_SIZE;
		l->pages = last - first + 1;
		if (bank_erase && l->pages == 2 * STM32_FLASH_PAGES_PER_BANK &&
		    t->flash_bank_erase < (sim_time_t)l->pages * t->flash_page_erase) {
			/* MER1 and MER2 together: both banks in one operation. */
			l->erase_s = seconds(t->flash_bank_erase);
			l->banks_mass_erased = 2;
			first = last + 1;
		}
		for (bank = 0; bank < 2 && first <= last; bank++) {
			unsigned lo = bank * STM32_FLASH_PAGES_PER_BANK;
			unsigned hi = lo + STM32_FLASH_PAGES_PER_BANK - 1;
			unsigned a = first > lo ? first : lo, b = last < hi ? last : hi;
			sim_time_t by_page;

			if (a > b)
				continue;
			by_page = (sim_time_t)(b - a + 1) * t->flash_page_erase;
			if (bank_erase && a == lo && b == hi && t->flash_bank_erase < by_page) {
				l->erase_s += seconds(t->flash_bank_erase);
				l->banks_mass_erased++;
			} else {
				l->erase_s += seconds(by_page);
			}
		}
	}
	dwords = ((uint64_t)len + STM32_FLASH_DWORD - 1) / STM32_FLASH_DWORD;
	l->program_s = (double)dwords * seconds(t->flash_dword_program);
	l->total_s = l->wire_s + l->erase_s + l->program_s + l->poll_s;
}

void usart_update_limit(const struct sim_timing *t, uint32_t baud, uint32_t addr,
			uint32_t len, struct update_limit *l)
{
	memset(l, 0, sizeof(*l));
	l->wire_s = (double)len * AN3155_FRAME_BITS / baud;
	flash_limit(t, addr, len, true, l);
}

void dfuse_update_limit(const struct sim_timing *t, enum sim_dfu_work work, uint32_t addr,
			uint32_t len, struct update_limit *l)
{
	uint64_t status = 2u * rom_usb_control_bits(DFU_GETSTATUS_LENGTH), bits;
	uint32_t blocks = len / DFUSE_TRANSFER_SIZE, tail = len % DFUSE_TRANSFER_SIZE;
	sim_time_t block_work = (sim_time_t)(DFUSE_TRANSFER_SIZE / STM32_FLASH_DWORD) *
				t->flash_dword_program;
	sim_time_t poll;

	memset(l, 0, sizeof(*l));
	flash_limit(t, addr, len, false, l);
	bits = (uint64_t)blocks * (rom_usb_control_bits(DFUSE_TRANSFER_SIZE) + status);
	poll = (sim_time_t)blocks * poll_beyond(work, block_work);
	if (tail) {
		bits += rom_usb_control_bits((uint16_t)tail) + status;
		poll += poll_beyond(work, (sim_time_t)((tail + STM32_FLASH_DWORD - 1) /
							STM32_FLASH_DWORD) * t->flash_dword_program);
	}
	bits += (uint64_t)l->pages * (rom_usb_control_bits(DFUSE_ERASE_CMD_LEN) + status);
	poll += (sim_time_t)l->pages * poll_beyond(work, t->flash_page_erase);
	l->transfers = 3u * (blocks + (tail != 0)) + 3u * l->pages;
	l->wire_s = seconds((sim_time_t)bits * t->usb_bit);
	l->poll_s = seconds(poll);
	l->total_s = l->wire_s + l->erase_s + l->program_s + l->poll_s;
}
