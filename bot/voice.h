/* Voice notes: what a member with voice on also hears when a reminder, a
 * check-in or a document request goes out. The words are the catalogs'
 * voice.* keys, written for listening; the sound is espeak-ng's, encoded
 * as Ogg/Opus (mono, VOICE_BITRATE) with libopusenc; an organisation's
 * recorded clip for a key wins over synthesis. A note is made when its
 * message is sent, in the member's language then, and kept by the hash
 * of its words for as long as that message is (store/voice.c). */
#ifndef CASEBOT_VOICE_H
#define CASEBOT_VOICE_H

#include <stddef.h>

#include <uv.h>

#include "bot/casebot.h"
#include "store/store.h"

struct locales;

#define VOICE_BITRATE 20000            /* bits per second: 16-24 kbit/s is plenty for speech */
#define VOICE_MAX_BYTES (512 * 1024)   /* WhatsApp shows a play button below this */
#define VOICE_MAX_SECONDS 60.0
#define VOICE_TEXT_MAX 2048
#define VOICE_HASH_BYTES 32
#define VOICE_MIME "audio/ogg; codecs=opus"

/* What a message says aloud: its catalog key and the words. -CB_ENOENT
 * for a message with no voice (only reminders, check-ins and document
 * requests and their reminders have one). Like the text's first lines it
 * says when, never what, where or which document. */
struct voice_text {
	char key[64];
	char text[VOICE_TEXT_MAX];
	enum lang lang;
	int fixed;                 /* the key has no placeholder: a clip may stand for it */
};
int voice_text_for(struct store *st, const struct locales *loc, const struct outbox_msg *m, enum lang l,
		   struct voice_text *out);
/* The words of key with sample values (the appointment "dinsdag 3
 * december 14:00", a due date): for a preview and the tests. */
int voice_text_sample(const struct locales *loc, const char *key, enum lang l, time_t when, struct voice_text *out);
/* 1 when key is one of the voice keys; *fixed says it has no placeholder. */
int voice_key_known(const char *key, int *fixed);
/* The voice keys, for the tests and `casebot voice`. */
extern const char *const voice_keys[];
extern const size_t voice_nkeys;

/* The key the cache knows a note by: BLAKE2b of the language, the key and
 * the words (and the encoder's settings, so a change makes new notes). */
void voice_hash(const struct voice_text *t, unsigned char hash[VOICE_HASH_BYTES]);

/* Speaks t and encodes it, under one lock: espeak-ng keeps global state,
 * so one synthesis at a time in the process. Blocking; the daemon calls it
 * from a worker (voice_queue). */
int voice_synthesize(const struct voice_text *t, struct store_audio *out);
/* Checks bytes as Ogg/Opus by decoding all of them with libopusfile:
 * -CB_EINVAL when they are not, -CB_ETOOBIG over VOICE_MAX_BYTES or
 * VOICE_MAX_SECONDS. *seconds (may be NULL) is its length. */
int voice_check(const unsigned char *data, size_t len, double *seconds);

/* The note a member gets for t in the store's family_id (0: none, nothing
 * cached): the clip when one is recorded for a fixed key, else the cached
 * note, else a new one (cached for outbox_id when it is not 0). Blocking. */
int voice_note(struct store *st, const struct voice_text *t, int64_t family_id, int64_t outbox_id,
	       struct store_audio *out);
/* The same without synthesis: -CB_ENOENT when there is neither a clip
 * nor a cached note. On the loop; a hit moves the note to outbox_id. */
int voice_lookup(struct store *st, const struct voice_text *t, int64_t family_id, int64_t outbox_id,
		 struct store_audio *out);

/* The daemon's queue: synthesis on libuv's thread pool, one at a time,
 * so the loop never waits for it. cb runs on the loop with the result
 * (rc, out owned by cb's caller to free) unless the job was cancelled. */
struct voice_queue;
struct voice_job;
typedef void (*voice_done_cb)(int rc, struct store_audio *audio, void *arg);
struct voice_queue *voice_queue_new(uv_loop_t *loop);
/* Queues t; *job (for voice_cancel) stays valid until cb runs or the job
 * is cancelled. */
int voice_queue_add(struct voice_queue *q, const struct voice_text *t, voice_done_cb cb, void *arg,
		    struct voice_job **job);
/* cb will not run for job. */
void voice_cancel(struct voice_job *job);
/* Jobs queued or running. */
int voice_queue_busy(const struct voice_queue *q);
/* Frees the queue once nothing runs (after the loop is drained), or
 * marks it so that the last job frees it. */
void voice_queue_free(struct voice_queue *q);

#endif
