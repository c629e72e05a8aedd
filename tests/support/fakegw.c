#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bot/casebot.h"
#include "tests/support/fakegw.h"

struct answer {
	uv_timer_t timer;
	struct fakegw *f;
	struct gateway_result r;
	gateway_sent_cb cb;
	void *arg;
};

static void answer_closed(uv_handle_t *h)
{
	free(h->data);
}

static void answer_due(uv_timer_t *t)
{
	struct answer *a = t->data;

	a->f->pending--;
	a->f->answered++;
	a->cb(&a->r, a->arg);
	uv_close((uv_handle_t *)&a->timer, answer_closed);
}

static struct fakegw *fake(struct gateway *gw)
{
	return (struct fakegw *)gw;
}

/* The call kept, or NULL once FAKEGW_KEEP are. */
static struct fakegw_call *keep(struct fakegw *f, int media, const char *address, const char *text, size_t len,
				int nbuttons)
{
	struct fakegw_call *c;

	if (f->ncalls == FAKEGW_KEEP)
		return NULL;
	c = &f->calls[f->ncalls++];
	c->media = media;
	cb_strlcpy(c->address, address, sizeof(c->address));
	c->len = len;
	if (len > FAKEGW_PART_MAX)
		len = FAKEGW_PART_MAX;
	memcpy(c->text, text, len);
	c->text[len] = '\0';
	c->nbuttons = nbuttons;
	c->at_ms = uv_now(f->loop);
	return c;
}

/* The next scripted outcome, on a timer of 0 ms: later, on the loop. A
 * message edited keeps its id (edited); a new one gets the next. */
static int answer(struct fakegw *f, int media, const char *edited, gateway_sent_cb cb, void *arg)
{
	struct answer *a = calloc(1, sizeof(*a));

	if (a == NULL)
		return -CB_ENOMEM;
	a->f = f;
	a->cb = cb;
	a->arg = arg;
	if (media && f->media_scripted)
		a->r = f->media_script;
	else if (f->next < f->nscript)
		a->r = f->script[f->next++];
	else
		a->r.outcome = GW_SENT;
	if (a->r.outcome == GW_SENT && edited != NULL)
		cb_strlcpy(a->r.message_id, edited, sizeof(a->r.message_id));
	else if (a->r.outcome == GW_SENT)
		snprintf(a->r.message_id, sizeof(a->r.message_id), "%d", ++f->next_id);
	uv_timer_init(f->loop, &a->timer);
	a->timer.data = a;
	f->pending++;
	uv_timer_start(&a->timer, answer_due, 0, 0);
	return 0;
}

static int fake_start(struct gateway *gw)
{
	(void)gw;
	return 0;
}

static void fake_stop(struct gateway *gw)
{
	(void)gw;
}

static int fake_send(struct gateway *gw, const struct gateway_part *p, gateway_sent_cb cb, void *arg)
{
	struct fakegw *f = fake(gw);

	f->sends++;
	keep(f, 0, p->address, p->text, p->len, p->nbuttons);
	if (f->ncalls > 0)
		f->calls[f->ncalls - 1].outside_window = p->outside_window;
	return answer(f, 0, NULL, cb, arg);
}

static int fake_edit(struct gateway *gw, const char *message_id, const struct gateway_part *p, gateway_sent_cb cb,
		     void *arg)
{
	struct fakegw *f = fake(gw);
	struct fakegw_call *c;

	f->edits++;
	if ((c = keep(f, 2, p->address, p->text, p->len, p->nbuttons)) != NULL)
		cb_strlcpy(c->edited, message_id, sizeof(c->edited));
	return answer(f, 0, message_id, cb, arg);
}

static int fake_send_media(struct gateway *gw, const char *address, const char *media_kind,
			   const char *media_ref, gateway_sent_cb cb, void *arg)
{
	struct fakegw *f = fake(gw);

	(void)media_kind;
	f->media_sends++;
	keep(f, 1, address, media_ref, strlen(media_ref), 0);
	return answer(f, 1, NULL, cb, arg);
}

static void fake_send_direct(struct gateway *gw, const char *address, const char *text)
{
	(void)address;
	(void)text;
	fake(gw)->directs++;
}

/* split() has no gateway argument: the limit is the fake's, for all. */
static size_t part_max = FAKEGW_PART_MAX;

void fakegw_set_part_max(size_t n)
{
	part_max = n > 0 && n <= FAKEGW_PART_MAX ? n : FAKEGW_PART_MAX;
}

/* At most part_max bytes, cut at the last space or line break. */
static size_t fake_split(const char *text, size_t len, size_t *next)
{
	size_t n = len;

	if (len > part_max) {
		n = part_max;
		while (n > 0 && text[n] != ' ' && text[n] != '\n')
			n--;
		if (n == 0)
			n = part_max;
		while (n > 0 && (unsigned char)text[n] >= 0x80 && (unsigned char)text[n] < 0xC0)
			n--;
	}
	*next = n;
	return n;
}

static int fake_busy(const struct gateway *gw)
{
	return ((const struct fakegw *)gw)->pending;
}

static void fake_free(struct gateway *gw)
{
	(void)gw;
}

void fakegw_init(struct fakegw *f, uv_loop_t *loop, const char *name)
{
	memset(f, 0, sizeof(*f));
	f->loop = loop;
	f->ops.name = name;
	f->ops.start = fake_start;
	f->ops.stop = fake_stop;
	f->ops.send = fake_send;
	f->ops.send_media = fake_send_media;
	f->ops.edit = fake_edit;
	f->ops.send_direct = fake_send_direct;
	f->ops.split = fake_split;
	f->ops.busy = fake_busy;
	f->ops.free = fake_free;
	f->gw.ops = &f->ops;
}

struct gateway_result *fakegw_push(struct fakegw *f, enum gateway_outcome outcome, int retry_after,
				   const char *reason)
{
	struct gateway_result *r;

	if (f->nscript == FAKEGW_SCRIPT_MAX)
		return NULL;
	r = &f->script[f->nscript++];
	memset(r, 0, sizeof(*r));
	r->outcome = outcome;
	r->retry_after = retry_after;
	cb_strlcpy(r->reason, reason != NULL ? reason : "", sizeof(r->reason));
	return r;
}

void fakegw_media_outcome(struct fakegw *f, enum gateway_outcome outcome, const char *reason)
{
	memset(&f->media_script, 0, sizeof(f->media_script));
	f->media_script.outcome = outcome;
	cb_strlcpy(f->media_script.reason, reason, sizeof(f->media_script.reason));
	f->media_scripted = 1;
}
