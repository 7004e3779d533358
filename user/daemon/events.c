// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * daemon/events.c - the event ring and the hook runner.
 *
 * Hooks never hold up a failover: the daemon forks and execs, and watches
 * each child's exit through a pidfd on its event loop, never waiting.  At
 * most hook_max_running run at once (more are not started, counted and
 * logged); each is killed, with what it started, after hook_timeout_ms.
 */
#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "daemon/events.h"
#include "lib/clock.h"
#include "lib/log.h"

void bsc_events_add(struct bsc_events *e, const struct bsc_event *ev)
{
	e->ring[e->head] = *ev;
	e->head = (e->head + 1) % BSC_EVENTS_MAX;
	if (e->count < BSC_EVENTS_MAX)
		e->count++;
}

const struct bsc_event *bsc_events_get(const struct bsc_events *e, unsigned i)
{
	if (i >= e->count)
		return NULL;
	return &e->ring[(e->head + BSC_EVENTS_MAX - e->count + i) % BSC_EVENTS_MAX];
}

void bsc_events_json(const struct bsc_events *e, FILE *out)
{
	struct json_object *arr = json_object_new_array();
	unsigned i;

	for (i = 0; i < e->count; i++) {
		const struct bsc_event *ev = bsc_events_get(e, i);
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "time", json_object_new_double((double)ev->realtime_ns / 1e9));
		json_object_object_add(o, "kind", json_object_new_string(ev->kind));
		json_object_object_add(o, "uplink", json_object_new_string(ev->uplink));
		json_object_object_add(o, "old", json_object_new_string(ev->old_state));
		json_object_object_add(o, "new", json_object_new_string(ev->new_state));
		json_object_object_add(o, "reason", json_object_new_string(ev->reason));
		json_object_array_add(arr, o);
	}
	fprintf(out, "%s\n", json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PLAIN));
	json_object_put(arr);
}

/* ------------------------------------------------------------------ */
/* hooks                                                              */
/* ------------------------------------------------------------------ */

struct hook_run {
	struct bsc_hooks *h;
	pid_t pid;
	int pidfd;
	uint64_t start_ns;
	sd_event_source *io, *timer;
	int killed;             /* by us, at its deadline */
	char path[256];
};

struct bsc_hooks {
	sd_event *ev;
	unsigned max_running;
	uint64_t timeout_ms;
	struct hook_run *runs; /* max_running slots; pid 0 = free */
	struct bsc_hook_stats st;
};

struct bsc_hooks *bsc_hooks_new(sd_event *ev, unsigned max_running, uint64_t timeout_ms)
{
	struct bsc_hooks *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	h->ev = ev;
	h->max_running = max_running ? max_running : 1;
	h->timeout_ms = timeout_ms;
	h->runs = calloc(h->max_running, sizeof(*h->runs));
	if (!h->runs) {
		free(h);
		return NULL;
	}
	return h;
}

static void run_release(struct hook_run *r)
{
	r->io = sd_event_source_disable_unref(r->io);
	r->timer = sd_event_source_disable_unref(r->timer);
	if (r->pidfd >= 0)
		close(r->pidfd);
	r->pidfd = -1;
	r->pid = 0;
	r->h->st.running--;
}

/* The hook has exited: reap it, count how. */
static int on_hook_exit(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct hook_run *r = userdata;
	struct bsc_hooks *h = r->h;
	double ms = (double)(bsc_now_ns() - r->start_ns) / 1e6;
	int status = 0;

	if (waitpid(r->pid, &status, WNOHANG) != r->pid)
		return 0; /* not yet (a spurious wake-up) */
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		h->st.ok++;
	} else if (r->killed) {
		/* killed by us at its deadline: counted there */
	} else {
		h->st.failed++;
		if (WIFEXITED(status))
			bsc_log(LOG_WARNING, "hook %s: exit status %d after %.0f ms", r->path,
				WEXITSTATUS(status), ms);
		else
			bsc_log(LOG_WARNING, "hook %s: killed by signal %d after %.0f ms", r->path,
				WIFSIGNALED(status) ? WTERMSIG(status) : 0, ms);
	}
	run_release(r);
	return 0;
}

/* Past its time: the hook and whatever it started (its process group). */
static int on_hook_deadline(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct hook_run *r = userdata;

	r->h->st.killed++;
	r->killed = 1;
	bsc_log(LOG_WARNING, "hook %s: still running after %" PRIu64 " ms (hook_timeout_ms): killed",
		r->path, r->h->timeout_ms);
	kill(-r->pid, SIGKILL);
	kill(r->pid, SIGKILL);
	r->timer = sd_event_source_disable_unref(r->timer);
	return 0;
}

/* In the child, before exec: nothing of the daemon's but 0-2 and the
 * environment.  The daemon blocks SIGINT/SIGTERM/SIGHUP (sd-event takes them
 * through a signalfd) and ignores SIGPIPE; a hook inherits both across
 * exec, and `timeout 1 sleep 3` in it would wait 3 s. */
static void hook_child_reset(void)
{
	struct sigaction dfl = { .sa_handler = SIG_DFL };
	sigset_t none;
	int sig;

	for (sig = 1; sig < NSIG; sig++) {
		/* the kernel's own call: glibc's sigaction refuses its two
		 * reserved signals (32, 33), which a parent may have left
		 * ignored and exec would pass on */
		struct {
			void (*handler)(int);
			unsigned long flags;
			void (*restorer)(void);
			uint64_t mask;
		} kdfl = { SIG_DFL, 0, NULL, 0 };

		if (sig == SIGKILL || sig == SIGSTOP)
			continue;
		if (sigaction(sig, &dfl, NULL))
			syscall(SYS_rt_sigaction, sig, &kdfl, NULL, sizeof(kdfl.mask));
	}
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	setpgid(0, 0); /* its own group: killed whole at the deadline */
	if (close_range(3, ~0u, 0)) {
		long fd, max = sysconf(_SC_OPEN_MAX);

		for (fd = 3; fd < (max > 0 ? max : 65536); fd++)
			close((int)fd);
	}
}

void bsc_hooks_run(struct bsc_hooks *h, const struct bsc_event *ev, const char *active,
		   const char hooks[][256], int n)
{
	char when[32];
	int i;

	snprintf(when, sizeof(when), "%.3f", (double)ev->realtime_ns / 1e9);
	for (i = 0; i < n; i++) {
		struct hook_run *r = NULL;
		unsigned k;
		pid_t pid;
		int pfd;

		for (k = 0; k < h->max_running && !r; k++)
			if (!h->runs[k].pid)
				r = &h->runs[k];
		if (!r) {
			h->st.skipped++;
			bsc_log(LOG_WARNING, "hook %s: not run for %s %s -> %s: %u hooks still running (hook_max_running)",
				hooks[i], ev->uplink, ev->old_state, ev->new_state, h->max_running);
			continue;
		}
		pid = fork();
		if (pid < 0) {
			h->st.failed++;
			bsc_log(LOG_WARNING, "hook %s: fork: %s", hooks[i], strerror(errno));
			continue;
		}
		if (pid == 0) {
			hook_child_reset();
			setenv("BASCULE_EVENT", ev->kind, 1);
			setenv("BASCULE_UPLINK", ev->uplink, 1);
			setenv("BASCULE_OLD_STATE", ev->old_state, 1);
			setenv("BASCULE_NEW_STATE", ev->new_state, 1);
			setenv("BASCULE_REASON", ev->reason, 1);
			setenv("BASCULE_ACTIVE", active, 1);
			setenv("BASCULE_TIME", when, 1);
			execl(hooks[i], hooks[i], (char *)NULL);
			_exit(127);
		}
		setpgid(pid, pid); /* also from here: no race with the deadline */
		h->st.started++;
		h->st.running++;
		memset(r, 0, sizeof(*r));
		r->h = h;
		r->pid = pid;
		r->start_ns = bsc_now_ns();
		snprintf(r->path, sizeof(r->path), "%s", hooks[i]);
		pfd = (int)syscall(SYS_pidfd_open, pid, 0);
		r->pidfd = pfd;
		if (pfd < 0 || sd_event_add_io(h->ev, &r->io, pfd, EPOLLIN, on_hook_exit, r) < 0) {
			/* cannot watch it (no pidfd before Linux 5.3): it runs
			 * unbounded, and its slot is not held */
			bsc_log(LOG_WARNING, "hook %s: cannot watch its exit (%s): not bounded",
				hooks[i], strerror(errno));
			run_release(r);
			continue;
		}
		if (h->timeout_ms)
			sd_event_add_time_relative(h->ev, &r->timer, CLOCK_MONOTONIC,
						   h->timeout_ms * 1000, 1000, on_hook_deadline, r);
	}
}

void bsc_hooks_stats(const struct bsc_hooks *h, struct bsc_hook_stats *s)
{
	memset(s, 0, sizeof(*s));
	if (h)
		*s = h->st;
}

void bsc_hooks_free(struct bsc_hooks *h)
{
	unsigned k;

	if (!h)
		return;
	/* Hooks still running are left to finish; init reaps them. */
	for (k = 0; k < h->max_running; k++)
		if (h->runs[k].pid) {
			h->runs[k].io = sd_event_source_disable_unref(h->runs[k].io);
			h->runs[k].timer = sd_event_source_disable_unref(h->runs[k].timer);
			if (h->runs[k].pidfd >= 0)
				close(h->runs[k].pidfd);
		}
	free(h->runs);
	free(h);
}
