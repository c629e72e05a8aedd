/* The voice setting of a family's members, as the CLI and the phone set
 * it: one audit row per member, naming the member by id. */
#include <string.h>

#include "handlers/handler.h"

struct each {
	struct hctx *h;
	const char *ref;
	int on;
	int n;
	int rc;
};

static int set_one(struct each *e, const struct member *m)
{
	const struct audit_entry a = {e->h->actor, e->on ? "voice.on" : "voice.off", e->ref, NULL, 0, 0, m->id};
	int rc;

	if ((rc = store_member_set_voice(e->h->store, m->id, e->on)) != 0 ||
	    (rc = store_audit_add(e->h->store, e->h->now, &a)) != 0)
		return rc;
	e->n++;
	return 0;
}

static int set_each(const void *rec, void *arg)
{
	struct each *e = arg;

	if ((e->rc = set_one(e, rec)) != 0)
		return 1;
	return 0;
}

int voice_setting_set(struct hctx *h, const struct family *f, const char *member, int on, int *count)
{
	struct each e = {h, f->ref, on, 0, 0};
	struct member m;
	int rc;

	*count = 0;
	if (member != NULL) {
		if ((rc = store_member_get(h->store, f->id, member, &m)) != 0)
			return rc;
		rc = set_one(&e, &m);
	} else {
		rc = store_member_each(h->store, f->id, set_each, &e);
		if (rc > 0 || e.rc != 0)
			rc = e.rc;
		if (rc == 0 && e.n == 0)
			rc = -CB_ESTATE;
	}
	*count = e.n;
	return rc;
}
