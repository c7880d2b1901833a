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
 * pin user memory (long-term, charged to RLIMIT_MEMLOCK with the helper
 * type1 uses) and report the bus addresses of its physically contiguous
 * runs.  Every pin is undone on unmap and when the backend is released
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
 * the place of the type1 backend's lock (vfio_dkms_private.h).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/capability.h>
#include <linux/iommu.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/overflow.h>
#include <linux/rbtree.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vfio_dkms.h>

#include "compat.h"
#include "vfio_dkms_private.h"

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
 * struct vfio_dkms_locked_vm - a charge on a process's locked_vm
 * @task: the charged process (group leader), for RLIMIT_MEMLOCK
 * @mm: its mm, grabbed: the charge goes back to it from any context
 * @lock_cap: it had CAP_IPC_LOCK: no limit
 * @locked: pages charged
 */
struct vfio_dkms_locked_vm {
	struct task_struct *task;
	struct mm_struct *mm;
	bool lock_cap;
	unsigned long locked;
};

static void vfio_dkms_locked_vm_init(struct vfio_dkms_locked_vm *acct)
{
	get_task_struct(current->group_leader);
	acct->task = current->group_leader;
	mmgrab(current->mm);
	acct->mm = current->mm;
	acct->lock_cap = capable(CAP_IPC_LOCK);
	acct->locked = 0;
}

static int vfio_dkms_locked_vm_charge(struct vfio_dkms_locked_vm *acct,
				      unsigned long npage)
{
	int ret;

	if (npage > LONG_MAX)
		return -ENOMEM;
	ret = vfio_dkms_account_locked_vm(acct->mm, acct->task, acct->lock_cap,
					  npage);
	if (!ret)
		acct->locked += npage;
	return ret;
}

/* Give the whole charge back and drop the references. */
static void vfio_dkms_locked_vm_put(struct vfio_dkms_locked_vm *acct)
{
	vfio_dkms_account_locked_vm(acct->mm, acct->task, acct->lock_cap,
				    -(long)acct->locked);
	acct->locked = 0;
	put_task_struct(acct->task);
	mmdrop(acct->mm);
}

/* A physically contiguous run of pinned pages. */
struct vfio_dkms_pin_seg {
	unsigned long pfn;
	unsigned long npage;
};

/**
 * struct vfio_dkms_pin - one VFIO_DKMS_NOIOMMU_MAP_DMA range
 * @node: entry in the backend's @pins
 * @vaddr: first user address
 * @size: bytes
 * @write: pinned with FOLL_WRITE (pages are dirtied on unpin)
 * @segs: the runs, in vaddr order
 * @nr_segs: entries in @segs
 * @acct: the locked_vm charge, on the pinning process's mm
 */
struct vfio_dkms_pin {
	struct rb_node node;
	unsigned long vaddr;
	size_t size;
	bool write;
	struct vfio_dkms_pin_seg *segs;
	unsigned long nr_segs;
	struct vfio_dkms_locked_vm acct;
};

/* --- pins -------------------------------------------------------------- */

static struct vfio_dkms_pin *
vfio_dkms_noiommu_find(struct vfio_dkms_noiommu *noiommu, unsigned long start,
		       size_t size)
{
	struct rb_node *node = noiommu->pins.rb_node;

	while (node) {
		struct vfio_dkms_pin *pin =
			rb_entry(node, struct vfio_dkms_pin, node);

		if (start + size <= pin->vaddr)
			node = node->rb_left;
		else if (start >= pin->vaddr + pin->size)
			node = node->rb_right;
		else
			return pin;
	}
	return NULL;
}

static void vfio_dkms_noiommu_link(struct vfio_dkms_noiommu *noiommu,
				   struct vfio_dkms_pin *new)
{
	struct rb_node **link = &noiommu->pins.rb_node, *parent = NULL;

	while (*link) {
		struct vfio_dkms_pin *pin;

		parent = *link;
		pin = rb_entry(parent, struct vfio_dkms_pin, node);
		if (new->vaddr + new->size <= pin->vaddr)
			link = &(*link)->rb_left;
		else
			link = &(*link)->rb_right;
	}
	rb_link_node(&new->node, parent, link);
	rb_insert_color(&new->node, &noiommu->pins);
	noiommu->nr_pins++;
	noiommu->pinned_pages += new->size >> PAGE_SHIFT;
}

static void vfio_dkms_pin_unpin(struct vfio_dkms_pin_seg *segs,
				unsigned long n, bool dirty)
{
	unsigned long i;

	for (i = 0; i < n; i++) {
		unpin_user_page_range_dirty_lock(pfn_to_page(segs[i].pfn),
						 segs[i].npage, dirty);
		cond_resched();
	}
}

/* Unpin, uncharge and free a pin that is not (or no longer) linked. */
static void vfio_dkms_pin_free(struct vfio_dkms_pin *pin)
{
	vfio_dkms_pin_unpin(pin->segs, pin->nr_segs, pin->write);
	vfio_dkms_locked_vm_put(&pin->acct);
	kvfree(pin->segs);
	kfree(pin);
}

static void vfio_dkms_noiommu_remove(struct vfio_dkms_noiommu *noiommu,
				     struct vfio_dkms_pin *pin)
{
	rb_erase(&pin->node, &noiommu->pins);
	noiommu->nr_pins--;
	noiommu->pinned_pages -= pin->size >> PAGE_SHIFT;
	vfio_dkms_pin_free(pin);
}

/*
 * Pin @pin->size bytes at @pin->vaddr and record the physically contiguous
 * runs in @pin->segs.  On failure nothing stays pinned.
 */
static int vfio_dkms_pin_pages(struct vfio_dkms_pin *pin)
{
	const unsigned long batch_max = PAGE_SIZE / sizeof(struct page *);
	unsigned long npage = pin->size >> PAGE_SHIFT, done = 0, n = 0;
	unsigned int gup_flags = FOLL_LONGTERM;
	struct vfio_dkms_pin_seg *segs, *shrunk;
	struct page **pages;
	int ret = 0;

	if (pin->write)
		gup_flags |= FOLL_WRITE;

	/*
	 * At most one run per page; shrunk to size below.  Huge ranges (only
	 * possible with CAP_IPC_LOCK or an unlimited RLIMIT_MEMLOCK) fail
	 * with -ENOMEM here, without kvmalloc's warning for sizes > INT_MAX.
	 */
	segs = kvmalloc_array(npage, sizeof(*segs),
			      GFP_KERNEL_ACCOUNT | __GFP_NOWARN);
	if (!segs)
		return -ENOMEM;
	pages = (struct page **)__get_free_page(GFP_KERNEL);
	if (!pages) {
		kvfree(segs);
		return -ENOMEM;
	}

	while (done < npage) {
		unsigned long batch = min(npage - done, batch_max);
		long pinned, i;

		mmap_read_lock(current->mm);
		pinned = vfio_dkms_pin_user_pages(pin->vaddr +
						  (done << PAGE_SHIFT),
						  batch, gup_flags, pages);
		mmap_read_unlock(current->mm);
		if (pinned <= 0) {
			ret = pinned ? pinned : -EFAULT;
			break;
		}

		for (i = 0; i < pinned; i++) {
			unsigned long pfn = page_to_pfn(pages[i]);

			if (n && segs[n - 1].pfn + segs[n - 1].npage == pfn) {
				segs[n - 1].npage++;
			} else {
				segs[n].pfn = pfn;
				segs[n].npage = 1;
				n++;
			}
		}
		done += pinned;
		if (fatal_signal_pending(current)) {
			ret = -EINTR;
			break;
		}
		cond_resched();
	}
	free_page((unsigned long)pages);

	if (ret) {
		vfio_dkms_pin_unpin(segs, n, false);
		kvfree(segs);
		return ret;
	}

	shrunk = kvmalloc_array(n, sizeof(*segs), GFP_KERNEL_ACCOUNT);
	if (shrunk) {
		memcpy(shrunk, segs, n * sizeof(*segs));
		kvfree(segs);
		segs = shrunk;
	}
	pin->segs = segs;
	pin->nr_segs = n;
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
	pin->vaddr = vaddr;
	pin->size = size;
	pin->write = map.flags & VFIO_DKMS_NOIOMMU_DMA_MAP_FLAG_WRITE;
	vfio_dkms_locked_vm_init(&pin->acct);

	mutex_lock(&noiommu->lock);
	if (vfio_dkms_noiommu_find(noiommu, vaddr, size)) {
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
	if (ret) {
		if (ret == -ENOMEM)
			pr_warn_ratelimited("%s: RLIMIT_MEMLOCK (%lu) exceeded\n",
					    __func__, rlimit(RLIMIT_MEMLOCK));
		goto err_unlock;
	}

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
		vfio_dkms_noiommu_remove(noiommu,
					 rb_entry(node, struct vfio_dkms_pin,
						  node));
}

static long vfio_dkms_noiommu_unmap(struct vfio_dkms_noiommu *noiommu,
				    struct vfio_dkms_noiommu_dma_unmap __user *arg)
{
	const unsigned long minsz =
		offsetofend(struct vfio_dkms_noiommu_dma_unmap, size);
	struct vfio_dkms_noiommu_dma_unmap unmap;
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
		pin = NULL;
		if (unmap.size && unmap.vaddr == (unsigned long)unmap.vaddr &&
		    unmap.size == (size_t)unmap.size &&
		    unmap.vaddr + unmap.size > unmap.vaddr)
			pin = vfio_dkms_noiommu_find(noiommu, unmap.vaddr, 1);
		if (!pin || pin->vaddr != unmap.vaddr ||
		    pin->size != unmap.size) {
			ret = -EINVAL;
			goto out_unlock;
		}
		unpinned = pin->size;
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

/**
 * vfio_dkms_noiommu_check_extension() - VFIO_CHECK_EXTENSION
 * @noiommu: the container's backend, or NULL before VFIO_SET_IOMMU
 * @arg: the extension
 *
 * Return: 1 for VFIO_NOIOMMU_IOMMU while the mode is enabled (upstream)
 * and for VFIO_DKMS_NOIOMMU_DMA while the mode is enabled or the backend is
 * set (then the ioctls work), otherwise 0.
 */
long vfio_dkms_noiommu_check_extension(struct vfio_dkms_noiommu *noiommu,
				       unsigned long arg)
{
	switch (arg) {
	case VFIO_NOIOMMU_IOMMU:
		return READ_ONCE(vfio_dkms_noiommu) ? 1 : 0;
	case VFIO_DKMS_NOIOMMU_DMA:
		return noiommu || READ_ONCE(vfio_dkms_noiommu) ? 1 : 0;
	default:
		return 0;
	}
}

/**
 * vfio_dkms_noiommu_open() - VFIO_SET_IOMMU on a container of no-IOMMU groups
 * @arg: the IOMMU type asked for
 *
 * Return: the backend, ERR_PTR(-ENODEV) when the mode is off or @arg is not
 * an extension of ours, -EINVAL for our extension that is not an IOMMU
 * type, -EPERM without CAP_SYS_RAWIO (the order upstream checks in).
 */
struct vfio_dkms_noiommu *vfio_dkms_noiommu_open(unsigned long arg)
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

/**
 * vfio_dkms_noiommu_release() - the last group left the container
 * @noiommu: the backend; every range is unpinned and uncharged
 */
void vfio_dkms_noiommu_release(struct vfio_dkms_noiommu *noiommu)
{
	mutex_lock(&noiommu->lock);
	vfio_dkms_noiommu_remove_all(noiommu);
	mutex_unlock(&noiommu->lock);
	mutex_destroy(&noiommu->lock);
	kfree(noiommu);
}

/**
 * vfio_dkms_noiommu_ioctl() - container ioctls once VFIO_NOIOMMU_IOMMU is set
 * @noiommu: the backend
 * @cmd: ioctl number
 * @arg: its argument
 *
 * Return: as the ioctl; -ENOTTY for everything but the extension, as the
 * upstream no-IOMMU driver (VFIO_IOMMU_GET_INFO, MAP_DMA, UNMAP_DMA).
 */
long vfio_dkms_noiommu_ioctl(struct vfio_dkms_noiommu *noiommu,
			     unsigned int cmd, unsigned long arg)
{
	void __user *uarg = (void __user *)arg;

	switch (cmd) {
	case VFIO_DKMS_NOIOMMU_MAP_DMA:
		return vfio_dkms_noiommu_map(noiommu, uarg);
	case VFIO_DKMS_NOIOMMU_UNMAP_DMA:
		return vfio_dkms_noiommu_unmap(noiommu, uarg);
	default:
		return -ENOTTY;
	}
}

/**
 * vfio_dkms_noiommu_introspect() - walk the backend for debugfs
 * @noiommu: the backend
 * @v: callbacks, run with the backend's lock held
 * @data: passed to @v
 */
void vfio_dkms_noiommu_introspect(struct vfio_dkms_noiommu *noiommu,
				  const struct vfio_dkms_noiommu_visitor *v,
				  void *data)
{
	struct rb_node *node;

	mutex_lock(&noiommu->lock);
	v->summary(data, noiommu->nr_pins, noiommu->pinned_pages);
	for (node = rb_first(&noiommu->pins); node; node = rb_next(node)) {
		struct vfio_dkms_pin *pin =
			rb_entry(node, struct vfio_dkms_pin, node);
		unsigned long i;

		v->pin(data, pin->vaddr, pin->size, pin->write,
		       pin->nr_segs, task_tgid_nr(pin->acct.task));
		for (i = 0; i < pin->nr_segs; i++)
			v->segment(data, PFN_PHYS(pin->segs[i].pfn),
				   (u64)pin->segs[i].npage << PAGE_SHIFT);
	}
	mutex_unlock(&noiommu->lock);
}

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
