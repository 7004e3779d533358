// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * ctl.c - control socket.  The socket file is created 0660 in a 0750
 * directory, owned by root and the configured group (default: root only),
 * so only root or that group can ask the daemon anything.  Requests are
 * short lines, served in the event loop one at a time with a receive
 * timeout so a stuck client cannot stall failover for long.
 */
#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctl.h"
#include "log.h"

struct bsc_ctl {
	int fd;
	sd_event_source *src;
	char path[108];
	bsc_ctl_handler handler;
	bsc_ctl_taker taker;
	void *data;
};

void bsc_ctl_set_taker(struct bsc_ctl *c, bsc_ctl_taker t)
{
	if (c)
		c->taker = t;
}

static int serve(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct bsc_ctl *c = userdata;
	struct timeval tv = { .tv_sec = 0, .tv_usec = 200000 };
	char req[256];
	ssize_t n;
	char *buf = NULL;
	size_t len = 0;
	FILE *out;
	int cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC);

	if (cfd < 0)
		return 0;
	setsockopt(cfd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(cfd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	n = recv(cfd, req, sizeof(req) - 1, 0);
	if (n > 0) {
		req[n] = '\0';
		req[strcspn(req, "\r\n")] = '\0';
		if (c->taker && c->taker(c->data, req, cfd))
			return 0;
		out = open_memstream(&buf, &len);
		if (out) {
			c->handler(c->data, req, out);
			fclose(out);
			if (len)
				(void)!send(cfd, buf, len, MSG_NOSIGNAL);
			free(buf);
		}
	}
	close(cfd);
	return 0;
}

/* The socket's directory.  Missing: created 0750, root and the control
 * group.  There already: left exactly as it is (a control_socket in /tmp
 * must not turn /tmp into 0750 root:root), but refused when it is not
 * root's or others may write to it, since then someone else could replace
 * the socket, or the directory, under the daemon and its clients. */
static int mkdir_parent(const char *path, gid_t gid, char *err, size_t errlen)
{
	char dir[108];
	struct stat st;
	char *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == dir)
		snprintf(dir, sizeof(dir), "/");
	else
		*slash = '\0';
	if (!mkdir(dir, 0750)) {
		if (chown(dir, 0, gid) || chmod(dir, 0750)) {
			snprintf(err, errlen, "control socket %s: its new directory %s: %s", path, dir,
				 strerror(errno));
			return -1;
		}
		return 0;
	}
	if (errno != EEXIST || stat(dir, &st)) {
		snprintf(err, errlen, "control socket %s: cannot create its directory %s: %s", path,
			 dir, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode) || st.st_uid != 0 || (st.st_mode & S_IWOTH) ||
	    ((st.st_mode & S_IWGRP) && st.st_gid != 0 && st.st_gid != gid)) {
		snprintf(err, errlen,
			 "control socket %s: refused: its directory %s is %s (mode %04o, uid %u, gid %u); "
			 "use a directory of root's that only root%s may write, such as /run/bascule",
			 path, dir, !S_ISDIR(st.st_mode) ? "not a directory" :
				    st.st_uid != 0 ? "not root's" : "writable by others",
			 (unsigned)(st.st_mode & 07777), (unsigned)st.st_uid, (unsigned)st.st_gid,
			 gid ? " and the control group" : "");
		return -1;
	}
	return 0;
}

struct bsc_ctl *bsc_ctl_listen(sd_event *ev, const char *path, const char *group,
			       bsc_ctl_handler h, void *data, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct bsc_ctl *c = calloc(1, sizeof(*c));
	gid_t gid = 0;
	mode_t old;

	if (!c)
		return NULL;
	if (group && *group) {
		struct group *g = getgrnam(group);

		if (!g) {
			snprintf(err, errlen, "control_group '%s' does not exist", group);
			free(c);
			return NULL;
		}
		gid = g->gr_gid;
	}
	snprintf(c->path, sizeof(c->path), "%s", path);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	c->handler = h;
	c->data = data;
	if (mkdir_parent(path, gid, err, errlen)) {
		free(c);
		return NULL;
	}
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	unlink(path);
	old = umask(0117);
	if (c->fd < 0 || bind(c->fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(c->fd, 16)) {
		umask(old);
		snprintf(err, errlen, "control socket %s: %s", path, strerror(errno));
		if (c->fd >= 0)
			close(c->fd);
		free(c);
		return NULL;
	}
	umask(old);
	(void)!chown(path, 0, gid);
	chmod(path, 0660);
	if (sd_event_add_io(ev, &c->src, c->fd, EPOLLIN, serve, c) < 0) {
		snprintf(err, errlen, "control socket %s: event loop", path);
		close(c->fd);
		unlink(path);
		free(c);
		return NULL;
	}
	return c;
}

void bsc_ctl_close(struct bsc_ctl *c)
{
	if (!c)
		return;
	sd_event_source_disable_unref(c->src);
	close(c->fd);
	unlink(c->path);
	free(c);
}

int bsc_ctl_request(const char *path, const char *request, FILE *out)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = 5 };
	char buf[4096], line[256];
	ssize_t n;
	int fd;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	snprintf(line, sizeof(line), "%s\n", request);
	/* one write: the daemon reads one request and answers */
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    send(fd, line, strlen(line), MSG_NOSIGNAL) < 0) {
		int e = -errno;

		close(fd);
		return e;
	}
	while ((n = recv(fd, buf, sizeof(buf), 0)) > 0)
		fwrite(buf, 1, (size_t)n, out);
	close(fd);
	return n < 0 ? -errno : 0;
}
