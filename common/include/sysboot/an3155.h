/*
 * an3155.h - constants of the STM32 ROM bootloader's USART protocol.
 *
 * Shared by the host tool (which speaks it) and the emulator's model of the
 * ROM (which answers it), so both sides agree by construction. Source: ST
 * AN3155 "USART protocol used in the STM32 bootloader", and AN2606 for the
 * STM32L47x/48x specifics (protocol version 3.1, device ID 0x415).
 */
#ifndef SYSBOOT_AN3155_H
#define SYSBOOT_AN3155_H

#include <stdint.h>

#include "sysboot/byteorder.h"

#define AN3155_SYNC             0x7Fu  /* host sends it first; ROM measures the baud rate */
#define AN3155_ACK              0x79u
#define AN3155_NACK             0x1Fu

#define AN3155_CMD_GET          0x00u
#define AN3155_CMD_GET_VERSION  0x01u
#define AN3155_CMD_GET_ID       0x02u
#define AN3155_CMD_READ_MEMORY  0x11u
#define AN3155_CMD_GO           0x21u
#define AN3155_CMD_WRITE_MEMORY 0x31u
#define AN3155_CMD_ERASE        0x43u
#define AN3155_CMD_EXT_ERASE    0x44u
#define AN3155_CMD_WRITE_PROTECT   0x63u
#define AN3155_CMD_WRITE_UNPROTECT 0x73u
#define AN3155_CMD_READOUT_PROTECT   0x82u
#define AN3155_CMD_READOUT_UNPROTECT 0x92u
#define AN3155_CMD_GET_CHECKSUM 0xA1u

#define AN3155_MAX_DATA         256u   /* Read/Write Memory: at most 256 bytes */
#define AN3155_FRAME_BITS       11u    /* a byte on the wire: start, 8 data, even parity, stop (AN3155 2) */

/* An address as the host sends it: 4 bytes, MSB first, then their XOR (AN3155 3.4). */
#define AN3155_ADDRESS_FRAME    5u

static inline void an3155_address_frame(uint32_t addr, uint8_t out[AN3155_ADDRESS_FRAME])
{
	put_be32(out, addr);
	out[4] = out[0] ^ out[1] ^ out[2] ^ out[3];
}

/* Extended Erase special page counts (AN3155 3.8). */
#define AN3155_ERASE_MASS       0xFFFFu
#define AN3155_ERASE_BANK1      0xFFFEu
#define AN3155_ERASE_BANK2      0xFFFDu

/* What this part's ROM reports (AN2606, STM32L47x/48x). */
#define AN3155_L476_PROTOCOL_VERSION 0x31u

#endif /* SYSBOOT_AN3155_H */
