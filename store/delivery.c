/* Delivery statuses of sent messages. A gateway reports them out of order
 * and more than once (Meta retries a webhook for days): a status is kept
 * only when it moves the message forward, and failed is the end. */
#include <stdio.h>
#include <string.h>

#include "store/store.h"

static const char SQL_GET[] =
	"SELECT state, status_at, error_code, error_title, error_details, category, billable FROM deliveries"
	" WHERE channel_kind = ?1 AND gateway_message_id = ?2";
/* One statement for new and known rows: the state moves only up, and
 * never away from failed; the pricing is kept from the first status that
 * has it, the error from the failure. */
static const char SQL_PUT[] =
	"INSERT INTO deliveries (channel_kind, gateway_message_id, state, status_at, error_code, error_title,"
	" error_details, category, billable, updated_at, outbox_id)"
	" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"
	" ON CONFLICT (channel_kind, gateway_message_id) DO UPDATE SET"
	" state = CASE WHEN state < 5 AND excluded.state > state THEN excluded.state ELSE state END,"
	" status_at = CASE WHEN state < 5 AND excluded.state > state THEN excluded.status_at ELSE status_at END,"
	" error_code = CASE WHEN state < 5 AND excluded.state = 5 THEN excluded.error_code ELSE error_code END,"
	" error_title = CASE WHEN state < 5 AND excluded.state = 5 THEN excluded.error_title ELSE error_title END,"
	" error_details = CASE WHEN state < 5 AND excluded.state = 5 THEN excluded.error_details"
	"  ELSE error_details END,"
	" category = coalesce(category, excluded.category),"
	" billable = coalesce(billable, excluded.billable),"
	" outbox_id = coalesce(outbox_id, excluded.outbox_id),"
	" updated_at = excluded.updated_at";
/* The outbox row the sending side recorded with this id (its last part's
 * id), on a chat of this gateway. Only rows that were sent move: a row
 * being sent again, or ended otherwise, keeps its state. played reads as
 * read in the outbox. */
static const char SQL_OUTBOX_FIND[] =
	"SELECT o.id, o.status FROM outbox o JOIN channels c ON c.id = o.channel_id"
	" WHERE o.gateway_message_id = ?1 AND c.kind = ?2 LIMIT 1";
static const char SQL_OUTBOX_MOVE[] =
	"UPDATE outbox SET status = ?2, last_error = coalesce(?3, last_error), updated_at = ?4"
	" WHERE id = ?1 AND status IN ('sent', 'delivered', 'read')"
	" AND CASE status WHEN 'sent' THEN 1 WHEN 'delivered' THEN 2 ELSE 3 END < ?5";

static int read_delivery(sqlite3_stmt *q, void *arg)
{
	struct delivery_row *r = arg;

	memset(r, 0, sizeof(*r));
	r->state = (enum delivery_state)sqlite3_column_int(q, 0);
	r->at = (time_t)sqlite3_column_int64(q, 1);
	r->error_code = sqlite3_column_int(q, 2);
	store_col_text(q, 3, r->error_title, sizeof(r->error_title));
	store_col_text(q, 4, r->error_details, sizeof(r->error_details));
	store_col_text(q, 5, r->category, sizeof(r->category));
	r->billable = sqlite3_column_type(q, 6) == SQLITE_NULL ? -1 : sqlite3_column_int(q, 6);
	return 0;
}

int store_delivery_get(struct store *st, const char *channel_kind, const char *gateway_message_id,
		       struct delivery_row *out)
{
	sqlite3_stmt *q = store_stmt(st, SQL_GET);

	if (q != NULL) {
		sqlite3_bind_text(q, 1, channel_kind, -1, SQLITE_STATIC);
		sqlite3_bind_text(q, 2, gateway_message_id, -1, SQLITE_STATIC);
	}
	return store_row(q, read_delivery, out);
}

struct outbox_ref {
	int64_t id;
	char status[16];
};

static int read_ref(sqlite3_stmt *q, void *arg)
{
	struct outbox_ref *r = arg;

	r->id = sqlite3_column_int64(q, 0);
	store_col_text(q, 1, r->status, sizeof(r->status));
	return 0;
}

static int find_outbox(struct store *st, const char *kind, const char *id, struct outbox_ref *ref)
{
	sqlite3_stmt *q = store_stmt(st, SQL_OUTBOX_FIND);
	int rc;

	if (q != NULL) {
		sqlite3_bind_text(q, 1, id, -1, SQLITE_STATIC);
		sqlite3_bind_text(q, 2, kind, -1, SQLITE_STATIC);
	}
	rc = store_row(q, read_ref, ref);
	return rc == -CB_ENOENT ? 0 : rc;
}

/* The outbox row takes the recorded state when it is behind it (played
 * reads as read): also when a status came before the send's answer did,
 * and found no row then. */
static int move_outbox(struct store *st, const char *kind, int64_t outbox_id, const struct delivery_row *cur,
		       time_t now)
{
	static const char *const names[] = {
		[DELIVERY_SENT] = "sent", [DELIVERY_DELIVERED] = "delivered", [DELIVERY_READ] = "read",
		[DELIVERY_PLAYED] = "read", [DELIVERY_FAILED] = "failed",
	};
	sqlite3_stmt *q = store_stmt(st, SQL_OUTBOX_MOVE);
	char error[200];

	if (q == NULL)
		return -CB_ESTORE;
	sqlite3_bind_int64(q, 1, outbox_id);
	sqlite3_bind_text(q, 2, names[cur->state], -1, SQLITE_STATIC);
	if (cur->state == DELIVERY_FAILED) {
		snprintf(error, sizeof(error), "%s %d: %.150s", kind, cur->error_code, cur->error_title);
		sqlite3_bind_text(q, 3, error, -1, SQLITE_TRANSIENT);
	} else {
		sqlite3_bind_null(q, 3);
	}
	sqlite3_bind_int64(q, 4, now);
	sqlite3_bind_int(q, 5, cur->state == DELIVERY_PLAYED ? DELIVERY_READ : (int)cur->state);
	return store_exec_stmt(q);
}

int store_delivery_apply(struct store *st, const char *channel_kind, const struct delivery *d, time_t now,
			 int *applied, int *newly_billable, int64_t *outbox_id)
{
	struct outbox_ref ref = {0};
	struct delivery_row old, cur;
	sqlite3_stmt *q;
	int rc, known;

	*applied = *newly_billable = 0;
	*outbox_id = 0;
	if (d->state < DELIVERY_SENT || d->state > DELIVERY_FAILED)
		return -CB_EINVAL;
	rc = store_delivery_get(st, channel_kind, d->gateway_message_id, &old);
	if (rc != 0 && rc != -CB_ENOENT)
		return rc;
	known = rc == 0;
	if ((rc = find_outbox(st, channel_kind, d->gateway_message_id, &ref)) != 0)
		return rc;
	if ((q = store_stmt(st, SQL_PUT)) == NULL)
		return -CB_ESTORE;
	sqlite3_bind_text(q, 1, channel_kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, d->gateway_message_id, -1, SQLITE_STATIC);
	sqlite3_bind_int(q, 3, (int)d->state);
	sqlite3_bind_int64(q, 4, d->at);
	if (d->state == DELIVERY_FAILED) {
		sqlite3_bind_int(q, 5, d->error_code);
		store_bind_opt_text(q, 6, d->error_title != NULL ? d->error_title : "");
		store_bind_opt_text(q, 7, d->error_details != NULL ? d->error_details : "");
	} else {
		sqlite3_bind_null(q, 5);
		sqlite3_bind_null(q, 6);
		sqlite3_bind_null(q, 7);
	}
	store_bind_opt_text(q, 8, d->category != NULL ? d->category : "");
	if (d->billable >= 0)
		sqlite3_bind_int(q, 9, d->billable);
	else
		sqlite3_bind_null(q, 9);
	sqlite3_bind_int64(q, 10, now);
	store_bind_id(q, 11, ref.id);
	if ((rc = store_exec_stmt(q)) != 0)
		return rc;
	*applied = !known || (old.state != DELIVERY_FAILED && d->state > old.state);
	*newly_billable = d->billable == 1 && (!known || old.billable < 0);
	*outbox_id = ref.id;
	if (ref.id == 0)
		return 0;
	if ((rc = store_delivery_get(st, channel_kind, d->gateway_message_id, &cur)) != 0)
		return rc;
	return move_outbox(st, channel_kind, ref.id, &cur, now);
}
