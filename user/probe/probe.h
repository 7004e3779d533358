/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * probe/probe.h - health probes sent through one uplink, whatever uplink is active:
 * ICMP echo, TCP connect (SYN-ACK or RST both mean "alive"), DNS query over
 * UDP, HTTP GET with an expected status (and body text), SIP OPTIONS.  Asynchronous, on sd-event.
 */
#ifndef BSC_PROBE_H
#define BSC_PROBE_H

#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-event.h>

enum bsc_probe_kind {
	BSC_PROBE_ICMP = 0,
	BSC_PROBE_TCP,
	BSC_PROBE_DNS,
	BSC_PROBE_HTTP,
	BSC_PROBE_SIP,          /* SIP OPTIONS over UDP: the VoIP provider answers */
};

struct bsc_probe_target {
	enum bsc_probe_kind kind;
	uint32_t addr;          /* network byte order */
	uint16_t port;          /* host order: TCP, DNS (53), HTTP (80) */
	char qname[64];         /* DNS: the A record asked for */
	char host[64];          /* HTTP: Host header (default: the address) */
	char path[128];         /* HTTP: path, default "/" */
	char contains[64];      /* HTTP: a text the body must hold (the real page, not a portal's) */
	int expect_status;      /* HTTP: 0 = exactly 200; SIP: 0 = 2xx or a server's own 4xx */
};

/* Parse one `probe = ...` value:
 *   icmp 203.0.113.1
 *   tcp 203.0.113.10:443
 *   dns 203.0.113.53 example.com          (port 53, or ADDR:PORT)
 *   http 203.0.113.10/health 200          (port 80, or ADDR:PORT/path; status optional)
 *   http 203.0.113.10/health 200 host=example.com   (Host header, default the address)
 *   http 203.0.113.10/ contains=bascule-ok  (status 200, or the one given, and the
 *                                            body's first 4 KiB hold the text)
 *   sip 203.0.113.60                       (OPTIONS to port 5060, or ADDR:PORT; a 2xx
 *   sip 203.0.113.60:5060 200               or a server's own 4xx, or the STATUS given)
 * Returns 0, or -1 with a message naming what is wrong. */
int bsc_probe_target_parse(const char *spec, struct bsc_probe_target *t, char *err, size_t errlen);
/* The same syntax back, for logs and status. */
void bsc_probe_target_format(const struct bsc_probe_target *t, char *buf, size_t len);

struct bsc_prober;

/* Called exactly once per bsc_prober_send(), at the latest when its timeout
 * expires.  ok: the target answered; rtt_ns: send to answer; why: a short
 * reason when !ok ("timeout", "connect: Network is unreachable", ...), ""
 * when ok. */
typedef void (*bsc_probe_cb)(void *userdata, unsigned idx, int ok, uint64_t rtt_ns,
			     const char *why);

/* A prober sends from `ifname` only (SO_BINDTODEVICE) and from its source
 * address (bsc_prober_set_source), so that replies come back on that uplink
 * and the per-uplink routing rule ("from ADDR lookup TABLE") applies. */
struct bsc_prober *bsc_prober_new(sd_event *ev, const char *ifname, bsc_probe_cb cb,
				  void *userdata);
/* Draw the prober's ICMP echo identifier from [1, limit - 1]: the box's
 * side of the NAT's port range, which no LAN host's ping is given. */
void bsc_prober_echo_id_below(struct bsc_prober *p, uint16_t limit);
void bsc_prober_free(struct bsc_prober *p);
/* The uplink's current address (DHCP may change it); 0 = none: sends fail
 * at once with why = "no source address".  ICMP echoes in flight then time
 * out: the ICMP socket is re-bound to the new address. */
void bsc_prober_set_source(struct bsc_prober *p, uint32_t addr);
/* Start one probe.  Returns 0, or -errno if it could not even start (then
 * the callback is still called, once, from the event loop).  Exception: if
 * the probe itself cannot be allocated or timed (-ENOMEM), there is no
 * callback, and bsc_prober_pending() did not grow. */
int bsc_prober_send(struct bsc_prober *p, unsigned idx, const struct bsc_probe_target *t,
		    uint64_t timeout_ns);
/* Probes in flight. */
unsigned bsc_prober_pending(const struct bsc_prober *p);

/* Exposed for the unit tests. */
size_t bsc_dns_build_query(uint8_t *buf, size_t cap, uint16_t id, const char *qname);
/* The rcode of an answer to (id, qname, A, IN), or -1: not such an answer. */
int bsc_dns_answer(const uint8_t *buf, size_t len, uint16_t id, const char *qname);
const char *bsc_dns_rcode_name(int rcode);
int bsc_http_status(const char *buf, size_t len); /* -1: not (yet) a status line */
size_t bsc_sip_build_options(char *buf, size_t cap, uint32_t dst, uint16_t dport, uint32_t src,
			     uint16_t sport, const char *call_id, const char *tag);
/* Status of a SIP response carrying call_id; -1: not a response to it. */
int bsc_sip_reply_status(const char *buf, size_t len, const char *call_id);
/* A final SIP status that shows a live server (2xx, a few 4xx), when no
 * status is given. */
int bsc_sip_status_alive(int status);

#endif
