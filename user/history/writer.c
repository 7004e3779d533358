// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * history/writer.c - the writer thread: once the daemon runs, it owns the
 * connection; the loop queues a copy of each record (bounded; full: drop,
 * count, never wait), and the thread applies them in order.  Its figures,
 * flush, stop and close.
 */
#include <errno.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "history/history.h"
#include "history/history_priv.h"
#include "lib/clock.h"
#include "lib/log.h"

/* ------------------------------------------------------------ the writer */

/* Once bsc_history_start_writer has run, the write calls above only queue a
 * record: the writer thread owns the connection and does the SQL, so a slow
 * or hung disk (a commit waiting on write(2), a checkpoint on fsync) holds
 * the writer, never the daemon's event loop.  The queue is bounded: when the
 * disk is so slow that it fills, a record is dropped and counted, never
 * waited for. */
struct writer {
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t more, done;
	struct hrec *ring;
	unsigned cap, head, n;
	int stop, busy, exited;
	struct bsc_history_writer_stats st;
};

/* A write call made by anyone but the writer, once it runs, is queued. */
int hist_deferred(struct bsc_history *h)
{
	return h->w && !pthread_equal(pthread_self(), h->w->th);
}

int hist_enqueue(struct bsc_history *h, const struct hrec *r)
{
	struct writer *w = h->w;
	int rc = 0;

	pthread_mutex_lock(&w->mu);
	if (w->n == w->cap || w->stop) {
		if (!w->st.dropped++)
			bsc_log(LOG_WARNING, "history %s: the disk is not keeping up, %u records queued:"
				" records are being dropped (counted in health: history.dropped)",
				h->path, w->n);
		rc = -1;
	} else {
		w->ring[(w->head + w->n) % w->cap] = *r;
		w->n++;
		w->st.queued++;
		if (w->n > w->st.depth_max)
			w->st.depth_max = w->n;
		pthread_cond_signal(&w->more);
	}
	pthread_mutex_unlock(&w->mu);
	return rc;
}

static int apply(struct bsc_history *h, struct hrec *r)
{
	switch (r->op) {
	case H_DAEMON:
		return bsc_history_daemon(h, r->t, r->flag);
	case H_HEARTBEAT:
		return bsc_history_heartbeat(h, r->t);
	case H_TRANSITION:
		return bsc_history_transition(h, r->t, r->uplink, r->from, r->to, r->reason);
	case H_CLASS:
		return bsc_history_class(h, r->t, r->uplink, r->from, r->to, r->reason);
	case H_ACTIVE:
		return bsc_history_active(h, r->t, r->flag ? r->uplink : NULL, r->reason);
	case H_USAGE:
		return bsc_history_usage(h, r->t, r->uplink, r->x, r->y);
	case H_DRILL:
		return bsc_history_drill(h, r->t, r->t2, r->flag, r->a, r->b, r->json);
	case H_PRUNE:
		return bsc_history_prune(h, r->t);
	case H_RETENTION:
		bsc_history_set_retention(h, (uint32_t)r->x);
		return 0;
	}
	return -1;
}

static void *writer_main(void *arg)
{
	struct bsc_history *h = arg;
	struct writer *w = h->w;

	pthread_mutex_lock(&w->mu);
	for (;;) {
		struct hrec r;
		uint64_t t0, dt;
		int rc;

		while (!w->n && !w->stop)
			pthread_cond_wait(&w->more, &w->mu);
		if (!w->n)
			break; /* stopping, and everything queued is written */
		r = w->ring[w->head];
		w->busy = 1;
		pthread_mutex_unlock(&w->mu);
		t0 = bsc_now_ns();
		rc = apply(h, &r);
		dt = bsc_now_ns() - t0;
		free(r.json);
		pthread_mutex_lock(&w->mu);
		w->head = (w->head + 1) % w->cap;
		w->n--;
		w->busy = 0;
		if (rc)
			w->st.failed++;
		else
			w->st.written++;
		w->st.last_write_ns = dt;
		if (dt > w->st.write_max_ns)
			w->st.write_max_ns = dt;
		pthread_cond_broadcast(&w->done);
	}
	w->exited = 1;
	pthread_cond_broadcast(&w->done);
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

int bsc_history_start_writer(struct bsc_history *h, unsigned queue_len)
{
	struct writer *w;

	if (h->w || !queue_len)
		return -1;
	w = calloc(1, sizeof(*w));
	if (!w || !(w->ring = calloc(queue_len, sizeof(*w->ring)))) {
		free(w);
		return -1;
	}
	w->cap = queue_len;
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->more, NULL);
	pthread_cond_init(&w->done, NULL);
	/* h->w is set before the thread runs: its first hist_deferred() sees its
	 * own id in w->th, written by pthread_create before it returns here
	 * and read by the thread only under w->mu */
	h->w = w;
	pthread_mutex_lock(&w->mu);
	if (pthread_create(&w->th, NULL, writer_main, h)) {
		pthread_mutex_unlock(&w->mu);
		h->w = NULL;
		free(w->ring);
		free(w);
		return -1;
	}
	pthread_mutex_unlock(&w->mu);
	return 0;
}

void bsc_history_writer_stats(struct bsc_history *h, struct bsc_history_writer_stats *st)
{
	memset(st, 0, sizeof(*st));
	if (!h || !h->w)
		return;
	pthread_mutex_lock(&h->w->mu);
	*st = h->w->st;
	st->depth = h->w->n;
	pthread_mutex_unlock(&h->w->mu);
}

int bsc_history_flush(struct bsc_history *h, unsigned timeout_ms)
{
	struct writer *w = h ? h->w : NULL;
	struct timespec ts;
	int rc = 0;

	if (!w)
		return 0;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += timeout_ms / 1000;
	ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000l;
	if (ts.tv_nsec >= 1000000000l) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000l;
	}
	pthread_mutex_lock(&w->mu);
	while ((w->n || w->busy) && !w->exited && rc != ETIMEDOUT)
		rc = pthread_cond_timedwait(&w->done, &w->mu, &ts);
	rc = w->n || w->busy ? -1 : 0;
	pthread_mutex_unlock(&w->mu);
	return rc;
}

#define STOP_WAIT_MS 5000

/* Write what is queued and end the thread; -1 if the disk holds it longer
 * than STOP_WAIT_MS (the thread is left running, with h). */
static int writer_stop(struct bsc_history *h)
{
	struct writer *w = h->w;
	unsigned left;

	pthread_mutex_lock(&w->mu);
	w->stop = 1;
	pthread_cond_signal(&w->more);
	pthread_mutex_unlock(&w->mu);
	if (bsc_history_flush(h, STOP_WAIT_MS)) {
		pthread_mutex_lock(&w->mu);
		left = w->n;
		pthread_mutex_unlock(&w->mu);
		bsc_log(LOG_ERR, "history %s: the disk held the writer over %d ms at the stop:"
			" %u record(s) not written", h->path, STOP_WAIT_MS, left);
		return -1;
	}
	pthread_join(w->th, NULL);
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->more);
	pthread_cond_destroy(&w->done);
	free(w->ring);
	free(w);
	h->w = NULL;
	return 0;
}

void bsc_history_close(struct bsc_history *h)
{
	if (!h)
		return;
	if (h->w && writer_stop(h))
		return; /* stuck on the disk: it still holds h (the process ends) */
	if (h->db && sqlite3_close(h->db) != SQLITE_OK)
		bsc_log(LOG_ERR, "history %s: closing: %s", h->path, sqlite3_errmsg(h->db));
	free(h);
}
