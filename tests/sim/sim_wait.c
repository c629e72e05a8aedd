/* GET /control/wait: tests block on a condition instead of polling. The
 * request is held with its own timer and answered as soon as the count of
 * what it waits for reaches the number asked, or when the timer fires,
 * with the count then. "sent" (messages the bot sent) is the core's; a
 * front end counts its own names through sim->wait_count. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bot/log.h"
#include "tests/sim/sim.h"

#define WHAT_MAX 32

struct sim_waiter {
	uv_timer_t timer;                /* owned: freed in its close callback */
	struct sim *sim;
	struct http_server_req *req;
	char what[WHAT_MAX];
	int64_t chat;                    /* 0: any chat */
	long long count;
	struct sim_waiter *next;
};

static long long count_of(struct sim *sim, const char *what, int64_t chat)
{
	if (strcmp(what, "sent") == 0)
		return sim_sent_count(sim, chat);
	return sim->wait_count != NULL ? sim->wait_count(sim, what, chat) : -1;
}

static void reply_count(struct http_server_req *req, long long n)
{
	cJSON *o = cJSON_CreateObject();

	if (o != NULL)
		cJSON_AddNumberToObject(o, "count", (double)n);
	log_info("control wait -> 200");
	sim_reply_json(req, 200, o);
}

static void waiter_closed(uv_handle_t *h)
{
	free(h->data);
}

/* Answers w with the count now, unlinks it and closes its timer. */
static void waiter_answer(struct sim_waiter *w)
{
	struct sim *sim = w->sim;
	struct sim_waiter **pp;

	for (pp = &sim->waiters; *pp != NULL; pp = &(*pp)->next)
		if (*pp == w) {
			*pp = w->next;
			break;
		}
	reply_count(w->req, count_of(sim, w->what, w->chat));
	uv_timer_stop(&w->timer);
	uv_close((uv_handle_t *)&w->timer, waiter_closed);
}

static void on_wait_timer(uv_timer_t *t)
{
	waiter_answer(t->data);
}

void sim_wait_wake(struct sim *sim)
{
	struct sim_waiter *w = sim->waiters, *next;

	for (; w != NULL; w = next) {
		next = w->next;
		if (count_of(sim, w->what, w->chat) >= w->count)
			waiter_answer(w);
	}
}

void sim_wait_shutdown(struct sim *sim)
{
	while (sim->waiters != NULL)
		waiter_answer(sim->waiters);
}

static void wait_error(struct http_server_req *req, int status, const char *msg)
{
	cJSON *o = cJSON_CreateObject();

	if (o != NULL)
		cJSON_AddStringToObject(o, "error", msg);
	log_info("control wait -> %d", status);
	sim_reply_json(req, status, o);
}

void sim_wait_handle(struct sim *sim, struct http_server_req *req)
{
	struct sim_waiter *w;
	char what[WHAT_MAX] = "sent";
	int64_t chat, count, ms;
	long long n;
	int held = 0;

	if (sim_query(req->path, "what", what, sizeof(what)) == -CB_ETOOBIG) {
		wait_error(req, 400, "what is too long");
		return;
	}
	if (sim_query_i64(req->path, "chat_id", 0, &chat) != 0 ||
	    sim_query_i64(req->path, "count", 1, &count) != 0 ||
	    sim_query_i64(req->path, "timeout_ms", 5000, &ms) != 0 || count < 0 ||
	    count > 100000000 || ms < 0 || ms > SIM_WAIT_MAX_MS) {
		wait_error(req, 400, "chat_id, count and timeout_ms must be integers in range");
		return;
	}
	if ((n = count_of(sim, what, chat)) < 0) {
		wait_error(req, 400, "nothing of that name to wait for");
		return;
	}
	if (n >= count || ms == 0) {
		reply_count(req, n);
		return;
	}
	for (w = sim->waiters; w != NULL; w = w->next)
		held++;
	if (held >= SIM_MAX_WAITERS || (w = calloc(1, sizeof(*w))) == NULL) {
		wait_error(req, 503, "too many waits");
		return;
	}
	uv_timer_init(sim->loop, &w->timer);
	w->timer.data = w;
	w->sim = sim;
	w->req = req;
	cb_strlcpy(w->what, what, sizeof(w->what));
	w->chat = chat;
	w->count = count;
	w->next = sim->waiters;
	sim->waiters = w;
	uv_timer_start(&w->timer, on_wait_timer, (uint64_t)ms, 0);
}
