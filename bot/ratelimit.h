/* Token buckets for the gateways' sending limits (Telegram: about one
 * message a second per chat, thirty a second overall). Times are loop
 * milliseconds. */
#ifndef CASEBOT_RATELIMIT_H
#define CASEBOT_RATELIMIT_H

#include <stdint.h>

struct bucket {
	double tokens;
	double rate;       /* tokens per millisecond */
	double burst;
	uint64_t last;     /* ms */
	uint64_t hold_until;  /* a gateway's retry_after: no token before this */
};

/* rate per second; a safety margin keeps us a little under it, so jitter on
 * the way to the server never makes two messages look closer than allowed.
 * burst 0 picks the largest burst that still keeps every one-second window
 * under the rate: 4% of it, at least one message. */
void bucket_init(struct bucket *b, double per_second, double burst, uint64_t now);
/* Milliseconds until a token is there; 0 if one is there now. */
uint64_t bucket_wait(struct bucket *b, uint64_t now);
void bucket_take(struct bucket *b, uint64_t now);
void bucket_hold(struct bucket *b, uint64_t until);

/* Buckets per chat, keyed by channel id, in a fixed table. Entries whose
 * bucket is full again and that have nothing in flight are reused. */
#define RATELIMIT_CHATS 4096

struct chat_slot {
	int64_t key;       /* 0: free */
	struct bucket b;
	int inflight;
};

struct chat_limits {
	struct chat_slot slots[RATELIMIT_CHATS];
	double per_second;
};

void chat_limits_init(struct chat_limits *cl, double per_second);
/* The slot of a chat, created if needed; NULL when the table is full of
 * busy chats (the caller tries again later). */
struct chat_slot *chat_limits_get(struct chat_limits *cl, int64_t key, uint64_t now);

#endif
