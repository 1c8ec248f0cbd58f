/*
 * diag_obs.h - what the diagnose run saw (diagnose.c records it,
 * diag_checks.c judges it).
 *
 * Kept apart from the report: these are raw observations (register values
 * at the ROM entry, the last write that set a register up, stores before a
 * reset) and the places they came from, as addresses; diag_checks.c turns
 * them into plain words and source locations.
 */
#ifndef SIM_DIAG_OBS_H
#define SIM_DIAG_OBS_H

#include "board.h"
#include "diagnose.h"

#define DIAG_MAX_ENTRIES  8
#define DIAG_STORE_RING   64
#define DIAG_MAX_CANDS    16

/* The last write that set something up, and where it came from. */
struct diag_write {
	bool seen;
	uint32_t pc;
	uint32_t value;
	bool lost;                   /* its clock was off */
};

/* The board at the moment the CPU reached the ROM's entry point. */
struct diag_entry {
	sim_time_t time;
	uint32_t branch_pc;          /* the instruction that branched there */
	unsigned resets_before;      /* resets seen before this entry */
	unsigned mem_mode;           /* SYSCFG_MEMRMP.MEM_MODE */
	bool fb_mode;
	struct diag_write memrmp;    /* the last write to SYSCFG_MEMRMP before the entry */
	unsigned sysclk;             /* RCC_CFGR.SWS */
	uint32_t sysclk_hz;
	bool pll_on;
	struct diag_write sysclk_switch;
	uint32_t systick_csr;
	struct diag_write systick_start;
	uint32_t nvic_enabled[3], nvic_pending[3];
	bool systick_pending, pendsv_pending;
	uint32_t primask, basepri, faultmask, ipsr;
	struct rom_usb_verdict usb;  /* what the ROM model makes of its USB DFU (rom_usb_judge) */
	bool iwdg_running;
	uint32_t iwdg_pr, iwdg_rlr;
	sim_time_t iwdg_remaining;   /* before it resets the board */
	struct diag_write iwdg_start;
	uint32_t bkp[RTC_BKP_COUNT];
	/* What the ROM model did next. */
	bool bounced;                /* the dual-bank routine jumped back to flash */
	uint32_t bounce_to;          /* where (PC after the jump) */
	uint32_t bounce_sp;
	bool bounce_bank2;
	bool reset_in_rom;           /* a reset ended the ROM session before it was ready */
	enum sim_reset_cause reset_cause;
	sim_time_t reset_after;      /* ... this long after the entry */
	bool answered;               /* 0x7F was acknowledged on USART2 */
	bool fault;                  /* the board faulted in or right after the ROM */
};

/* A store to SRAM seen just before a software reset: a request flag? */
struct diag_cand {
	uint32_t addr, value, store_pc;
	unsigned size;
	bool written_after;          /* the first access after the reset was a write */
	bool read_first;             /* ... a read: the flag survived */
	uint32_t write_pc, write_value;
	bool read_after;             /* read again after that write */
	uint32_t read_pc;
	uint64_t read_insns;         /* when (instructions since power-on) */
	bool read_in_handler;        /* ... inside an exception handler */
};

/* A hand-back of the ROM to the firmware, and whether the ROM came back. */
struct diag_handback {
	bool go;                     /* AN3155 Go; else a reset (NRST) */
	bool done;                   /* the ROM accepted it / the reset happened */
	bool reentered;
};

struct diag_obs {
	const struct diag_options *o;
	struct sim_board *sb;

	/* Set-up writes, as they happen. */
	struct diag_write memrmp, sysclk_switch, systick_start, iwdg_start;
	struct diag_write nvic_enable[STM32_IRQ_COUNT], nvic_pend[STM32_IRQ_COUNT];
	struct diag_write bkp_write[RTC_BKP_COUNT];

	unsigned resets, software_resets;
	sim_time_t last_reset;
	enum sim_reset_cause last_cause;
	bool watch_reset;            /* note the first reset from now on */
	bool got_reset;
	sim_time_t first_reset;
	enum sim_reset_cause first_cause;
	bool triggered;
	sim_time_t trigger_time;

	struct diag_entry entries[DIAG_MAX_ENTRIES];
	unsigned nentries;
	unsigned entries_total;

	/* Stores to SRAM before a software reset, and what became of them. */
	struct {
		uint32_t pc, addr, value;
		unsigned size;
	} ring[DIAG_STORE_RING];
	unsigned ring_len, ring_next;
	struct diag_cand cands[DIAG_MAX_CANDS];
	unsigned ncands;
	bool cands_taken;            /* from the first software reset after the trigger */
	bool cands_frozen;           /* a later reset ends their story */

	/* How the run ended. */
	bool fault;
	struct sim_fault fault_info;
	char fault_text[512];
	bool call_returned;          /* call: the function came back */
	bool call_abandoned;         /* call: a reset happened while it ran */
	bool call_never_started;
	struct diag_handback handbacks[3];
	unsigned nhandbacks;
};

/* diag_checks.c: the checks, from the observations, into the report. */
void diag_judge(const struct diag_obs *ob, struct diag_report *r);

#endif /* SIM_DIAG_OBS_H */
