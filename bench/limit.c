/*
 * limit.c - see limit.h.
 */
#include "limit.h"

#include <string.h>

#include "sysboot/an3155.h"
#include "sysboot/stm32l476.h"

static double seconds(sim_time_t t)
{
	return (double)t / (double)SIM_S(1);
}

void flash_limit(const struct sim_timing *t, uint32_t addr, uint32_t len,
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
		if (l->pages == 2 * STM32_FLASH_PAGES_PER_BANK &&
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
			if (a == lo && b == hi && t->flash_bank_erase < by_page) {
				l->erase_s += seconds(t->flash_bank_erase);
				l->banks_mass_erased++;
			} else {
				l->erase_s += seconds(by_page);
			}
		}
	}
	dwords = ((uint64_t)len + STM32_FLASH_DWORD - 1) / STM32_FLASH_DWORD;
	l->program_s = (double)dwords * seconds(t->flash_dword_program);
	l->total_s = l->wire_s + l->erase_s + l->program_s;
}

void usart_update_limit(const struct sim_timing *t, uint32_t baud, uint32_t addr,
			uint32_t len, struct update_limit *l)
{
	memset(l, 0, sizeof(*l));
	l->wire_s = (double)len * AN3155_FRAME_BITS / baud;
	flash_limit(t, addr, len, l);
}
