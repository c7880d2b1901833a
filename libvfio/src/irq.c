// SPDX-License-Identifier: LGPL-2.1-or-later
/* Interrupts through eventfds (VFIO_DEVICE_SET_IRQS). */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/vfio.h>

#include "private.h"

static const char *const type_names[VFIO_NUM_IRQ_TYPES] = { "intx", "msi", "msix" };

const char *vfio_irq_type_name(enum vfio_irq_type type)
{
	return (unsigned int)type < VFIO_NUM_IRQ_TYPES ? type_names[type] : NULL;
}

int vfio_irq_type_from_name(const char *name, enum vfio_irq_type *out)
{
	for (unsigned int i = 0; name && i < VFIO_NUM_IRQ_TYPES; i++)
		if (!strcmp(name, type_names[i])) {
			*out = (enum vfio_irq_type)i;
			return 0;
		}
	return vfio__err(EINVAL, "unknown interrupt kind '%s' (intx, msi, msix)",
			 name ? name : "(null)");
}

int vfio_device_irq_count(struct vfio_device *dev, enum vfio_irq_type type)
{
	if ((unsigned int)type >= VFIO_NUM_IRQ_TYPES)
		return vfio__err(EINVAL, "unknown interrupt kind %d", (int)type);
	return dev->irq_count[type];
}

static int set_irqs(struct vfio_device *dev, uint32_t flags, unsigned int index,
		    unsigned int start, unsigned int count, const int *fds, const char *what)
{
	size_t sz = sizeof(struct vfio_irq_set) + (fds ? count * sizeof(int) : 0);
	char stackbuf[sizeof(struct vfio_irq_set) + 64 * sizeof(int)];
	struct vfio_irq_set *s;
	int ret = 0;

	s = sz <= sizeof(stackbuf) ? (struct vfio_irq_set *)(void *)stackbuf : malloc(sz);
	if (!s)
		return vfio__err(ENOMEM, "out of memory");
	memset(s, 0, sizeof(*s));
	s->argsz = sz;
	s->flags = flags;
	s->index = index;
	s->start = start;
	s->count = count;
	if (fds)
		memcpy(s->data, fds, count * sizeof(int));
	if (ioctl(dev->fd, VFIO_DEVICE_SET_IRQS, s))
		ret = vfio__err_sys(errno, "VFIO_DEVICE_SET_IRQS (%s %s) on %s", what,
				    type_names[index], dev->address);
	if ((char *)s != stackbuf)
		free(s);
	return ret;
}

/*
 * dev->irqs has room for every vector the device offers (irq_count), so the
 * handles stay put when vectors are added; irqs[i].fd is -1 for a vector
 * without an eventfd.  dev->nr_irqs is how many vectors the kernel has
 * allocated (start + count of the first enable, or grown since).
 */
static struct vfio_irq *irqs_new(struct vfio_device *dev, enum vfio_irq_type type)
{
	unsigned int n = (unsigned int)dev->irq_count[type];
	struct vfio_irq *irqs = calloc(n, sizeof(*irqs));

	if (!irqs) {
		vfio__err(ENOMEM, "out of memory");
		return NULL;
	}
	for (unsigned int i = 0; i < n; i++) {
		irqs[i].dev = dev;
		irqs[i].type = type;
		irqs[i].vector = i;
		irqs[i].fd = -1;
	}
	return irqs;
}

static int new_eventfd(struct vfio_device *dev, enum vfio_irq_type type, unsigned int vector)
{
	int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);

	if (fd < 0)
		return vfio__err_sys(errno, "eventfd for %s %s vector %u", dev->address,
				     type_names[type], vector);
	return fd;
}

static int check_kind(struct vfio_device *dev, enum vfio_irq_type type)
{
	if ((unsigned int)type >= VFIO_NUM_IRQ_TYPES)
		return vfio__err(EINVAL, "unknown interrupt kind %d", (int)type);
	if (dev->irq_enabled >= 0 && dev->irq_enabled != (int)type)
		return vfio__err(EBUSY, "%s: cannot enable %s while %s is enabled", dev->address,
				 type_names[type], type_names[dev->irq_enabled]);
	return 0;
}

int vfio_irq_enable(struct vfio_device *dev, enum vfio_irq_type type, unsigned int count)
{
	struct vfio_irq *irqs;
	int *fds, ret;

	if ((unsigned int)type >= VFIO_NUM_IRQ_TYPES)
		return vfio__err(EINVAL, "unknown interrupt kind %d", (int)type);
	if (!count || count > (unsigned int)dev->irq_count[type])
		return vfio__err(EINVAL, "%s: cannot enable %u %s vectors (device has %d)",
				 dev->address, count, type_names[type], dev->irq_count[type]);
	ret = check_kind(dev, type);
	if (ret)
		return ret;
	if (dev->irq_enabled == (int)type) {
		ret = vfio_irq_disable(dev, type);
		if (ret)
			return ret;
	}
	irqs = irqs_new(dev, type);
	fds = calloc(count, sizeof(*fds));
	if (!irqs || !fds) {
		free(irqs);
		free(fds);
		return vfio__err(ENOMEM, "out of memory");
	}
	for (unsigned int i = 0; i < count; i++) {
		irqs[i].fd = fds[i] = new_eventfd(dev, type, i);
		if (fds[i] < 0) {
			ret = fds[i];
			for (unsigned int j = 0; j < i; j++)
				close(fds[j]);
			goto out;
		}
	}
	ret = set_irqs(dev, VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER, type, 0,
		       count, fds, "enable");
	if (ret) {
		for (unsigned int i = 0; i < count; i++)
			close(fds[i]);
		goto out;
	}
	dev->irqs = irqs;
	dev->nr_irqs = count;
	dev->irq_enabled = type;
	irqs = NULL;
out:
	free(irqs);
	free(fds);
	return ret;
}

/*
 * Re-enable the kind with @n vectors and the eventfds already in dev->irqs
 * (-1 where a vector has none): how a kernel without dynamic MSI-X grows
 * the set.  The kind is disabled in between.
 */
static int reenable_with(struct vfio_device *dev, enum vfio_irq_type type, unsigned int n)
{
	int *fds = calloc(n, sizeof(*fds));
	int ret;

	if (!fds)
		return vfio__err(ENOMEM, "out of memory");
	for (unsigned int i = 0; i < n; i++)
		fds[i] = dev->irqs[i].fd;
	ret = set_irqs(dev, VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER, type, 0, 0,
		       NULL, "disable");
	if (!ret)
		ret = set_irqs(dev, VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER, type,
			       0, n, fds, "re-enable");
	free(fds);
	return ret;
}

static void drop_all(struct vfio_device *dev)
{
	for (unsigned int i = 0; i < (unsigned int)dev->irq_count[dev->irq_enabled]; i++)
		if (dev->irqs[i].fd >= 0)
			close(dev->irqs[i].fd);
	free(dev->irqs);
	dev->irqs = NULL;
	dev->nr_irqs = 0;
	dev->irq_enabled = -1;
}

int vfio_irq_enable_vector(struct vfio_device *dev, enum vfio_irq_type type,
			   unsigned int vector)
{
	unsigned int old_n;
	int fd, ret;

	ret = check_kind(dev, type);
	if (ret)
		return ret;
	if (vector >= (unsigned int)dev->irq_count[type])
		return vfio__err(EINVAL, "%s: no %s vector %u (device has %d)", dev->address,
				 type_names[type], vector, dev->irq_count[type]);
	if (dev->irq_enabled == (int)type && dev->irqs[vector].fd >= 0)
		return 0;
	if (dev->irq_enabled < 0) {
		struct vfio_irq *irqs = irqs_new(dev, type);

		if (!irqs)
			return -ENOMEM;
		fd = new_eventfd(dev, type, vector);
		if (fd < 0) {
			free(irqs);
			return fd;
		}
		/* The kernel allocates vectors 0..vector; only this one gets an eventfd. */
		ret = set_irqs(dev, VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER, type,
			       vector, 1, &fd, "enable vector");
		if (ret) {
			close(fd);
			free(irqs);
			return ret;
		}
		irqs[vector].fd = fd;
		dev->irqs = irqs;
		dev->nr_irqs = vector + 1;
		dev->irq_enabled = type;
		return 0;
	}
	fd = new_eventfd(dev, type, vector);
	if (fd < 0)
		return fd;
	/* In place; beyond the allocated vectors too where the kernel grows MSI-X. */
	ret = set_irqs(dev, VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER, type,
		       vector, 1, &fd, "enable vector");
	if (!ret) {
		dev->irqs[vector].fd = fd;
		if (vector >= dev->nr_irqs)
			dev->nr_irqs = vector + 1;
		return 0;
	}
	if (ret != -EINVAL || vector < dev->nr_irqs) {
		close(fd);
		return ret;
	}
	old_n = dev->nr_irqs;
	dev->irqs[vector].fd = fd;
	ret = reenable_with(dev, type, vector + 1);
	if (!ret) {
		dev->nr_irqs = vector + 1;
		vfio_clear_error();
		return 0;
	}
	dev->irqs[vector].fd = -1;
	close(fd);
	if (reenable_with(dev, type, old_n))
		drop_all(dev); /* the kernel has none of them any more */
	return ret;
}

int vfio_irq_disable_vector(struct vfio_device *dev, enum vfio_irq_type type,
			    unsigned int vector)
{
	int none = -1, ret;

	if ((unsigned int)type >= VFIO_NUM_IRQ_TYPES)
		return vfio__err(EINVAL, "unknown interrupt kind %d", (int)type);
	if (dev->irq_enabled != (int)type || vector >= dev->nr_irqs || dev->irqs[vector].fd < 0)
		return 0;
	ret = set_irqs(dev, VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER, type,
		       vector, 1, &none, "disable vector");
	if (ret)
		return ret;
	close(dev->irqs[vector].fd);
	dev->irqs[vector].fd = -1;
	return 0;
}

int vfio_irq_disable(struct vfio_device *dev, enum vfio_irq_type type)
{
	int ret;

	if ((unsigned int)type >= VFIO_NUM_IRQ_TYPES)
		return vfio__err(EINVAL, "unknown interrupt kind %d", (int)type);
	if (dev->irq_enabled != (int)type)
		return 0;
	ret = set_irqs(dev, VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER, type, 0, 0,
		       NULL, "disable");
	drop_all(dev);
	return ret;
}

int vfio_device_get_irq(struct vfio_device *dev, enum vfio_irq_type type, unsigned int vector,
			struct vfio_irq **out)
{
	if (dev->irq_enabled != (int)type || vector >= dev->nr_irqs || dev->irqs[vector].fd < 0)
		return vfio__err(EINVAL, "%s: %s vector %u is not enabled", dev->address,
				 vfio_irq_type_name(type) ? vfio_irq_type_name(type) : "?",
				 vector);
	*out = &dev->irqs[vector];
	return 0;
}

int vfio_irq_fd(const struct vfio_irq *irq)
{
	return irq->fd;
}

enum vfio_irq_type vfio_irq_get_type(const struct vfio_irq *irq)
{
	return irq->type;
}

unsigned int vfio_irq_vector(const struct vfio_irq *irq)
{
	return irq->vector;
}

int vfio_irq_wait(struct vfio_irq *irq, int timeout_ms)
{
	struct pollfd pfd = { .fd = irq->fd, .events = POLLIN };
	uint64_t cnt;

	for (;;) {
		int n = poll(&pfd, 1, timeout_ms);

		if (n < 0)
			return vfio__err_sys(errno, "poll on %s %s vector %u", irq->dev->address,
					     type_names[irq->type], irq->vector);
		if (n == 0)
			return 0;
		if (read(irq->fd, &cnt, sizeof(cnt)) == (ssize_t)sizeof(cnt))
			return cnt > INT_MAX ? INT_MAX : (int)cnt;
		if (errno != EAGAIN)
			return vfio__err_sys(errno, "read eventfd of %s %s vector %u",
					     irq->dev->address, type_names[irq->type], irq->vector);
		/* another thread consumed it; wait again (timeout restarts) */
	}
}

int vfio_irq_mask(struct vfio_irq *irq)
{
	return set_irqs(irq->dev, VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_MASK, irq->type,
			irq->vector, 1, NULL, "mask");
}

int vfio_irq_unmask(struct vfio_irq *irq)
{
	return set_irqs(irq->dev, VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_UNMASK, irq->type,
			irq->vector, 1, NULL, "unmask");
}

int vfio_irq_trigger(struct vfio_irq *irq)
{
	return set_irqs(irq->dev, VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER,
			irq->type, irq->vector, 1, NULL, "trigger");
}
