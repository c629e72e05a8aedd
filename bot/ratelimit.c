#include <string.h>

#include "bot/ratelimit.h"

/* Five per cent under the published limit. */
#define MARGIN 0.95

void bucket_init(struct bucket *b, double per_second, double burst, uint64_t now)
{
	memset(b, 0, sizeof(*b));
	b->rate = per_second * MARGIN / 1000.0;
	if (burst <= 0.0)
		burst = per_second * (1.0 - MARGIN - 0.01);
	b->burst = burst < 1.0 ? 1.0 : burst;
	b->tokens = b->burst;
	b->last = now;
}

static void refill(struct bucket *b, uint64_t now)
{
	if (now > b->last) {
		b->tokens += (double)(now - b->last) * b->rate;
		if (b->tokens > b->burst)
			b->tokens = b->burst;
		b->last = now;
	}
}

uint64_t bucket_wait(struct bucket *b, uint64_t now)
{
	uint64_t wait = 0;

	if (b->hold_until > now)
		wait = b->hold_until - now;
	refill(b, now);
	if (b->tokens < 1.0) {
		uint64_t need = (uint64_t)((1.0 - b->tokens) / b->rate) + 1;

		if (need > wait)
			wait = need;
	}
	return wait;
}

void bucket_take(struct bucket *b, uint64_t now)
{
	refill(b, now);
	b->tokens -= 1.0;
}

void bucket_hold(struct bucket *b, uint64_t until)
{
	if (until > b->hold_until)
		b->hold_until = until;
}

void chat_limits_init(struct chat_limits *cl, double per_second)
{
	memset(cl->slots, 0, sizeof(cl->slots));
	cl->per_second = per_second;
}

static int idle(struct chat_slot *s, uint64_t now)
{
	return s->inflight == 0 && s->b.hold_until <= now && bucket_wait(&s->b, now) == 0 &&
	       s->b.tokens >= s->b.burst;
}

struct chat_slot *chat_limits_get(struct chat_limits *cl, int64_t key, uint64_t now)
{
	size_t start = (size_t)((uint64_t)key * 0x9E3779B97F4A7C15ull >> 52) % RATELIMIT_CHATS;
	struct chat_slot *reuse = NULL;

	for (size_t i = 0; i < RATELIMIT_CHATS; i++) {
		struct chat_slot *s = &cl->slots[(start + i) % RATELIMIT_CHATS];

		if (s->key == key)
			return s;
		if (s->key == 0) {
			if (reuse == NULL)
				reuse = s;
			break;
		}
		if (reuse == NULL && idle(s, now))
			reuse = s;
	}
	if (reuse == NULL)
		return NULL;
	/* An idle chat's bucket is full, so dropping it forgets nothing. */
	reuse->key = key;
	reuse->inflight = 0;
	bucket_init(&reuse->b, cl->per_second, 0.0, now);
	return reuse;
}
