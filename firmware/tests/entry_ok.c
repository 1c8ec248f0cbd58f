/*
 * entry_ok.c - the library's way into the ROM must stay in the ROM: with
 * the SYSCFG clock on, system memory is mapped at 0x0 before the jump, so
 * the emulated ROM does not bounce back (AN2606). Reaching test_done means
 * the ROM came back, a failure. Slots: see entry_common.h.
 */
#include "entry_common.h"
