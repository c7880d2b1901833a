// SPDX-License-Identifier: GPL-2.0
/*
 * vfio-dkms introspection: /sys/kernel/debug/vfio-dkms/{groups,containers}
 * (docs/introspection.md).  Root-only (0400), no ABI promise.
 *
 * Each file is one seq_file "show" that walks the live groups with the
 * locks the ioctls take, in the documented order (group.h):
 * groups lock -> group->group_lock -> container->group_lock (read) ->
 * the backend's lock (taken by its introspect op).  Nothing is looked at without its lock, and nothing is
 * remembered between two reads, so a group or container that goes away
 * while a file is open or being read is simply not shown the next time.
 * debugfs itself makes removal of the files (module unload) wait for
 * readers.  Only built with CONFIG_DEBUG_FS.
 */
#include <linux/debugfs.h>
#include <linux/iommu.h>
#include <linux/pid.h>
#include <linux/sched.h>
#include <linux/sched/task.h>
#include <linux/seq_file.h>

#include "container.h"
#include "debugfs.h"
#include "group.h"
#include "iommu.h"
#include "vfio_dkms.h"

static struct dentry *vfio_dkms_debugfs_root;

static void vfio_dkms_debugfs_owner(struct seq_file *m, struct pid *pid)
{
	char comm[TASK_COMM_LEN];
	struct task_struct *task;

	task = get_pid_task(pid, PIDTYPE_TGID);
	if (task) {
		get_task_comm(comm, task);
		put_task_struct(task);
		seq_printf(m, "owner: %d %s\n", pid_nr(pid), comm);
	} else {
		/* The opener exited; the file lives on in another process. */
		seq_printf(m, "owner: %d (exited)\n", pid_nr(pid));
	}
}

/* --- groups ------------------------------------------------------------ */

static int vfio_dkms_debugfs_group(struct vfio_dkms_group *group, void *data)
{
	struct seq_file *m = data;
	struct vfio_dkms_device *device;

	seq_printf(m, "group %s\n", dev_name(&group->dev));
	if (group->noiommu)
		seq_puts(m, "type: noiommu\n");
	seq_printf(m, "shared: %d\n", group->shared);
	if (group->shared) {
		struct vfio_dkms_group_opener *opener;

		/* Every process that has the node open, in opening order. */
		list_for_each_entry(opener, &group->openers, next)
			vfio_dkms_debugfs_owner(m, opener->pid);
		if (list_empty(&group->openers))
			seq_puts(m, "owner: none\n");
	} else if (group->opened_file && group->opener) {
		vfio_dkms_debugfs_owner(m, group->opener);
	} else {
		seq_puts(m, "owner: none\n");
	}
	if (group->container)
		seq_printf(m, "container: %lu\n", group->container->id);
	else
		seq_puts(m, "container: none\n");
	list_for_each_entry(device, &group->device_list, group_next) {
		unsigned int open_count;

		mutex_lock(&device->open_lock);
		open_count = device->open_count;
		mutex_unlock(&device->open_lock);
		seq_printf(m, "device: %s open %u\n", dev_name(device->dev),
			   open_count);
	}
	seq_putc(m, '\n');
	return 0;
}

static int vfio_dkms_groups_show(struct seq_file *m, void *unused)
{
	return vfio_dkms_group_for_each(vfio_dkms_debugfs_group, m);
}
DEFINE_SHOW_ATTRIBUTE(vfio_dkms_groups);

/* --- containers -------------------------------------------------------- */

/*
 * Containers are reached through their groups: a container without groups
 * has no backend and no mappings (both go with the last group), and its
 * file alone gives no access to any device.  Each container is shown once,
 * at its first group.
 */
static int vfio_dkms_debugfs_container(struct vfio_dkms_group *group,
				       void *data)
{
	struct vfio_dkms_container *container = group->container;
	struct seq_file *m = data;
	struct vfio_dkms_group *g;

	if (!container)
		return 0;

	down_read(&container->group_lock);
	if (list_first_entry(&container->group_list, struct vfio_dkms_group,
			     container_next) != group)
		goto out_unlock;

	seq_printf(m, "container %lu\n", container->id);
	seq_printf(m, "files: %u\n", container->users);
	/* Other groups of the list cannot leave: that takes group_lock write. */
	list_for_each_entry(g, &container->group_list, container_next)
		seq_printf(m, "group: %s\n", dev_name(&g->dev));
	if (container->iommu_ops)
		container->iommu_ops->introspect(container->iommu_data, m);
	else
		seq_puts(m, "backend: none\n");
	seq_putc(m, '\n');
out_unlock:
	up_read(&container->group_lock);
	return 0;
}

static int vfio_dkms_containers_show(struct seq_file *m, void *unused)
{
	return vfio_dkms_group_for_each(vfio_dkms_debugfs_container, m);
}
DEFINE_SHOW_ATTRIBUTE(vfio_dkms_containers);

/* --- setup ------------------------------------------------------------- */

/*
 * Failures are not errors: the module works without its debugfs files
 * (debugfs disabled at boot, out of memory), as debugfs users should.
 */
void vfio_dkms_debugfs_init(void)
{
	struct dentry *root;

	root = debugfs_create_dir(VFIO_DKMS_DEBUGFS_DIR, NULL);
	if (IS_ERR_OR_NULL(root))
		return;
	debugfs_create_file("groups", 0400, root, NULL, &vfio_dkms_groups_fops);
	debugfs_create_file("containers", 0400, root, NULL,
			    &vfio_dkms_containers_fops);
	vfio_dkms_debugfs_root = root;
}

void vfio_dkms_debugfs_exit(void)
{
	/* Waits for every reader that is inside a show. */
	debugfs_remove_recursive(vfio_dkms_debugfs_root);
	vfio_dkms_debugfs_root = NULL;
}
