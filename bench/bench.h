/*
 * bench.h - what sysboot-bench measures, shared by its measuring (bench.c)
 * and its tables (report.c): the links an update can go over and the
 * programs measured on each, one measurement, and everything a run found.
 */
#ifndef BENCH_BENCH_H
#define BENCH_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "limit.h"
#include "run.h"

#define MAX_SIZES      8
#define MAX_RUNS       9
#define ROM_BAUD       115200u
#define LIMIT_TO_BEAT  1.10          /* within 10% of the physical limit */
#define SPEEDUP_WANTED 1.8           /* at least 1.8 times faster than stm32flash -v */
#define LIB_MAX        1024u         /* entry library: under 1 KB of flash */
#define STUB_MAX       4096u         /* boot stub: fits in 4 KB */
#define APP_RUN_S      10u           /* default simulated seconds of the reference application */
#define NLINKS         2             /* USART, USB: links[] */

struct options {
	const char *sysboot, *stm32flash, *dfu_util, *noparity, *fw_dir, *size_tool;
	unsigned sizes_kb[MAX_SIZES], nsizes;
	unsigned runs;
	unsigned app_s;              /* simulated seconds of the reference application */
	bool link_on[NLINKS];        /* usart, usb */
	unsigned stall_ms;           /* test hook: the emulator waits after starting a program */
	enum sim_dfu_work dfu_work;  /* the ROM model's parameter (sysboot-sim --dfu-work) */
	bool keep;
};

/* One program measured on one image, over opt.runs runs. */
struct measure {
	double sim_s;                /* the same in every run, or... */
	bool sim_varies;             /* ...not, which would be a bug in the method */
	double sim_min, sim_max;
	double wall_s;               /* median */
	struct run_result last;
};

/*
 * The programs of one link, for the same job: sysboot as a technician runs
 * it, the reference tool with and without its verification, and (USB
 * only) sysboot where no serial line reaches the application.
 */
enum tool { T_SYSBOOT, T_REF_VERIFY, T_REF, T_SYSBOOT_READBACK, T_COUNT };

struct tool_bench {
	const char *name;            /* NULL: not measured on this link */
	bool boot0;                  /* it cannot ask the application: the board is held in the ROM */
	bool ends_on_usb;            /* it does not wait for the application: ends at the ROM's last answer */
};

/*
 * A link the update can go over: the programs that do the job on it and
 * its physical limit.
 */
struct link_bench {
	const char *name, *key;      /* for the tables; for --links */
	bool usb;                    /* USB DFU through umockdev, else the USART2 pty */
	struct tool_bench tool[T_COUNT];
	void (*argv)(enum tool t, const struct options *o, const char *image, const char *port,
		     const char *back, size_t len, char **argv, const char **preload);
	void (*limit)(uint32_t addr, uint32_t len, struct update_limit *l);
};

extern struct options opt;
extern const struct link_bench links[NLINKS];
extern char ref_version[NLINKS][64]; /* the first line the link's reference tool printed */

/* Is tool t measured on link l in this run? */
bool measured(unsigned l, enum tool t);

/* An application image of one of the sizes measured, built for the run. */
struct image {
	unsigned kb;
	char path[320];
	uint8_t *data;
	size_t len;
};

/* The emulator running the reference application, opt.app_s simulated seconds. */
struct app_speed {
	uint64_t insns;
	double sim_s, wall_s;        /* wall: median */
};

/* The size tool's figures for one part of the firmware. */
struct fw_size {
	unsigned long text, data, bss;
};

/* Everything one run of the benchmark found. */
struct results {
	struct image images[MAX_SIZES];
	unsigned biggest;            /* the largest size */
	struct update_limit lim[NLINKS][MAX_SIZES];
	struct measure m[NLINKS][MAX_SIZES][T_COUNT];
	struct measure wall_idle;    /* the first size by sysboot over USART, idle on the wall clock */
	double entry_s[NLINKS];      /* ROM entered to its first byte or transfer, real time */
	struct app_speed sp;
	struct fw_size lib, stub;
	char load_start[64], load_end[64];
};

/* report.c: the tables and the targets. */
void print_report(const struct results *res);

#endif /* BENCH_BENCH_H */
