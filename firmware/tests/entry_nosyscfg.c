/*
 * entry_nosyscfg.c - the same firmware as entry_ok, linked with the
 * library built with SYSBOOT_TEST_SKIP_SYSCFG_CLOCK: the remap write is
 * lost, the emulated ROM's dual-bank routine jumps back to bank 1 (AN2606)
 * and this firmware reaches test_done on its second boot with boot count 2
 * and cause SYSBOOT_CAUSE_ROM_RETURN. Slots: see entry_common.h.
 */
#include "entry_common.h"
