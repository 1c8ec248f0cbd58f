/*
 * dfuse.h - constants of USB DFU 1.1 with ST's DfuSe extensions.
 *
 * Shared by the host tool's DFU transport and .dfu file code and by the
 * emulator's model of the ROM's DFU interface. Sources: USB Device Firmware
 * Upgrade specification 1.1, ST AN3156 "USB DFU protocol used in the STM32
 * bootloader" and UM0391 "DfuSe file format specification".
 */
#ifndef SYSBOOT_DFUSE_H
#define SYSBOOT_DFUSE_H

#define DFUSE_VID               0x0483u
#define DFUSE_PID               0xDF11u
#define DFUSE_TRANSFER_SIZE     2048u   /* wTransferSize reported by the ROM */

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

/* .dfu file layout (UM0391). */
#define DFUSE_PREFIX_SIZE       11u
#define DFUSE_TARGET_PREFIX_SIZE 274u
#define DFUSE_ELEMENT_HEADER_SIZE 8u
#define DFUSE_SUFFIX_SIZE       16u
#define DFUSE_BCD_DFU           0x011Au

#endif /* SYSBOOT_DFUSE_H */
