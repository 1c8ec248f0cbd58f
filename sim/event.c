/*
 * event.c - simulated time passing: the board's timed events.
 *
 * Why a list of events rather than models that count instructions: most of
 * the chip does nothing for long stretches (a byte on a 115200 baud line
 * takes thousands of instructions, a page erase millions), so each model
 * says when it next needs to act (event.h) and the core calls it exactly
 * then, between two instructions or while the ROM model lets time pass
 * (board_advance). The wall clock is here too, for boards that keep real
 * time.
 */
#include <string.h>
#include <time.h>

#include "board.h"

uint64_t board_wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void sim_event_init(struct sim_event *ev, const char *name, sim_event_fn fn, void *arg)
{
	memset(ev, 0, sizeof(*ev));
	ev->name = name;
	ev->fn = fn;
	ev->arg = arg;
}

static void update_next_event(struct board *b)
{
	b->next_event = b->events ? b->events->when : UINT64_MAX;
}

void sim_event_cancel(struct board *b, struct sim_event *ev)
{
	struct sim_event **pp;

	if (!ev->armed)
		return;
	for (pp = &b->events; *pp; pp = &(*pp)->next) {
		if (*pp == ev) {
			*pp = ev->next;
			break;
		}
	}
	ev->armed = false;
	ev->next = NULL;
	update_next_event(b);
}

void sim_event_schedule_at(struct board *b, struct sim_event *ev, sim_time_t when)
{
	struct sim_event **pp;

	sim_event_cancel(b, ev);
	ev->when = when;
	/* Events due at the same time run in the order they were scheduled. */
	for (pp = &b->events; *pp && (*pp)->when <= when; pp = &(*pp)->next)
		;
	ev->next = *pp;
	*pp = ev;
	ev->armed = true;
	update_next_event(b);
}

void sim_event_schedule(struct board *b, struct sim_event *ev, sim_time_t delay)
{
	sim_event_schedule_at(b, ev, b->now + delay);
}

void board_run_due_events(struct board *b)
{
	while (b->events && b->events->when <= b->now && b->powered) {
		struct sim_event *ev = b->events;

		b->events = ev->next;
		ev->armed = false;
		ev->next = NULL;
		update_next_event(b);
		ev->fn(b, ev->arg);
	}
}

bool board_advance(struct board *b, sim_time_t delay)
{
	sim_time_t end = b->now + delay;

	while (b->powered && !b->reset_requested) {
		if (b->events && b->events->when <= end) {
			if (b->events->when > b->now)
				b->now = b->events->when;
			board_run_due_events(b);
			continue;
		}
		b->now = end;
		break;
	}
	return b->powered && !b->reset_requested;
}
