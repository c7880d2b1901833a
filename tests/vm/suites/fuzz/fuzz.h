/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Structure-aware fuzzer of the vfio-dkms user API: shared declarations.
 *
 * The fuzzer keeps a table of file descriptor slots (containers, group
 * files, device files, eventfds) shared by all worker threads.  Every
 * operation picks its target slot(s), builds an argument that is valid
 * most of the time and mutated (boundary argsz, flags, fields) otherwise,
 * runs one system call and counts the result per operation.  Threads and
 * forked children use the same slots at once, so closes race with uses.
 */
#ifndef FUZZ_H
#define FUZZ_H

#include <setjmp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifndef offsetofend
#define offsetofend(type, member) (offsetof(type, member) + sizeof(((type *)0)->member))
#endif

/* ---- PRNG: xoshiro256**, seeded through splitmix64 -------------------- */

struct rng {
	uint64_t s[4];
};

void rng_seed(struct rng *r, uint64_t seed);
uint64_t rng_next(struct rng *r);

static inline uint64_t rng_below(struct rng *r, uint64_t n)
{
	return n ? rng_next(r) % n : 0;
}

/* True with probability num/den. */
static inline bool rng_chance(struct rng *r, unsigned int num, unsigned int den)
{
	return rng_below(r, den) < num;
}

/* A 64-bit value near an interesting boundary (0, 2^32, 2^63, 2^64...). */
uint64_t rng_boundary64(struct rng *r);

/* ---- file descriptor slots ------------------------------------------- */

enum slot_kind { SLOT_CONTAINER, SLOT_GROUP, SLOT_DEVICE, SLOT_EVENTFD, SLOT_KINDS };

#define SLOTS_PER_KIND	3

/* Current fd of a slot (-1 when closed); may be stale by the time it is used. */
int slot_fd(enum slot_kind kind, unsigned int i);
/* Any slot of @kind, or with a small probability a slot of another kind. */
int pick_fd(struct rng *r, enum slot_kind kind);
/* Installs @fd in the slot, closing what was there. */
void slot_replace(enum slot_kind kind, unsigned int i, int fd);
void slots_close_all(void);

/* ---- configuration and shared state ----------------------------------- */

struct fuzz_config {
	const char *bdf;		/* the device fuzzed (edu) */
	bool noiommu;			/* its group is a no-IOMMU group */
	uint64_t seed;
	uint64_t ops;			/* total, split over the threads */
	unsigned int threads;
	bool chaos;			/* revocation, shared toggling */
};

extern struct fuzz_config cfg;

/* Memory that MAP_DMA maps: anonymous, shared by the threads. */
#define DMA_BUF_SIZE	(4UL << 20)
#define DMA_GUARD_SIZE	(1UL << 20)	/* PROT_NONE, after the buffer */
extern uint8_t *dma_buf;

/* Path of the group node of cfg.bdf, looked up again after a rebind. */
void group_path(char *buf, size_t len);
void group_name(char *buf, size_t len);

/* ---- per-thread context ---------------------------------------------- */

#define ARENA_SIZE	(64 * 1024)
#define RING_SIZE	32
#define DESC_SIZE	120

struct ring_entry {
	uint64_t seq;
	char desc[DESC_SIZE];
	long ret;
	int err;
};

struct worker {
	unsigned int id;
	struct rng rng;
	uint64_t done;
	bool in_child;
	/* Recent successful maps {iova or vaddr, size}, so unmaps hit often. */
	uint64_t recent[8][2];
	unsigned int nrecent;
	/* A BAR mapping kept across operations, so revocation meets a live one. */
	void *kept;
	size_t kept_len;
	uint64_t kept_off;
	uint64_t kept_until;	/* op index at which it is unmapped */
	/* Argument memory large enough for whatever the kernel writes back. */
	uint8_t arena[ARENA_SIZE] __attribute__((aligned(64)));
	uint8_t iobuf[ARENA_SIZE] __attribute__((aligned(64)));
	struct ring_entry ring[RING_SIZE];
	uint64_t ring_seq;
};

/* Recorded before the call, so a crash shows the operation that caused it. */
void ring_begin(struct worker *w, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void ring_end(struct worker *w, long ret);
void ring_dump(const struct worker *w, int out);

/* SIGBUS on a touched BAR mapping (revoked, past the BAR) jumps back here. */
extern __thread sigjmp_buf *bus_guard;

/* ---- operations ------------------------------------------------------ */

/* Per-operation success/failure counters (in shared memory: children count too). */
enum op_id {
#define OP(id, name, weight) id,
#include "ops.def"
#undef OP
	OP_COUNT
};

void stat_count(enum op_id op, bool success);

/* Each generator runs one operation of its kind; the result counts itself. */
void op_container(struct worker *w, enum op_id op);
void op_group(struct worker *w, enum op_id op);
void op_device(struct worker *w, enum op_id op);
void op_region(struct worker *w, enum op_id op);
void op_lifecycle(struct worker *w, enum op_id op);
/* Drops the kept BAR mapping (it holds the device file, and so the group). */
void drop_kept(struct worker *w);
/* A working container, group and device before the run starts. */
void setup_initial(void);
/* Body of a forked child: runs operations until killed (or 200 of them). */
void child_loop(struct worker *w) __attribute__((noreturn));

/* argsz: usually @full, sometimes 0, minsz-1, minsz, huge, ~0... */
uint32_t pick_argsz(struct rng *r, uint32_t minsz, uint32_t full);
/* flags: usually @valid, sometimes a random or single unknown bit. */
uint32_t pick_flags(struct rng *r, uint32_t valid);

/* Remembers a mapped range; picks one (false if none yet). */
void recent_add(struct worker *w, uint64_t start, uint64_t size);
bool recent_pick(struct worker *w, uint64_t *start, uint64_t *size);
void recent_forget(struct worker *w, uint64_t start, uint64_t size);

/* ioctl wrapper that records the call in the ring and counts the result. */
long fz_ioctl(struct worker *w, enum op_id op, int fd, unsigned long cmd, void *arg,
	      const char *what);

#endif /* FUZZ_H */
