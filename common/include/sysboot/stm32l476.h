/*
 * stm32l476.h - the STM32L476 memory map and the registers on the boot path.
 *
 * One header serves three parts: the firmware reads and writes these
 * registers, the emulator implements them and the host tool checks addresses
 * against the memory map. Keeping them in one place means the firmware and
 * the model of the chip can never disagree on a bit position.
 *
 * Names follow RM0351 (STM32L4x5/L4x6 reference manual): PERIPH_REG for a
 * register offset from its peripheral base, PERIPH_REG_FIELD for a bit mask,
 * PERIPH_REG_FIELD_Pos for a field's position. Only plain integer constants
 * live here, so the header is valid freestanding C99 and hosted C11 alike.
 * Addresses are from RM0351 section 2.2.2 (memory map) and the DS10198
 * datasheet; bootloader facts are from AN2606.
 */
#ifndef SYSBOOT_STM32L476_H
#define SYSBOOT_STM32L476_H

/* ---- Memory map (RM0351 2.2.2, DS10198 figure 12) ---------------------- */
#define STM32_BOOT_ALIAS_BASE    0x00000000u
#define STM32_BOOT_ALIAS_SIZE    0x00100000u

#define STM32_FLASH_BASE         0x08000000u
#define STM32_FLASH_SIZE         0x00100000u   /* 1 MB, two banks */
#define STM32_FLASH_BANK_SIZE    0x00080000u   /* 512 KB per bank */
#define STM32_FLASH_BANK2_BASE   (STM32_FLASH_BASE + STM32_FLASH_BANK_SIZE)
#define STM32_FLASH_PAGE_SIZE    0x800u        /* 2 KB */
#define STM32_FLASH_PAGES_PER_BANK 256u
#define STM32_FLASH_DWORD        8u            /* programming unit: 64 bits */

#define STM32_SYSMEM_BASE        0x1FFF0000u   /* ROM bootloader */
#define STM32_SYSMEM_SIZE        0x7000u       /* 28 KB */
#define STM32_BOOTLOADER_ID_ADDR 0x1FFF6FFEu   /* AN2606: bootloader ID byte */
#define STM32_OTP_BASE           0x1FFF7000u
#define STM32_OTP_SIZE           0x400u
#define STM32_UID_BASE           0x1FFF7590u   /* 96-bit unique device ID */
#define STM32_FLASHSIZE_BASE     0x1FFF75E0u   /* flash size in KB, 16 bits */
#define STM32_OPTION_BANK1_BASE  0x1FFF7800u
#define STM32_OPTION_BANK2_BASE  0x1FFFF800u
#define STM32_OPTION_SIZE        0x10u

#define STM32_SRAM1_BASE         0x20000000u
#define STM32_SRAM1_SIZE         0x00018000u   /* 96 KB */
#define STM32_SRAM2_BASE         0x10000000u
#define STM32_SRAM2_ALIAS_BASE   0x20018000u   /* SRAM2 also follows SRAM1 */
#define STM32_SRAM2_SIZE         0x00008000u   /* 32 KB */

#define STM32_PERIPH_BASE        0x40000000u
#define STM32_PPB_BASE           0xE0000000u

#define STM32_DEV_ID             0x415u        /* STM32L47x/L48x */

/* ---- RCC: reset and clock control (RM0351 6.4) ------------------------- */
#define RCC_BASE                 0x40021000u
#define RCC_CR                   0x00u
#define RCC_CR_MSION             (1u << 0)
#define RCC_CR_MSIRDY            (1u << 1)
#define RCC_CR_MSIPLLEN          (1u << 2)
#define RCC_CR_MSIRGSEL          (1u << 3)
#define RCC_CR_MSIRANGE_Pos      4u
#define RCC_CR_MSIRANGE          (0xFu << 4)
#define RCC_CR_MSIRANGE_6        (6u << 4)     /* MSI range 6: 4 MHz, the reset value */
#define RCC_CR_HSION             (1u << 8)
#define RCC_CR_HSIRDY            (1u << 10)
#define RCC_CR_HSEON             (1u << 16)
#define RCC_CR_HSERDY            (1u << 17)
#define RCC_CR_HSEBYP            (1u << 18)
#define RCC_CR_CSSON             (1u << 19)
#define RCC_CR_PLLON             (1u << 24)
#define RCC_CR_PLLRDY            (1u << 25)
#define RCC_ICSCR                0x04u
#define RCC_CFGR                 0x08u
#define RCC_CFGR_SW_Pos          0u
#define RCC_CFGR_SW              (3u << 0)
#define RCC_CFGR_SWS_Pos         2u
#define RCC_CFGR_SWS             (3u << 2)
#define RCC_CFGR_SW_MSI          0u
#define RCC_CFGR_SW_HSI16        1u
#define RCC_CFGR_SW_HSE          2u
#define RCC_CFGR_SW_PLL          3u
#define RCC_CFGR_HPRE_Pos        4u
#define RCC_CFGR_HPRE            (0xFu << 4)
#define RCC_PLLCFGR              0x0Cu
#define RCC_PLLCFGR_PLLSRC_Pos   0u
#define RCC_PLLCFGR_PLLSRC       (3u << 0)     /* 1 MSI, 2 HSI16, 3 HSE */
#define RCC_PLLCFGR_PLLM_Pos     4u
#define RCC_PLLCFGR_PLLM         (7u << 4)     /* divider = PLLM + 1 */
#define RCC_PLLCFGR_PLLN_Pos     8u
#define RCC_PLLCFGR_PLLN         (0x7Fu << 8)
#define RCC_PLLCFGR_PLLREN       (1u << 24)
#define RCC_PLLCFGR_PLLR_Pos     25u
#define RCC_PLLCFGR_PLLR         (3u << 25)    /* divider = 2 * (PLLR + 1) */
#define RCC_CIER                 0x18u
#define RCC_CIFR                 0x1Cu
#define RCC_CICR                 0x20u
#define RCC_AHB1RSTR             0x28u
#define RCC_AHB2RSTR             0x2Cu
#define RCC_APB1RSTR1            0x38u
#define RCC_APB2RSTR             0x40u
#define RCC_AHB1ENR              0x48u
#define RCC_AHB1ENR_FLASHEN      (1u << 8)
#define RCC_AHB1ENR_CRCEN        (1u << 12)
#define RCC_AHB2ENR              0x4Cu
#define RCC_AHB2ENR_GPIOAEN      (1u << 0)
#define RCC_AHB2ENR_GPIOBEN      (1u << 1)
#define RCC_AHB2ENR_GPIOCEN      (1u << 2)
#define RCC_AHB2ENR_OTGFSEN      (1u << 12)
#define RCC_APB1ENR1             0x58u
#define RCC_APB1ENR1_USART2EN    (1u << 17)
#define RCC_APB1ENR1_USART3EN    (1u << 18)
#define RCC_APB1ENR1_PWREN       (1u << 28)
#define RCC_APB1ENR2             0x5Cu
#define RCC_APB2ENR              0x60u
#define RCC_APB2ENR_SYSCFGEN     (1u << 0)
#define RCC_APB2ENR_USART1EN     (1u << 14)
#define RCC_CCIPR                0x88u
#define RCC_CCIPR_USART2SEL      (3u << 2)     /* 0 PCLK1, 1 SYSCLK, 2 HSI16, 3 LSE */
#define RCC_BDCR                 0x90u
#define RCC_BDCR_LSEON           (1u << 0)
#define RCC_BDCR_LSERDY          (1u << 1)
#define RCC_BDCR_RTCSEL_Pos      8u
#define RCC_BDCR_RTCSEL          (3u << 8)
#define RCC_BDCR_RTCEN           (1u << 15)
#define RCC_BDCR_BDRST           (1u << 16)
#define RCC_CSR                  0x94u
#define RCC_CSR_LSION            (1u << 0)
#define RCC_CSR_LSIRDY           (1u << 1)
#define RCC_CSR_MSISRANGE_Pos    8u
#define RCC_CSR_RMVF             (1u << 23)
#define RCC_CSR_FWRSTF           (1u << 24)
#define RCC_CSR_OBLRSTF          (1u << 25)
#define RCC_CSR_PINRSTF          (1u << 26)
#define RCC_CSR_BORRSTF          (1u << 27)
#define RCC_CSR_SFTRSTF          (1u << 28)
#define RCC_CSR_IWDGRSTF         (1u << 29)
#define RCC_CSR_WWDGRSTF         (1u << 30)
#define RCC_CSR_LPWRRSTF         (1u << 31)
#define RCC_CSR_RSTF_ALL         (0xFFu << 24)

/* ---- PWR: power control (RM0351 5.4) ----------------------------------- */
#define PWR_BASE                 0x40007000u
#define PWR_CR1                  0x00u
#define PWR_CR1_DBP              (1u << 8)

/* ---- RTC backup registers (RM0351 38.6.20) ------------------------------ */
#define RTC_BASE                 0x40002800u
#define RTC_WPR                  0x24u
#define RTC_BKP0R                0x50u
#define RTC_BKPR(n)              (0x50u + 4u * (n))
#define RTC_BKP_COUNT            32u

/* ---- SYSCFG (RM0351 9.2) ------------------------------------------------ */
#define SYSCFG_BASE              0x40010000u
#define SYSCFG_MEMRMP            0x00u
#define SYSCFG_MEMRMP_MEM_MODE   (7u << 0)
#define SYSCFG_MEMRMP_FB_MODE    (1u << 8)
#define SYSCFG_MEM_MODE_FLASH    0u
#define SYSCFG_MEM_MODE_SYSMEM   1u
#define SYSCFG_MEM_MODE_FMC      2u
#define SYSCFG_MEM_MODE_SRAM1    3u
#define SYSCFG_MEM_MODE_QUADSPI  6u
#define SYSCFG_CFGR1             0x04u

/* ---- FLASH controller (RM0351 3.7) -------------------------------------- */
#define FLASH_R_BASE             0x40022000u
#define FLASH_ACR                0x00u
#define FLASH_ACR_LATENCY        (7u << 0)
#define FLASH_PDKEYR             0x04u
#define FLASH_KEYR               0x08u
#define FLASH_KEY1               0x45670123u
#define FLASH_KEY2               0xCDEF89ABu
#define FLASH_OPTKEYR            0x0Cu
#define FLASH_OPTKEY1            0x08192A3Bu
#define FLASH_OPTKEY2            0x4C5D6E7Fu
#define FLASH_SR                 0x10u
#define FLASH_SR_EOP             (1u << 0)
#define FLASH_SR_OPERR           (1u << 1)
#define FLASH_SR_PROGERR         (1u << 3)
#define FLASH_SR_WRPERR          (1u << 4)
#define FLASH_SR_PGAERR          (1u << 5)
#define FLASH_SR_SIZERR          (1u << 6)
#define FLASH_SR_PGSERR          (1u << 7)
#define FLASH_SR_MISERR          (1u << 8)
#define FLASH_SR_FASTERR         (1u << 9)
#define FLASH_SR_RDERR           (1u << 14)
#define FLASH_SR_OPTVERR         (1u << 15)
#define FLASH_SR_BSY             (1u << 16)
#define FLASH_SR_ERRORS          (FLASH_SR_OPERR | FLASH_SR_PROGERR | \
				  FLASH_SR_WRPERR | FLASH_SR_PGAERR | \
				  FLASH_SR_SIZERR | FLASH_SR_PGSERR | \
				  FLASH_SR_MISERR | FLASH_SR_FASTERR | \
				  FLASH_SR_RDERR | FLASH_SR_OPTVERR)
#define FLASH_CR                 0x14u
#define FLASH_CR_PG              (1u << 0)
#define FLASH_CR_PER             (1u << 1)
#define FLASH_CR_MER1            (1u << 2)
#define FLASH_CR_PNB_Pos         3u
#define FLASH_CR_PNB             (0xFFu << 3)
#define FLASH_CR_BKER            (1u << 11)
#define FLASH_CR_MER2            (1u << 15)
#define FLASH_CR_STRT            (1u << 16)
#define FLASH_CR_OPTSTRT         (1u << 17)
#define FLASH_CR_FSTPG           (1u << 18)
#define FLASH_CR_EOPIE           (1u << 24)
#define FLASH_CR_ERRIE           (1u << 25)
#define FLASH_CR_RDERRIE         (1u << 26)
#define FLASH_CR_OBL_LAUNCH      (1u << 27)
#define FLASH_CR_OPTLOCK         (1u << 30)
#define FLASH_CR_LOCK            (1u << 31)
#define FLASH_ECCR               0x18u
#define FLASH_ECCR_ADDR_ECC      0x7FFFFu      /* byte offset in its bank */
#define FLASH_ECCR_BK_ECC        (1u << 19)
#define FLASH_ECCR_SYSF_ECC      (1u << 20)
#define FLASH_ECCR_ECCIE         (1u << 24)
#define FLASH_ECCR_ECCC          (1u << 30)    /* single error corrected */
#define FLASH_ECCR_ECCD          (1u << 31)    /* double error detected: NMI */
#define FLASH_OPTR               0x20u
#define FLASH_OPTR_RDP           (0xFFu << 0)
#define FLASH_OPTR_IWDG_SW       (1u << 16)
#define FLASH_OPTR_BFB2          (1u << 20)
#define FLASH_OPTR_DUALBANK      (1u << 21)
#define FLASH_OPTR_nBOOT1        (1u << 23)
#define FLASH_OPTR_SRAM2_PE      (1u << 24)
#define FLASH_OPTR_SRAM2_RST     (1u << 25)
#define FLASH_OPTR_DEFAULT       0xFFEFF8AAu   /* factory value, RDP level 0 */
#define FLASH_RDP_LEVEL0         0xAAu
#define FLASH_RDP_LEVEL2         0xCCu
#define FLASH_PCROP1SR           0x24u
#define FLASH_PCROP1ER           0x28u
#define FLASH_WRP1AR             0x2Cu
#define FLASH_WRP1BR             0x30u
#define FLASH_PCROP2SR           0x44u
#define FLASH_PCROP2ER           0x48u
#define FLASH_WRP2AR             0x4Cu
#define FLASH_WRP2BR             0x50u
#define FLASH_WRPxR_START        (0xFFu << 0)  /* WRPxx_STRT: first page */
#define FLASH_WRPxR_END_Pos      16u
#define FLASH_WRPxR_END          (0xFFu << 16) /* WRPxx_END: last page */

/* ---- CRC calculation unit (RM0351 14.4) --------------------------------- */
#define CRC_BASE                 0x40023000u
#define CRC_DR                   0x00u
#define CRC_IDR                  0x04u
#define CRC_CR                   0x08u
#define CRC_CR_RESET             (1u << 0)
#define CRC_CR_POLYSIZE_Pos      3u
#define CRC_CR_POLYSIZE          (3u << 3)
#define CRC_CR_REV_IN_Pos        5u
#define CRC_CR_REV_IN            (3u << 5)     /* 1 byte, 2 half-word, 3 word */
#define CRC_CR_REV_IN_BYTE       (1u << 5)     /* bit order reversed by byte */
#define CRC_CR_REV_IN_HALF       (2u << 5)     /* ... by half-word */
#define CRC_CR_REV_IN_WORD       (3u << 5)     /* ... by word */
#define CRC_CR_REV_OUT           (1u << 7)
#define CRC_INIT                 0x10u
#define CRC_POL                  0x14u

/* ---- GPIO (RM0351 8.5) -------------------------------------------------- */
#define GPIOA_BASE               0x48000000u
#define GPIOB_BASE               0x48000400u
#define GPIOC_BASE               0x48000800u
#define GPIO_PORT_STRIDE         0x400u
#define GPIO_MODER               0x00u
#define GPIO_OTYPER              0x04u
#define GPIO_OSPEEDR             0x08u
#define GPIO_PUPDR               0x0Cu
#define GPIO_IDR                 0x10u
#define GPIO_ODR                 0x14u
#define GPIO_BSRR                0x18u
#define GPIO_LCKR                0x1Cu
#define GPIO_AFRL                0x20u
#define GPIO_AFRH                0x24u
#define GPIO_BRR                 0x28u
#define GPIO_ASCR                0x2Cu
#define GPIO_MODE_INPUT          0u
#define GPIO_MODE_OUTPUT         1u
#define GPIO_MODE_AF             2u
#define GPIO_MODE_ANALOG         3u
#define GPIO_MODER_GPIOC_RESET   0xFFFFFFFFu   /* all analog (ports C to H) */
#define GPIO_AF7                 7u            /* DS10198 table 17: USARTx on AF7 */

/* Nucleo-L476RG (UM1724): LD2 on PA5, B1 on PC13 (pressed = low). */
#define NUCLEO_LD2_PIN           5u
#define NUCLEO_B1_PIN            13u

/* ---- USART (RM0351 40.8) ------------------------------------------------ */
#define USART1_BASE              0x40013800u
#define USART2_BASE              0x40004400u
#define USART3_BASE              0x40004800u
#define USART_CR1                0x00u
#define USART_CR1_UE             (1u << 0)
#define USART_CR1_RE             (1u << 2)
#define USART_CR1_TE             (1u << 3)
#define USART_CR1_IDLEIE         (1u << 4)
#define USART_CR1_RXNEIE         (1u << 5)
#define USART_CR1_TCIE           (1u << 6)
#define USART_CR1_TXEIE          (1u << 7)
#define USART_CR1_PEIE           (1u << 8)
#define USART_CR1_PS             (1u << 9)
#define USART_CR1_PCE            (1u << 10)
#define USART_CR1_M0             (1u << 12)
#define USART_CR1_OVER8          (1u << 15)
#define USART_CR1_M1             (1u << 28)
#define USART_CR2                0x04u
#define USART_CR2_STOP_Pos       12u
#define USART_CR2_STOP           (3u << 12)    /* 00: 1, 01: 0.5, 10: 2, 11: 1.5 stop bits */
#define USART_CR3                0x08u
#define USART_CR3_EIE            (1u << 0)
#define USART_CR3_ONEBIT         (1u << 11)
#define USART_CR3_OVRDIS         (1u << 12)
#define USART_BRR                0x0Cu
#define USART_GTPR               0x10u
#define USART_RTOR               0x14u
#define USART_RQR                0x18u
#define USART_RQR_ABRRQ          (1u << 0)
#define USART_RQR_SBKRQ          (1u << 1)
#define USART_RQR_MMRQ           (1u << 2)
#define USART_RQR_RXFRQ          (1u << 3)
#define USART_RQR_TXFRQ          (1u << 4)
#define USART_ISR                0x1Cu
#define USART_ISR_PE             (1u << 0)
#define USART_ISR_FE             (1u << 1)
#define USART_ISR_NF             (1u << 2)
#define USART_ISR_ORE            (1u << 3)
#define USART_ISR_IDLE           (1u << 4)
#define USART_ISR_RXNE           (1u << 5)
#define USART_ISR_TC             (1u << 6)
#define USART_ISR_TXE            (1u << 7)
#define USART_ISR_BUSY           (1u << 16)
#define USART_ISR_TEACK          (1u << 21)
#define USART_ISR_REACK          (1u << 22)
#define USART_ICR                0x20u
#define USART_ICR_PECF           (1u << 0)
#define USART_ICR_FECF           (1u << 1)
#define USART_ICR_NCF            (1u << 2)
#define USART_ICR_ORECF          (1u << 3)
#define USART_ICR_IDLECF         (1u << 4)
#define USART_ICR_TCCF           (1u << 6)
#define USART_RDR                0x24u
#define USART_TDR                0x28u

/* ---- IWDG: independent watchdog (RM0351 32.4) --------------------------- */
#define IWDG_BASE                0x40003000u
#define IWDG_KR                  0x00u
#define IWDG_KR_ENABLE           0xCCCCu
#define IWDG_KR_REFRESH          0xAAAAu
#define IWDG_KR_ACCESS           0x5555u
#define IWDG_PR                  0x04u
#define IWDG_RLR                 0x08u
#define IWDG_SR                  0x0Cu
#define IWDG_WINR                0x10u
#define STM32_LSI_HZ             32000u

/* ---- DBGMCU (RM0351 48.16) ---------------------------------------------- */
#define DBGMCU_BASE              0xE0042000u
#define DBGMCU_IDCODE            0x00u
#define DBGMCU_IDCODE_DEV_ID     0xFFFu
#define DBGMCU_CR                0x04u
#define DBGMCU_APB1FZR1          0x08u

/* ---- USB OTG FS (RM0351 47) ---------------------------------------------- */
#define USB_OTG_FS_BASE          0x50000000u

/* ---- Cortex-M4 private peripherals (ARMv7-M ARM B3, PM0214) ------------ */
#define SCS_BASE                 0xE000E000u
#define SYSTICK_BASE             0xE000E010u
#define SYST_CSR                 0x00u
#define SYST_CSR_ENABLE          (1u << 0)
#define SYST_CSR_TICKINT         (1u << 1)
#define SYST_CSR_CLKSOURCE       (1u << 2)
#define SYST_CSR_COUNTFLAG       (1u << 16)
#define SYST_RVR                 0x04u
#define SYST_CVR                 0x08u
#define SYST_CALIB               0x0Cu

#define NVIC_BASE                0xE000E100u
#define NVIC_ISER(n)             (0x000u + 4u * (n))
#define NVIC_ICER(n)             (0x080u + 4u * (n))
#define NVIC_ISPR(n)             (0x100u + 4u * (n))
#define NVIC_ICPR(n)             (0x180u + 4u * (n))
#define NVIC_IABR(n)             (0x200u + 4u * (n))
#define NVIC_IPR(n)              (0x300u + (n))  /* one byte per IRQ */
#define NVIC_REG_WORDS           8u
#define STM32_IRQ_COUNT          82u

#define SCB_BASE                 0xE000ED00u
#define SCB_CPUID                0x00u
#define SCB_ICSR                 0x04u
#define SCB_ICSR_PENDSTCLR       (1u << 25)
#define SCB_ICSR_PENDSTSET       (1u << 26)
#define SCB_ICSR_PENDSVCLR       (1u << 27)
#define SCB_ICSR_PENDSVSET       (1u << 28)
#define SCB_VTOR                 0x08u
#define SCB_AIRCR                0x0Cu
#define SCB_AIRCR_VECTKEY        (0x05FAu << 16)
#define SCB_AIRCR_SYSRESETREQ    (1u << 2)
#define SCB_AIRCR_PRIGROUP       (7u << 8)
#define SCB_SCR                  0x10u
#define SCB_CCR                  0x14u
#define SCB_SHPR(n)              (0x18u + 4u * (n))
#define SCB_SHCSR                0x24u
#define SCB_CFSR                 0x28u
#define SCB_HFSR                 0x2Cu
#define SCB_MMFAR                0x34u
#define SCB_BFAR                 0x38u
#define SCB_CPACR                0x88u
#define CORTEX_M4_CPUID          0x410FC241u

/* Exception numbers (ARMv7-M ARM B1.5.2); IRQ n is exception 16 + n. */
#define EXC_RESET                1u
#define EXC_NMI                  2u
#define EXC_HARDFAULT            3u
#define EXC_MEMMANAGE            4u
#define EXC_BUSFAULT             5u
#define EXC_USAGEFAULT           6u
#define EXC_SVCALL               11u
#define EXC_PENDSV               14u
#define EXC_SYSTICK              15u
#define EXC_IRQ0                 16u

/* STM32L476 interrupt numbers used on the boot path (RM0351 table 58). */
#define IRQ_FLASH                4u
#define IRQ_USART1               37u
#define IRQ_USART2               38u
#define IRQ_USART3               39u
#define IRQ_OTG_FS               67u

#endif /* SYSBOOT_STM32L476_H */
