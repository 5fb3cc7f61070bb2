// SPDX-License-Identifier: MIT
/*
 * ivshmem-put STATUS < DATA
 *
 * The guest's results channel (docs/guest-image.md): copies stdin into the shared-memory BAR of
 * the ivshmem-plain device (PCI 1af4:1110, BAR 2), whose host side is a file that
 * scripts/run-guest.sh reads after QEMU exits. Layout of the region:
 *
 *   offset 0     a 4 KiB text header, NUL-padded:
 *                  "dartlab-results v1\nstatus=N\nlength=BYTES\n"  (or "error=..." instead of
 *                  length= when the data did not fit)
 *   offset 4096  BYTES of data (a tar archive of /results)
 *
 * The data is written first and the header last, so a region whose header is missing or
 * incomplete was never finished (the guest died on the way). No driver is needed: the BAR is
 * mapped through sysfs (resource2), which the kernel offers for any PCI device.
 * Exit 0 when the data is in place, 1 otherwise (with the reason on stderr).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

enum { HEADER_BYTES = 4096 };

static const char pci_root[] = "/sys/bus/pci/devices";

static int read_hex_file(const char *dir, const char *name, unsigned long *value)
{
	char path[512];
	char text[32];
	snprintf(path, sizeof path, "%s/%s/%s", pci_root, dir, name);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	int ok = fgets(text, sizeof text, f) != NULL;
	fclose(f);
	if (!ok)
		return -1;
	*value = strtoul(text, NULL, 16);
	return 0;
}

/* The first ivshmem-plain device's BAR 2 file, into path. */
static int find_region(char *path, size_t path_bytes)
{
	DIR *d = opendir(pci_root);
	if (!d) {
		fprintf(stderr, "ivshmem-put: %s: %s\n", pci_root, strerror(errno));
		return -1;
	}
	struct dirent *e;
	int found = -1;
	while (found < 0 && (e = readdir(d)) != NULL) {
		unsigned long vendor, device;
		if (e->d_name[0] == '.')
			continue;
		if (read_hex_file(e->d_name, "vendor", &vendor) || read_hex_file(e->d_name, "device", &device))
			continue;
		if (vendor == 0x1af4 && device == 0x1110) {
			snprintf(path, path_bytes, "%s/%s/resource2", pci_root, e->d_name);
			found = 0;
		}
	}
	closedir(d);
	if (found < 0)
		fprintf(stderr, "ivshmem-put: no ivshmem-plain device (PCI 1af4:1110) in %s\n", pci_root);
	return found;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: ivshmem-put STATUS < DATA\n");
		return 1;
	}
	char *end;
	long status = strtol(argv[1], &end, 10);
	if (*argv[1] == '\0' || *end != '\0') {
		fprintf(stderr, "ivshmem-put: STATUS %s is not a number\n", argv[1]);
		return 1;
	}

	char path[600];
	if (find_region(path, sizeof path))
		return 1;
	int fd = open(path, O_RDWR | O_SYNC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st)) {
		fprintf(stderr, "ivshmem-put: %s: %s\n", path, strerror(errno));
		return 1;
	}
	size_t region_bytes = (size_t)st.st_size;
	if (region_bytes <= HEADER_BYTES) {
		fprintf(stderr, "ivshmem-put: %s: region of %zu bytes has no room after its header\n", path, region_bytes);
		return 1;
	}
	unsigned char *region = mmap(NULL, region_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (region == MAP_FAILED) {
		fprintf(stderr, "ivshmem-put: mmap %s: %s\n", path, strerror(errno));
		return 1;
	}
	/* A header from an earlier run must not vouch for this one's data. */
	memset(region, 0, HEADER_BYTES);
	__sync_synchronize();

	size_t capacity = region_bytes - HEADER_BYTES;
	size_t length = 0;
	int too_big = 0;
	static unsigned char chunk[1 << 16];
	for (;;) {
		ssize_t n = read(STDIN_FILENO, chunk, sizeof chunk);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fprintf(stderr, "ivshmem-put: reading stdin: %s\n", strerror(errno));
			return 1;
		}
		if (n == 0)
			break;
		if (!too_big && (size_t)n <= capacity - length)
			memcpy(region + HEADER_BYTES + length, chunk, (size_t)n);
		else
			too_big = 1;
		length += (size_t)n;
	}
	__sync_synchronize();

	char header[HEADER_BYTES];
	memset(header, 0, sizeof header);
	if (too_big)
		snprintf(header, sizeof header,
			 "dartlab-results v1\nstatus=%ld\nerror=results of %zu bytes do not fit in the %zu-byte region\n",
			 status, length, capacity);
	else
		snprintf(header, sizeof header, "dartlab-results v1\nstatus=%ld\nlength=%zu\n", status, length);
	memcpy(region, header, sizeof header);
	__sync_synchronize();
	munmap(region, region_bytes);
	close(fd);
	if (too_big) {
		fprintf(stderr, "ivshmem-put: results of %zu bytes do not fit in the %zu-byte region\n", length, capacity);
		return 1;
	}
	return 0;
}
