// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * slowfs.c - a slow disk for the lab: a FUSE file system that passes every
 * call through to a backing directory and, while "slow", makes each write
 * wait WRITE_MS and each fsync (and fdatasync) wait FSYNC_MS, as a dying SD
 * card or a USB stick on a hub that resets does.  A real file system in the
 * kernel's VFS, so the daemon's SQLite reaches it through the same write(2)
 * and fsync(2) as on a real disk.
 *
 *   slowfs BACKING MOUNTPOINT WRITE_MS FSYNC_MS
 *
 * It starts fast.  SIGUSR1: slow from now on; SIGUSR2: fast again.  Counts
 * of the calls it delayed go to stderr at exit (SIGTERM or unmount).
 * Mounted in the foreground, single user (root): the lab's test mounts it
 * in its own work directory and unmounts it on exit.
 */
#define FUSE_USE_VERSION 35
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fuse.h>
#include <limits.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static int backing = -1;                /* the backing directory */
static unsigned write_ms, fsync_ms;
static atomic_int slow;
static atomic_ulong writes_held, fsyncs_held;

/* Paths come as "/name": relative to the backing directory's fd. */
static const char *rel(const char *path)
{
	while (*path == '/')
		path++;
	return *path ? path : ".";
}

static void hold(unsigned ms, atomic_ulong *count)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000l };

	if (!atomic_load(&slow) || !ms)
		return;
	atomic_fetch_add(count, 1);
	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static int sfs_getattr(const char *path, struct stat *st, struct fuse_file_info *fi)
{
	if (fi)
		return fstat((int)fi->fh, st) ? -errno : 0;
	return fstatat(backing, rel(path), st, AT_SYMLINK_NOFOLLOW) ? -errno : 0;
}

static int sfs_open(const char *path, struct fuse_file_info *fi)
{
	int fd = openat(backing, rel(path), fi->flags & ~O_NOFOLLOW);

	if (fd < 0)
		return -errno;
	fi->fh = (uint64_t)fd;
	return 0;
}

static int sfs_create(const char *path, mode_t mode, struct fuse_file_info *fi)
{
	int fd = openat(backing, rel(path), fi->flags | O_CREAT, mode);

	if (fd < 0)
		return -errno;
	fi->fh = (uint64_t)fd;
	return 0;
}

static int sfs_read(const char *path, char *buf, size_t size, off_t off, struct fuse_file_info *fi)
{
	ssize_t n = pread((int)fi->fh, buf, size, off);

	(void)path;
	return n < 0 ? -errno : (int)n;
}

static int sfs_write(const char *path, const char *buf, size_t size, off_t off,
		     struct fuse_file_info *fi)
{
	ssize_t n;

	(void)path;
	hold(write_ms, &writes_held);
	n = pwrite((int)fi->fh, buf, size, off);
	return n < 0 ? -errno : (int)n;
}

static int sfs_fsync(const char *path, int datasync, struct fuse_file_info *fi)
{
	(void)path;
	hold(fsync_ms, &fsyncs_held);
	return (datasync ? fdatasync((int)fi->fh) : fsync((int)fi->fh)) ? -errno : 0;
}

static int sfs_release(const char *path, struct fuse_file_info *fi)
{
	(void)path;
	close((int)fi->fh);
	return 0;
}

static int sfs_truncate(const char *path, off_t size, struct fuse_file_info *fi)
{
	int fd, rc;

	if (fi)
		return ftruncate((int)fi->fh, size) ? -errno : 0;
	fd = openat(backing, rel(path), O_WRONLY);
	if (fd < 0)
		return -errno;
	rc = ftruncate(fd, size) ? -errno : 0;
	close(fd);
	return rc;
}

static int sfs_unlink(const char *path)
{
	return unlinkat(backing, rel(path), 0) ? -errno : 0;
}

static int sfs_mkdir(const char *path, mode_t mode)
{
	return mkdirat(backing, rel(path), mode) ? -errno : 0;
}

static int sfs_rmdir(const char *path)
{
	return unlinkat(backing, rel(path), AT_REMOVEDIR) ? -errno : 0;
}

static int sfs_rename(const char *from, const char *to, unsigned int flags)
{
	if (flags)
		return -EINVAL;
	return renameat(backing, rel(from), backing, rel(to)) ? -errno : 0;
}

static int sfs_chmod(const char *path, mode_t mode, struct fuse_file_info *fi)
{
	if (fi)
		return fchmod((int)fi->fh, mode) ? -errno : 0;
	return fchmodat(backing, rel(path), mode, 0) ? -errno : 0;
}

static int sfs_chown(const char *path, uid_t uid, gid_t gid, struct fuse_file_info *fi)
{
	if (fi)
		return fchown((int)fi->fh, uid, gid) ? -errno : 0;
	return fchownat(backing, rel(path), uid, gid, AT_SYMLINK_NOFOLLOW) ? -errno : 0;
}

static int sfs_utimens(const char *path, const struct timespec tv[2], struct fuse_file_info *fi)
{
	if (fi)
		return futimens((int)fi->fh, tv) ? -errno : 0;
	return utimensat(backing, rel(path), tv, AT_SYMLINK_NOFOLLOW) ? -errno : 0;
}

static int sfs_access(const char *path, int mask)
{
	return faccessat(backing, rel(path), mask, 0) ? -errno : 0;
}

static int sfs_readdir(const char *path, void *buf, fuse_fill_dir_t fill, off_t off,
		       struct fuse_file_info *fi, enum fuse_readdir_flags flags)
{
	int fd = openat(backing, rel(path), O_RDONLY | O_DIRECTORY);
	struct dirent *e;
	DIR *dir;

	(void)off;
	(void)fi;
	(void)flags;
	if (fd < 0)
		return -errno;
	dir = fdopendir(fd);
	if (!dir) {
		close(fd);
		return -errno;
	}
	while ((e = readdir(dir)))
		if (fill(buf, e->d_name, NULL, 0, 0))
			break;
	closedir(dir);
	return 0;
}

static void *sfs_init(struct fuse_conn_info *conn, struct fuse_config *cfg)
{
	(void)conn;
	cfg->use_ino = 0;
	cfg->kernel_cache = 0;
	cfg->direct_io = 0;     /* SQLite maps its -shm file: keep the page cache */
	return NULL;
}

static const struct fuse_operations ops = {
	.init = sfs_init,
	.getattr = sfs_getattr,
	.open = sfs_open,
	.create = sfs_create,
	.read = sfs_read,
	.write = sfs_write,
	.fsync = sfs_fsync,
	.release = sfs_release,
	.truncate = sfs_truncate,
	.unlink = sfs_unlink,
	.mkdir = sfs_mkdir,
	.rmdir = sfs_rmdir,
	.rename = sfs_rename,
	.chmod = sfs_chmod,
	.chown = sfs_chown,
	.utimens = sfs_utimens,
	.access = sfs_access,
	.readdir = sfs_readdir,
};

static void on_usr(int sig)
{
	atomic_store(&slow, sig == SIGUSR1);
}

static unsigned ms_arg(const char *s, const char *what)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);

	if (*s == '\0' || *end || v > 60000) {
		fprintf(stderr, "slowfs: %s: '%s' is not 0..60000 ms\n", what, s);
		exit(2);
	}
	return (unsigned)v;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_usr };
	char *fargv[] = { argv[0], "-f", "-o", "fsname=slowfs", NULL, NULL };
	int rc;

	if (argc != 5) {
		fprintf(stderr, "usage: slowfs BACKING MOUNTPOINT WRITE_MS FSYNC_MS\n");
		return 2;
	}
	write_ms = ms_arg(argv[3], "WRITE_MS");
	fsync_ms = ms_arg(argv[4], "FSYNC_MS");
	backing = open(argv[1], O_RDONLY | O_DIRECTORY);
	if (backing < 0) {
		fprintf(stderr, "slowfs: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGUSR2, &sa, NULL);
	fargv[4] = argv[2];
	umask(0);
	rc = fuse_main(5, fargv, &ops, NULL);
	fprintf(stderr, "slowfs: writes held %lu, fsyncs held %lu\n", atomic_load(&writes_held),
		atomic_load(&fsyncs_held));
	return rc;
}
