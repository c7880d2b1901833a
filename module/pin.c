// SPDX-License-Identifier: GPL-2.0
/*
 * vfio-dkms pinning shared by the IOMMU backends (pin.h).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/capability.h>
#include <linux/mm.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>

#include "pin.h"

/* --- locked_vm ---------------------------------------------------------- */

/*
 * Charge (@npage > 0) or give back (@npage < 0) locked memory.  A process
 * that has exited has no mm to give back to: nothing to do.
 */
static int vfio_dkms_account_locked_vm(struct vfio_dkms_locked_vm *acct,
				       long npage)
{
	int ret;

	if (!npage)
		return 0;
	if (!mmget_not_zero(acct->mm))
		return npage > 0 ? -ESRCH : 0;

	if (npage > 0) {
		ret = mmap_write_lock_killable(acct->mm);
		if (ret)
			goto out_mmput;
	} else {
		mmap_write_lock(acct->mm);
	}
	ret = __account_locked_vm(acct->mm, abs(npage), npage > 0, acct->task,
				  acct->lock_cap);
	mmap_write_unlock(acct->mm);
out_mmput:
	mmput(acct->mm);
	return ret;
}

/**
 * vfio_dkms_locked_vm_init() - set up a charge on the calling process
 * @acct: the charge, nothing charged yet
 *
 * Takes references on the process and its mm until
 * vfio_dkms_locked_vm_put().
 */
void vfio_dkms_locked_vm_init(struct vfio_dkms_locked_vm *acct)
{
	get_task_struct(current->group_leader);
	acct->task = current->group_leader;
	mmgrab(current->mm);
	acct->mm = current->mm;
	acct->lock_cap = capable(CAP_IPC_LOCK);
	acct->locked = 0;
}

/**
 * vfio_dkms_locked_vm_charge() - charge more pages
 * @acct: the charge
 * @npage: pages to add
 *
 * Return: 0; -ENOMEM over RLIMIT_MEMLOCK (also logged, rate-limited);
 * -ESRCH when the process is gone; -EINTR on a fatal signal.
 */
int vfio_dkms_locked_vm_charge(struct vfio_dkms_locked_vm *acct,
			       unsigned long npage)
{
	int ret;

	if (npage > LONG_MAX)
		return -ENOMEM;
	ret = vfio_dkms_account_locked_vm(acct, npage);
	if (!ret)
		acct->locked += npage;
	else if (ret == -ENOMEM)
		pr_warn_ratelimited("RLIMIT_MEMLOCK (%lu) exceeded\n",
				    rlimit(RLIMIT_MEMLOCK));
	return ret;
}

/**
 * vfio_dkms_locked_vm_put() - give the whole charge back, drop the references
 * @acct: the charge; from any context that may sleep
 */
void vfio_dkms_locked_vm_put(struct vfio_dkms_locked_vm *acct)
{
	vfio_dkms_account_locked_vm(acct, -(long)acct->locked);
	acct->locked = 0;
	put_task_struct(acct->task);
	mmdrop(acct->mm);
}

/* The charged process's pid (its tgid), for introspection. */
pid_t vfio_dkms_locked_vm_pid(const struct vfio_dkms_locked_vm *acct)
{
	return task_tgid_nr(acct->task);
}

/* --- pinning ------------------------------------------------------------ */

/**
 * vfio_dkms_unpin_runs() - unpin runs
 * @runs: the runs
 * @n: how many
 * @dirty: mark the pages dirty (the device may have written them)
 */
void vfio_dkms_unpin_runs(const struct vfio_dkms_run *runs, unsigned long n,
			  bool dirty)
{
	unsigned long i;

	for (i = 0; i < n; i++)
		unpin_user_page_range_dirty_lock(pfn_to_page(runs[i].pfn),
						 runs[i].npage, dirty);
}

/**
 * vfio_dkms_pin_runs() - pin a user range long-term, run by run
 * @vaddr: first user address of the calling process, page aligned
 * @npage: pages to pin
 * @write: pin for writing (FOLL_WRITE)
 * @runs: scratch for @max_runs runs
 * @max_runs: how many runs are handed to @fn at most at once
 * @fn: takes the runs over, whenever @runs is full and once at the end
 * @data: passed to @fn
 *
 * Pins with the lockless fast GUP walk (this runs in the process that owns
 * the range: one pass over each page table instead of a full walk and a
 * page-table lock per page; it falls back to the locked slow path by
 * itself where it must, e.g. for long-term pins that need migration) and
 * merges physically contiguous pages into runs of at most
 * VFIO_DKMS_RUN_MAX pages.  A fatal signal stops the walk between batches.
 *
 * Return: 0 when every page went to @fn; else a negative errno, and the
 * pages pinned here that @fn did not take over are unpinned again.
 */
int vfio_dkms_pin_runs(unsigned long vaddr, unsigned long npage, bool write,
		       struct vfio_dkms_run *runs, unsigned int max_runs,
		       vfio_dkms_runs_fn fn, void *data)
{
	const unsigned long batch_max = PAGE_SIZE / sizeof(struct page *);
	unsigned int gup_flags = FOLL_LONGTERM | (write ? FOLL_WRITE : 0);
	struct vfio_dkms_run cur = { 0 };
	unsigned long done = 0;
	unsigned int nrun = 0;
	struct page **pages;
	int ret = 0;

	pages = (struct page **)__get_free_page(GFP_KERNEL);
	if (!pages)
		return -ENOMEM;

	while (done < npage) {
		unsigned long batch = min(npage - done, batch_max);
		long pinned, i;

		pinned = pin_user_pages_fast(vaddr + (done << PAGE_SHIFT),
					     batch, gup_flags, pages);
		if (pinned <= 0) {
			ret = pinned ? pinned : -EFAULT;
			break;
		}
		done += pinned;

		for (i = 0; i < pinned; i++) {
			unsigned long pfn = page_to_pfn(pages[i]);

			if (cur.npage && pfn == cur.pfn + cur.npage &&
			    cur.npage < VFIO_DKMS_RUN_MAX) {
				cur.npage++;
				continue;
			}
			if (cur.npage) {
				runs[nrun++] = cur;
				cur.npage = 0;
				if (nrun == max_runs) {
					ret = fn(data, runs, nrun);
					nrun = 0;
					if (ret) {
						unpin_user_pages(pages + i,
								 pinned - i);
						goto out;
					}
				}
			}
			cur.pfn = pfn;
			cur.npage = 1;
		}
		if (done < npage && fatal_signal_pending(current)) {
			ret = -EINTR;
			break;
		}
		cond_resched();
	}

	if (cur.npage) {
		runs[nrun++] = cur;
		cur.npage = 0;
	}
	if (!ret && nrun) {
		ret = fn(data, runs, nrun);
		nrun = 0;
	}
out:
	/* Pinned here and not taken over. */
	vfio_dkms_unpin_runs(runs, nrun, false);
	free_page((unsigned long)pages);
	return ret;
}

/* --- range trees -------------------------------------------------------- */

static u64 vfio_dkms_range_last(const struct vfio_dkms_range *range)
{
	return range->start + range->size - 1;
}

/**
 * vfio_dkms_range_find() - any range overlapping [@first, @last]
 * @root: the tree
 * @first: first address
 * @last: last address (inclusive, >= @first)
 *
 * Return: the range, or NULL.
 */
struct vfio_dkms_range *vfio_dkms_range_find(struct rb_root *root, u64 first,
					     u64 last)
{
	struct rb_node *node = root->rb_node;

	while (node) {
		struct vfio_dkms_range *range =
			rb_entry(node, struct vfio_dkms_range, node);

		if (last < range->start)
			node = node->rb_left;
		else if (first > vfio_dkms_range_last(range))
			node = node->rb_right;
		else
			return range;
	}
	return NULL;
}

/**
 * vfio_dkms_range_find_first() - the lowest range overlapping [@first, @last]
 * @root: the tree
 * @first: first address
 * @last: last address (inclusive, >= @first)
 *
 * Return: the range, or NULL.
 */
struct vfio_dkms_range *vfio_dkms_range_find_first(struct rb_root *root,
						   u64 first, u64 last)
{
	struct vfio_dkms_range *res = NULL;
	struct rb_node *node = root->rb_node;

	while (node) {
		struct vfio_dkms_range *range =
			rb_entry(node, struct vfio_dkms_range, node);

		if (first <= vfio_dkms_range_last(range)) {
			res = range;
			if (first >= range->start)
				break;
			node = node->rb_left;
		} else {
			node = node->rb_right;
		}
	}
	if (res && res->start > last)
		return NULL;
	return res;
}

/**
 * vfio_dkms_range_link() - insert a range that overlaps none in the tree
 * @root: the tree
 * @new: the range
 */
void vfio_dkms_range_link(struct rb_root *root, struct vfio_dkms_range *new)
{
	struct rb_node **link = &root->rb_node, *parent = NULL;

	while (*link) {
		struct vfio_dkms_range *range;

		parent = *link;
		range = rb_entry(parent, struct vfio_dkms_range, node);
		if (new->start < range->start)
			link = &(*link)->rb_left;
		else
			link = &(*link)->rb_right;
	}
	rb_link_node(&new->node, parent, link);
	rb_insert_color(&new->node, root);
}
