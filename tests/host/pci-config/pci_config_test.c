// SPDX-License-Identifier: GPL-2.0
/*
 * Host unit test of the config space virtualisation's capability walk:
 * module/pci/vfio_dkms_pci_config.c compiled in user space against a config
 * space in memory (fake/kernel_stubs.h), under AddressSanitizer.  Devices
 * that place a capability at the very end of config space must not make
 * the walk, or any later access through the config region, touch memory
 * past the virtual config space.  No emulated device has such a layout.
 *
 * Each layout runs in a child process, so that a sanitizer report fails
 * that layout alone.  Prints TAP.
 */
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../../module/pci/vfio_dkms_pci_config.c"

/* What the config code calls in the interrupt and mmap code. */
bool vfio_dkms_pci_msi_state(struct vfio_dkms_pci_device *vdev, u8 *qmax)
{
	(void)vdev;
	*qmax = 0;
	return false;
}

void vfio_dkms_pci_intx_virt_disable(struct vfio_dkms_pci_device *vdev,
				     bool disable)
{
	(void)vdev;
	(void)disable;
}

void vfio_dkms_pci_zap_bars(struct vfio_dkms_pci_device *vdev)
{
	(void)vdev;
}

/*
 * A 256-byte config space whose capability list is 0x40 (a vendor
 * capability of 4 bytes), then a capability @id at @pos, the last one.
 * Initialises the virtual config space, reads all of it, writes every byte
 * and reads the last words back.  Returns 0 when every call behaved.
 */
static int run_layout(u8 id, int pos)
{
	struct vfio_dkms_pci_device *vdev;
	struct pci_dev *pdev;
	u8 buf[PCI_CFG_SPACE_SIZE];
	int i, bad = 0;
	loff_t off;

	pdev = calloc(1, sizeof(*pdev));
	vdev = calloc(1, sizeof(*vdev));
	pdev->cfg_size = PCI_CFG_SPACE_SIZE;
	pdev->cfg = calloc(1, pdev->cfg_size);
	pdev->cfg[PCI_VENDOR_ID] = 0x34;
	pdev->cfg[PCI_VENDOR_ID + 1] = 0x12;
	pdev->cfg[PCI_STATUS] = PCI_STATUS_CAP_LIST;
	pdev->cfg[PCI_CAPABILITY_LIST] = 0x40;
	pdev->cfg[0x40] = PCI_CAP_ID_VNDR;
	pdev->cfg[0x41] = pos;
	pdev->cfg[0x42] = 4;
	pdev->cfg[pos] = id;
	if (pos + 1 < pdev->cfg_size)
		pdev->cfg[pos + 1] = 0;
	/* Whatever follows the id reads as set bits (64-bit MSI, masking). */
	for (i = pos + 2; i < pdev->cfg_size; i++)
		pdev->cfg[i] = 0xff;
	vdev->pdev = pdev;

	if (vfio_dkms_pci_config_init(vdev)) {
		printf("# config init failed\n");
		return 1;
	}
	off = 0;
	if (vfio_dkms_pci_config_rw(vdev, (char *)buf, sizeof(buf), &off,
				    false) != sizeof(buf)) {
		printf("# whole config space read failed\n");
		bad = 1;
	}
	for (i = 0; i < PCI_CFG_SPACE_SIZE; i++) {
		u8 ff = 0xff;

		off = i;
		vfio_dkms_pci_config_rw(vdev, (char *)&ff, 1, &off, true);
	}
	for (i = PCI_CFG_SPACE_SIZE - 4; i < PCI_CFG_SPACE_SIZE; i += 2) {
		u16 w = 0xffff;

		off = i;
		vfio_dkms_pci_config_rw(vdev, (char *)&w, 2, &off, true);
		off = i;
		vfio_dkms_pci_config_rw(vdev, (char *)&w, 2, &off, false);
	}

	vfio_dkms_pci_config_free(vdev);
	free(pdev->cfg);
	free(pdev);
	free(vdev);
	return bad;
}

static const struct layout {
	const char *name;
	u8 id;
	int pos;
} layouts[] = {
	{ "PM capability at 0xfc (control at 0x100)", PCI_CAP_ID_PM, 0xfc },
	{ "PM capability at 0xfe", PCI_CAP_ID_PM, 0xfe },
	{ "MSI capability at 0xfd (control at 0xff)", PCI_CAP_ID_MSI, 0xfd },
	{ "MSI capability at 0xfe", PCI_CAP_ID_MSI, 0xfe },
	{ "capability header cut at 0xff", PCI_CAP_ID_PM, 0xff },
	{ "PCIe capability at 0xf8", PCI_CAP_ID_EXP, 0xf8 },
	{ "AF capability at 0xfc", PCI_CAP_ID_AF, 0xfc },
};

int main(void)
{
	size_t i, n = sizeof(layouts) / sizeof(layouts[0]);
	int failed = 0;

	for (i = 0; i < n; i++) {
		int status;
		pid_t pid;

		fflush(stdout);
		pid = fork();
		if (pid == 0)
			_exit(run_layout(layouts[i].id, layouts[i].pos));
		if (pid < 0 || waitpid(pid, &status, 0) != pid)
			status = -1;
		status = status != -1 && WIFEXITED(status) &&
			 !WEXITSTATUS(status);
		printf("%sok %zu - %s: config space accesses stay inside it\n",
		       status ? "" : "not ", i + 1, layouts[i].name);
		failed += !status;
	}
	printf("1..%zu\n", n);
	return failed ? 1 : 0;
}
