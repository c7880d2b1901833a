// SPDX-License-Identifier: GPL-2.0
/*
 * vfio-dkms no-IOMMU backend (VFIO_NOIOMMU_IOMMU) and the bus-address
 * extension (VFIO_DKMS_NOIOMMU_DMA, include/uapi/linux/vfio_dkms.h).
 *
 * With the module parameter enable_unsafe_noiommu_mode, a device without an
 * IOMMU group gets a group of its own (an iommu_group allocated here, named
 * "vfio-noiommu", node /dev/vfio-dkms/noiommu-N).  Such a group gives user
 * space a device that can DMA anywhere in memory: opening it needs
 * CAP_SYS_RAWIO and the kernel is tainted (TAINT_USER), as upstream does.
 * A container holds either no-IOMMU groups or real ones, never both.
 *
 * The backend itself translates nothing: upstream's VFIO_IOMMU_* ioctls
 * fail with -ENOTTY.  What it adds is VFIO_DKMS_NOIOMMU_MAP_DMA/UNMAP_DMA:
 * pin user memory (long-term, charged to RLIMIT_MEMLOCK, with the pinning
 * path type1 uses: pin.c) and report the bus addresses of its physically
 * contiguous runs.  Every pin is undone on unmap and when the backend is released
 * (last group leaves the container: container closed, process killed).
 *
 * Which address is the bus address: without an IOMMU the DMA API's direct
 * mapping gives a device phys_to_dma(dev, phys).  On x86 (and on most
 * arm64/riscv systems) that is the physical address itself, which is what
 * is reported.  It is NOT the bus address where a platform has a DMA
 * offset (dev->dma_range_map, "dma-ranges"), sets a memory-encryption bit
 * in DMA addresses (AMD SME/SEV, TDX shared bit), or where the device's DMA
 * mask cannot reach the page (the kernel would bounce through swiotlb).
 * Nothing here ever bounces: such platforms must not use the extension;
 * the device would access the wrong memory.
 *
 * Locking: noiommu->lock is taken inside the container's group_lock, at
 * the place of the type1 backend's lock (group.h).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/capability.h>
#include <linux/iommu.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/overflow.h>
#include <linux/rbtree.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vfio.h>
#include <linux/vfio_dkms.h>

#include "iommu.h"
#include "noiommu.h"
#include "pin.h"

bool vfio_dkms_noiommu __read_mostly;
module_param_named(enable_unsafe_noiommu_mode, vfio_dkms_noiommu, bool, 0644);
MODULE_PARM_DESC(enable_unsafe_noiommu_mode,
		 "Give devices without an IOMMU group a no-IOMMU group. UNSAFE: no isolation, the device can DMA anywhere; needs CAP_SYS_RAWIO and taints the kernel (default: off)");

/**
 * struct vfio_dkms_noiommu - the no-IOMMU state of one container
 * @lock: protects every field below
 * @pins: pinned ranges (struct vfio_dkms_pin), ordered by vaddr
 * @nr_pins: ranges in @pins
 * @pinned_pages: pages pinned, the sum over @pins (introspection)
 */
struct vfio_dkms_noiommu {
	struct mutex lock;	/* protects the fields below */
	struct rb_root pins;
	unsigned int nr_pins;
	unsigned long pinned_pages;
};

/**
 * struct vfio_dkms_pin - one VFIO_DKMS_NOIOMMU_MAP_DMA range
 * @range: entry in the backend's @pins: first user address and bytes
 * @write: pinned with FOLL_WRITE (pages are dirtied on unpin)
 * @segs: the physically contiguous runs, in vaddr order
 * @nr_segs: entries in @segs
 * @acct: the locked_vm charge, on the pinning process's mm
 */
struct vfio_dkms_pin {
	struct vfio_dkms_range range;
	bool write;
	struct vfio_dkms_run *segs;
	unsigned long nr_segs;
	struct vfio_dkms_locked_vm acct;
};

/* --- pins -------------------------------------------------------------- */

static struct vfio_dkms_pin *vfio_dkms_pin_of(struct rb_node *node)
{
	return rb_entry(node, struct vfio_dkms_pin, range.node);
}

static void vfio_dkms_noiommu_link(struct vfio_dkms_noiommu *noiommu,
				   struct vfio_dkms_pin *new)
{
	vfio_dkms_range_link(&noiommu->pins, &new->range);
	noiommu->nr_pins++;
	noiommu->pinned_pages += new->range.size >> PAGE_SHIFT;
}

/* Unpin, uncharge and free a pin that is not (or no longer) linked. */
static void vfio_dkms_pin_free(struct vfio_dkms_pin *pin)
{
	vfio_dkms_unpin_runs(pin->segs, pin->nr_segs, pin->write);
	vfio_dkms_locked_vm_put(&pin->acct);
	kvfree(pin->segs);
	kfree(pin);
}

static void vfio_dkms_noiommu_remove(struct vfio_dkms_noiommu *noiommu,
				     struct vfio_dkms_pin *pin)
{
	rb_erase(&pin->range.node, &noiommu->pins);
	noiommu->nr_pins--;
	noiommu->pinned_pages -= pin->range.size >> PAGE_SHIFT;
	vfio_dkms_pin_free(pin);
}

/*
 * vfio_dkms_runs_fn of the pin path: the runs were gathered in @pin->segs
 * itself (room for one per page), so they only need counting.
 */
static int vfio_dkms_pin_keep_runs(void *data, struct vfio_dkms_run *runs,
				   unsigned int n)
{
	struct vfio_dkms_pin *pin = data;

	pin->nr_segs = n;
	return 0;
}

/*
 * Pin the range of @pin and record its physically contiguous runs in
 * @pin->segs.  On failure nothing stays pinned.
 */
static int vfio_dkms_pin_pages(struct vfio_dkms_pin *pin)
{
	unsigned long npage = pin->range.size >> PAGE_SHIFT;
	struct vfio_dkms_run *segs, *shrunk;
	int ret;

	/*
	 * At most one run per page; shrunk to size below.  Huge ranges (only
	 * possible with CAP_IPC_LOCK or an unlimited RLIMIT_MEMLOCK) fail
	 * with -ENOMEM here, without kvmalloc's warning for sizes > INT_MAX.
	 * One call of the callback at the end takes them all: the walk gets
	 * room for as many runs as there are pages (a u32 of them at most).
	 */
	if (npage > U32_MAX)
		return -ENOMEM;
	segs = kvmalloc_array(npage, sizeof(*segs),
			      GFP_KERNEL_ACCOUNT | __GFP_NOWARN);
	if (!segs)
		return -ENOMEM;

	ret = vfio_dkms_pin_runs(pin->range.start, npage, pin->write, segs,
				 npage, vfio_dkms_pin_keep_runs, pin);
	if (ret) {
		pin->nr_segs = 0;
		kvfree(segs);
		return ret;
	}

	shrunk = kvmalloc_array(pin->nr_segs, sizeof(*segs),
				GFP_KERNEL_ACCOUNT);
	if (shrunk) {
		memcpy(shrunk, segs, pin->nr_segs * sizeof(*segs));
		kvfree(segs);
		segs = shrunk;
	}
	pin->segs = segs;
	return 0;
}

/* Copy the segments of @pin to @useg; the bus address is the physical one. */
static int vfio_dkms_pin_copy_segs(struct vfio_dkms_pin *pin,
				   struct vfio_dkms_dma_segment __user *useg)
{
	unsigned long i;

	for (i = 0; i < pin->nr_segs; i++) {
		struct vfio_dkms_dma_segment seg = {
			/* x86 without an IOMMU: bus address == phys (above) */
			.bus_addr = PFN_PHYS(pin->segs[i].pfn),
			.size = (u64)pin->segs[i].npage << PAGE_SHIFT,
		};

		if (copy_to_user(&useg[i], &seg, sizeof(seg)))
			return -EFAULT;
	}
	return 0;
}

static long vfio_dkms_noiommu_map(struct vfio_dkms_noiommu *noiommu,
				  struct vfio_dkms_noiommu_dma_map __user *arg)
{
	const unsigned long minsz =
		offsetof(struct vfio_dkms_noiommu_dma_map, segments);
	const u32 known = VFIO_DKMS_NOIOMMU_DMA_MAP_FLAG_READ |
			  VFIO_DKMS_NOIOMMU_DMA_MAP_FLAG_WRITE;
	struct vfio_dkms_noiommu_dma_map map;
	struct vfio_dkms_pin *pin;
	unsigned long vaddr;
	size_t size;
	long ret;

	/*
	 * The segments are physical addresses, which pagemap keeps from
	 * anyone without CAP_SYS_ADMIN: a container fd handed to a process
	 * without CAP_SYS_RAWIO must not tell it any either.
	 */
	if (!capable(CAP_SYS_RAWIO))
		return -EPERM;

	if (copy_from_user(&map, arg, minsz))
		return -EFAULT;
	if (map.argsz < minsz || map.flags & ~known || !(map.flags & known) ||
	    map.pad)
		return -EINVAL;
	/* segments[] must fit argsz: no multiplication, no overflow. */
	if (map.nr_segments > (map.argsz - minsz) /
			      sizeof(struct vfio_dkms_dma_segment))
		return -EINVAL;

	vaddr = map.vaddr;
	size = map.size;
	if (vaddr != map.vaddr || size != map.size || !size ||
	    (vaddr | size) & ~PAGE_MASK || vaddr + size - 1 < vaddr)
		return -EINVAL;

	pin = kzalloc(sizeof(*pin), GFP_KERNEL_ACCOUNT);
	if (!pin)
		return -ENOMEM;
	pin->range.start = vaddr;
	pin->range.size = size;
	pin->write = map.flags & VFIO_DKMS_NOIOMMU_DMA_MAP_FLAG_WRITE;
	vfio_dkms_locked_vm_init(&pin->acct);

	mutex_lock(&noiommu->lock);
	if (vfio_dkms_range_find(&noiommu->pins, vaddr, vaddr + size - 1)) {
		ret = -EEXIST;
		goto err_unlock;
	}
	if (noiommu->nr_pins >= VFIO_DKMS_NOIOMMU_MAX_PINS) {
		map.nr_segments = 0;
		ret = -ENOSPC;
		goto err_nr_segments;
	}

	/* Charge first: over the limit, nothing gets pinned. */
	ret = vfio_dkms_locked_vm_charge(&pin->acct, size >> PAGE_SHIFT);
	if (ret)
		goto err_unlock;

	ret = vfio_dkms_pin_pages(pin);
	if (ret)
		goto err_unlock;

	if (pin->nr_segs > map.nr_segments) {
		/* Tell how many are needed; nothing stays pinned. */
		map.nr_segments = min_t(unsigned long, pin->nr_segs, U32_MAX);
		ret = -ENOSPC;
		goto err_nr_segments;
	}
	map.nr_segments = pin->nr_segs;
	if (vfio_dkms_pin_copy_segs(pin, arg->segments) ||
	    copy_to_user(&arg->nr_segments, &map.nr_segments,
			 sizeof(map.nr_segments))) {
		ret = -EFAULT;
		goto err_unlock;
	}

	vfio_dkms_noiommu_link(noiommu, pin);
	mutex_unlock(&noiommu->lock);
	return 0;

err_nr_segments:
	if (copy_to_user(&arg->nr_segments, &map.nr_segments,
			 sizeof(map.nr_segments)))
		ret = -EFAULT;
err_unlock:
	mutex_unlock(&noiommu->lock);
	vfio_dkms_pin_free(pin);
	return ret;
}

static void vfio_dkms_noiommu_remove_all(struct vfio_dkms_noiommu *noiommu)
{
	struct rb_node *node;

	while ((node = rb_first(&noiommu->pins)))
		vfio_dkms_noiommu_remove(noiommu, vfio_dkms_pin_of(node));
}

static long vfio_dkms_noiommu_unmap(struct vfio_dkms_noiommu *noiommu,
				    struct vfio_dkms_noiommu_dma_unmap __user *arg)
{
	const unsigned long minsz =
		offsetofend(struct vfio_dkms_noiommu_dma_unmap, size);
	struct vfio_dkms_noiommu_dma_unmap unmap;
	struct vfio_dkms_range *range = NULL;
	struct vfio_dkms_pin *pin;
	u64 unpinned = 0;
	long ret = 0;

	if (copy_from_user(&unmap, arg, minsz))
		return -EFAULT;
	if (unmap.argsz < minsz ||
	    unmap.flags & ~VFIO_DKMS_NOIOMMU_DMA_UNMAP_FLAG_ALL)
		return -EINVAL;

	mutex_lock(&noiommu->lock);
	if (unmap.flags & VFIO_DKMS_NOIOMMU_DMA_UNMAP_FLAG_ALL) {
		if (unmap.vaddr || unmap.size) {
			ret = -EINVAL;
			goto out_unlock;
		}
		unpinned = (u64)noiommu->pinned_pages << PAGE_SHIFT;
		vfio_dkms_noiommu_remove_all(noiommu);
	} else {
		/* Exact vaddr and size of one pinned range. */
		if (unmap.size)
			range = vfio_dkms_range_find(&noiommu->pins, unmap.vaddr,
						     unmap.vaddr);
		if (!range || range->start != unmap.vaddr ||
		    range->size != unmap.size) {
			ret = -EINVAL;
			goto out_unlock;
		}
		pin = container_of(range, struct vfio_dkms_pin, range);
		unpinned = pin->range.size;
		vfio_dkms_noiommu_remove(noiommu, pin);
	}
out_unlock:
	mutex_unlock(&noiommu->lock);

	unmap.size = unpinned;
	if (copy_to_user(&arg->size, &unmap.size, sizeof(unmap.size)))
		return -EFAULT;
	return ret;
}

/* --- backend ----------------------------------------------------------- */

/*
 * The check_extension op: 1 for VFIO_NOIOMMU_IOMMU while the mode is
 * enabled (upstream) and for VFIO_DKMS_NOIOMMU_DMA while the mode is enabled
 * or the backend is set (then the ioctls work), otherwise 0.
 */
static long vfio_dkms_noiommu_check_extension(void *data, unsigned long arg)
{
	switch (arg) {
	case VFIO_NOIOMMU_IOMMU:
		return READ_ONCE(vfio_dkms_noiommu) ? 1 : 0;
	case VFIO_DKMS_NOIOMMU_DMA:
		return data || READ_ONCE(vfio_dkms_noiommu) ? 1 : 0;
	default:
		return 0;
	}
}

/*
 * The open op.  Return: the backend, ERR_PTR(-ENODEV) when the mode is off
 * or @arg is not an extension of ours, -EINVAL for our extension that is not
 * an IOMMU type, -EPERM without CAP_SYS_RAWIO (the order upstream checks
 * in).
 */
static void *vfio_dkms_noiommu_open(unsigned long arg)
{
	struct vfio_dkms_noiommu *noiommu;

	if (vfio_dkms_noiommu_check_extension(NULL, arg) <= 0)
		return ERR_PTR(-ENODEV);
	if (arg != VFIO_NOIOMMU_IOMMU)
		return ERR_PTR(-EINVAL);
	if (!capable(CAP_SYS_RAWIO))
		return ERR_PTR(-EPERM);

	noiommu = kzalloc(sizeof(*noiommu), GFP_KERNEL_ACCOUNT);
	if (!noiommu)
		return ERR_PTR(-ENOMEM);
	mutex_init(&noiommu->lock);
	noiommu->pins = RB_ROOT;
	return noiommu;
}

/* The release op: every range is unpinned and uncharged. */
static void vfio_dkms_noiommu_release(void *data)
{
	struct vfio_dkms_noiommu *noiommu = data;

	mutex_lock(&noiommu->lock);
	vfio_dkms_noiommu_remove_all(noiommu);
	mutex_unlock(&noiommu->lock);
	mutex_destroy(&noiommu->lock);
	kfree(noiommu);
}

/*
 * The ioctl op.  Return: as the ioctl; -ENOTTY for everything but the
 * extension, as the upstream no-IOMMU driver (VFIO_IOMMU_GET_INFO, MAP_DMA,
 * UNMAP_DMA).  No-IOMMU groups are never shared: one owner, not tracked.
 */
static long vfio_dkms_noiommu_ioctl(void *data, const void *owner,
				    unsigned int cmd, unsigned long arg)
{
	void __user *uarg = (void __user *)arg;

	switch (cmd) {
	case VFIO_DKMS_NOIOMMU_MAP_DMA:
		return vfio_dkms_noiommu_map(data, uarg);
	case VFIO_DKMS_NOIOMMU_UNMAP_DMA:
		return vfio_dkms_noiommu_unmap(data, uarg);
	default:
		return -ENOTTY;
	}
}

/* Without an IOMMU there is no translation to give a group, nor to take. */
static int vfio_dkms_noiommu_attach_group(void *data,
					  struct iommu_group *iommu_group)
{
	return 0;
}

static void vfio_dkms_noiommu_detach_group(void *data,
					   struct iommu_group *iommu_group)
{
}

/* The introspect op: docs/introspection.md, "containers". */
static void vfio_dkms_noiommu_introspect(void *data, struct seq_file *m)
{
	struct vfio_dkms_noiommu *noiommu = data;
	struct rb_node *node;

	mutex_lock(&noiommu->lock);
	seq_puts(m, "backend: noiommu\n");
	seq_printf(m, "pins: %u\n", noiommu->nr_pins);
	seq_printf(m, "pinned_pages: %lu\n", noiommu->pinned_pages);
	for (node = rb_first(&noiommu->pins); node; node = rb_next(node)) {
		struct vfio_dkms_pin *pin = vfio_dkms_pin_of(node);
		unsigned long i;

		seq_printf(m, "pin: [0x%llx, 0x%llx] %s pid %d segments %lu\n",
			   pin->range.start,
			   pin->range.start + pin->range.size - 1,
			   pin->write ? "rw" : "r-",
			   vfio_dkms_locked_vm_pid(&pin->acct), pin->nr_segs);
		for (i = 0; i < pin->nr_segs; i++)
			seq_printf(m, "segment: [0x%llx, 0x%llx]\n",
				   (unsigned long long)PFN_PHYS(pin->segs[i].pfn),
				   (unsigned long long)PFN_PHYS(pin->segs[i].pfn +
								pin->segs[i].npage) - 1);
	}
	mutex_unlock(&noiommu->lock);
}

const struct vfio_dkms_iommu_ops vfio_dkms_noiommu_ops = {
	.open		= vfio_dkms_noiommu_open,
	.release	= vfio_dkms_noiommu_release,
	.ioctl		= vfio_dkms_noiommu_ioctl,
	.check_extension = vfio_dkms_noiommu_check_extension,
	.attach_group	= vfio_dkms_noiommu_attach_group,
	.detach_group	= vfio_dkms_noiommu_detach_group,
	.introspect	= vfio_dkms_noiommu_introspect,
	.noiommu	= true,
};

/* --- groups ------------------------------------------------------------ */

/**
 * vfio_dkms_noiommu_group_alloc() - an IOMMU group for a device without one
 * @dev: the device
 *
 * As upstream: a new iommu_group named "vfio-noiommu" holding only @dev
 * (sysfs shows it under /sys/kernel/iommu_groups/), removed again with
 * iommu_group_remove_device() when the device leaves.
 *
 * Return: the group with a reference for the caller, or an ERR_PTR.
 */
struct iommu_group *vfio_dkms_noiommu_group_alloc(struct device *dev)
{
	struct iommu_group *iommu_group;
	int ret;

	iommu_group = iommu_group_alloc();
	if (IS_ERR(iommu_group))
		return iommu_group;

	ret = iommu_group_set_name(iommu_group, "vfio-noiommu");
	if (!ret)
		ret = iommu_group_add_device(iommu_group, dev);
	if (ret) {
		iommu_group_put(iommu_group);
		return ERR_PTR(ret);
	}
	return iommu_group;
}
