/*
 * cmd_info.c - `sysboot info`: what the ROM bootloader sees, over either
 * port.
 *
 * Why it is apart from the other ROM commands: they each do one thing to
 * the flash, while info only reads and explains, and most of it is
 * decoding for a person (or a script, with --json): the chip and
 * bootloader version, the commands the ROM offers, the option bytes bit
 * by bit (RM0351 3.4.1), why the board is in the ROM (sysboot's record,
 * boardstate.h), and what readout protection level 1 means for what can
 * be done next. The two protocols learn different things (AN3155 has Get
 * ID, DfuSe has USB descriptors and alternate settings), so each has its
 * own report, sharing the option bytes and ROM entry parts.
 */
#include "cmd_rom.h"

#include <getopt.h>
#include <string.h>

#include "boardstate.h"
#include "dfuse.h"
#include "sysboot/an3155.h"
#include "sysboot/dfuse.h"
#include "sysboot/romentry.h"
#include "sysboot/stm32l476.h"
#include "usb.h"
#include "sysboot/byteorder.h"

struct optbytes {
	bool ok;
	uint32_t optr, wrp1a, wrp1b;
};

static void print_wrp(FILE *f, const char *name, uint32_t v, bool json)
{
	unsigned s = v & 0xFF, e = (v >> 16) & 0xFF;

	if (json) {
		fprintf(f, "\"%s\":", name);
		if (s > e)
			fprintf(f, "null");
		else
			fprintf(f, "{\"first_page\":%u,\"last_page\":%u}", s, e);
		return;
	}
	if (s > e)
		fprintf(f, "  %s: none\n", name);
	else
		fprintf(f, "  %s: pages %u-%u (0x%08x-0x%08x) write-protected\n",
			name, s, e, STM32_FLASH_BASE + s * STM32_FLASH_PAGE_SIZE,
			STM32_FLASH_BASE + (e + 1) * STM32_FLASH_PAGE_SIZE - 1);
}

static const char *rdp_text(uint32_t optr)
{
	switch (optr & FLASH_OPTR_RDP) {
	case FLASH_RDP_LEVEL0: return "level 0 (no readout protection)";
	case FLASH_RDP_LEVEL2: return "level 2 (chip locked for good)";
	default: return "level 1 (flash readout protected)";
	}
}

/* Option bytes as JSON members / text lines, the same for both ports. */
static void ob_json(const struct optbytes *ob)
{
	printf(",\"option_bytes\":{\"optr\":\"0x%08x\",\"rdp\":\"0x%02x\","
	       "\"rdp_level\":%d,\"bfb2\":%d,\"dualbank\":%d,"
	       "\"nboot1\":%d,\"iwdg_sw\":%d,\"sram2_rst\":%d,",
	       ob->optr, ob->optr & FLASH_OPTR_RDP,
	       (ob->optr & 0xFF) == FLASH_RDP_LEVEL0 ? 0 :
	       (ob->optr & 0xFF) == FLASH_RDP_LEVEL2 ? 2 : 1,
	       !!(ob->optr & FLASH_OPTR_BFB2),
	       !!(ob->optr & FLASH_OPTR_DUALBANK),
	       !!(ob->optr & FLASH_OPTR_nBOOT1),
	       !!(ob->optr & FLASH_OPTR_IWDG_SW),
	       !!(ob->optr & FLASH_OPTR_SRAM2_RST));
	print_wrp(stdout, "wrp1a", ob->wrp1a, true);
	printf(",");
	print_wrp(stdout, "wrp1b", ob->wrp1b, true);
	printf("}");
}

static void ob_text(const struct optbytes *ob)
{
	printf("option bytes at 0x%08x: OPTR 0x%08x\n", STM32_OPTION_BANK1_BASE,
	       ob->optr);
	printf("  RDP:       0x%02x, %s\n", ob->optr & FLASH_OPTR_RDP,
	       rdp_text(ob->optr));
	printf("  BFB2:      %d (%s)\n", !!(ob->optr & FLASH_OPTR_BFB2),
	       ob->optr & FLASH_OPTR_BFB2 ? "boot from bank 2 when it is valid" :
	       "boot from bank 1");
	printf("  DUALBANK:  %d\n", !!(ob->optr & FLASH_OPTR_DUALBANK));
	printf("  nBOOT1:    %d (%s)\n", !!(ob->optr & FLASH_OPTR_nBOOT1),
	       ob->optr & FLASH_OPTR_nBOOT1 ? "BOOT0=1 starts system memory" :
	       "BOOT0=1 starts SRAM1");
	printf("  IWDG_SW:   %d (%s watchdog)\n", !!(ob->optr & FLASH_OPTR_IWDG_SW),
	       ob->optr & FLASH_OPTR_IWDG_SW ? "software" : "hardware");
	printf("  SRAM2_RST: %d\n", !!(ob->optr & FLASH_OPTR_SRAM2_RST));
	print_wrp(stdout, "WRP1A", ob->wrp1a, false);
	print_wrp(stdout, "WRP1B", ob->wrp1b, false);
}

/* RM0351 3.4.1: option bytes as value / complement double words. */
static void read_option_bytes(struct session *s, struct optbytes *ob)
{
	uint8_t raw[0x28];

	memset(ob, 0, sizeof(*ob));
	if (s->ops->read(s, STM32_OPTION_BANK1_BASE, raw, sizeof(raw)) != OP_OK)
		return;
	ob->ok = true;
	ob->optr = get_le32(raw);
	ob->wrp1a = get_le32(raw + 0x18);
	ob->wrp1b = get_le32(raw + 0x20);
}

static const char *protected_text(const char *port)
{
	static char buf[900];

	snprintf(buf, sizeof(buf), "readout:      PROTECTED (RDP level 1): %s --port %s.",
		 board_rdp1_detail, port);
	return buf;
}

/* Why the board is in the ROM, when sysboot's record says (boardstate.h). */
struct rom_entry_info {
	bool ok;
	uint32_t why;
	char text[160];
};

static void read_rom_entry(struct session *s, struct rom_entry_info *re)
{
	re->ok = board_rom_entry(s, &re->why);
	if (re->ok)
		board_rom_entry_str(re->why, re->text, sizeof(re->text));
}

static void rom_entry_json(const struct rom_entry_info *re)
{
	printf(",\"rom_entry\":");
	if (!re->ok) {
		printf("null");
		return;
	}
	printf("{\"why\":\"0x%02x\",\"reason\":", (unsigned)re->why);
	json_str(stdout, re->text);
	printf("}");
}

static void rom_entry_text(const struct rom_entry_info *re)
{
	if (re->ok)
		printf("entered by:   %s (record 0x%02x at 0x%08x)\n", re->text,
		       (unsigned)re->why, SYSBOOT_ROM_RECORD_ADDR);
}

static void protected_json(void)
{
	printf(",\"option_bytes\":null,\"rdp_level\":1,\"readout_protection\":");
	json_str(stdout, board_rdp1_text);
}

static void info_an3155(const struct rom_common *rc, struct session *s)
{
	struct optbytes ob = { 0 };
	struct rom_entry_info re = { 0 };
	uint8_t idbyte = 0;
	bool id_ok;
	unsigned i;

	/* AN2606: the bootloader ID byte; refused under RDP level 1. */
	id_ok = s->ops->read(s, STM32_BOOTLOADER_ID_ADDR, &idbyte, 1) == OP_OK;
	if (id_ok) {
		read_option_bytes(s, &ob);
		read_rom_entry(s, &re);
	}
	if (rc->json) {
		printf("{\"command\":\"info\",\"ok\":true,\"port\":");
		json_str(stdout, rc->co.port);
		printf(",\"protocol\":\"AN3155\"");
		printf(",\"chip\":{\"device_id\":\"0x%03x\",\"name\":\"STM32L47x/48x\"}",
		       s->chip.pid);
		printf(",\"bootloader\":{\"id\":");
		if (id_ok)
			printf("\"0x%02x\"", idbyte);
		else
			printf("null");
		printf(",\"protocol\":\"%u.%u\",\"version_options\":[%u,%u],\"commands\":[",
		       s->chip.protocol >> 4, s->chip.protocol & 0xF,
		       s->chip.opt[0], s->chip.opt[1]);
		for (i = 0; i < s->an.ncmds; i++)
			printf("%s\"0x%02x\"", i ? "," : "", s->an.cmds[i]);
		printf("]},\"readable\":%s", id_ok ? "true" : "false");
		rom_entry_json(&re);
		if (ob.ok)
			ob_json(&ob);
		else
			protected_json();
		printf("}\n");
		return;
	}
	printf("port:         %s\n", rc->co.port);
	printf("chip:         STM32L47x/48x (device ID 0x%03x)\n", s->chip.pid);
	if (id_ok)
		printf("bootloader:   ID 0x%02x (%s)\n", idbyte,
		       idbyte == 0xA3 ? "V10.x, silicon rev 2/3" :
		       idbyte == 0x92 ? "V9.x, silicon rev 4" : "unknown version");
	else
		printf("bootloader:   ID unknown (reading 0x%08x was refused)\n",
		       STM32_BOOTLOADER_ID_ADDR);
	printf("protocol:     %u.%u (Get Version: 0x%02x, options 0x%02x 0x%02x)\n",
	       s->chip.protocol >> 4, s->chip.protocol & 0xF, s->chip.version,
	       s->chip.opt[0], s->chip.opt[1]);
	printf("commands:    ");
	for (i = 0; i < s->an.ncmds; i++)
		printf(" 0x%02x", s->an.cmds[i]);
	printf("\n");
	for (i = 0; i < s->an.ncmds; i++)
		printf("  0x%02x %s\n", s->an.cmds[i], an3155_cmd_name(s->an.cmds[i]));
	if (!ob.ok) {
		printf("%s\n", protected_text(rc->co.port));
		return;
	}
	rom_entry_text(&re);
	ob_text(&ob);
}

static const char *dfuse_cmd_name(uint8_t c)
{
	switch (c) {
	case DFUSE_CMD_GET_COMMANDS: return "Get Commands";
	case DFUSE_CMD_SET_ADDRESS: return "Set Address Pointer";
	case DFUSE_CMD_ERASE: return "Erase";
	case DFUSE_CMD_READ_UNPROTECT: return "Read Unprotect";
	}
	return "unknown command";
}

static void info_dfuse(const struct rom_common *rc, struct session *s)
{
	const struct usb_device_info *u = dfuse_session_device(s);
	struct dfuse *d = dfuse_session_client(s);
	struct optbytes ob = { 0 };
	struct rom_entry_info re = { 0 };
	uint8_t cmds[16], probe[8];
	size_t ncmds = 0, i;
	bool readable, cmds_ok;
	char ob_why[sizeof(s->err)] = "";

	cmds_ok = dfuse_get_commands(d, cmds, sizeof(cmds), &ncmds) == DF_OK;
	/* Under RDP level 1 the ROM refuses uploads (AN3156). */
	readable = s->ops->read(s, STM32_FLASH_BASE, probe, sizeof(probe)) == OP_OK;
	if (readable) {
		read_option_bytes(s, &ob);
		if (!ob.ok)
			snprintf(ob_why, sizeof(ob_why), "%s", s->err);
		read_rom_entry(s, &re);
	}
	if (rc->json) {
		printf("{\"command\":\"info\",\"ok\":true,\"port\":");
		json_str(stdout, rc->co.port);
		printf(",\"protocol\":\"DfuSe\",\"usb\":{\"vid\":\"0x%04x\","
		       "\"pid\":\"0x%04x\",\"bcd_device\":\"0x%04x\",\"bus\":%u,"
		       "\"address\":%u,\"serial\":", u->vid, u->pid, u->bcd_device,
		       u->bus, u->address);
		json_str(stdout, u->serial);
		printf(",\"transfer_size\":%u,\"bcd_dfu\":\"0x%04x\"}",
		       u->func.transfer_size, u->func.bcd_dfu);
		printf(",\"chip\":{\"device_id\":null,\"name\":\"STM32L47x/48x\"}");
		printf(",\"bootloader\":{\"commands\":");
		if (cmds_ok) {
			printf("[");
			for (i = 0; i < ncmds; i++)
				printf("%s\"0x%02x\"", i ? "," : "", cmds[i]);
			printf("]");
		} else {
			printf("null");
		}
		printf("},\"alternates\":[");
		for (i = 0; i < d->nalts; i++) {
			printf("%s{\"alt\":%u,\"name\":", i ? "," : "", d->alts[i].alt);
			json_str(stdout, d->alts[i].parsed ? d->alts[i].layout.name : "");
			printf(",\"layout\":");
			json_str(stdout, d->alts[i].desc);
			printf("}");
		}
		printf("],\"readable\":%s", readable ? "true" : "false");
		rom_entry_json(&re);
		if (ob.ok)
			ob_json(&ob);
		else if (readable)
			printf(",\"option_bytes\":null");
		else
			protected_json();
		printf("}\n");
		return;
	}
	printf("port:         %s (USB %04x:%04x, bus %u device %u%s%s)\n",
	       rc->co.port, u->vid, u->pid, u->bus, u->address,
	       u->serial[0] ? ", serial " : "", u->serial);
	printf("chip:         STM32L47x/48x (known by its DFU interface: the ROM's "
	       "IDs and 1 MB of internal flash in 2 KB pages; DFU has no Get ID)\n");
	printf("bootloader:   DfuSe, bcdDevice 0x%04x, bcdDFU 0x%04x, transfer size "
	       "%u bytes\n", u->bcd_device, u->func.bcd_dfu, u->func.transfer_size);
	if (cmds_ok) {
		printf("commands:    ");
		for (i = 0; i < ncmds; i++)
			printf(" 0x%02x", cmds[i]);
		printf("\n");
		for (i = 0; i < ncmds; i++)
			printf("  0x%02x %s\n", cmds[i], dfuse_cmd_name(cmds[i]));
	} else {
		printf("commands:     unknown (Get Commands failed: %s)\n",
		       dfuse_error(d));
	}
	printf("memories:\n");
	for (i = 0; i < d->nalts; i++)
		printf("  alt %u: %s\n", d->alts[i].alt, d->alts[i].desc);
	if (!readable) {
		printf("%s\n", protected_text(rc->co.port));
		return;
	}
	rom_entry_text(&re);
	if (!ob.ok) {
		printf("option bytes: not readable over DFU (%s)\n", ob_why);
		return;
	}
	ob_text(&ob);
}

int cmd_info(int argc, char **argv)
{
	struct rom_common rc = { 0 };
	struct session s;
	char err[768];
	enum op_status st;
	int r;

	if (!rom_common_only(argc, argv, &rc, ROM_CONNECT_USAGE, &r))
		return r;
	if (optind != argc)
		return rom_usage(argv[0], ROM_CONNECT_USAGE);
	if ((r = rom_check_connect(&rc, argv[0])))
		return r;
	st = session_open(&s, &rc.co, err, sizeof(err));
	if (st != OP_OK)
		return rom_fail(&rc, argv[0], st, err);
	if (port_is_usb(rc.co.port))
		info_dfuse(&rc, &s);
	else
		info_an3155(&rc, &s);
	session_close(&s);
	return ROM_EXIT_OK;
}
