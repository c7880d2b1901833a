// SPDX-License-Identifier: GPL-2.0
/*
 * Group operations: status, attaching to and detaching from a container,
 * and GET_DEVICE_FD with the right name, near-miss names and strings that
 * are not terminated within a page.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

#include "fuzz.h"
#include "linux/vfio_dkms.h"

static const char *pick_name(struct worker *w)
{
	struct rng *r = &w->rng;
	char *buf = (char *)w->arena;
	size_t len = strlen(cfg.bdf);

	if (!rng_chance(r, 1, 6))
		return cfg.bdf;
	switch (rng_below(r, 5)) {
	case 0:
		return "";
	case 1:		/* one character short */
		snprintf(buf, 64, "%.*s", (int)len - 1, cfg.bdf);
		return buf;
	case 2:		/* a neighbour function */
		snprintf(buf, 64, "%.*s%c", (int)len - 1, cfg.bdf, '7');
		return buf;
	case 3:		/* no terminator in a page and beyond */
		memset(buf, 'A', 8192);
		buf[8192] = 0;
		return buf;
	default:
		return (const char *)16;	/* faults */
	}
}

void op_group(struct worker *w, enum op_id op)
{
	struct rng *r = &w->rng;
	unsigned int gslot = (unsigned int)rng_below(r, SLOTS_PER_KIND);
	int fd = rng_chance(r, 1, 12) ? pick_fd(r, SLOT_GROUP) : slot_fd(SLOT_GROUP, gslot);
	struct vfio_group_status *st = (void *)w->arena;
	int32_t *cfd = (int32_t *)w->arena;
	char what[48];
	long ret;

	switch (op) {
	case OP_GROUP_STATUS:
		st->argsz = pick_argsz(r, sizeof(*st), sizeof(*st));
		st->flags = pick_flags(r, 0);
		fz_ioctl(w, op, fd, VFIO_GROUP_GET_STATUS, st, NULL);
		break;
	case OP_GROUP_SET:
		*cfd = pick_fd(r, SLOT_CONTAINER);
		snprintf(what, sizeof(what), "container fd %d", *cfd);
		fz_ioctl(w, op, fd, VFIO_GROUP_SET_CONTAINER,
			 rng_chance(r, 1, 40) ? NULL : cfd, what);
		break;
	case OP_GROUP_UNSET:
		fz_ioctl(w, op, fd, VFIO_GROUP_UNSET_CONTAINER, NULL, NULL);
		break;
	case OP_GROUP_DEVICE_FD: {
		const char *name = pick_name(w);

		snprintf(what, sizeof(what), "name %.20s", name == (const char *)16 ? "(bad pointer)" :
			 name);
		ret = fz_ioctl(w, op, fd, VFIO_GROUP_GET_DEVICE_FD, (void *)name, what);
		if (ret >= 0)
			slot_replace(SLOT_DEVICE, (unsigned int)rng_below(r, SLOTS_PER_KIND),
				     (int)ret);
		break;
	}
	default:
		break;
	}
}
