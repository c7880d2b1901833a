// SPDX-License-Identifier: GPL-2.0
/*
 * Structure-aware fuzzer of the vfio-dkms user API: the main loop.
 *
 *   fuzz --device BDF [--seed S] [--ops N] [--threads T] [--no-chaos]
 *
 * T worker threads (each with its own PRNG derived from the seed) run N/T
 * operations each on the shared fd slots.  The main thread watches
 * /dev/kmsg: a kernel complaint (BUG, WARNING, Oops, KASAN, UBSAN, lockdep,
 * hung task) stops the run and prints the seed and every thread's last
 * operations, as does a crash of the fuzzer itself.  Exit status: 0 clean,
 * 1 kernel complaint, 2 usage or setup error, 3 locked_vm not returned.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fuzz.h"
#include "linux/vfio_dkms.h"

struct fuzz_config cfg = {
	.ops = 100000,
	.threads = 3,
	.chaos = true,
};

uint8_t *dma_buf;
__thread sigjmp_buf *bus_guard;

/* ---- PRNG ------------------------------------------------------------ */

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

void rng_seed(struct rng *r, uint64_t seed)
{
	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix64(&seed);
}

static inline uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

uint64_t rng_next(struct rng *r)
{
	uint64_t *s = r->s;
	uint64_t res = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return res;
}

uint64_t rng_boundary64(struct rng *r)
{
	static const uint64_t edges[] = {
		0, 1, 0x1000, 0xffffffffULL, 0x100000000ULL, 1ULL << 39, 1ULL << 48,
		1ULL << 63, ~0ULL, ~0ULL - 0xfff, ~0ULL - 0x1fff, ~0ULL - 0x3fff,
		-(1ULL << 21), -(1ULL << 30),
	};
	uint64_t v = edges[rng_below(r, sizeof(edges) / sizeof(edges[0]))];

	switch (rng_below(r, 4)) {
	case 0:
		return v + rng_below(r, 3);
	case 1:
		return v - rng_below(r, 3);
	default:
		return v;
	}
}

uint32_t pick_argsz(struct rng *r, uint32_t minsz, uint32_t full)
{
	static const uint32_t odd[] = { 0, 1, 4, 0x7fffffff, 0x80000000, 0xffffffff, 4096 };

	if (!rng_chance(r, 1, 8))
		return full;
	switch (rng_below(r, 6)) {
	case 0:
		return minsz - 1;
	case 1:
		return minsz;
	case 2:
		return minsz + 1 + (uint32_t)rng_below(r, 64);
	case 3:
		return full + (uint32_t)rng_below(r, 4096);
	default:
		return odd[rng_below(r, sizeof(odd) / sizeof(odd[0]))];
	}
}

uint32_t pick_flags(struct rng *r, uint32_t valid)
{
	if (!rng_chance(r, 1, 10))
		return valid;
	switch (rng_below(r, 3)) {
	case 0:
		return valid | (1U << rng_below(r, 32));
	case 1:
		return (uint32_t)rng_next(r);
	default:
		return ~0U;
	}
}

/* ---- slots ----------------------------------------------------------- */

static int slots[SLOT_KINDS][SLOTS_PER_KIND];

int slot_fd(enum slot_kind kind, unsigned int i)
{
	return __atomic_load_n(&slots[kind][i % SLOTS_PER_KIND], __ATOMIC_ACQUIRE);
}

int pick_fd(struct rng *r, enum slot_kind kind)
{
	/* Wrong fd type for the command, or a number that is not an fd. */
	if (rng_chance(r, 1, 12)) {
		if (rng_chance(r, 1, 6))
			return rng_chance(r, 1, 2) ? -1 : 1000 + (int)rng_below(r, 24);
		kind = (enum slot_kind)rng_below(r, SLOT_KINDS);
	}
	/* Slot 0 is where the setup sequence puts a working set: favour it. */
	return slot_fd(kind, rng_chance(r, 1, 2) ? 0 : (unsigned int)rng_below(r, SLOTS_PER_KIND));
}

void slot_replace(enum slot_kind kind, unsigned int i, int fd)
{
	int old = __atomic_exchange_n(&slots[kind][i % SLOTS_PER_KIND], fd, __ATOMIC_ACQ_REL);

	if (old >= 0)
		close(old);
}

void slots_close_all(void)
{
	for (int k = 0; k < SLOT_KINDS; k++)
		for (int i = 0; i < SLOTS_PER_KIND; i++)
			slot_replace((enum slot_kind)k, i, -1);
}

/* ---- group path ------------------------------------------------------ */

void group_name(char *buf, size_t len)
{
	char link[256], path[512];
	ssize_t n;
	const char *num;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/iommu_group", cfg.bdf);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0) {
		snprintf(buf, len, "none");
		return;
	}
	link[n] = 0;
	num = strrchr(link, '/');
	num = num ? num + 1 : link;
	snprintf(buf, len, "%s%s", cfg.noiommu ? VFIO_DKMS_NOIOMMU_PREFIX : "", num);
}

void group_path(char *buf, size_t len)
{
	char name[64];

	group_name(name, sizeof(name));
	snprintf(buf, len, "/dev/vfio-dkms/%s", name);
}

/* ---- statistics (shared with children) --------------------------------- */

#define MAX_ERRNO	134

struct op_stat {
	uint64_t ok, fail;
	uint64_t err[MAX_ERRNO + 1];	/* failures by errno, the last: others */
};

static struct op_stat *stats;

static const char *const op_names[OP_COUNT] = {
#define OP(id, name, weight) [id] = name,
#include "ops.def"
#undef OP
};

static const unsigned int op_weights[OP_COUNT] = {
#define OP(id, name, weight) [id] = weight,
#include "ops.def"
#undef OP
};

void stat_count(enum op_id op, bool success)
{
	int e = errno;

	__atomic_fetch_add(success ? &stats[op].ok : &stats[op].fail, 1, __ATOMIC_RELAXED);
	if (!success)
		__atomic_fetch_add(&stats[op].err[e > 0 && e < MAX_ERRNO ? e : MAX_ERRNO], 1,
				   __ATOMIC_RELAXED);
	errno = e;
}

/* " EINVAL 40% ENOTTY 30% ..." : the three most frequent errnos of @op. */
static void top_errnos(const struct op_stat *st, char *buf, size_t len)
{
	bool used[MAX_ERRNO + 1] = { false };
	size_t n = 0;

	buf[0] = 0;
	for (int k = 0; k < 3 && st->fail; k++) {
		int best = -1;

		for (int e = 0; e <= MAX_ERRNO; e++)
			if (!used[e] && st->err[e] && (best < 0 || st->err[e] > st->err[best]))
				best = e;
		if (best < 0)
			break;
		used[best] = true;
		n += snprintf(buf + n, len - n, " %s %.0f%%",
			      best == MAX_ERRNO ? "other" : strerrorname_np(best) ?: "?",
			      100.0 * st->err[best] / st->fail);
		if (n >= len)
			break;
	}
}

/* ---- ring of the last operations -------------------------------------- */

void ring_begin(struct worker *w, const char *fmt, ...)
{
	struct ring_entry *e = &w->ring[w->ring_seq % RING_SIZE];
	va_list ap;

	e->seq = w->done;
	e->ret = -1;
	e->err = -1;		/* not returned (yet) */
	va_start(ap, fmt);
	vsnprintf(e->desc, sizeof(e->desc), fmt, ap);
	va_end(ap);
	w->ring_seq++;
}

void ring_end(struct worker *w, long ret)
{
	struct ring_entry *e = &w->ring[(w->ring_seq - 1) % RING_SIZE];

	e->ret = ret;
	e->err = ret < 0 ? errno : 0;
}

/* Only write(2) and snprintf into a stack buffer: safe in a signal handler. */
void ring_dump(const struct worker *w, int out)
{
	char line[DESC_SIZE + 96];
	uint64_t first = w->ring_seq > RING_SIZE ? w->ring_seq - RING_SIZE : 0;
	int n;

	n = snprintf(line, sizeof(line), "# thread %u%s: last operations (op index in thread)\n",
		     w->id, w->in_child ? " (child)" : "");
	if (write(out, line, n) < 0)
		return;
	for (uint64_t s = first; s < w->ring_seq; s++) {
		const struct ring_entry *e = &w->ring[s % RING_SIZE];

		if (e->err == -1)
			n = snprintf(line, sizeof(line), "#   [%" PRIu64 "] %s -> (did not return)\n",
				     e->seq, e->desc);
		else
			n = snprintf(line, sizeof(line), "#   [%" PRIu64 "] %s -> %ld%s%s\n",
				     e->seq, e->desc, e->ret, e->err ? " " : "",
				     e->err ? strerrorname_np(e->err) ?: "?" : "");
		if (write(out, line, n) < 0)
			return;
	}
}

long fz_ioctl(struct worker *w, enum op_id op, int fd, unsigned long cmd, void *arg,
	      const char *what)
{
	long ret;

	ring_begin(w, "ioctl(%d, %s)%s%s", fd, op_names[op], what ? " " : "", what ? what : "");
	ret = ioctl(fd, cmd, arg);
	ring_end(w, ret);
	stat_count(op, ret >= 0);
	return ret;
}

/* ---- workers ----------------------------------------------------------- */

static struct worker **workers;
static __thread struct worker *self;
static volatile sig_atomic_t stop_run;
static uint64_t total_weight;
static unsigned int weights[OP_COUNT];

static enum op_id pick_op(struct worker *w)
{
	uint64_t x = rng_below(&w->rng, total_weight);

	for (int i = 0; i < OP_COUNT; i++) {
		if (x < weights[i])
			return (enum op_id)i;
		x -= weights[i];
	}
	return OP_GET_API_VERSION;
}

static void run_op(struct worker *w, enum op_id op)
{
	switch (op) {
	case OP_GET_API_VERSION ... OP_NOIOMMU_UNMAP:
		op_container(w, op);
		break;
	case OP_GROUP_STATUS ... OP_GROUP_DEVICE_FD:
		op_group(w, op);
		break;
	case OP_DEV_INFO ... OP_IOEVENTFD:
		op_device(w, op);
		break;
	case OP_PREAD ... OP_MMAP:
		op_region(w, op);
		break;
	default:
		op_lifecycle(w, op);
		break;
	}
}

/* One operation: usually a weighted pick, rarely a revocation. */
static void step(struct worker *w)
{
	/* About ten revocations per 100k operations (each waits release_timeout). */
	if (cfg.chaos && !w->in_child && rng_chance(&w->rng, 1, 10000))
		op_lifecycle(w, OP_REVOKE);
	else
		run_op(w, pick_op(w));
	w->done++;
	/* Long enough to meet a revocation, short enough not to pin the group. */
	if (w->kept && w->done >= w->kept_until)
		drop_kept(w);
}

/* A forked child runs operations on the inherited fds until it is killed. */
void child_loop(struct worker *w)
{
	self = w;
	w->in_child = true;
	for (int i = 0; i < 200; i++) {
		enum op_id op = pick_op(w);

		if (op == OP_CHILD_KILL || op == OP_SHARED_TOGGLE)
			continue;
		run_op(w, op);
		w->done++;
	}
	_exit(0);
}

/* The crash report runs on its own stack, so a stack overflow is reported too. */
static void alt_stack(void)
{
	static __thread uint8_t stack[64 * 1024];
	stack_t ss = { .ss_sp = stack, .ss_size = sizeof(stack) };

	sigaltstack(&ss, NULL);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;

	self = w;
	alt_stack();
	uint64_t n = cfg.ops / cfg.threads + (w->id < cfg.ops % cfg.threads);

	while (w->done < n && !stop_run)
		step(w);
	return NULL;
}

/* ---- crash and complaint reporting -------------------------------------- */

static void dump_all(int out)
{
	char line[128];
	int n = snprintf(line, sizeof(line), "# replay: --seed %" PRIu64 " --ops %" PRIu64
			 " --threads %u\n", cfg.seed, cfg.ops, cfg.threads);

	if (write(out, line, n) < 0)
		return;
	for (unsigned int i = 0; i < cfg.threads; i++)
		ring_dump(workers[i], out);
}

static void on_fatal(int sig)
{
	char line[96];
	int n = snprintf(line, sizeof(line), "# fuzzer pid %d caught signal %d\n", getpid(), sig);

	if (write(2, line, n) < 0)
		_exit(128 + sig);
	if (self && self->in_child)
		ring_dump(self, 2);
	else
		dump_all(2);
	signal(sig, SIG_DFL);
	raise(sig);
}

static void on_bus(int sig)
{
	if (bus_guard)
		siglongjmp(*bus_guard, 1);
	on_fatal(sig);
}

static const char *const complaints[] = {
	"BUG:", "WARNING:", "Oops", "KASAN", "UBSAN", "INFO: task", "circular locking",
	"lockdep", "general protection", "kernel panic", "refcount_t", "list_add corruption",
	"list_del corruption", "stack-protector",
};

static bool is_complaint(const char *msg)
{
	for (size_t i = 0; i < sizeof(complaints) / sizeof(complaints[0]); i++)
		if (strstr(msg, complaints[i]))
			return true;
	return false;
}

/* Reads new /dev/kmsg records; returns true on a kernel complaint. */
static bool kmsg_poll(int kfd, int timeout_ms)
{
	struct pollfd p = { .fd = kfd, .events = POLLIN };
	char rec[2048];
	bool bad = false;

	if (kfd < 0) {
		usleep(timeout_ms * 1000);
		return false;
	}
	if (poll(&p, 1, timeout_ms) <= 0)
		return false;
	for (;;) {
		ssize_t n = read(kfd, rec, sizeof(rec) - 1);
		char *msg;

		if (n < 0)
			break;
		rec[n] = 0;
		msg = strchr(rec, ';');
		msg = msg ? msg + 1 : rec;
		if (is_complaint(msg)) {
			printf("# kernel complaint: %s", msg);
			bad = true;
		}
	}
	return bad;
}

static uint64_t vmlck_kb(void)
{
	char line[256];
	uint64_t kb = ~0ULL;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return kb;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmLck: %" SCNu64, &kb) == 1)
			break;
	fclose(f);
	return kb;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void usage(void)
{
	fprintf(stderr, "usage: fuzz --device BDF [--noiommu] [--seed S] [--ops N] "
		"[--threads T] [--no-chaos]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	pthread_t *tids;
	struct sigaction sa = { 0 };
	bool seeded = false, complaint = false;
	uint64_t done = 0, locked;
	double t0, secs;
	int kfd;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--device") && i + 1 < argc)
			cfg.bdf = argv[++i];
		else if (!strcmp(argv[i], "--seed") && i + 1 < argc)
			cfg.seed = strtoull(argv[++i], NULL, 0), seeded = true;
		else if (!strcmp(argv[i], "--ops") && i + 1 < argc)
			cfg.ops = strtoull(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--threads") && i + 1 < argc)
			cfg.threads = (unsigned int)strtoul(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--noiommu"))
			cfg.noiommu = true;
		else if (!strcmp(argv[i], "--no-chaos"))
			cfg.chaos = false;
		else
			usage();
	}
	if (!cfg.bdf || !cfg.threads || cfg.threads > 64)
		usage();
	if (!seeded) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		cfg.seed = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 20) ^ getpid();
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("# fuzz: device %s%s, seed %" PRIu64 ", %" PRIu64 " operations, %u threads%s\n",
	       cfg.bdf, cfg.noiommu ? " (no-IOMMU)" : "", cfg.seed, cfg.ops, cfg.threads,
	       cfg.chaos ? "" : ", no revocation/shared toggling");

	for (int i = 0; i < OP_COUNT; i++) {
		weights[i] = op_weights[i];
		/* The bus-address extension is what a no-IOMMU container maps with. */
		if (cfg.noiommu && (i == OP_NOIOMMU_MAP || i == OP_NOIOMMU_UNMAP))
			weights[i] *= 3;
		if (!cfg.chaos && i == OP_SHARED_TOGGLE)
			weights[i] = 0;
		total_weight += weights[i];
	}

	stats = mmap(NULL, sizeof(*stats) * OP_COUNT, PROT_READ | PROT_WRITE,
		     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	/*
	 * A PROT_NONE guard after the buffer: the "unmapped" addresses the
	 * generators pass (buffer end, a read straddling it) must fault, not
	 * land in whatever mapping the kernel put next (once, glibc's TLS).
	 */
	dma_buf = mmap(NULL, DMA_BUF_SIZE + DMA_GUARD_SIZE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (stats == MAP_FAILED || dma_buf == MAP_FAILED ||
	    mprotect(dma_buf + DMA_BUF_SIZE, DMA_GUARD_SIZE, PROT_NONE)) {
		perror("mmap");
		return 2;
	}
	for (int k = 0; k < SLOT_KINDS; k++)
		for (int i = 0; i < SLOTS_PER_KIND; i++)
			slots[k][i] = -1;

	/* Before any slot is opened, so a stale slot number is never this fd. */
	kfd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (kfd >= 0)
		lseek(kfd, 0, SEEK_END);
	else
		printf("# /dev/kmsg: %s (kernel log not watched)\n", strerror(errno));

	alt_stack();
	sa.sa_handler = on_fatal;
	sa.sa_flags = SA_NODEFER | SA_ONSTACK;
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGILL, &sa, NULL);
	sigaction(SIGFPE, &sa, NULL);
	sigaction(SIGABRT, &sa, NULL);
	sa.sa_handler = on_bus;
	sa.sa_flags = SA_ONSTACK;
	sigaction(SIGBUS, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	workers = calloc(cfg.threads, sizeof(*workers));
	tids = calloc(cfg.threads, sizeof(*tids));
	for (unsigned int i = 0; i < cfg.threads; i++) {
		workers[i] = aligned_alloc(64, (sizeof(struct worker) + 63) & ~63UL);
		memset(workers[i], 0, sizeof(struct worker));
		workers[i]->id = i;
		rng_seed(&workers[i]->rng, cfg.seed * 0x100000001b3ULL + i + 1);
	}

	setup_initial();
	t0 = now();
	for (unsigned int i = 0; i < cfg.threads; i++)
		if (pthread_create(&tids[i], NULL, worker_main, workers[i])) {
			perror("pthread_create");
			return 2;
		}

	/* Watch the kernel log and report progress until the workers finish. */
	for (double last = t0;;) {
		bool running = false;

		done = 0;
		for (unsigned int i = 0; i < cfg.threads; i++) {
			uint64_t n = cfg.ops / cfg.threads + (i < cfg.ops % cfg.threads);

			done += workers[i]->done;
			running |= workers[i]->done < n;
		}
		if (!running || stop_run)
			break;
		if (kmsg_poll(kfd, 200) && !complaint) {
			complaint = true;
			printf("# kernel complaint after about %" PRIu64 " operations\n", done);
			dump_all(1);
			stop_run = 1;
		}
		if (now() - last >= 10) {
			last = now();
			printf("# %" PRIu64 " operations, %.0f ops/s\n", done, done / (last - t0));
		}
	}
	for (unsigned int i = 0; i < cfg.threads; i++)
		pthread_join(tids[i], NULL);
	secs = now() - t0;
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;

	/* A kept BAR mapping holds its device file, and so the container, open. */
	for (unsigned int i = 0; i < cfg.threads; i++)
		drop_kept(workers[i]);
	slots_close_all();
	/* Let deferred work (released fds, revocation) log what it has to say. */
	if (kmsg_poll(kfd, 500) && !complaint) {
		complaint = true;
		printf("# kernel complaint at the end of the run\n");
		dump_all(1);
	}

	printf("# %-32s %10s %10s   most frequent errors\n", "operation", "ok", "failed");
	for (int i = 0; i < OP_COUNT; i++) {
		char errs[96];

		top_errnos(&stats[i], errs, sizeof(errs));
		printf("stat %-32s %10" PRIu64 " %10" PRIu64 "  #%s\n", op_names[i], stats[i].ok,
		       stats[i].fail, errs);
	}
	printf("# %" PRIu64 " operations in %.1f s: %.0f ops/s, seed %" PRIu64 "\n", done, secs,
	       done / secs, cfg.seed);
	printf("total ops %" PRIu64 " seconds %.1f seed %" PRIu64 "\n", done, secs, cfg.seed);

	munmap(dma_buf, DMA_BUF_SIZE + DMA_GUARD_SIZE);
	locked = vmlck_kb();
	printf("locked_vm_kb %" PRIu64 "\n", locked);
	if (complaint)
		return 1;
	return locked ? 3 : 0;
}
