/*
 * board.h - the emulated Nucleo-L476RG: board state and the interfaces the
 * peripheral models use to talk to the core.
 *
 * The core owns Unicorn, memory, simulated time, events, interrupts and
 * resets: board.c builds, resets and powers the board, run.c runs it,
 * memmap.c maps its memory and routes register accesses, event.c keeps
 * time, trace.c records what happened, cpu.c is the exception model and
 * inspect.c what sim.h lets the outside see and do. Each peripheral model owns its registers and reacts
 * to register accesses, events and resets. Nothing here is visible to
 * firmware; sim.h is the public API used by the command-line tool and tests.
 */
#ifndef SIM_BOARD_H
#define SIM_BOARD_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <unicorn/unicorn.h>

#include "sysboot/stm32l476.h"
#include "sim.h"
#include "event.h"
#include "flash.h"
#include "usart.h"

struct usb_link;

/* ---- Simulated time --------------------------------------------------- */
/* sim_time_t and SIM_US()/SIM_MS() are in sim.h, timed events in event.h. */

/*
 * Let delay of simulated time pass outside the CPU (used by the native ROM
 * model while a flash operation or a byte on the wire takes its time).
 * Events that fall due run in order. Returns false when the board lost power
 * or was reset while waiting: the caller must abandon what it was doing.
 */
bool board_advance(struct board *b, sim_time_t delay);

/* Run every event due at or before the current time (event.c). */
void board_run_due_events(struct board *b);

/* ---- Resets ------------------------------------------------------------- */
enum reset_kind {
	RESET_POWER_ON,   /* everything volatile lost, backup domain too */
	RESET_SYSTEM,     /* NRST, software, watchdog: SRAM and backup domain kept */
};

/*
 * Request a system reset from inside a model (software reset, watchdog,
 * option byte loading). It takes effect before the next instruction.
 */
void board_request_reset(struct board *b, enum sim_reset_cause cause);

/* Reset the board now (board.c): the run loop, once a request is made. */
void board_reset(struct board *b, enum sim_reset_cause cause);

/* The power is gone: stop the core, leave the flash as the cut left it. */
void board_power_lost(struct board *b);

/*
 * A point of the update path was reached (cutpoint.c): counts it and, when
 * it is the one an armed trigger waits for, schedules the power cut.
 */
void board_cut_point(struct board *b, enum sim_cut_point p, uint32_t addr);

/* ---- Peripheral register access ----------------------------------------- */
/*
 * A memory-mapped peripheral. The core routes accesses within
 * [base, base + size) to read/write with the offset from base. When enr is
 * non-zero the peripheral is clocked by bit enbit of the RCC register at
 * offset enr: while that bit is clear, writes are lost and reads return 0,
 * as on the chip, and the core traces the lost write.
 */
struct periph {
	const char *name;
	uint32_t base;
	uint32_t size;
	uint32_t (*read)(struct board *b, void *state, uint32_t off, unsigned size);
	void (*write)(struct board *b, void *state, uint32_t off, unsigned size, uint32_t val);
	void *state;
	uint32_t enr;
	uint32_t enbit;
};

/* ---- Interrupts --------------------------------------------------------- */
/* Pend exception exc (EXC_SYSTICK, EXC_PENDSV, EXC_IRQ0 + n ...). */
void nvic_set_pending(struct board *b, unsigned exc);
/* Drive a level-sensitive interrupt line of the NVIC (IRQ n). */
void nvic_set_irq_level(struct board *b, unsigned irq, bool level);

/* ---- Clocks ------------------------------------------------------------- */
uint32_t rcc_sysclk_hz(const struct board *b);
uint32_t rcc_hclk_hz(const struct board *b);
uint32_t rcc_pclk1_hz(const struct board *b);
uint32_t rcc_pclk2_hz(const struct board *b);
bool rcc_clock_enabled(const struct board *b, uint32_t enr, uint32_t enbit);
/* Called by RCC when HCLK changes, so the CPU time step and SysTick follow. */
void board_clock_changed(struct board *b);

/* ---- Memory ------------------------------------------------------------- */
/*
 * Host copies of the chip's memories. flash is the 1 MB main flash, info is
 * the 0x1FFF7000 page (OTP, unique ID, flash size, bank 1 option bytes) and
 * info2 the 0x1FFFF000 page (bank 2 option bytes). The flash model is the
 * only writer of flash, info and info2 while the board runs; after changing
 * bytes that may hold code it calls board_flash_changed().
 */
void board_flash_changed(struct board *b, uint32_t addr, uint32_t len);

/*
 * The flash model's list of double words with an uncorrectable ECC error
 * changed: CPU data reads of them must raise ECCD and the NMI (flash.c's
 * flash_ecc_read()). Reinstalls the read hook that watches them.
 */
void board_ecc_watch(struct board *b);

/* Read or write memory as a bus master other than the CPU (ROM model). */
int board_mem_read(struct board *b, uint32_t addr, void *buf, uint32_t len);
int board_mem_write(struct board *b, uint32_t addr, const void *buf, uint32_t len);

/*
 * SYSCFG_MEMRMP was written: the boot alias at 0x00000000 follows its
 * MEM_MODE and FB_MODE from the next instruction fetch (board_apply_remap
 * reads the register then; the arguments say what was written).
 */
void board_set_memory_mode(struct board *b, unsigned mem_mode, bool fb_mode);

/* memmap.c: the mappings. */
/* Map every memory and the peripheral windows into Unicorn, at creation. */
int board_map_memory(struct board *b, char *err, size_t errlen);
/* At reset: mem_mode at 0x00000000, the banks unswapped, old code dropped. */
void board_map_boot(struct board *b, unsigned mem_mode);
/* Apply a pending remap; runs between instructions. */
void board_apply_remap(struct board *b);
/*
 * Drop translated code after memory changed behind the CPU's back. Range
 * by range: a full TB flush makes Unicorn 2.0.1 clear its whole 1 GB code
 * buffer, which takes a second.
 */
void board_flush_translations(struct board *b);
/* An address as the CPU sees it, to the host byte behind it; NULL if none. */
uint8_t *board_host_ptr(struct board *b, uint32_t addr, uint32_t len);
/* The peripheral whose registers hold addr, or NULL. */
struct periph *board_find_periph(struct board *b, uint32_t addr);
/* "main flash", "system memory", ... for SYSCFG_MEMRMP.MEM_MODE. */
const char *board_mem_mode_name(unsigned mode);

/* ---- Trace -------------------------------------------------------------- */
void board_trace(struct board *b, enum sim_trace_kind kind, uint32_t pc,
		 const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* ---- The small peripherals (periph.c, rcc.c) ---------------------------- */
struct rcc_state {
	uint32_t cr, icscr, cfgr, pllcfgr, cier, cifr;
	uint32_t ahb1enr, ahb2enr, ahb3enr, apb1enr1, apb1enr2, apb2enr;
	uint32_t ccipr, bdcr, csr;
	uint32_t other[64];          /* registers kept but not modelled */
	struct sim_event lse_ready;
};

struct pwr_state {
	uint32_t cr1, cr2, cr3, cr4, scr;
};

struct rtc_state {
	uint32_t bkp[RTC_BKP_COUNT];
	uint32_t wpr_stage;
};

struct syscfg_state {
	uint32_t memrmp, cfgr1;
};

struct crc_state {
	uint32_t dr, idr, cr, init, pol;
};

struct gpio_state {
	uint32_t moder, otyper, ospeedr, pupdr, odr, afrl, afrh, lckr, ascr;
	uint32_t input;              /* levels driven from outside */
};

struct iwdg_state {
	bool running;
	bool unlocked;
	uint32_t pr, rlr, winr;
	sim_time_t reloaded_at;      /* time of the last reload */
	struct sim_event timeout;
};

struct systick_state {
	uint32_t csr, rvr;
	sim_time_t period_start;     /* time CVR was last loaded */
	uint32_t loaded;             /* value loaded at period_start */
	struct sim_event wrap;
};

#define NVIC_EXC_COUNT (EXC_IRQ0 + STM32_IRQ_COUNT)

struct nvic_state {
	uint8_t enabled[NVIC_EXC_COUNT];
	uint8_t pending[NVIC_EXC_COUNT];
	uint8_t level[NVIC_EXC_COUNT];    /* line level for IRQs */
	uint8_t priority[NVIC_EXC_COUNT];
	uint8_t active[NVIC_EXC_COUNT];
	unsigned active_stack[NVIC_EXC_COUNT];
	unsigned depth;
	uint32_t vtor, aircr, scr, ccr, shcsr, cfsr, hfsr, cpacr;
	bool check;                  /* something changed: look for an exception to take */
};

/* ---- The board -------------------------------------------------------- */
enum board_mode {
	MODE_CPU,                    /* Unicorn runs the firmware */
	MODE_ROM,                    /* the native ROM bootloader model runs */
	MODE_OFF,                    /* no power */
	MODE_HALTED,                 /* stopped by a fault, waiting for reset */
};

struct board {
	struct sim_config cfg;
	uc_engine *uc;
	enum board_mode mode;

	/* Memories (host buffers, page aligned). */
	uint8_t *flash;              /* 1 MB, may be a shared mapping of cfg.flash_path */
	uint8_t *info;               /* 4 KB at 0x1FFF7000 */
	uint8_t *info2;              /* 4 KB at 0x1FFFF000 */
	uint8_t *sysmem;             /* 28 KB ROM */
	uint8_t *sram1;              /* 96 KB */
	uint8_t *sram2;              /* 32 KB */
	unsigned alias_mode;         /* what is mapped at 0x00000000 now */
	bool alias_fb_mode;
	bool alias_pending;          /* MEMRMP written: remap before the next fetch */

	/*
	 * Undo of the raw stores Unicorn makes to flash (see flash_cpu_store);
	 * one instruction (STRD, STM) may make several.
	 */
	bool flash_undo_pending;
	unsigned flash_undo_count;
	struct flash_undo {
		uint32_t addr;
		unsigned len;
		uint8_t bytes[8];
	} flash_undo[16];

	/* Time. */
	sim_time_t now;
	sim_time_t ps_per_insn;
	uint64_t insns;
	uint64_t cycles;
	struct sim_event *events;    /* armed events, sorted by time */
	sim_time_t next_event;

	/* Reset and power. */
	bool reset_requested;
	enum sim_reset_cause reset_cause;
	bool powered;
	bool stop_requested;
	enum sim_stop_reason stop_reason;
	uint64_t stop_at_insn;       /* 0: none */
	struct sim_event power_cut;
	struct sim_cut_trigger cut;  /* aimed power cut (cutpoint.c) */
	bool cut_armed;
	unsigned cut_matched;
	unsigned long cut_counts[SIM_CUT_POINT_COUNT];

	/* CPU bookkeeping. */
	uint32_t last_pc;
	uint32_t fault_pc;
	uint32_t fault_addr;
	enum sim_fault_kind fault_kind;
	char fault_text[512];

	/* A debugger-style call (sim_call): the registers it will restore. */
	struct {
		enum sim_call_state state;
		uint32_t addr;
		uint32_t regs[16];       /* r0-r12, sp, lr, pc */
		uint32_t xpsr;
	} call;

	/* Someone watching (sim_observe), and the SRAM hooks it needs. */
	struct sim_observer obs;
	bool observing;
	uc_hook sram_hooks[2];
	bool sram_hooked;

	/* Peripherals. */
	struct rcc_state rcc;
	struct pwr_state pwr;
	struct rtc_state rtc;
	struct syscfg_state syscfg;
	struct crc_state crc;
	struct gpio_state gpio[3];   /* A, B, C */
	struct iwdg_state iwdg;
	struct systick_state systick;
	struct nvic_state nvic;
	struct flash_ctl flashc;
	struct usart usart[3];       /* USART1, USART2, USART3 */
	struct rom_state *rom;       /* ROM bootloader model, NULL when absent */
	struct usb_link *usb;        /* the USB connector's host side, NULL when nothing is there */

	/* Peripheral dispatch table and the MMIO windows routed to it. */
	struct mmio_window {
		struct board *b;
		uint32_t base;
	} windows[4];
	struct periph periphs[32];
	unsigned nperiphs;

	/* Trace. */
	struct sim_trace_entry *trace;
	size_t ntrace, trace_cap;
	unsigned led_toggles;
	bool led_on;
	bool button_pressed;

	/* Run control (valid during sim_run). */
	const struct sim_run_limits *limits;
	size_t uart_scan_from;
	bool stop_pc_set;
	uint32_t stop_pc;
	uint64_t stop_insns;         /* absolute instruction count; 0 = none */
	struct sim_event time_limit;
	struct sim_event poll;
	uint64_t wall_start_ns;      /* wall clock at power-on, for realtime pacing */
	sim_time_t sim_at_wall_start;
	bool rom_entry;              /* the CPU reached the ROM's entry point */
	uint32_t rom_entry_pc;

	uc_hook ecc_hook;            /* data reads of flash while ECC errors exist */
	bool ecc_hooked;

	/* Faults injected on the ROM's serial line (sim_line_faults). */
	struct sim_line_faults {
		uint32_t drop_ppm, corrupt_ppm, rng;
		uint32_t delay_ppm, stall_ppm;   /* sim_line_delays */
		sim_time_t delay, stall;
		uint64_t dropped, corrupted, delayed, stalled;
	} line_faults;

	/* Symbols, sections and line tables of the loaded ELF files. */
	struct sim_debug_file *debug;
};

/* The public handle is the board itself. */
struct sim_board {
	struct board board;
};

static inline struct board *board_of(struct sim_board *sb)
{
	return &sb->board;
}

static inline const struct board *board_of_const(const struct sim_board *sb)
{
	return &sb->board;
}

static inline struct sim_board *sim_board_of(struct board *b)
{
	return (struct sim_board *)b;   /* the board is the handle's first member */
}

/* cpu.c: exceptions, NVIC, SysTick, SCB. */
void cpu_reset(struct board *b);
void cpu_check_exceptions(struct board *b, uint32_t return_pc);
bool cpu_exception_return(struct board *b, uint32_t exc_return);
bool cpu_take_svc(struct board *b);
void systick_clock_changed(struct board *b);
/*
 * Priorities as ARMv7-M compares them (B1.5.4): an exception's (-3 reset,
 * -2 NMI, -1 HardFault, else its NVIC byte), the group part of one under
 * AIRCR.PRIGROUP, and the execution priority now (256: nothing masked;
 * lowered by active exceptions, BASEPRI, PRIMASK to 0, FAULTMASK to -1).
 * An exception preempts only with a group priority below the execution
 * priority.
 */
int cpu_exception_priority(const struct board *b, unsigned exc);
int cpu_group_priority(const struct board *b, int prio);
int cpu_execution_priority(const struct board *b);

/* rcc.c */
void rcc_reset(struct board *b, enum reset_kind kind, enum sim_reset_cause cause);
void pwr_reset(struct board *b, enum reset_kind kind);

/* periph.c: SYSCFG, RTC backup registers, CRC, GPIO, IWDG, DBGMCU, DWT. */
void periph_reset(struct board *b, enum reset_kind kind);
void gpio_update_inputs(struct board *b);
void iwdg_start(struct board *b);
void iwdg_refresh(struct board *b);
/* The watchdog's timeout with its current prescaler and reload values. */
sim_time_t iwdg_period(const struct board *b);
/* Time left before a running watchdog resets the board. */
sim_time_t iwdg_remaining(const struct board *b);

/* run.c: the hooks around Unicorn and the debugger-call trap, at creation. */
int board_run_init(struct board *b, char *err, size_t errlen);

/* Register the peripherals of each module in the dispatch table. */
void board_add_periph(struct board *b, const struct periph *p);
void rcc_register(struct board *b);
void cpu_register(struct board *b);
void periph_register(struct board *b);

/*
 * rom_usb_verdict.c: would the ROM's USB DFU work if the ROM were entered
 * now? The ROM model decides with it at entry, and diagnose asks it at the
 * same instant, so both give the same answer.
 */
struct rom_usb_verdict {
	bool clock;                  /* the ROM can make its 48 MHz USB clock (AN2606) */
	bool irq;                    /* its OTG_FS interrupt can be taken */
	uint8_t irq_priority;        /* the NVIC priority the ROM gives it (cfg.rom_usb_irq_priority) */
	int execution_priority;      /* the CPU's at entry (cpu_execution_priority) */
	char clock_why[160];         /* !clock: what the board lacks */
	char irq_why[200];           /* !irq: what keeps the interrupt out */
};

/* The clock half alone, from the board's configuration: true, or false and why. */
bool rom_usb_clock(const struct sim_config *cfg, char *why, size_t n);
void rom_usb_judge(const struct board *b, struct rom_usb_verdict *v);

/* rom.c: the native ROM bootloader model. */
int rom_init(struct board *b, char *err, size_t errlen);
void rom_fini(struct board *b);
void rom_enter(struct board *b, uint32_t entry_pc);
enum sim_stop_reason rom_run(struct board *b);
void rom_reset(struct board *b);
void rom_power_lost(struct board *b);

/* elf.c: loading firmware files. */
int sim_elf_load(struct board *b, const char *path, char *err, size_t errlen);

/* debuginfo.c: symbols, sections and source lines of a loaded ELF file. */
int debuginfo_add(struct board *b, const char *path, const uint8_t *buf, size_t len);
void debuginfo_free(struct board *b);

/* A fault stops the core: record it, trace it, halt. */
void board_fault(struct board *b, uint32_t pc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* The same, saying what kind of fault it is and the address involved. */
void board_fault_at(struct board *b, enum sim_fault_kind kind, uint32_t pc, uint32_t addr,
		    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Wall clock in nanoseconds (CLOCK_MONOTONIC). */
uint64_t board_wall_ns(void);

#endif /* SIM_BOARD_H */
