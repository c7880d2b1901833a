/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Just enough of the kernel's API, in user space, to compile
 * module/pci/vfio_dkms_pci_config.c against a config space held in memory
 * (pci_config_test.c).  Allocations are malloc() so that AddressSanitizer
 * sees every access past a buffer.
 */
#ifndef KERNEL_STUBS_H
#define KERNEL_STUBS_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <linux/pci_regs.h>

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;
typedef int32_t s32;
typedef uint32_t __le32;
typedef u64 resource_size_t;
typedef int refcount_t;
typedef int spinlock_t;

#define __user
#define __iomem
#define __force

struct mutex { int locked; };
struct rw_semaphore { int count; };
struct completion { int done; };
struct list_head { struct list_head *next, *prev; };
struct device;
struct module;
struct inode;
struct eventfd_ctx;
struct vm_area_struct;
struct address_space;
struct pci_saved_state;

#define GFP_KERNEL		0
#define GFP_KERNEL_ACCOUNT	0
#define kzalloc(n, gfp)		calloc(1, (n))
#define kmalloc(n, gfp)		malloc(n)
#define kmalloc_array(n, s, gfp) malloc((n) * (s))
#define kfree(p)		free(p)

#define mutex_lock(m)		((m)->locked++)
#define mutex_unlock(m)		((m)->locked--)
#define down_write(s)		((s)->count--)
#define up_write(s)		((s)->count++)
#define spin_lock_irqsave(l, f)	((void)(f), (*(l))++)
#define spin_unlock_irqrestore(l, f) ((*(l))--)
#define lockdep_assert_held_write(l) ((void)(l))

#define min(a, b)		((a) < (b) ? (a) : (b))
#define max(a, b)		((a) > (b) ? (a) : (b))
#define min_t(t, a, b)		min((t)(a), (t)(b))
#define round_up(x, y)		((((x) - 1) | ((y) - 1)) + 1)
#define lower_32_bits(n)	((u32)(n))
#define upper_32_bits(n)	((u32)((u64)(n) >> 32))
#define le32_to_cpu(x)		(x)
#define cpu_to_le32(x)		(x)

static inline int fls(unsigned int x)
{
	return x ? 32 - __builtin_clz(x) : 0;
}

#define IRQ_NOTCONNECTED	(1U << 31)

#define IORESOURCE_IO		0x00000100
#define IORESOURCE_MEM		0x00000200
#define IORESOURCE_PREFETCH	0x00002000
#define IORESOURCE_MEM_64	0x00100000
#define IORESOURCE_ROM_SHADOW	(1 << 1)

struct resource {
	resource_size_t start, end;
	unsigned long flags;
};

static inline resource_size_t resource_size(const struct resource *res)
{
	return res->end - res->start + 1;
}

#define PCI_ROM_RESOURCE	6
#define PCI_NUM_RESOURCES	7

/* The device: its config space is @cfg, @cfg_size bytes. */
struct pci_dev {
	int cfg_size;
	unsigned int irq;
	bool is_virtfn;
	struct resource resource[PCI_NUM_RESOURCES];
	u8 *cfg;
};

#define PCIBIOS_BAD_REGISTER_NUMBER 0x87

static inline int pcibios_err_to_errno(int err)
{
	return err ? -EINVAL : 0;
}

/* Reads past the end fail and give ~0, as the PCI core does. */
static inline int fake_cfg_read(struct pci_dev *pdev, int pos, int size,
				u32 *val)
{
	int i;

	*val = 0;
	if (pos < 0 || pos + size > pdev->cfg_size) {
		*val = ~0u;
		return PCIBIOS_BAD_REGISTER_NUMBER;
	}
	for (i = 0; i < size; i++)
		*val |= (u32)pdev->cfg[pos + i] << (8 * i);
	return 0;
}

static inline int fake_cfg_write(struct pci_dev *pdev, int pos, int size,
				 u32 val)
{
	int i;

	if (pos < 0 || pos + size > pdev->cfg_size)
		return PCIBIOS_BAD_REGISTER_NUMBER;
	for (i = 0; i < size; i++)
		pdev->cfg[pos + i] = val >> (8 * i);
	return 0;
}

static inline int pci_read_config_byte(struct pci_dev *d, int pos, u8 *v)
{
	u32 x;
	int r = fake_cfg_read(d, pos, 1, &x);

	*v = x;
	return r;
}

static inline int pci_read_config_word(struct pci_dev *d, int pos, u16 *v)
{
	u32 x;
	int r = fake_cfg_read(d, pos, 2, &x);

	*v = x;
	return r;
}

static inline int pci_read_config_dword(struct pci_dev *d, int pos, u32 *v)
{
	return fake_cfg_read(d, pos, 4, v);
}

static inline int pci_write_config_word(struct pci_dev *d, int pos, u16 v)
{
	return fake_cfg_write(d, pos, 2, v);
}

#define pci_user_read_config_byte	pci_read_config_byte
#define pci_user_read_config_word	pci_read_config_word
#define pci_user_read_config_dword	pci_read_config_dword

static inline int pci_user_write_config_byte(struct pci_dev *d, int pos, u8 v)
{
	return fake_cfg_write(d, pos, 1, v);
}

#define pci_user_write_config_word	pci_write_config_word

static inline int pci_user_write_config_dword(struct pci_dev *d, int pos,
					      u32 v)
{
	return fake_cfg_write(d, pos, 4, v);
}

/* The test devices are conventional PCI. */
static inline u16 pcie_caps_reg(struct pci_dev *d)
{
	(void)d;
	return 2;
}

static inline int pci_pcie_type(struct pci_dev *d)
{
	(void)d;
	return 0;
}

static inline int pci_try_reset_function(struct pci_dev *d)
{
	(void)d;
	return 0;
}

static inline int pcie_get_mps(struct pci_dev *d)
{
	(void)d;
	return 128;
}

static inline int pcie_set_readrq(struct pci_dev *d, int rq)
{
	(void)d;
	(void)rq;
	return 0;
}

/* User buffers are plain memory here. */
#define copy_from_user(to, from, n)	(memcpy((to), (from), (n)), 0)
#define copy_to_user(to, from, n)	(memcpy((to), (from), (n)), 0)

#define pci_dbg(pdev, ...)	((void)(pdev))
#define pci_warn(pdev, ...)	((void)(pdev))

#endif /* KERNEL_STUBS_H */
