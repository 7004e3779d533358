/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * maps.h - the data plane's maps.  All are pinned by name under the pin root
 * (default /sys/fs/bpf/bascule/) so that the operator can read them with
 * `bpftool map dump pinned ...` and a restarted controller adopts them.
 */
#ifndef BSC_MAPS_H
#define BSC_MAPS_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "bascule.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct bsc_config);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} config SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, BSC_MAX_UPLINKS);
	__type(key, __u32);
	__type(value, struct bsc_uplink);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} uplinks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, BSC_MAX_POLICIES);
	__type(key, __u32);
	__type(value, struct bsc_policy);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} policy SEC(".maps");

/* The traffic classes' rules (bascule.h, struct bsc_class_rule), in order;
 * config.n_class_rules of them in use. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, BSC_MAX_CLASS_RULES);
	__type(key, __u32);
	__type(value, struct bsc_class_rule);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} class_rules SEC(".maps");

/* The balance classes' tables (bascule.h, struct bsc_balance), by class. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, BSC_MAX_CLASSES);
	__type(key, __u32);
	__type(value, struct bsc_balance);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} balance SEC(".maps");

/* Slots 0..BSC_MAX_UPLINKS-1: uplink devices; BSC_LAN_SLOT: the LAN.
 * The kernel adds BPF_F_RDONLY_PROG to a devmap's flags, so libbpf's pin
 * compatibility check fails on it: the loader pins and reuses this one
 * itself. */
struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP);
	__uint(max_entries, BSC_TX_SLOTS);
	__type(key, __u32);
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} tx_ports SEC(".maps");

/* The two directions of every binding.  Plain hash tables, not LRU: an
 * LRU could evict one direction alone (a `rev` entry gone while its flow
 * lives lets the NAT hand the same external 5-tuple to another host, who
 * would then receive the first one's replies), and under a flood of new
 * flows it would silently evict other hosts' live bindings.  A full table
 * refuses new flows instead, counted (drop_map_full, drop_nat_exhausted);
 * the controller's sweep removes both directions of an idle binding
 * together, and the per-host budgets keep one host from filling them.
 * `rev` has a little more room than `flows` (the loader sizes both): a
 * flow that moves holds its new reverse entry before it frees the old. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, BSC_DEFAULT_FLOWS);
	__type(key, struct bsc_flow_key);
	__type(value, struct bsc_flow);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} flows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, BSC_DEFAULT_FLOWS + BSC_DEFAULT_FLOWS / 16);
	__type(key, struct bsc_rev_key);
	__type(value, struct bsc_rev);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} rev SEC(".maps");

/* Per-LAN-host new-flow budget; LRU so that spoofed sources cannot fill it
 * beyond its size either. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, struct bsc_host);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} hosts SEC(".maps");

/* The same budget per LAN MAC (bascule.h, struct bsc_host). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, struct bsc_host);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} host_macs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, BSC_STATS_ENTRIES);
	__type(key, __u32);
	__type(value, struct bsc_uplink_stats);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} uplink_stats SEC(".maps");

/* Generation of the bindings (bascule.h, struct bsc_flow_cache): bumped by
 * whoever deletes or moves bindings (the controller's sweep, a rebind). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} flow_gen SEC(".maps");

/* Fragments in flight (bascule.h, struct bsc_frag): LRU, since an entry
 * is only needed for a datagram's few milliseconds. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8192);
	__type(key, struct bsc_frag_key);
	__type(value, struct bsc_frag);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} frags SEC(".maps");

/* Not pinned: a fresh (empty) cache with every load of the programs. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, BSC_FLOW_CACHE_SLOTS);
	__type(key, __u32);
	__type(value, struct bsc_flow_cache);
} flow_cache SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, BSC_R_MAX);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} reasons SEC(".maps");

#endif /* BSC_MAPS_H */
