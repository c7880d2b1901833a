# SPDX-License-Identifier: GPL-2.0
"""The kernel's own VFIO selftests (tools/testing/selftests/vfio of Debian
sid's linux-source, built on the host by scripts/kernel-vfio-selftests) on
edu, through the distro's vfio-pci and then through the drop-in, on one
boot: each test case of their kselftest harness must end the same way
(pass, fail or skip) on both.

Only the legacy container modes are compared (vfio_type1_iommu,
vfio_type1v2_iommu): the iommufd modes need /dev/iommu, which neither
Debian kernel has (6.1 predates it, 6.12 builds it out), and which the
drop-in does not implement.  The tests that run only in libvfio's default
mode (iommufd) run once per container mode (iommu_mode.c).  Tests that are
iommufd- or SR-IOV-only are left out (PROGRAMS).
"""

import os
import re
import subprocess

import pytest

import dropin_install as D
from vfio_backends import EDU_IDS, bind, find_pci, group_of, unbind

OUT = os.path.join(D.REPO, "build", "kernel-selftests")
CONTAINER_MODES = ("vfio_type1_iommu", "vfio_type1v2_iommu")

# The programs run, and which of their cases count: those of the container
# modes (mode variants), or all (a binary pinned to one mode).
PROGRAMS = (
    ("vfio_dma_mapping_test", "variants"),
    ("vfio_dma_mapping_mmio_test", "variants"),
) + tuple(("%s.%s" % (t, m), "all")
          for t in ("vfio_pci_device_test", "vfio_pci_driver_test")
          for m in CONTAINER_MODES)
# Not run: vfio_iommufd_setup_test (iommufd only), vfio_pci_sriov_uapi_test
# (VF tokens through the device cdev and iommufd; edu has no SR-IOV), and
# vfio_pci_device_init_perf_test (iommufd only; a timing, not a result).

# Cases that end differently on the two, as (case pattern, in-tree result,
# drop-in result, reason).  A case matching a pattern must end exactly so:
# when the drop-in gains the feature, this list has to shrink.
KNOWN_DIFFERENCES = (
    (r"vfio_dma_mapping_mmio_test\.vfio_type1v?2?_iommu\.map_(full_bar|partial_bar|bar_misaligned)",
     "pass", "fail",
     "MAP_DMA of an mmap()ed BAR (VM_PFNMAP memory, peer-to-peer DMA): the in-tree "
     "type1 maps the PFNs behind it, the drop-in pins with pin_user_pages(), which "
     "refuses VM_PFNMAP/VM_IO ranges (EFAULT); module/README.md lists it as not "
     "implemented"),
)

# 2 MiB hugepages for the *_hugetlb_2mb variants (the 1 GiB ones skip on
# both: this guest has no gigantic pages).
HUGEPAGES = 4
NR_HUGEPAGES = "/proc/sys/vm/nr_hugepages"

# Filled by test_run_in_tree, which runs first.
RESULTS = {}

TAP_LINE = re.compile(r"^(not ok|ok) \d+ (\S+)(.*)$")


def parse_tap(text):
    """{case: "pass" | "fail" | "skip" | "xfail"} from kselftest harness TAP."""
    cases = {}
    for line in text.splitlines():
        m = TAP_LINE.match(line)
        if not m:
            continue
        status, name, rest = m.groups()
        directive = rest.strip().upper()
        if directive.startswith("# SKIP"):
            cases[name] = "skip"
        elif directive.startswith("# XFAIL"):
            cases[name] = "xfail"
        else:
            cases[name] = "pass" if status == "ok" else "fail"
    return cases


def counted(cases, which):
    """The cases of the container modes: a mode variant's name is
    fixture.variant.test, its variant starting with the mode."""
    if which == "all":
        return cases
    return {n: r for n, r in cases.items()
            if len(n.split(".")) == 3 and n.split(".")[1].startswith(CONTAINER_MODES)}


def run_program(prog, which, bdf):
    path = os.path.join(OUT, prog)
    p = subprocess.run([path, bdf], capture_output=True, text=True, timeout=300)
    print("=== %s (exit %d)\n%s%s" % (prog, p.returncode, p.stdout[-6000:], p.stderr[-3000:]))
    cases = parse_tap(p.stdout)
    if not cases:
        # The program ended before its harness started: main() returns
        # KSFT_SKIP (4) when the device has no selftest driver.
        return {prog: {4: "skip", 0: "pass"}.get(p.returncode, "fail(exit %d)" % p.returncode)}
    return counted(cases, which)


def run_all(bdf, tag):
    old = bind(bdf, "vfio-pci")
    try:
        assert D.wait_path("/dev/vfio/" + group_of(bdf)), "no group node"
        return {prog: run_program(prog, which, bdf) for prog, which in PROGRAMS}
    finally:
        unbind(bdf, old)


@pytest.fixture(scope="module")
def edu_bdf():
    bdf = find_pci(*EDU_IDS)
    assert bdf, "no edu device in this VM"
    with open(NR_HUGEPAGES) as f:
        before = f.read().strip()
    with open(NR_HUGEPAGES, "w") as f:
        f.write(str(HUGEPAGES))
    yield bdf
    with open(NR_HUGEPAGES, "w") as f:
        f.write(before)


def test_built():
    missing = [p for p, _ in PROGRAMS if not os.access(os.path.join(OUT, p), os.X_OK)]
    assert not missing, ("not built: %s (scripts/install-deps fetches the source, "
                         "make all builds them)" % " ".join(missing))
    with open(os.path.join(OUT, "source")) as f:
        print("selftests of " + f.read().strip())


def test_run_in_tree(edu_bdf):
    D.load_in_tree()
    # vfio_dma_mapping_test checks the IOMMU's page tables through this
    # directory when it exists (CONFIG_IOMMU_DEBUGFS, off in Debian's
    # kernels); otherwise it checks MAP/UNMAP_DMA and the device's view only.
    if not os.path.ismount("/sys/kernel/debug"):
        D.sh("mount", "-t", "debugfs", "none", "/sys/kernel/debug")
    print("intel-iommu debugfs: %s" %
          ("present" if os.path.isdir("/sys/kernel/debug/iommu/intel") else "absent"))
    try:
        RESULTS["in-tree"] = run_all(edu_bdf, "in-tree")
    finally:
        D.unload_vfio()
    # The reference must really have exercised the container: every
    # program reported its cases, and DMA mapping worked in both modes.
    res = RESULTS["in-tree"]
    for prog, _ in PROGRAMS:
        assert res[prog], "%s reported no case on in-tree" % prog
    for mode in CONTAINER_MODES:
        case = "vfio_dma_mapping_test.%s_anonymous.dma_map_unmap" % mode
        assert res["vfio_dma_mapping_test"].get(case) == "pass", \
            "in-tree %s: %s" % (case, res["vfio_dma_mapping_test"].get(case))


def test_run_dropin(edu_bdf):
    D.load_dropin()
    try:
        RESULTS["dropin"] = run_all(edu_bdf, "dropin")
        assert D.flavor() == "dropin"
    finally:
        D.unload_vfio()
        D.uninstall()
    write_table()


def write_table():
    """Both runs' results, one case a line, into the run directory the
    host keeps (VFIO_TEST_RUN), for the reader of a passing run too."""
    run_dir = os.environ.get("VFIO_TEST_RUN")
    if not run_dir or "in-tree" not in RESULTS:
        return
    with open(os.path.join(run_dir, "dropin-kselftests.txt"), "w") as f:
        for prog, _ in PROGRAMS:
            ref, ours = RESULTS["in-tree"][prog], RESULTS["dropin"][prog]
            for case in sorted(set(ref) | set(ours)):
                f.write("%s %s in-tree=%s dropin=%s\n" % (prog, case, ref.get(case), ours.get(case)))


@pytest.mark.parametrize("prog", [p for p, _ in PROGRAMS])
def test_same_results(prog):
    assert "in-tree" in RESULTS and "dropin" in RESULTS, "a run failed"
    ref, ours = RESULTS["in-tree"][prog], RESULTS["dropin"][prog]
    for case in sorted(set(ref) | set(ours)):
        print("%-75s in-tree %-6s dropin %s" % (case, ref.get(case), ours.get(case)))
    diff = {}
    for case in set(ref) | set(ours):
        got = (ref.get(case), ours.get(case))
        known = [k for k in KNOWN_DIFFERENCES if re.fullmatch(k[0], case)]
        if known:
            if got != known[0][1:3]:
                diff[case] = got + ("listed as %s/%s" % known[0][1:3],)
            else:
                print("known difference %s: %s" % (case, known[0][3]))
        elif got[0] != got[1]:
            diff[case] = got
    assert not diff, "results differ (in-tree, dropin): %r" % diff
