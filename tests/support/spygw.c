/* spygw: records what the contract suite reads, passes everything on to
 * the real gateway (see spygw.h). */
#include <stdlib.h>
#include <string.h>

#include "bot/casebot.h"
#include "tests/support/spygw.h"

#define SPIES_MAX 4

/* split() has no gateway argument, so the spies and their gateways are
 * found here. */
static struct {
	struct fakegw *f;
	struct gateway *real;
} spies[SPIES_MAX];

static struct gateway *real_of(struct gateway *gw)
{
	for (size_t i = 0; i < SPIES_MAX; i++)
		if (spies[i].f != NULL && &spies[i].f->gw == gw)
			return spies[i].real;
	return NULL;
}

static void keep(struct fakegw *f, int media, const char *address, const char *text, size_t len,
		 int nbuttons)
{
	struct fakegw_call *c;

	if (f->ncalls == FAKEGW_KEEP)
		return;
	c = &f->calls[f->ncalls++];
	memset(c, 0, sizeof(*c));
	c->media = media;
	cb_strlcpy(c->address, address, sizeof(c->address));
	c->len = len;
	if (len > FAKEGW_PART_MAX)
		len = FAKEGW_PART_MAX;
	memcpy(c->text, text, len);
	c->text[len] = '\0';
	c->nbuttons = nbuttons;
	c->at_ms = uv_now(f->loop);
}

struct relay {
	struct fakegw *f;
	gateway_sent_cb cb;
	void *arg;
};

static void relayed(const struct gateway_result *r, void *arg)
{
	struct relay *rl = arg;

	rl->f->pending--;
	rl->f->answered++;
	rl->cb(r, rl->arg);
	free(rl);
}

static struct relay *relay_new(struct fakegw *f, gateway_sent_cb cb, void *arg)
{
	struct relay *rl = malloc(sizeof(*rl));

	if (rl != NULL) {
		rl->f = f;
		rl->cb = cb;
		rl->arg = arg;
		f->pending++;
	}
	return rl;
}

static int spy_start(struct gateway *gw)
{
	(void)gw;
	return 0;
}

static void spy_stop(struct gateway *gw)
{
	struct gateway *real = real_of(gw);

	real->ops->stop(real);
}

static int spy_send(struct gateway *gw, const struct gateway_part *p, gateway_sent_cb cb, void *arg)
{
	struct fakegw *f = (struct fakegw *)gw;
	struct gateway *real = real_of(gw);
	struct relay *rl;
	int rc;

	f->sends++;
	keep(f, 0, p->address, p->text, p->len, p->nbuttons);
	if ((rl = relay_new(f, cb, arg)) == NULL)
		return -CB_ENOMEM;
	if ((rc = real->ops->send(real, p, relayed, rl)) != 0) {
		f->pending--;
		free(rl);
	}
	return rc;
}

static int spy_send_media(struct gateway *gw, const char *address, const char *media_kind,
			  const char *media_ref, gateway_sent_cb cb, void *arg)
{
	struct fakegw *f = (struct fakegw *)gw;
	struct gateway *real = real_of(gw);
	struct relay *rl;
	int rc;

	f->media_sends++;
	keep(f, 1, address, media_ref, strlen(media_ref), 0);
	if ((rl = relay_new(f, cb, arg)) == NULL)
		return -CB_ENOMEM;
	if ((rc = real->ops->send_media(real, address, media_kind, media_ref, relayed, rl)) != 0) {
		f->pending--;
		free(rl);
	}
	return rc;
}

static int spy_edit(struct gateway *gw, const char *message_id, const struct gateway_part *p,
		    gateway_sent_cb cb, void *arg)
{
	struct fakegw *f = (struct fakegw *)gw;
	struct gateway *real = real_of(gw);
	struct relay *rl;
	int rc;

	f->edits++;
	keep(f, 2, p->address, p->text, p->len, p->nbuttons);
	if (f->ncalls > 0)
		cb_strlcpy(f->calls[f->ncalls - 1].edited, message_id, sizeof(f->calls[0].edited));
	if ((rl = relay_new(f, cb, arg)) == NULL)
		return -CB_ENOMEM;
	if ((rc = real->ops->edit(real, message_id, p, relayed, rl)) != 0) {
		f->pending--;
		free(rl);
	}
	return rc;
}

static void spy_send_direct(struct gateway *gw, const char *address, const char *text)
{
	struct gateway *real = real_of(gw);

	((struct fakegw *)gw)->directs++;
	real->ops->send_direct(real, address, text);
}

static int spy_busy(const struct gateway *gw)
{
	const struct fakegw *f = (const struct fakegw *)gw;
	struct gateway *real = real_of((struct gateway *)gw);

	return f->pending + real->ops->busy(real);
}

static void spy_free(struct gateway *gw)
{
	for (size_t i = 0; i < SPIES_MAX; i++)
		if (spies[i].f != NULL && &spies[i].f->gw == gw) {
			spies[i].real->ops->free(spies[i].real);
			spies[i].f = NULL;
			spies[i].real = NULL;
		}
}

int spygw_wrap(struct fakegw *f, uv_loop_t *loop, struct gateway *real)
{
	size_t i;

	for (i = 0; i < SPIES_MAX && spies[i].f != NULL; i++)
		;
	if (i == SPIES_MAX || real == NULL)
		return -1;
	memset(f, 0, sizeof(*f));
	f->loop = loop;
	f->ops.name = real->ops->name;
	f->ops.start = spy_start;
	f->ops.stop = spy_stop;
	f->ops.send = spy_send;
	f->ops.send_media = real->ops->send_media != NULL ? spy_send_media : NULL;
	f->ops.edit = real->ops->edit != NULL ? spy_edit : NULL;
	f->ops.send_direct = spy_send_direct;
	/* The real gateway's own cut. */
	f->ops.split = real->ops->split;
	/* Downloads are the fetcher's, not the outbox's: not spied on. */
	f->ops.fetch = NULL;
	f->ops.busy = spy_busy;
	f->ops.free = spy_free;
	f->gw.ops = &f->ops;
	f->gw.env = real->env;
	f->gw.caps = real->caps;
	spies[i].f = f;
	spies[i].real = real;
	return 0;
}
