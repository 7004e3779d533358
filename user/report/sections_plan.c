// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * report/sections_plan.c - the report's head and the sections of the plan itself,
 * from the configuration: at a glance (with the history's headline
 * figures), the site and its links, what happens on its own during an
 * outage, what the staff check, whom to call.  Plain sentences, for the
 * business owner; written with writer.c's primitives only.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "report/report_priv.h"

void rpt_head(struct doc *d, const struct model *m)
{
	const struct bsc_cfg *c = m->cfg;
	const char *site = c->site.name[0] ? c->site.name : "this site";
	char tz[16];
	time_t now = (time_t)(m->o->now_ms / 1000);
	struct tm tm;

	localtime_r(&now, &tm);
	strftime(tz, sizeof(tz), "%Z", &tm);
	if (d->md) {
		fputs("# Continuity plan: ", d->f);
		rpt_esc(d, site);
		fputs("\n\n", d->f);
	} else {
		fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
		      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
		      "<meta name=\"generator\" content=\"bascule report\">\n<title>Continuity plan: ",
		      d->f);
		rpt_esc(d, site);
		fputs("</title>\n<style>\n"
		      "body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#1b1f23;"
		      "margin:0;background:#f5f6f8;line-height:1.45}\n"
		      "main{max-width:1000px;margin:0 auto;padding:24px;background:#fff}\n"
		      "h1{font-size:1.8em;margin:0 0 4px}h2{border-bottom:2px solid #1565c0;padding-bottom:4px;"
		      "margin-top:36px}h3{margin-bottom:6px}\n"
		      ".sub{color:#555;margin:0}\n"
		      "table{border-collapse:collapse;width:100%;margin:8px 0 16px;font-size:.93em}\n"
		      "th,td{border:1px solid #d0d4da;padding:5px 8px;text-align:left;vertical-align:top}\n"
		      "th{background:#eef1f5}td.num{text-align:right;font-variant-numeric:tabular-nums;"
		      "white-space:nowrap}\n"
		      "td.ok{color:#1b5e20;font-weight:600}td.bad{color:#b71c1c;font-weight:600}\n"
		      ".cards{display:flex;flex-wrap:wrap;gap:12px;margin:16px 0}\n"
		      ".card{flex:1 1 200px;border:1px solid #d0d4da;border-radius:6px;padding:10px 14px}\n"
		      ".card .v{font-size:1.5em;font-weight:700}.card .k{color:#555;font-size:.9em}\n"
		      ".note{background:#fff8e1;border-left:4px solid #f9a825;padding:8px 12px}\n"
		      "figure{margin:12px 0}figcaption{color:#555;font-size:.9em}\n"
		      "svg.timeline{max-width:100%;height:auto;font-size:12px}\n"
		      "svg .lane{text-anchor:end;fill:#1b1f23}svg .tick{text-anchor:middle;fill:#444}"
		      "svg .legend{fill:#333}\n"
		      "footer{color:#666;font-size:.85em;margin-top:36px;border-top:1px solid #ddd;"
		      "padding-top:8px}\n"
		      "@media print{body{background:#fff}main{padding:0}section{break-inside:avoid-page}}\n"
		      "</style>\n</head>\n<body>\n<main>\n<header>\n<h1>Continuity plan: ", d->f);
		rpt_esc(d, site);
		fputs("</h1>\n", d->f);
	}
	rpt_p_open(d, "sub");
	if (c->site.address[0])
		rpt_t(d, "%s. ", c->site.address);
	rpt_t(d, "Period: %s to %s (%s). Generated %s.", rpt_day(m->o->from_ms),
	      rpt_day(m->o->to_ms - 1), tz, rpt_when(m->o->now_ms, 0));
	rpt_p_close(d);
	rpt_html(d, "</header>\n");
}

static void card(struct doc *d, const char *value, const char *key)
{
	if (d->md) {
		fputs("- ", d->f);
		rpt_esc(d, key);
		fputs(": **", d->f);
		rpt_esc(d, value);
		fputs("**\n", d->f);
		return;
	}
	fputs("<div class=\"card\"><div class=\"v\">", d->f);
	rpt_esc(d, value);
	fputs("</div><div class=\"k\">", d->f);
	rpt_esc(d, key);
	fputs("</div></div>\n", d->f);
}

void rpt_summary(struct doc *d, const struct model *m)
{
	int64_t longest = 0;
	char v[64];
	int i, n_primary = 0;

	rpt_section(d, "summary", "At a glance");
	rpt_html(d, "<div class=\"cards\">\n");
	if (!m->h) {
		card(d, "no history", "outages, drills and availability need the history");
	} else {
		card(d, rpt_pct(m->site.pct), "site online (share of the observed time)");
		for (i = 0; i < m->n_outages; i++) {
			const struct bsc_outage *o = &m->outages[i];

			if (m->primary >= 0 && !o->site && !strcmp(o->uplink, rpt_up_name(m, m->primary))) {
				n_primary++;
				if (rpt_outage_end(m, o) - o->start_ms > longest)
					longest = rpt_outage_end(m, o) - o->start_ms;
			}
		}
		snprintf(v, sizeof(v), "%d", n_primary);
		card(d, v, m->primary >= 0 ? "outages of the primary link" : "outages");
		card(d, n_primary ? rpt_dur(longest) : "-", "longest outage of the primary link");
		snprintf(v, sizeof(v), "%d", m->n_site_outages);
		card(d, v, "times the whole site was offline");
		if (m->n_drills) {
			if (m->drills[0].cutover_ms < 0)
				snprintf(v, sizeof(v), "%s (no cut-over)",
					 m->drills[0].passed ? "passed" : "FAILED");
			else
				snprintf(v, sizeof(v), "%s (%.0f ms)",
					 m->drills[0].passed ? "passed" : "FAILED", m->drills[0].cutover_ms);
			card(d, v, "last drill");
		} else {
			card(d, "none yet", "drills");
		}
	}
	rpt_html(d, "</div>\n");
	rpt_md(d, "\n");
	rpt_section_end(d);
}

void rpt_site_section(struct doc *d, const struct model *m)
{
	static const char *const heads[] = { "Link", "Role", "Provider", "Equipment",
					     "Provider's support", "Metered", "Monthly cost" };
	const struct bsc_cfg *c = m->cfg;
	int k, backup = 0;

	rpt_section(d, "site", "The site and its Internet links");
	rpt_p_open(d, NULL);
	rpt_t(d, "%s has %d Internet link%s. Bascule, on the box between the office network and these links, "
	      "sends the traffic through one of them and switches to another on its own when it fails.",
	      c->site.name[0] ? c->site.name : "The site", c->n_uplinks, c->n_uplinks == 1 ? "" : "s");
	rpt_p_close(d);
	rpt_table_open(d, "uplinks", 7, heads);
	for (k = 0; k < c->n_uplinks; k++) {
		int i = m->order[k];
		const struct bsc_uplink_cfg *u = &c->uplinks[i];

		rpt_row_open(d);
		rpt_cell(d, NULL, -1, "%s (%s)", u->name, u->ifname);
		if (i == m->primary)
			rpt_cell(d, NULL, -1, "primary");
		else
			rpt_cell(d, NULL, -1, "backup %d", ++backup);
		rpt_cell(d, NULL, -1, "%s", u->provider[0] ? u->provider : "-");
		rpt_cell(d, NULL, -1, "%s", u->equipment[0] ? u->equipment : "-");
		rpt_cell(d, NULL, -1, "%s", u->support[0] ? u->support : "-");
		if (u->health.metered && u->cost_per_gb >= 0)
			rpt_cell(d, NULL, -1, "yes, %s per GB", rpt_money(u->cost_per_gb, m->cur));
		else
			rpt_cell(d, NULL, -1, "%s", u->health.metered ? "yes" : "no");
		if (u->monthly_cost >= 0)
			rpt_cell(d, "num", -1, "%s", rpt_money(u->monthly_cost, m->cur));
		else
			rpt_cell(d, "num", -1, "not given");
		rpt_row_close(d);
	}
	rpt_table_close(d);
	rpt_section_end(d);
}

/* A traffic class in the operator's words: where its traffic goes, what
 * it never uses, what happens with none of its links, and at failback. */
static void class_item(struct doc *d, const struct model *m, const struct bsc_class_cfg *k)
{
	const struct bsc_cfg *c = m->cfg;
	static const char *const back[] = {
		[BSC_FAILBACK_STAY] = "its calls and connections in progress stay where they are",
		[BSC_FAILBACK_MOVE_UDP] = "its calls move back too",
		[BSC_FAILBACK_RESET_TCP] = "its calls move back too, and its connections are restarted there",
	};
	uint32_t sum = 0;
	int i;

	rpt_item_open(d);
	rpt_b(d, "%s", k == &c->classes[0] ? "Everything else" : k->name);
	rpt_t(d, ": ");
	if (!k->n_uplinks) {
		rpt_t(d, "every link, in the order above");
	} else if (k->balance) {
		for (i = 0; i < k->n_uplinks; i++)
			sum += k->weights[i];
		rpt_t(d, "spread over ");
		for (i = 0; i < k->n_uplinks; i++)
			rpt_t(d, "%s (%u in %u)%s", c->uplinks[k->uplinks[i]].name, k->weights[i], sum,
			      i + 2 < k->n_uplinks ? ", " : i + 1 < k->n_uplinks ? " and " : "");
		rpt_t(d, ", each connection staying on its link%s",
		      k->persist_source ? " and each computer's connections all on one" : "");
	} else {
		for (i = 0; i < k->n_uplinks; i++)
			rpt_t(d, "%s%s", c->uplinks[k->uplinks[i]].name,
			      i + 1 < k->n_uplinks ? ", then " : "");
		rpt_t(d, k->n_uplinks == 1 ? " only" : "");
	}
	if (!k->metered)
		rpt_t(d, "; never a metered link");
	if (k->n_uplinks)
		rpt_t(d, "; with none of them working, %s",
		      k->fallback_any ? "any link that works" : "it waits (its new connections are refused)");
	rpt_t(d, ". When a better link is back, %s.", back[bsc_class_failback(c, (int)(k - c->classes))]);
	rpt_item_close(d);
}

void rpt_automatic_section(struct doc *d, const struct model *m)
{
	const struct bsc_cfg *c = m->cfg;
	const struct bsc_uplink_cfg *p = m->primary >= 0 ? &c->uplinks[m->primary] : NULL;
	int k;

	rpt_section(d, "automatic", "What happens on its own during an outage");
	if (!p) {
		rpt_section_end(d);
		return;
	}
	rpt_list_open(d, 0);
	rpt_item_open(d);
	rpt_t(d, "Normally all traffic goes through ");
	rpt_b(d, "%s", p->name);
	rpt_t(d, "%s%s%s.", p->provider[0] ? " (" : "", p->provider, p->provider[0] ? ")" : "");
	if (c->n_uplinks > 1) {
		rpt_t(d, " If it fails, traffic goes to ");
		for (k = 1; k < c->n_uplinks; k++)
			rpt_t(d, "%s%s", rpt_up_name(m, m->order[k]), k + 1 < c->n_uplinks ? ", or else " : "");
		rpt_t(d, ": the first of them that works.");
	}
	rpt_item_close(d);
	if (p->n_probes) {
		const struct bsc_health_cfg *hc = &p->health;
		uint32_t worst = hc->down_after * hc->interval_active_ms + hc->timeout_ms;

		rpt_item_open(d);
		rpt_t(d, "Bascule tests every link all the time (%d test target%s on %s). A cable pulled or a "
		      "router switched off is seen at once. A link that stays connected but no longer reaches "
		      "the Internet is given up after ", p->n_probes, p->n_probes == 1 ? "" : "s", p->name);
		rpt_b(d, "%u ms at most", worst);
		rpt_t(d, " (%u tests in a row without an answer, %u ms apart, %u ms to answer).",
		      hc->down_after, hc->interval_active_ms, hc->timeout_ms);
		rpt_item_close(d);
	} else {
		rpt_item_open(d);
		rpt_t(d, "%s has no test targets configured: only a cable pulled or a router switched off is "
		      "noticed, not an Internet provider that stops answering.", p->name);
		rpt_item_close(d);
	}
	rpt_item_open(d);
	rpt_t(d, "Phone calls (VoIP), video calls and VPNs carry on over the backup link after a short "
	      "break. Downloads and web pages that were loading are cut at once so that the programs "
	      "reconnect immediately through the backup instead of waiting minutes.");
	rpt_item_close(d);
	rpt_item_open(d);
	rpt_t(d, "When %s works again, Bascule waits until it has answered well for ", p->name);
	rpt_b(d, "%s", rpt_dur(c->failback_hold_ms));
	rpt_t(d, " before new connections go back to it, so a link that keeps dropping does not bounce "
	      "traffic back and forth. %s",
	      c->failback_moves_flows ? "Calls and other datagram traffic move back too." :
	      "Calls in progress stay on the backup until they end.");
	rpt_item_close(d);
	/* the traffic classes, in file order, the default class last */
	for (k = 1; c->n_classes > 1 && k <= c->n_classes; k++)
		class_item(d, m, &c->classes[k % c->n_classes]);
	for (k = 0; k < c->n_uplinks; k++) {
		const struct bsc_uplink_cfg *u = &c->uplinks[m->order[k]];

		if (!u->health.metered)
			continue;
		rpt_item_open(d);
		rpt_t(d, "%s is metered: while it stands by it is tested only every %s to save data",
		      u->name, rpt_dur(u->health.interval_metered_ms));
		if (u->cost_per_gb >= 0)
			rpt_t(d, "; data used on it costs %s per GB",
			      rpt_money(u->cost_per_gb, m->cur));
		rpt_t(d, ".");
		rpt_item_close(d);
	}
	if (c->manage_routes) {
		rpt_item_open(d);
		rpt_t(d, "The box's own traffic (its name lookups, a VPN ending on it) follows the active link too.");
		rpt_item_close(d);
	}
	if (c->n_hooks) {
		rpt_item_open(d);
		rpt_t(d, "At every change, %d alert script%s run%s (for example a text message or a ticket to "
		      "the IT provider).", c->n_hooks, c->n_hooks == 1 ? "" : "s", c->n_hooks == 1 ? "s" : "");
		rpt_item_close(d);
	}
	rpt_list_close(d);
	rpt_section_end(d);
}

void rpt_staff_section(struct doc *d, const struct model *m)
{
	const struct bsc_site_cfg *s = &m->cfg->site;
	int i;

	rpt_section(d, "staff", "What the staff should check");
	rpt_p_open(d, NULL);
	rpt_t(d, "Nobody needs to switch anything: the change-over is automatic. When the Internet seems "
	      "slow or cut, check, in this order:");
	rpt_p_close(d);
	if (!s->n_checks) {
		rpt_p_open(d, "note");
		rpt_t(d, "No checks are configured yet: add staff_check lines to the [site] section of %s.",
		      m->cfg->path);
		rpt_p_close(d);
	} else {
		rpt_list_open(d, 1);
		for (i = 0; i < s->n_checks; i++) {
			rpt_item_open(d);
			rpt_t(d, "%s", s->staff_check[i]);
			rpt_item_close(d);
		}
		rpt_list_close(d);
	}
	rpt_section_end(d);
}

void rpt_contacts_section(struct doc *d, const struct model *m)
{
	static const char *const heads[] = { "Order", "Who", "Role", "Phone", "E-mail", "When" };
	static const char *const sup_heads[] = { "Link", "Provider", "Support" };
	const struct bsc_cfg *c = m->cfg;
	int order[BSC_MAX_CONTACTS], i, j, n = c->n_contacts, any = 0;

	rpt_section(d, "contacts", "Who to call");
	for (i = 0; i < n; i++)
		order[i] = i;
	/* by escalation level, unset last, config order on ties */
	for (i = 1; i < n; i++)
		for (j = i; j > 0; j--) {
			uint32_t a = c->contacts[order[j]].escalation, p = c->contacts[order[j - 1]].escalation;
			int x = order[j];

			if ((a ? a : 1000) >= (p ? p : 1000))
				break;
			order[j] = order[j - 1];
			order[j - 1] = x;
		}
	if (!n) {
		rpt_p_open(d, "note");
		rpt_t(d, "No contacts are configured: add [contact NAME] sections to %s.", c->path);
		rpt_p_close(d);
	} else {
		rpt_p_open(d, NULL);
		rpt_t(d, "If the checks above fail, call these people in this order; go to the next one if "
		      "nobody answers within 15 minutes.");
		rpt_p_close(d);
		rpt_table_open(d, "contacts", 6, heads);
		for (i = 0; i < n; i++) {
			const struct bsc_contact_cfg *k = &c->contacts[order[i]];

			rpt_row_open(d);
			if (k->escalation)
				rpt_cell(d, "num", -1, "%u", k->escalation);
			else
				rpt_cell(d, "num", -1, "-");
			rpt_cell(d, NULL, -1, "%s", k->name);
			rpt_cell(d, NULL, -1, "%s", k->role[0] ? k->role : "-");
			rpt_cell(d, NULL, -1, "%s", k->phone[0] ? k->phone : "-");
			rpt_cell(d, NULL, -1, "%s", k->email[0] ? k->email : "-");
			rpt_cell(d, NULL, -1, "%s", k->hours[0] ? k->hours : "-");
			rpt_row_close(d);
		}
		rpt_table_close(d);
	}
	for (i = 0; i < c->n_uplinks; i++)
		any |= c->uplinks[i].support[0] != 0;
	if (!any) {
		rpt_section_end(d);
		return;
	}
	rpt_h3(d, "The links' providers");
	rpt_table_open(d, "support", 3, sup_heads);
	for (i = 0; i < c->n_uplinks; i++) {
		const struct bsc_uplink_cfg *u = &c->uplinks[m->order[i]];

		if (!u->support[0])
			continue;
		rpt_row_open(d);
		rpt_cell(d, NULL, -1, "%s", u->name);
		rpt_cell(d, NULL, -1, "%s", u->provider[0] ? u->provider : "-");
		rpt_cell(d, NULL, -1, "%s", u->support);
		rpt_row_close(d);
	}
	rpt_table_close(d);
	rpt_section_end(d);
}
