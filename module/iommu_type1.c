// SPDX-License-Identifier: GPL-2.0
/*
 * vfio-dkms type1 IOMMU backend (VFIO_TYPE1_IOMMU / VFIO_TYPE1v2_IOMMU).
 *
 * One IOMMU paging domain per container, shared by every attached group.
 * VFIO_IOMMU_MAP_DMA pins the user pages long-term with the lockless fast
 * GUP walk, charges them to the mapping process's locked_vm (RLIMIT_MEMLOCK,
 * unless CAP_IPC_LOCK; charged once per mapping, before pinning), maps the
 * physically contiguous runs up to VFIO_DKMS_RUN_BATCH at a time with one
 * iommu_map_sg() call and records the run lengths.  VFIO_IOMMU_UNMAP_DMA
 * removes whole mappings, run by run from that record (iommu_unmap_fast(),
 * one IOTLB sync per VFIO_DKMS_RUN_BATCH runs, pages unpinned after the
 * sync); every page is unpinned and every charge given back on unmap and
 * when the backend is released (container closed, process killed).
 *
 * Every mapping has an owner, the container file it was made through
 * (vfio_dkms_private.h: the file's own container).  Without shared
 * ownership one file reaches the backend, so the checks never refuse
 * anything; with it (docs/shared-ownership.md) UNMAP_DMA refuses a range
 * holding another owner's mapping (-EPERM), VFIO_DMA_UNMAP_FLAG_ALL removes
 * only the caller's, and vfio_dkms_type1_release_owner() removes one
 * owner's when its file goes.  The checks are made on entry, before
 * anything is removed.
 *
 * Not implemented (the in-tree backend has them): dirty page tracking,
 * VFIO_DMA_MAP_FLAG_VADDR / VFIO_DMA_UNMAP_FLAG_VADDR, mappings of
 * VM_PFNMAP memory (e.g. another device's BAR), several domains per
 * container for groups behind incompatible IOMMUs, and the emulated-IOMMU
 * (mdev) pinning interface.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/iommu.h>
#include <linux/list.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/rbtree.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/scatterlist.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "compat.h"
#include "vfio_dkms_private.h"

static bool allow_unsafe_interrupts;
module_param(allow_unsafe_interrupts, bool, 0644);
MODULE_PARM_DESC(allow_unsafe_interrupts,
		 "Allow groups whose MSIs are not isolated (no interrupt remapping); unsafe");

static unsigned int dma_entry_limit __read_mostly = U16_MAX;
module_param(dma_entry_limit, uint, 0644);
MODULE_PARM_DESC(dma_entry_limit,
		 "Maximum number of DMA mappings per container (default 65535)");

/**
 * struct vfio_dkms_iommu - the type1 state of one container
 * @lock: protects every field below
 * @domain: the paging domain shared by all groups; NULL without groups
 * @group_list: attached IOMMU groups (struct vfio_dkms_iommu_group)
 * @iova_list: usable IOVA ranges: the domain aperture minus the reserved
 *	regions of every group (struct vfio_dkms_iova)
 * @dma_list: mappings (struct vfio_dkms_dma) ordered by IOVA
 * @dma_avail: how many more mappings may be created
 * @dma_count: mappings in @dma_list (introspection)
 * @pinned_pages: pages pinned and mapped, the sum of every mapping's size
 *	in pages (introspection)
 * @pgsize_bitmap: IOMMU page sizes, the smallest raised to PAGE_SIZE
 * @v2: VFIO_TYPE1v2_IOMMU semantics (no partial unmaps)
 * @cache: the domain enforces cache coherency; map with IOMMU_CACHE
 * @runs: scratch for VFIO_DKMS_RUN_BATCH physically contiguous runs, used
 *	by map (runs pinned, waiting for one iommu_map_sg()) and by unmap
 *	(runs unmapped, waiting for one IOTLB sync before they are unpinned)
 * @sgl: scratch scatterlist of VFIO_DKMS_RUN_BATCH entries for map
 */
struct vfio_dkms_iommu {
	struct mutex lock;		/* protects the fields below */
	struct iommu_domain *domain;
	struct list_head group_list;
	struct list_head iova_list;
	struct rb_root dma_list;
	unsigned int dma_avail;
	unsigned int dma_count;
	unsigned long pinned_pages;
	unsigned long pgsize_bitmap;
	bool v2;
	bool cache;
	struct vfio_dkms_run *runs;
	struct scatterlist *sgl;
};

/* A pinned, physically contiguous run of pages. */
struct vfio_dkms_run {
	unsigned long pfn;
	unsigned long npage;
};

/*
 * Runs per iommu_map_sg() call on map and per IOTLB sync on unmap: one
 * invalidation (a trap under an emulated IOMMU) per batch instead of one per
 * run.  A run is capped so that it fits a scatterlist entry.
 */
#define VFIO_DKMS_RUN_BATCH	512
#define VFIO_DKMS_RUN_MAX	(SZ_1G >> PAGE_SHIFT)

struct vfio_dkms_iommu_group {
	struct list_head next;
	struct iommu_group *iommu_group;
};

struct vfio_dkms_iova {
	struct list_head list;
	dma_addr_t start;
	dma_addr_t end;		/* inclusive */
};

/**
 * struct vfio_dkms_dma - one VFIO_IOMMU_MAP_DMA mapping
 * @node: entry in the container's dma_list
 * @iova: first IOVA
 * @vaddr: user address it maps
 * @size: bytes mapped so far (grows while the mapping is being built)
 * @prot: IOMMU_READ / IOMMU_WRITE
 * @lock_cap: the mapper had CAP_IPC_LOCK, no RLIMIT_MEMLOCK check
 * @locked: pages charged to @mm's locked_vm
 * @task: the mapping process (group leader), for the accounting
 * @mm: its mm, grabbed: charges go back to it even from another context
 * @run_chunks: the lengths of the physically contiguous runs mapped so far,
 *	in IOVA order (struct vfio_dkms_run_chunk), so that unmap finds them
 *	without walking the IOMMU page table page by page
 * @owner: the container file's own container it was mapped through; only
 *	compared, never dereferenced
 */
struct vfio_dkms_dma {
	struct rb_node node;
	dma_addr_t iova;
	unsigned long vaddr;
	size_t size;
	int prot;
	bool lock_cap;
	unsigned long locked;
	struct task_struct *task;
	struct mm_struct *mm;
	struct list_head run_chunks;
	const void *owner;
};

/*
 * Run lengths (in pages) of a mapping, in chunks of at most a page.  Only
 * the lengths are kept, 4 bytes per run: unmap reads the physical address
 * of each run's first page back from the IOMMU page table, one walk per
 * run.  Storing the pfns as well would save that walk for four times the
 * memory.  Chunks are sized for the runs reserved, so a one-run mapping
 * costs a 64-byte allocation, not a page.
 */
struct vfio_dkms_run_chunk {
	struct list_head next;
	unsigned int nr;
	unsigned int cap;
	u32 npage[];
};

#define VFIO_DKMS_CHUNK_MIN	8
#define VFIO_DKMS_CHUNK_RUNS \
	((PAGE_SIZE - sizeof(struct vfio_dkms_run_chunk)) / sizeof(u32))

/* --- the mapping tree -------------------------------------------------- */

/* Any mapping overlapping [start, start + size). */
static struct vfio_dkms_dma *vfio_dkms_find_dma(struct vfio_dkms_iommu *iommu,
						dma_addr_t start, size_t size)
{
	struct rb_node *node = iommu->dma_list.rb_node;

	while (node) {
		struct vfio_dkms_dma *dma =
			rb_entry(node, struct vfio_dkms_dma, node);

		if (start + size <= dma->iova)
			node = node->rb_left;
		else if (start >= dma->iova + dma->size)
			node = node->rb_right;
		else
			return dma;
	}
	return NULL;
}

/* The lowest mapping overlapping [start, start + size). */
static struct rb_node *vfio_dkms_find_dma_first(struct vfio_dkms_iommu *iommu,
						dma_addr_t start, u64 size)
{
	struct rb_node *res = NULL, *node = iommu->dma_list.rb_node;
	struct vfio_dkms_dma *dma_res = NULL;

	while (node) {
		struct vfio_dkms_dma *dma =
			rb_entry(node, struct vfio_dkms_dma, node);

		if (start < dma->iova + dma->size) {
			res = node;
			dma_res = dma;
			if (start >= dma->iova)
				break;
			node = node->rb_left;
		} else {
			node = node->rb_right;
		}
	}
	if (res && size && dma_res->iova >= start + size)
		res = NULL;
	return res;
}

static void vfio_dkms_link_dma(struct vfio_dkms_iommu *iommu,
			       struct vfio_dkms_dma *new)
{
	struct rb_node **link = &iommu->dma_list.rb_node, *parent = NULL;

	while (*link) {
		struct vfio_dkms_dma *dma;

		parent = *link;
		dma = rb_entry(parent, struct vfio_dkms_dma, node);
		if (new->iova + new->size <= dma->iova)
			link = &(*link)->rb_left;
		else
			link = &(*link)->rb_right;
	}
	rb_link_node(&new->node, parent, link);
	rb_insert_color(&new->node, &iommu->dma_list);
	iommu->dma_count++;
}

/* --- locked memory accounting ------------------------------------------ */

/**
 * vfio_dkms_account_locked_vm() - charge or give back locked memory
 * @mm: the mm charged (grabbed by the caller)
 * @task: the process charged, for the RLIMIT_MEMLOCK check
 * @lock_cap: @task had CAP_IPC_LOCK when it pinned: no limit check
 * @npage: pages to charge (> 0) or give back (< 0)
 *
 * Shared by type1 and the no-IOMMU backend.  A process that has exited has
 * no mm to give back to: nothing to do.
 *
 * Return: 0, -ENOMEM over RLIMIT_MEMLOCK, -ESRCH or -EINTR when charging.
 */
int vfio_dkms_account_locked_vm(struct mm_struct *mm, struct task_struct *task,
				bool lock_cap, long npage)
{
	int ret;

	if (!npage)
		return 0;
	if (!mmget_not_zero(mm))
		return npage > 0 ? -ESRCH : 0;

	if (npage > 0) {
		ret = mmap_write_lock_killable(mm);
		if (ret)
			goto out_mmput;
	} else {
		mmap_write_lock(mm);
	}
	ret = __account_locked_vm(mm, abs(npage), npage > 0, task, lock_cap);
	mmap_write_unlock(mm);
out_mmput:
	mmput(mm);
	return ret;
}

/* Charge (@npage > 0) or give back (@npage < 0) pages of @dma's locked_vm. */
static int vfio_dkms_lock_acct(struct vfio_dkms_dma *dma, long npage)
{
	int ret;

	ret = vfio_dkms_account_locked_vm(dma->mm, dma->task, dma->lock_cap,
					  npage);
	if (!ret)
		dma->locked += npage;
	return ret;
}

/* --- map / unmap ------------------------------------------------------- */

/* Unpin @n runs whose IOMMU mappings are gone and no longer cached. */
static void vfio_dkms_unpin_runs(struct vfio_dkms_run *runs, unsigned int n,
				 bool dirty)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		unpin_user_page_range_dirty_lock(pfn_to_page(runs[i].pfn),
						 runs[i].npage, dirty);
}

/*
 * Unmap everything mapped for @dma and unpin the pages behind it, up to
 * VFIO_DKMS_RUN_BATCH runs at a time: the runs are taken from the list the
 * map path recorded (the physical address of each run's first page is read
 * back with iommu_iova_to_phys()), the IOVA range they cover is unmapped
 * with one iommu_unmap_fast() and the IOTLB synced once, and only then are
 * the runs unpinned, so the device can never reach a page that was given
 * back.  One gather per batch rather than one per run: the IOMMU driver
 * flushes a gather early whenever the page size it is fed changes, which
 * runs of varying length would do all the time.
 */
static void vfio_dkms_unmap_unpin(struct vfio_dkms_iommu *iommu,
				  struct vfio_dkms_dma *dma)
{
	struct iommu_domain *domain = iommu->domain;
	dma_addr_t iova = dma->iova, end = dma->iova + dma->size;
	bool dirty = dma->prot & IOMMU_WRITE;
	struct vfio_dkms_run *runs = iommu->runs;
	struct vfio_dkms_run_chunk *chunk;
	struct iommu_iotlb_gather gather;
	unsigned int idx = 0;

	chunk = list_first_entry_or_null(&dma->run_chunks,
					 struct vfio_dkms_run_chunk, next);
	while (domain && chunk && iova < end) {
		dma_addr_t start = iova;
		size_t unmapped, covered = 0;
		unsigned int n = 0, i;

		while (iova < end && n < VFIO_DKMS_RUN_BATCH) {
			phys_addr_t phys;

			if (idx == chunk->nr) {
				if (list_is_last(&chunk->next, &dma->run_chunks))
					break;
				chunk = list_next_entry(chunk, next);
				idx = 0;
				continue;
			}
			phys = iommu_iova_to_phys(domain, iova);
			if (WARN_ON_ONCE(!phys))
				break;
			runs[n].pfn = PHYS_PFN(phys);
			runs[n].npage = chunk->npage[idx++];
			iova += runs[n].npage << PAGE_SHIFT;
			n++;
		}
		if (WARN_ON_ONCE(!n || iova > end))
			break;

		iommu_iotlb_gather_init(&gather);
		unmapped = iommu_unmap_fast(domain, start, iova - start, &gather);
		/* Always sync: the gather may also hold page-table pages. */
		iommu_iotlb_sync(domain, &gather);

		/* Unpin what is unmapped for sure; leak the rest, if any. */
		for (i = 0; i < n; i++) {
			covered += runs[i].npage << PAGE_SHIFT;
			if (covered > unmapped)
				break;
		}
		vfio_dkms_unpin_runs(runs, i, dirty);
		if (WARN_ON_ONCE(unmapped != iova - start))
			break;
		cond_resched();
	}
	iommu->pinned_pages -= dma->size >> PAGE_SHIFT;
	dma->size = 0;
}

static void vfio_dkms_free_runs(struct vfio_dkms_dma *dma)
{
	struct vfio_dkms_run_chunk *chunk, *tmp;

	list_for_each_entry_safe(chunk, tmp, &dma->run_chunks, next)
		kfree(chunk);
	INIT_LIST_HEAD(&dma->run_chunks);
}

/*
 * Make room in @dma's run list for @n more runs, before they are mapped:
 * recording a run that is already mapped must not fail.
 */
static int vfio_dkms_reserve_runs(struct vfio_dkms_dma *dma, unsigned int n)
{
	struct vfio_dkms_run_chunk *chunk;
	unsigned long room = 0;

	if (!list_empty(&dma->run_chunks)) {
		chunk = list_last_entry(&dma->run_chunks,
					struct vfio_dkms_run_chunk, next);
		room = chunk->cap - chunk->nr;
	}
	while (room < n) {
		unsigned int cap = clamp_t(unsigned long, n - room,
					   VFIO_DKMS_CHUNK_MIN,
					   VFIO_DKMS_CHUNK_RUNS);

		chunk = kmalloc(struct_size(chunk, npage, cap),
				GFP_KERNEL_ACCOUNT);
		if (!chunk)
			return -ENOMEM;
		chunk->nr = 0;
		chunk->cap = cap;
		list_add_tail(&chunk->next, &dma->run_chunks);
		room += cap;
	}
	return 0;
}

static void vfio_dkms_remove_dma(struct vfio_dkms_iommu *iommu,
				 struct vfio_dkms_dma *dma)
{
	vfio_dkms_unmap_unpin(iommu, dma);
	vfio_dkms_free_runs(dma);
	vfio_dkms_lock_acct(dma, -(long)dma->locked);
	rb_erase(&dma->node, &iommu->dma_list);
	iommu->dma_count--;
	put_task_struct(dma->task);
	mmdrop(dma->mm);
	kfree(dma);
	iommu->dma_avail++;
}

static void vfio_dkms_remove_all_dma(struct vfio_dkms_iommu *iommu)
{
	struct rb_node *node;

	while ((node = rb_first(&iommu->dma_list)))
		vfio_dkms_remove_dma(iommu,
				     rb_entry(node, struct vfio_dkms_dma, node));
}

/*
 * A run of @npage pages is pinned and mapped at the end of @dma; room for
 * it was reserved.  The one place a mapping grows, so the introspection
 * counter always equals the sum of the sizes and the run list covers
 * exactly what is mapped.
 */
static void vfio_dkms_dma_add_run(struct vfio_dkms_iommu *iommu,
				  struct vfio_dkms_dma *dma, unsigned long npage)
{
	struct vfio_dkms_run_chunk *chunk;

	/*
	 * Full chunks are followed by the one being filled and at most a few
	 * empty ones just reserved: look for it from the tail.
	 */
	chunk = list_last_entry(&dma->run_chunks,
				struct vfio_dkms_run_chunk, next);
	while (!list_is_first(&chunk->next, &dma->run_chunks) &&
	       list_prev_entry(chunk, next)->nr <
	       list_prev_entry(chunk, next)->cap)
		chunk = list_prev_entry(chunk, next);
	chunk->npage[chunk->nr++] = npage;
	dma->size += npage << PAGE_SHIFT;
	iommu->pinned_pages += npage;
}

/* Map one pinned, physically contiguous run; it becomes part of @dma. */
static int vfio_dkms_map_run(struct vfio_dkms_iommu *iommu,
			     struct vfio_dkms_dma *dma, unsigned long pfn,
			     unsigned long npage)
{
	int prot = dma->prot | (iommu->cache ? IOMMU_CACHE : 0);
	int ret;

	ret = vfio_dkms_iommu_map(iommu->domain, dma->iova + dma->size,
				  PFN_PHYS(pfn), npage << PAGE_SHIFT, prot);
	if (ret)
		return ret;
	vfio_dkms_dma_add_run(iommu, dma, npage);
	return 0;
}

/*
 * Map the pinned runs iommu->runs[0..@n) back to back at the end of @dma with
 * one iommu_map_sg(), i.e. one iotlb_sync_map, instead of one per run.  If
 * the IOMMU layer maps less than asked, undo that and map run by run.  On
 * failure the runs not mapped are unpinned; the mapped ones are in @dma.
 */
static int vfio_dkms_map_runs(struct vfio_dkms_iommu *iommu,
			      struct vfio_dkms_dma *dma, unsigned int n)
{
	int prot = dma->prot | (iommu->cache ? IOMMU_CACHE : 0);
	struct vfio_dkms_run *runs = iommu->runs;
	struct scatterlist *sgl = iommu->sgl;
	unsigned long iova = dma->iova + dma->size;
	size_t len = 0;
	ssize_t mapped;
	unsigned int i;
	int ret = 0;

	if (!n)
		return 0;

	ret = vfio_dkms_reserve_runs(dma, n);
	if (ret) {
		i = 0;
		goto out_unpin;
	}

	sg_init_table(sgl, n);
	for (i = 0; i < n; i++) {
		sg_set_page(&sgl[i], pfn_to_page(runs[i].pfn),
			    runs[i].npage << PAGE_SHIFT, 0);
		len += runs[i].npage << PAGE_SHIFT;
	}

	mapped = vfio_dkms_iommu_map_sg(iommu->domain, iova, sgl, n, prot);
	if (mapped < 0) {
		/* The IOMMU layer has undone its part already. */
		i = 0;
		ret = mapped;
		goto out_unpin;
	}
	if ((size_t)mapped == len) {
		for (i = 0; i < n; i++)
			vfio_dkms_dma_add_run(iommu, dma, runs[i].npage);
		return 0;
	}

	/* Short map: undo it and fall back to one iommu_map() per run. */
	if (mapped)
		iommu_unmap(iommu->domain, iova, mapped);
	for (i = 0; i < n; i++) {
		ret = vfio_dkms_map_run(iommu, dma, runs[i].pfn,
					runs[i].npage);
		if (ret)
			break;
	}
out_unpin:
	if (ret)
		vfio_dkms_unpin_runs(runs + i, n - i, false);
	return ret;
}

/*
 * Pin and map @size bytes of @dma.  On failure whatever was mapped is still
 * recorded in @dma (size, locked) for the caller to remove.
 */
static int vfio_dkms_pin_map_dma(struct vfio_dkms_iommu *iommu,
				 struct vfio_dkms_dma *dma, size_t size)
{
	unsigned long npage = size >> PAGE_SHIFT, done = 0;
	unsigned long run_pfn = 0, run_npage = 0;
	unsigned int gup_flags = FOLL_LONGTERM, nrun = 0;
	const unsigned long batch_max = PAGE_SIZE / sizeof(struct page *);
	struct vfio_dkms_run *runs = iommu->runs;
	struct page **pages;
	int ret;

	if (dma->prot & IOMMU_WRITE)
		gup_flags |= FOLL_WRITE;

	/*
	 * Charge the whole mapping first: over the limit, nothing gets
	 * pinned.  On failure the caller gives dma->locked back.
	 */
	ret = vfio_dkms_lock_acct(dma, npage);
	if (ret) {
		if (ret == -ENOMEM)
			pr_warn_ratelimited("%s: RLIMIT_MEMLOCK (%lu) exceeded\n",
					    __func__, rlimit(RLIMIT_MEMLOCK));
		return ret;
	}

	pages = (struct page **)__get_free_page(GFP_KERNEL);
	if (!pages)
		return -ENOMEM;

	while (done < npage) {
		unsigned long batch = min(npage - done, batch_max);
		long pinned, i;

		/*
		 * MAP_DMA runs in the mapping process, so the lockless fast
		 * walk applies: one pass over each page table instead of a
		 * full walk and a page-table lock per page.  It falls back to
		 * the locked slow path by itself where it must (faults,
		 * long-term pins needing migration).
		 */
		pinned = pin_user_pages_fast(dma->vaddr + (done << PAGE_SHIFT),
					     batch, gup_flags, pages);
		if (pinned <= 0) {
			ret = pinned ? pinned : -EFAULT;
			break;
		}

		for (i = 0; i < pinned; i++) {
			unsigned long pfn = page_to_pfn(pages[i]);

			if (run_npage && pfn == run_pfn + run_npage &&
			    run_npage < VFIO_DKMS_RUN_MAX) {
				run_npage++;
				continue;
			}
			if (run_npage) {
				runs[nrun].pfn = run_pfn;
				runs[nrun].npage = run_npage;
				run_npage = 0;
				if (++nrun == VFIO_DKMS_RUN_BATCH) {
					ret = vfio_dkms_map_runs(iommu, dma,
								 nrun);
					nrun = 0;
					if (ret) {
						unpin_user_pages(pages + i,
								 pinned - i);
						goto out;
					}
				}
			}
			run_pfn = pfn;
			run_npage = 1;
		}
		done += pinned;
		cond_resched();
	}

	if (!ret) {
		if (run_npage) {
			runs[nrun].pfn = run_pfn;
			runs[nrun].npage = run_npage;
			run_npage = 0;
			nrun++;
		}
		ret = vfio_dkms_map_runs(iommu, dma, nrun);
		nrun = 0;
	}

out:
	/* Pages pinned but not mapped; their charge stays in dma->locked. */
	if (ret) {
		vfio_dkms_unpin_runs(runs, nrun, false);
		if (run_npage)
			unpin_user_page_range_dirty_lock(pfn_to_page(run_pfn),
							 run_npage, false);
	}
	free_page((unsigned long)pages);
	return ret;
}

static bool vfio_dkms_iova_valid(struct vfio_dkms_iommu *iommu,
				 dma_addr_t start, dma_addr_t end)
{
	struct vfio_dkms_iova *node;

	list_for_each_entry(node, &iommu->iova_list, list)
		if (start >= node->start && end <= node->end)
			return true;
	return false;
}

static int vfio_dkms_dma_do_map(struct vfio_dkms_iommu *iommu,
				const void *owner,
				struct vfio_iommu_type1_dma_map *map)
{
	dma_addr_t iova = map->iova;
	unsigned long vaddr = map->vaddr;
	size_t size = map->size, pgsize;
	struct vfio_dkms_dma *dma;
	int ret = 0, prot = 0;

	/* None of the __u64 fields may be truncated. */
	if (map->size != size || map->vaddr != vaddr || map->iova != iova)
		return -EINVAL;

	if (map->flags & VFIO_DMA_MAP_FLAG_WRITE)
		prot |= IOMMU_WRITE;
	if (map->flags & VFIO_DMA_MAP_FLAG_READ)
		prot |= IOMMU_READ;
	if (!prot)
		return -EINVAL;

	mutex_lock(&iommu->lock);

	pgsize = (size_t)1 << __ffs(iommu->pgsize_bitmap);
	if (!size || (size | iova | vaddr) & (pgsize - 1)) {
		ret = -EINVAL;
		goto out_unlock;
	}

	/* No wrap-around of the IOVA or the user address. */
	if (iova + size - 1 < iova || vaddr + size - 1 < vaddr) {
		ret = VFIO_DKMS_ERR_DMA_WRAP;
		goto out_unlock;
	}

	if (vfio_dkms_find_dma(iommu, iova, size)) {
		ret = -EEXIST;
		goto out_unlock;
	}

	if (!iommu->dma_avail) {
		ret = -ENOSPC;
		goto out_unlock;
	}

	if (!vfio_dkms_iova_valid(iommu, iova, iova + size - 1)) {
		ret = -EINVAL;
		goto out_unlock;
	}

	dma = kzalloc(sizeof(*dma), GFP_KERNEL_ACCOUNT);
	if (!dma) {
		ret = -ENOMEM;
		goto out_unlock;
	}

	iommu->dma_avail--;
	dma->iova = iova;
	dma->vaddr = vaddr;
	dma->prot = prot;
	dma->lock_cap = capable(CAP_IPC_LOCK);
	get_task_struct(current->group_leader);
	dma->task = current->group_leader;
	mmgrab(current->mm);
	dma->mm = current->mm;
	INIT_LIST_HEAD(&dma->run_chunks);
	dma->owner = owner;

	/* Linked with size 0; grows as runs get mapped. */
	vfio_dkms_link_dma(iommu, dma);

	ret = vfio_dkms_pin_map_dma(iommu, dma, size);
	if (ret)
		vfio_dkms_remove_dma(iommu, dma);

out_unlock:
	mutex_unlock(&iommu->lock);
	return ret;
}

/*
 * Whether UNMAP_DMA of [@iova, @iova + @size) would remove a mapping that
 * @owner does not own: the same walk as the removal, removing nothing.
 */
static bool vfio_dkms_unmap_foreign(struct vfio_dkms_iommu *iommu,
				    const void *owner, dma_addr_t iova,
				    u64 size)
{
	struct rb_node *n = vfio_dkms_find_dma_first(iommu, iova, size);

	lockdep_assert_held(&iommu->lock);
	for (; n; n = rb_next(n)) {
		struct vfio_dkms_dma *dma =
			rb_entry(n, struct vfio_dkms_dma, node);

		if (dma->iova >= iova + size)
			break;
		if (!iommu->v2 && iova > dma->iova)
			break;
		if (dma->owner != owner)
			return true;
	}
	return false;
}

static int vfio_dkms_dma_do_unmap(struct vfio_dkms_iommu *iommu,
				  const void *owner,
				  struct vfio_iommu_type1_dma_unmap *unmap)
{
	bool unmap_all = unmap->flags & VFIO_DMA_UNMAP_FLAG_ALL;
	dma_addr_t iova = unmap->iova;
	u64 size = unmap->size, unmapped = 0;
	struct vfio_dkms_dma *dma;
	struct rb_node *n;
	size_t pgsize;
	int ret = -EINVAL;

	mutex_lock(&iommu->lock);

	pgsize = (size_t)1 << __ffs(iommu->pgsize_bitmap);

	if (unmap_all) {
		if (iova || size)
			goto out_unlock;
		size = U64_MAX;
	} else if (!size || size & (pgsize - 1) || size > SIZE_MAX) {
		goto out_unlock;
	} else if (iova + size - 1 < iova) {
		ret = VFIO_DKMS_ERR_DMA_WRAP;
		goto out_unlock;
	}

	if (iova & (pgsize - 1))
		goto out_unlock;

	/*
	 * v2 never splits a mapping: the range may not start or end inside
	 * one.  v1 removes every mapping that starts inside the range.
	 */
	if (iommu->v2 && !unmap_all) {
		dma = vfio_dkms_find_dma(iommu, iova, 1);
		if (dma && dma->iova != iova)
			goto out_unlock;

		dma = vfio_dkms_find_dma(iommu, iova + size - 1, 0);
		if (dma && dma->iova + dma->size != iova + size)
			goto out_unlock;
	}

	/* Another owner's mapping in the range: remove nothing. */
	if (!unmap_all && vfio_dkms_unmap_foreign(iommu, owner, iova, size)) {
		ret = -EPERM;
		goto out_unlock;
	}

	ret = 0;
	n = vfio_dkms_find_dma_first(iommu, iova, size);
	while (n) {
		dma = rb_entry(n, struct vfio_dkms_dma, node);
		if (dma->iova >= iova + size)
			break;
		if (!iommu->v2 && iova > dma->iova)
			break;

		n = rb_next(n);
		/* Only VFIO_DMA_UNMAP_FLAG_ALL gets here past other owners. */
		if (dma->owner != owner)
			continue;
		unmapped += dma->size;
		vfio_dkms_remove_dma(iommu, dma);
	}

out_unlock:
	mutex_unlock(&iommu->lock);
	unmap->size = unmapped;
	return ret;
}

/* --- IOVA ranges -------------------------------------------------------- */

static void vfio_dkms_iova_free(struct list_head *list)
{
	struct vfio_dkms_iova *n, *next;

	list_for_each_entry_safe(n, next, list, list) {
		list_del(&n->list);
		kfree(n);
	}
}

static int vfio_dkms_iova_insert(struct list_head *before, dma_addr_t start,
				 dma_addr_t end)
{
	struct vfio_dkms_iova *n = kmalloc(sizeof(*n), GFP_KERNEL);

	if (!n)
		return -ENOMEM;
	n->start = start;
	n->end = end;
	list_add_tail(&n->list, before);
	return 0;
}

/* Cut the reserved regions of @iommu_group out of @iovas. */
static int vfio_dkms_iova_exclude_group(struct list_head *iovas,
					struct iommu_group *iommu_group)
{
	struct iommu_resv_region *resv, *rnext;
	struct vfio_dkms_iova *n, *next;
	LIST_HEAD(resv_regions);
	int ret;

	ret = iommu_get_group_resv_regions(iommu_group, &resv_regions);
	if (ret)
		goto out_free;

	list_for_each_entry(resv, &resv_regions, list) {
		dma_addr_t start = resv->start;
		dma_addr_t end = resv->start + resv->length - 1;

		/* Relaxable direct mappings may be overridden by the user. */
		if (resv->type == IOMMU_RESV_DIRECT_RELAXABLE)
			continue;

		list_for_each_entry_safe(n, next, iovas, list) {
			if (start > n->end || end < n->start)
				continue;
			if (start > n->start) {
				ret = vfio_dkms_iova_insert(&n->list, n->start,
							    start - 1);
				if (ret)
					goto out_free;
			}
			if (end < n->end) {
				ret = vfio_dkms_iova_insert(&n->list, end + 1,
							    n->end);
				if (ret)
					goto out_free;
			}
			list_del(&n->list);
			kfree(n);
		}
	}

	if (list_empty(iovas))
		ret = -EINVAL;
out_free:
	list_for_each_entry_safe(resv, rnext, &resv_regions, list)
		kfree(resv);
	return ret;
}

/*
 * Build the usable IOVA list for @domain and every group on the list plus
 * @extra (may be NULL).
 */
static int vfio_dkms_iova_build(struct vfio_dkms_iommu *iommu,
				struct iommu_domain *domain,
				struct iommu_group *extra,
				struct list_head *iovas)
{
	struct iommu_domain_geometry *geo = &domain->geometry;
	struct vfio_dkms_iommu_group *g;
	int ret;

	ret = vfio_dkms_iova_insert(iovas, geo->aperture_start,
				    geo->aperture_end);
	if (ret)
		return ret;

	list_for_each_entry(g, &iommu->group_list, next) {
		ret = vfio_dkms_iova_exclude_group(iovas, g->iommu_group);
		if (ret)
			goto err_free;
	}
	if (extra) {
		ret = vfio_dkms_iova_exclude_group(iovas, extra);
		if (ret)
			goto err_free;
	}
	return 0;

err_free:
	vfio_dkms_iova_free(iovas);
	return ret;
}

/* --- groups ------------------------------------------------------------- */

static int vfio_dkms_first_dev(struct device *dev, void *data)
{
	*(struct device **)data = dev;
	return 1;
}

static struct iommu_domain *vfio_dkms_domain_new(struct iommu_group *iommu_group)
{
	struct device *dev = NULL;

	iommu_group_for_each_dev(iommu_group, &dev, vfio_dkms_first_dev);
	if (!dev)
		return ERR_PTR(-ENODEV);

	return vfio_dkms_domain_alloc(dev);
}

/**
 * vfio_dkms_type1_attach_group() - give a group's devices the container's
 *	DMA mappings
 * @iommu: the backend
 * @iommu_group: a group whose DMA ownership the caller has claimed
 *
 * Return: 0; -EPERM when MSIs of the group are not isolated (unless
 * allow_unsafe_interrupts); -EINVAL when the group's reserved regions
 * conflict with existing mappings; another errno from the IOMMU layer.
 */
int vfio_dkms_type1_attach_group(struct vfio_dkms_iommu *iommu,
				 struct iommu_group *iommu_group)
{
	struct vfio_dkms_iommu_group *g;
	struct iommu_domain *domain;
	LIST_HEAD(iovas);
	struct rb_node *node;
	int ret;

	g = kzalloc(sizeof(*g), GFP_KERNEL);
	if (!g)
		return -ENOMEM;
	g->iommu_group = iommu_group;

	mutex_lock(&iommu->lock);

	if (!vfio_dkms_group_has_isolated_msi(iommu_group) &&
	    !allow_unsafe_interrupts) {
		pr_warn("no interrupt remapping support; use allow_unsafe_interrupts to override (unsafe)\n");
		ret = -EPERM;
		goto err_unlock;
	}

	domain = iommu->domain;
	if (!domain) {
		domain = vfio_dkms_domain_new(iommu_group);
		if (IS_ERR(domain)) {
			ret = PTR_ERR(domain);
			goto err_unlock;
		}
	}

	/*
	 * Attach first: a new domain's aperture and page sizes are only final
	 * once the IOMMU driver has seen a device.
	 */
	ret = iommu_attach_group(domain, iommu_group);
	if (ret)
		goto err_free_domain;

	ret = vfio_dkms_iova_build(iommu, domain, iommu_group, &iovas);
	if (ret)
		goto err_detach;

	/* Existing mappings must stay usable with the new reserved regions. */
	for (node = rb_first(&iommu->dma_list); node; node = rb_next(node)) {
		struct vfio_dkms_dma *dma =
			rb_entry(node, struct vfio_dkms_dma, node);
		struct vfio_dkms_iova *r;
		bool ok = false;

		list_for_each_entry(r, &iovas, list)
			if (dma->iova >= r->start &&
			    dma->iova + dma->size - 1 <= r->end)
				ok = true;
		if (!ok) {
			ret = -EINVAL;
			goto err_free_iovas;
		}
	}

	if (!iommu->domain) {
		struct device *dev = NULL;

		iommu->pgsize_bitmap = domain->pgsize_bitmap;
		if (iommu->pgsize_bitmap & ~PAGE_MASK) {
			iommu->pgsize_bitmap &= PAGE_MASK;
			iommu->pgsize_bitmap |= PAGE_SIZE;
		}
		/*
		 * Ask for enforced cache coherency only with a device
		 * attached: on an empty domain the IOMMU driver may promise
		 * it and then refuse devices behind an IOMMU without snoop
		 * control.
		 */
		iommu_group_for_each_dev(iommu_group, &dev,
					 vfio_dkms_first_dev);
		iommu->cache = vfio_dkms_enforce_cache_coherency(domain, dev);
	}
	iommu->domain = domain;
	vfio_dkms_iova_free(&iommu->iova_list);
	list_splice_tail(&iovas, &iommu->iova_list);
	list_add_tail(&g->next, &iommu->group_list);
	mutex_unlock(&iommu->lock);
	return 0;

err_free_iovas:
	vfio_dkms_iova_free(&iovas);
err_detach:
	iommu_detach_group(domain, iommu_group);
err_free_domain:
	if (!iommu->domain)
		iommu_domain_free(domain);
err_unlock:
	mutex_unlock(&iommu->lock);
	kfree(g);
	return ret;
}

/**
 * vfio_dkms_type1_detach_group() - take a group off the container's domain
 * @iommu: the backend
 * @iommu_group: an attached group
 *
 * When the last group leaves, every mapping is removed and the domain freed.
 */
void vfio_dkms_type1_detach_group(struct vfio_dkms_iommu *iommu,
				  struct iommu_group *iommu_group)
{
	struct vfio_dkms_iommu_group *g, *found = NULL;
	LIST_HEAD(iovas);

	mutex_lock(&iommu->lock);
	list_for_each_entry(g, &iommu->group_list, next) {
		if (g->iommu_group == iommu_group) {
			found = g;
			break;
		}
	}
	if (WARN_ON(!found))
		goto out_unlock;

	list_del(&found->next);
	kfree(found);

	if (list_empty(&iommu->group_list)) {
		/* Unmap while the domain can still translate the IOVAs. */
		vfio_dkms_remove_all_dma(iommu);
		iommu_detach_group(iommu->domain, iommu_group);
		iommu_domain_free(iommu->domain);
		iommu->domain = NULL;
		vfio_dkms_iova_free(&iommu->iova_list);
		goto out_unlock;
	}

	iommu_detach_group(iommu->domain, iommu_group);
	/* Fewer reserved regions now; keep the old list if this fails. */
	if (!vfio_dkms_iova_build(iommu, iommu->domain, NULL, &iovas)) {
		vfio_dkms_iova_free(&iommu->iova_list);
		list_splice_tail(&iovas, &iommu->iova_list);
	}
out_unlock:
	mutex_unlock(&iommu->lock);
}

/* --- backend ------------------------------------------------------------ */

struct vfio_dkms_iommu *vfio_dkms_type1_open(unsigned long arg)
{
	struct vfio_dkms_iommu *iommu;

	if (arg != VFIO_TYPE1_IOMMU && arg != VFIO_TYPE1v2_IOMMU)
		return ERR_PTR(-EINVAL);

	iommu = kzalloc(sizeof(*iommu), GFP_KERNEL_ACCOUNT);
	if (!iommu)
		return ERR_PTR(-ENOMEM);
	iommu->runs = kvmalloc_array(VFIO_DKMS_RUN_BATCH, sizeof(*iommu->runs),
				     GFP_KERNEL_ACCOUNT);
	iommu->sgl = kvmalloc_array(VFIO_DKMS_RUN_BATCH, sizeof(*iommu->sgl),
				    GFP_KERNEL_ACCOUNT);
	if (!iommu->runs || !iommu->sgl) {
		kvfree(iommu->runs);
		kvfree(iommu->sgl);
		kfree(iommu);
		return ERR_PTR(-ENOMEM);
	}

	mutex_init(&iommu->lock);
	INIT_LIST_HEAD(&iommu->group_list);
	INIT_LIST_HEAD(&iommu->iova_list);
	iommu->dma_list = RB_ROOT;
	iommu->dma_avail = dma_entry_limit;
	iommu->pgsize_bitmap = PAGE_MASK;
	iommu->v2 = arg == VFIO_TYPE1v2_IOMMU;
	return iommu;
}

void vfio_dkms_type1_release(struct vfio_dkms_iommu *iommu)
{
	/* Groups detach before the backend goes; this is only a safety net. */
	WARN_ON(!list_empty(&iommu->group_list));
	mutex_lock(&iommu->lock);
	vfio_dkms_remove_all_dma(iommu);
	WARN_ON(iommu->dma_count || iommu->pinned_pages);
	vfio_dkms_iova_free(&iommu->iova_list);
	mutex_unlock(&iommu->lock);
	mutex_destroy(&iommu->lock);
	kvfree(iommu->runs);
	kvfree(iommu->sgl);
	kfree(iommu);
}

long vfio_dkms_type1_check_extension(struct vfio_dkms_iommu *iommu,
				     unsigned long arg)
{
	long ret;

	switch (arg) {
	case VFIO_TYPE1_IOMMU:
	case VFIO_TYPE1v2_IOMMU:
	case VFIO_UNMAP_ALL:
		return 1;
	case VFIO_DMA_CC_IOMMU:
		if (!iommu)
			return 0;
		mutex_lock(&iommu->lock);
		ret = iommu->domain && iommu->cache;
		mutex_unlock(&iommu->lock);
		return ret;
	default:
		return 0;
	}
}

/**
 * vfio_dkms_type1_release_owner() - remove every mapping of one owner
 * @iommu: the backend
 * @owner: the owner given to vfio_dkms_type1_ioctl()
 *
 * For a container file that goes away while other files keep using the
 * backend (shared ownership).  Each mapping is unpinned and its charge
 * given back to the mm it was charged to, whoever calls this.
 */
void vfio_dkms_type1_release_owner(struct vfio_dkms_iommu *iommu,
				   const void *owner)
{
	struct rb_node *n, *next;

	mutex_lock(&iommu->lock);
	for (n = rb_first(&iommu->dma_list); n; n = next) {
		struct vfio_dkms_dma *dma =
			rb_entry(n, struct vfio_dkms_dma, node);

		next = rb_next(n);
		if (dma->owner == owner)
			vfio_dkms_remove_dma(iommu, dma);
	}
	mutex_unlock(&iommu->lock);
}

/* --- introspection (debugfs.c) ----------------------------------------- */

void vfio_dkms_type1_introspect(struct vfio_dkms_iommu *iommu,
				const struct vfio_dkms_type1_visitor *v,
				void *data)
{
	struct rb_node *node;

	mutex_lock(&iommu->lock);
	v->summary(data, iommu->v2, iommu->dma_count, iommu->pinned_pages,
		   iommu->dma_avail);
	for (node = rb_first(&iommu->dma_list); node; node = rb_next(node)) {
		struct vfio_dkms_dma *dma =
			rb_entry(node, struct vfio_dkms_dma, node);

		v->dma(data, dma->iova, dma->size, dma->prot,
		       task_tgid_nr(dma->task));
	}
	mutex_unlock(&iommu->lock);
}

/* --- ioctls ------------------------------------------------------------- */

static int vfio_dkms_iova_build_caps(struct vfio_dkms_iommu *iommu,
				     struct vfio_dkms_info_cap *caps)
{
	struct vfio_iommu_type1_info_cap_iova_range *cap;
	struct vfio_info_cap_header *header;
	struct vfio_dkms_iova *n;
	u32 nr = 0, i = 0;
	size_t size;

	list_for_each_entry(n, &iommu->iova_list, list)
		nr++;
	if (!nr)
		return 0;

	size = struct_size(cap, iova_ranges, nr);
	header = vfio_dkms_info_cap_add(caps, size,
					VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE, 1);
	if (IS_ERR(header))
		return PTR_ERR(header);

	cap = container_of(header, struct vfio_iommu_type1_info_cap_iova_range,
			   header);
	cap->nr_iovas = nr;
	list_for_each_entry(n, &iommu->iova_list, list) {
		cap->iova_ranges[i].start = n->start;
		cap->iova_ranges[i].end = n->end;
		i++;
	}
	return 0;
}

static int vfio_dkms_dma_avail_build_caps(struct vfio_dkms_iommu *iommu,
					  struct vfio_dkms_info_cap *caps)
{
	struct vfio_iommu_type1_info_dma_avail cap = {
		.header.id = VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL,
		.header.version = 1,
		.avail = iommu->dma_avail,
	};

	return vfio_dkms_info_add_capability(caps, &cap.header, sizeof(cap));
}

static long vfio_dkms_ioctl_get_info(struct vfio_dkms_iommu *iommu,
				     void __user *arg)
{
	unsigned long minsz = offsetofend(struct vfio_iommu_type1_info,
					  iova_pgsizes);
	unsigned long capsz = offsetofend(struct vfio_iommu_type1_info,
					  cap_offset);
	struct vfio_dkms_info_cap caps = { .buf = NULL, .size = 0 };
	struct vfio_iommu_type1_info info;
	int ret;

	if (copy_from_user(&info, arg, minsz))
		return -EFAULT;
	if (info.argsz < minsz)
		return -EINVAL;

	if (info.argsz >= capsz) {
		minsz = capsz;
		info.cap_offset = 0;
	}

	mutex_lock(&iommu->lock);
	info.flags = VFIO_IOMMU_INFO_PGSIZES;
	info.iova_pgsizes = iommu->pgsize_bitmap;
	ret = vfio_dkms_dma_avail_build_caps(iommu, &caps);
	if (!ret)
		ret = vfio_dkms_iova_build_caps(iommu, &caps);
	mutex_unlock(&iommu->lock);
	if (ret)
		goto out_free;

	if (caps.size) {
		info.flags |= VFIO_IOMMU_INFO_CAPS;
		if (info.argsz < sizeof(info) + caps.size) {
			/* Tell the user how much room the chain needs. */
			info.argsz = sizeof(info) + caps.size;
		} else {
			vfio_dkms_info_cap_shift(&caps, sizeof(info));
			if (copy_to_user(arg + sizeof(info), caps.buf,
					 caps.size)) {
				ret = -EFAULT;
				goto out_free;
			}
			info.cap_offset = sizeof(info);
		}
	}

	if (copy_to_user(arg, &info, minsz))
		ret = -EFAULT;
out_free:
	kfree(caps.buf);
	return ret;
}

static long vfio_dkms_ioctl_map_dma(struct vfio_dkms_iommu *iommu,
				    const void *owner, void __user *arg)
{
	unsigned long minsz = offsetofend(struct vfio_iommu_type1_dma_map, size);
	u32 mask = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE;
	struct vfio_iommu_type1_dma_map map;

	if (copy_from_user(&map, arg, minsz))
		return -EFAULT;
	if (map.argsz < minsz || map.flags & ~mask)
		return -EINVAL;

	return vfio_dkms_dma_do_map(iommu, owner, &map);
}

static long vfio_dkms_ioctl_unmap_dma(struct vfio_dkms_iommu *iommu,
				      const void *owner, void __user *arg)
{
	unsigned long minsz = offsetofend(struct vfio_iommu_type1_dma_unmap,
					  size);
	struct vfio_iommu_type1_dma_unmap unmap;
	int ret;

	if (copy_from_user(&unmap, arg, minsz))
		return -EFAULT;
	if (unmap.argsz < minsz || unmap.flags & ~VFIO_DMA_UNMAP_FLAG_ALL)
		return -EINVAL;

	ret = vfio_dkms_dma_do_unmap(iommu, owner, &unmap);
	if (ret)
		return ret;

	return copy_to_user(arg, &unmap, minsz) ? -EFAULT : 0;
}

/*
 * @owner: the caller's container file (its own container); mappings made
 * are recorded as its, and it may only unmap its own.
 */
long vfio_dkms_type1_ioctl(struct vfio_dkms_iommu *iommu, const void *owner,
			   unsigned int cmd, unsigned long arg)
{
	void __user *uarg = (void __user *)arg;

	switch (cmd) {
	case VFIO_CHECK_EXTENSION:
		return vfio_dkms_type1_check_extension(iommu, arg);
	case VFIO_IOMMU_GET_INFO:
		return vfio_dkms_ioctl_get_info(iommu, uarg);
	case VFIO_IOMMU_MAP_DMA:
		return vfio_dkms_ioctl_map_dma(iommu, owner, uarg);
	case VFIO_IOMMU_UNMAP_DMA:
		return vfio_dkms_ioctl_unmap_dma(iommu, owner, uarg);
	default:
		return -ENOTTY;
	}
}
