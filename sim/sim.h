/*
 * sim.h - public API of the emulated Nucleo-L476RG.
 *
 * The sysboot-sim command-line tool and the tests drive a board through this
 * header only: create it with a configuration, load firmware, power it,
 * run it until something happens, inject events (reset, power cut, button,
 * serial bytes) and read back what happened (trace, memory, serial output).
 */
#ifndef SIM_SIM_H
#define SIM_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Simulated time in picoseconds since power-on. */
typedef uint64_t sim_time_t;
#define SIM_NS(x) ((sim_time_t)(x) * 1000ull)
#define SIM_US(x) ((sim_time_t)(x) * 1000000ull)
#define SIM_MS(x) ((sim_time_t)(x) * 1000000000ull)
#define SIM_S(x)  ((sim_time_t)(x) * 1000000000000ull)

enum sim_reset_cause {
	SIM_RESET_POWER_ON,
	SIM_RESET_PIN,           /* NRST pin: the Nucleo's black button */
	SIM_RESET_SOFTWARE,      /* SCB_AIRCR.SYSRESETREQ */
	SIM_RESET_IWDG,
	SIM_RESET_OPTION_LOAD,   /* FLASH_CR.OBL_LAUNCH */
};

enum sim_trace_kind {
	SIM_TRACE_RESET,         /* a reset with its cause, and where the core starts */
	SIM_TRACE_POWER,         /* power on, power cut */
	SIM_TRACE_REMAP,         /* the boot alias changed */
	SIM_TRACE_JUMP,          /* execution moved between flash, system memory and SRAM */
	SIM_TRACE_FAULT,         /* the core stopped on a fault */
	SIM_TRACE_LOST_WRITE,    /* a register write lost because its clock is off */
	SIM_TRACE_ROM,           /* ROM bootloader events */
	SIM_TRACE_FLASH,         /* flash program/erase/option operations and errors */
	SIM_TRACE_WATCHDOG,
	SIM_TRACE_UART,
	SIM_TRACE_USB,           /* the ROM's USB DFU device: offered or not and why, attach, detach, DFU errors */
	SIM_TRACE_NOTE,          /* anything else worth telling a user */
	SIM_TRACE_KIND_COUNT,
};

struct sim_trace_entry {
	sim_time_t time;
	uint64_t insns;
	enum sim_trace_kind kind;
	uint32_t pc;
	char text[320];
};

/* Where a USART's lines go. */
enum sim_link_kind {
	SIM_LINK_NONE,           /* nothing connected: bytes sent are dropped */
	SIM_LINK_MEMORY,         /* in-process buffers (tests) */
	SIM_LINK_PTY,            /* a pseudo-terminal; path = symlink to create, or NULL */
	SIM_LINK_TCP,            /* listen on 127.0.0.1:port */
};

struct sim_link_config {
	enum sim_link_kind kind;
	const char *path;        /* PTY: symlink to the slave; may be NULL */
	uint16_t port;           /* TCP */
};

/*
 * What the ROM bootloader does with an independent watchdog that is already
 * running when it starts. AN2606 says the ROM sets the IWDG prescaler to
 * its maximum and refreshes the watchdog periodically, but not at which
 * point of its start-up (55 ms with LSE, 2.56 s without): UNCERTAIN, so a
 * parameter. The default follows ST's OpenBootloader, which reprograms the
 * prescaler and reloads once while it initialises and refreshes from its
 * main loop, once ready.
 */
enum sim_rom_iwdg {
	SIM_ROM_IWDG_ONCE,       /* prescaler to maximum and one reload at entry; refreshed once ready */
	SIM_ROM_IWDG_ALWAYS,     /* prescaler to maximum at entry, refreshed all through the start-up */
	SIM_ROM_IWDG_READY,      /* untouched until the start-up is over, then as ONCE */
};

/* Timing parameters of the model (DS10198 typical values by default). */
struct sim_timing {
	sim_time_t flash_dword_program;   /* 82 us typ */
	sim_time_t flash_page_erase;      /* 22 ms typ */
	sim_time_t flash_bank_erase;      /* 22 ms typ */
	sim_time_t rom_startup_lse;       /* ROM start-up with LSE present: 55 ms */
	sim_time_t rom_startup_no_lse;    /* without LSE: 2.56 s */
	sim_time_t rom_usb_connect;       /* USB DFU attaches this long after start-up: 300 ms */
	sim_time_t usb_bit;               /* one bit on a full-speed bus: 1 / 12 MHz */
};

/*
 * What a power cut leaves of a double word being programmed. RM0351 does not
 * say; the chip programs the 64 data bits and 8 ECC bits together, so a cut
 * can leave any part of them programmed (UNCERTAIN: a model parameter).
 */
enum sim_torn_mode {
	SIM_TORN_NONE,           /* nothing of it is written (default) */
	SIM_TORN_BITS,           /* part of its bits are programmed, ECC still consistent */
	SIM_TORN_ECC,            /* part programmed, ECC inconsistent: reading it is an
				  * uncorrectable error (FLASH_ECCR.ECCD, NMI; RM0351 3.3.8) */
};

/* Where the ROM's USB device (USB OTG FS, PA11/PA12) goes when it attaches. */
enum sim_usb_kind {
	SIM_USB_NONE,            /* nothing on the USB connector */
	SIM_USB_MEMORY,          /* an in-process host: sim_usb_control() (tests) */
	SIM_USB_UMOCKDEV,        /* a umockdev testbed: libusb programs under libumockdev-preload */
};

struct sim_usb_config {
	enum sim_usb_kind kind;
	const char *env_path;    /* umockdev: write UMOCKDEV_DIR=... and LD_PRELOAD=... lines here */
};

/*
 * The ROM's DFU writes of more than 256 bytes whose length is not a
 * multiple of 8 (a documented ROM limit, AN2606): what becomes of them.
 */
enum sim_dfu_tail {
	SIM_DFU_TAIL_LOST,       /* default: the last len % 8 bytes are silently not written */
	SIM_DFU_TAIL_PAD,        /* padded with 0xFF like short writes (a ROM without the limit) */
	SIM_DFU_TAIL_ERROR,      /* refused: dfuERROR, errWRITE */
};

/*
 * Where the ROM does the flash work of a DFU download (a Set Address, an
 * erase, a data block): UNCERTAIN, no public document says for this ROM.
 * It starts on the GETSTATUS that answers dfuDNBUSY (AN3156); DFU 1.1
 * means it to run while the host waits the bwPollTimeout of that answer,
 * and ST's USB device library runs it before it completes that GETSTATUS's
 * status stage, so that the host sees the answer once the work is done and
 * then waits bwPollTimeout as well (docs/sim.md).
 */
enum sim_dfu_work {
	SIM_DFU_WORK_AFTER_STATUS, /* default: once the GETSTATUS has reached the host */
	SIM_DFU_WORK_IN_STATUS,  /* before that GETSTATUS completes (ST's USB device library) */
};

#define SIM_DFU_ALTS 4           /* internal flash, option bytes, OTP, device feature */

struct sim_config {
	const char *flash_path;  /* keeps flash between runs; NULL: in memory only */
	bool boot0;              /* BOOT0 pin level */
	bool lse;                /* 32.768 kHz crystal fitted (the Nucleo has one) */
	uint32_t hse_hz;         /* HSE frequency (0 = none; ST-LINK MCO gives 8 MHz) */
	uint8_t bootloader_id;   /* byte at 0x1FFF6FFE: 0xA3 (V10.x) or 0x92 (V9.x) */
	uint32_t rom_sram_reserved; /* bytes of SRAM1 the ROM uses: 12 KB (V10) */
	uint32_t rom_sp_min;     /* dual-bank boot: a first word in [min, max] */
	uint32_t rom_sp_max;     /*   counts as a valid stack pointer (AN2606) */
	enum sim_rom_iwdg rom_iwdg; /* the ROM and a running watchdog (see above) */
	/*
	 * The NVIC priority byte the ROM gives its USB (OTG_FS) interrupt: its
	 * USB DFU works only if that interrupt can preempt the execution
	 * priority it is entered with (BASEPRI, an active handler). UNCERTAIN,
	 * no ST document gives it: 0x60 (level 6 of 16), as ST's USB device
	 * examples set it.
	 */
	uint8_t rom_usb_irq_priority;
	bool vbat;               /* backup domain kept across power cuts */
	bool realtime;           /* never run ahead of the wall clock */
	bool instant_host;       /* the ROM's waits for the host take no time (see below) */
	uint32_t sram_seed;      /* pattern of SRAM after power-on */
	struct sim_link_config usart[3]; /* USART1..3 */
	struct sim_usb_config usb;       /* the USB connector */
	const char *usb_serial;  /* ROM USB serial string; NULL: derived from the unique ID */
	uint16_t usb_bcd_device; /* bcdDevice of the ROM's device descriptor (0x2200) */
	const char *dfu_alt_names[SIM_DFU_ALTS]; /* DfuSe memory layout strings; NULL: defaults */
	enum sim_dfu_tail dfu_tail;
	enum sim_dfu_work dfu_work;
	struct sim_timing timing;
	enum sim_torn_mode torn_program; /* a power cut during a double-word program */
	uint32_t optr;           /* program the OPTR option bytes to this before power-on, as a
				  * debugger would (0: as the flash file holds them) */
	FILE *trace_out;         /* also print trace lines here when not NULL */
};

/* Fill a configuration with the defaults of a Nucleo-L476RG. */
void sim_config_default(struct sim_config *cfg);

enum sim_stop_reason {
	SIM_STOP_NONE,
	SIM_STOP_TIME,           /* the time limit was reached */
	SIM_STOP_INSNS,          /* the instruction limit was reached */
	SIM_STOP_PC,             /* the CPU reached the requested address */
	SIM_STOP_UART,           /* the expected serial output appeared */
	SIM_STOP_ROM,            /* the ROM bootloader was entered, or it waits for input
	                            that cannot come while it runs (memory link, instant host) */
	SIM_STOP_FAULT,          /* the core faulted: see sim_fault_text() */
	SIM_STOP_POWER_OFF,      /* power was cut */
};

struct sim_board;

/* Create a board; on failure returns NULL with a message in err. */
struct sim_board *sim_board_new(const struct sim_config *cfg, char *err, size_t errlen);
void sim_board_free(struct sim_board *sb);

/*
 * Write firmware into flash as a debugger would (page erase + program,
 * without simulated time). ELF files go by their load addresses; binary
 * files at addr. Returns 0 or -1 with a message in err.
 */
int sim_load_file(struct sim_board *sb, const char *path, uint32_t addr, char *err, size_t errlen);
int sim_load_bytes(struct sim_board *sb, uint32_t addr, const void *data, size_t len, char *err, size_t errlen);
/* Erase all of main flash (as a debugger's mass erase). */
void sim_erase_flash(struct sim_board *sb);

void sim_power_on(struct sim_board *sb);
void sim_power_off(struct sim_board *sb);
void sim_reset(struct sim_board *sb, enum sim_reset_cause cause);
/* Cut power when the given instruction count, or the given time, is reached. */
void sim_power_cut_at_insn(struct sim_board *sb, uint64_t insns);
void sim_power_cut_at_time(struct sim_board *sb, sim_time_t when);
void sim_set_button(struct sim_board *sb, bool pressed);

/*
 * Points of the update path a power cut can be aimed at, whatever the
 * host's timing: each model reports them as they happen, with the address
 * concerned, and a trigger cuts the power a given time after the nth one
 * whose address is in range.
 */
enum sim_cut_point {
	SIM_CUT_ROM_ENTRY,       /* the CPU reached the ROM bootloader's entry point */
	SIM_CUT_ERASE,           /* a page or bank erase starts (its first address) */
	SIM_CUT_PROGRAM,         /* a double word starts programming (its address) */
	SIM_CUT_BLOCK,           /* the ROM acknowledged a block written to flash (its address) */
	SIM_CUT_GO,              /* the ROM starts code (AN3155 Go; its address) */
	SIM_CUT_POINT_COUNT,
};

struct sim_cut_trigger {
	enum sim_cut_point point;
	uint32_t lo, hi;         /* only events at an address in [lo, hi] */
	unsigned nth;            /* the nth such event since the board was created, from 1 */
	sim_time_t delay;        /* from the event to the cut */
};

/*
 * Parse "POINT[@ADDR[-END]][#N][+MICROSECONDS]", POINT one of rom-entry,
 * erase, program, block, go (e.g. "program@0x08002000-0x0800203f#3+40").
 * Returns 0, or -1 with a message in err.
 */
int sim_cut_trigger_parse(const char *spec, struct sim_cut_trigger *t, char *err, size_t errlen);
/* Arm a trigger (one at a time; a new one replaces the last). */
void sim_power_cut_on(struct sim_board *sb, const struct sim_cut_trigger *t);
/* How many times each point was reached, and its name in trigger syntax. */
unsigned long sim_cut_point_count(const struct sim_board *sb, enum sim_cut_point p);
const char *sim_cut_point_name(enum sim_cut_point p);
void sim_set_boot0(struct sim_board *sb, bool level);

struct sim_run_limits {
	sim_time_t until_time;   /* absolute simulated time; 0 = none */
	uint64_t max_insns;      /* instructions from now; 0 = none */
	bool stop_at_pc;
	uint32_t pc;
	const char *uart_text;   /* stop when this appears in usart2 output; NULL = none */
	bool stop_on_rom;        /* stop when the ROM bootloader is entered */
};

enum sim_stop_reason sim_run(struct sim_board *sb, const struct sim_run_limits *lim);

const char *sim_stop_reason_str(enum sim_stop_reason reason);
const char *sim_fault_text(const struct sim_board *sb);

/* What a fault was, for programs that act on it (the diagnose command). */
enum sim_fault_kind {
	SIM_FAULT_NONE,
	SIM_FAULT_EVEN_BRANCH,       /* a branch to an even address; addr: the target */
	SIM_FAULT_SYSMEM_BRANCH,     /* into system memory, not at the ROM's entry point; addr: the target */
	SIM_FAULT_NO_MEMORY,         /* execution where nothing is mapped; addr: the target */
	SIM_FAULT_OTHER,
};

struct sim_fault {
	enum sim_fault_kind kind;
	uint32_t pc;                 /* the instruction that faulted (for a branch: the branch) */
	uint32_t addr;
};
/* The last fault (kind SIM_FAULT_NONE when the board never faulted). */
void sim_fault_info(const struct sim_board *sb, struct sim_fault *f);

/*
 * Make the CPU call the function at addr as a debugger's "call" does: at
 * the next instruction boundary in thread mode the core registers are
 * saved, LR points to a return trap and PC to the function (bit 0 is set
 * for Thumb); when the function returns, the registers are restored and
 * the firmware carries on where it was, interrupts and peripherals as the
 * function left them. A reset abandons the call. Returns -1 when a call is
 * already pending or running.
 */
enum sim_call_state {
	SIM_CALL_NONE,
	SIM_CALL_PENDING,            /* waiting for thread mode */
	SIM_CALL_RUNNING,
	SIM_CALL_RETURNED,
};
int sim_call(struct sim_board *sb, uint32_t addr);
enum sim_call_state sim_call_state(const struct sim_board *sb);

/*
 * Watching the board from outside (the diagnose command). The callbacks
 * run inside the emulation, between or during instructions, and may read
 * the board (sim_read_mem, sim_locate ...) but must not run or reset it.
 */
struct sim_access {
	uint32_t pc;                 /* the instruction */
	uint32_t addr;
	uint32_t value;              /* written, or read */
	unsigned size;               /* bytes */
	bool write;
	bool lost;                   /* the peripheral's clock is off: write lost, read gave 0 */
	const char *periph;          /* "SYSCFG", "RCC" ...; NULL for SRAM */
};

struct sim_observer {
	void *ctx;
	/* The CPU reached the ROM's entry point; the ROM model has not acted yet. */
	void (*rom_entry)(void *ctx, struct sim_board *sb, uint32_t from_pc);
	/* A reset happened; the core is about to fetch its reset vector's code. */
	void (*reset)(void *ctx, struct sim_board *sb, enum sim_reset_cause cause);
	/* Every CPU access to a peripheral register, and to SRAM when sram is set. */
	void (*access)(void *ctx, struct sim_board *sb, const struct sim_access *a);
	bool sram;                   /* SRAM accesses too (slows the CPU down) */
};
/* Install an observer (copied), or remove it with NULL. One at a time. */
void sim_observe(struct sim_board *sb, const struct sim_observer *obs);

/* State. */
sim_time_t sim_now(const struct sim_board *sb);
uint64_t sim_insns(const struct sim_board *sb);
bool sim_in_rom(const struct sim_board *sb);
uint32_t sim_pc(const struct sim_board *sb);
int sim_read_mem(struct sim_board *sb, uint32_t addr, void *buf, size_t len);
uint32_t sim_read32(struct sim_board *sb, uint32_t addr);
/* Write SRAM as a debugger would (flash goes through sim_load_bytes). */
int sim_write_mem(struct sim_board *sb, uint32_t addr, const void *buf, size_t len);
bool sim_led(const struct sim_board *sb);
unsigned sim_led_toggles(const struct sim_board *sb);

/* Symbols of the ELF files loaded with sim_load_file (0 if unknown). */
uint32_t sim_symbol(const struct sim_board *sb, const char *name);

/*
 * Where an address comes from, per the ELF files loaded: the function or
 * object holding it, the section, and the source line when the file has
 * DWARF line information. Pointers stay valid while the board lives.
 */
struct sim_location {
	uint32_t addr;
	const char *elf;             /* the ELF file; NULL: no loaded file knows addr */
	const char *symbol;          /* NULL when no symbol covers addr */
	uint32_t offset;             /* addr - start of symbol */
	const char *section;         /* ".text", ".bss", ... NULL when none */
	uint32_t section_start;
	bool section_writable;
	const char *file;            /* source file, NULL without line information */
	unsigned line;
};
bool sim_locate(const struct sim_board *sb, uint32_t addr, struct sim_location *loc);
/*
 * The loaded ELF files, in load order: up to max paths and, for each, why
 * it has no line information ("" when it has). Returns how many there are.
 */
size_t sim_debug_files(const struct sim_board *sb, const char **paths, const char **errors,
		       size_t max);

/* USART n (1..3) with a memory link: inject input, take output. */
void sim_uart_send(struct sim_board *sb, unsigned n, const void *data, size_t len);
size_t sim_uart_take(struct sim_board *sb, unsigned n, char *buf, size_t cap);
/* The path of a PTY link's slave side ("" when not a PTY). */
const char *sim_uart_pty(const struct sim_board *sb, unsigned n);

/*
 * A bad serial line for the ROM bootloader's traffic, both directions:
 * each byte is dropped with probability drop_ppm / 10^6, else one of its
 * bits is flipped with probability corrupt_ppm / 10^6 (repeatable: seed).
 */
void sim_line_faults(struct sim_board *sb, uint32_t drop_ppm, uint32_t corrupt_ppm, uint32_t seed);
void sim_line_fault_counts(const struct sim_board *sb, uint64_t *dropped, uint64_t *corrupted);
/*
 * A slow line, on top of the faults above: a byte is held back by delay
 * with probability delay_ppm / 10^6, or by stall (longer than a host's
 * timeout) with probability stall_ppm / 10^6; the bytes behind it wait too,
 * as on a wire.
 */
void sim_line_delays(struct sim_board *sb, uint32_t delay_ppm, sim_time_t delay,
		     uint32_t stall_ppm, sim_time_t stall);
void sim_line_delay_counts(const struct sim_board *sb, uint64_t *delayed, uint64_t *stalled);

/*
 * The ROM's USB device as an in-process host sees it (SIM_USB_MEMORY).
 * sim_usb_control() sends one control transfer and runs the board until it
 * is answered or timeout of simulated time has passed. Returns the bytes
 * of the data stage, -EPIPE (the device stalled), -ENODEV (no device on
 * the bus), -ETIMEDOUT (nothing answered: the ROM is not running).
 */
bool sim_usb_attached(const struct sim_board *sb);
int sim_usb_control(struct sim_board *sb, uint8_t request_type, uint8_t request, uint16_t value,
		    uint16_t index, void *data, uint16_t length, sim_time_t timeout);
/* The environment a libusb program needs to reach the umockdev testbed ("" if none). */
const char *sim_usb_env(const struct sim_board *sb);

/* Simulated time since the ROM bootloader was last entered. */
sim_time_t sim_rom_session_time(const struct sim_board *sb);

/*
 * What the last ROM bootloader session spent its time on, for measuring
 * updates. With cfg.instant_host the ROM's waits for the host take no
 * simulated time (a host that answers at once), so a session's duration is
 * exactly its bytes on the wire or its USB transfers on the bus, plus what
 * the flash took, plus the part of each DFU poll timeout the flash work did
 * not fill (the host honours it), and the code the board ran after a Go:
 * repeatable to the picosecond however slow the host program or the
 * machine is. Without it, those waits follow the wall clock.
 */
struct sim_rom_session {
	sim_time_t entered;          /* the ROM bootloader was entered */
	sim_time_t first_byte;       /* the host's first byte (or USB transfer) began; 0: none yet */
	sim_time_t frame_time;       /* one byte on the wire: 11 bits (8E1) at the host's baud */
	uint64_t bytes_in, bytes_out;   /* bytes on the wire, host to board and back */
	uint64_t turnarounds;        /* times the host sent after the board had answered */
	sim_time_t erase_time;       /* flash busy erasing for the host */
	sim_time_t program_time;     /* flash busy programming for the host */
	sim_time_t idle_time;        /* simulated time waiting for the host, from its first byte */
	uint64_t host_wait_ns;       /* wall time waiting for the host, from its first byte */
	uint64_t usb_transfers;      /* USB control transfers served (DFU) */
	sim_time_t usb_bus_time;     /* their time on the full-speed bus */
	sim_time_t usb_poll_wait;    /* instant host: bwPollTimeout waited out beyond the flash work */
	sim_time_t usb_last_answer;  /* the last transfer's answer had crossed the bus */
};
void sim_rom_session(const struct sim_board *sb, struct sim_rom_session *s);

/*
 * When the last byte sent on USART n's line (1..3), by the USART or by the
 * ROM bootloader on it, had left the board; 0 before the first.
 */
sim_time_t sim_uart_last_tx(const struct sim_board *sb, unsigned n);

/* Trace. */
size_t sim_trace_count(const struct sim_board *sb);
const struct sim_trace_entry *sim_trace_get(const struct sim_board *sb, size_t i);
/* First entry at or after index from whose kind matches and text contains needle. */
const struct sim_trace_entry *sim_trace_find(const struct sim_board *sb, size_t from,
					     enum sim_trace_kind kind, const char *needle);
const char *sim_trace_kind_str(enum sim_trace_kind kind);

#endif /* SIM_SIM_H */
