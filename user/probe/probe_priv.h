/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * probe/probe_priv.h - what the files of the probe engine share, not part of its
 * API (probe/probe.h): the probe and prober structures, the probe life
 * cycle (prober.c), the socket helpers, each engine's entry point, and the
 * helpers of the target syntax and wire formats the engines reuse.
 *
 *   spec.c       target syntax: parse and format `probe = ...` specs
 *   wire_dns.c   DNS query and answer (pure)
 *   wire_http.c  HTTP request, status line, headers, body (pure)
 *   wire_sip.c   SIP OPTIONS and its replies (pure)
 *   icmp.c       the ICMP echo engine (the prober's shared raw socket)
 *   tcp.c        the TCP connect engine, which HTTP probes start with
 *   http.c       the HTTP exchange once connected
 *   dns.c        the DNS engine (UDP)
 *   sip.c        the SIP OPTIONS engine (UDP)
 *   prober.c     the prober: probe life cycle, sockets, sending, results
 *
 * The `bascule probe` command (cli/probe_cmd.c) uses WHY_LEN and
 * bsc_probe_parse_number() too.
 */
#ifndef BSC_PROBE_PRIV_H
#define BSC_PROBE_PRIV_H

#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "probe/probe.h"

#define WHY_LEN 128
#define HTTP_HEAD_MAX 512      /* the status line must come within this much */
#define HTTP_RESP_MAX 4096     /* a contains= text must come within this much */
#define HTTP_REQ_MAX 384       /* GET + path (127) + Host (63) + fixed headers */

enum http_phase { HTTP_CONNECTING, HTTP_SENDING, HTTP_READING };

struct probe {
	struct probe *next;
	struct bsc_prober *p;
	unsigned idx;
	struct bsc_probe_target t;
	int fd;                 /* own socket (TCP, DNS, HTTP), or -1 */
	sd_event_source *io;
	sd_event_source *timer; /* the deadline, or "now" once a result is posted */
	uint64_t start_ns;
	uint16_t seq;           /* ICMP echo sequence */
	uint16_t dns_id;
	char call_id[40];       /* SIP */
	int posted, posted_ok;
	uint64_t posted_rtt;
	char why[WHY_LEN];
	enum http_phase phase;
	size_t req_len, req_off, resp_len;
	char req[HTTP_REQ_MAX];
	char resp[HTTP_RESP_MAX];
};

struct bsc_prober {
	sd_event *ev;
	char ifname[IFNAMSIZ];
	bsc_probe_cb cb;
	void *userdata;
	uint32_t src;
	int icmp_fd;            /* created on the first ICMP probe, recreated on a new source */
	sd_event_source *icmp_io;
	uint16_t echo_id;
	uint16_t echo_seq;
	struct probe *probes;
	unsigned n_probes;
};

/* ---- spec.c: target syntax ---------------------------------------- */
const char *bsc_probe_addr_str(uint32_t addr, char buf[INET_ADDRSTRLEN]);
/* The target's port, or its kind's default (DNS 53, HTTP 80, SIP 5060). */
uint16_t bsc_probe_default_port(const struct bsc_probe_target *t);
/* A decimal number of at most 6 digits in [min, max]: 0, or -1. */
int bsc_probe_parse_number(const char *s, long min, long max, long *out);

/* ---- wire_http.c --------------------------------------------------- */
int bsc_probe_status_line(const char *buf, size_t len, size_t v);
size_t bsc_probe_http_build_request(const struct bsc_probe_target *t, char *buf, size_t cap);
void bsc_probe_http_header(const char *buf, size_t len, const char *name, char *out, size_t cap);
const char *bsc_probe_http_body(const char *buf, size_t len);

/* ---- prober.c: life cycle and sockets ------------------------------ */
uint64_t bsc_probe_now_ns(void);
uint16_t bsc_probe_random16(void);
void bsc_probe_finish(struct probe *pr, int ok, uint64_t rtt_ns, const char *why);
void bsc_probe_post(struct probe *pr, int ok);
__attribute__((format(printf, 2, 3)))
void bsc_probe_set_why(struct probe *pr, const char *fmt, ...);
int bsc_probe_set_why_errno(struct probe *pr, const char *what, int err);
int bsc_probe_open_bound_socket(struct bsc_prober *p, int type, int proto, char *why);
struct sockaddr_in bsc_probe_target_sockaddr(const struct bsc_probe_target *t);
int bsc_probe_udp_open(struct probe *pr, const char *what);
int bsc_probe_udp_send(struct probe *pr, const void *req, size_t len,
		       sd_event_io_handler_t on_readable, const char *what);

/* ---- the engines (a start: 0, or -errno with pr->why set) --------- */
int bsc_probe_icmp_start(struct probe *pr);
void bsc_probe_icmp_close(struct bsc_prober *p);
const char *bsc_probe_icmp_error_name(uint8_t type, uint8_t code);
int bsc_probe_tcp_start(struct probe *pr);   /* TCP and HTTP */
void bsc_probe_http_send(struct probe *pr);
void bsc_probe_http_read(struct probe *pr);
int bsc_probe_dns_start(struct probe *pr);
int bsc_probe_sip_start(struct probe *pr);

#endif
