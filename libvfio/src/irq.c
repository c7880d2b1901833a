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

int vfio_irq_enable(struct vfio_device *dev, enum vfio_irq_type type, unsigned int count)
{
	struct vfio_irq *irqs;
	int *fds, ret;

	if ((unsigned int)type >= VFIO_NUM_IRQ_TYPES)
		return vfio__err(EINVAL, "unknown interrupt kind %d", (int)type);
	if (!count || count > (unsigned int)dev->irq_count[type])
		return vfio__err(EINVAL, "%s: cannot enable %u %s vectors (device has %d)",
				 dev->address, count, type_names[type], dev->irq_count[type]);
	if (dev->irq_enabled >= 0 && dev->irq_enabled != (int)type)
		return vfio__err(EBUSY, "%s: cannot enable %s while %s is enabled", dev->address,
				 type_names[type], type_names[dev->irq_enabled]);
	if (dev->irq_enabled == (int)type) {
		ret = vfio_irq_disable(dev, type);
		if (ret)
			return ret;
	}
	irqs = calloc(count, sizeof(*irqs));
	fds = calloc(count, sizeof(*fds));
	if (!irqs || !fds) {
		free(irqs);
		free(fds);
		return vfio__err(ENOMEM, "out of memory");
	}
	for (unsigned int i = 0; i < count; i++) {
		irqs[i].dev = dev;
		irqs[i].type = type;
		irqs[i].vector = i;
		irqs[i].fd = fds[i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (fds[i] < 0) {
			ret = vfio__err_sys(errno, "eventfd for %s %s vector %u", dev->address,
					    type_names[type], i);
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

int vfio_irq_disable(struct vfio_device *dev, enum vfio_irq_type type)
{
	int ret;

	if ((unsigned int)type >= VFIO_NUM_IRQ_TYPES)
		return vfio__err(EINVAL, "unknown interrupt kind %d", (int)type);
	if (dev->irq_enabled != (int)type)
		return 0;
	ret = set_irqs(dev, VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER, type, 0, 0,
		       NULL, "disable");
	for (unsigned int i = 0; i < dev->nr_irqs; i++)
		close(dev->irqs[i].fd);
	free(dev->irqs);
	dev->irqs = NULL;
	dev->nr_irqs = 0;
	dev->irq_enabled = -1;
	return ret;
}

int vfio_device_get_irq(struct vfio_device *dev, enum vfio_irq_type type, unsigned int vector,
			struct vfio_irq **out)
{
	if (dev->irq_enabled != (int)type || vector >= dev->nr_irqs)
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
