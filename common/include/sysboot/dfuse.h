/*
 * dfuse.h - USB DFU 1.1 with ST's DfuSe extensions, as it is on the wire.
 *
 * The one place that knows the protocol's bytes: request codes, states and
 * status codes and their names, the GETSTATUS answer, the DfuSe commands
 * of DNLOAD block 0 and where data blocks land, the DFU functional
 * descriptor and the DfuSe memory layout strings. The host tool's DfuSe
 * client (host/src/dfuse.c) builds requests and reads answers with it; the
 * emulator's model of the ROM (sim/rom/rom_dfu.c, rom_usb.c) reads the
 * requests and builds the answers with the same code, so the two cannot
 * drift apart (and Debian's dfu-util, which shares nothing, checks both).
 * Sources: USB Device Firmware Upgrade specification 1.1, ST AN3156 "USB
 * DFU protocol used in the STM32 bootloader", UM0391 "DfuSe file format
 * specification", AN2606 for what the STM32L47x/48x ROM does.
 */
#ifndef SYSBOOT_DFUSE_H
#define SYSBOOT_DFUSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DFUSE_VID               0x0483u
#define DFUSE_PID               0xDF11u
#define DFUSE_TRANSFER_SIZE     2048u   /* wTransferSize reported by the ROM */
/*
 * AN2606, STM32L47x/48x known limitation: a DFU write longer than this whose
 * length is not a multiple of 8 bytes is corrupted by the ROM.
 */
#define DFUSE_ROM_LONG_WRITE    256u

/* DFU class requests (DFU 1.1 table 3.2). */
#define DFU_DETACH              0u
#define DFU_DNLOAD              1u
#define DFU_UPLOAD              2u
#define DFU_GETSTATUS           3u
#define DFU_CLRSTATUS           4u
#define DFU_GETSTATE            5u
#define DFU_ABORT               6u

/* DFU states (DFU 1.1 6.1.2). */
#define DFU_STATE_APP_IDLE              0u
#define DFU_STATE_APP_DETACH            1u
#define DFU_STATE_IDLE                  2u
#define DFU_STATE_DNLOAD_SYNC           3u
#define DFU_STATE_DNBUSY                4u
#define DFU_STATE_DNLOAD_IDLE           5u
#define DFU_STATE_MANIFEST_SYNC         6u
#define DFU_STATE_MANIFEST              7u
#define DFU_STATE_MANIFEST_WAIT_RESET   8u
#define DFU_STATE_UPLOAD_IDLE           9u
#define DFU_STATE_ERROR                 10u

/* DFU status codes (DFU 1.1 6.1.2). */
#define DFU_STATUS_OK                   0x00u
#define DFU_STATUS_ERR_TARGET           0x01u
#define DFU_STATUS_ERR_FILE             0x02u
#define DFU_STATUS_ERR_WRITE            0x03u
#define DFU_STATUS_ERR_ERASE            0x04u
#define DFU_STATUS_ERR_CHECK_ERASED     0x05u
#define DFU_STATUS_ERR_PROG             0x06u
#define DFU_STATUS_ERR_VERIFY           0x07u
#define DFU_STATUS_ERR_ADDRESS          0x08u
#define DFU_STATUS_ERR_NOTDONE          0x09u
#define DFU_STATUS_ERR_FIRMWARE         0x0Au
#define DFU_STATUS_ERR_VENDOR           0x0Bu
#define DFU_STATUS_ERR_USBR             0x0Cu
#define DFU_STATUS_ERR_POR              0x0Du
#define DFU_STATUS_ERR_UNKNOWN          0x0Eu
#define DFU_STATUS_ERR_STALLEDPKT       0x0Fu

/* DfuSe commands carried by DNLOAD block 0 (AN3156 6). */
#define DFUSE_CMD_GET_COMMANDS          0x00u
#define DFUSE_CMD_SET_ADDRESS           0x21u
#define DFUSE_CMD_ERASE                 0x41u
#define DFUSE_CMD_READ_UNPROTECT        0x92u
#define DFUSE_COMMAND_MAX               5u      /* the command byte and an address */

/*
 * The DFU interface on the wire (DFU 1.1 sections 3 and 4.2): class
 * requests go to the interface (bmRequestType 0x21 out, 0xA1 in); the
 * interface is class 0xFE, subclass 1, protocol 2 in DFU mode; the DFU
 * functional descriptor (type 0x21, 9 bytes) follows the interface
 * descriptors in the configuration.
 */
#define DFU_REQTYPE_OUT         0x21u   /* host to device, class, interface */
#define DFU_REQTYPE_IN          0xA1u   /* device to host, class, interface */
#define DFU_INTERFACE_CLASS     0xFEu   /* application specific */
#define DFU_INTERFACE_SUBCLASS  0x01u
#define DFU_PROTOCOL_RUNTIME    0x01u
#define DFU_PROTOCOL_DFU_MODE   0x02u
#define DFU_DESC_FUNCTIONAL     0x21u
#define DFU_FUNCTIONAL_LENGTH   9u
#define DFU_GETSTATUS_LENGTH    6u      /* bStatus, bwPollTimeout[3], bState, iString */

/* bmAttributes of the DFU functional descriptor (DFU 1.1 table 4.2). */
#define DFU_ATTR_CAN_DNLOAD             0x01u
#define DFU_ATTR_CAN_UPLOAD             0x02u
#define DFU_ATTR_MANIFESTATION_TOLERANT 0x04u
#define DFU_ATTR_WILL_DETACH            0x08u

/* DNLOAD wValue (AN3156 3): block 0 carries a command, 2.. carry data. */
#define DFUSE_BLOCK_COMMAND     0u
#define DFUSE_BLOCK_DATA        2u      /* data block n lands at pointer + (n - 2) * wTransferSize */

/* .dfu file layout (UM0391). */
#define DFUSE_PREFIX_SIZE       11u
#define DFUSE_TARGET_PREFIX_SIZE 274u
#define DFUSE_ELEMENT_HEADER_SIZE 8u
#define DFUSE_SUFFIX_SIZE       16u
#define DFUSE_BCD_DFU           0x011Au

/* ---- Names ------------------------------------------------------------ */

/* "dfuIDLE", "errTARGET", "DFU_GETSTATUS": the specification's own names. */
const char *dfu_state_name(uint8_t state);
const char *dfu_status_name(uint8_t status);
const char *dfu_request_name(uint8_t request);
/* What a status code means, in a few words ("the address is out of range"). */
const char *dfu_status_text(uint8_t status);

/* ---- The GETSTATUS answer (DFU 1.1 6.1.2) ------------------------------ */

#define DFU_POLL_TIMEOUT_MAX    0xFFFFFFu       /* bwPollTimeout has 3 bytes */

struct dfu_status {
	uint8_t status;           /* DFU_STATUS_* */
	uint32_t poll_ms;         /* bwPollTimeout: wait this long before the next request */
	uint8_t state;            /* DFU_STATE_* */
	uint8_t istring;
};

/* A poll timeout above DFU_POLL_TIMEOUT_MAX is sent as the maximum. */
void dfu_status_encode(const struct dfu_status *st, uint8_t out[DFU_GETSTATUS_LENGTH]);
void dfu_status_decode(const uint8_t in[DFU_GETSTATUS_LENGTH], struct dfu_status *st);

/* ---- DfuSe commands and data blocks (AN3156 6) -------------------------- */

/* A command as DNLOAD block 0 carries it: its byte, then for most an address. */
struct dfuse_command {
	uint8_t cmd;              /* DFUSE_CMD_* */
	bool has_addr;            /* false: the command alone (mass erase, Read Unprotect) */
	uint32_t addr;
};

/* Its bytes (the address little endian); returns their number, 1 or 5. */
size_t dfuse_command_encode(const struct dfuse_command *c, uint8_t out[DFUSE_COMMAND_MAX]);
/*
 * The command in the len bytes of a block 0 DNLOAD. False when len is
 * neither 1 nor 5 (c->cmd is still the first byte when there is one).
 */
bool dfuse_command_decode(const uint8_t *buf, size_t len, struct dfuse_command *c);

/*
 * Where data block n (DNLOAD or UPLOAD, n >= 2) starts: the address pointer
 * plus (n - 2) * wTransferSize. False for block 0 or 1, or past 4 GB.
 */
bool dfuse_block_address(uint32_t pointer, uint16_t block, uint16_t transfer_size,
			 uint32_t *addr);

/* ---- The DFU functional descriptor (DFU 1.1 4.1.3) ---------------------- */

struct dfu_functional {
	uint8_t attributes;       /* DFU_ATTR_* */
	uint16_t detach_timeout_ms;
	uint16_t transfer_size;   /* wTransferSize */
	uint16_t bcd_dfu;         /* 0 when the descriptor is the 7-byte DFU 1.0 one */
};

void dfu_functional_encode(const struct dfu_functional *f, uint8_t out[DFU_FUNCTIONAL_LENGTH]);
/* Find and decode it among the len bytes of descriptors at desc. */
bool dfu_functional_find(const uint8_t *desc, size_t len, struct dfu_functional *f);

/* ---- DfuSe memory layout strings (AN3156 4, UM0424) --------------------- */

/* What a layout string says of a run of sectors. */
#define DFUSE_MEM_READABLE 0x1u
#define DFUSE_MEM_ERASABLE 0x2u
#define DFUSE_MEM_WRITABLE 0x4u

#define DFUSE_MAX_REGIONS 16u

struct dfuse_region {
	uint32_t addr;      /* first sector */
	uint32_t count;     /* sectors */
	uint32_t size;      /* bytes per sector */
	uint8_t flags;      /* DFUSE_MEM_* */
};

struct dfuse_layout {
	char name[64];      /* "Internal Flash", trailing blanks removed */
	unsigned nregions;
	struct dfuse_region region[DFUSE_MAX_REGIONS];
};

/*
 * Parse "@NAME/0xADDR/N*SSSu[,N*SSSu...][/0xADDR/...]", the interface
 * string of each alternate setting: u is the size multiplier (blank, B, K
 * or M) followed by a letter a..g whose low three bits are the readable,
 * erasable and writable flags. 0, or -1 with the reason in err.
 */
int dfuse_parse_layout(const char *s, struct dfuse_layout *l, char *err, size_t errlen);

/* The region holding addr, or NULL. */
const struct dfuse_region *dfuse_layout_find(const struct dfuse_layout *l, uint32_t addr);

#endif /* SYSBOOT_DFUSE_H */
