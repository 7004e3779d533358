/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * config/config.h - the controller's configuration: one [bascule] section for the
 * engine, one [uplink NAME] section per uplink, and what the continuity-plan
 * report says about the site: [site] and [contact NAME].  Parsed with inih,
 * validated with messages that name the file, the line and what was expected.
 */
#ifndef BSC_CONFIG_H
#define BSC_CONFIG_H

#include <stdint.h>
#include <stddef.h>
#include "bascule.h"
#include "health/health.h"
#include "probe/probe.h"

#define BSC_DEFAULT_PIN_ROOT "/sys/fs/bpf/bascule"
#define BSC_CFG_AUTO UINT32_MAX  /* derived from other settings at the end */
#define BSC_DEFAULT_CONTROL "/run/bascule/control.sock"
#define BSC_MAX_PROBES 8
#define BSC_MAX_HOOKS 8
#define BSC_MAX_CONTACTS 8
#define BSC_MAX_STAFF_CHECKS 16
#define BSC_DEFAULT_HISTORY "/var/lib/bascule/history.db"
#define BSC_DEFAULT_CONFIG "/etc/bascule/bascule.conf"
#define BSC_RULE_PRIO_BASE 1000 /* `ip rule` priority of uplink N's probes: base + N */
#define BSC_COST_UNSET (-1.0)   /* a cost the configuration does not give */
#define BSC_MAX_CHECKS 12
#define BSC_CHECK_NAME_LEN 32

/* One service check of a drill, run over the backup: `check = NAME KIND ...`
 * with KIND and its arguments as for probes (dns, http, sip, tcp, icmp). */
struct bsc_drill_check {
	char name[BSC_CHECK_NAME_LEN];
	struct bsc_probe_target t;
};

/* [drill]: `bascule drill` on this site. */
struct bsc_drill_cfg {
	uint32_t target;                /* echo target of the synthetic flow; 0 = the
					 * primary's first ICMP probe target */
	uint32_t interval_ms;           /* synthetic flow: one echo every ... */
	uint32_t check_timeout_ms;      /* each service check */
	uint32_t cutover_timeout_ms;    /* no cut-over by then: the drill aborts */
	uint32_t failback_timeout_ms;   /* 0 = failback_hold_ms + 30 s */
	int n_checks;
	struct bsc_drill_check checks[BSC_MAX_CHECKS];
};

/* One `match = ...` line of a [class NAME] section, for the data plane's
 * class_rules (struct bsc_class_rule): every condition given must hold. */
struct bsc_class_match {
	uint32_t src, src_mask;         /* `src PREFIX`, network order; mask 0: any */
	uint32_t dst, dst_mask;         /* `dst PREFIX` */
	uint8_t proto;                  /* `proto tcp|udp|icmp|N`; 0: any */
	uint8_t dscp;                   /* `dscp N|ef|afXY|csN`; BSC_DSCP_ANY: any */
	uint16_t sport_lo, sport_hi;    /* `sport P[-Q]`, host order; 0-65535: any */
	uint16_t dport_lo, dport_hi;    /* `dport P[-Q]` */
	int has_mac;                    /* `mac XX:XX:XX:XX:XX:XX` */
	uint8_t mac[6];
	int cls;                        /* the class it puts a flow in (1..) */
	int line;
};

/* [class NAME]: a traffic class and its uplink policy.  The classes are
 * numbered 1.. in file order (class 0 is the default: what no rule
 * matches; a [class default] section sets its policy and has no match). */
struct bsc_class_cfg {
	char name[BSC_NAME_LEN];
	int line;
	int n_uplinks;                  /* `uplinks = A B C`: failover in that order;
					 * 0: every uplink, by priority */
	char uplink_names[BSC_MAX_UPLINKS][BSC_NAME_LEN];
	int uplinks[BSC_MAX_UPLINKS];   /* the same as indexes of cfg->uplinks
					 * (resolved when the file is read) */
	int fallback_any;               /* `fallback = any`: with all of its uplinks
					 * down, any usable uplink (`none`: dropped) */
	int metered;                    /* `metered = no`: never a metered uplink */
	/* `balance = A:3 B:1` instead of `uplinks`: each new flow goes to one
	 * of the listed uplinks that is usable, by weight, and stays there
	 * (the names are in uplink_names/uplinks, as for `uplinks`). */
	int balance;
	uint32_t weights[BSC_MAX_UPLINKS]; /* of uplinks[i]; 1 when not given */
	int persist_source;             /* `persist = source`: one LAN host's new
					 * flows on one uplink (`flow`: by flow) */
	int failback;                   /* BSC_FAILBACK_*: what the class's move
					 * back to a better uplink does to its
					 * flows (bsc_class_failback) */
};

/* `failback =` of a class.  Its existing flows stay where they are, or its
 * UDP and ICMP ones move, or its TCP ones are reset too (they cannot move:
 * a long-lived tunnel leaves the metered backup).  Not given: the global
 * failback_moves_flows's (move-udp or stay). */
enum {
	BSC_FAILBACK_GLOBAL = 0,
	BSC_FAILBACK_STAY,
	BSC_FAILBACK_MOVE_UDP,
	BSC_FAILBACK_RESET_TCP,
};
extern const char *const bsc_failback_names[4]; /* "", "stay", "move-udp", "reset-tcp" */

struct bsc_uplink_cfg {
	char name[BSC_NAME_LEN];
	char ifname[BSC_NAME_LEN];
	uint32_t gateway;       /* network byte order; 0 with gateway_auto */
	int gateway_auto;       /* `gateway = auto`: learnt from the kernel's routes (DHCP) */
	uint32_t priority;
	uint16_t nat_port_min;  /* `nat_ports = MIN-MAX`: the NAT's own range */
	uint16_t nat_port_max;
	int line;               /* where the section starts, for messages */
	int n_probes;
	struct bsc_probe_target probes[BSC_MAX_PROBES];
	struct bsc_health_cfg health;
	/* for the continuity-plan report */
	char provider[64];
	char equipment[128];    /* "Zyxel 5G router, roof antenna" */
	char support[128];      /* the provider's support: phone or URL */
	double monthly_cost;    /* BSC_COST_UNSET when not given */
	double cost_per_gb;     /* metered data; BSC_COST_UNSET when not given */
};

/* [contact NAME]: who is called during an outage, in escalation order. */
struct bsc_contact_cfg {
	char name[64];
	char role[64];
	char phone[32];
	char email[128];
	char hours[128];        /* free text: "Mon-Sat 6:00-20:00" */
	uint32_t escalation;    /* 1 = called first; 0 = not given */
	int line;
};

/* [site]: what the report says about the business and its targets. */
struct bsc_site_cfg {
	char name[128];
	char address[256];
	uint32_t rto_ms;                /* recovery time objective for drills */
	double downtime_cost_per_hour;  /* BSC_COST_UNSET when not given */
	char currency[16];
	int n_checks;
	char staff_check[BSC_MAX_STAFF_CHECKS][192];
};

struct bsc_cfg {
	char path[256];
	char lan_ifname[BSC_NAME_LEN];
	char pin_root[256];
	uint32_t flow_table_size;
	/* flow expiry, seconds */
	uint32_t tcp_established_timeout;
	uint32_t tcp_transitory_timeout;
	uint32_t tcp_closed_timeout;
	uint32_t udp_timeout;
	uint32_t icmp_timeout;
	uint32_t host_flow_rate;        /* new flows/s per LAN host, 0 = off */
	uint32_t host_flow_burst;
	uint32_t gc_interval_ms;
	uint32_t refresh_interval_ms;
	uint32_t failback_hold_ms;      /* a better uplink must be healthy this long */
	int failback_moves_flows;       /* on failback, UDP/ICMP flows move too */
	uint32_t route_table_base;      /* per-uplink routing tables: base + index */
	uint32_t route_metric;          /* of the default route Bascule keeps */
	int manage_routes;              /* keep the kernel's default route on the active uplink */
	int source_guard;               /* BSC_CFG_SOURCE_GUARD: new flows' sources checked
					 * against the kernel's neighbour table */
	char control_socket[108];
	char metrics_listen[64];        /* ADDR:PORT, or "off" */
	char control_group[32];
	int control_group_line;  /* where it was given, for messages */
	int n_hooks;
	char hooks[BSC_MAX_HOOKS][256];
	char history[256];              /* the history database; "" = off */
	uint32_t history_retention_days;
	uint32_t hook_timeout_ms;       /* a hook still running then is killed */
	uint32_t hook_max_running;      /* hooks at once; more are not started */
	struct bsc_site_cfg site;
	int n_contacts;
	struct bsc_contact_cfg contacts[BSC_MAX_CONTACTS];
	int n_uplinks;
	struct bsc_uplink_cfg uplinks[BSC_MAX_UPLINKS];
	struct bsc_drill_cfg drill;
	/* classes[0] is the default class (named "default"; every uplink by
	 * priority unless a [class default] section says otherwise), then
	 * the [class NAME] sections in file order: n_classes >= 1 */
	int n_classes;
	struct bsc_class_cfg classes[BSC_MAX_CLASSES];
	int n_rules;
	struct bsc_class_match rules[BSC_MAX_CLASS_RULES];
};

/* Parse and validate; on failure returns -1 and writes "file:line: what"
 * lines to err (NUL-terminated, truncated to errlen). */
int bsc_config_load(const char *path, struct bsc_cfg *cfg, char *err, size_t errlen);
int bsc_config_parse_string(const char *text, const char *name, struct bsc_cfg *cfg,
			    char *err, size_t errlen);
void bsc_config_defaults(struct bsc_cfg *cfg);
int bsc_config_find_uplink(const struct bsc_cfg *cfg, const char *name);
/* The primary uplink: the lowest priority value, the first on a tie; -1
 * without uplinks. */
int bsc_config_primary(const struct bsc_cfg *cfg);
/* Class c's failback (BSC_FAILBACK_STAY, _MOVE_UDP or _RESET_TCP), the
 * global failback_moves_flows's where the class says nothing. */
int bsc_class_failback(const struct bsc_cfg *cfg, int c);

#endif
