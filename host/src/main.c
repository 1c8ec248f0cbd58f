/*
 * main.c - sysboot, the command a technician or a CI job runs to update an
 * STM32L476 board through its ROM bootloader.
 *
 * Everything lives in the sysboot_host library (commands.c dispatches) so
 * the tests can exercise it; this file only hands over the command line.
 */
#include "commands.h"

int main(int argc, char **argv)
{
	return sysboot_dispatch(argc, argv);
}
