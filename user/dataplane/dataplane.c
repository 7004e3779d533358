// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * dataplane/dataplane.c - the BPF object's life cycle.
 *
 * Maps are pinned by name under the pin root (libbpf's pin_root_path), so
 * that a restarted controller picks them up with every NAT binding intact.
 * Programs are attached through bpf_links that are pinned as link_<ifname>:
 * a daemon killed outright leaves the data plane forwarding, and the next one
 * swaps its new program into the same link (bpf_link__update_program), which
 * is atomic: no packet sees "no program".
 *
 * libbpf's own XDP link is used rather than libxdp's dispatcher: Bascule owns
 * its interfaces, the dispatcher adds an indirect call per packet, and the
 * pinned-link update above is what restart without loss rests on.
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <linux/magic.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "dataplane/dataplane.h"
#include "bascule.skel.h"

static int is_bpffs(const char *path)
{
	struct statfs st;

	return !statfs(path, &st) && st.f_type == BPF_FS_MAGIC;
}

static int mkdir_p(const char *path, mode_t mode)
{
	char buf[256];
	size_t i, len = strlen(path);

	if (len >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, path, len + 1);
	for (i = 1; i <= len; i++) {
		if (buf[i] != '/' && buf[i] != '\0')
			continue;
		buf[i] = '\0';
		if (mkdir(buf, mode) && errno != EEXIST)
			return -errno;
		buf[i] = path[i];
	}
	return 0;
}

int bsc_dp_ensure_bpffs(const char *pin_root, char *err, size_t errlen)
{
	int ret;

	if (!strncmp(pin_root, "/sys/fs/bpf", 11) && !is_bpffs("/sys/fs/bpf")) {
		if (mount("bpf", "/sys/fs/bpf", "bpf", 0, "mode=0700")) {
			snprintf(err, errlen, "cannot mount bpffs on /sys/fs/bpf: %s",
				 strerror(errno));
			return -errno;
		}
	}
	ret = mkdir_p(pin_root, 0700);
	if (ret) {
		snprintf(err, errlen, "cannot create pin root %s: %s", pin_root, strerror(-ret));
		return ret;
	}
	if (!is_bpffs(pin_root)) {
		snprintf(err, errlen, "pin root %s is not on a bpf filesystem (mount -t bpf bpf DIR)",
			 pin_root);
		return -EINVAL;
	}
	return 0;
}

int bsc_dp_load(struct bsc_dp *dp, const struct bsc_cfg *cfg, char *err, size_t errlen)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts, .pin_root_path = cfg->pin_root);
	char tx_path[300];
	int ret, tx_fd;

	memset(dp, 0, sizeof(*dp));
	dp->lock_fd = -1;
	bsc_maps_init(&dp->maps);
	snprintf(dp->pin_root, sizeof(dp->pin_root), "%s", cfg->pin_root);
	ret = bsc_dp_ensure_bpffs(cfg->pin_root, err, errlen);
	if (ret)
		return ret;
	/* Two controllers on one pin root would fight over the maps. */
	dp->lock_fd = open(cfg->pin_root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dp->lock_fd < 0 || flock(dp->lock_fd, LOCK_EX | LOCK_NB)) {
		snprintf(err, errlen, "another bascule controller is running on %s", cfg->pin_root);
		if (dp->lock_fd >= 0)
			close(dp->lock_fd);
		dp->lock_fd = -1;
		return -EBUSY;
	}
	dp->skel = bascule_bpf__open_opts(&opts);
	if (!dp->skel) {
		snprintf(err, errlen, "cannot open BPF object: %s", strerror(errno));
		return -errno;
	}
	bpf_map__set_max_entries(dp->skel->maps.flows, cfg->flow_table_size);
	/* room for the flows that move (bpf/lib/maps.h) */
	bpf_map__set_max_entries(dp->skel->maps.rev, cfg->flow_table_size + cfg->flow_table_size / 16);

	/* tx_ports: see bpf/lib/maps.h for why libbpf does not pin it. */
	snprintf(tx_path, sizeof(tx_path), "%s/tx_ports", cfg->pin_root);
	bpf_map__set_pin_path(dp->skel->maps.tx_ports, NULL);
	tx_fd = bpf_obj_get(tx_path);
	if (tx_fd >= 0) {
		ret = bpf_map__reuse_fd(dp->skel->maps.tx_ports, tx_fd);
		close(tx_fd);
		if (ret) {
			snprintf(err, errlen, "cannot reuse pinned %s: %s", tx_path, strerror(-ret));
			goto fail;
		}
	}
	ret = bascule_bpf__load(dp->skel);
	if (ret) {
		snprintf(err, errlen,
			 "cannot load the data plane: %s (if maps pinned under %s come from another version or flow_table_size changed, remove them with `bascule purge`)",
			 strerror(-ret), cfg->pin_root);
		goto fail;
	}
	if (tx_fd < 0) {
		ret = bpf_map__pin(dp->skel->maps.tx_ports, tx_path);
		if (ret) {
			snprintf(err, errlen, "cannot pin %s: %s", tx_path, strerror(-ret));
			goto fail;
		}
	}
#define X(n) dp->maps.n = bpf_map__fd(dp->skel->maps.n);
	BSC_MAP_NAMES(X)
#undef X
	return 0;
fail:
	bascule_bpf__destroy(dp->skel);
	dp->skel = NULL;
	close(dp->lock_fd);
	dp->lock_fd = -1;
	return ret;
}

int bsc_dp_attach(struct bsc_dp *dp, const char *ifname, int lan, char *err, size_t errlen)
{
	struct bpf_program *prog = lan ? dp->skel->progs.bascule_lan : dp->skel->progs.bascule_wan;
	struct bsc_dp_link *l = &dp->links[dp->n_links];
	unsigned int ifindex = if_nametoindex(ifname);
	int ret;

	if (!ifindex) {
		snprintf(err, errlen, "interface %s: %s", ifname, strerror(errno));
		return -ENODEV;
	}
	memset(l, 0, sizeof(*l));
	snprintf(l->ifname, sizeof(l->ifname), "%s", ifname);
	snprintf(l->path, sizeof(l->path), "%s/link_%s", dp->pin_root, ifname);

	l->link = access(l->path, F_OK) ? NULL : bpf_link__open(l->path);
	if (l->link) {
		ret = bpf_link__update_program(l->link, prog);
		if (!ret) {
			l->adopted = 1;
			dp->n_links++;
			return 0;
		}
		/* A link for a device that was re-created is dead: start over. */
		bpf_link__unpin(l->link);
		bpf_link__destroy(l->link);
	}
	l->link = bpf_program__attach_xdp(prog, (int)ifindex);
	if (!l->link) {
		ret = -errno;
		snprintf(err, errlen, "cannot attach XDP to %s: %s%s", ifname, strerror(-ret),
			 ret == -EBUSY || ret == -EEXIST ?
				 " (another XDP program is attached: `ip link set dev IF xdp off`)" : "");
		return ret;
	}
	ret = bpf_link__pin(l->link, l->path);
	if (ret) {
		snprintf(err, errlen, "cannot pin link %s: %s", l->path, strerror(-ret));
		bpf_link__destroy(l->link);
		return ret;
	}
	dp->n_links++;
	return 0;
}

void bsc_dp_close(struct bsc_dp *dp, int keep)
{
	int i;

	for (i = 0; i < dp->n_links; i++) {
		if (!keep)
			bpf_link__unpin(dp->links[i].link);
		bpf_link__destroy(dp->links[i].link); /* pinned: stays attached */
	}
	dp->n_links = 0;
	if (dp->skel) {
		if (!keep) {
			char tx_path[300];

			snprintf(tx_path, sizeof(tx_path), "%s/tx_ports", dp->pin_root);
			bpf_object__unpin_maps(dp->skel->obj, NULL);
			bpf_map__unpin(dp->skel->maps.tx_ports, tx_path);
		}
		bascule_bpf__destroy(dp->skel);
		dp->skel = NULL;
	}
	if (!keep)
		rmdir(dp->pin_root); /* only if empty: never someone else's pins */
	if (dp->lock_fd >= 0)
		close(dp->lock_fd);
	dp->lock_fd = -1;
}

int bsc_dp_purge(const char *pin_root, char *err, size_t errlen)
{
	static const char *const maps[] = {
#define X(n) #n,
		BSC_MAP_NAMES(X) BSC_RETIRED_MAP_NAMES(X)
#undef X
	};
	char path[512];
	struct dirent *de;
	size_t i;
	int n = 0;
	DIR *d;

	/* Links first: unpinning the last reference detaches the program. */
	d = opendir(pin_root);
	while (d && (de = readdir(d))) {
		if (strncmp(de->d_name, "link_", 5))
			continue;
		snprintf(path, sizeof(path), "%s/%s", pin_root, de->d_name);
		if (!unlink(path))
			n++;
	}
	if (d)
		closedir(d);
	for (i = 0; i < sizeof(maps) / sizeof(maps[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", pin_root, maps[i]);
		if (!unlink(path))
			n++;
	}
	if (!n)
		snprintf(err, errlen, "nothing pinned under %s", pin_root);
	return n;
}

int bsc_dp_lan_prog_fd(const struct bsc_dp *dp)
{
	return bpf_program__fd(dp->skel->progs.bascule_lan);
}
