// SPDX-License-Identifier: GPL-2.0
/*
 * vfio-dkms-pci: interrupts (VFIO_DEVICE_SET_IRQS) and the REQ relay.
 *
 * The semantics and errnos are those of in-tree vfio-pci:
 *  - INTx: ACTION_TRIGGER with an eventfd requests the line (shared when
 *    the device supports INTx masking through the command register); the
 *    handler masks the interrupt and signals the eventfd (AUTOMASKED).  The
 *    user unmasks with ACTION_UNMASK (DATA_NONE, DATA_BOOL, or an eventfd the
 *    kernel watches).  ACTION_MASK masks (DATA_NONE, DATA_BOOL; an eventfd is
 *    -ENOTTY as in-tree).  Trigger fd -1 detaches the eventfd but keeps INTx
 *    enabled; count 0 with DATA_NONE disables.
 *  - MSI/MSI-X: the first ACTION_TRIGGER with eventfds allocates start+count
 *    vectors; later ones set or detach (fd -1) vectors in place.  DATA_NONE
 *    and DATA_BOOL signal the eventfds (loopback); count 0 with DATA_NONE
 *    disables.  MSI-X vectors beyond those allocated are added on kernels
 *    with dynamic MSI-X allocation, as in-tree does.  No MASK/UNMASK
 *    (-ENOTTY, as in-tree).
 *  - ERR and REQ: one eventfd each; REQ is signalled when the device is to
 *    be removed (vfio_dkms_pci_request()).  ERR is registered but never
 *    signalled: there are no PCI error handlers yet.
 * Everything is torn down when the last device fd is closed.
 *
 * Locking: see vfio_dkms_pci_intrs.h.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/interrupt.h>
#include <linux/irq.h>
#include <linux/msi.h>
#include <linux/pci.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "../compat.h"
#include "vfio_dkms_pci_priv.h"
#include "vfio_dkms_pci_virqfd.h"

/**
 * struct vfio_dkms_pci_irq_ctx - one interrupt vector
 * @vdev: the device
 * @trigger: eventfd signalled on the interrupt, or NULL
 * @unmask: INTx unmask eventfd, or NULL
 * @name: name given to request_irq() (/proc/interrupts)
 * @masked: INTx is masked (under irqlock)
 * @irq: Linux interrupt number while requested, else 0
 */
struct vfio_dkms_pci_irq_ctx {
	struct vfio_dkms_pci_device *vdev;
	struct eventfd_ctx *trigger;
	struct vfio_dkms_virqfd *unmask;
	char *name;
	bool masked;
	int irq;
};

static bool irq_is(struct vfio_dkms_pci_device *vdev, int type)
{
	return vdev->irqs.irq_type == type;
}

static bool is_intx(struct vfio_dkms_pci_device *vdev)
{
	return irq_is(vdev, VFIO_PCI_INTX_IRQ_INDEX);
}

static bool is_irq_none(struct vfio_dkms_pci_device *vdev)
{
	return irq_is(vdev, VFIO_PCI_NUM_IRQS);
}

/* Memory decode must be on while MSI-X table entries are written. */
static u16 vfio_dkms_pci_memory_lock_and_enable(struct vfio_dkms_pci_device *vdev)
{
	u16 cmd;

	down_write(&vdev->memory_lock);
	pci_read_config_word(vdev->pdev, PCI_COMMAND, &cmd);
	if (!(cmd & PCI_COMMAND_MEMORY))
		pci_write_config_word(vdev->pdev, PCI_COMMAND,
				      cmd | PCI_COMMAND_MEMORY);
	return cmd;
}

static void vfio_dkms_pci_memory_unlock_and_restore(struct vfio_dkms_pci_device *vdev,
						    u16 cmd)
{
	pci_write_config_word(vdev->pdev, PCI_COMMAND, cmd);
	up_write(&vdev->memory_lock);
}

/* --- INTx ---------------------------------------------------------------- */

static void vfio_dkms_intx_signal(struct vfio_dkms_pci_irq_ctx *ctx)
{
	struct eventfd_ctx *trigger = READ_ONCE(ctx->trigger);

	/* Nothing reaches the user while INTx-disable is set (as in-tree). */
	if (trigger && !READ_ONCE(ctx->vdev->irqs.virq_disabled))
		vfio_dkms_eventfd_signal(trigger);
}

/* Mask INTx; igate held. */
static void vfio_dkms_intx_mask(struct vfio_dkms_pci_device *vdev)
{
	struct vfio_dkms_pci_irq_ctx *ctx = vdev->irqs.ctx;
	unsigned long flags;

	lockdep_assert_held(&vdev->irqs.igate);

	spin_lock_irqsave(&vdev->irqs.irqlock, flags);
	if (!ctx->masked) {
		/* Always mask, not only when an interrupt is pending. */
		if (vdev->irqs.pci_2_3)
			pci_intx(vdev->pdev, 0);
		else
			disable_irq_nosync(vdev->pdev->irq);
		ctx->masked = true;
	}
	spin_unlock_irqrestore(&vdev->irqs.irqlock, flags);
}

/*
 * Unmask INTx.  Returns true when the line is still asserted: it stays
 * masked and the caller must signal the trigger (outside irqlock) instead of
 * taking the interrupt again.  Called from ioctls and from the unmask
 * eventfd's wake-up callback.
 */
static bool vfio_dkms_intx_unmask_handler(struct vfio_dkms_pci_device *vdev)
{
	struct vfio_dkms_pci_irq_ctx *ctx = vdev->irqs.ctx;
	unsigned long flags;
	bool pending = false;

	spin_lock_irqsave(&vdev->irqs.irqlock, flags);
	if (ctx->masked && !vdev->irqs.virq_disabled) {
		if (vdev->irqs.pci_2_3)
			pending = !pci_check_and_unmask_intx(vdev->pdev);
		else
			enable_irq(vdev->pdev->irq);
		ctx->masked = pending;
	}
	spin_unlock_irqrestore(&vdev->irqs.irqlock, flags);

	return pending;
}

static void vfio_dkms_intx_unmask(struct vfio_dkms_pci_device *vdev)
{
	lockdep_assert_held(&vdev->irqs.igate);

	if (vfio_dkms_intx_unmask_handler(vdev))
		vfio_dkms_intx_signal(vdev->irqs.ctx);
}

static irqreturn_t vfio_dkms_intx_handler(int irq, void *dev_id)
{
	struct vfio_dkms_pci_irq_ctx *ctx = dev_id;
	struct vfio_dkms_pci_device *vdev = ctx->vdev;
	irqreturn_t ret = IRQ_NONE;
	unsigned long flags;

	spin_lock_irqsave(&vdev->irqs.irqlock, flags);
	if (!vdev->irqs.pci_2_3) {
		disable_irq_nosync(irq);
		ctx->masked = true;
		ret = IRQ_HANDLED;
	} else if (!ctx->masked && /* the line may be shared */
		   pci_check_and_mask_intx(vdev->pdev)) {
		ctx->masked = true;
		ret = IRQ_HANDLED;
	}
	spin_unlock_irqrestore(&vdev->irqs.irqlock, flags);

	if (ret == IRQ_HANDLED)
		vfio_dkms_intx_signal(ctx);
	return ret;
}

/* --- unmask eventfd ------------------------------------------------------ */

/* The unmask eventfd was signalled: vfio_dkms_virqfd's handler. */
static bool vfio_dkms_intx_virqfd_unmask(void *opaque)
{
	return vfio_dkms_intx_unmask_handler(opaque);
}

/* The line was still asserted at the unmask: vfio_dkms_virqfd's thread. */
static void vfio_dkms_intx_virqfd_inject(void *opaque)
{
	struct vfio_dkms_pci_device *vdev = opaque;

	vfio_dkms_intx_signal(vdev->irqs.ctx);
}

/* --- INTx enable / disable ---------------------------------------------- */

static int vfio_dkms_intx_enable(struct vfio_dkms_pci_device *vdev,
				 struct eventfd_ctx *trigger)
{
	struct pci_dev *pdev = vdev->pdev;
	struct vfio_dkms_pci_irq_ctx *ctx;
	unsigned long irqflags;
	int ret;

	if (!is_irq_none(vdev))
		return -EINVAL;
	if (!pdev->irq || pdev->irq == IRQ_NOTCONNECTED)
		return -ENODEV;

	ctx = kzalloc(sizeof(*ctx), GFP_KERNEL_ACCOUNT);
	if (!ctx)
		return -ENOMEM;
	ctx->name = kasprintf(GFP_KERNEL_ACCOUNT, "vfio-dkms-intx(%s)",
			      pci_name(pdev));
	if (!ctx->name) {
		kfree(ctx);
		return -ENOMEM;
	}
	ctx->vdev = vdev;
	ctx->trigger = trigger;
	/* The user's INTx-disable (config space) holds from the start. */
	ctx->masked = vdev->irqs.virq_disabled;

	vdev->irqs.ctx = ctx;
	vdev->irqs.num_ctx = 1;
	/* The handler reads irq_type: set it before the line is requested. */
	vdev->irqs.irq_type = VFIO_PCI_INTX_IRQ_INDEX;

	if (vdev->irqs.pci_2_3) {
		pci_intx(pdev, !ctx->masked);
		irqflags = IRQF_SHARED;
	} else {
		/* Mask at the chip right away, not lazily. */
		irq_set_status_flags(pdev->irq, IRQ_DISABLE_UNLAZY);
		/* Masked: the line starts disabled, the unmask enables it. */
		irqflags = ctx->masked ? IRQF_NO_AUTOEN : 0;
	}

	ret = request_irq(pdev->irq, vfio_dkms_intx_handler, irqflags,
			  ctx->name, ctx);
	if (ret) {
		if (!vdev->irqs.pci_2_3)
			irq_clear_status_flags(pdev->irq, IRQ_DISABLE_UNLAZY);
		vdev->irqs.irq_type = VFIO_PCI_NUM_IRQS;
		vdev->irqs.ctx = NULL;
		vdev->irqs.num_ctx = 0;
		kfree(ctx->name);
		kfree(ctx);
		return ret;
	}
	ctx->irq = pdev->irq;
	return 0;
}

/* Replace the INTx trigger (NULL detaches it, INTx stays enabled). */
static void vfio_dkms_intx_set_signal(struct vfio_dkms_pci_device *vdev,
				      struct eventfd_ctx *trigger)
{
	struct vfio_dkms_pci_irq_ctx *ctx = vdev->irqs.ctx;
	struct eventfd_ctx *old = ctx->trigger;

	WRITE_ONCE(ctx->trigger, trigger);
	if (old) {
		/* Wait for users of the old trigger: the handler, the work. */
		synchronize_irq(vdev->pdev->irq);
		vfio_dkms_virqfd_flush(ctx->unmask);
		eventfd_ctx_put(old);
	}
}

static void vfio_dkms_intx_disable(struct vfio_dkms_pci_device *vdev)
{
	struct vfio_dkms_pci_irq_ctx *ctx = vdev->irqs.ctx;
	struct pci_dev *pdev = vdev->pdev;

	vfio_dkms_virqfd_disable(&vdev->irqs.ctx->unmask);
	free_irq(pdev->irq, ctx);
	/*
	 * A masked line stays masked at the device (as in-tree): unmasking
	 * an asserted, possibly shared line without a handler would storm.
	 */
	if (!vdev->irqs.pci_2_3)
		irq_clear_status_flags(pdev->irq, IRQ_DISABLE_UNLAZY);
	if (ctx->trigger)
		eventfd_ctx_put(ctx->trigger);
	kfree(ctx->name);
	kfree(ctx);
	vdev->irqs.ctx = NULL;
	vdev->irqs.num_ctx = 0;
	vdev->irqs.irq_type = VFIO_PCI_NUM_IRQS;
}

/* --- MSI / MSI-X --------------------------------------------------------- */

static irqreturn_t vfio_dkms_msi_handler(int irq, void *arg)
{
	struct eventfd_ctx *trigger = arg;

	vfio_dkms_eventfd_signal(trigger);
	return IRQ_HANDLED;
}

static int vfio_dkms_msi_enable(struct vfio_dkms_pci_device *vdev, int nvec,
				int max, bool msix)
{
	struct pci_dev *pdev = vdev->pdev;
	unsigned int flag = msix ? PCI_IRQ_MSIX : PCI_IRQ_MSI;
	struct vfio_dkms_pci_irq_ctx *ctx;
	int ret;
	u16 cmd;

	if (!is_irq_none(vdev))
		return -EINVAL;

	ctx = kcalloc(max, sizeof(*ctx), GFP_KERNEL_ACCOUNT);
	if (!ctx)
		return -ENOMEM;

	cmd = vfio_dkms_pci_memory_lock_and_enable(vdev);
	ret = pci_alloc_irq_vectors(pdev, 1, nvec, flag);
	if (ret < nvec) {
		/* As in-tree: the number of vectors available, if any. */
		if (ret > 0)
			pci_free_irq_vectors(pdev);
		vfio_dkms_pci_memory_unlock_and_restore(vdev, cmd);
		kfree(ctx);
		return ret;
	}
	vfio_dkms_pci_memory_unlock_and_restore(vdev, cmd);

	vdev->irqs.ctx = ctx;
	vdev->irqs.num_ctx = max;
	vdev->irqs.nvec = nvec;
	vdev->irqs.irq_type = msix ? VFIO_PCI_MSIX_IRQ_INDEX :
				     VFIO_PCI_MSI_IRQ_INDEX;
	/* log2 of the vectors, for the virtual MSI capability. */
	if (!msix)
		vdev->irqs.msi_qmax = fls(nvec * 2 - 1) - 1;
	return 0;
}

/*
 * The Linux interrupt of @vector, allocating it on the fly when MSI-X can
 * grow.  Allocated interrupts stay until MSI/MSI-X is disabled.
 */
static int vfio_dkms_msi_alloc_irq(struct vfio_dkms_pci_device *vdev,
				   unsigned int vector, bool msix)
{
	int irq;

	irq = pci_irq_vector(vdev->pdev, vector);
	if (irq > 0 || !msix || !vdev->irqs.has_dyn_msix)
		return irq ? irq : -EINVAL;
#ifdef VFIO_DKMS_HAVE_DYN_MSIX
	{
		struct msi_map map;
		u16 cmd;

		cmd = vfio_dkms_pci_memory_lock_and_enable(vdev);
		map = pci_msix_alloc_irq_at(vdev->pdev, vector, NULL);
		vfio_dkms_pci_memory_unlock_and_restore(vdev, cmd);
		if (map.index < 0)
			return map.index;
		if (vector >= vdev->irqs.nvec)
			vdev->irqs.nvec = vector + 1;
		return map.virq;
	}
#else
	return -EINVAL;
#endif
}

static int vfio_dkms_msi_set_vector_signal(struct vfio_dkms_pci_device *vdev,
					   unsigned int vector, int fd,
					   bool msix)
{
	struct vfio_dkms_pci_irq_ctx *ctx = &vdev->irqs.ctx[vector];
	struct pci_dev *pdev = vdev->pdev;
	struct eventfd_ctx *trigger;
	int irq, ret;
	u16 cmd;

	if (ctx->trigger) {
		cmd = vfio_dkms_pci_memory_lock_and_enable(vdev);
		free_irq(ctx->irq, ctx->trigger);
		vfio_dkms_pci_memory_unlock_and_restore(vdev, cmd);
		kfree(ctx->name);
		eventfd_ctx_put(ctx->trigger);
		ctx->name = NULL;
		ctx->trigger = NULL;
		ctx->irq = 0;
	}

	if (fd < 0)
		return 0;

	irq = vfio_dkms_msi_alloc_irq(vdev, vector, msix);
	if (irq < 0)
		return irq;

	ctx->name = kasprintf(GFP_KERNEL_ACCOUNT, "vfio-dkms-msi%s[%u](%s)",
			      msix ? "x" : "", vector, pci_name(pdev));
	if (!ctx->name)
		return -ENOMEM;

	trigger = eventfd_ctx_fdget(fd);
	if (IS_ERR(trigger)) {
		ret = PTR_ERR(trigger);
		goto err_free_name;
	}

	cmd = vfio_dkms_pci_memory_lock_and_enable(vdev);
	if (msix) {
		struct msi_msg msg;

		/* The table may have been cleared by a reset behind our back. */
		get_cached_msi_msg(irq, &msg);
		pci_write_msi_msg(irq, &msg);
	}
	ret = request_irq(irq, vfio_dkms_msi_handler, 0, ctx->name, trigger);
	vfio_dkms_pci_memory_unlock_and_restore(vdev, cmd);
	if (ret)
		goto err_put;

	ctx->trigger = trigger;
	ctx->irq = irq;
	return 0;

err_put:
	eventfd_ctx_put(trigger);
err_free_name:
	kfree(ctx->name);
	ctx->name = NULL;
	return ret;
}

/*
 * @start..@start+@count lies in @ctx.  SET_IRQS validates against the
 * vector count the device reports now, which a device may change after
 * MSI/MSI-X was enabled: @ctx has the entries allocated then.
 */
static bool vfio_dkms_msi_block_allocated(struct vfio_dkms_pci_device *vdev,
					  unsigned int start,
					  unsigned int count)
{
	return start < vdev->irqs.num_ctx &&
	       count <= vdev->irqs.num_ctx - start;
}

static int vfio_dkms_msi_set_block(struct vfio_dkms_pci_device *vdev,
				   unsigned int start, unsigned int count,
				   s32 *fds, bool msix)
{
	unsigned int i, j;
	int ret = 0;

	if (!vfio_dkms_msi_block_allocated(vdev, start, count))
		return -EINVAL;
#ifndef VFIO_DKMS_HAVE_DYN_MSIX
	/* Before dynamic MSI-X, in-tree checks against the vectors enabled. */
	if (start >= vdev->irqs.nvec || start + count > vdev->irqs.nvec)
		return -EINVAL;
#endif
	for (i = 0, j = start; i < count && !ret; i++, j++)
		ret = vfio_dkms_msi_set_vector_signal(vdev, j,
						      fds ? fds[i] : -1, msix);
	if (ret) {
		/* Undo the whole block, as in-tree does. */
		for (i = start; i < j; i++)
			vfio_dkms_msi_set_vector_signal(vdev, i, -1, msix);
	}
	return ret;
}

static void vfio_dkms_msi_disable(struct vfio_dkms_pci_device *vdev, bool msix)
{
	struct pci_dev *pdev = vdev->pdev;
	unsigned int i;
	u16 cmd;

	for (i = 0; i < vdev->irqs.num_ctx; i++)
		vfio_dkms_msi_set_vector_signal(vdev, i, -1, msix);

	cmd = vfio_dkms_pci_memory_lock_and_enable(vdev);
	pci_free_irq_vectors(pdev);
	vfio_dkms_pci_memory_unlock_and_restore(vdev, cmd);

	kfree(vdev->irqs.ctx);
	vdev->irqs.ctx = NULL;
	vdev->irqs.num_ctx = 0;
	vdev->irqs.nvec = 0;
	vdev->irqs.irq_type = VFIO_PCI_NUM_IRQS;
}

/* --- SET_IRQS actions ---------------------------------------------------- */

static int vfio_dkms_set_intx_unmask(struct vfio_dkms_pci_device *vdev,
				     unsigned int start, unsigned int count,
				     u32 flags, void *data)
{
	if (!is_intx(vdev) || start != 0 || count != 1)
		return -EINVAL;

	if (flags & VFIO_IRQ_SET_DATA_NONE) {
		vfio_dkms_intx_unmask(vdev);
	} else if (flags & VFIO_IRQ_SET_DATA_BOOL) {
		if (*(u8 *)data)
			vfio_dkms_intx_unmask(vdev);
	} else if (flags & VFIO_IRQ_SET_DATA_EVENTFD) {
		s32 fd = *(s32 *)data;

		if (fd >= 0)
			return vfio_dkms_virqfd_enable(vdev,
						       vfio_dkms_intx_virqfd_unmask,
						       vfio_dkms_intx_virqfd_inject,
						       &vdev->irqs.ctx->unmask,
						       fd);
		vfio_dkms_virqfd_disable(&vdev->irqs.ctx->unmask);
	}
	return 0;
}

static int vfio_dkms_set_intx_mask(struct vfio_dkms_pci_device *vdev,
				   unsigned int start, unsigned int count,
				   u32 flags, void *data)
{
	if (!is_intx(vdev) || start != 0 || count != 1)
		return -EINVAL;

	if (flags & VFIO_IRQ_SET_DATA_NONE) {
		vfio_dkms_intx_mask(vdev);
	} else if (flags & VFIO_IRQ_SET_DATA_BOOL) {
		if (*(u8 *)data)
			vfio_dkms_intx_mask(vdev);
	} else if (flags & VFIO_IRQ_SET_DATA_EVENTFD) {
		return -ENOTTY;	/* as in-tree: no mask eventfd */
	}
	return 0;
}

static int vfio_dkms_set_intx_trigger(struct vfio_dkms_pci_device *vdev,
				      unsigned int start, unsigned int count,
				      u32 flags, void *data)
{
	if (is_intx(vdev) && !count && (flags & VFIO_IRQ_SET_DATA_NONE)) {
		vfio_dkms_intx_disable(vdev);
		return 0;
	}

	if (!(is_intx(vdev) || is_irq_none(vdev)) || start != 0 || count != 1)
		return -EINVAL;

	if (flags & VFIO_IRQ_SET_DATA_EVENTFD) {
		struct eventfd_ctx *trigger = NULL;
		s32 fd = *(s32 *)data;
		int ret = 0;

		if (fd >= 0) {
			trigger = eventfd_ctx_fdget(fd);
			if (IS_ERR(trigger))
				return PTR_ERR(trigger);
		}
		if (is_intx(vdev))
			vfio_dkms_intx_set_signal(vdev, trigger);
		else
			ret = vfio_dkms_intx_enable(vdev, trigger);
		if (ret && trigger)
			eventfd_ctx_put(trigger);
		return ret;
	}

	if (!is_intx(vdev))
		return -EINVAL;

	/* Loopback: signal the trigger as if the interrupt fired. */
	if ((flags & VFIO_IRQ_SET_DATA_NONE) ||
	    ((flags & VFIO_IRQ_SET_DATA_BOOL) && *(u8 *)data))
		vfio_dkms_intx_signal(vdev->irqs.ctx);
	return 0;
}

static int vfio_dkms_set_msi_trigger(struct vfio_dkms_pci_device *vdev,
				     unsigned int index, unsigned int start,
				     unsigned int count, u32 flags, void *data,
				     int max)
{
	bool msix = index == VFIO_PCI_MSIX_IRQ_INDEX;
	unsigned int i;

	if (irq_is(vdev, index) && !count && (flags & VFIO_IRQ_SET_DATA_NONE)) {
		vfio_dkms_msi_disable(vdev, msix);
		return 0;
	}

	if (!(irq_is(vdev, index) || is_irq_none(vdev)))
		return -EINVAL;

	if (flags & VFIO_IRQ_SET_DATA_EVENTFD) {
		s32 *fds = data;
		int ret;

		if (irq_is(vdev, index))
			return vfio_dkms_msi_set_block(vdev, start, count, fds,
						       msix);

		ret = vfio_dkms_msi_enable(vdev, start + count, max, msix);
		if (ret)
			return ret;
		ret = vfio_dkms_msi_set_block(vdev, start, count, fds, msix);
		if (ret)
			vfio_dkms_msi_disable(vdev, msix);
		return ret;
	}

	if (!irq_is(vdev, index))
		return -EINVAL;
	if (!vfio_dkms_msi_block_allocated(vdev, start, count))
		return -EINVAL;
#ifndef VFIO_DKMS_HAVE_DYN_MSIX
	if (start + count > vdev->irqs.nvec)
		return -EINVAL;
#endif

	/* Loopback on the vectors that have an eventfd. */
	for (i = start; i < start + count; i++) {
		struct eventfd_ctx *trigger = vdev->irqs.ctx[i].trigger;

		if (!trigger)
			continue;
		if ((flags & VFIO_IRQ_SET_DATA_NONE) ||
		    ((flags & VFIO_IRQ_SET_DATA_BOOL) &&
		     ((u8 *)data)[i - start]))
			vfio_dkms_eventfd_signal(trigger);
	}
	return 0;
}

/* ERR and REQ: one eventfd each, replaced, removed or signalled (loopback). */
static int vfio_dkms_set_ctx_trigger_single(struct eventfd_ctx **pctx,
					    unsigned int start,
					    unsigned int count, u32 flags,
					    void *data)
{
	if (start != 0 || count > 1)
		return -EINVAL;

	if (flags & VFIO_IRQ_SET_DATA_NONE) {
		if (!*pctx)
			return -EINVAL;
		if (count) {
			vfio_dkms_eventfd_signal(*pctx);
		} else {
			eventfd_ctx_put(*pctx);
			*pctx = NULL;
		}
		return 0;
	} else if (flags & VFIO_IRQ_SET_DATA_BOOL) {
		if (!count)
			return -EINVAL;
		if (*(u8 *)data && *pctx)
			vfio_dkms_eventfd_signal(*pctx);
		return 0;
	} else if (flags & VFIO_IRQ_SET_DATA_EVENTFD) {
		s32 fd;

		if (!count)
			return -EINVAL;
		fd = *(s32 *)data;
		if (fd == -1) {
			if (*pctx)
				eventfd_ctx_put(*pctx);
			*pctx = NULL;
			return 0;
		} else if (fd >= 0) {
			struct eventfd_ctx *efdctx = eventfd_ctx_fdget(fd);

			if (IS_ERR(efdctx))
				return PTR_ERR(efdctx);
			if (*pctx)
				eventfd_ctx_put(*pctx);
			*pctx = efdctx;
			return 0;
		}
#ifndef VFIO_DKMS_CTX_TRIGGER_STRICT_FD
		return 0;	/* fd < -1 ignored, as in-tree before 6.12 */
#endif
	}
	return -EINVAL;
}

/* Dispatch one validated request; igate held. */
static int vfio_dkms_pci_set_irqs(struct vfio_dkms_pci_device *vdev,
				  u32 flags, unsigned int index,
				  unsigned int start, unsigned int count,
				  void *data, int max)
{
	u32 action = flags & VFIO_IRQ_SET_ACTION_TYPE_MASK;

	switch (index) {
	case VFIO_PCI_INTX_IRQ_INDEX:
		switch (action) {
		case VFIO_IRQ_SET_ACTION_MASK:
			return vfio_dkms_set_intx_mask(vdev, start, count,
						       flags, data);
		case VFIO_IRQ_SET_ACTION_UNMASK:
			return vfio_dkms_set_intx_unmask(vdev, start, count,
							 flags, data);
		case VFIO_IRQ_SET_ACTION_TRIGGER:
			return vfio_dkms_set_intx_trigger(vdev, start, count,
							  flags, data);
		}
		break;
	case VFIO_PCI_MSI_IRQ_INDEX:
	case VFIO_PCI_MSIX_IRQ_INDEX:
		/* No MASK/UNMASK for MSI, as in-tree. */
		if (action == VFIO_IRQ_SET_ACTION_TRIGGER)
			return vfio_dkms_set_msi_trigger(vdev, index, start,
							 count, flags, data,
							 max);
		break;
	case VFIO_PCI_ERR_IRQ_INDEX:
		if (action == VFIO_IRQ_SET_ACTION_TRIGGER &&
		    pci_is_pcie(vdev->pdev))
			return vfio_dkms_set_ctx_trigger_single(&vdev->irqs.err_trigger,
								start, count,
								flags, data);
		break;
	case VFIO_PCI_REQ_IRQ_INDEX:
		if (action == VFIO_IRQ_SET_ACTION_TRIGGER)
			return vfio_dkms_set_ctx_trigger_single(&vdev->irqs.req_trigger,
								start, count,
								flags, data);
		break;
	}
	return -ENOTTY;
}

/*
 * The checks of in-tree vfio_set_irqs_validate_and_prepare(): returns the
 * size of the data following the header in *data_size.
 */
static int vfio_dkms_set_irqs_validate(struct vfio_irq_set *hdr, int num_irqs,
				       size_t *data_size)
{
	unsigned long minsz = offsetofend(struct vfio_irq_set, count);
	size_t size;

	if (hdr->argsz < minsz || hdr->index >= VFIO_PCI_NUM_IRQS ||
	    hdr->count >= (U32_MAX - hdr->start) ||
	    (hdr->flags & ~(VFIO_IRQ_SET_DATA_TYPE_MASK |
			    VFIO_IRQ_SET_ACTION_TYPE_MASK)))
		return -EINVAL;

	*data_size = 0;

	if (hdr->start >= num_irqs || hdr->start + hdr->count > num_irqs)
		return -EINVAL;

	switch (hdr->flags & VFIO_IRQ_SET_DATA_TYPE_MASK) {
	case VFIO_IRQ_SET_DATA_NONE:
		size = 0;
		break;
	case VFIO_IRQ_SET_DATA_BOOL:
		size = sizeof(u8);
		break;
	case VFIO_IRQ_SET_DATA_EVENTFD:
		size = sizeof(s32);
		break;
	default:
		return -EINVAL;
	}

	if (size) {
		if (hdr->argsz - minsz < hdr->count * size)
			return -EINVAL;
		*data_size = hdr->count * size;
	}
	return 0;
}

/**
 * vfio_dkms_pci_ioctl_set_irqs() - VFIO_DEVICE_SET_IRQS
 * @vdev: the device (open)
 * @arg: the kernel copy of the user's struct vfio_irq_set and its data
 *
 * Return: 0, a negative errno, or (as in-tree) the number of vectors
 * available when fewer MSI/MSI-X vectors than asked for could be allocated.
 */
int vfio_dkms_pci_ioctl_set_irqs(struct vfio_dkms_pci_device *vdev,
				 struct vfio_dkms_ioctl_arg *arg)
{
	unsigned long minsz = offsetofend(struct vfio_irq_set, count);
	struct vfio_irq_set *hdr = arg->buf;
	size_t data_size = 0;
	int max, ret;

	max = vfio_dkms_pci_irq_count(vdev, hdr->index);
	ret = vfio_dkms_set_irqs_validate(hdr, max, &data_size);
	if (ret)
		return ret;
	/* Only what the core copied in (argsz clamped to its table). */
	if (data_size > arg->size - minsz)
		return -EINVAL;

	mutex_lock(&vdev->irqs.igate);
	ret = vfio_dkms_pci_set_irqs(vdev, hdr->flags, hdr->index, hdr->start,
				     hdr->count, data_size ? hdr->data : NULL,
				     max);
	mutex_unlock(&vdev->irqs.igate);
	return ret;
}

/* --- life cycle ---------------------------------------------------------- */

/**
 * vfio_dkms_pci_intrs_init() - initialise the interrupt state (probe)
 * @vdev: the device
 */
void vfio_dkms_pci_intrs_init(struct vfio_dkms_pci_device *vdev)
{
	mutex_init(&vdev->irqs.igate);
	spin_lock_init(&vdev->irqs.irqlock);
	vdev->irqs.irq_type = VFIO_PCI_NUM_IRQS;
}

/**
 * vfio_dkms_pci_intrs_open() - probe interrupt capabilities (first open)
 * @vdev: the device, enabled
 */
void vfio_dkms_pci_intrs_open(struct vfio_dkms_pci_device *vdev)
{
	struct pci_dev *pdev = vdev->pdev;
	u16 cmd;

	mutex_lock(&vdev->irqs.igate);
	vdev->irqs.pci_2_3 = pci_intx_mask_supported(pdev);
	vdev->irqs.has_dyn_msix = pdev->msix_cap &&
				  vfio_dkms_pci_msix_can_alloc_dyn(pdev);
	mutex_unlock(&vdev->irqs.igate);

	/* INTx is masked in software from now on; start unmasked. */
	pci_read_config_word(pdev, PCI_COMMAND, &cmd);
	if (vdev->irqs.pci_2_3 && (cmd & PCI_COMMAND_INTX_DISABLE))
		pci_write_config_word(pdev, PCI_COMMAND,
				      cmd & ~PCI_COMMAND_INTX_DISABLE);
}

/**
 * vfio_dkms_pci_intrs_close() - tear everything down (last close)
 * @vdev: the device, still enabled
 *
 * Whatever the user left set up: interrupts freed, vectors released,
 * eventfds put.
 */
void vfio_dkms_pci_intrs_close(struct vfio_dkms_pci_device *vdev)
{
	mutex_lock(&vdev->irqs.igate);
	if (is_intx(vdev))
		vfio_dkms_intx_disable(vdev);
	else if (irq_is(vdev, VFIO_PCI_MSI_IRQ_INDEX))
		vfio_dkms_msi_disable(vdev, false);
	else if (irq_is(vdev, VFIO_PCI_MSIX_IRQ_INDEX))
		vfio_dkms_msi_disable(vdev, true);

	if (vdev->irqs.err_trigger) {
		eventfd_ctx_put(vdev->irqs.err_trigger);
		vdev->irqs.err_trigger = NULL;
	}
	if (vdev->irqs.req_trigger) {
		eventfd_ctx_put(vdev->irqs.req_trigger);
		vdev->irqs.req_trigger = NULL;
	}
	vdev->irqs.virq_disabled = false;
	mutex_unlock(&vdev->irqs.igate);
}

/**
 * vfio_dkms_pci_intx_virt_disable() - the user wrote INTx-disable
 * @vdev: the device (open)
 * @disable: the new value of the virtual INTx-disable bit
 *
 * Called by the config region (config_lock held) after every write to the
 * command register.  As in-tree: while set, INTx is masked and nothing is
 * signalled; clearing it unmasks (or signals a still-asserted line).  Without
 * INTx in use, the device's INTx-disable bit follows the virtual one.
 */
void vfio_dkms_pci_intx_virt_disable(struct vfio_dkms_pci_device *vdev,
				     bool disable)
{
	unsigned long flags;

	mutex_lock(&vdev->irqs.igate);
	if (vdev->irqs.virq_disabled == disable)
		goto out_unlock;

	spin_lock_irqsave(&vdev->irqs.irqlock, flags);
	WRITE_ONCE(vdev->irqs.virq_disabled, disable);
	if (!is_intx(vdev) && vdev->irqs.pci_2_3)
		pci_intx(vdev->pdev, !disable);
	spin_unlock_irqrestore(&vdev->irqs.irqlock, flags);

	if (is_intx(vdev)) {
		if (disable)
			vfio_dkms_intx_mask(vdev);
		else
			vfio_dkms_intx_unmask(vdev);
	}
out_unlock:
	mutex_unlock(&vdev->irqs.igate);
}

/**
 * vfio_dkms_pci_msi_state() - MSI state for the virtual MSI capability
 * @vdev: the device
 * @qmax: set to log2 of the MSI vectors last enabled
 *
 * Return: MSI is enabled through VFIO_DEVICE_SET_IRQS.
 */
bool vfio_dkms_pci_msi_state(struct vfio_dkms_pci_device *vdev, u8 *qmax)
{
	bool on;

	mutex_lock(&vdev->irqs.igate);
	on = irq_is(vdev, VFIO_PCI_MSI_IRQ_INDEX);
	*qmax = vdev->irqs.msi_qmax;
	mutex_unlock(&vdev->irqs.igate);
	return on;
}

/**
 * vfio_dkms_pci_intrs_destroy() - counterpart of vfio_dkms_pci_intrs_init()
 * @vdev: the device, closed
 */
void vfio_dkms_pci_intrs_destroy(struct vfio_dkms_pci_device *vdev)
{
	mutex_destroy(&vdev->irqs.igate);
}

/**
 * vfio_dkms_pci_request() - ask the user to release the device
 * @core: the device, being removed while a device fd is open
 * @count: how many times it was asked before
 *
 * Called by the core from remove() (unbind, hot-unplug) until the last
 * device fd is closed: signals the REQ eventfd.
 */
void vfio_dkms_pci_request(struct vfio_dkms_device *core, unsigned int count)
{
	struct vfio_dkms_pci_device *vdev =
		container_of(core, struct vfio_dkms_pci_device, vdev);
	struct pci_dev *pdev = vdev->pdev;

	mutex_lock(&vdev->irqs.igate);
	if (vdev->irqs.req_trigger) {
		if (!(count % 10))
			pci_notice_ratelimited(pdev,
					       "Relaying device request to user (#%u)\n",
					       count);
		vfio_dkms_eventfd_signal(vdev->irqs.req_trigger);
	} else if (count == 0) {
		pci_warn(pdev,
			 "No device request channel registered, blocked until released by user\n");
	}
	mutex_unlock(&vdev->irqs.igate);
}
