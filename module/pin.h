/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vfio-dkms pinning, shared by the IOMMU backends (iommu_type1.c,
 * noiommu.c): the locked_vm charge, the GUP walk that turns a user range
 * into pinned, physically contiguous runs, and the interval tree of ranges
 * each backend keeps.  None of it takes a lock: the backends call it under
 * their own.
 */
#ifndef VFIO_DKMS_PIN_H
#define VFIO_DKMS_PIN_H

#include <linux/rbtree.h>
#include <linux/sizes.h>
#include <linux/types.h>

struct mm_struct;
struct task_struct;

/**
 * struct vfio_dkms_locked_vm - a charge on a process's locked_vm
 * @task: the charged process (group leader), for RLIMIT_MEMLOCK
 * @mm: its mm, grabbed: the charge goes back to it from any context
 * @lock_cap: it had CAP_IPC_LOCK when the charge was set up: no limit
 * @locked: pages charged
 */
struct vfio_dkms_locked_vm {
	struct task_struct *task;
	struct mm_struct *mm;
	bool lock_cap;
	unsigned long locked;
};

void vfio_dkms_locked_vm_init(struct vfio_dkms_locked_vm *acct);
int vfio_dkms_locked_vm_charge(struct vfio_dkms_locked_vm *acct,
			       unsigned long npage);
void vfio_dkms_locked_vm_put(struct vfio_dkms_locked_vm *acct);
pid_t vfio_dkms_locked_vm_pid(const struct vfio_dkms_locked_vm *acct);

/**
 * struct vfio_dkms_run - pinned, physically contiguous pages
 * @pfn: the first page
 * @npage: pages, at most VFIO_DKMS_RUN_MAX
 */
struct vfio_dkms_run {
	unsigned long pfn;
	unsigned long npage;
};

/* A run fits one scatterlist entry (whose length is an unsigned int). */
#define VFIO_DKMS_RUN_MAX	(SZ_1G >> PAGE_SHIFT)

/**
 * typedef vfio_dkms_runs_fn - takes over pinned runs
 * @data: the caller's
 * @runs: the runs, in user-address order
 * @n: how many
 *
 * Return: 0; or a negative errno, after unpinning every run of @runs that
 * it did not keep (the walk then stops).
 */
typedef int (*vfio_dkms_runs_fn)(void *data, struct vfio_dkms_run *runs,
				 unsigned int n);

int vfio_dkms_pin_runs(unsigned long vaddr, unsigned long npage, bool write,
		       struct vfio_dkms_run *runs, unsigned int max_runs,
		       vfio_dkms_runs_fn fn, void *data);
void vfio_dkms_unpin_runs(const struct vfio_dkms_run *runs, unsigned long n,
			  bool dirty);

/**
 * struct vfio_dkms_range - a node of a tree of disjoint ranges
 * @node: entry in the tree, ordered by @start
 * @start: first address
 * @size: bytes; the range is [@start, @start + @size - 1] and may end at
 *	the top of the address space.  0 only while it is being built, as
 *	the last range linked (no other range starts above it in that time)
 */
struct vfio_dkms_range {
	struct rb_node node;
	u64 start;
	u64 size;
};

struct vfio_dkms_range *vfio_dkms_range_find(struct rb_root *root, u64 first,
					     u64 last);
struct vfio_dkms_range *vfio_dkms_range_find_first(struct rb_root *root,
						   u64 first, u64 last);
void vfio_dkms_range_link(struct rb_root *root, struct vfio_dkms_range *new);

#endif /* VFIO_DKMS_PIN_H */
