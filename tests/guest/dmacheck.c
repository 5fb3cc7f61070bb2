// SPDX-License-Identifier: MIT
/*
 * dmacheck: the guest's I/O for dartlab's end-to-end tests. Writes a pattern that depends only on
 * (seed, byte offset on the disk), reads it back and compares every byte, so that any block that
 * travelled through a wrong DMA address is found, whatever the block size of either pass.
 *
 *   dmacheck write  DEV --offset BYTES --size BYTES --bs BYTES --seed N [--direct]
 *   dmacheck verify DEV --offset BYTES --size BYTES --bs BYTES --seed N [--direct]
 *   dmacheck canary DEV --offset BYTES --bs BYTES
 *   dmacheck read   DEV --offset BYTES --size BYTES --bs BYTES [--direct]
 *
 * write/verify print one line `dmacheck OP key=value ...` (blocks, errors, bad 4 KiB blocks,
 * seconds, MiB/s, the first errno) and exit 0 only when every block went through and matched. A failed block
 * (EIO) is counted and the run goes on: the tests want to see errors under host pressure.
 * read only reads (a throughput figure, nothing compared); write --no-pattern writes the first
 * block's pattern everywhere (the same, for writes: the pattern costs CPU under emulation).
 * write --failed FILE appends the offset of every block whose write failed, one per line; verify
 * --skip FILE leaves those blocks out (counted as skipped_4k): a block whose write failed holds
 * old data by right, and only a block written and read back without an error can be corrupt.
 * canary reads with O_DIRECT into a buffer filled with 0xa5 and reports whether the read failed
 * and whether any byte of the buffer changed (a DMA that faulted must write nothing).
 * Static, no dependencies beyond libc: it runs in a busybox initramfs.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define ALIGN 4096u
#define CHECK_BLOCK 4096u /* the unit in which mismatches are counted */

struct opts {
	const char *op;
	const char *dev;
	uint64_t offset;
	uint64_t size;
	uint64_t bs;
	uint64_t seed;
	int direct;
	int no_pattern;
	const char *failed; /* write: where to list failed blocks */
	const char *skip;   /* verify: blocks not to judge */
};

static void usage(void)
{
	fprintf(stderr, "usage: dmacheck write|verify DEV --offset BYTES --size BYTES --bs BYTES --seed N [--direct] [--no-pattern]\n"
			"       dmacheck read DEV --offset BYTES --size BYTES --bs BYTES [--direct]\n"
			"       dmacheck canary DEV --offset BYTES --bs BYTES\n"
			"BYTES takes K, M and G suffixes (binary).\n");
	exit(2);
}

static uint64_t parse_bytes(const char *flag, const char *s)
{
	char *end = NULL;
	unsigned long long v;
	uint64_t mul = 1;

	if (!s || !*s || *s == '-' || *s == '+') {
		fprintf(stderr, "dmacheck: %s needs a positive number\n", flag);
		exit(2);
	}
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s) {
		fprintf(stderr, "dmacheck: %s %s: not a number\n", flag, s);
		exit(2);
	}
	if (*end == 'K')
		mul = 1ull << 10;
	else if (*end == 'M')
		mul = 1ull << 20;
	else if (*end == 'G')
		mul = 1ull << 30;
	if (mul != 1)
		end++;
	if (*end || (mul != 1 && v > UINT64_MAX / mul)) {
		fprintf(stderr, "dmacheck: %s %s: not a size\n", flag, s);
		exit(2);
	}
	return v * mul;
}

static struct opts parse(int argc, char **argv)
{
	struct opts o = { 0 };
	int i;

	if (argc < 3)
		usage();
	o.op = argv[1];
	o.dev = argv[2];
	for (i = 3; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--direct")) {
			o.direct = 1;
			continue;
		}
		if (!strcmp(a, "--no-pattern")) {
			o.no_pattern = 1;
			continue;
		}
		if (!v)
			usage();
		if (!strcmp(a, "--failed"))
			o.failed = v;
		else if (!strcmp(a, "--skip"))
			o.skip = v;
		else if (!strcmp(a, "--offset"))
			o.offset = parse_bytes(a, v);
		else if (!strcmp(a, "--size"))
			o.size = parse_bytes(a, v);
		else if (!strcmp(a, "--bs"))
			o.bs = parse_bytes(a, v);
		else if (!strcmp(a, "--seed"))
			o.seed = parse_bytes(a, v);
		else
			usage();
		i++;
	}
	if (o.bs == 0 || o.bs % ALIGN || o.offset % ALIGN || o.size % o.bs) {
		fprintf(stderr, "dmacheck: --bs must be a non-zero multiple of %u, --offset too, --size a multiple of --bs\n",
			ALIGN);
		exit(2);
	}
	return o;
}

/* splitmix64: a good 64-bit mix, so that a shifted or stale block never matches by accident. */
static uint64_t mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

static void fill(uint64_t *buf, uint64_t disk_offset, uint64_t len, uint64_t seed)
{
	uint64_t i;

	for (i = 0; i < len / 8; i++)
		buf[i] = mix(seed ^ ((disk_offset / 8 + i) * 0x100000001b3ull));
}

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static int open_dev(const struct opts *o, int flags)
{
	int fd = open(o->dev, flags | (o->direct ? O_DIRECT : 0));

	if (fd < 0) {
		fprintf(stderr, "dmacheck: %s: %s\n", o->dev, strerror(errno));
		exit(1);
	}
	return fd;
}

/* One pread/pwrite of a whole block; -errno on failure (a short transfer is -EIO). */
static int transfer(int fd, void *buf, uint64_t len, uint64_t off, int is_write)
{
	ssize_t n = is_write ? pwrite(fd, buf, len, (off_t)off) : pread(fd, buf, len, (off_t)off);

	if (n < 0)
		return -errno;
	return (uint64_t)n == len ? 0 : -EIO;
}

/* The block offsets in a --failed list, sorted by the writer (ascending offsets). */
struct offsets {
	uint64_t *v;
	size_t n;
};

static struct offsets read_offsets(const char *path)
{
	struct offsets o = { NULL, 0 };
	size_t cap = 0;
	unsigned long long x;
	FILE *f;

	if (!path)
		return o;
	f = fopen(path, "r");
	if (!f)
		return o; /* no list: nothing failed */
	while (fscanf(f, "%llu", &x) == 1) {
		if (o.n == cap) {
			cap = cap ? 2 * cap : 64;
			o.v = realloc(o.v, cap * sizeof(*o.v));
			if (!o.v) {
				fprintf(stderr, "dmacheck: out of memory reading %s\n", path);
				exit(1);
			}
		}
		o.v[o.n++] = x;
	}
	fclose(f);
	return o;
}

/* Whether [off, off + len) overlaps a failed block of size bs. */
static int skipped(const struct offsets *f, uint64_t off, uint64_t len, uint64_t bs)
{
	size_t i;

	for (i = 0; i < f->n; i++)
		if (f->v[i] < off + len && off < f->v[i] + bs)
			return 1;
	return 0;
}

/* is_write 1: write; 0: read and compare; -1: read only. */
static int run_rw(const struct opts *o, int is_write)
{
	uint64_t *buf, *expect = NULL, off, blocks = 0, errors = 0, bad = 0, first_bad = UINT64_MAX;
	int fd = open_dev(o, is_write > 0 ? O_WRONLY : O_RDONLY);
	int compare = is_write == 0;
	int first_err = 0, fsync_err = 0;
	struct offsets skip = read_offsets(is_write == 0 ? o->skip : NULL);
	uint64_t skipped_4k = 0, skip_bs = 0;
	FILE *failed = is_write > 0 && o->failed ? fopen(o->failed, "a") : NULL;
	double t0, secs;

	if (is_write > 0 && o->failed && !failed) {
		fprintf(stderr, "dmacheck: %s: %s\n", o->failed, strerror(errno));
		return 1;
	}
	/* The writer puts its block size first in a --failed list, then the failed blocks. */
	if (skip.n) {
		skip_bs = skip.v[0];
		memmove(skip.v, skip.v + 1, (skip.n - 1) * sizeof(*skip.v));
		skip.n--;
	}

	if (posix_memalign((void **)&buf, ALIGN, o->bs) || (compare && posix_memalign((void **)&expect, ALIGN, o->bs))) {
		fprintf(stderr, "dmacheck: out of memory for --bs %" PRIu64 "\n", o->bs);
		return 1;
	}
	t0 = now();
	for (off = o->offset; off < o->offset + o->size; off += o->bs) {
		int r;

		blocks++;
		if (is_write > 0 && (!o->no_pattern || off == o->offset))
			fill(buf, off, o->bs, o->seed);
		else if (is_write <= 0)
			memset(buf, 0, o->bs);
		r = transfer(fd, buf, o->bs, off, is_write > 0);
		if (r) {
			errors++;
			if (!first_err)
				first_err = -r;
			if (failed) {
				if (ftell(failed) == 0)
					fprintf(failed, "%llu\n", (unsigned long long)o->bs); /* the block size, first */
				fprintf(failed, "%llu\n", (unsigned long long)off);
			}
			continue;
		}
		if (compare) {
			uint64_t c;

			fill(expect, off, o->bs, o->seed);
			for (c = 0; c < o->bs; c += CHECK_BLOCK) {
				if (skip.n && skipped(&skip, off + c, CHECK_BLOCK, skip_bs)) {
					skipped_4k++;
					continue;
				}
				if (memcmp((char *)buf + c, (char *)expect + c, CHECK_BLOCK)) {
					bad++;
					if (first_bad == UINT64_MAX)
						first_bad = off + c;
				}
			}
		}
	}
	if (is_write > 0 && !o->direct && fsync(fd))
		fsync_err = errno;
	secs = now() - t0;
	close(fd);
	if (failed)
		fclose(failed);
	printf("dmacheck %s dev=%s offset=%" PRIu64 " bytes=%" PRIu64 " bs=%" PRIu64 " direct=%d blocks=%" PRIu64
	       " errors=%" PRIu64 " bad_4k=%" PRIu64 " fsync_error=%d seconds=%.3f mib_s=%.1f",
	       o->op, o->dev, o->offset, o->size, o->bs, o->direct, blocks, errors, bad, fsync_err, secs,
	       secs > 0 ? o->size / 1048576.0 / secs : 0.0);
	if (first_err)
		printf(" first_errno=%d", first_err); /* a number: strerror's words would split the line */
	if (first_bad != UINT64_MAX)
		printf(" first_bad_offset=%" PRIu64, first_bad);
	if (is_write == 0)
		printf(" skipped_4k=%" PRIu64, skipped_4k);
	printf("\n");
	free(buf);
	free(expect);
	free(skip.v);
	return errors || bad || fsync_err ? 1 : 0;
}

static int run_canary(const struct opts *o)
{
	struct opts d = *o;
	unsigned char *buf;
	uint64_t i, changed = 0;
	int fd, r;

	d.direct = 1;
	fd = open_dev(&d, O_RDONLY);
	if (posix_memalign((void **)&buf, ALIGN, o->bs))
		return 1;
	memset(buf, 0xa5, o->bs);
	r = transfer(fd, buf, o->bs, o->offset, 0);
	for (i = 0; i < o->bs; i++)
		changed += buf[i] != 0xa5;
	close(fd);
	printf("dmacheck canary dev=%s offset=%" PRIu64 " bs=%" PRIu64 " read_failed=%d errno=%d changed_bytes=%" PRIu64
	       "\n",
	       o->dev, o->offset, o->bs, r != 0, -r, changed);
	free(buf);
	return 0;
}

int main(int argc, char **argv)
{
	struct opts o = parse(argc, argv);

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!strcmp(o.op, "write"))
		return run_rw(&o, 1);
	if (!strcmp(o.op, "verify"))
		return run_rw(&o, 0);
	if (!strcmp(o.op, "read"))
		return run_rw(&o, -1);
	if (!strcmp(o.op, "canary"))
		return run_canary(&o);
	usage();
	return 2;
}
