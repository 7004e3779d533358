/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * dataplane/dataplane.h - loading the BPF object, pinning its maps, attaching its
 * programs with pinned bpf_links, and taking it all down again.
 */
#ifndef BSC_DATAPLANE_H
#define BSC_DATAPLANE_H

#include <stddef.h>
#include "config/config.h"
#include "dataplane/maps.h"

struct bascule_bpf;
struct bpf_link;

struct bsc_dp_link {
	char ifname[BSC_NAME_LEN];
	char path[300];
	struct bpf_link *link;
	int adopted;            /* an existing pinned link was reused */
};

struct bsc_dp {
	struct bascule_bpf *skel;
	struct bsc_maps maps;
	char pin_root[256];
	int n_links;
	struct bsc_dp_link links[BSC_MAX_UPLINKS + 1];
	int lock_fd;            /* flock on the pin root: one controller */
};

/* Make sure pin_root exists on a bpf filesystem, mounting bpffs on
 * /sys/fs/bpf when the root lives there and it is not mounted yet. */
int bsc_dp_ensure_bpffs(const char *pin_root, char *err, size_t errlen);
/* Open and load the object, reusing maps already pinned under the pin
 * root (a restart keeps every binding). */
int bsc_dp_load(struct bsc_dp *dp, const struct bsc_cfg *cfg, char *err, size_t errlen);
/* Attach the LAN or the uplink program to ifname.  A link already pinned
 * for that interface is updated in place, so forwarding never stops. */
int bsc_dp_attach(struct bsc_dp *dp, const char *ifname, int lan, char *err, size_t errlen);
/* keep: leave programs attached and maps pinned (restart, upgrade);
 * otherwise detach everything and remove the pins. */
void bsc_dp_close(struct bsc_dp *dp, int keep);
/* The LAN program's fd: a drill runs its synthetic flow through it. */
int bsc_dp_lan_prog_fd(const struct bsc_dp *dp);
/* Remove what a (possibly killed) daemon left pinned: detaches too. */
int bsc_dp_purge(const char *pin_root, char *err, size_t errlen);

#endif
