/*
 * report.c - sysboot-bench's tables, the ones docs/performance.md quotes,
 * and its targets.
 *
 * Why apart from the measuring: the figures are taken once (bench.c) and
 * read by several tables, each a Markdown table a reader can paste, with
 * the ratios a target is judged by worked out next to the figures they
 * come from; a target is printed met or MISSED, never asserted, because
 * the wall-clock figures depend on the machine.
 */
#include <stdarg.h>
#include <stdio.h>

#include "bench.h"
#include "sim.h"
#include "sysboot/image.h"

static const char *size_name(unsigned kb)
{
	static char buf[8][48];
	static unsigned next;
	char *b = buf[next++ % 8];

	if (kb * 1024u == STM32_FLASH_SIZE - SYSBOOT_STUB_SIZE)
		snprintf(b, sizeof(buf[0]), "%u KB (1 MB less the stub)", kb);
	else
		snprintf(b, sizeof(buf[0]), "%u KB", kb);
	return b;
}

static const char *secs(const struct measure *m)
{
	static char buf[8][48];
	static unsigned next;
	char *b = buf[next++ % 8];

	if (m->sim_varies)
		snprintf(b, sizeof(buf[0]), "%.3f..%.3f (varies!)", m->sim_min, m->sim_max);
	else
		snprintf(b, sizeof(buf[0]), "%.3f", m->sim_s);
	return b;
}

static void print_update_times(const struct results *res)
{
	unsigned l, s, t;

	printf("## Update time, simulated seconds (image at 0x%08x, instant host)\n\n", SYSBOOT_HEADER_ADDR);
	for (l = 0; l < NLINKS; l++) {
		const struct link_bench *lb = &links[l];
		bool rb = measured(l, T_SYSBOOT_READBACK);

		if (!opt.link_on[l])
			continue;
		printf("| %s |", lb->name);
		for (t = 0; t < T_COUNT; t++)
			if (measured(l, t))
				printf(" %s |", lb->tool[t].name);
		printf(" limit | sysboot / %s | sysboot / %s | sysboot / limit |", lb->tool[T_REF_VERIFY].name,
		       lb->tool[T_REF].name);
		if (rb)
			printf(" %s / %s |", lb->tool[T_SYSBOOT_READBACK].name, lb->tool[T_REF_VERIFY].name);
		printf("\n|---|--:|--:|--:|%s--:|--:|--:|--:|%s\n", rb ? "--:|" : "", rb ? "--:|" : "");
		for (s = 0; s < opt.nsizes; s++) {
			const struct measure *r = res->m[l][s];

			printf("| %s |", size_name(res->images[s].kb));
			for (t = 0; t < T_COUNT; t++)
				if (measured(l, t))
					printf(" %s |", secs(&r[t]));
			printf(" %.3f | %.3f | %.3f | %.3f |", res->lim[l][s].total_s,
			       r[T_SYSBOOT].sim_s / r[T_REF_VERIFY].sim_s, r[T_SYSBOOT].sim_s / r[T_REF].sim_s,
			       r[T_SYSBOOT].sim_s / res->lim[l][s].total_s);
			if (rb)
				printf(" %.3f |", r[T_SYSBOOT_READBACK].sim_s / r[T_REF_VERIFY].sim_s);
			printf("\n");
		}
		printf("\n");
	}
}

static void print_breakdown_usart(const struct results *res)
{
	const struct measure *wi = &res->wall_idle;
	unsigned s, t;

	printf("| %s | total | bytes in | bytes out | turnarounds | wire | erase | program | after Go | host, wall (not counted) |\n",
	       links[0].name);
	printf("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n");
	for (s = 0; s < opt.nsizes; s++) {
		const struct update_limit *lim = &res->lim[0][s];

		printf("| physical limit, %s | %.3f | %u | | | %.3f | %.3f | %.3f | | |\n",
		       size_name(res->images[s].kb), lim->total_s, (unsigned)res->images[s].len,
		       lim->wire_s, lim->erase_s, lim->program_s);
		for (t = 0; t < T_COUNT; t++) {
			const struct run_result *r = &res->m[0][s][t].last;

			if (!measured(0, t))
				continue;
			printf("| %s, %s | %.3f | %llu | %llu | %llu | %.3f | %.3f | %.3f | %.3f | %.3f |\n",
			       links[0].tool[t].name, size_name(res->images[s].kb), r->sim_s,
			       (unsigned long long)r->rs.bytes_in, (unsigned long long)r->rs.bytes_out,
			       (unsigned long long)r->rs.turnarounds, r->wire_s,
			       (double)r->rs.erase_time / 1e12, (double)r->rs.program_time / 1e12,
			       r->after_go_s, (double)r->rs.host_wait_ns / 1e9);
		}
	}
	printf("\nThe same %s update with the ROM's waits for the host on the wall clock (sysboot-sim --fast):\n"
	       "%.3f to %.3f s simulated over the runs (the last one %.3f s waiting for the host), against %.3f s with an instant host.\n\n",
	       size_name(res->images[0].kb), wi->sim_min, wi->sim_max,
	       (double)wi->last.rs.idle_time / 1e12, res->m[0][0][T_SYSBOOT].sim_s);
}

static void print_breakdown_usb(const struct results *res)
{
	unsigned s, t;

	printf("| %s | total | control transfers | bus | erase | program | poll wait | after Go | host, wall (not counted) |\n",
	       links[1].name);
	printf("|---|--:|--:|--:|--:|--:|--:|--:|--:|\n");
	for (s = 0; s < opt.nsizes; s++) {
		const struct update_limit *lim = &res->lim[1][s];

		printf("| physical limit, %s | %.3f | %u | %.3f | %.3f | %.3f | %.6f | | |\n",
		       size_name(res->images[s].kb), lim->total_s, lim->transfers, lim->wire_s,
		       lim->erase_s, lim->program_s, lim->poll_s);
		for (t = 0; t < T_COUNT; t++) {
			const struct run_result *r = &res->m[1][s][t].last;

			if (!measured(1, t))
				continue;
			printf("| %s, %s | %.3f | %llu | %.3f | %.3f | %.3f | %.6f | %.3f | %.3f |\n",
			       links[1].tool[t].name, size_name(res->images[s].kb), r->sim_s,
			       (unsigned long long)r->rs.usb_transfers, r->bus_s,
			       (double)r->rs.erase_time / 1e12, (double)r->rs.program_time / 1e12,
			       (double)r->rs.usb_poll_wait / 1e12, r->after_go_s,
			       (double)r->rs.host_wait_ns / 1e9);
		}
	}
	printf("\nThe ROM model does a DFU download's flash work %s (sysboot-sim --dfu-work %s).\n\n",
	       opt.dfu_work == SIM_DFU_WORK_IN_STATUS ?
	       "before it completes the GETSTATUS that answers dfuDNBUSY" :
	       "once the GETSTATUS that answers dfuDNBUSY has reached the host",
	       opt.dfu_work == SIM_DFU_WORK_IN_STATUS ? "in-status" : "after-status");
}

static void print_breakdown(const struct results *res)
{
	printf("## Where the time goes (simulated seconds; the last run of each)\n\n");
	if (opt.link_on[0])
		print_breakdown_usart(res);
	if (opt.link_on[1])
		print_breakdown_usb(res);
}

static void print_entry(const struct results *res)
{
	struct sim_config cfg;
	unsigned l;

	sim_config_default(&cfg);
	printf("## Entering the bootloader (sysboot, the board keeping to real time, median of %u)\n\n",
	       opt.runs);
	printf("| link | the ROM ready for it (AN2606) | the host's first byte or transfer reached the ROM |\n");
	printf("|---|--:|--:|\n");
	for (l = 0; l < NLINKS; l++)
		if (opt.link_on[l])
			printf("| %s | %.3f | %.3f |\n", links[l].name,
			       (double)(cfg.timing.rom_startup_lse + (links[l].usb ? cfg.timing.rom_usb_connect : 0)) / 1e12,
			       res->entry_s[l]);
	printf("\nSeconds after the ROM was entered (the application's reset), with an LSE as on the Nucleo.\n\n");
}

/*
 * The wall time of an update that was the emulator's, not the host
 * program's: all of it but the time the ROM sat waiting for the program
 * (its own pauses, and the poll timeouts a DFU host sleeps on the wall
 * clock; the last run's share, applied to the median).
 */
static double emulator_wall(const struct measure *m)
{
	double waited = (double)m->last.rs.host_wait_ns / 1e9;

	return m->wall_s > waited ? m->wall_s - waited : 0;
}

static void print_speed(const struct results *res)
{
	const struct app_speed *sp = &res->sp;
	unsigned l;

	printf("## Emulator speed (wall clock, median of %u)\n\n", opt.runs);
	printf("| workload | simulated s | wall s | of which the host program's | simulated s per wall s | ... per wall s of the emulator | emulated instructions per wall s |\n");
	printf("|---|--:|--:|--:|--:|--:|--:|\n");
	printf("| reference application (stub + app-v1), %u s | %.3f | %.3f | | %.1f | %.1f | %.1f million |\n",
	       opt.app_s, sp->sim_s, sp->wall_s, sp->sim_s / sp->wall_s, sp->sim_s / sp->wall_s,
	       (double)sp->insns / sp->wall_s / 1e6);
	for (l = 0; l < NLINKS; l++) {
		const struct measure *up = &res->m[l][res->biggest][T_SYSBOOT];

		if (opt.link_on[l])
			printf("| a full update by sysboot over %s, %s | %.3f | %.3f | %.3f | %.2f | %.1f | |\n",
			       links[l].key, size_name(res->images[res->biggest].kb), up->sim_s, up->wall_s,
			       up->wall_s - emulator_wall(up), up->sim_s / up->wall_s,
			       up->sim_s / emulator_wall(up));
	}
	printf("\n");
}

static void print_sizes(const struct results *res)
{
	const struct fw_size *lib = &res->lib, *stub = &res->stub;

	printf("## Firmware size (%s, bytes)\n\n", opt.size_tool);
	printf("| part | text | data | bss | flash (text + data) | RAM (data + bss) | target |\n");
	printf("|---|--:|--:|--:|--:|--:|---|\n");
	printf("| entry library (libsysboot.a) | %lu | %lu | %lu | %lu | %lu | flash < %u |\n",
	       lib->text, lib->data, lib->bss, lib->text + lib->data, lib->data + lib->bss, LIB_MAX);
	printf("| boot stub (stub.elf) | %lu | %lu | %lu | %lu | %lu | flash <= %u |\n\n",
	       stub->text, stub->data, stub->bss, stub->text + stub->data, stub->data + stub->bss,
	       STUB_MAX);
}

static bool target(bool ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static bool target(bool ok, const char *fmt, ...)
{
	va_list ap;

	printf("- %s: ", ok ? "met" : "MISSED");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	return ok;
}

/* The update targets of one link; returns how many were missed. */
static unsigned link_targets(const struct results *res, unsigned l)
{
	const struct link_bench *lb = &links[l];
	const struct measure *up = &res->m[l][res->biggest][T_SYSBOOT];
	double speedup_worst = 1e9, limit_worst = 0, limit_speedup = 1e9;
	char why[96] = "";
	unsigned s, missed = 0;

	for (s = 0; s < opt.nsizes; s++) {
		const struct measure *r = res->m[l][s];
		double speedup = r[T_REF_VERIFY].sim_s / r[T_SYSBOOT].sim_s;
		double vs_limit = r[T_SYSBOOT].sim_s / res->lim[l][s].total_s;

		if (speedup < speedup_worst) {
			speedup_worst = speedup;
			limit_speedup = r[T_REF_VERIFY].sim_s / res->lim[l][s].total_s;
		}
		if (vs_limit > limit_worst)
			limit_worst = vs_limit;
	}
	missed += !target(limit_worst <= LIMIT_TO_BEAT,
			  "%s: sysboot update within %.0f%% of the physical limit: worst %.3f x",
			  lb->key, (LIMIT_TO_BEAT - 1) * 100, limit_worst);
	/* Where even the limit is not that much faster, say so. */
	if (limit_speedup < SPEEDUP_WANTED)
		snprintf(why, sizeof(why), " (no update can be: the physical limit is %.2f x faster)",
			 limit_speedup);
	missed += !target(speedup_worst >= SPEEDUP_WANTED,
			  "%s: sysboot update at least %.1f x faster than %s: worst %.2f x%s",
			  lb->key, SPEEDUP_WANTED, lb->tool[T_REF_VERIFY].name, speedup_worst, why);
	missed += !target(emulator_wall(up) <= up->sim_s,
			  "%s: the emulator's part of the %s update takes less wall time than a real board: %.1f x faster",
			  lb->key, size_name(res->images[res->biggest].kb), up->sim_s / emulator_wall(up));
	return missed;
}

/* The targets, met or missed; returns how many were missed. */
static unsigned print_targets(const struct results *res)
{
	unsigned long lib = res->lib.text + res->lib.data, stub = res->stub.text + res->stub.data;
	unsigned l, s, t, missed = 0;

	printf("## Targets\n\n");
	for (l = 0; l < NLINKS; l++)
		if (opt.link_on[l])
			missed += link_targets(res, l);
	missed += !target(lib < LIB_MAX, "entry library under %u bytes of flash: %lu", LIB_MAX, lib);
	missed += !target(stub <= STUB_MAX, "stub in %u bytes of flash: %lu", STUB_MAX, stub);
	for (l = 0; l < NLINKS; l++)
		for (s = 0; s < opt.nsizes; s++)
			for (t = 0; t < T_COUNT; t++)
				if (measured(l, t) && res->m[l][s][t].sim_varies)
					printf("- WARNING: %s, %s gave different simulated times in different runs\n",
					       links[l].tool[t].name, size_name(res->images[s].kb));
	if (missed)
		printf("\n%u target%s missed.\n", missed, missed > 1 ? "s" : "");
	return missed;
}

static void print_tools(void)
{
	const char *path[NLINKS] = { opt.stm32flash, opt.dfu_util };
	unsigned l, n = 0;

	printf("reference tools:");
	for (l = 0; l < NLINKS; l++)
		if (opt.link_on[l])
			printf("%s %s (%s)", n++ ? "," : "", ref_version[l][0] ? ref_version[l] : "?", path[l]);
	printf("\n\n");
}

void print_report(const struct results *res)
{
	print_tools();
	print_update_times(res);
	print_breakdown(res);
	print_entry(res);
	print_speed(res);
	print_sizes(res);
	print_targets(res);
}
