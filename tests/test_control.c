// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_control.c - unit tests of the operator's side of the controller
 * (user/control/), cmocka.
 *
 *   oper state  an uplink's state from what is known of it
 *   ctl socket  its directory: created, left alone, or refused (root, else
 *               skipped); on a real loop, clients that cannot stall it: 5
 *               silent ones, a request in two writes, at most 16 at once,
 *               the 2 s deadline
 *
 * Table-driven groups register one cmocka test per row, named after the
 * row, so a failure names the case that broke.  Everything runs in one group
 * so that CMOCKA_MESSAGE_OUTPUT=TAP prints a single plan.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <cmocka.h>

#include "bascule.h"
#include "control/admin.h"
#include "control/ctl.h"
#include "lib/runner.h"
#include "lib/unit.h"

/* ------------------------------------------------------------------ */
/* operational state                                                  */
/* ------------------------------------------------------------------ */

struct oper_case {
	const char *what;
	uint32_t admin;
	int carrier;
	const char *addr;
	uint8_t gw_mac[6];
	uint32_t want;
};

#define MAC { 0x02, 0x00, 0x5e, 0x10, 0x00, 0x01 }
#define NOMAC { 0, 0, 0, 0, 0, 0 }

static struct oper_case oper_cases[] = {
	{ "all known, auto: UP", BSC_ADMIN_AUTO, 1, "192.0.2.2", MAC, BSC_UPLINK_UP },
	{ "any nonzero carrier counts", BSC_ADMIN_AUTO, 2, "192.0.2.2", MAC, BSC_UPLINK_UP },
	{ "gateway MAC with one nonzero byte", BSC_ADMIN_AUTO, 1, "192.0.2.2",
	  { 0, 0, 0, 0, 0, 1 }, BSC_UPLINK_UP },
	{ "admin down: DOWN", BSC_ADMIN_DOWN, 1, "192.0.2.2", MAC, BSC_UPLINK_DOWN },
	{ "no carrier: DOWN", BSC_ADMIN_AUTO, 0, "192.0.2.2", MAC, BSC_UPLINK_DOWN },
	{ "no address: DOWN", BSC_ADMIN_AUTO, 1, "0.0.0.0", MAC, BSC_UPLINK_DOWN },
	{ "gateway MAC unknown: DOWN", BSC_ADMIN_AUTO, 1, "192.0.2.2", NOMAC, BSC_UPLINK_DOWN },
	{ "admin drain: DRAINED", BSC_ADMIN_DRAIN, 1, "192.0.2.2", MAC, BSC_UPLINK_DRAINED },
	{ "drain without carrier: DOWN", BSC_ADMIN_DRAIN, 0, "192.0.2.2", MAC, BSC_UPLINK_DOWN },
	{ "drain without gateway MAC: DOWN", BSC_ADMIN_DRAIN, 1, "192.0.2.2", NOMAC,
	  BSC_UPLINK_DOWN },
	{ "admin down beats everything fine", BSC_ADMIN_DOWN, 1, "10.0.0.1", MAC,
	  BSC_UPLINK_DOWN },
};

static void test_oper_state(void **state)
{
	const struct oper_case *c = *state;

	assert_int_equal(bsc_uplink_oper_state(c->admin, c->carrier, ip(c->addr), c->gw_mac),
			 c->want);
}

/* ------------------------------------------------------------------ */
/* the control socket                                                 */
/* ------------------------------------------------------------------ */

/* The control socket's directory: created when missing, left alone when
 * there (its mode is not the daemon's to change), refused when others may
 * write to it or it is not root's. */
static void ctl_handler_nop(void *data, const char *request, FILE *out)
{
}

static mode_t dir_mode(const char *d)
{
	struct stat st;

	assert_int_equal(stat(d, &st), 0);
	return st.st_mode & 07777;
}

static void test_ctl_socket_directory(void **state)
{
	char base[] = "/tmp/bsc-ctl-XXXXXX", sub[96], sock[128], err[512];
	struct bsc_ctl *c;
	sd_event *ev = NULL;

	if (geteuid())
		skip();
	assert_non_null(mkdtemp(base));
	assert_true(sd_event_new(&ev) >= 0);

	/* Missing: created 0750. */
	snprintf(sub, sizeof(sub), "%s/run", base);
	snprintf(sock, sizeof(sock), "%s/control.sock", sub);
	c = bsc_ctl_listen(ev, sock, NULL, ctl_handler_nop, NULL, err, sizeof(err));
	assert_non_null(c);
	assert_int_equal(dir_mode(sub), 0750);
	bsc_ctl_close(c);

	/* There, 0755 root's: used, and still 0755 afterwards. */
	assert_int_equal(chmod(sub, 0755), 0);
	c = bsc_ctl_listen(ev, sock, NULL, ctl_handler_nop, NULL, err, sizeof(err));
	assert_non_null(c);
	assert_int_equal(dir_mode(sub), 0755);
	bsc_ctl_close(c);

	/* World-writable, even sticky as /tmp: refused, and left 1777. */
	assert_int_equal(chmod(sub, 01777), 0);
	c = bsc_ctl_listen(ev, sock, NULL, ctl_handler_nop, NULL, err, sizeof(err));
	assert_null(c);
	assert_non_null(strstr(err, "refused: its directory"));
	assert_non_null(strstr(err, "writable by others (mode 1777"));
	assert_int_equal(dir_mode(sub), 01777);

	/* Someone else's: refused. */
	assert_int_equal(chmod(sub, 0755), 0);
	assert_int_equal(chown(sub, 65534, 65534), 0);
	c = bsc_ctl_listen(ev, sock, NULL, ctl_handler_nop, NULL, err, sizeof(err));
	assert_null(c);
	assert_non_null(strstr(err, "not root's"));

	assert_int_equal(rmdir(sub), 0);
	assert_int_equal(rmdir(base), 0);
	sd_event_unref(ev);
}

/* The control socket: nothing a client does stalls the loop. */
static void ctl_handler_ping(void *data, const char *request, FILE *out)
{
	fprintf(out, "%s\n", !strcmp(request, "ping") ? "pong" : "unknown");
}

static int ctl_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

/* Run the loop for ms; the longest single iteration, in ns. */
static uint64_t ctl_loop(sd_event *ev, unsigned ms)
{
	uint64_t end = now_ns() + ms * 1000000ull, worst = 0;

	while (now_ns() < end) {
		uint64_t t = now_ns();

		assert_true(sd_event_run(ev, 5000) >= 0);
		if (now_ns() - t > worst)
			worst = now_ns() - t;
	}
	return worst;
}

static void test_ctl_clients_cannot_stall(void **state)
{
	char dir[] = "/tmp/bsc-ctl2-XXXXXX", sock[96], buf[64];
	int hung[20], c, i, n;
	struct bsc_ctl *ctl;
	sd_event *ev = NULL;
	uint64_t worst, t0;
	char err[256];

	assert_non_null(mkdtemp(dir));
	snprintf(sock, sizeof(sock), "%s/control.sock", dir);
	assert_true(sd_event_new(&ev) >= 0);
	ctl = bsc_ctl_listen(ev, sock, NULL, ctl_handler_ping, NULL, err, sizeof(err));
	assert_non_null(ctl);

	/* Five clients that connect and send nothing: the loop never waits
	 * on them (the blocking socket waited 200 ms for each). */
	for (i = 0; i < 5; i++)
		hung[i] = ctl_connect(sock);
	worst = ctl_loop(ev, 300);
	print_message("# 5 silent clients: the longest loop iteration %.1f ms\n", worst / 1e6);
	assert_true(worst < 100000000ull);

	/* Meanwhile a request in two writes is read whole and answered. */
	c = ctl_connect(sock);
	assert_int_equal(send(c, "pi", 2, 0), 2);
	ctl_loop(ev, 50);
	assert_int_equal(send(c, "ng\n", 3, 0), 3);
	ctl_loop(ev, 50);
	n = (int)recv(c, buf, sizeof(buf) - 1, MSG_DONTWAIT);
	assert_true(n > 0);
	buf[n] = 0;
	assert_string_equal(buf, "pong\n");
	close(c);

	/* At most 16 at once: the 17th is closed at once, not queued. */
	for (i = 5; i < 16; i++)
		hung[i] = ctl_connect(sock);
	c = ctl_connect(sock);
	ctl_loop(ev, 50);
	assert_int_equal(recv(c, buf, sizeof(buf), MSG_DONTWAIT), 0);
	close(c);

	/* The silent ones are closed at their deadline (2 s). */
	t0 = now_ns();
	ctl_loop(ev, 2500);
	for (i = 0; i < 16; i++) {
		assert_int_equal(recv(hung[i], buf, sizeof(buf), MSG_DONTWAIT), 0);
		close(hung[i]);
	}
	print_message("# the silent clients closed within %.0f ms\n", (now_ns() - t0) / 1e6);

	/* and the socket serves again */
	c = ctl_connect(sock);
	assert_int_equal(send(c, "ping\n", 5, 0), 5);
	ctl_loop(ev, 50);
	n = (int)recv(c, buf, sizeof(buf) - 1, MSG_DONTWAIT);
	assert_int_equal(n, 5);
	close(c);
	bsc_ctl_close(ctl);
	sd_event_unref(ev);
	assert_int_equal(rmdir(dir), 0);
}

int main(void)
{
	T_ADD_ROWS("oper state", oper_cases, test_oper_state);
	T_ADD(test_ctl_socket_directory);
	T_ADD(test_ctl_clients_cannot_stall);

	return t_run("bascule_control", NULL, NULL) ? 1 : 0;
}
