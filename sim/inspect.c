/*
 * inspect.c - the board as a test bench sees it from outside (sim.h).
 *
 * Why these are apart from the models: they reach into the board between
 * runs, the way a probe, a debugger or a lab bench would, and none of them
 * takes simulated time: reading memory and registers (peripherals through
 * their models, so a read means what the CPU would see), the LED, the
 * serial lines' other ends, loading firmware into flash as a debugger
 * does, and the switches a tester turns: the user button, BOOT0, and the
 * faults and delays put on the ROM's serial line.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "board.h"
#include "link.h"

sim_time_t sim_now(const struct sim_board *sb)
{
	return board_of_const(sb)->now;
}

uint64_t sim_insns(const struct sim_board *sb)
{
	return board_of_const(sb)->insns;
}

bool sim_in_rom(const struct sim_board *sb)
{
	return board_of_const(sb)->mode == MODE_ROM;
}

uint32_t sim_pc(const struct sim_board *sb)
{
	const struct board *b = board_of_const(sb);
	uint32_t pc = 0;

	uc_reg_read(b->uc, UC_ARM_REG_PC, &pc);
	return pc;
}

int sim_read_mem(struct sim_board *sb, uint32_t addr, void *buf, size_t len)
{
	struct board *b = board_of(sb);
	uint8_t *p = buf;

	/* Peripherals read through their models, memories directly. */
	if (!board_host_ptr(b, addr, (uint32_t)len)) {
		size_t i;

		for (i = 0; i < len; i++) {
			struct periph *per = board_find_periph(b, addr + (uint32_t)i);

			if (!per)
				return -1;
			p[i] = (uint8_t)(per->read(b, per->state, (addr + (uint32_t)i - per->base) & ~3u, 4) >>
					 (8 * ((addr + i) & 3)));
		}
		return 0;
	}
	return board_mem_read(b, addr, buf, (uint32_t)len);
}

int sim_write_mem(struct sim_board *sb, uint32_t addr, const void *buf, size_t len)
{
	return board_mem_write(board_of(sb), addr, buf, (uint32_t)len);
}

uint32_t sim_read32(struct sim_board *sb, uint32_t addr)
{
	uint32_t v = 0;

	sim_read_mem(sb, addr, &v, 4);
	return v;
}

bool sim_led(const struct sim_board *sb)
{
	return board_of_const(sb)->led_on;
}

unsigned sim_led_toggles(const struct sim_board *sb)
{
	return board_of_const(sb)->led_toggles;
}

void sim_uart_send(struct sim_board *sb, unsigned n, const void *data, size_t len)
{
	struct board *b = board_of(sb);

	if (n >= 1 && n <= 3 && b->usart[n - 1].link)
		link_inject(b->usart[n - 1].link, data, len);
}

size_t sim_uart_take(struct sim_board *sb, unsigned n, char *buf, size_t cap)
{
	struct board *b = board_of(sb);

	if (n < 1 || n > 3 || !b->usart[n - 1].link)
		return 0;
	return link_take_output(b->usart[n - 1].link, buf, cap);
}

const char *sim_uart_pty(const struct sim_board *sb, unsigned n)
{
	const struct board *b = board_of_const(sb);

	if (n < 1 || n > 3 || !b->usart[n - 1].link)
		return "";
	return link_pty_path(b->usart[n - 1].link);
}

sim_time_t sim_uart_last_tx(const struct sim_board *sb, unsigned n)
{
	const struct board *b = board_of_const(sb);

	return n >= 1 && n <= 3 ? b->usart[n - 1].tx_last : 0;
}

int sim_load_bytes(struct sim_board *sb, uint32_t addr, const void *data, size_t len,
		   char *err, size_t errlen)
{
	struct board *b = board_of(sb);

	if (addr < STM32_FLASH_BASE || addr >= STM32_FLASH_BASE + STM32_FLASH_SIZE ||
	    len > STM32_FLASH_BASE + STM32_FLASH_SIZE - addr) {
		snprintf(err, errlen, "0x%08x..0x%08x is outside the 1 MB flash (0x08000000..0x080FFFFF)",
			 addr, addr + (uint32_t)len - 1);
		return -1;
	}
	flash_debug_write(b, addr, data, len);
	board_flush_translations(b);
	return 0;
}

void sim_erase_flash(struct sim_board *sb)
{
	struct board *b = board_of(sb);

	flash_debug_mass_erase(b);
	board_flush_translations(b);
}

int sim_load_file(struct sim_board *sb, const char *path, uint32_t addr, char *err, size_t errlen)
{
	struct board *b = board_of(sb);
	FILE *f;
	unsigned char magic[4] = { 0 };
	uint8_t *data = NULL;
	long size;
	int ret = -1;

	f = fopen(path, "rb");
	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fread(magic, 1, 4, f) == 4 && memcmp(magic, "\177ELF", 4) == 0) {
		fclose(f);
		return sim_elf_load(b, path, err, errlen);
	}
	if (!addr) {
		snprintf(err, errlen, "%s: not an ELF file; give the address to load a binary at", path);
		goto out;
	}
	if (fseek(f, 0, SEEK_END) < 0 || (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	data = malloc(size ? (size_t)size : 1);
	if (!data || fread(data, 1, (size_t)size, f) != (size_t)size) {
		snprintf(err, errlen, "%s: cannot read", path);
		goto out;
	}
	ret = sim_load_bytes(sb, addr, data, (size_t)size, err, errlen);
out:
	free(data);
	fclose(f);
	return ret;
}

void sim_set_button(struct sim_board *sb, bool pressed)
{
	struct board *b = board_of(sb);

	b->button_pressed = pressed;
	gpio_update_inputs(b);
	board_trace(b, SIM_TRACE_NOTE, b->last_pc, "user button B1 %s", pressed ? "pressed" : "released");
}

void sim_line_faults(struct sim_board *sb, uint32_t drop_ppm, uint32_t corrupt_ppm, uint32_t seed)
{
	struct sim_line_faults *lf = &board_of(sb)->line_faults;

	lf->drop_ppm = drop_ppm;
	lf->corrupt_ppm = corrupt_ppm;
	lf->rng = seed ? seed : 1u;
}

void sim_line_fault_counts(const struct sim_board *sb, uint64_t *dropped, uint64_t *corrupted)
{
	const struct sim_line_faults *lf = &board_of_const(sb)->line_faults;

	*dropped = lf->dropped;
	*corrupted = lf->corrupted;
}

void sim_line_delays(struct sim_board *sb, uint32_t delay_ppm, sim_time_t delay,
		     uint32_t stall_ppm, sim_time_t stall)
{
	struct sim_line_faults *lf = &board_of(sb)->line_faults;

	lf->delay_ppm = delay_ppm;
	lf->delay = delay;
	lf->stall_ppm = stall_ppm;
	lf->stall = stall;
	if (!lf->rng)
		lf->rng = 1u;
}

void sim_line_delay_counts(const struct sim_board *sb, uint64_t *delayed, uint64_t *stalled)
{
	const struct sim_line_faults *lf = &board_of_const(sb)->line_faults;

	*delayed = lf->delayed;
	*stalled = lf->stalled;
}

void sim_set_boot0(struct sim_board *sb, bool level)
{
	board_of(sb)->cfg.boot0 = level;
}
