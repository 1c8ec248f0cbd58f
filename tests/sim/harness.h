/*
 * harness.h - helpers for tests that run firmware on the emulated board.
 *
 * Test firmwares (firmware/tests/) write their findings into
 * test_result[] and end in test_done(); these helpers load one, run it to
 * test_done and read the results back through the ELF symbols.
 */
#ifndef TESTS_SIM_HARNESS_H
#define TESTS_SIM_HARNESS_H

#include <stdbool.h>
#include <stdint.h>

#include "sim.h"

/* Path of a firmware file under the firmware build folder. */
const char *fw_path(const char *name);

/* A board with the default configuration (USART2 on a memory link). */
struct sim_board *board_new(const struct sim_config *cfg);
/* Create a board, load the named firmware files (NULL-terminated), power on. */
struct sim_board *board_with(const char *first, ...);
/* Load a firmware file (ELF, or binary at addr) or fail the test. */
void board_load(struct sim_board *sb, const char *name, uint32_t addr);

/* Run until the firmware reaches test_done (fails the test otherwise). */
void run_to_done(struct sim_board *sb, unsigned max_ms);
/* Run for ms of simulated time; returns why it stopped. */
enum sim_stop_reason run_for(struct sim_board *sb, unsigned ms);
/* Run until USART2 has sent text or max_ms passed; true when seen. */
bool run_until_uart(struct sim_board *sb, const char *text, unsigned max_ms);

uint32_t result(struct sim_board *sb, unsigned slot);
/* True when a trace entry of this kind contains needle. */
bool traced(struct sim_board *sb, enum sim_trace_kind kind, const char *needle);
/* Print the trace (for a failing test's log). */
void dump_trace(struct sim_board *sb);

#endif
