/* A fake gateway for the contract suite: a struct gateway_ops that runs on
 * the caller's loop, counts every call, keeps what it was asked to send,
 * and answers each send (or edit) with the next outcome from a script
 * (GW_SENT once the script is used up; an edit keeps the id it edited). Answers come later on the loop, as a real
 * gateway's do, never inside the send call. */
#ifndef CASEBOT_FAKEGW_H
#define CASEBOT_FAKEGW_H

#include <uv.h>

#include "bot/gateways/gateway.h"

#define FAKEGW_PART_MAX 1024     /* bytes one part holds: split() cuts there */
#define FAKEGW_SCRIPT_MAX 16
#define FAKEGW_KEEP 64           /* calls kept, oldest first */

struct fakegw_call {
	int media;                   /* 0: send (a part), 1: send_media, 2: edit */
	char edited[GATEWAY_ID_MAX]; /* edit: the message id it named */
	char address[64];
	char text[FAKEGW_PART_MAX + 1];  /* send: the part; send_media: the ref */
	size_t len;                  /* the whole part's bytes: text keeps the first FAKEGW_PART_MAX */
	int nbuttons;
	int outside_window;          /* send: what the outbox said of the window */
	uint64_t at_ms;              /* loop time of the call */
};

struct fakegw {
	struct gateway gw;           /* first: ops->free gets this back */
	struct gateway_ops ops;      /* its own: the name is the fake's */
	uv_loop_t *loop;
	struct gateway_result script[FAKEGW_SCRIPT_MAX];
	int nscript, next;
	struct gateway_result media_script;   /* every send_media, when set */
	int media_scripted;
	int sends, media_sends, edits, directs, answered;
	struct fakegw_call calls[FAKEGW_KEEP];
	int ncalls;
	int pending;                 /* answers not delivered yet */
	int next_id;
};

/* The fake poses as the gateway of channel kind name ("telegram"). */
void fakegw_init(struct fakegw *f, uv_loop_t *loop, const char *name);
/* The next send (or send_media) is answered with outcome; retry_after for
 * GW_RETRY_AFTER. Returns the scripted answer, for the rest of its fields
 * (NULL when the script is full). */
struct gateway_result *fakegw_push(struct fakegw *f, enum gateway_outcome outcome, int retry_after, const char *reason);

/* A smaller part (all fakes), to see a text cut in several. */
void fakegw_set_part_max(size_t n);
/* Every send_media is answered with outcome (sends keep their script). */
void fakegw_media_outcome(struct fakegw *f, enum gateway_outcome outcome, const char *reason);

#endif
