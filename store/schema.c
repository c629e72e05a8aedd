/* The schema, as ordered migrations. Migration i takes PRAGMA user_version
 * from i to i + 1; a migration is never edited once released, only
 * followed by a new one. */
#include <stddef.h>

#include "store/store.h"

static const char *const migrations[] = {
	/* 1: the first schema. */
	"CREATE TABLE staff ("
	"  id INTEGER PRIMARY KEY,"
	"  name TEXT NOT NULL UNIQUE,"
	"  role TEXT NOT NULL CHECK (role IN ('counsellor','coordinator')),"
	"  lang TEXT NOT NULL CHECK (lang IN ('nl','fr','de','en')),"
	"  email TEXT,"
	"  active INTEGER NOT NULL DEFAULT 1,"
	"  away INTEGER NOT NULL DEFAULT 0,"
	"  created_at INTEGER NOT NULL);"
	"CREATE TABLE families ("
	"  id INTEGER PRIMARY KEY,"
	"  ref TEXT NOT NULL UNIQUE,"
	"  display_name TEXT,"
	"  lang TEXT NOT NULL CHECK (lang IN ('nl','fr','de','en')),"
	"  status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active','stopped','closed')),"
	"  counsellor_id INTEGER NOT NULL REFERENCES staff(id),"
	"  backup_id INTEGER REFERENCES staff(id),"
	"  created_at INTEGER NOT NULL,"
	"  closed_at INTEGER);"
	"CREATE TABLE members ("
	"  id INTEGER PRIMARY KEY,"
	"  family_id INTEGER NOT NULL REFERENCES families(id) ON DELETE CASCADE,"
	"  name TEXT NOT NULL,"
	"  role TEXT NOT NULL CHECK (role IN ('parent','child','other')),"
	"  lang TEXT CHECK (lang IS NULL OR lang IN ('nl','fr','de','en')),"
	"  created_at INTEGER NOT NULL,"
	"  UNIQUE (family_id, name));"
	"CREATE TABLE channels ("
	"  id INTEGER PRIMARY KEY,"
	"  family_id INTEGER REFERENCES families(id) ON DELETE CASCADE,"
	"  member_id INTEGER REFERENCES members(id) ON DELETE CASCADE,"
	"  staff_id INTEGER REFERENCES staff(id) ON DELETE CASCADE,"
	"  kind TEXT NOT NULL CHECK (kind IN ('telegram','whatsapp','sms','email')),"
	"  address TEXT NOT NULL,"
	"  verified INTEGER NOT NULL DEFAULT 0,"
	"  blocked INTEGER NOT NULL DEFAULT 0,"
	"  opted_out INTEGER NOT NULL DEFAULT 0,"
	"  last_inbound_at INTEGER,"
	"  created_at INTEGER NOT NULL,"
	"  UNIQUE (kind, address),"
	"  CHECK ((family_id IS NULL) <> (staff_id IS NULL)));"
	"CREATE INDEX channels_family ON channels(family_id);"
	"CREATE TABLE invites ("
	"  id INTEGER PRIMARY KEY,"
	"  code_hash BLOB NOT NULL UNIQUE,"
	"  family_id INTEGER REFERENCES families(id) ON DELETE CASCADE,"
	"  member_id INTEGER REFERENCES members(id) ON DELETE CASCADE,"
	"  staff_id INTEGER REFERENCES staff(id) ON DELETE CASCADE,"
	"  created_at INTEGER NOT NULL,"
	"  expires_at INTEGER NOT NULL,"
	"  used_at INTEGER,"
	"  CHECK ((family_id IS NULL) <> (staff_id IS NULL)));"
	"CREATE TABLE appointments ("
	"  id INTEGER PRIMARY KEY,"
	"  family_id INTEGER NOT NULL REFERENCES families(id) ON DELETE CASCADE,"
	"  member_id INTEGER REFERENCES members(id) ON DELETE SET NULL,"
	"  kind TEXT NOT NULL CHECK (kind IN ('home_visit','lawyer','immigration_office','court',"
	"    'school','doctor','social_service','other')),"
	"  starts_at INTEGER NOT NULL,"
	"  place TEXT,"
	"  status TEXT NOT NULL DEFAULT 'scheduled' CHECK (status IN ('scheduled','confirmed',"
	"    'cannot_come','other_time','cancelled')),"
	"  answered_at INTEGER,"
	"  unconfirmed_alerted_at INTEGER,"
	"  created_at INTEGER NOT NULL,"
	"  updated_at INTEGER NOT NULL);"
	"CREATE INDEX appointments_family ON appointments(family_id, starts_at);"
	"CREATE TABLE document_requests ("
	"  id INTEGER PRIMARY KEY,"
	"  family_id INTEGER NOT NULL REFERENCES families(id) ON DELETE CASCADE,"
	"  member_id INTEGER REFERENCES members(id) ON DELETE SET NULL,"
	"  doc_type TEXT NOT NULL CHECK (doc_type IN ('passport','id_card','birth_certificate',"
	"    'school_certificate','medical_certificate','lawyer_letter','order_to_leave','payslip',"
	"    'lease','other')),"
	"  due_date TEXT,"
	"  note TEXT,"
	"  status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open','received','verified',"
	"    'rejected','cancelled')),"
	"  overdue_alerted_at INTEGER,"
	"  created_at INTEGER NOT NULL,"
	"  updated_at INTEGER NOT NULL);"
	"CREATE INDEX document_requests_family ON document_requests(family_id, status);"
	"CREATE TABLE documents ("
	"  id INTEGER PRIMARY KEY,"
	"  family_id INTEGER NOT NULL REFERENCES families(id) ON DELETE CASCADE,"
	"  request_id INTEGER REFERENCES document_requests(id) ON DELETE SET NULL,"
	"  member_id INTEGER REFERENCES members(id) ON DELETE SET NULL,"
	"  received_at INTEGER NOT NULL,"
	"  mime TEXT NOT NULL,"
	"  size INTEGER NOT NULL,"
	"  sha256 BLOB NOT NULL,"
	"  path TEXT NOT NULL,"
	"  status TEXT NOT NULL DEFAULT 'received' CHECK (status IN ('received','verified','rejected')),"
	"  reject_reason TEXT);"
	/* Media a family sent, waiting to be fetched from the gateway. */
	"CREATE TABLE downloads ("
	"  id INTEGER PRIMARY KEY,"
	"  family_id INTEGER NOT NULL REFERENCES families(id) ON DELETE CASCADE,"
	"  member_id INTEGER REFERENCES members(id) ON DELETE SET NULL,"
	"  channel_id INTEGER NOT NULL REFERENCES channels(id) ON DELETE CASCADE,"
	"  media_kind TEXT NOT NULL,"
	"  media_ref TEXT NOT NULL,"
	"  media_size INTEGER NOT NULL DEFAULT 0,"
	"  attempts INTEGER NOT NULL DEFAULT 0,"
	"  not_before INTEGER NOT NULL,"
	"  created_at INTEGER NOT NULL);"
	"CREATE TABLE checkin_plans ("
	"  family_id INTEGER PRIMARY KEY REFERENCES families(id) ON DELETE CASCADE,"
	"  every_days INTEGER NOT NULL CHECK (every_days BETWEEN 1 AND 90),"
	"  weekday INTEGER NOT NULL CHECK (weekday BETWEEN 1 AND 7),"
	"  minute_of_day INTEGER NOT NULL CHECK (minute_of_day BETWEEN 0 AND 1439),"
	"  active INTEGER NOT NULL DEFAULT 1,"
	"  last_sent_at INTEGER,"
	"  last_answer_at INTEGER,"
	"  no_answer_alerted_at INTEGER,"
	"  updated_at INTEGER NOT NULL);"
	"CREATE TABLE outbox ("
	"  id INTEGER PRIMARY KEY,"
	"  family_id INTEGER REFERENCES families(id) ON DELETE CASCADE,"
	"  member_id INTEGER REFERENCES members(id) ON DELETE CASCADE,"
	"  staff_id INTEGER REFERENCES staff(id) ON DELETE CASCADE,"
	"  channel_id INTEGER REFERENCES channels(id) ON DELETE CASCADE,"
	"  appointment_id INTEGER REFERENCES appointments(id) ON DELETE CASCADE,"
	"  request_id INTEGER REFERENCES document_requests(id) ON DELETE CASCADE,"
	"  kind TEXT NOT NULL,"
	"  catalog_key TEXT NOT NULL,"
	"  params TEXT NOT NULL DEFAULT '{}',"
	"  urgent INTEGER NOT NULL DEFAULT 0,"
	"  not_before INTEGER NOT NULL,"
	"  expires_at INTEGER,"
	"  status TEXT NOT NULL DEFAULT 'queued' CHECK (status IN ('queued','sending','sent',"
	"    'delivered','read','failed','expired','cancelled')),"
	"  attempts INTEGER NOT NULL DEFAULT 0,"
	"  last_error TEXT,"
	"  gateway_message_id TEXT,"
	"  created_at INTEGER NOT NULL,"
	"  updated_at INTEGER NOT NULL,"
	"  CHECK (family_id IS NOT NULL OR staff_id IS NOT NULL));"
	"CREATE INDEX outbox_due ON outbox(status, not_before);"
	"CREATE INDEX outbox_appointment ON outbox(appointment_id);"
	"CREATE INDEX outbox_request ON outbox(request_id);"
	"CREATE TABLE inbound ("
	"  id INTEGER PRIMARY KEY,"
	"  channel_kind TEXT NOT NULL,"
	"  external_id TEXT NOT NULL,"
	"  sender TEXT NOT NULL,"
	"  received_at INTEGER NOT NULL,"
	"  event TEXT NOT NULL,"
	"  status TEXT NOT NULL DEFAULT 'new' CHECK (status IN ('new','handled','failed')),"
	"  handled_at INTEGER,"
	"  UNIQUE (channel_kind, external_id));"
	"CREATE INDEX inbound_new ON inbound(status) WHERE status = 'new';"
	"CREATE INDEX inbound_sender ON inbound(channel_kind, sender, received_at);"
	"CREATE TABLE contact_log ("
	"  id INTEGER PRIMARY KEY,"
	"  family_id INTEGER NOT NULL REFERENCES families(id) ON DELETE CASCADE,"
	"  at INTEGER NOT NULL,"
	"  direction TEXT NOT NULL CHECK (direction IN ('in','out','internal')),"
	"  channel_kind TEXT,"
	"  kind TEXT NOT NULL,"
	"  staff_id INTEGER REFERENCES staff(id) ON DELETE SET NULL,"
	"  member_id INTEGER REFERENCES members(id) ON DELETE SET NULL,"
	"  summary TEXT NOT NULL,"
	"  status TEXT);"
	"CREATE INDEX contact_log_family ON contact_log(family_id, at);"
	"CREATE TABLE alerts ("
	"  id INTEGER PRIMARY KEY,"
	"  family_id INTEGER REFERENCES families(id) ON DELETE CASCADE,"
	"  staff_id INTEGER REFERENCES staff(id) ON DELETE SET NULL,"
	"  kind TEXT NOT NULL,"
	"  urgent INTEGER NOT NULL DEFAULT 0,"
	"  summary TEXT NOT NULL,"
	"  created_at INTEGER NOT NULL,"
	"  acked_at INTEGER,"
	"  acked_by INTEGER REFERENCES staff(id) ON DELETE SET NULL,"
	"  escalation INTEGER NOT NULL DEFAULT 0,"   /* 0 owner, 1 backup, 2 coordinators */
	"  escalated_at INTEGER);"
	"CREATE INDEX alerts_open ON alerts(acked_at, created_at);"
	/* The audit trail outlives an erased family: it keeps the reference,
	 * not a foreign key. */
	"CREATE TABLE audit ("
	"  id INTEGER PRIMARY KEY,"
	"  at INTEGER NOT NULL,"
	"  actor TEXT NOT NULL,"
	"  action TEXT NOT NULL,"
	"  family_ref TEXT,"
	"  detail TEXT);"
	"CREATE TABLE gateway_state ("
	"  gateway TEXT NOT NULL,"
	"  key TEXT NOT NULL,"
	"  value TEXT NOT NULL,"
	"  PRIMARY KEY (gateway, key));",
	/* 2: case references are typed in any case; they are found through
	 * this index. */
	"CREATE INDEX families_ref_nocase ON families(ref COLLATE NOCASE);",

	/* 3: a staff chat is active only once someone at the CLI enters the
	 * pairing number it was shown; audit rows name the staff member and
	 * the chat (the channel id, never its address) they concern; the
	 * codes of files already closed die. */
	"CREATE TABLE staff_pairings ("
	"  channel_id INTEGER PRIMARY KEY REFERENCES channels(id) ON DELETE CASCADE,"
	"  staff_id INTEGER NOT NULL REFERENCES staff(id) ON DELETE CASCADE,"
	"  salt BLOB NOT NULL,"
	"  number_hash BLOB NOT NULL,"
	"  attempts INTEGER NOT NULL DEFAULT 0,"
	"  created_at INTEGER NOT NULL,"
	"  expires_at INTEGER NOT NULL);"
	"CREATE INDEX staff_pairings_staff ON staff_pairings(staff_id);"
	"CREATE INDEX channels_staff ON channels(staff_id);"
	"ALTER TABLE channels ADD COLUMN confirmed_at INTEGER;"
	"ALTER TABLE audit ADD COLUMN staff_id INTEGER;"
	"ALTER TABLE audit ADD COLUMN channel_id INTEGER;"
	"UPDATE audit SET staff_id = (SELECT id FROM staff WHERE staff.name = audit.detail),"
	"  detail = NULL WHERE action IN ('staff.add', 'staff.invite', 'staff.link')"
	"  AND detail IN (SELECT name FROM staff);"
	"CREATE INDEX audit_at ON audit(at);"
	"DELETE FROM invites WHERE used_at IS NULL"
	"  AND family_id IN (SELECT id FROM families WHERE status = 'closed');",
	/* 4: the last question each chat was asked, and its numbered choices,
	 * so that a bare "2" answers that question and no other. */
	"CREATE TABLE questions ("
	"  channel_id INTEGER PRIMARY KEY REFERENCES channels(id) ON DELETE CASCADE,"
	"  outbox_id INTEGER REFERENCES outbox(id) ON DELETE SET NULL,"
	"  kind TEXT NOT NULL,"
	"  asked_at INTEGER NOT NULL,"
	"  expires_at INTEGER NOT NULL,"
	"  answered_at INTEGER);"
	"CREATE TABLE question_choices ("
	"  channel_id INTEGER NOT NULL REFERENCES questions(channel_id) ON DELETE CASCADE,"
	"  number INTEGER NOT NULL CHECK (number BETWEEN 1 AND 9),"
	"  data TEXT NOT NULL,"
	"  words TEXT,"
	"  PRIMARY KEY (channel_id, number));",
	/* 5: when an appointment's first reminder was actually sent: the
	 * family's time to confirm counts from it. */
	"ALTER TABLE appointments ADD COLUMN reminded_at INTEGER;",
	/* 6: what is kept, and for how long. Audit rows are structured (who,
	 * what, which family, which object), never free text: the free text
	 * older rows held is dropped. A message in an end state keeps no
	 * words: a forward keeps what a reply needs, a reply, a staff text,
	 * a digest and a pairing number keep nothing; the trigger does it for
	 * every way a row can end (sent, failed, expired, cancelled). Indexes
	 * let retention delete old rows in small batches. */
	"ALTER TABLE audit ADD COLUMN family_id INTEGER;"
	"ALTER TABLE audit ADD COLUMN object_id INTEGER;"
	"UPDATE audit SET family_id = (SELECT id FROM families WHERE families.ref = audit.family_ref)"
	"  WHERE family_ref IS NOT NULL;"
	"UPDATE audit SET detail = NULL WHERE action IN ('invite.create', 'scope.refused');"
	"CREATE TRIGGER outbox_scrub AFTER UPDATE OF status ON outbox"
	"  WHEN NEW.status NOT IN ('queued', 'sending') BEGIN"
	"  UPDATE outbox SET params = CASE"
	"    WHEN NEW.kind = 'forward' THEN json_object('alert_id', json_extract(NEW.params, '$.alert_id'),"
	"      'ref', json_extract(NEW.params, '$.ref'), 'channel_id', json_extract(NEW.params, '$.channel_id'),"
	"      'member', json_extract(NEW.params, '$.member'), 'language', json_extract(NEW.params, '$.language'))"
	"    ELSE '{}' END"
	"  WHERE id = NEW.id AND NEW.kind IN ('forward', 'relay_reply', 'staff_text', 'digest', 'staff_pairing');"
	"  END;"
	"UPDATE outbox SET status = status WHERE status NOT IN ('queued', 'sending');"
	"CREATE INDEX outbox_family ON outbox(family_id);"
	"CREATE INDEX outbox_ended ON outbox(updated_at)"
	"  WHERE status IN ('sent', 'delivered', 'read', 'failed', 'expired', 'cancelled');"
	"CREATE INDEX contact_log_at ON contact_log(at);"
	"CREATE INDEX alerts_created ON alerts(created_at);"
	"CREATE INDEX inbound_received ON inbound(received_at);"
	"CREATE INDEX families_closed ON families(closed_at) WHERE status = 'closed';",
	/* 7: an inbound event whose routing failed is tried again a bounded
	 * number of times, not dropped. */
	"ALTER TABLE inbound ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE inbound ADD COLUMN retry_at INTEGER;",
	/* 8: the copies of one alert (the counsellor's and the backup's) share
	 * a group and are closed together; the first copy keeps the forward
	 * (the family's words) while the alert is open, for whoever it is
	 * escalated to, and loses it when the alert is closed or has reached
	 * the coordinators. */
	"ALTER TABLE alerts ADD COLUMN group_id INTEGER;"
	"ALTER TABLE alerts ADD COLUMN forward TEXT;"
	"UPDATE alerts SET group_id = id;"
	"CREATE INDEX alerts_group ON alerts(group_id);"
	"CREATE INDEX alerts_family_open ON alerts(family_id) WHERE acked_at IS NULL;",

	/* 9: contact-log rows and alerts keep a code (in summary) and its
	 * values, rendered in the reader's language; older rows keep their
	 * English summary and no values, and read as a generic sentence. */
	"ALTER TABLE contact_log ADD COLUMN params TEXT;"
	"ALTER TABLE alerts ADD COLUMN params TEXT;",
	/* 10: the gateway's ids of every part of a long forward but the last
	 * (which is the row's own), so that staff may answer any part. */
	"CREATE TABLE outbox_parts ("
	"  outbox_id INTEGER NOT NULL REFERENCES outbox(id) ON DELETE CASCADE,"
	"  gateway_message_id TEXT NOT NULL,"
	"  PRIMARY KEY (outbox_id, gateway_message_id));"
	"CREATE INDEX outbox_parts_message ON outbox_parts(gateway_message_id);",
	/* 11: a document is known by a hash keyed with the document key, not by
	 * its plain SHA-256, which anyone holding the same file could match;
	 * documents stored before this have no hash. */
	"ALTER TABLE documents ADD COLUMN mac BLOB;"
	"ALTER TABLE documents DROP COLUMN sha256;",
	/* 12: each family's contact log is a hash chain: a row stores the hash
	 * of the row before it and the hash of that plus its own columns. The
	 * chain's head is kept per family, so that a row cut from the end
	 * shows too; it goes with the family. Rows from before the chain are
	 * sealed into it when the family's next row is written. */
	"ALTER TABLE contact_log ADD COLUMN chain_prev BLOB;"
	"ALTER TABLE contact_log ADD COLUMN chain_hash BLOB;"
	"CREATE INDEX contact_log_chain ON contact_log(family_id, id);"
	"CREATE INDEX contact_log_unsealed ON contact_log(family_id, id) WHERE chain_hash IS NULL;"
	"CREATE TABLE contact_chains ("
	"  family_id INTEGER PRIMARY KEY REFERENCES families(id) ON DELETE CASCADE,"
	"  head_id INTEGER NOT NULL,"
	"  head BLOB NOT NULL,"
	"  rows INTEGER NOT NULL);",
	/* 13: a chat's rows by kind: the forward a staff reply answers and the
	 * family's last automatic message are found without reading the whole
	 * outbox. */
	"CREATE INDEX outbox_channel ON outbox(channel_id, kind);",
	/* 14: a chat whose address cannot get messages on its gateway (not on
	 * WhatsApp) keeps the gateway's reason, for the owner's next channel. */
	"ALTER TABLE channels ADD COLUMN fallback_reason TEXT;",
	/* 15: the dispatcher walks the queue in the order it sends (urgent
	 * rows first, then by due time), through an index holding only the
	 * queued rows, and stops at the first row not due; expiry finds what
	 * has expired by its time; a chat's last automatic message is the
	 * first of its index, however long the chat's history. */
	"UPDATE outbox SET urgent = 1 WHERE urgent NOT IN (0, 1);"
	"CREATE INDEX outbox_queue ON outbox(urgent, not_before) WHERE status = 'queued';"
	"CREATE INDEX outbox_expiry ON outbox(expires_at) WHERE status = 'queued' AND expires_at IS NOT NULL;"
	"CREATE INDEX outbox_last_auto ON outbox(channel_id, updated_at)"
	"  WHERE kind IN ('reminder', 'checkin', 'document_request', 'document_reminder', 'document_rejected',"
	" 'appointment_notice') AND status IN ('sent', 'delivered', 'read');"
	/* The deadline pass reads only what may be late: reminded appointments
	 * not yet confirmed nor alerted, open requests with a due date, plans
	 * whose last check-in is unanswered, alerts still to escalate. */
	"CREATE INDEX appointments_unconfirmed ON appointments(starts_at)"
	"  WHERE status = 'scheduled' AND unconfirmed_alerted_at IS NULL AND reminded_at IS NOT NULL;"
	"CREATE INDEX document_requests_overdue ON document_requests(due_date)"
	"  WHERE status = 'open' AND overdue_alerted_at IS NULL AND due_date IS NOT NULL;"
	"CREATE INDEX checkin_plans_unanswered ON checkin_plans(last_sent_at)"
	"  WHERE active = 1 AND last_sent_at IS NOT NULL AND (last_answer_at IS NULL OR last_answer_at < last_sent_at)"
	"  AND (no_answer_alerted_at IS NULL OR no_answer_alerted_at < last_sent_at);"
	"CREATE INDEX alerts_escalating ON alerts(id) WHERE acked_at IS NULL AND escalation < 2;",
	/* 16: WhatsApp. A chat can have a second identity (one user is a
	 * number and a business-scoped user id); a change of number waits,
	 * pending, until staff confirm it. Each sent message's delivery
	 * status, as the gateway reports it, only moves forward and keeps the
	 * error of a failure and the pricing Meta reports; it is found by the
	 * gateway's message id, and so is the outbox row it belongs to. */
	"CREATE TABLE channel_identities ("
	"  id INTEGER PRIMARY KEY,"
	"  channel_id INTEGER NOT NULL REFERENCES channels(id) ON DELETE CASCADE,"
	"  kind TEXT NOT NULL,"
	"  identity TEXT NOT NULL,"
	"  replaces TEXT,"
	"  pending INTEGER NOT NULL DEFAULT 0,"
	"  created_at INTEGER NOT NULL);"
	"CREATE UNIQUE INDEX channel_identities_known ON channel_identities(kind, identity) WHERE pending = 0;"
	"CREATE UNIQUE INDEX channel_identities_pending ON channel_identities(channel_id, identity) WHERE pending = 1;"
	"CREATE INDEX channel_identities_channel ON channel_identities(channel_id);"
	"CREATE TABLE deliveries ("
	"  channel_kind TEXT NOT NULL,"
	"  gateway_message_id TEXT NOT NULL,"
	"  state INTEGER NOT NULL CHECK (state BETWEEN 1 AND 5),"
	"  status_at INTEGER NOT NULL,"
	"  error_code INTEGER,"
	"  error_title TEXT,"
	"  error_details TEXT,"
	"  category TEXT,"
	"  billable INTEGER,"
	"  updated_at INTEGER NOT NULL,"
	"  UNIQUE (channel_kind, gateway_message_id));"
	"CREATE INDEX deliveries_updated ON deliveries(updated_at);"
	"CREATE INDEX outbox_gateway_message ON outbox(gateway_message_id) WHERE gateway_message_id IS NOT NULL;",
	/* 17: a message the gateway keeps failing is tried again until the
	 * moment it is no longer worth sending, set at its first failure. */
	"ALTER TABLE outbox ADD COLUMN give_up_at INTEGER;",
	/* 18: a queued row whose family or staff member has no chat it can
	 * reach is parked: it leaves the dispatcher's index, so that rows
	 * nobody can receive yet are not walked again at every pass. A chat
	 * added, or one that becomes reachable, brings its owner's parked
	 * rows back, whoever writes it (the daemon or the CLI). */
	"ALTER TABLE outbox ADD COLUMN parked_at INTEGER;"
	"DROP INDEX outbox_queue;"
	"CREATE INDEX outbox_queue ON outbox(urgent, not_before) WHERE status = 'queued' AND parked_at IS NULL;"
	"CREATE INDEX outbox_parked_family ON outbox(family_id) WHERE status = 'queued' AND parked_at IS NOT NULL;"
	"CREATE INDEX outbox_parked_staff ON outbox(staff_id) WHERE status = 'queued' AND parked_at IS NOT NULL;"
	"CREATE TRIGGER outbox_unpark_new AFTER INSERT ON channels BEGIN"
	"  UPDATE outbox SET parked_at = NULL WHERE status = 'queued' AND parked_at IS NOT NULL"
	"  AND family_id = NEW.family_id;"
	"  UPDATE outbox SET parked_at = NULL WHERE status = 'queued' AND parked_at IS NOT NULL"
	"  AND staff_id = NEW.staff_id;"
	"  END;"
	"CREATE TRIGGER outbox_unpark_changed AFTER UPDATE OF verified, blocked, confirmed_at, family_id, staff_id"
	"  ON channels BEGIN"
	"  UPDATE outbox SET parked_at = NULL WHERE status = 'queued' AND parked_at IS NOT NULL"
	"  AND family_id = NEW.family_id;"
	"  UPDATE outbox SET parked_at = NULL WHERE status = 'queued' AND parked_at IS NOT NULL"
	"  AND staff_id = NEW.staff_id;"
	"  END;",
	/* 19: a delivery status belongs to its outbox row and goes with it: a
	 * WhatsApp message id holds the recipient's number, and erasing a
	 * family leaves none behind. One whose row is not known is kept a
	 * week (Meta's retries), no longer. */
	"ALTER TABLE deliveries ADD COLUMN outbox_id INTEGER REFERENCES outbox(id) ON DELETE CASCADE;"
	"CREATE INDEX deliveries_outbox ON deliveries(outbox_id);",
	/* 20: the console's logins. A staff member's password is an argon2id
	 * string (salt and cost inside), the second factor a TOTP secret in
	 * base32 with the last time step used, so that a code works once.
	 * Sessions are kept by the hash of their token, never the token. */
	"CREATE TABLE staff_logins ("
	"  staff_id INTEGER PRIMARY KEY REFERENCES staff(id) ON DELETE CASCADE,"
	"  password TEXT,"
	"  totp_secret TEXT,"
	"  totp_last_step INTEGER NOT NULL DEFAULT 0,"
	"  updated_at INTEGER NOT NULL);"
	"CREATE TABLE console_sessions ("
	"  id INTEGER PRIMARY KEY,"
	"  token_hash BLOB NOT NULL UNIQUE,"
	"  staff_id INTEGER NOT NULL REFERENCES staff(id) ON DELETE CASCADE,"
	"  created_at INTEGER NOT NULL,"
	"  seen_at INTEGER NOT NULL);"
	"CREATE INDEX console_sessions_staff ON console_sessions(staff_id);"
	"CREATE INDEX console_sessions_seen ON console_sessions(seen_at);"
	/* The console's overview reads, per family, when it last wrote and
	 * was last written to, its messages since the last reply, and, over
	 * everyone, the coming unanswered appointments, the open requests by
	 * due date and the chats that cannot be reached. */
	"CREATE INDEX contact_log_direction ON contact_log(family_id, direction, at);"
	"CREATE INDEX contact_log_kind ON contact_log(family_id, kind, at);"
	"CREATE INDEX appointments_scheduled ON appointments(starts_at) WHERE status = 'scheduled';"
	"CREATE INDEX document_requests_open_due ON document_requests(due_date) WHERE status = 'open';"
	"CREATE INDEX channels_unreachable ON channels(family_id) WHERE blocked = 1 OR opted_out = 1;",
	/* 21: spoken reminders. A member may also get reminders, check-ins
	 * and document requests as a voice note. An organisation's recorded
	 * clip stands for a fixed sentence in one language. A note made for
	 * a message is kept by the hash of its words and language, for the
	 * family, and goes with the last message that used it: retention
	 * and erasure take it with that row (or the family). */
	"ALTER TABLE members ADD COLUMN voice INTEGER NOT NULL DEFAULT 0 CHECK (voice IN (0, 1));"
	"CREATE TABLE voice_clips ("
	"  key TEXT NOT NULL,"
	"  lang TEXT NOT NULL CHECK (lang IN ('nl','fr','de','en')),"
	"  audio BLOB NOT NULL,"
	"  seconds REAL NOT NULL,"
	"  created_at INTEGER NOT NULL,"
	"  PRIMARY KEY (key, lang));"
	"CREATE TABLE voice_cache ("
	"  family_id INTEGER NOT NULL REFERENCES families(id) ON DELETE CASCADE,"
	"  hash BLOB NOT NULL,"
	"  outbox_id INTEGER NOT NULL REFERENCES outbox(id) ON DELETE CASCADE,"
	"  audio BLOB NOT NULL,"
	"  seconds REAL NOT NULL,"
	"  created_at INTEGER NOT NULL,"
	"  PRIMARY KEY (family_id, hash));"
	"CREATE INDEX voice_cache_outbox ON voice_cache(outbox_id);",
	/* 22: a member's chats are in an order (position 1 first; chats
	 * without one follow, oldest first). A message goes to the first chat
	 * that can take it and is offered down the order, never back up: each
	 * copy names the message's first row (origin_id), the row it was
	 * offered after (fallback_of) and why (fallback_why: blocked,
	 * unreachable, unconfirmed). One copy per chat at most, whatever
	 * crashes in between: the unique index says so. */
	"ALTER TABLE channels ADD COLUMN position INTEGER;"
	"ALTER TABLE outbox ADD COLUMN origin_id INTEGER;"
	"ALTER TABLE outbox ADD COLUMN fallback_of INTEGER;"
	"ALTER TABLE outbox ADD COLUMN fallback_why TEXT;"
	"CREATE UNIQUE INDEX outbox_one_per_channel ON outbox(origin_id, channel_id) WHERE origin_id IS NOT NULL;",
	/* 23: a message to staff that a conversation window (WhatsApp's 24
	 * hours) keeps from going is held: since when, and when staff were
	 * told on another channel. The nudge asking the chat to write is a row
	 * of its own, found per chat. The chat's next message brings its held
	 * rows back at once. */
	"ALTER TABLE outbox ADD COLUMN window_held_at INTEGER;"
	"ALTER TABLE outbox ADD COLUMN window_alerted_at INTEGER;"
	"CREATE INDEX outbox_window_held ON outbox(channel_id) WHERE status = 'queued' AND window_held_at IS NOT NULL;"
	"CREATE INDEX outbox_window_nudge ON outbox(channel_id, created_at) WHERE kind = 'window_nudge';"
	"CREATE TRIGGER outbox_window_open AFTER UPDATE OF last_inbound_at ON channels"
	"  WHEN NEW.staff_id IS NOT NULL AND NEW.last_inbound_at > coalesce(OLD.last_inbound_at, 0) BEGIN"
	"  UPDATE outbox SET not_before = min(not_before, NEW.last_inbound_at), window_held_at = NULL,"
	"  window_alerted_at = NULL WHERE status = 'queued' AND window_held_at IS NOT NULL AND channel_id = NEW.id;"
	"  END;",
	/* 24: appointments in the phone's calendar. A family gets them as
	 * calendar files only once staff switch it on (with or without what
	 * and where). An appointment keeps one UID for its whole life and a
	 * SEQUENCE that each move or cancellation raises, so the phone
	 * updates the event it has. Where the gateway cannot carry the file,
	 * a one-time link serves it: the link's token is kept only as its
	 * hash, and the row goes when the link is used or expires. */
	"ALTER TABLE families ADD COLUMN calendar TEXT NOT NULL DEFAULT 'off'"
	"  CHECK (calendar IN ('off','on','details'));"
	"ALTER TABLE appointments ADD COLUMN calendar_uid TEXT;"
	"ALTER TABLE appointments ADD COLUMN calendar_seq INTEGER NOT NULL DEFAULT 0;"
	"CREATE TABLE calendar_links ("
	"  id INTEGER PRIMARY KEY,"
	"  token_hash BLOB NOT NULL UNIQUE,"
	"  family_id INTEGER NOT NULL REFERENCES families(id) ON DELETE CASCADE,"
	"  appointment_id INTEGER NOT NULL REFERENCES appointments(id) ON DELETE CASCADE,"
	"  outbox_id INTEGER REFERENCES outbox(id) ON DELETE CASCADE,"
	"  lang TEXT NOT NULL CHECK (lang IN ('nl','fr','de','en')),"
	"  created_at INTEGER NOT NULL,"
	"  expires_at INTEGER NOT NULL);"
	"CREATE INDEX calendar_links_family ON calendar_links(family_id);"
	"CREATE INDEX calendar_links_appointment ON calendar_links(appointment_id);"
	"CREATE INDEX calendar_links_outbox ON calendar_links(outbox_id);"
	"CREATE INDEX calendar_links_expires ON calendar_links(expires_at);",
	/* 25: any message from the staff chat opens its window, also one in
	 * the same second as its last (seconds are the record's unit): held
	 * rows no longer wait for the clock to tick over. */
	"DROP TRIGGER outbox_window_open;"
	"CREATE TRIGGER outbox_window_open AFTER UPDATE OF last_inbound_at ON channels"
	"  WHEN NEW.staff_id IS NOT NULL AND NEW.last_inbound_at >= coalesce(OLD.last_inbound_at, 0) BEGIN"
	"  UPDATE outbox SET not_before = min(not_before, NEW.last_inbound_at), window_held_at = NULL,"
	"  window_alerted_at = NULL WHERE status = 'queued' AND window_held_at IS NOT NULL AND channel_id = NEW.id;"
	"  END;",
	/* 26: a question keeps the choice that answered it, so that a family
	 * answering a check-in again is heard without a second alert for the
	 * same answer. */
	"ALTER TABLE questions ADD COLUMN answer TEXT;",
};

size_t store_schema_count(void)
{
	return CB_ARRAY_SIZE(migrations);
}

const char *store_schema_migration(size_t i)
{
	return i < CB_ARRAY_SIZE(migrations) ? migrations[i] : NULL;
}
