// SPDX-License-Identifier: GPL-2.0
/*
 * vfio-dkms-pci: an eventfd the kernel watches.
 *
 * The user writes the eventfd; its wake-up callback reads the count and
 * calls the owner's handler at once (the INTx unmask needs no sleeping),
 * and the handler's follow-up, which may signal other eventfds, runs from
 * a work item.  See vfio_dkms_pci_virqfd.h for the contract.
 */
#include <linux/eventfd.h>
#include <linux/file.h>
#include <linux/poll.h>
#include <linux/slab.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

#include "vfio_dkms_pci_virqfd.h"

/**
 * struct vfio_dkms_virqfd - a watched eventfd
 * @opaque: the owner's data, passed to @handler and @thread
 * @handler: called on every signal from the wake-up callback
 * @thread: called from @inject when @handler returned true
 * @eventfd: the watched eventfd; a reference is held
 * @wait: entry on the eventfd's wait queue
 * @pt: poll table used to add @wait
 * @inject: runs @thread outside the wake-up callback
 */
struct vfio_dkms_virqfd {
	void *opaque;
	bool (*handler)(void *opaque);
	void (*thread)(void *opaque);
	struct eventfd_ctx *eventfd;
	wait_queue_entry_t wait;
	poll_table pt;
	struct work_struct inject;
};

static void vfio_dkms_virqfd_inject(struct work_struct *work)
{
	struct vfio_dkms_virqfd *virqfd =
		container_of(work, struct vfio_dkms_virqfd, inject);

	virqfd->thread(virqfd->opaque);
}

/* Runs under the eventfd's wait-queue lock, interrupts off. */
static int vfio_dkms_virqfd_wakeup(wait_queue_entry_t *wait, unsigned int mode,
				   int sync, void *key)
{
	struct vfio_dkms_virqfd *virqfd =
		container_of(wait, struct vfio_dkms_virqfd, wait);
	__poll_t flags = key_to_poll(key);

	if (flags & EPOLLIN) {
		u64 cnt;

		eventfd_ctx_do_read(virqfd->eventfd, &cnt);
		if (virqfd->handler(virqfd->opaque))
			schedule_work(&virqfd->inject);
	}
	/*
	 * EPOLLHUP (the eventfd file was closed) needs nothing: the reference
	 * held keeps the wait queue alive until the virqfd is disabled.
	 */
	return 0;
}

static void vfio_dkms_virqfd_queue_proc(struct file *file,
					wait_queue_head_t *wqh, poll_table *pt)
{
	struct vfio_dkms_virqfd *virqfd =
		container_of(pt, struct vfio_dkms_virqfd, pt);

	add_wait_queue(wqh, &virqfd->wait);
}

/**
 * vfio_dkms_virqfd_disable() - stop watching and free the eventfd
 * @pvirqfd: where the virqfd is kept; set to NULL (nothing if already)
 */
void vfio_dkms_virqfd_disable(struct vfio_dkms_virqfd **pvirqfd)
{
	struct vfio_dkms_virqfd *virqfd = *pvirqfd;
	u64 cnt;

	if (!virqfd)
		return;
	/* No wake-up runs once this returns... */
	eventfd_ctx_remove_wait_queue(virqfd->eventfd, &virqfd->wait, &cnt);
	/* ...so nothing can queue the work again. */
	flush_work(&virqfd->inject);
	eventfd_ctx_put(virqfd->eventfd);
	kfree(virqfd);
	*pvirqfd = NULL;
}

/**
 * vfio_dkms_virqfd_flush() - wait for a queued @thread call to finish
 * @virqfd: the virqfd, or NULL
 */
void vfio_dkms_virqfd_flush(struct vfio_dkms_virqfd *virqfd)
{
	if (virqfd)
		flush_work(&virqfd->inject);
}

/**
 * vfio_dkms_virqfd_enable() - watch the eventfd @fd
 * @opaque: passed to @handler and @thread
 * @handler: called when the eventfd is signalled (see the header)
 * @thread: called later when @handler returns true
 * @pvirqfd: where the virqfd is kept; one already there is replaced
 * @fd: the eventfd
 *
 * A signal already pending on @fd is handled at once.
 *
 * Return: 0, -EBADF, -EINVAL when @fd is not an eventfd, or -ENOMEM.
 */
int vfio_dkms_virqfd_enable(void *opaque, bool (*handler)(void *opaque),
			    void (*thread)(void *opaque),
			    struct vfio_dkms_virqfd **pvirqfd, int fd)
{
	struct vfio_dkms_virqfd *virqfd;
	struct file *file;
	__poll_t events;
	int ret;

	virqfd = kzalloc(sizeof(*virqfd), GFP_KERNEL_ACCOUNT);
	if (!virqfd)
		return -ENOMEM;
	virqfd->opaque = opaque;
	virqfd->handler = handler;
	virqfd->thread = thread;
	INIT_WORK(&virqfd->inject, vfio_dkms_virqfd_inject);

	file = fget(fd);
	if (!file) {
		ret = -EBADF;
		goto err_free;
	}
	virqfd->eventfd = eventfd_ctx_fileget(file);
	if (IS_ERR(virqfd->eventfd)) {
		ret = PTR_ERR(virqfd->eventfd);
		goto err_fput;
	}

	/* In-tree replaces an existing unmask eventfd. */
	vfio_dkms_virqfd_disable(pvirqfd);
	*pvirqfd = virqfd;

	init_waitqueue_func_entry(&virqfd->wait, vfio_dkms_virqfd_wakeup);
	init_poll_funcptr(&virqfd->pt, vfio_dkms_virqfd_queue_proc);
	events = vfs_poll(file, &virqfd->pt);
	/* A signal written before we watched it still counts. */
	if ((events & EPOLLIN) && handler(opaque))
		schedule_work(&virqfd->inject);
	fput(file);
	return 0;

err_fput:
	fput(file);
err_free:
	kfree(virqfd);
	return ret;
}
