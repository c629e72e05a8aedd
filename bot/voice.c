#include <espeak-ng/espeak_ng.h>
#include <opus/opusenc.h>
#include <opus/opusfile.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bot/log.h"
#include "bot/tz.h"
#include "bot/voice.h"
#include "locales/locale.h"
#include "locales/spoken.h"

/* Keys with a placeholder say a date; the others are fixed sentences,
 * which an organisation may record. */
const char *const voice_keys[] = {
	"voice.reminder",         "voice.reminder_confirmed", "voice.checkin",
	"voice.document_request", "voice.document_request_due", "voice.document_reminder",
	"voice.document_reminder_due",
};
const size_t voice_nkeys = CB_ARRAY_SIZE(voice_keys);

int voice_key_known(const char *key, int *fixed)
{
	for (size_t i = 0; i < voice_nkeys; i++) {
		if (strcmp(key, voice_keys[i]) == 0) {
			if (fixed != NULL)
				*fixed = strcmp(key, "voice.checkin") == 0 || strcmp(key, "voice.document_request") == 0 ||
					 strcmp(key, "voice.document_reminder") == 0;
			return 1;
		}
	}
	return 0;
}

static int render(const struct locales *loc, enum lang l, const char *key, const char *name, const char *value,
		  struct voice_text *out)
{
	const struct locale_param p[] = {{name, value}};
	int rc;

	memset(out, 0, sizeof(*out));
	if (!voice_key_known(key, &out->fixed))
		return -CB_ENOENT;
	cb_strlcpy(out->key, key, sizeof(out->key));
	out->lang = l;
	rc = locale_render(loc, l, key, p, name != NULL ? 1 : 0, out->text, sizeof(out->text));
	return rc;
}

static int due_words(const struct locales *loc, enum lang l, const char *due, char *out, size_t cap)
{
	int y, mon, day;

	if (due[0] == '\0' || tz_parse_date(due, &y, &mon, &day) != 0)
		return -CB_ENOENT;
	return spoken_day(loc, l, y, mon, day, out, cap);
}

int voice_text_for(struct store *st, const struct locales *loc, const struct outbox_msg *m, enum lang l,
		   struct voice_text *out)
{
	char words[256];
	int rc;

	memset(out, 0, sizeof(*out));
	if (strcmp(m->kind, "reminder") == 0) {
		struct appointment a;
		const char *key;

		if ((rc = store_appointment_get(st, m->appointment_id, &a)) != 0)
			return rc;
		/* The question is asked while it is open; once confirmed the
		 * reminder only reminds, as the text does. */
		if (strcmp(a.status, "scheduled") == 0)
			key = "voice.reminder";
		else if (strcmp(a.status, "confirmed") == 0)
			key = "voice.reminder_confirmed";
		else
			return -CB_ENOENT;
		if ((rc = spoken_datetime(loc, l, a.starts_at, words, sizeof(words))) != 0)
			return rc;
		return render(loc, l, key, "when", words, out);
	}
	if (strcmp(m->kind, "checkin") == 0)
		return render(loc, l, "voice.checkin", NULL, NULL, out);
	if (strcmp(m->kind, "document_request") == 0 || strcmp(m->kind, "document_reminder") == 0) {
		const char *base = strcmp(m->kind, "document_request") == 0 ? "voice.document_request"
									      : "voice.document_reminder";
		struct doc_request r;
		char key[64];

		if ((rc = store_docreq_get(st, m->request_id, &r)) != 0)
			return rc;
		if (strcmp(r.status, "open") != 0)
			return -CB_ENOENT;
		if ((rc = due_words(loc, l, r.due_date, words, sizeof(words))) == -CB_ENOENT)
			return render(loc, l, base, NULL, NULL, out);
		if (rc != 0)
			return rc;
		snprintf(key, sizeof(key), "%s_due", base);
		return render(loc, l, key, "due", words, out);
	}
	return -CB_ENOENT;
}

int voice_text_sample(const struct locales *loc, const char *key, enum lang l, time_t when, struct voice_text *out)
{
	char words[256];
	struct tm tm;
	int rc;

	if (strcmp(key, "voice.reminder") == 0 || strcmp(key, "voice.reminder_confirmed") == 0) {
		if ((rc = spoken_datetime(loc, l, when, words, sizeof(words))) != 0)
			return rc;
		return render(loc, l, key, "when", words, out);
	}
	if (strcmp(key, "voice.document_request_due") == 0 || strcmp(key, "voice.document_reminder_due") == 0) {
		tz_local(when, &tm);
		if ((rc = spoken_day(loc, l, tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, words, sizeof(words))) != 0)
			return rc;
		return render(loc, l, key, "due", words, out);
	}
	return render(loc, l, key, NULL, NULL, out);
}

void voice_hash(const struct voice_text *t, unsigned char hash[VOICE_HASH_BYTES])
{
	crypto_generichash_state s;
	char settings[64];

	snprintf(settings, sizeof(settings), "casebot voice 1 opus %d", VOICE_BITRATE);
	crypto_generichash_init(&s, NULL, 0, VOICE_HASH_BYTES);
	crypto_generichash_update(&s, (const unsigned char *)settings, strlen(settings) + 1);
	crypto_generichash_update(&s, (const unsigned char *)lang_code(t->lang), 3);
	crypto_generichash_update(&s, (const unsigned char *)t->key, strlen(t->key) + 1);
	crypto_generichash_update(&s, (const unsigned char *)t->text, strlen(t->text));
	crypto_generichash_final(&s, hash, VOICE_HASH_BYTES);
}

/* ---- synthesis --------------------------------------------------------- */

/* espeak-ng has one global synthesizer: every use is under this lock. */
static uv_mutex_t espeak_lock;
static uv_once_t espeak_once = UV_ONCE_INIT;
static int espeak_state;          /* 0 not tried, 1 ready, -1 failed */
static int espeak_rate;

struct pcm {
	short *s;
	size_t n, cap;
	int failed;
};
static struct pcm *espeak_sink;  /* under espeak_lock */

static int collect_pcm(short *wav, int n, espeak_EVENT *ev)
{
	struct pcm *p = espeak_sink;

	(void)ev;
	if (wav == NULL || n <= 0 || p == NULL || p->failed)
		return 0;
	/* More than the longest note may last stops the synthesis. */
	if (p->n + (size_t)n > (size_t)(VOICE_MAX_SECONDS * espeak_rate)) {
		p->failed = -CB_ETOOBIG;
		return 1;
	}
	if (p->n + (size_t)n > p->cap) {
		size_t cap = p->cap != 0 ? p->cap * 2 : 65536;
		short *grown;

		while (cap < p->n + (size_t)n)
			cap *= 2;
		if ((grown = realloc(p->s, cap * sizeof(*grown))) == NULL) {
			p->failed = -CB_ENOMEM;
			return 1;
		}
		p->s = grown;
		p->cap = cap;
	}
	memcpy(p->s + p->n, wav, (size_t)n * sizeof(*wav));
	p->n += (size_t)n;
	return 0;
}

static void espeak_init_once(void)
{
	espeak_ng_ERROR_CONTEXT ctx = NULL;

	uv_mutex_init(&espeak_lock);
	if (sodium_init() < 0) {
		espeak_state = -1;
		return;
	}
	espeak_ng_InitializePath(NULL);
	if (espeak_ng_Initialize(&ctx) != ENS_OK) {
		espeak_ng_ClearErrorContext(&ctx);
		espeak_state = -1;
		return;
	}
	if (espeak_ng_InitializeOutput(ENOUTPUT_MODE_SYNCHRONOUS, 0, NULL) != ENS_OK) {
		espeak_state = -1;
		return;
	}
	espeak_rate = espeak_ng_GetSampleRate();
	espeak_SetSynthCallback(collect_pcm);
	espeak_state = espeak_rate > 0 ? 1 : -1;
}

/* The voice of each language; French has a Belgian one. */
static const char *voice_name(enum lang l)
{
	switch (l) {
	case LANG_NL:
		return "nl";
	case LANG_FR:
		return "fr-be";
	case LANG_DE:
		return "de";
	default:
		return "en";
	}
}

struct ogg {
	unsigned char *p;
	size_t n, cap;
	int failed;
};

static int ogg_write(void *user, const unsigned char *p, opus_int32 len)
{
	struct ogg *o = user;

	if (o->n + (size_t)len > VOICE_MAX_BYTES) {
		o->failed = -CB_ETOOBIG;
		return 1;
	}
	if (o->n + (size_t)len > o->cap) {
		size_t cap = o->cap != 0 ? o->cap * 2 : 32768;
		unsigned char *grown;

		while (cap < o->n + (size_t)len)
			cap *= 2;
		if ((grown = realloc(o->p, cap)) == NULL) {
			o->failed = -CB_ENOMEM;
			return 1;
		}
		o->p = grown;
		o->cap = cap;
	}
	memcpy(o->p + o->n, p, (size_t)len);
	o->n += (size_t)len;
	return 0;
}

static int ogg_close(void *user)
{
	(void)user;
	return 0;
}

static int encode(const struct pcm *pcm, int rate, struct store_audio *out)
{
	OpusEncCallbacks cbs = {ogg_write, ogg_close};
	struct ogg o = {0};
	OggOpusComments *comments = ope_comments_create();
	OggOpusEnc *enc = NULL;
	int err = 0, rc = -CB_EINVAL;

	if (comments == NULL)
		return -CB_ENOMEM;
	if ((enc = ope_encoder_create_callbacks(&cbs, &o, comments, rate, 1, 0, &err)) == NULL)
		goto out;
	if (ope_encoder_ctl(enc, OPUS_SET_BITRATE(VOICE_BITRATE)) != OPE_OK ||
	    ope_encoder_ctl(enc, OPUS_SET_SIGNAL(OPUS_SIGNAL_VOICE)) != OPE_OK ||
	    /* Speech needs no more; it halves the encoding time. */
	    ope_encoder_ctl(enc, OPUS_SET_COMPLEXITY(4)) != OPE_OK ||
	    ope_encoder_write(enc, pcm->s, (int)pcm->n) != OPE_OK || ope_encoder_drain(enc) != OPE_OK) {
		rc = o.failed != 0 ? o.failed : -CB_EINVAL;
		goto out;
	}
	if (o.failed != 0) {
		rc = o.failed;
		goto out;
	}
	out->data = o.p;
	out->len = o.n;
	out->seconds = (double)pcm->n / rate;
	o.p = NULL;
	rc = 0;
out:
	if (enc != NULL)
		ope_encoder_destroy(enc);
	ope_comments_destroy(comments);
	free(o.p);
	return rc;
}

int voice_synthesize(const struct voice_text *t, struct store_audio *out)
{
	struct pcm pcm = {0};
	int rc = 0;

	memset(out, 0, sizeof(*out));
	uv_once(&espeak_once, espeak_init_once);
	if (espeak_state != 1)
		return -CB_ECONFIG;
	uv_mutex_lock(&espeak_lock);
	espeak_sink = &pcm;
	if (espeak_ng_SetVoiceByName(voice_name(t->lang)) != ENS_OK ||
	    espeak_ng_SetParameter(espeakRATE, 150, 0) != ENS_OK ||
	    espeak_ng_Synthesize(t->text, strlen(t->text) + 1, 0, POS_CHARACTER, 0, espeakCHARS_UTF8, NULL, NULL) !=
		    ENS_OK ||
	    espeak_ng_Synchronize() != ENS_OK)
		rc = -CB_EINVAL;
	espeak_sink = NULL;
	uv_mutex_unlock(&espeak_lock);
	if (rc == 0 && pcm.failed != 0)
		rc = pcm.failed;
	if (rc == 0 && pcm.n == 0)
		rc = -CB_EINVAL;
	if (rc == 0)
		rc = encode(&pcm, espeak_rate, out);
	free(pcm.s);
	return rc;
}

int voice_check(const unsigned char *data, size_t len, double *seconds)
{
	OggOpusFile *of;
	opus_int16 buf[5760 * 2];
	int64_t samples = 0;
	int err = 0, n, rc = 0;

	if (seconds != NULL)
		*seconds = 0;
	if (data == NULL || len == 0)
		return -CB_EINVAL;
	if (len > VOICE_MAX_BYTES)
		return -CB_ETOOBIG;
	if ((of = op_open_memory(data, len, &err)) == NULL)
		return -CB_EINVAL;
	if (op_link_count(of) != 1 || op_channel_count(of, -1) < 1 || op_channel_count(of, -1) > 2)
		rc = -CB_EINVAL;
	/* Every packet decodes, or it is no voice note. */
	while (rc == 0 && (n = op_read(of, buf, (int)CB_ARRAY_SIZE(buf), NULL)) != 0) {
		if (n < 0)
			rc = -CB_EINVAL;
		else
			samples += n;
		if ((double)samples / 48000.0 > VOICE_MAX_SECONDS)
			rc = -CB_ETOOBIG;
	}
	op_free(of);
	if (rc == 0 && samples == 0)
		rc = -CB_EINVAL;
	if (rc == 0 && seconds != NULL)
		*seconds = (double)samples / 48000.0;
	return rc;
}

/* ---- the note a member gets ---------------------------------------------- */

int voice_note(struct store *st, const struct voice_text *t, int64_t family_id, int64_t outbox_id,
	       struct store_audio *out)
{
	unsigned char hash[VOICE_HASH_BYTES];
	int rc;

	if ((rc = voice_lookup(st, t, family_id, outbox_id, out)) != -CB_ENOENT)
		return rc;
	if ((rc = voice_synthesize(t, out)) != 0)
		return rc;
	if (family_id != 0 && outbox_id != 0) {
		voice_hash(t, hash);
		if ((rc = store_voice_cache_put(st, family_id, hash, sizeof(hash), outbox_id, out, time(NULL))) != 0)
			store_audio_free(out);
	}
	return rc;
}

int voice_lookup(struct store *st, const struct voice_text *t, int64_t family_id, int64_t outbox_id,
		 struct store_audio *out)
{
	unsigned char hash[VOICE_HASH_BYTES];
	int rc;

	memset(out, 0, sizeof(*out));
	if (t->fixed && (rc = store_voice_clip_get(st, t->key, t->lang, out)) != -CB_ENOENT)
		return rc;
	if (family_id == 0 || outbox_id == 0)
		return -CB_ENOENT;
	voice_hash(t, hash);
	return store_voice_cache_get(st, family_id, hash, sizeof(hash), outbox_id, out);
}

/* ---- the daemon's queue ---------------------------------------------------- */

struct voice_job {
	uv_work_t work;
	struct voice_queue *q;
	struct voice_text t;
	struct store_audio audio;
	int rc;
	int cancelled;
	voice_done_cb cb;
	void *arg;
	struct voice_job *next;
};

struct voice_queue {
	uv_loop_t *loop;
	struct voice_job *head, **tail;
	struct voice_job *running;
	int n;
	int freeing;
};

struct voice_queue *voice_queue_new(uv_loop_t *loop)
{
	struct voice_queue *q = calloc(1, sizeof(*q));

	if (q == NULL)
		return NULL;
	q->loop = loop;
	q->tail = &q->head;
	return q;
}

static void run_next(struct voice_queue *q);

static void work(uv_work_t *w)
{
	struct voice_job *j = w->data;

	j->rc = voice_synthesize(&j->t, &j->audio);
}

static void worked(uv_work_t *w, int status)
{
	struct voice_job *j = w->data;
	struct voice_queue *q = j->q;

	q->running = NULL;
	q->n--;
	if (status != 0 && j->rc == 0)
		j->rc = -CB_EINVAL;
	if (!j->cancelled && j->cb != NULL)
		j->cb(j->rc, &j->audio, j->arg);
	else
		store_audio_free(&j->audio);
	free(j);
	run_next(q);
}

/* One synthesis at a time: the next starts when the last has come back. */
static void run_next(struct voice_queue *q)
{
	struct voice_job *j;

	while (q->running == NULL && (j = q->head) != NULL) {
		q->head = j->next;
		if (q->head == NULL)
			q->tail = &q->head;
		if (j->cancelled || q->freeing) {
			q->n--;
			free(j);
			continue;
		}
		q->running = j;
		j->work.data = j;
		if (uv_queue_work(q->loop, &j->work, work, worked) != 0) {
			q->running = NULL;
			q->n--;
			if (j->cb != NULL)
				j->cb(-CB_ENOMEM, &j->audio, j->arg);
			free(j);
		}
	}
	if (q->freeing && q->running == NULL && q->head == NULL)
		free(q);
}

int voice_queue_add(struct voice_queue *q, const struct voice_text *t, voice_done_cb cb, void *arg,
		    struct voice_job **job)
{
	struct voice_job *j;

	if (q == NULL || q->freeing || (j = calloc(1, sizeof(*j))) == NULL)
		return -CB_ENOMEM;
	j->q = q;
	j->t = *t;
	j->cb = cb;
	j->arg = arg;
	*q->tail = j;
	q->tail = &j->next;
	q->n++;
	if (job != NULL)
		*job = j;
	run_next(q);
	return 0;
}

void voice_cancel(struct voice_job *job)
{
	if (job != NULL)
		job->cancelled = 1;
}

int voice_queue_busy(const struct voice_queue *q)
{
	return q != NULL ? q->n : 0;
}

void voice_queue_free(struct voice_queue *q)
{
	if (q == NULL)
		return;
	q->freeing = 1;
	run_next(q);
}
