// SPDX-License-Identifier: GPL-2.0
/*
 * Reads a 32-bit register through an mmap of a device region as fast as it
 * can, until the access faults (SIGBUS ends the process) or returns
 * something else than the expected value (printed; exit status 3).
 *
 * usage: bar_spin DEVICE_FD REGION_OFFSET EXPECTED
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	volatile uint32_t *reg;
	uint32_t want, v;
	void *p;

	if (argc != 4)
		return 2;
	want = strtoul(argv[3], NULL, 0);
	p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, atoi(argv[1]),
		 strtoull(argv[2], NULL, 0));
	if (p == MAP_FAILED) {
		perror("mmap");
		return 2;
	}
	reg = p;
	/* Tell the parent the mapping is live. */
	if (write(1, "+", 1) != 1)
		return 2;
	for (;;) {
		v = *reg;
		if (v != want) {
			printf("%#x\n", v);
			return 3;
		}
	}
}
