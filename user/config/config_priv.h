/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * config/config_priv.h - what the two halves of the configuration parser share:
 * config.c (the reader, sections, repeated keys, defaults, validation, load)
 * and keys.c (the key table and the parsers of values).  The state of one
 * parse, the kinds of section, the error collector and the key look-up.
 * Not for use outside user/config/.
 */
#ifndef BSC_CONFIG_PRIV_H
#define BSC_CONFIG_PRIV_H

#include <stddef.h>
#include <stdio.h>

#include "config/config.h"

/* The kind of the section keys are read into. */
enum cfg_section {
	CFG_SEC_NONE,           /* none yet, or one refused (reported already) */
	CFG_SEC_BASCULE,        /* [bascule]: struct bsc_cfg */
	CFG_SEC_UPLINK,         /* [uplink NAME]: cfg->uplinks[cur_uplink] */
	CFG_SEC_SITE,           /* [site]: cfg->site */
	CFG_SEC_CONTACT,        /* [contact NAME]: cfg->contacts[cur_contact] */
	CFG_SEC_DRILL,          /* [drill]: cfg->drill */
	CFG_SEC_CLASS,          /* [class NAME]: cfg->classes[cur_class] */
};

struct parse_state {
	struct bsc_cfg *cfg;
	const char *name;       /* file name for messages */
	int line;               /* line being parsed */
	int errors;
	char *err;
	size_t errlen, errused;
	/* the section the reader opened last */
	char section[128];
	int in_section;
	enum cfg_section kind;  /* what it is, CFG_SEC_NONE if refused */
	int cur_uplink;         /* index in cfg->uplinks, or -1 */
	int cur_contact;        /* index in cfg->contacts, or -1 */
	int cur_class;          /* index in cfg->classes (0: [class default]), or -1 */
	int site_line;          /* where [site] was opened, 0 = not yet */
	int bascule_line, drill_line; /* the same for [bascule] and [drill] */
	/* per class, where its `uplinks` and `metered` lines are (0: not
	 * given): the names are resolved, and the policy judged, at the end
	 * of the file, whose messages name those lines */
	int class_uplinks_line[BSC_MAX_CLASSES];
	int class_metered_line[BSC_MAX_CLASSES];
	/* single-valued keys given so far, per section opened, to refuse a
	 * second one instead of silently taking the last */
	int section_seq;
	struct seen_key {
		int section;
		int line;
		char key[40];
	} *seen;
	int n_seen, cap_seen;
	/* text reader */
	const char *text;
	FILE *file;
};

/* config.c: one "file:line: what" line more in the error text. */
void cfg_add_error(struct parse_state *st, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* config.c: 1 if N is a section's name: 1 to BSC_NAME_LEN - 1 of a-z A-Z
 * 0-9 - _ (uplinks, classes, and the names lists of them refer to). */
int cfg_valid_name(const char *n);

/* keys.c: 1 if KEY may be given more than once in a section (each adds one
 * more: probe, hook, check, staff_check, match), whatever the section. */
int cfg_key_repeatable(const char *key);
/* keys.c: KEY = V in the section opened (st->kind): 1 set, 0 an unknown
 * key or a bad value (reported at st->line), or CFG_SEC_NONE (nothing said:
 * the section was reported when opened). */
int cfg_key_set(struct parse_state *st, const char *key, const char *v);
/* keys.c: V as a number from min to max: 0, or -1 when it is not. */
int cfg_parse_u32(const char *v, uint32_t min, uint32_t max, uint32_t *out);
/* classes.c: the keys of a [class NAME] section (keys.c's table points
 * at them); base is the class, 1 set, 0 reported at st->line. */
struct cfg_key;
int cfg_class_match(struct parse_state *st, const struct cfg_key *k, void *base, const char *v);
int cfg_class_uplinks(struct parse_state *st, const struct cfg_key *k, void *base, const char *v);
int cfg_class_fallback(struct parse_state *st, const struct cfg_key *k, void *base, const char *v);
int cfg_class_balance(struct parse_state *st, const struct cfg_key *k, void *base, const char *v);
int cfg_class_persist(struct parse_state *st, const struct cfg_key *k, void *base, const char *v);
int cfg_class_failback(struct parse_state *st, const struct cfg_key *k, void *base, const char *v);

#endif
