// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_dataplane.c - the XDP programs run on crafted packets with
 * BPF_PROG_TEST_RUN: for every case, a packet in, the verdict, the packet
 * out (compared byte for byte with one built independently, checksums and
 * all), the reason counter that must move, and the map effects.
 *
 * Adding a case is adding a row to a table of tests/dataplane/rows_*.c, by
 * topic; a new table is registered below, in its place.  Each case starts
 * from the same state: three uplinks up (fiber active), empty flow tables,
 * zero counters.  What the files share is tests/dataplane/common.h.
 * Runs in a private network namespace (the kernel wants real devices behind
 * the devmap and ingress ifindex, so a few veths are made there).
 */
#include <bpf/libbpf.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>

#include "lib/bpfload.h"
#include "dataplane/common.h"

/* ------------------------------------------------------------ setup */

static int group_setup(void **state)
{
	const char *devs[4] = { "bt0", "bt2", "bt4", "bt6" };
	int i;

	(void)state;
	if (unshare(CLONE_NEWNET)) {
		perror("unshare(CLONE_NEWNET) (the data-plane tests need root)");
		return -1;
	}
	/* The kernel's side as on the edge: addresses, forwarding, a default
	 * route via fiber, a VPN's prefix behind another device, routes that
	 * refuse, and the neighbour entries the source guard reads. */
	if (system("ip link set lo up && for i in 0 2 4 6; do ip link add bt$i type veth peer name bt$((i+1)) && ip link set bt$i up && ip link set bt$((i+1)) up; done"
		   " && sysctl -qw net.ipv4.ip_forward=1"
		   " && ip addr add 192.0.2.2/24 dev bt0 && ip addr add 198.51.100.2/24 dev bt2"
		   " && ip addr add 100.64.0.2/24 dev bt4 && ip addr add 10.77.0.1/24 dev bt6"
		   " && ip route add default via 192.0.2.1 dev bt0 && ip link set bt2 mtu " CELL_MTU_S
		   " && ip route add " VPN_NET " dev bt1"
		   " && ip route add blackhole " BLACKHOLED "/32 && ip route add unreachable " UNREACHABLE "/32"
		   " && ip neigh add " LAN_HOST " lladdr " GUARD_MAC " dev bt6 nud permanent"
		   " && ip neigh add " LAN_HOST2 " lladdr " HOST2_MAC " dev bt6 nud permanent")) {
		fprintf(stderr, "cannot create test veths\n");
		return -1;
	}
	for (i = 0; i < 4; i++)
		E.ifidx[i] = if_nametoindex(devs[i]);
	E.skel = t_bpf_load(&E.m, 16384, 131072);
	if (!E.skel)
		return -1;
	E.prog[LAN] = bpf_program__fd(E.skel->progs.bascule_lan);
	E.prog[WAN] = bpf_program__fd(E.skel->progs.bascule_wan);
	build_quotes();
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	bascule_bpf__destroy(E.skel);
	return 0;
}

int main(void)
{
	/* the rows, in the order of the topics' sections */
	T_ADD_CASES(lan_new_flows);
	T_ADD_CASES(lan_to_kernel);
	T_ADD_CASES(lan_malformed);
	T_ADD_CASES(lan_tcp_stateless);
	T_ADD_CASES(lan_uplink_failed);
	T_ADD_CASES(lan_icmp_errors);
	T_ADD_CASES(wan_to_lan);
	T_ADD_CASES(wan_drills);
	T_ADD_CASES(wan_icmp_errors);
	T_ADD_CASES(box_ports);
	T_ADD_CASES(lan_identity);
	T_ADD_CASES(kernel_routes);
	T_ADD_CASES(too_big);
	T_ADD_CASES(wan_cannot_turn);
	T_ADD_CASES(classes);
	/* the other tests */
	add_forward_tests();
	add_hardening_tests();
	add_flows_tests();
	return t_run("dataplane", group_setup, group_teardown);
}
