/*
 * cutpoint.c - power cuts aimed at a point of an update.
 *
 * A cut at a simulated time lands wherever the host happens to be at that
 * moment, so a campaign that must cut inside every phase of an update (an
 * erase, one double word being programmed, the gap between two blocks, the
 * header, the Go and the stub's check) cannot rely on time alone. Instead the
 * models report each point as they reach it, with its address: the ROM's
 * entry, the start of an erase or of a double-word program (flash.c), a
 * block acknowledged and the Go (rom.c). A trigger names a point, an address
 * range, which occurrence, and the delay from it to the cut; the cut then
 * goes through the board's ordinary power-cut event.
 */
#include <stdlib.h>
#include <string.h>

#include "board.h"

static const char *const point_names[SIM_CUT_POINT_COUNT] = {
	[SIM_CUT_ROM_ENTRY] = "rom-entry",
	[SIM_CUT_ERASE] = "erase",
	[SIM_CUT_PROGRAM] = "program",
	[SIM_CUT_BLOCK] = "block",
	[SIM_CUT_GO] = "go",
};

const char *sim_cut_point_name(enum sim_cut_point p)
{
	return (unsigned)p < SIM_CUT_POINT_COUNT ? point_names[p] : "?";
}

static bool parse_u32(const char *s, const char **end, uint32_t *v)
{
	char *e;
	unsigned long long x = strtoull(s, &e, 0);

	if (e == s || x > 0xFFFFFFFFull || *s == '-')
		return false;
	*v = (uint32_t)x;
	*end = e;
	return true;
}

int sim_cut_trigger_parse(const char *spec, struct sim_cut_trigger *t, char *err, size_t errlen)
{
	const char *p = spec, *end;
	size_t n = strcspn(spec, "@#+");
	unsigned i;
	uint32_t v;

	memset(t, 0, sizeof(*t));
	t->hi = 0xFFFFFFFFu;
	t->nth = 1;
	for (i = 0; i < SIM_CUT_POINT_COUNT; i++)
		if (strlen(point_names[i]) == n && strncmp(spec, point_names[i], n) == 0)
			break;
	if (i == SIM_CUT_POINT_COUNT) {
		snprintf(err, errlen,
			 "unknown cut point in '%s': use rom-entry, erase, program, block or go, then [@ADDR[-END]][#N][+MICROSECONDS]",
			 spec);
		return -1;
	}
	t->point = (enum sim_cut_point)i;
	p += n;
	if (*p == '@') {
		if (!parse_u32(p + 1, &end, &t->lo))
			goto bad;
		t->hi = t->lo;
		p = end;
		if (*p == '-') {
			if (!parse_u32(p + 1, &end, &t->hi) || t->hi < t->lo)
				goto bad;
			p = end;
		}
	}
	if (*p == '#') {
		if (!parse_u32(p + 1, &end, &v) || v == 0)
			goto bad;
		t->nth = v;
		p = end;
	}
	if (*p == '+') {
		char *e;
		double us = strtod(p + 1, &e);

		if (e == p + 1 || us < 0 || us > 1e9)
			goto bad;
		t->delay = (sim_time_t)(us * 1e6);
		p = e;
	}
	if (*p)
		goto bad;
	return 0;
bad:
	snprintf(err, errlen,
		 "bad cut trigger '%s': POINT[@ADDR[-END]][#N][+MICROSECONDS], e.g. program@0x08002000-0x0800203f#3+40",
		 spec);
	return -1;
}

void sim_power_cut_on(struct sim_board *sb, const struct sim_cut_trigger *t)
{
	struct board *b = board_of(sb);

	b->cut = *t;
	b->cut_armed = true;
	b->cut_matched = 0;
}

unsigned long sim_cut_point_count(const struct sim_board *sb, enum sim_cut_point p)
{
	return (unsigned)p < SIM_CUT_POINT_COUNT ? board_of_const(sb)->cut_counts[p] : 0;
}

void board_cut_point(struct board *b, enum sim_cut_point p, uint32_t addr)
{
	struct sim_cut_trigger *t = &b->cut;

	b->cut_counts[p]++;
	if (!b->cut_armed || t->point != p || addr < t->lo || addr > t->hi)
		return;
	if (++b->cut_matched < t->nth)
		return;
	b->cut_armed = false;
	board_trace(b, SIM_TRACE_POWER, b->last_pc,
		    "power cut aimed at %s #%u (0x%08x) in %.1f us", point_names[p], t->nth, addr,
		    (double)t->delay / 1e6);
	/* Through the event, so models finish the step they are in first. */
	sim_event_schedule(b, &b->power_cut, t->delay);
}
