// SPDX-License-Identifier: GPL-2.0
/*
 * vfio-dkms type1 IOMMU backend (VFIO_TYPE1_IOMMU / VFIO_TYPE1v2_IOMMU).
 *
 * One IOMMU paging domain per container, shared by every attached group.
 * VFIO_IOMMU_MAP_DMA charges the mapping to the mapping process's locked_vm
 * (RLIMIT_MEMLOCK, unless CAP_IPC_LOCK; once per mapping, before pinning),
 * pins the user pages long-term in physically contiguous runs (pin.c),
 * maps up to VFIO_DKMS_RUN_BATCH runs at a time with one iommu_map_sg()
 * call and records the runs, first pfn and length.  VFIO_IOMMU_UNMAP_DMA
 * removes whole mappings from that record (iommu_unmap_fast(), one IOTLB
 * sync per VFIO_DKMS_RUN_BATCH runs or so, pages unpinned after the sync):
 * it unpins exactly the pages the mapping pinned, whatever the IOMMU page
 * table holds by then.  Every page is unpinned and every charge given back
 * on unmap and when the backend is released (container closed, process
 * killed).
 *
 * IOVA arithmetic uses inclusive last addresses: a mapping may end at the
 * top of the IOVA space (AMD-Vi apertures reach 2^64 - 1), where an
 * exclusive end would wrap to 0.
 *
 * Every mapping has an owner, the container file it was made through
 * (container.h: the file's own container).  Without shared ownership one
 * file reaches the backend, so the checks never refuse anything; with it
 * (docs/shared-ownership.md) UNMAP_DMA refuses a range holding another
 * owner's mapping (-EPERM), VFIO_DMA_UNMAP_FLAG_ALL removes only the
 * caller's, and the release_owner op removes one owner's when its file
 * goes.  The checks are made on entry, before anything is removed.
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
#include <linux/overflow.h>
#include <linux/rbtree.h>
#include <linux/scatterlist.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "compat.h"
#include "iommu.h"
#include "pin.h"
#include "vfio_dkms.h"

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
 * @dma_list: mappings (struct vfio_dkms_dma), a pin.h range tree by IOVA
 * @dma_avail: how many more mappings may be created
 * @dma_count: mappings in @dma_list (introspection)
 * @pinned_pages: pages pinned and mapped, the sum of every mapping's size
 *	in pages (introspection)
 * @pgsize_bitmap: IOMMU page sizes, the smallest raised to PAGE_SIZE
 * @v2: VFIO_TYPE1v2_IOMMU semantics (no partial unmaps)
 * @cache: the domain enforces cache coherency; map with IOMMU_CACHE
 * @runs: scratch for VFIO_DKMS_RUN_BATCH runs pinned and waiting for one
 *	iommu_map_sg()
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

/*
 * Runs per iommu_map_sg() call on map and (at least) per IOTLB sync on
 * unmap: one invalidation (a trap under an emulated IOMMU) per batch
 * instead of one per run.
 */
#define VFIO_DKMS_RUN_BATCH	512

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
 * @range: entry in the container's dma_list: first IOVA and bytes mapped
 *	so far (the size grows while the mapping is being built)
 * @vaddr: user address it maps
 * @prot: IOMMU_READ / IOMMU_WRITE
 * @acct: the locked_vm charge, on the mapping process
 * @run_chunks: the physically contiguous runs mapped so far, in IOVA order
 *	(struct vfio_dkms_run_chunk): what unmap unpins.  The first chunk,
 *	room for VFIO_DKMS_CHUNK_INLINE runs, shares the mapping's allocation
 *	(vfio_dkms_dma_inline_chunk()): most mappings are one or two runs,
 *	and they then cost one allocation, not two.
 * @owner: the container file's own container it was mapped through; only
 *	compared, never dereferenced
 */
struct vfio_dkms_dma {
	struct vfio_dkms_range range;
	unsigned long vaddr;
	int prot;
	struct vfio_dkms_locked_vm acct;
	struct list_head run_chunks;
	const void *owner;
};

/*
 * The runs of a mapping, in chunks of at most a page.  Chunks are sized
 * for the runs reserved, so a one-run mapping costs a small allocation,
 * not a page.
 */
struct vfio_dkms_run_chunk {
	struct list_head next;
	unsigned int nr;
	unsigned int cap;
	struct vfio_dkms_run runs[];
};

#define VFIO_DKMS_CHUNK_MIN	8
#define VFIO_DKMS_CHUNK_INLINE	2
#define VFIO_DKMS_CHUNK_RUNS \
	((PAGE_SIZE - sizeof(struct vfio_dkms_run_chunk)) / \
	 sizeof(struct vfio_dkms_run))

/* The chunk allocated behind @dma, in the same allocation. */
static struct vfio_dkms_run_chunk *
vfio_dkms_dma_inline_chunk(struct vfio_dkms_dma *dma)
{
	return (struct vfio_dkms_run_chunk *)(dma + 1);
}

static struct vfio_dkms_dma *vfio_dkms_dma_alloc(void)
{
	struct vfio_dkms_run_chunk *chunk;
	struct vfio_dkms_dma *dma;

	dma = kzalloc(sizeof(*dma) +
		      struct_size(chunk, runs, VFIO_DKMS_CHUNK_INLINE),
		      GFP_KERNEL_ACCOUNT);
	if (!dma)
		return NULL;
	INIT_LIST_HEAD(&dma->run_chunks);
	chunk = vfio_dkms_dma_inline_chunk(dma);
	chunk->cap = VFIO_DKMS_CHUNK_INLINE;
	list_add_tail(&chunk->next, &dma->run_chunks);
	return dma;
}

static struct vfio_dkms_dma *vfio_dkms_dma_of(struct vfio_dkms_range *range)
{
	return range ? container_of(range, struct vfio_dkms_dma, range) : NULL;
}

static struct vfio_dkms_dma *vfio_dkms_dma_next(struct vfio_dkms_dma *dma)
{
	struct rb_node *next = rb_next(&dma->range.node);

	return next ? rb_entry(next, struct vfio_dkms_dma, range.node) : NULL;
}

static struct vfio_dkms_dma *vfio_dkms_dma_first(struct vfio_dkms_iommu *iommu)
{
	struct rb_node *first = rb_first(&iommu->dma_list);

	return first ? rb_entry(first, struct vfio_dkms_dma, range.node) : NULL;
}

/* The last IOVA of a mapping that is built (size not 0). */
static u64 vfio_dkms_dma_last(const struct vfio_dkms_dma *dma)
{
	return dma->range.start + dma->range.size - 1;
}

/* --- map / unmap ------------------------------------------------------- */

/*
 * Unmap everything mapped for @dma and unpin the pages behind it, chunk by
 * chunk of its run record, at least VFIO_DKMS_RUN_BATCH runs (or the rest)
 * at a time: the IOVA range those runs cover is unmapped with one
 * iommu_unmap_fast() and the IOTLB synced once, and only then are the runs
 * unpinned, so the device can never reach a page that was given back.  One
 * gather per batch rather than one per run: the IOMMU driver flushes a
 * gather early whenever the page size it is fed changes, which runs of
 * varying length would do all the time.  No end address is computed: the
 * last run may end at 2^64.
 */
static void vfio_dkms_unmap_unpin(struct vfio_dkms_iommu *iommu,
				  struct vfio_dkms_dma *dma)
{
	struct iommu_domain *domain = iommu->domain;
	bool dirty = dma->prot & IOMMU_WRITE;
	struct vfio_dkms_run_chunk *first, *last, *chunk;
	dma_addr_t iova = dma->range.start;
	struct iommu_iotlb_gather gather;

	first = list_first_entry_or_null(&dma->run_chunks,
					 struct vfio_dkms_run_chunk, next);
	while (domain && first && first->nr) {
		size_t len = 0, unmapped, covered = 0;
		unsigned int nrun = 0, i;
		bool stop = false;

		/* Whole chunks, until the batch is full or the runs end. */
		last = first;
		list_for_each_entry_from(last, &dma->run_chunks, next) {
			for (i = 0; i < last->nr; i++)
				len += last->runs[i].npage << PAGE_SHIFT;
			nrun += last->nr;
			if (nrun >= VFIO_DKMS_RUN_BATCH ||
			    list_is_last(&last->next, &dma->run_chunks) ||
			    !list_next_entry(last, next)->nr)
				break;
		}

		iommu_iotlb_gather_init(&gather);
		unmapped = iommu_unmap_fast(domain, iova, len, &gather);
		/* Always sync: the gather may also hold page-table pages. */
		iommu_iotlb_sync(domain, &gather);

		/* Unpin what is unmapped for sure; leak the rest, if any. */
		chunk = first;
		list_for_each_entry_from(chunk, &dma->run_chunks, next) {
			for (i = 0; i < chunk->nr; i++) {
				covered += chunk->runs[i].npage << PAGE_SHIFT;
				if (covered > unmapped) {
					stop = true;
					break;
				}
			}
			vfio_dkms_unpin_runs(chunk->runs, i, dirty);
			if (stop || chunk == last)
				break;
		}
		if (WARN_ON_ONCE(unmapped != len) ||
		    list_is_last(&last->next, &dma->run_chunks))
			break;
		iova += len;
		first = list_next_entry(last, next);
		cond_resched();
	}
	iommu->pinned_pages -= dma->range.size >> PAGE_SHIFT;
	dma->range.size = 0;
}

/* Free the chunks allocated on their own; @dma is freed next. */
static void vfio_dkms_free_runs(struct vfio_dkms_dma *dma)
{
	struct vfio_dkms_run_chunk *chunk, *tmp;

	list_for_each_entry_safe(chunk, tmp, &dma->run_chunks, next)
		if (chunk != vfio_dkms_dma_inline_chunk(dma))
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

		chunk = kmalloc(struct_size(chunk, runs, cap),
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
	vfio_dkms_locked_vm_put(&dma->acct);
	rb_erase(&dma->range.node, &iommu->dma_list);
	iommu->dma_count--;
	kfree(dma);
	iommu->dma_avail++;
}

static void vfio_dkms_remove_all_dma(struct vfio_dkms_iommu *iommu)
{
	struct vfio_dkms_dma *dma;

	while ((dma = vfio_dkms_dma_first(iommu)))
		vfio_dkms_remove_dma(iommu, dma);
}

/*
 * A run is pinned and mapped at the end of @dma; room for it was reserved.
 * The one place a mapping grows, so the introspection counter always equals
 * the sum of the sizes and the run list covers exactly what is mapped.
 */
static void vfio_dkms_dma_add_run(struct vfio_dkms_iommu *iommu,
				  struct vfio_dkms_dma *dma,
				  const struct vfio_dkms_run *run)
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
	chunk->runs[chunk->nr++] = *run;
	dma->range.size += run->npage << PAGE_SHIFT;
	iommu->pinned_pages += run->npage;
}

/* Map one pinned run; it becomes part of @dma. */
static int vfio_dkms_map_run(struct vfio_dkms_iommu *iommu,
			     struct vfio_dkms_dma *dma,
			     const struct vfio_dkms_run *run)
{
	int prot = dma->prot | (iommu->cache ? IOMMU_CACHE : 0);
	int ret;

	ret = vfio_dkms_iommu_map(iommu->domain,
				  dma->range.start + dma->range.size,
				  PFN_PHYS(run->pfn), run->npage << PAGE_SHIFT,
				  prot);
	if (ret)
		return ret;
	vfio_dkms_dma_add_run(iommu, dma, run);
	return 0;
}

struct vfio_dkms_map_ctx {
	struct vfio_dkms_iommu *iommu;
	struct vfio_dkms_dma *dma;
};

/*
 * vfio_dkms_runs_fn of the map path: map @n pinned runs back to back at the
 * end of the mapping with one iommu_map_sg(), i.e. one iotlb_sync_map,
 * instead of one per run.  If the IOMMU layer maps less than asked, undo
 * that and map run by run.  On failure the runs not mapped are unpinned;
 * the mapped ones are in the mapping.
 */
static int vfio_dkms_map_runs(void *data, struct vfio_dkms_run *runs,
			      unsigned int n)
{
	struct vfio_dkms_map_ctx *ctx = data;
	struct vfio_dkms_iommu *iommu = ctx->iommu;
	struct vfio_dkms_dma *dma = ctx->dma;
	int prot = dma->prot | (iommu->cache ? IOMMU_CACHE : 0);
	dma_addr_t iova = dma->range.start + dma->range.size;
	struct scatterlist *sgl = iommu->sgl;
	size_t len = 0;
	ssize_t mapped;
	unsigned int i;
	int ret;

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
			vfio_dkms_dma_add_run(iommu, dma, &runs[i]);
		return 0;
	}

	/* Short map: undo it and fall back to one iommu_map() per run. */
	if (mapped)
		iommu_unmap(iommu->domain, iova, mapped);
	for (i = 0; i < n; i++) {
		ret = vfio_dkms_map_run(iommu, dma, &runs[i]);
		if (ret)
			break;
	}
out_unpin:
	if (ret)
		vfio_dkms_unpin_runs(runs + i, n - i, false);
	return ret;
}

/*
 * Charge, pin and map @size bytes of @dma.  On failure whatever was mapped
 * is still recorded in @dma (size, charge) for the caller to remove.
 */
static int vfio_dkms_pin_map_dma(struct vfio_dkms_iommu *iommu,
				 struct vfio_dkms_dma *dma, size_t size)
{
	struct vfio_dkms_map_ctx ctx = { .iommu = iommu, .dma = dma };
	unsigned long npage = size >> PAGE_SHIFT;
	int ret;

	/* The whole mapping first: over the limit, nothing gets pinned. */
	ret = vfio_dkms_locked_vm_charge(&dma->acct, npage);
	if (ret)
		return ret;

	return vfio_dkms_pin_runs(dma->vaddr, npage, dma->prot & IOMMU_WRITE,
				  iommu->runs, VFIO_DKMS_RUN_BATCH,
				  vfio_dkms_map_runs, &ctx);
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
	u64 iova = map->iova, last, vaddr_last;
	unsigned long vaddr = map->vaddr;
	size_t size = map->size, pgsize;
	struct vfio_dkms_dma *dma;
	int ret = 0, prot = 0;

	/* None of the __u64 fields may be truncated. */
	if (map->size != size || map->vaddr != vaddr || iova != (dma_addr_t)iova)
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

	/*
	 * No wrap-around of the IOVA or the user address; a range may end
	 * at the top of the address space.
	 */
	if (check_add_overflow(iova, (u64)size - 1, &last) ||
	    check_add_overflow((u64)vaddr, (u64)size - 1, &vaddr_last) ||
	    vaddr_last > ULONG_MAX) {
		ret = VFIO_DKMS_ERR_DMA_WRAP;
		goto out_unlock;
	}

	if (vfio_dkms_range_find(&iommu->dma_list, iova, last)) {
		ret = -EEXIST;
		goto out_unlock;
	}

	if (!iommu->dma_avail) {
		ret = -ENOSPC;
		goto out_unlock;
	}

	if (!vfio_dkms_iova_valid(iommu, iova, last)) {
		ret = -EINVAL;
		goto out_unlock;
	}

	dma = vfio_dkms_dma_alloc();
	if (!dma) {
		ret = -ENOMEM;
		goto out_unlock;
	}

	iommu->dma_avail--;
	dma->range.start = iova;
	dma->vaddr = vaddr;
	dma->prot = prot;
	vfio_dkms_locked_vm_init(&dma->acct);
	dma->owner = owner;

	/* Linked with size 0; grows as runs get mapped. */
	vfio_dkms_range_link(&iommu->dma_list, &dma->range);
	iommu->dma_count++;

	ret = vfio_dkms_pin_map_dma(iommu, dma, size);
	if (ret)
		vfio_dkms_remove_dma(iommu, dma);

out_unlock:
	mutex_unlock(&iommu->lock);
	return ret;
}

/*
 * The mappings UNMAP_DMA of [@iova, @last] removes, from the lowest one:
 * those overlapping the range; v1 stops at one that starts below @iova.
 */
static struct vfio_dkms_dma *
vfio_dkms_unmap_first(struct vfio_dkms_iommu *iommu, u64 iova, u64 last)
{
	return vfio_dkms_dma_of(vfio_dkms_range_find_first(&iommu->dma_list,
							   iova, last));
}

static bool vfio_dkms_unmap_covers(struct vfio_dkms_iommu *iommu,
				   struct vfio_dkms_dma *dma, u64 iova,
				   u64 last)
{
	return dma && dma->range.start <= last &&
	       (iommu->v2 || dma->range.start >= iova);
}

/*
 * Whether UNMAP_DMA of [@iova, @last] would remove a mapping that @owner
 * does not own: the same walk as the removal, removing nothing.
 */
static bool vfio_dkms_unmap_foreign(struct vfio_dkms_iommu *iommu,
				    const void *owner, u64 iova, u64 last)
{
	struct vfio_dkms_dma *dma;

	lockdep_assert_held(&iommu->lock);
	for (dma = vfio_dkms_unmap_first(iommu, iova, last);
	     vfio_dkms_unmap_covers(iommu, dma, iova, last);
	     dma = vfio_dkms_dma_next(dma))
		if (dma->owner != owner)
			return true;
	return false;
}

static int vfio_dkms_dma_do_unmap(struct vfio_dkms_iommu *iommu,
				  const void *owner,
				  struct vfio_iommu_type1_dma_unmap *unmap)
{
	bool unmap_all = unmap->flags & VFIO_DMA_UNMAP_FLAG_ALL;
	u64 iova = unmap->iova, size = unmap->size, last, unmapped = 0;
	struct vfio_dkms_dma *dma, *next;
	size_t pgsize;
	int ret = -EINVAL;

	mutex_lock(&iommu->lock);

	pgsize = (size_t)1 << __ffs(iommu->pgsize_bitmap);

	if (unmap_all) {
		if (iova || size)
			goto out_unlock;
		last = U64_MAX;
	} else if (!size || size & (pgsize - 1) || size > SIZE_MAX) {
		goto out_unlock;
	} else if (check_add_overflow(iova, size - 1, &last)) {
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
		dma = vfio_dkms_dma_of(vfio_dkms_range_find(&iommu->dma_list,
							    iova, iova));
		if (dma && dma->range.start != iova)
			goto out_unlock;

		dma = vfio_dkms_dma_of(vfio_dkms_range_find(&iommu->dma_list,
							    last, last));
		if (dma && vfio_dkms_dma_last(dma) != last)
			goto out_unlock;
	}

	/* Another owner's mapping in the range: remove nothing. */
	if (!unmap_all && vfio_dkms_unmap_foreign(iommu, owner, iova, last)) {
		ret = -EPERM;
		goto out_unlock;
	}

	ret = 0;
	for (dma = vfio_dkms_unmap_first(iommu, iova, last);
	     vfio_dkms_unmap_covers(iommu, dma, iova, last); dma = next) {
		next = vfio_dkms_dma_next(dma);
		/* Only VFIO_DMA_UNMAP_FLAG_ALL gets here past other owners. */
		if (dma->owner != owner)
			continue;
		unmapped += dma->range.size;
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

/*
 * The attach_group op.  Return: 0; -EPERM when MSIs of the group are not
 * isolated (unless allow_unsafe_interrupts); -EINVAL when the group's
 * reserved regions conflict with existing mappings; another errno from the
 * IOMMU layer.
 */
static int vfio_dkms_type1_attach_group(void *data,
					struct iommu_group *iommu_group)
{
	struct vfio_dkms_iommu *iommu = data;
	struct vfio_dkms_iommu_group *g;
	struct iommu_domain *domain;
	struct vfio_dkms_dma *dma;
	LIST_HEAD(iovas);
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
	for (dma = vfio_dkms_dma_first(iommu); dma;
	     dma = vfio_dkms_dma_next(dma)) {
		struct vfio_dkms_iova *r;
		bool ok = false;

		list_for_each_entry(r, &iovas, list)
			if (dma->range.start >= r->start &&
			    vfio_dkms_dma_last(dma) <= r->end)
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

/*
 * The detach_group op.  When the last group leaves, every mapping is
 * removed and the domain freed.
 */
static void vfio_dkms_type1_detach_group(void *data,
					 struct iommu_group *iommu_group)
{
	struct vfio_dkms_iommu *iommu = data;
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

static void *vfio_dkms_type1_open(unsigned long arg)
{
	struct vfio_dkms_iommu *iommu;

	switch (arg) {
	case VFIO_TYPE1_IOMMU:
	case VFIO_TYPE1v2_IOMMU:
		break;
	case VFIO_UNMAP_ALL:
		/* An extension of ours, not an IOMMU type. */
		return ERR_PTR(-EINVAL);
	default:
		return ERR_PTR(-ENODEV);
	}

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

static void vfio_dkms_type1_release(void *data)
{
	struct vfio_dkms_iommu *iommu = data;

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

static long vfio_dkms_type1_check_extension(void *data, unsigned long arg)
{
	struct vfio_dkms_iommu *iommu = data;
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

/*
 * The release_owner op: remove every mapping of one owner, for a container
 * file that goes away while other files keep using the backend (shared
 * ownership).  Each mapping is unpinned and its charge given back to the mm
 * it was charged to, whoever calls this.
 */
static void vfio_dkms_type1_release_owner(void *data, const void *owner)
{
	struct vfio_dkms_iommu *iommu = data;
	struct vfio_dkms_dma *dma, *next;

	mutex_lock(&iommu->lock);
	for (dma = vfio_dkms_dma_first(iommu); dma; dma = next) {
		next = vfio_dkms_dma_next(dma);
		if (dma->owner == owner)
			vfio_dkms_remove_dma(iommu, dma);
	}
	mutex_unlock(&iommu->lock);
}

/* The introspect op: docs/introspection.md, "containers". */
static void vfio_dkms_type1_introspect(void *data, struct seq_file *m)
{
	struct vfio_dkms_iommu *iommu = data;
	struct vfio_dkms_dma *dma;

	mutex_lock(&iommu->lock);
	seq_printf(m, "backend: %s\n", iommu->v2 ? "type1v2" : "type1");
	seq_printf(m, "mappings: %u\n", iommu->dma_count);
	seq_printf(m, "pinned_pages: %lu\n", iommu->pinned_pages);
	seq_printf(m, "dma_avail: %u\n", iommu->dma_avail);
	for (dma = vfio_dkms_dma_first(iommu); dma;
	     dma = vfio_dkms_dma_next(dma))
		seq_printf(m, "dma: [0x%llx, 0x%llx] %c%c pid %d\n",
			   (unsigned long long)dma->range.start,
			   (unsigned long long)vfio_dkms_dma_last(dma),
			   dma->prot & IOMMU_READ ? 'r' : '-',
			   dma->prot & IOMMU_WRITE ? 'w' : '-',
			   vfio_dkms_locked_vm_pid(&dma->acct));
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
 * The ioctl op.  @owner: the caller's container file (its own container);
 * mappings made are recorded as its, and it may only unmap its own.
 */
static long vfio_dkms_type1_ioctl(void *data, const void *owner,
				  unsigned int cmd, unsigned long arg)
{
	struct vfio_dkms_iommu *iommu = data;
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

const struct vfio_dkms_iommu_ops vfio_dkms_type1_ops = {
	.open		= vfio_dkms_type1_open,
	.release	= vfio_dkms_type1_release,
	.ioctl		= vfio_dkms_type1_ioctl,
	.check_extension = vfio_dkms_type1_check_extension,
	.attach_group	= vfio_dkms_type1_attach_group,
	.detach_group	= vfio_dkms_type1_detach_group,
	.release_owner	= vfio_dkms_type1_release_owner,
	.introspect	= vfio_dkms_type1_introspect,
};
