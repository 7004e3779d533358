// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * control/ctl.c - control socket.  The socket file is created 0660 in a 0750
 * directory, owned by root and the configured group (default: root only),
 * so only root or that group can ask the daemon anything.  Requests are
 * short lines.  Every connection is non-blocking, on its own I/O source
 * with its own deadline for the whole exchange, at most CTL_MAX_CONNS at
 * once: a client that connects and sends nothing, or never reads its
 * answer, holds a slot for a while and never the event loop.
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

#include "control/ctl.h"
#include "lib/log.h"

#define CTL_MAX_CONNS 16       /* connections served at once; more are closed */
#define CTL_REQ_MAX 256         /* a request line, its newline included */
#define CTL_DEADLINE_MS 2000    /* for the whole exchange: request in, reply out */

struct ctl_conn {
	struct bsc_ctl *c;
	int fd;                 /* -1: a free slot */
	sd_event_source *io, *timer;
	char req[CTL_REQ_MAX];
	size_t req_len;
	char *reply;
	size_t reply_len, reply_off;
};

struct bsc_ctl {
	int fd;
	sd_event_source *src;
	sd_event *ev;
	char path[108];
	bsc_ctl_handler handler;
	bsc_ctl_taker taker;
	void *data;
	struct ctl_conn conns[CTL_MAX_CONNS];
	unsigned long refused, timed_out;
};

void bsc_ctl_set_taker(struct bsc_ctl *c, bsc_ctl_taker t)
{
	if (c)
		c->taker = t;
}

/* The connection's end: its socket closed unless `keep` (a taker has it). */
static void conn_end(struct ctl_conn *k, int keep)
{
	k->io = sd_event_source_disable_unref(k->io);
	k->timer = sd_event_source_disable_unref(k->timer);
	if (!keep && k->fd >= 0)
		close(k->fd);
	k->fd = -1;
	free(k->reply);
	k->reply = NULL;
	k->req_len = k->reply_len = k->reply_off = 0;
}

static int on_conn_deadline(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct ctl_conn *k = userdata;

	k->c->timed_out++;
	if (k->c->timed_out == 1 || !(k->c->timed_out % 100))
		bsc_log(LOG_WARNING, "control socket: a client that did not send its request or read its answer within %d ms: closed (%lu so far)",
			CTL_DEADLINE_MS, k->c->timed_out);
	conn_end(k, 0);
	return 0;
}

static void conn_send(struct ctl_conn *k)
{
	while (k->reply_off < k->reply_len) {
		ssize_t n = send(k->fd, k->reply + k->reply_off, k->reply_len - k->reply_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return; /* the rest when it can take it */
			break;
		}
		k->reply_off += (size_t)n;
	}
	conn_end(k, 0);
}

static int on_conn_io(sd_event_source *s, int fd, uint32_t revents, void *userdata);

/* The whole line is in: answer it. */
static void conn_answer(struct ctl_conn *k)
{
	struct bsc_ctl *c = k->c;
	FILE *out;

	k->req[k->req_len] = '\0';
	k->req[strcspn(k->req, "\r\n")] = '\0';
	/* A taker (a drill) writes over time with MSG_DONTWAIT, watches the
	 * socket itself (the client's hang-up aborts the drill), and closes:
	 * one fd can be on the loop once, so ours goes first. */
	if (c->taker) {
		k->io = sd_event_source_disable_unref(k->io);
		if (c->taker(c->data, k->req, k->fd)) {
			conn_end(k, 1);
			return;
		}
		if (sd_event_add_io(c->ev, &k->io, k->fd, EPOLLOUT, on_conn_io, k) < 0) {
			conn_end(k, 0);
			return;
		}
	}
	out = open_memstream(&k->reply, &k->reply_len);
	if (!out) {
		conn_end(k, 0);
		return;
	}
	c->handler(c->data, k->req, out);
	fclose(out);
	sd_event_source_set_io_events(k->io, EPOLLOUT);
	conn_send(k);
}

/* One handler both ways: the request in, then the reply out. */
static int on_conn_io(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct ctl_conn *k = userdata;
	ssize_t n;

	if (k->reply) {
		conn_send(k);
		return 0;
	}
	/* A request may come in pieces: read until its newline, or the
	 * client's end of writing, within the line's size. */
	n = recv(fd, k->req + k->req_len, sizeof(k->req) - 1 - k->req_len, MSG_DONTWAIT);
	if (n < 0) {
		if (errno != EAGAIN && errno != EINTR)
			conn_end(k, 0);
		return 0;
	}
	k->req_len += (size_t)n;
	if (n == 0 || memchr(k->req, '\n', k->req_len) || k->req_len == sizeof(k->req) - 1) {
		if (!k->req_len) {
			conn_end(k, 0);
			return 0;
		}
		conn_answer(k);
	}
	return 0;
}

static int serve(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct bsc_ctl *c = userdata;
	struct ctl_conn *k = NULL;
	unsigned i;
	int cfd;

	/* Everything waiting, each connection on its own source and deadline:
	 * a client that connects and sends nothing holds a slot for
	 * CTL_DEADLINE_MS, never the loop. */
	while ((cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK)) >= 0) {
		for (i = 0, k = NULL; i < CTL_MAX_CONNS && !k; i++)
			if (c->conns[i].fd < 0)
				k = &c->conns[i];
		if (!k) {
			c->refused++;
			if (c->refused == 1 || !(c->refused % 100))
				bsc_log(LOG_WARNING, "control socket: %d connections at once: one more closed (%lu so far)",
					CTL_MAX_CONNS, c->refused);
			close(cfd);
			continue;
		}
		k->c = c;
		k->fd = cfd;
		if (sd_event_add_io(c->ev, &k->io, cfd, EPOLLIN, on_conn_io, k) < 0 ||
		    sd_event_add_time_relative(c->ev, &k->timer, CLOCK_MONOTONIC,
					       CTL_DEADLINE_MS * 1000ull, 1000, on_conn_deadline, k) < 0)
			conn_end(k, 0);
	}
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
	c->ev = ev;
	for (unsigned i = 0; i < CTL_MAX_CONNS; i++)
		c->conns[i].fd = -1;
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
	unsigned i;

	if (!c)
		return;
	for (i = 0; i < CTL_MAX_CONNS; i++)
		if (c->conns[i].fd >= 0)
			conn_end(&c->conns[i], 0);
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
