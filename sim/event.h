/*
 * event.h - timed events of the emulated board.
 *
 * Every model that acts at a later time (a byte leaving a USART, a flash
 * operation ending, SysTick wrapping, the watchdog expiring) embeds a
 * sim_event in its state and schedules it; the core runs it between two
 * instructions, or while the ROM model waits, when its time has come.
 */
#ifndef SIM_EVENT_H
#define SIM_EVENT_H

#include <stdbool.h>

#include "sim.h"

struct board;
typedef void (*sim_event_fn)(struct board *b, void *arg);

/*
 * A timed event, embedded in the state of the model that owns it (no
 * allocation). Scheduling an armed event moves it. The callback runs from
 * the core between two instructions, or while the ROM model waits.
 */
struct sim_event {
	sim_time_t when;
	sim_event_fn fn;
	void *arg;
	const char *name;
	bool armed;
	struct sim_event *next;      /* in the board's list of armed events */
};

void sim_event_init(struct sim_event *ev, const char *name, sim_event_fn fn, void *arg);
void sim_event_schedule(struct board *b, struct sim_event *ev, sim_time_t delay);
void sim_event_schedule_at(struct board *b, struct sim_event *ev, sim_time_t when);
void sim_event_cancel(struct board *b, struct sim_event *ev);

#endif /* SIM_EVENT_H */
