/*
 * rom_usart.c - the AN3155 USART protocol engine of the STM32L476 ROM
 * bootloader, one received byte at a time.
 *
 * Why a state machine: the emulator delivers bytes as they cross the
 * simulated wire and must keep running its clock between them, so the
 * engine may never wait for input. The chip is reached only through
 * struct rom_target_ops, which lets the unit tests drive it against an
 * in-memory target and check every byte it sends.
 *
 * Sources: ST AN3155 (USART protocol used in the STM32 bootloader) for the
 * frames, AN2606 (STM32 microcontroller system memory boot mode) for what the
 * STM32L47x/48x ROM offers: protocol V3.1, Extended Erase rather than Erase,
 * no Get Checksum, the first 12 KB of SRAM1 kept for its own use.
 *
 * Choices where the documents are silent:
 *  - A 0x7F received after synchronisation, where a command is expected, is
 *    taken as a command byte like any other: 0x7F 0x80 names no command and
 *    0x7F 0x7F has a bad complement, both answered NACK. (Host tools rely on
 *    the NACK to see that the ROM was already synchronised.)
 *  - Read Memory and Write Memory check the address ("address valid?" in
 *    AN3155's flow charts) by reading one byte there through ops->read.
 *  - Flash alignment and the padding of short flash writes are decided when
 *    the data has arrived, so the host sees the NACK at the end of the
 *    command, where a failed programming would show on the chip.
 *  - Write Protect, Write Unprotect, Readout Protect and Readout Unprotect
 *    send their second ACK once the operation succeeded, NACK if it failed.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "rom/rom_usart.h"
#include "sysboot/stm32l476.h"

enum rom_state {
	ST_WAIT_SYNC = 0,
	ST_CMD,
	ST_CMD_CPL,
	ST_ADDR,              /* 4 address bytes, then their XOR */
	ST_READ_LEN,
	ST_READ_LEN_CPL,
	ST_WRITE_LEN,
	ST_WRITE_DATA,
	ST_WRITE_CKS,
	ST_ERASE_COUNT,       /* 2 bytes, MSB first */
	ST_ERASE_SPECIAL_CKS,
	ST_ERASE_PAGES,
	ST_ERASE_CKS,
	ST_WP_LEN,
	ST_WP_DATA,
	ST_WP_CKS,
};

/* The command list of Get, in AN3155's order, as the L476 ROM offers it. */
static const uint8_t rom_commands[] = {
	AN3155_CMD_GET, AN3155_CMD_GET_VERSION, AN3155_CMD_GET_ID,
	AN3155_CMD_READ_MEMORY, AN3155_CMD_GO, AN3155_CMD_WRITE_MEMORY,
	AN3155_CMD_EXT_ERASE, AN3155_CMD_WRITE_PROTECT, AN3155_CMD_WRITE_UNPROTECT,
	AN3155_CMD_READOUT_PROTECT, AN3155_CMD_READOUT_UNPROTECT,
};

#define ROM_FLASH_PAGES (2u * STM32_FLASH_PAGES_PER_BANK)

static void send(struct rom_usart *rom, const uint8_t *buf, uint32_t len)
{
	if (rom->ops->tx && len)
		rom->ops->tx(rom->ctx, buf, len);
}

static void ack(struct rom_usart *rom)
{
	static const uint8_t b = AN3155_ACK;

	rom->acks++;
	send(rom, &b, 1);
}

/* Answer NACK, remember why, and wait for the next command. */
static void nack(struct rom_usart *rom, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void nack(struct rom_usart *rom, const char *fmt, ...)
{
	static const uint8_t b = AN3155_NACK;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(rom->last_nack, sizeof(rom->last_nack), fmt, ap);
	va_end(ap);
	rom->nacks++;
	send(rom, &b, 1);
	rom->state = ST_CMD;
}

static const char *cmd_name(uint8_t cmd)
{
	switch (cmd) {
	case AN3155_CMD_READ_MEMORY:
		return "read";
	case AN3155_CMD_GO:
		return "go";
	case AN3155_CMD_WRITE_MEMORY:
		return "write";
	case AN3155_CMD_EXT_ERASE:
		return "erase";
	case AN3155_CMD_WRITE_PROTECT:
		return "write protect";
	case AN3155_CMD_WRITE_UNPROTECT:
		return "write unprotect";
	case AN3155_CMD_READOUT_PROTECT:
		return "readout protect";
	case AN3155_CMD_READOUT_UNPROTECT:
		return "readout unprotect";
	default:
		return "command";
	}
}

static bool in_flash(uint32_t addr)
{
	return addr >= STM32_FLASH_BASE && addr - STM32_FLASH_BASE < STM32_FLASH_SIZE;
}

static bool in_range(uint32_t addr, uint32_t base, uint32_t size)
{
	return addr >= base && addr - base < size;
}

/* AN3155 Go: the address must be in flash, RAM or system memory. */
static bool go_address_valid(uint32_t addr)
{
	return in_flash(addr) ||
	       in_range(addr, STM32_SRAM1_BASE, STM32_SRAM1_SIZE + STM32_SRAM2_SIZE) ||
	       in_range(addr, STM32_SRAM2_BASE, STM32_SRAM2_SIZE) ||
	       in_range(addr, STM32_SYSMEM_BASE, STM32_SYSMEM_SIZE);
}

static int rdp_level(struct rom_usart *rom)
{
	return rom->ops->rdp_level ? rom->ops->rdp_level(rom->ctx) : 0;
}

/* ---- Commands without arguments ---------------------------------------- */

static void do_get(struct rom_usart *rom)
{
	uint8_t out[2 + sizeof(rom_commands)];

	out[0] = (uint8_t)sizeof(rom_commands);    /* N: bytes that follow, minus one */
	out[1] = rom->cfg.protocol_version;
	memcpy(&out[2], rom_commands, sizeof(rom_commands));
	ack(rom);
	send(rom, out, sizeof(out));
	ack(rom);
}

static void do_get_version(struct rom_usart *rom)
{
	/* AN3155 3.2: version, then two option bytes kept at 0 for compatibility. */
	uint8_t out[3] = { rom->cfg.protocol_version, 0x00, 0x00 };

	ack(rom);
	send(rom, out, sizeof(out));
	ack(rom);
}

static void do_get_id(struct rom_usart *rom)
{
	uint8_t out[3] = { 1, (uint8_t)(rom->cfg.product_id >> 8),
			   (uint8_t)rom->cfg.product_id };

	ack(rom);
	send(rom, out, sizeof(out));
	ack(rom);
}

/* The last ACK of these four commands comes once the change is made. */
static void do_simple_op(struct rom_usart *rom, int (*op)(void *ctx))
{
	ack(rom);
	if (!op || op(rom->ctx) < 0) {
		nack(rom, "%s: the target refused it", cmd_name(rom->cmd));
		return;
	}
	ack(rom);
}

/*
 * AN3155: while readout protection is active only Get, Get Version, Get ID
 * and Readout Unprotect are served; Readout Protect's flow chart also NACKs
 * when protection is already active. Everything else is NACKed at once.
 */
static bool allowed_under_rdp(uint8_t cmd)
{
	return cmd == AN3155_CMD_GET || cmd == AN3155_CMD_GET_VERSION ||
	       cmd == AN3155_CMD_GET_ID || cmd == AN3155_CMD_READOUT_UNPROTECT;
}

static void start_command(struct rom_usart *rom)
{
	uint8_t cmd = rom->cmd;

	switch (cmd) {
	case AN3155_CMD_GET:
	case AN3155_CMD_GET_VERSION:
	case AN3155_CMD_GET_ID:
	case AN3155_CMD_READ_MEMORY:
	case AN3155_CMD_GO:
	case AN3155_CMD_WRITE_MEMORY:
	case AN3155_CMD_EXT_ERASE:
	case AN3155_CMD_WRITE_PROTECT:
	case AN3155_CMD_WRITE_UNPROTECT:
	case AN3155_CMD_READOUT_PROTECT:
	case AN3155_CMD_READOUT_UNPROTECT:
		break;
	default:
		/* 0x43 Erase and 0xA1 Get Checksum included: not in this ROM (AN2606). */
		nack(rom, "unknown command 0x%02x", cmd);
		return;
	}

	if (!allowed_under_rdp(cmd) && rdp_level(rom) >= 1) {
		nack(rom, "%s: refused under readout protection level 1", cmd_name(cmd));
		return;
	}

	rom->state = ST_CMD;
	rom->got = 0;
	rom->xor = 0;
	switch (cmd) {
	case AN3155_CMD_GET:
		do_get(rom);
		break;
	case AN3155_CMD_GET_VERSION:
		do_get_version(rom);
		break;
	case AN3155_CMD_GET_ID:
		do_get_id(rom);
		break;
	case AN3155_CMD_READ_MEMORY:
	case AN3155_CMD_GO:
	case AN3155_CMD_WRITE_MEMORY:
		ack(rom);
		rom->state = ST_ADDR;
		break;
	case AN3155_CMD_EXT_ERASE:
		ack(rom);
		rom->state = ST_ERASE_COUNT;
		break;
	case AN3155_CMD_WRITE_PROTECT:
		ack(rom);
		rom->state = ST_WP_LEN;
		break;
	case AN3155_CMD_WRITE_UNPROTECT:
		do_simple_op(rom, rom->ops->write_unprotect);
		break;
	case AN3155_CMD_READOUT_PROTECT:
		do_simple_op(rom, rom->ops->readout_protect);
		break;
	case AN3155_CMD_READOUT_UNPROTECT:
		do_simple_op(rom, rom->ops->readout_unprotect);
		break;
	}
}

/* ---- Address phase (Read Memory, Go, Write Memory) ----------------------- */

static void address_done(struct rom_usart *rom)
{
	const char *name = cmd_name(rom->cmd);
	uint32_t addr = rom->addr;
	uint8_t probe;

	switch (rom->cmd) {
	case AN3155_CMD_GO:
		if (!go_address_valid(addr)) {
			nack(rom, "go: 0x%08x is not in flash, SRAM or system memory", addr);
			return;
		}
		ack(rom);
		rom->state = ST_CMD;
		if (rom->ops->go)
			rom->ops->go(rom->ctx, addr);
		return;
	case AN3155_CMD_WRITE_MEMORY:
		if (in_range(addr, STM32_SRAM1_BASE, rom->cfg.ram_reserved)) {
			nack(rom, "write: 0x%08x is in the first %u bytes of SRAM1, used by the ROM",
			     addr, (unsigned)rom->cfg.ram_reserved);
			return;
		}
		break;
	default:
		break;
	}
	if (!rom->ops->read || rom->ops->read(rom->ctx, addr, &probe, 1) < 0) {
		nack(rom, "%s: address 0x%08x is not mapped", name, addr);
		return;
	}
	ack(rom);
	rom->state = rom->cmd == AN3155_CMD_READ_MEMORY ? ST_READ_LEN : ST_WRITE_LEN;
}

static void rx_address(struct rom_usart *rom, uint8_t byte)
{
	if (rom->got < 4) {
		rom->buf[rom->got++] = byte;
		rom->xor ^= byte;
		return;
	}
	rom->addr = get_be32(rom->buf);
	if (byte != rom->xor) {
		nack(rom, "%s: address checksum 0x%02x, expected 0x%02x",
		     cmd_name(rom->cmd), byte, rom->xor);
		return;
	}
	address_done(rom);
}

/* ---- Read Memory ---------------------------------------------------------- */

static void read_memory(struct rom_usart *rom, uint8_t n1)
{
	uint32_t n = (uint32_t)n1 + 1;

	if (rom->ops->read(rom->ctx, rom->addr, rom->data, n) < 0) {
		nack(rom, "read: %u bytes at 0x%08x are not all readable", (unsigned)n, rom->addr);
		return;
	}
	ack(rom);
	send(rom, rom->data, n);
	rom->state = ST_CMD;
}

/* ---- Write Memory --------------------------------------------------------- */

static void write_memory(struct rom_usart *rom)
{
	uint32_t addr = rom->addr, n = rom->count;

	if (in_flash(addr) && rom->cfg.misaligned != ROM_MISALIGNED_ACCEPT) {
		if (rom->misaligned_seen) {
			nack(rom, "write: flash writes fail since the misaligned write to 0x%08x",
			     rom->misaligned_addr);
			return;
		}
		if (addr % STM32_FLASH_DWORD) {
			if (rom->cfg.misaligned == ROM_MISALIGNED_NACK_STICKY) {
				rom->misaligned_seen = true;
				rom->misaligned_addr = addr;
			}
			nack(rom, "write: address 0x%08x not 8-byte aligned", addr);
			return;
		}
	}
	if (in_flash(addr) && n % STM32_FLASH_DWORD) {
		switch (rom->cfg.flash_tail) {
		case ROM_TAIL_PAD_FF:
			/* The flash takes whole double words (RM0351 3.3.7). */
			while (n % STM32_FLASH_DWORD)
				rom->data[n++] = 0xFF;
			break;
		case ROM_TAIL_NACK:
			nack(rom, "write: %u bytes to flash at 0x%08x, not a multiple of 8",
			     (unsigned)n, addr);
			return;
		case ROM_TAIL_AS_IS:
			break;
		}
	}
	if (!rom->ops->write || rom->ops->write(rom->ctx, addr, rom->data, n) < 0) {
		nack(rom, "write: the target refused %u bytes at 0x%08x", (unsigned)n, addr);
		return;
	}
	ack(rom);
	rom->state = ST_CMD;
}

/* ---- Extended Erase ------------------------------------------------------- */

static void erase_special(struct rom_usart *rom, uint16_t code)
{
	int bank;

	switch (code) {
	case AN3155_ERASE_MASS:
		bank = 0;
		break;
	case AN3155_ERASE_BANK1:
		bank = 1;
		break;
	case AN3155_ERASE_BANK2:
		bank = 2;
		break;
	default:
		nack(rom, "erase: special code 0x%04x is reserved", code);
		return;
	}
	if (!rom->ops->erase_bank || rom->ops->erase_bank(rom->ctx, bank) < 0) {
		nack(rom, "erase: the target refused the %s erase",
		     bank == 0 ? "mass" : bank == 1 ? "bank 1" : "bank 2");
		return;
	}
	ack(rom);
	rom->state = ST_CMD;
}

static void erase_pages(struct rom_usart *rom)
{
	uint32_t i;

	if (rom->overflow) {
		nack(rom, "erase: %u pages in one command, at most %u",
		     (unsigned)rom->count, ROM_USART_MAX_PAGES);
		return;
	}
	for (i = 0; i < rom->count; i++) {
		if (rom->pages[i] >= ROM_FLASH_PAGES) {
			nack(rom, "erase: page %u out of range (0..%u)",
			     rom->pages[i], ROM_FLASH_PAGES - 1);
			return;
		}
	}
	if (!rom->ops->erase_pages || rom->ops->erase_pages(rom->ctx, rom->pages, rom->count) < 0) {
		nack(rom, "erase: the target refused to erase %u pages from page %u",
		     (unsigned)rom->count, rom->pages[0]);
		return;
	}
	ack(rom);
	rom->state = ST_CMD;
}

static void rx_erase(struct rom_usart *rom, uint8_t byte)
{
	uint16_t n1;

	switch (rom->state) {
	case ST_ERASE_COUNT:
		rom->buf[rom->got++] = byte;
		rom->xor ^= byte;
		if (rom->got < 2)
			return;
		n1 = (uint16_t)(rom->buf[0] << 8 | rom->buf[1]);
		rom->got = 0;
		if (n1 >= 0xFFF0u) {
			rom->count = n1;
			rom->state = ST_ERASE_SPECIAL_CKS;
			return;
		}
		rom->count = (uint32_t)n1 + 1;
		rom->overflow = rom->count > ROM_USART_MAX_PAGES;
		rom->state = ST_ERASE_PAGES;
		return;
	case ST_ERASE_SPECIAL_CKS:
		if (byte != rom->xor) {
			nack(rom, "erase: checksum 0x%02x, expected 0x%02x", byte, rom->xor);
			return;
		}
		erase_special(rom, (uint16_t)rom->count);
		return;
	case ST_ERASE_PAGES:
		rom->xor ^= byte;
		if (rom->got % 2 == 0) {
			rom->buf[0] = byte;
		} else if (rom->got / 2 < ROM_USART_MAX_PAGES) {
			rom->pages[rom->got / 2] = (uint16_t)(rom->buf[0] << 8 | byte);
		}
		if (++rom->got == 2 * rom->count)
			rom->state = ST_ERASE_CKS;
		return;
	case ST_ERASE_CKS:
		if (byte != rom->xor) {
			nack(rom, "erase: checksum 0x%02x, expected 0x%02x", byte, rom->xor);
			return;
		}
		erase_pages(rom);
		return;
	default:
		return;
	}
}

/* ---- Byte dispatch -------------------------------------------------------- */

void rom_usart_rx(struct rom_usart *rom, uint8_t byte)
{
	switch (rom->state) {
	case ST_WAIT_SYNC:
		/* AN3155 2: anything before 0x7F is ignored. */
		if (byte == AN3155_SYNC) {
			rom->syncs++;
			ack(rom);
			rom->state = ST_CMD;
		}
		return;
	case ST_CMD:
		rom->cmd = byte;
		rom->state = ST_CMD_CPL;
		return;
	case ST_CMD_CPL:
		if ((rom->cmd ^ byte) != 0xFF) {
			nack(rom, "command 0x%02x followed by 0x%02x, not its complement 0x%02x",
			     rom->cmd, byte, (uint8_t)(rom->cmd ^ 0xFFu));
			return;
		}
		rom->commands++;
		start_command(rom);
		return;
	case ST_ADDR:
		rx_address(rom, byte);
		return;
	case ST_READ_LEN:
		rom->buf[0] = byte;
		rom->state = ST_READ_LEN_CPL;
		return;
	case ST_READ_LEN_CPL:
		if ((rom->buf[0] ^ byte) != 0xFF) {
			nack(rom, "read: length byte 0x%02x followed by 0x%02x, not its complement",
			     rom->buf[0], byte);
			return;
		}
		read_memory(rom, rom->buf[0]);
		return;
	case ST_WRITE_LEN:
	case ST_WP_LEN:
		rom->count = (uint32_t)byte + 1;
		rom->xor = byte;
		rom->got = 0;
		rom->state = rom->state == ST_WRITE_LEN ? ST_WRITE_DATA : ST_WP_DATA;
		return;
	case ST_WRITE_DATA:
	case ST_WP_DATA:
		rom->data[rom->got++] = byte;
		rom->xor ^= byte;
		if (rom->got == rom->count)
			rom->state = rom->state == ST_WRITE_DATA ? ST_WRITE_CKS : ST_WP_CKS;
		return;
	case ST_WRITE_CKS:
	case ST_WP_CKS:
		if (byte != rom->xor) {
			nack(rom, "%s: data checksum 0x%02x, expected 0x%02x",
			     cmd_name(rom->cmd), byte, rom->xor);
			return;
		}
		if (rom->state == ST_WRITE_CKS) {
			write_memory(rom);
			return;
		}
		if (!rom->ops->write_protect ||
		    rom->ops->write_protect(rom->ctx, rom->data, rom->count) < 0) {
			nack(rom, "write protect: the target refused %u pages", (unsigned)rom->count);
			return;
		}
		ack(rom);
		rom->state = ST_CMD;
		return;
	case ST_ERASE_COUNT:
	case ST_ERASE_SPECIAL_CKS:
	case ST_ERASE_PAGES:
	case ST_ERASE_CKS:
		rx_erase(rom, byte);
		return;
	default:
		rom->state = ST_CMD;
		return;
	}
}

/* ---- Setup and queries ---------------------------------------------------- */

void rom_usart_init(struct rom_usart *rom, const struct rom_usart_config *cfg,
		    const struct rom_target_ops *ops, void *ctx)
{
	memset(rom, 0, sizeof(*rom));
	rom->cfg = *cfg;
	rom->ops = ops;
	rom->ctx = ctx;
	rom_usart_reset(rom);
}

void rom_usart_reset(struct rom_usart *rom)
{
	rom->state = ST_WAIT_SYNC;
	rom->got = 0;
	rom->xor = 0;
	rom->overflow = false;
	rom->misaligned_seen = false;
}

bool rom_usart_synced(const struct rom_usart *rom)
{
	return rom->state != ST_WAIT_SYNC;
}

const char *rom_usart_last_nack(const struct rom_usart *rom)
{
	return rom->last_nack;
}

uint64_t rom_usart_commands(const struct rom_usart *rom)
{
	return rom->commands;
}

uint64_t rom_usart_nacks(const struct rom_usart *rom)
{
	return rom->nacks;
}
