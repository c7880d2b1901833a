// SPDX-License-Identifier: GPL-2.0
/*
 * File and process life cycle: opening and closing slots (so closes race
 * with other threads' calls on the same fd), unknown ioctl numbers,
 * children SIGKILLed in the middle of their operations, toggling the
 * group's sysfs `shared` switch, and revocation: unbinding the device from
 * vfio-dkms-pci while it is in use (the module's release_timeout bounds the
 * wait) and binding it again.
 *
 * The sysfs writes happen in a forked child that closed every inherited fd,
 * so a stale slot number in another thread can never reach a sysfs file.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fuzz.h"
#include "linux/vfio_dkms.h"

static int write_file(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, val, strlen(val));
	close(fd);
	return n < 0 ? -1 : 0;
}

/* Runs @fn in a child without our fds; its exit status (-1 if it died). */
static int in_clean_child(int (*fn)(const void *), const void *arg)
{
	pid_t pid = fork();
	int st;

	if (pid < 0)
		return -1;
	if (pid == 0) {
		close_range(3, ~0U, 0);
		_exit(fn(arg) ? 1 : 0);
	}
	if (waitpid(pid, &st, 0) < 0)
		return -1;
	/* The child's errno is lost: say "I/O error" rather than a stale one. */
	errno = EIO;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int revoke_and_rebind(const void *arg)
{
	char path[256];
	int ret;

	(void)arg;
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver/unbind", cfg.bdf);
	/* Waits for the release_timeout when the device is in use. */
	ret = write_file(path, cfg.bdf);
	/* driver_override still names vfio-dkms-pci: probing binds it back. */
	if (write_file("/sys/bus/pci/drivers_probe", cfg.bdf))
		ret = -1;
	return ret;
}

static int write_shared(const void *arg)
{
	char path[256], name[64];

	group_name(name, sizeof(name));
	snprintf(path, sizeof(path), "/sys/class/vfio-dkms/%s/shared", name);
	return write_file(path, arg);
}

static void open_slot(struct worker *w, enum slot_kind kind, const char *path)
{
	unsigned int i = (unsigned int)rng_below(&w->rng, SLOTS_PER_KIND);
	int fd;

	ring_begin(w, "open %s", path);
	fd = open(path, O_RDWR | O_CLOEXEC);
	ring_end(w, fd);
	stat_count(kind == SLOT_CONTAINER ? OP_OPEN_CONTAINER : OP_OPEN_GROUP, fd >= 0);
	if (fd >= 0)
		slot_replace(kind, i, fd);
}

static void unknown_ioctl(struct worker *w)
{
	struct rng *r = &w->rng;
	int fd = slot_fd((enum slot_kind)rng_below(r, SLOT_KINDS),
			 (unsigned int)rng_below(r, SLOTS_PER_KIND));
	unsigned long cmd;
	char what[32];

	switch (rng_below(r, 4)) {
	case 0:		/* past the VFIO numbers in use */
		cmd = _IO(VFIO_TYPE, VFIO_BASE + 30 + rng_below(r, 200));
		break;
	case 1:		/* our own type, unused numbers */
		cmd = _IO(VFIO_DKMS_TYPE, VFIO_DKMS_BASE + 2 + rng_below(r, 250));
		break;
	case 2:		/* a VFIO number with size and direction bits */
		cmd = _IOC(rng_below(r, 4), VFIO_TYPE, VFIO_BASE + rng_below(r, 24),
			   rng_below(r, 1 << 12));
		break;
	default:
		cmd = (uint32_t)rng_next(r);
		break;
	}
	memset(w->arena, 0, 64);
	snprintf(what, sizeof(what), "cmd %#lx", cmd);
	fz_ioctl(w, OP_UNKNOWN_IOCTL, fd, cmd, w->arena, what);
}

static void child_killed(struct worker *w)
{
	struct timespec ts = { 0, (long)rng_below(&w->rng, 5000) * 1000 };
	uint64_t child_seed = rng_next(&w->rng);
	pid_t pid;
	int st;

	ring_begin(w, "fork child (SIGKILL after %ld us)", ts.tv_nsec / 1000);
	pid = fork();
	if (pid == 0) {
		rng_seed(&w->rng, child_seed);
		child_loop(w);
	}
	if (pid > 0) {
		nanosleep(&ts, NULL);
		kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
	}
	ring_end(w, pid);
	stat_count(OP_CHILD_KILL, pid > 0);
}

/*
 * Start over: close every container, group and device slot, then open a
 * container and the group, attach, set the IOMMU and get the device.  A
 * group attached to a container nobody holds any more (its slot was closed)
 * stays so while its file is open, which would leave MAP_DMA failing for
 * the rest of the run; this brings the fuzzer back to a working state.
 */
static void setup_sequence(struct worker *w)
{
	unsigned long type = cfg.noiommu ? VFIO_NOIOMMU_IOMMU : VFIO_TYPE1v2_IOMMU;
	char path[256];
	int c, g, d = -1, ret = -1;

	drop_kept(w);
	for (unsigned int i = 0; i < SLOTS_PER_KIND; i++) {
		slot_replace(SLOT_DEVICE, i, -1);
		slot_replace(SLOT_GROUP, i, -1);
		slot_replace(SLOT_CONTAINER, i, -1);
	}
	group_path(path, sizeof(path));
	ring_begin(w, "setup: open container and %s, SET_CONTAINER, SET_IOMMU %lu, GET_DEVICE_FD",
		   path, type);
	c = open(VFIO_DKMS_CONTAINER_PATH, O_RDWR | O_CLOEXEC);
	g = open(path, O_RDWR | O_CLOEXEC);
	if (c >= 0 && g >= 0 && !ioctl(g, VFIO_GROUP_SET_CONTAINER, &c) &&
	    !ioctl(c, VFIO_SET_IOMMU, type)) {
		d = ioctl(g, VFIO_GROUP_GET_DEVICE_FD, cfg.bdf);
		ret = d < 0 ? -1 : 0;
	}
	ring_end(w, ret);
	stat_count(OP_SETUP, !ret);
	/* Slot 0, which pick_fd() favours. */
	slot_replace(SLOT_CONTAINER, 0, c);
	slot_replace(SLOT_GROUP, 0, g);
	slot_replace(SLOT_DEVICE, 0, d);
}

void op_lifecycle(struct worker *w, enum op_id op)
{
	struct rng *r = &w->rng;
	char path[256];
	int ret;

	switch (op) {
	case OP_SETUP:
		setup_sequence(w);
		break;
	case OP_OPEN_CONTAINER:
		open_slot(w, SLOT_CONTAINER, VFIO_DKMS_CONTAINER_PATH);
		break;
	case OP_OPEN_GROUP:
		group_path(path, sizeof(path));
		open_slot(w, SLOT_GROUP, path);
		break;
	case OP_OPEN_EVENTFD:
		ring_begin(w, "eventfd");
		ret = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		ring_end(w, ret);
		stat_count(op, ret >= 0);
		if (ret >= 0)
			slot_replace(SLOT_EVENTFD, (unsigned int)rng_below(r, SLOTS_PER_KIND), ret);
		break;
	case OP_CLOSE: {
		enum slot_kind k = (enum slot_kind)rng_below(r, SLOT_KINDS);
		unsigned int i = (unsigned int)rng_below(r, SLOTS_PER_KIND);

		ring_begin(w, "close slot %d/%u (fd %d)", k, i, slot_fd(k, i));
		slot_replace(k, i, -1);
		ring_end(w, 0);
		stat_count(op, true);
		break;
	}
	case OP_UNKNOWN_IOCTL:
		unknown_ioctl(w);
		break;
	case OP_CHILD_KILL:
		child_killed(w);
		break;
	case OP_SHARED_TOGGLE: {
		const char *val = rng_chance(r, 1, 2) ? "1" : "0";

		/* The switch moves only while nobody holds the group node. */
		if (rng_chance(r, 1, 2))
			for (unsigned int i = 0; i < SLOTS_PER_KIND; i++)
				slot_replace(SLOT_GROUP, i, -1);
		ring_begin(w, "write %s to the group's shared attribute", val);
		ret = in_clean_child(write_shared, val);
		ring_end(w, ret ? -1 : 0);
		stat_count(op, ret == 0);
		break;
	}
	case OP_REVOKE:
		ring_begin(w, "unbind %s and bind it again", cfg.bdf);
		ret = in_clean_child(revoke_and_rebind, NULL);
		ring_end(w, ret ? -1 : 0);
		stat_count(op, ret == 0);
		break;
	default:
		break;
	}
}

/* A working container, group, device and eventfds before the run starts. */
void setup_initial(void)
{
	char path[256];
	int c, g, d, i;

	group_path(path, sizeof(path));
	c = open(VFIO_DKMS_CONTAINER_PATH, O_RDWR | O_CLOEXEC);
	g = open(path, O_RDWR | O_CLOEXEC);
	if (c < 0 || g < 0) {
		printf("# initial open of %s / %s failed: %s\n", VFIO_DKMS_CONTAINER_PATH, path,
		       strerror(errno));
		return;
	}
	if (ioctl(g, VFIO_GROUP_SET_CONTAINER, &c) ||
	    ioctl(c, VFIO_SET_IOMMU, cfg.noiommu ? VFIO_NOIOMMU_IOMMU : VFIO_TYPE1v2_IOMMU))
		printf("# initial container setup failed: %s\n", strerror(errno));
	d = ioctl(g, VFIO_GROUP_GET_DEVICE_FD, cfg.bdf);
	if (d < 0)
		printf("# initial GET_DEVICE_FD failed: %s\n", strerror(errno));
	slot_replace(SLOT_CONTAINER, 0, c);
	slot_replace(SLOT_GROUP, 0, g);
	slot_replace(SLOT_DEVICE, 0, d);
	for (i = 0; i < SLOTS_PER_KIND; i++)
		slot_replace(SLOT_EVENTFD, i, eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
}
