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

#endif /* SYSBOOT_DFUSE_H */
