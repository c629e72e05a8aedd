/* The store: one SQLite file in WAL mode, shared by the CLI and the daemon.
 * Every statement is prepared with bound parameters and cached per
 * connection; every write that belongs together is one transaction. */
#ifndef CASEBOT_STORE_H
#define CASEBOT_STORE_H

#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "bot/casebot.h"

#define STORE_NAME_MAX 64
#define STORE_ADDRESS_MAX 128    /* a chat's address, an update's id: any gateway's */
#define STORE_TEXT_MAX 256

struct store;
struct channel;

/* Opens data_dir/casebot.db. With create, makes the directory (0700) and the
 * file (0600) if missing; otherwise a missing database is -CB_ENOENT. Runs
 * the migrations. err gets one line on failure. */
int store_open(const char *data_dir, int create, struct store **out, char *err, size_t errlen);
void store_close(struct store *st);
/* Looks at data_dir/casebot.db without changing it (read-only, no
 * migration): -CB_ENOENT when there is none; otherwise its schema version
 * in *version and PRAGMA quick_check, -CB_ESTORE with the first problem in
 * err when the file is damaged. */
int store_verify(const char *data_dir, int *version, char *err, size_t errlen);
sqlite3 *store_db(struct store *st);
int store_schema_version(struct store *st);
size_t store_schema_count(void);
const char *store_schema_migration(size_t i);

/* A cached prepared statement for a constant SQL string; NULL on error.
 * Call store_done() after the last step. */
sqlite3_stmt *store_stmt(struct store *st, const char *sql);
void store_done(sqlite3_stmt *s);

/* Steps a write to its end: 0, -CB_EEXIST on a duplicate, -CB_EINVAL on
 * another constraint (foreign key, CHECK), -CB_ESTORE. */
int store_exec_stmt(sqlite3_stmt *q);
/* Calls fn for every row (store_rows) or the first row (store_row, which
 * is -CB_ENOENT when there is none); a non-zero return from fn stops and is
 * returned. Both reset the statement. */
typedef int (*store_row_fn)(sqlite3_stmt *q, void *arg);
int store_rows(sqlite3_stmt *q, store_row_fn fn, void *arg);
int store_row(sqlite3_stmt *q, store_row_fn fn, void *arg);
/* Runs a write with three integer parameters ?1 ?2 ?3; -CB_ESTATE when it
 * changed no row (the row was not in the state the statement expects). */
int store_change3(struct store *st, const char *sql, int64_t a, int64_t b, int64_t c);
/* A store_row_fn reading column 0 into an int. */
int store_read_int(sqlite3_stmt *q, void *arg);

/* Reads each row into rec with read, then calls cb(rec, arg). */
typedef int (*store_each_cb)(const void *rec, void *arg);
int store_each(sqlite3_stmt *q, store_row_fn read, void *rec, store_each_cb cb, void *arg);

int store_begin(struct store *st);    /* BEGIN IMMEDIATE; a savepoint inside an open one */
int store_commit(struct store *st);
void store_rollback(struct store *st);
/* Whether a write transaction can start within wait_ms: BEGIN IMMEDIATE
 * and ROLLBACK, which writes nothing (no frame reaches the log). 0 when
 * it can; -CB_ESTATE when another connection holds the write lock that
 * long; -CB_ESTORE on any other failure (a read-only file, say). */
int store_writable(struct store *st, int wait_ms);
/* synchronous=FULL on (1) or back to NORMAL (0); store_inbound_batch uses it. */
int store_sync_full(struct store *st, int on);
/* One line describing the last SQLite error, for logs. */
const char *store_errmsg(struct store *st);

/* Binds NULL for 0 ids, and NULL for empty optional text. */
int store_bind_id(sqlite3_stmt *s, int i, int64_t id);
int store_bind_opt_text(sqlite3_stmt *s, int i, const char *text);
/* Copies a text column (or "" for NULL) into a capped buffer. */
void store_col_text(sqlite3_stmt *s, int i, char *dst, size_t cap);

/* staff */
enum staff_role { ROLE_COUNSELLOR = 0, ROLE_COORDINATOR };
struct staff {
	int64_t id;
	char name[STORE_NAME_MAX];
	enum staff_role role;
	enum lang lang;
	char email[STORE_TEXT_MAX];
	int active;
	int away;
};
int store_staff_add(struct store *st, const struct staff *s, time_t now, int64_t *id);
int store_staff_get(struct store *st, const char *name, struct staff *out);
int store_staff_get_id(struct store *st, int64_t id, struct staff *out);
int store_staff_each(struct store *st, store_each_cb cb, void *arg);
int store_staff_set_away(struct store *st, int64_t id, int away);
/* Marks a staff member as gone (their chats are unlinked by the caller). */
int store_staff_deactivate(struct store *st, int64_t id);
/* The chat a staff member reads: the last confirmed Telegram chat, else
 * email. A pending chat is never it. */
int store_staff_channel(struct store *st, int64_t staff_id, struct channel *out);
const char *store_role_name(enum staff_role r);
/* The console's logins: an argon2id password string and a base32 TOTP
 * secret ("" when not set); *last_step is the last TOTP step accepted. */
#define STORE_PWHASH_MAX 128
#define STORE_TOTP_MAX 64
struct staff_login {
	char password[STORE_PWHASH_MAX];
	char totp_secret[STORE_TOTP_MAX];
	int64_t totp_last_step;
};
int store_login_get(struct store *st, int64_t staff_id, struct staff_login *out);
int store_login_set_password(struct store *st, int64_t staff_id, const char *hash, time_t now);
int store_login_set_totp(struct store *st, int64_t staff_id, const char *secret, time_t now);
/* Records step as used; -CB_ESTATE when it (or a later one) already was. */
int store_login_use_step(struct store *st, int64_t staff_id, int64_t step);
/* Console sessions, by the hash of their token. A session not seen since
 * idle_before, or made before created_before, is gone: get answers
 * -CB_ENOENT and deletes it. */
#define STORE_SESSION_HASH 32
int store_session_add(struct store *st, const unsigned char *hash, int64_t staff_id, time_t now);
int store_session_get(struct store *st, const unsigned char *hash, time_t idle_before, time_t created_before,
		      int64_t *staff_id);
int store_session_touch(struct store *st, const unsigned char *hash, time_t now);
int store_session_delete(struct store *st, const unsigned char *hash);
int store_session_prune(struct store *st, time_t idle_before, time_t created_before);

/* The console's overview lists, each a family per row with what the row
 * is about. */
enum overview_list {
	OVERVIEW_NOT_REACHED,  /* active, nothing from the family since a (or ever); flag: we wrote since */
	OVERVIEW_UNANSWERED,   /* family messages after the last reply; at: the first of them */
	OVERVIEW_UNCONFIRMED,  /* reminded appointments from a to b, not answered; at: starts */
	OVERVIEW_OVERDUE,      /* open requests due before date; what: the type, day: the date */
	OVERVIEW_ALERTS,       /* open alerts, urgent first; flag: urgent */
	OVERVIEW_BLOCKED,      /* chats blocked or stopped; what: the gateway; flag: 1 blocked, 2 stopped */
	OVERVIEW_NO_CHANNEL,   /* active families without a usable linked chat */
	OVERVIEW_NLISTS
};
struct overview_row {
	int64_t family_id, counsellor_id, backup_id, object_id;
	char ref[STORE_NAME_MAX];
	char counsellor[STORE_NAME_MAX];
	time_t at;             /* 0: never */
	char what[STORE_TEXT_MAX];
	char params[STORE_TEXT_MAX];
	char day[11];
	int flag;
};
int store_overview_each(struct store *st, enum overview_list list, time_t a, time_t b, const char *date,
			store_each_cb cb, void *arg);
/* The caseload of each active counsellor (coordinators too, when they
 * hold families): families, open alerts, away and whom they back up. */
struct caseload_row {
	int64_t staff_id;
	char name[STORE_NAME_MAX];
	int role;                /* enum staff_role */
	int away;
	int families;            /* active and stopped families they counsel */
	int backups;             /* families they back up */
	int open_alerts;
};
int store_caseload_each(struct store *st, store_each_cb cb, void *arg);
/* Contacts in and out of staff_id's families per week from since, weeks
 * of them: in[w], out[w]. */
int store_caseload_weeks(struct store *st, int64_t staff_id, time_t since, int weeks, int *in, int *out);
/* Seconds from each family message since since to the reply that
 * followed it, for staff_id's families, smallest first: at most cap of
 * them in secs; *n is the count. Messages not yet answered are left out. */
int store_caseload_answer_times(struct store *st, int64_t staff_id, time_t since, int64_t *secs, int cap, int *n);

/* families and members */
struct family {
	int64_t id;
	char ref[STORE_NAME_MAX];
	char display_name[STORE_NAME_MAX];
	enum lang lang;
	char status[16];          /* active, stopped, closed */
	int64_t counsellor_id;
	int64_t backup_id;
	char counsellor[STORE_NAME_MAX];
	char backup[STORE_NAME_MAX];
	time_t created_at;
	time_t closed_at;
	int counsellor_active;    /* 0: the counsellor left; the family is unassigned */
};
int store_family_add(struct store *st, const struct family *f, time_t now, int64_t *id);
int store_family_get(struct store *st, const char *ref, struct family *out);
int store_family_get_id(struct store *st, int64_t id, struct family *out);
int store_family_each(struct store *st, store_each_cb cb, void *arg);
int store_family_close(struct store *st, int64_t id, time_t now);
/* Writes display_name, lang, counsellor_id and backup_id of f. */
int store_family_update(struct store *st, const struct family *f);
int store_family_set_lang(struct store *st, int64_t id, enum lang l);
int store_member_set_lang(struct store *st, int64_t id, enum lang l);
/* Deletes the family and everything hanging off it (every row that
 * carries its id, the inbound rows of its chats), and blanks the staff
 * lists still waiting that may name it. Returns the relative paths of its
 * files (stored documents, downloads in tmp/) through cb so the caller
 * removes them. */
int store_family_erase(struct store *st, int64_t id, time_t now,
		       void (*doc_cb)(const char *path, void *arg), void *arg);

enum member_role { MEMBER_PARENT = 0, MEMBER_CHILD, MEMBER_OTHER };
struct member {
	int64_t id;
	int64_t family_id;
	char name[STORE_NAME_MAX];
	enum member_role role;
	int has_lang;
	enum lang lang;
};
int store_member_add(struct store *st, const struct member *m, time_t now, int64_t *id);
int store_member_get(struct store *st, int64_t family_id, const char *name, struct member *out);
int store_member_get_id(struct store *st, int64_t id, struct member *out);
int store_member_each(struct store *st, int64_t family_id, store_each_cb cb, void *arg);
const char *store_member_role_name(enum member_role r);
int store_member_role_parse(const char *s, enum member_role *out);

/* channels */
struct channel {
	int64_t id;
	int64_t family_id;
	int64_t member_id;
	int64_t staff_id;
	char kind[16];
	char address[STORE_ADDRESS_MAX];
	int verified, blocked, opted_out;
	time_t last_inbound_at;
	int position;                /* in its member's order, 1 first; 0: none set */
	char fallback_reason[128];   /* why the gateway cannot reach it, "" */
};
/* A family's chats, each member's in that member's order. */
int store_channel_each_family(struct store *st, int64_t family_id, store_each_cb cb, void *arg);
int store_channel_find(struct store *st, const char *kind, const char *address, struct channel *out);
int store_channel_get(struct store *st, int64_t id, struct channel *out);
int store_channel_set_blocked(struct store *st, int64_t id, int blocked);
int store_channel_set_opted_out(struct store *st, int64_t id, int opted_out);
/* The address cannot get messages on its gateway (not on WhatsApp): the
 * chat takes no more, and keeps why for its owner's next channel. */
int store_channel_set_fallback(struct store *st, int64_t id, const char *reason);
/* The chat's last inbound message was written at (its own time, as the
 * gateway gives it): last_inbound_at moves to it, never back. WhatsApp's
 * conversation window is counted from it. */
int store_channel_touch(struct store *st, int64_t id, time_t at);
/* Links (or re-links) kind/address to a family member or a staff member. */
int store_channel_link(struct store *st, int64_t family_id, int64_t member_id, int64_t staff_id,
		       const char *kind, const char *address, time_t now, struct channel *out);
/* Every chat of a staff member (email and pending ones included), oldest
 * first. */
int store_channel_each_staff(struct store *st, int64_t staff_id, store_each_cb cb, void *arg);
/* Removes a chat. Messages queued for it go back to the queue for the
 * owner's other chats (or are cancelled when another chat has the same
 * one queued); everything else about the chat goes with it. */
int store_channel_unlink(struct store *st, int64_t id, time_t now);
/* Sets a member's order: ids first to last (positions 1..n); the
 * member's other chats follow, oldest first. -CB_ENOENT when an id is not
 * that member's chat. */
int store_channel_order(struct store *st, int64_t family_id, int64_t member_id, const int64_t *ids, int n);
/* The next chat after channel_id in its member's order that can take a
 * message (linked, not blocked); -CB_ENOENT at the end of the order. */
int store_channel_next(struct store *st, int64_t channel_id, struct channel *out);
/* How many other chats the member of channel_id has. */
int store_channel_siblings(struct store *st, int64_t channel_id, int *count);

/* invites: the code is returned once and stored only as a hash */
#define INVITE_CODE_LEN 10
/* Hash of a code as typed: case, spaces and dashes do not matter. */
int store_invite_hash(const char *code, unsigned char hash[32]);
/* A valid code of an open family (or an active staff member) links the
 * chat. A staff chat is linked pending: pairing gets the number to show in
 * it (for a family, pairing is ""). */
#define STAFF_PAIRING_DIGITS 6
#define STAFF_PAIRING_TTL (24 * 3600)   /* a pending staff link, and its number */
#define STAFF_PAIRING_TRIES 5
int store_invite_redeem(struct store *st, const char *code, const char *kind, const char *address,
			time_t now, struct channel *out, char pairing[STAFF_PAIRING_DIGITS + 1]);
int store_invite_create(struct store *st, int64_t family_id, int64_t member_id,
			int64_t staff_id, time_t now, time_t expires_at,
			char code[INVITE_CODE_LEN + 1]);
/* Unused codes of a family or a staff member stop working. */
int store_invite_kill(struct store *st, int64_t family_id, int64_t staff_id);

/* Pending staff links. The number is kept only as a salted hash and
 * compared in constant time. */
int store_pairing_expires(struct store *st, int64_t channel_id, time_t *expires_at);
/* The pending chat of staff_id whose number this is becomes active:
 * *channel_id. A wrong number is -CB_EINVAL and costs every pending link
 * of that staff member a try; *tries_left is what remains (at 0 those
 * links are gone). -CB_ENOENT: nothing pending. */
int store_pairing_confirm(struct store *st, int64_t staff_id, const char *number, time_t now,
			  int64_t *channel_id, int *tries_left);
/* Pending chats whose time ran out are removed. */
int store_pairing_prune(struct store *st, time_t now);

/* appointments */
struct appointment {
	int64_t id;
	int64_t family_id;
	int64_t member_id;
	char member[STORE_NAME_MAX];
	char kind[32];
	time_t starts_at;
	char place[STORE_TEXT_MAX];
	char status[16];
	time_t answered_at;
};
int store_appointment_kind_valid(const char *kind);
int store_appointment_add(struct store *st, struct appointment *a, time_t now);
int store_appointment_get(struct store *st, int64_t id, struct appointment *out);
/* The first reminder of an appointment went out (kept only the first time). */
int store_appointment_reminded(struct store *st, int64_t id, time_t now);
int store_appointment_each(struct store *st, int64_t family_id, store_each_cb cb, void *arg);
int store_appointment_answer(struct store *st, int64_t id, const char *status, time_t now);
int store_appointment_set(struct store *st, int64_t id, const char *status, time_t starts_at, time_t now);

/* Appointments in the phone's calendar (store/calendar.c): whether a
 * family gets calendar files, and whether they say what and where. */
enum calendar_mode { CALENDAR_OFF = 0, CALENDAR_ON, CALENDAR_DETAILS };
int store_calendar_mode_parse(const char *s, enum calendar_mode *out);
const char *store_calendar_mode_name(enum calendar_mode m);
int store_family_calendar(struct store *st, int64_t family_id, enum calendar_mode *out);
int store_family_set_calendar(struct store *st, int64_t family_id, enum calendar_mode m);
/* An appointment's UID (made once, at random, and kept across moves) and
 * its SEQUENCE, which each move and cancellation raises. */
#define CALENDAR_UID_MAX 80
int store_appointment_calendar(struct store *st, int64_t id, char uid[CALENDAR_UID_MAX], int *sequence);
/* One-time links to a calendar file, known by the hash of their token. A
 * new link for the same outbox row (a send tried again) replaces the one
 * before. take deletes the link and gives what it serves; -CB_ENOENT when
 * there is none, or it expired. prune deletes expired links. */
#define CALENDAR_TOKEN_HASH 32
int store_calendar_link_add(struct store *st, const unsigned char hash[CALENDAR_TOKEN_HASH], int64_t family_id,
			    int64_t appointment_id, int64_t outbox_id, enum lang l, time_t now, time_t expires_at);
int store_calendar_link_take(struct store *st, const unsigned char hash[CALENDAR_TOKEN_HASH], time_t now,
			     int64_t *appointment_id, enum lang *l);
int store_calendar_link_prune(struct store *st, time_t now, int batch, int *deleted);

/* document requests */
struct doc_request {
	int64_t id;
	int64_t family_id;
	int64_t member_id;
	char doc_type[32];
	char due_date[11];   /* YYYY-MM-DD or "" */
	char note[STORE_TEXT_MAX];
	char status[16];
	time_t created_at;
	int documents;       /* count of documents received for it */
};
int store_doc_type_valid(const char *type);
int store_docreq_add(struct store *st, struct doc_request *r, time_t now);
int store_docreq_each(struct store *st, int64_t family_id, store_each_cb cb, void *arg);
int store_docreq_get(struct store *st, int64_t id, struct doc_request *out);
int store_docreq_set_status(struct store *st, int64_t id, const char *status, time_t now);

/* downloads: media a family sent, to fetch from the gateway */
struct download {
	int64_t id;
	int64_t family_id, member_id, channel_id;
	char media_kind[16];
	char media_ref[256];
	int64_t media_size;
	int attempts;
};
int store_download_add(struct store *st, const struct download *dl, time_t now);
int store_download_next(struct store *st, time_t now, struct download *out);
int store_download_retry(struct store *st, int64_t id, time_t not_before);
int store_download_done(struct store *st, int64_t id);

/* documents: stored encrypted under data_dir; path is relative to it */
struct document {
	int64_t id;
	int64_t family_id, request_id, member_id;
	char mime[64];
	int64_t size;
	unsigned char mac[32];  /* keyed hash of the plain file (all zero: none) */
	char path[128];
	char status[16];     /* received, verified, rejected */
	time_t received_at;
};
int store_document_add(struct store *st, struct document *doc, time_t now);
int store_document_get(struct store *st, int64_t id, struct document *out);
int store_document_each(struct store *st, int64_t family_id, store_each_cb cb, void *arg);
int store_document_set_status(struct store *st, int64_t id, const char *status, const char *reason);
int store_document_attach(struct store *st, int64_t family_id, int64_t document_id, int64_t request_id);
/* The open requests of a family, oldest first: up to max ids, and the count. */
int store_docreq_open(struct store *st, int64_t family_id, int64_t *ids, int max, int *count);
int store_docreq_received(struct store *st, int64_t id, time_t now);

/* check-in plans */
struct checkin_plan {
	int64_t family_id;
	int every_days;
	int weekday;         /* 1 = Monday ... 7 = Sunday */
	int minute_of_day;
	int active;
};
int store_checkin_set(struct store *st, const struct checkin_plan *p, time_t now);
int store_checkin_get(struct store *st, int64_t family_id, struct checkin_plan *out);
int store_checkin_off(struct store *st, int64_t family_id, time_t now);

/* deadlines: what the periodic checks alert on, once each */
enum deadline_kind {
	DEADLINE_UNCONFIRMED = 0,  /* appointment unconfirmed ack_deadline after its first reminder */
	DEADLINE_OVERDUE,          /* document request past its due date */
	DEADLINE_UNANSWERED        /* check-in without an answer (id is the family) */
};
struct deadline {
	int64_t id, family_id, staff_id;
	time_t at;
	char what[32];
};
/* window: seconds (ack deadline, or no-answer time); today: "YYYY-MM-DD"
 * local, for due dates. */
int store_deadlines_each(struct store *st, enum deadline_kind kind, time_t now, int64_t window,
			 const char *today, store_each_cb cb, void *arg);
int store_deadline_mark(struct store *st, enum deadline_kind kind, int64_t id, time_t now);
int store_checkin_sent(struct store *st, int64_t family_id, time_t now);
int store_checkin_answered(struct store *st, int64_t family_id, time_t now);

/* outbox */
struct outbox_msg {
	int64_t id;
	int64_t family_id, member_id, staff_id, channel_id;
	int64_t appointment_id, request_id;
	char kind[32];
	char catalog_key[64];
	/* The JSON object of placeholder values, of any size. A row read from
	 * the store owns a heap copy, freed with store_outbox_msg_free(); a row
	 * being written points at its writer's string, which the writer frees. */
	const char *params;
	int urgent;
	time_t not_before;
	time_t expires_at;   /* 0: none */
	char status[16];
	int attempts;
};
int store_outbox_add(struct store *st, struct outbox_msg *m, time_t now);
/* Frees the params of a row read with store_outbox_get() and the other
 * single-row reads below (which clear m first, so this is safe after any
 * of them, found or not). store_outbox_each_*() lend each row's params to
 * the callback only; a callback keeping a row copies it with
 * store_outbox_msg_copy(). */
void store_outbox_msg_free(struct outbox_msg *m);
int store_outbox_msg_copy(struct outbox_msg *dst, const struct outbox_msg *src);
/* Cancels the still-queued rows of an appointment or a request. */
int store_outbox_cancel_appointment(struct store *st, int64_t appointment_id, time_t now);
int store_outbox_cancel_appointment_kind(struct store *st, int64_t appointment_id, const char *kind, time_t now);
int store_outbox_cancel_request(struct store *st, int64_t request_id, time_t now);
int store_outbox_cancel_kind(struct store *st, int64_t family_id, const char *kind, time_t now);
int store_outbox_each_family(struct store *st, int64_t family_id, store_each_cb cb, void *arg);

/* The dispatcher's side of the outbox. State changes return -CB_ESTATE
 * when the row is not in the state they start from. */
/* Where a walk over the due rows is: the rows after it come next (urgent
 * ones first, then in not_before and id order). A cursor of zeros with
 * urgent = 1 is the start. */
struct outbox_cursor {
	int urgent;
	time_t not_before;
	int64_t id;
};
int store_outbox_each_due(struct store *st, time_t now, const struct outbox_cursor *after, int limit,
			  store_each_cb cb, void *arg);
/* Earliest not_before after a time of a queued row that can be
 * delivered; -CB_ENOENT. */
int store_outbox_next_due(struct store *st, time_t after, time_t *t);
/* Earliest expiry of a queued row; -CB_ENOENT. */
int store_outbox_next_expiry(struct store *st, time_t *t);
int store_outbox_get(struct store *st, int64_t id, struct outbox_msg *m);
int store_outbox_expire(struct store *st, time_t now, int *count);
/* The row's family or staff member has no chat it can reach: it waits,
 * out of the dispatcher's way, until one of their chats is added or
 * changes (a trigger brings it back). */
int store_outbox_park(struct store *st, int64_t id, time_t now);
int store_outbox_assign(struct store *st, int64_t id, int64_t channel_id, time_t now);
int store_outbox_clone_for(struct store *st, int64_t id, int64_t channel_id, time_t now);
int store_outbox_claim(struct store *st, int64_t id, time_t now);          /* queued -> sending */
int store_outbox_sent(struct store *st, int64_t id, const char *gateway_message_id, time_t now);
int store_outbox_retry(struct store *st, int64_t id, time_t not_before, const char *error, time_t now);
int store_outbox_finish(struct store *st, int64_t id, const char *status, const char *error, time_t now);
/* When a row that keeps failing is given up: proposed at its first
 * failure, kept from then on; the time in *at. */
int store_outbox_give_up_at(struct store *st, int64_t id, time_t proposed, time_t *at);
int store_outbox_postpone(struct store *st, int64_t id, time_t not_before, time_t now);
/* After a crash: what was being sent goes back to the queue (at least once). */
int store_outbox_requeue_sending(struct store *st, time_t now);
/* The last automated message (reminder, check-in, request...) a chat got. */
int store_outbox_last_auto(struct store *st, int64_t channel_id, struct outbox_msg *m);
/* A part of a long message went before its last: its gateway id is kept,
 * so that an answer to any part finds the forward. */
int store_outbox_part(struct store *st, int64_t id, const char *gateway_message_id);
/* The forward a staff chat's message answers, by the gateway's id of it
 * (or of any of its parts). */
int store_outbox_find_forward(struct store *st, int64_t staff_channel_id, const char *gateway_message_id,
			      struct outbox_msg *m);
/* The gateway's id of a sent row (what an edit of it names); -CB_ENOENT
 * when the row is gone or has none. */
int store_outbox_gateway_id(struct store *st, int64_t id, char *buf, size_t cap);
int store_outbox_count_since(struct store *st, int64_t family_id, const char *kind, time_t since, int *count);
/* Queued rows of a document request's kind due after now: a reminder already
 * waiting for its time. */
int store_outbox_request_waiting(struct store *st, int64_t request_id, const char *kind, time_t now, int *count);
/* The newest message asking for a request (the request, or its rejection)
 * that is on its way, or was meant for channel_id; -CB_ENOENT when none. */
int store_outbox_request_last_ask(struct store *st, int64_t request_id, int64_t channel_id, struct outbox_msg *m);
int store_outbox_depth(struct store *st, time_t now, int64_t *depth, time_t *oldest_due);
/* Channel fallback (store/fallback.c). Offers row id to channel_id: a
 * copy due at not_before, or, when the message has a copy waiting there
 * for later, that copy made due then. At most one copy per chat: *created
 * is 0 when the chat had the message already. why: blocked, unreachable,
 * unconfirmed. */
int store_outbox_offer(struct store *st, int64_t id, int64_t channel_id, time_t not_before, const char *why,
		       time_t now, int *created);
/* Where a copy comes from; -CB_ENOENT for a message's first row. */
struct outbox_fallback {
	int64_t of;                  /* the row it was offered after */
	int64_t from_channel;        /* that row's chat */
	char why[16];
	time_t offered_at;
};
int store_outbox_fallback_get(struct store *st, int64_t id, struct outbox_fallback *out);
/* Whether the family answered a check-in at or after since. */
int store_checkin_answered_since(struct store *st, int64_t family_id, time_t since, int *answered);
/* A message to staff on a gateway with a conversation window (WhatsApp)
 * that the window keeps from going waits for it: _hold marks the row held
 * (from now, unless it was already) and says since when and whether staff
 * were alerted elsewhere; _wait queues it again for not_before (alerted:
 * they now are). The chat's next message brings every held row of it back
 * at once (a trigger on channels.last_inbound_at). _nudge: whether the
 * chat was sent the template that asks it to write, since since. _held:
 * the held rows of a chat that nobody was alerted about yet. */
enum { STORE_NUDGE_NONE, STORE_NUDGE_LIVE, STORE_NUDGE_FAILED };
int store_outbox_window_hold(struct store *st, int64_t id, time_t now, time_t *held_at, int *alerted);
int store_outbox_window_wait(struct store *st, int64_t id, time_t not_before, int alerted, const char *why,
			     time_t now);
int store_outbox_window_nudge(struct store *st, int64_t channel_id, time_t since, int *state);
int store_outbox_each_window_held(struct store *st, int64_t channel_id, store_each_cb cb, void *arg);

/* questions: the last question a chat was asked (a reminder, a check-in,
 * the language menu, which document...), with its numbered choices. Each
 * choice carries what a button of it carries, and the catalog list of
 * words that choose it too. A new question replaces the one before. */
#define STORE_QUESTION_CHOICES 9
struct question {
	int64_t channel_id, outbox_id;
	char kind[32];
	time_t asked_at, expires_at, answered_at;
	char answer[65];        /* the data of the choice that answered it, or "" */
};
struct question_choice {
	int number;             /* 1 ... STORE_QUESTION_CHOICES */
	char data[65];          /* as a button: "ap:12:1", "lang:fr" */
	char words[32];         /* a words.* list key, or "" */
};
int store_question_ask(struct store *st, const struct question *q, const struct question_choice *choices, int n);
/* The chat's question while it is open at now: asked, not answered, not
 * expired. -CB_ENOENT otherwise. Its choices in number order, up to max. */
int store_question_open(struct store *st, int64_t channel_id, time_t now, struct question *out,
			struct question_choice *choices, int max, int *n);
/* The chat's last question while it has not expired, answered or not. */
int store_question_last(struct store *st, int64_t channel_id, time_t now, struct question *out,
			struct question_choice *choices, int max, int *n);
/* answer: the data of the choice it took, NULL for none. */
int store_question_answered(struct store *st, int64_t channel_id, time_t now, const char *answer);

/* contact log */
struct contact {
	int64_t id;
	int64_t family_id;
	time_t at;
	char direction[16];   /* in, out, internal */
	char channel_kind[16];
	char kind[32];
	char staff[STORE_NAME_MAX];
	char member[STORE_NAME_MAX];
	/* What happened, as a code and its values (locales/note.h renders
	 * them); a row sent to the family has its catalog key as code. params
	 * is "" for a row written before codes. */
	char code[STORE_TEXT_MAX];
	char params[STORE_TEXT_MAX];
	char status[16];
};
/* params is a JSON object of the code's values, or NULL for none. */
int store_contact_add(struct store *st, int64_t family_id, time_t at, const char *direction,
		      const char *channel_kind, const char *kind, int64_t staff_id,
		      int64_t member_id, const char *code, const char *params, const char *status);
/* When the family last wrote (0: never). */
int store_contact_last_in(struct store *st, int64_t family_id, int64_t *at);
int store_contact_each(struct store *st, int64_t family_id, time_t since, store_each_cb cb, void *arg);

/* The contact log's hash chain (store/chain.c says how a row is hashed). */
#define STORE_CHAIN_BYTES 32
/* Chains the family's rows not chained yet, in id order, from its head;
 * store_contact_add calls it in the caller's transaction. */
int store_chain_seal(struct store *st, int64_t family_id);
/* The hash of the row q stands on (a SELECT * FROM contact_log) after prev. */
int store_chain_row_hash(sqlite3_stmt *q, const unsigned char prev[STORE_CHAIN_BYTES],
			 unsigned char out[STORE_CHAIN_BYTES]);
struct chain_report {
	int64_t rows;              /* rows read */
	int64_t first_id, last_id;
	int64_t broken_id;         /* the first broken row, 0 when the chain holds */
	char why[160];
	int pruned;                /* the chain starts after rows retention removed */
	int64_t head_id;
	unsigned char head[STORE_CHAIN_BYTES];   /* the hash of the last row */
};
/* Walks the family's rows in id order, checking each; cb (may be NULL)
 * sees every row (SELECT * FROM contact_log) as it is walked. */
typedef int (*store_chain_cb)(sqlite3_stmt *q, void *arg);
int store_chain_verify(struct store *st, int64_t family_id, struct chain_report *r, store_chain_cb cb,
		       void *arg);

/* Exports (store/export.c). The row q stands on, each column by its name
 * (blobs in hex), into obj. */
struct cJSON;
int store_row_json(sqlite3_stmt *q, struct cJSON *obj);
/* Everything held about a family, one array per table, into root. */
int store_family_dump(struct store *st, int64_t family_id, const char *ref, struct cJSON *root);

/* inbound: every update is stored (deduplicated) before it is acknowledged */
#define INBOUND_EVENT_MAX 102400   /* an event with 16 KiB of text, escaped */
struct inbound_row {
	int64_t id;
	char channel[16];
	char external_id[STORE_ADDRESS_MAX];
	char sender[STORE_ADDRESS_MAX];
	time_t received_at;
	int attempts;                    /* routings that failed before */
	char event[INBOUND_EVENT_MAX];   /* the normalised event as JSON */
};
/* -CB_EEXIST when this channel + external id was stored before. */
int store_inbound_add(struct store *st, const char *channel, const char *external_id,
		      const char *sender, time_t now, const char *event_json, int64_t *id);
/* One event of a batch; stored comes back 1 when it was new, 0 when the
 * channel had it already. */
struct inbound_new {
	const char *external_id;
	const char *sender;
	const char *event_json;
	int stored;
};
/* What a gateway keeps of where it is in its updates (Telegram: the next
 * offset, the epoch of the ids), written with the batch it covers. */
struct inbound_cursor {
	const char *key;
	const char *value;
};
/* Stores a gateway's batch of inbound events and its cursor in one
 * transaction at synchronous=FULL: when it returns 0 the gateway may
 * acknowledge the batch (confirm the offset, answer 200); otherwise
 * nothing of it is stored. n and ncursor may be 0. */
int store_inbound_batch(struct store *st, const char *channel, time_t now, struct inbound_new *ev, int n,
			const struct inbound_cursor *cursor, int ncursor);
/* The same, and also(st, arg) in the same transaction before the commit
 * (WhatsApp: the delivery statuses that came with the events); its nonzero
 * return rolls everything back. */
typedef int (*store_batch_fn)(struct store *st, void *arg);
int store_inbound_batch_with(struct store *st, const char *channel, time_t now, struct inbound_new *ev, int n,
			     const struct inbound_cursor *cursor, int ncursor, store_batch_fn also, void *arg);

/* Delivery statuses of sent messages, as the gateway reports them (store/
 * delivery.c). A status only moves forward (sent < delivered < read <
 * played); failed is terminal. The outbox row that the sending side
 * recorded with this gateway message id moves with it. */
enum delivery_state {
	DELIVERY_SENT = 1,
	DELIVERY_DELIVERED,
	DELIVERY_READ,
	DELIVERY_PLAYED,
	DELIVERY_FAILED
};
struct delivery {
	const char *gateway_message_id;
	enum delivery_state state;
	time_t at;
	int error_code;
	const char *error_title;      /* "" when none */
	const char *error_details;
	const char *category;         /* pricing, "" when none */
	int billable;                 /* 1, 0, -1 unknown */
};
/* *applied: the status moved the message forward (0: old, repeated, or
 * after failed). *newly_billable: this status first told that the message
 * is billable (count it once). *outbox_id: the row it belongs to, 0 when
 * none is known. */
int store_delivery_apply(struct store *st, const char *channel_kind, const struct delivery *d, time_t now,
			 int *applied, int *newly_billable, int64_t *outbox_id);
/* What is recorded for a gateway message id: -CB_ENOENT when nothing. */
struct delivery_row {
	enum delivery_state state;
	time_t at;
	int error_code;
	char error_title[128];
	char error_details[256];
	char category[32];
	int billable;
};
int store_delivery_get(struct store *st, const char *channel_kind, const char *gateway_message_id,
		       struct delivery_row *out);

/* A chat's other identities (store/identity.c): WhatsApp knows one user by
 * a number and by a business-scoped user id. store_channel_find() finds a
 * chat by either. A change of number is kept pending until staff confirm
 * it: a pending identity routes nothing. */
#define IDENTITY_MAX 128
/* Adds identity to the chat: -CB_EEXIST when it is known already (for
 * this chat or another). */
int store_identity_add(struct store *st, int64_t channel_id, const char *kind, const char *identity, time_t now);
/* Whether the chat has an identity that is a number (digits only) or not:
 * its address or one of its known identities; *found gets it. */
int store_identity_of_type(struct store *st, int64_t channel_id, int number, char *found, size_t cap);
/* A change waiting for staff: identity is to replace replaces (an address
 * or identity of the chat). *id is the pending change's id; -CB_EEXIST
 * when that change is pending already. */
int store_identity_pending_add(struct store *st, int64_t channel_id, const char *kind, const char *identity,
			       const char *replaces, time_t now, int64_t *id);
struct identity_change {
	int64_t id;
	int64_t channel_id, family_id, staff_id, member_id;
	char kind[16];
	char identity[IDENTITY_MAX];
	char replaces[IDENTITY_MAX];
	time_t created_at;
};
int store_identity_change_get(struct store *st, int64_t id, struct identity_change *out);
int store_identity_each_pending(struct store *st, store_each_cb cb, void *arg);
/* Confirms a pending change in one transaction: the new identity takes
 * the place of the one it replaces. -CB_ENOENT: no such change;
 * -CB_EEXIST: the new identity belongs to another chat by now. */
int store_identity_confirm(struct store *st, int64_t id, time_t now);
int store_identity_refuse(struct store *st, int64_t id);
/* Rows still new, oldest first, but not those waiting for a retry. */
int store_inbound_each_new(struct store *st, time_t now, int limit, store_each_cb cb, void *arg);
/* The earliest retry_at of an event waiting to be routed again;
 * -CB_ENOENT when none waits. */
int store_inbound_next_retry(struct store *st, time_t *at);
/* A routing failed: one more attempt on record, the next not before retry_at. */
int store_inbound_retry(struct store *st, int64_t id, time_t retry_at);
/* Marks a row handled (or failed) and replaces its event with a redacted
 * copy: the message body does not stay in the inbound table. */
int store_inbound_done(struct store *st, int64_t id, const char *status, const char *redacted, time_t now);

/* Events stored from one sender since a time (this one included). */
int store_inbound_count_since(struct store *st, const char *channel, const char *sender, time_t since, int *count);
/* Retention (store/retention.c): deletes up to batch rows of a kind older
 * than before, oldest first; *deleted says how many went. */
enum prune_kind {
	PRUNE_CONTACT = 0,      /* contact log rows, by their time */
	PRUNE_OUTBOX,           /* messages sent or ended, by their last change */
	PRUNE_ALERTS,           /* alerts, by when they were raised */
	PRUNE_INBOUND,          /* inbound updates, by when they came */
	PRUNE_INBOUND_HANDLED,  /* inbound updates already handled */
	PRUNE_DELIVERIES,       /* delivery statuses, by their last change */
	PRUNE_DELIVERIES_UNKNOWN, /* ... of messages no outbox row knows */
	PRUNE_AUDIT             /* audit rows */
};
int store_prune(struct store *st, enum prune_kind kind, time_t before, int batch, int *deleted);
/* Families closed before a time, oldest first: up to max ids, and the count. */
int store_family_closed_before(struct store *st, time_t before, int64_t *ids, int max, int *n);

/* gateway_state: small durable values per gateway (the Telegram offset) */
int store_state_get(struct store *st, const char *gateway, const char *key, char *buf, size_t cap);
int store_state_set(struct store *st, const char *gateway, const char *key, const char *value);
/* 1 when this connection has changed a row since it was opened (the CLI
 * then wakes a running daemon). */
int store_wrote(struct store *st);
/* 1 when this connection made an outbox row due for the dispatcher
 * (added, queued again, unparked, brought forward) since the last call,
 * which clears the mark; the _since form only looks. */
int store_outbox_changed(struct store *st);
int store_outbox_changed_since(const struct store *st);
int store_state_del(struct store *st, const char *gateway, const char *key);
/* The first key of a gateway's values; -CB_ENOENT when it has none. */
int store_state_first(struct store *st, const char *gateway, char *key, size_t cap);

/* alerts for staff: the details are a code and its values, as in the
 * contact log (params NULL for none); group_id: the first copy of the same
 * alert (0: this one is the first). */
int store_alert_add(struct store *st, int64_t family_id, int64_t staff_id, const char *kind,
		    int urgent, const char *code, const char *params, time_t now, int64_t group_id, int64_t *id);

struct alert {
	int64_t id, family_id, staff_id;
	char kind[32];
	int urgent;
	char code[STORE_TEXT_MAX];
	char params[STORE_TEXT_MAX];   /* "" for an alert written before codes */
	time_t created_at, acked_at;
	int escalation;            /* 0 owner, 1 backup, 2 coordinators */
	time_t escalated_at;
	char family_ref[STORE_NAME_MAX];
	int64_t group_id;          /* the first copy of this alert */
};
int store_alert_get(struct store *st, int64_t id, struct alert *out);
/* Open alerts of one staff member (newest and urgent first), or with
 * staff_id 0 every open alert not yet at the coordinators (oldest first). */
int store_alert_each_open(struct store *st, int64_t staff_id, int limit, store_each_cb cb, void *arg);
/* For the desk: open alerts (urgent, then newest first), or all of them. */
int store_alert_list(struct store *st, int open_only, int limit, store_each_cb cb, void *arg);
int store_alert_count_open(struct store *st, int64_t staff_id, int *count);
/* Closes the alert and every other copy of it, for everybody, and drops
 * the words they kept; -CB_ESTATE when it was closed already. */
int store_alert_ack(struct store *st, int64_t id, int64_t staff_id, time_t now);
/* The forward (params of a forward message) an open alert keeps for whoever
 * it is escalated to: set, or dropped with NULL. */
int store_alert_set_forward(struct store *st, int64_t id, const char *params);
/* A heap copy the caller frees; -CB_ENOENT when it keeps none. */
int store_alert_forward(struct store *st, int64_t id, char **params);
/* Whether a staff member holds a copy of the alert group. */
int store_alert_group_has(struct store *st, int64_t group_id, int64_t staff_id, int *yes);
/* Whether a family has an open alert that reaches this staff member: an
 * urgent one addressed to them, or (is_backup) one escalated to its backup. */
int store_alert_reaches(struct store *st, int64_t family_id, int64_t staff_id, int is_backup, int *yes);
int store_alert_escalate(struct store *st, int64_t id, int level, time_t now);

/* The daily digest of a staff member: new family messages since a time,
 * open alerts, overdue documents (due before today) and appointments
 * still unconfirmed between from and until, over the families they reach. */
struct digest {
	int messages, open_alerts, overdue, unconfirmed;
};
int store_digest(struct store *st, const struct staff *s, time_t since, const char *today, time_t from,
		 time_t until, struct digest *out);
/* Families with open alerts for a staff member, with the alert kinds
 * (comma-separated). */
typedef int (*store_pair_cb)(const char *a, const char *b, void *arg);
int store_digest_families(struct store *st, int64_t staff_id, store_pair_cb cb, void *arg);

/* VACUUM and truncate the WAL, so erased rows leave no trace on disk. A
 * reader that holds an old snapshot keeps the old pages in use: the
 * truncate is tried again, waiting for readers each time; -CB_ESTATE when
 * one still holds on after that. */
#define STORE_CHECKPOINT_TRIES 3
#define STORE_CHECKPOINT_WAIT_MS 2000
int store_vacuum(struct store *st);

/* audit: every staff read of a family file, and every change. A row is
 * structured: who (actor), what (action), which family (its reference;
 * the family's id is filled in from it), which staff member, chat or
 * object (an appointment, a document, a member: object_id), and at most a
 * detail that is a word of the code (a kind, a reason), never free text:
 * a detail or reference with other characters is -CB_EINVAL. */
int store_audit(struct store *st, time_t at, const char *actor, const char *action,
		const char *family_ref, const char *detail);
/* The same with the staff member, the chat (channel id) and the object a
 * row is about; 0 for none. */
struct audit_entry {
	const char *actor, *action, *family_ref, *detail;
	int64_t staff_id, channel_id;
	int64_t object_id;
};
int store_audit_add(struct store *st, time_t at, const struct audit_entry *e);
struct audit_row {
	int64_t id;
	time_t at;
	char actor[80];
	char action[32];
	char family_ref[STORE_NAME_MAX];
	char staff[STORE_NAME_MAX];
	int64_t channel_id;
	int64_t object_id;
	char detail[STORE_TEXT_MAX];
};
/* Rows since a time, oldest first; family_ref (or NULL) and staff_id (or
 * 0: rows about that staff member, or done by them) narrow it. */
int store_audit_each(struct store *st, const char *family_ref, int64_t staff_id, time_t since,
		     store_each_cb cb, void *arg);


/* voice notes (store/voice.c) */
/* A member's voice setting: 1 on, 0 off. */
int store_member_set_voice(struct store *st, int64_t member_id, int on);
int store_member_voice(struct store *st, int64_t member_id, int *on);
/* Audio bytes, malloc'd, with their length in seconds. */
struct store_audio {
	unsigned char *data;
	size_t len;
	double seconds;
};
void store_audio_free(struct store_audio *a);
/* An organisation's recorded clip for a catalog key in one language:
 * set replaces one, get is -CB_ENOENT without one. */
int store_voice_clip_set(struct store *st, const char *key, enum lang l, const struct store_audio *a, time_t now);
int store_voice_clip_get(struct store *st, const char *key, enum lang l, struct store_audio *out);
int store_voice_clip_delete(struct store *st, const char *key, enum lang l);
/* A family's note by the hash of what it says; a hit moves it to the
 * message outbox_id that uses it now, so that it lives as long as that
 * message does. -CB_ENOENT on a miss. */
int store_voice_cache_get(struct store *st, int64_t family_id, const unsigned char *hash, size_t hlen,
			  int64_t outbox_id, struct store_audio *out);
int store_voice_cache_put(struct store *st, int64_t family_id, const unsigned char *hash, size_t hlen,
			  int64_t outbox_id, const struct store_audio *a, time_t now);
/* How many notes a family has cached (tests, family show). */
int store_voice_cache_count(struct store *st, int64_t family_id, int *n);

/* backups (store/backup.c) */
/* Copies the database into a new file at path (made 0600) with SQLite's
 * online backup API, in steps of a few pages from one snapshot, waiting
 * while the database is locked; *pages is the copy's size in pages. */
int store_backup_copy(struct store *st, const char *path, int64_t *pages, char *err, size_t errlen);
/* Every document row: id, family and the file's path relative to the data
 * directory; a non-zero return from fn stops and is returned. */
typedef int (*store_backup_doc_fn)(int64_t id, int64_t family_id, const char *path, void *arg);
int store_backup_each_document(struct store *st, store_backup_doc_fn fn, void *arg);
/* Erases from copy every family that live no longer has (by id,
 * reference and creation time), as store_family_erase does, then vacuums copy when any went;
 * path_cb gets the relative path of each of their files. *erased counts
 * them. */
int store_backup_prune(struct store *copy, struct store *live, time_t now,
		       void (*path_cb)(const char *path, void *arg), void *arg, int *erased);

#endif
