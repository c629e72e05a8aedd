/* Fetches the photos and files families send, one at a time. The bytes
 * stay in memory until libmagic has seen the first VAULT_SNIFF_BYTES; a
 * photo or PDF is then encrypted chunk by chunk into the family's
 * documents directory (under a temporary name, renamed once whole), and
 * anything else is dropped. No plain byte reaches the disk, so a crash
 * leaves only ciphertext. */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bot/config.h"
#include "bot/fetcher.h"
#include "bot/gateways/gateway.h"
#include "bot/log.h"
#include "bot/metrics.h"
#include "bot/outbox.h"
#include "bot/scheduler.h"
#include "bot/vault.h"
#include "handlers/handler.h"
#include "store/store.h"

#define FETCH_MAX_ATTEMPTS 5
#define FETCH_IDLE_MS 60000

struct fetcher {
	const struct gateway_env *env;  /* the loop, settings, store, catalogs, metrics */
	struct gateway *gateways[GATEWAY_MAX];
	int ngateways;
	struct outbox *outbox;       /* woken when a download queued a message */
	uv_timer_t timer;
	int busy, stopped;
	struct download cur;
	struct gateway *gw;          /* the gateway of the download in hand */
	unsigned char key[VAULT_KEY_BYTES];
	/* The download in flight. */
	unsigned char head[VAULT_SNIFF_BYTES];
	size_t head_len;
	int decided, refused, streaming;
	struct vault_stream vs;
	struct document doc;
	char abs[PATH_MAX];
};

static void tick(uv_timer_t *t);

/* Nothing is written to tmp/ any more; whatever an older version left
 * there is deleted at start. */
static int prepare_tmp(const char *data_dir)
{
	char dir[PATH_MAX];

	snprintf(dir, sizeof(dir), "%s/tmp", data_dir);
	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		return -CB_EIO;
	return vault_clear_dir(dir, 0);
}

/* reason: a log.reason.* code (too_big, failed, no_gateway); why: for the
 * log line. */
static void give_up(struct fetcher *f, const char *reason, const char *why)
{
	struct store *st = f->env->store;
	struct family fam;
	struct hctx h;

	if (store_begin(st) != 0)
		return;
	gateway_hctx(f->env, &h);
	if (store_family_get_id(st, f->cur.family_id, &fam) != 0 ||
	    handler_alert(&h, fam.id, "download_failed", 0, NULL, "download_failed", "what", f->cur.media_kind, "reason",
			  reason, NULL) != 0 ||
	    handler_note(&h, &(struct handler_note){.family_id = fam.id, .at = time(NULL), .direction = "in",
						     .kind = "document", .member_id = f->cur.member_id,
						     .code = "download_failed", .status = "failed"},
			 "what", f->cur.media_kind, "reason", reason, NULL) != 0 ||
	    store_download_done(st, f->cur.id) != 0 || store_commit(st) != 0)
		store_rollback(st);
	log_warn("download #%" PRId64 " given up: %s", f->cur.id, why);
}

/* A file over the gateway's limit: the family hears it in its language,
 * with the limit, and the counsellor is told what happened. */
static void too_big(struct fetcher *f, int64_t limit)
{
	struct store *st = f->env->store;
	struct family_msg fm;
	struct channel ch;
	struct hctx h;

	gateway_hctx(f->env, &h);
	memset(&fm, 0, sizeof(fm));
	if (store_begin(st) != 0)
		return;
	if (store_channel_get(st, f->cur.channel_id, &ch) != 0 || handler_family_msg(&h, &ch, &fm) != 0 ||
	    documents_too_big(&h, &fm, f->cur.media_kind, f->cur.media_size, limit) != 0 ||
	    store_download_done(st, f->cur.id) != 0 || store_commit(st) != 0) {
		store_rollback(st);
		give_up(f, "too_big", "over the size limit");
		return;
	}
	log_info("download #%" PRId64 ": over the size limit, the family was told", f->cur.id);
	outbox_kick(f->outbox);
}

/* The first bytes decide: a photo or PDF starts its encrypted file, and
 * the head goes in first; anything else stops the download. */
static int decide(struct fetcher *f)
{
	int rc;

	f->decided = 1;
	if ((rc = vault_sniff_buffer(f->head, f->head_len, f->doc.mime, sizeof(f->doc.mime))) != 0)
		goto out;
	if (!documents_type_accepted(f->doc.mime)) {
		f->refused = 1;
		rc = -CB_ESTATE;
		goto out;
	}
	if ((rc = documents_new_path(f->env->cfg->data_dir, f->cur.family_id, f->doc.path, sizeof(f->doc.path), f->abs,
				     sizeof(f->abs))) != 0 ||
	    (rc = vault_stream_open(&f->vs, f->key, f->abs)) != 0)
		goto out;
	f->streaming = 1;
	rc = vault_stream_write(&f->vs, f->head, f->head_len);
	if (rc != 0)
		f->streaming = 0;     /* the stream removed its file */
out:
	sodium_memzero(f->head, sizeof(f->head));
	return rc;
}

static int sink(const char *p, size_t n, void *arg)
{
	struct fetcher *f = arg;
	int rc;

	if (!f->decided) {
		size_t take = sizeof(f->head) - f->head_len < n ? sizeof(f->head) - f->head_len : n;

		memcpy(f->head + f->head_len, p, take);
		f->head_len += take;
		p += take;
		n -= take;
		if (f->head_len < sizeof(f->head))
			return 0;
		if ((rc = decide(f)) != 0)
			return rc;
	}
	if (n == 0)
		return 0;
	if ((rc = vault_stream_write(&f->vs, p, n)) != 0)
		f->streaming = 0;
	return rc;
}

static void reset_download(struct fetcher *f)
{
	if (f->streaming)
		vault_stream_abort(&f->vs);
	sodium_memzero(f->head, sizeof(f->head));
	sodium_memzero(f->cur.media_ref, sizeof(f->cur.media_ref));
	f->head_len = 0;
	f->decided = f->refused = f->streaming = 0;
	memset(&f->doc, 0, sizeof(f->doc));
	f->abs[0] = '\0';
}

static void fetched(int rc, int64_t size, void *arg)
{
	struct fetcher *f = arg;
	const struct gateway_env *env = f->env;
	struct family_msg fm;
	struct channel ch;
	struct hctx h;
	int kept = 0;

	(void)size;
	f->busy = 0;
	/* A file shorter than the head is decided at its end. */
	if (rc == 0 && !f->decided)
		rc = decide(f);
	if (f->refused) {
		rc = 0;
		f->doc.path[0] = '\0';
	}
	if (rc == 0 && f->streaming) {
		f->streaming = 0;
		if ((rc = vault_stream_finish(&f->vs, f->doc.mac, &f->doc.size)) == 0)
			kept = 1;
	}
	if (rc == 0) {
		gateway_hctx(env, &h);
		memset(&fm, 0, sizeof(fm));
		if ((rc = store_begin(env->store)) == 0) {
			if ((rc = store_channel_get(env->store, f->cur.channel_id, &ch)) == 0 &&
			    (rc = handler_family_msg(&h, &ch, &fm)) == 0 &&
			    (rc = documents_receive(&h, &fm, f->cur.media_kind, f->cur.media_ref, &f->doc)) == 0 &&
			    (rc = store_download_done(env->store, f->cur.id)) == 0)
				rc = store_commit(env->store);
			if (rc != 0)
				store_rollback(env->store);
		}
		if (rc == 0) {
			metrics_count(env->metrics, "in", ch.kind, "document");
			outbox_kick(f->outbox);
		}
	}
	if (rc != 0 && kept)
		unlink(f->abs);
	reset_download(f);
	if (rc != 0) {
		if (rc == -CB_ETOOBIG)
			too_big(f, f->gw != NULL ? f->gw->ops->fetch_max : 0);
		else if (rc == -CB_EINVAL || f->cur.attempts + 1 >= FETCH_MAX_ATTEMPTS)
			give_up(f, "failed", rc == -CB_EINVAL ? "the gateway refused it" : casebot_strerror(rc));
		else if (store_download_retry(env->store, f->cur.id, time(NULL) + scheduler_backoff(f->cur.attempts + 1)) != 0)
			log_error("download #%" PRId64 ": cannot reschedule", f->cur.id);
	}
	if (!f->stopped)
		uv_timer_start(&f->timer, tick, 0, 0);
}

static void tick(uv_timer_t *t)
{
	struct fetcher *f = t->data;
	struct gateway *gw = NULL;
	struct channel ch;
	int rc;

	if (f->busy || f->stopped)
		return;
	rc = store_download_next(f->env->store, time(NULL), &f->cur);
	if (rc != 0) {
		uv_timer_start(&f->timer, tick, FETCH_IDLE_MS, 0);
		return;
	}
	/* The file is fetched from the gateway of the chat that sent it. */
	if (store_channel_get(f->env->store, f->cur.channel_id, &ch) == 0)
		gw = gateway_find(f->gateways, f->ngateways, ch.kind);
	f->gw = gw;
	if (gw == NULL || gw->ops->fetch == NULL) {
		give_up(f, "no_gateway", "no gateway for this chat");
		uv_timer_start(&f->timer, tick, 0, 0);
		return;
	}
	/* A size the gateway announced over its limit needs no call at all. */
	if (gw->ops->fetch_max > 0 && f->cur.media_size > gw->ops->fetch_max) {
		fetched(-CB_ETOOBIG, 0, f);
		return;
	}
	rc = gw->ops->fetch(gw, f->cur.media_ref, sink, fetched, f);
	if (rc != 0) {
		fetched(rc, 0, f);
		return;
	}
	f->busy = 1;
}

struct fetcher *fetcher_new(const struct gateway_env *env, struct gateway *const *gateways, int ngateways,
			    struct outbox *ob, char *err, size_t errlen)
{
	struct fetcher *f = calloc(1, sizeof(*f));
	char key[PATH_MAX];

	if (f == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (config_document_key_path(env->cfg, key, sizeof(key)) != 0 || vault_load_key(key, f->key) != 0) {
		snprintf(err, errlen, "%s: missing or damaged (run casebot init)", key);
		free(f);
		return NULL;
	}
	if (prepare_tmp(env->cfg->data_dir) != 0) {
		snprintf(err, errlen, "%s/tmp: cannot prepare", env->cfg->data_dir);
		sodium_memzero(f->key, sizeof(f->key));
		free(f);
		return NULL;
	}
	f->env = env;
	for (int i = 0; i < ngateways && i < GATEWAY_MAX; i++)
		f->gateways[f->ngateways++] = gateways[i];
	f->outbox = ob;
	uv_timer_init(env->loop, &f->timer);
	f->timer.data = f;
	uv_timer_start(&f->timer, tick, 0, 0);
	return f;
}

void fetcher_kick(struct fetcher *f)
{
	if (!f->busy && !f->stopped)
		uv_timer_start(&f->timer, tick, 0, 0);
}

int fetcher_busy(const struct fetcher *f)
{
	return f->busy;
}

void fetcher_stop(struct fetcher *f)
{
	f->stopped = 1;
	uv_timer_stop(&f->timer);
}

static void fetcher_closed(uv_handle_t *h)
{
	struct fetcher *f = h->data;

	sodium_memzero(f->key, sizeof(f->key));
	free(f);
}

void fetcher_close(struct fetcher *f)
{
	fetcher_stop(f);
	uv_close((uv_handle_t *)&f->timer, fetcher_closed);
}
