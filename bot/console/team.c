/* The staff page, for coordinators only: who works here, their chats and
 * second factor, and what the CLI's staff commands do, from a browser:
 * add, invite (the link as a QR code), confirm a pairing, unlink,
 * deactivate, away and back, the backup of someone's families, a new
 * password, a new second factor. Every change is audited; a counsellor
 * asking is refused, audited too. */
#include <ctype.h>
#include <qrencode.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bot/console/team.h"
#include "bot/gateways/settings.h"
#include "bot/tz.h"

#define DATE_MAX PAGE_DATE_MAX
#define TEAM_CHATS_MAX 32
#define URL_MAX 96

struct chats {
	struct channel items[TEAM_CHATS_MAX];
	int n;
};

static int keep_chat(const void *rec, void *arg)
{
	struct chats *ch = arg;

	if (ch->n < TEAM_CHATS_MAX)
		ch->items[ch->n++] = *(const struct channel *)rec;
	return 0;
}

static int team_audit(struct page *x, const char *action, const struct staff *s, int64_t channel_id,
		      const char *detail)
{
	const struct audit_entry e = {x->actor, action, NULL, detail, s->id, channel_id, 0};

	return store_audit_add(x->h->store, x->h->now, &e);
}

/* A QR code as SVG: one path of its dark modules, a quiet zone of four,
 * titled with what it says so that it is read without the picture. */
static void qr_svg(struct html *b, const char *text, const char *title)
{
	QRcode *q = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
	int w;

	if (q == NULL) {
		b->failed = 1;
		return;
	}
	w = q->width;
	html_rawf(b, "<svg class=\"qr\" role=\"img\" viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\"><title>", w + 8,
		  w + 8, 4 * (w + 8), 4 * (w + 8));
	html_text(b, title);
	html_rawf(b, "</title><rect width=\"%d\" height=\"%d\" fill=\"#fff\"/><path fill=\"#000\" d=\"", w + 8, w + 8);
	for (int y = 0; y < w; y++)
		for (int x = 0; x < w; x++)
			if (q->data[y * w + x] & 1)
				html_rawf(b, "M%d %dh1v1h-1z", x + 4, y + 4);
	html_raw(b, "\"/></svg>");
	QRcode_free(q);
}

struct team_walk {
	struct page *x;
	struct html *b;
	struct staff *all;
	int n, cap;
};

static int keep_staff(const void *rec, void *arg)
{
	struct team_walk *w = arg;

	if (w->n < w->cap)
		w->all[w->n++] = *(const struct staff *)rec;
	return 0;
}

static void staff_form(struct page *x, struct html *b, const struct staff *s, const char *verb)
{
	char to[URL_MAX];

	snprintf(to, sizeof(to), "/staff/%lld/%s", (long long)s->id, verb);
	page_form_start(x, b, to);
}

static void staff_button(struct page *x, struct html *b, const struct staff *s, const char *verb,
			 const char *label)
{
	char to[URL_MAX];

	snprintf(to, sizeof(to), "/staff/%lld/%s", (long long)s->id, verb);
	page_button(x, b, to, label);
}

static int staff_card(struct team_walk *w, const struct staff *s, struct chats *ch)
{
	struct page *x = w->x;
	struct html *b = w->b;
	struct staff_login l;
	char id[48], key[48];
	int pending = 0, phones = 0;

	int rc;

	ch->n = 0;
	if (store_channel_each_staff(x->h->store, s->id, keep_chat, ch) != 0)
		return -CB_ESTORE;
	/* Someone who never had a password or a second factor has no row. */
	if ((rc = store_login_get(x->h->store, s->id, &l)) == -CB_ENOENT)
		memset(&l, 0, sizeof(l));
	else if (rc != 0)
		return rc;
	html_rawf(b, "<section class=\"card\" id=\"staff-%lld\"><h2>", (long long)s->id);
	html_text(b, s->name);
	html_raw(b, "</h2><dl><dt>");
	html_text(b, page_t(x, "console.col.role"));
	html_raw(b, "</dt><dd>");
	snprintf(key, sizeof(key), "console.staff.role_%s", store_role_name(s->role));
	html_text(b, page_t(x, key));
	html_raw(b, "</dd><dt>");
	html_text(b, page_t(x, "console.col.language"));
	html_raw(b, "</dt><dd>");
	html_text(b, lang_code(s->lang));
	html_raw(b, "</dd><dt>");
	html_text(b, page_t(x, "console.col.state"));
	html_raw(b, "</dt><dd>");
	html_text(b, page_t(x, !s->active ? "console.staff.inactive" :
				s->away    ? "console.staff.away" :
					     "console.staff.active"));
	html_raw(b, "</dd><dt>");
	html_text(b, page_t(x, "console.staff.chats"));
	html_raw(b, "</dt><dd>");
	for (int i = 0; i < ch->n; i++) {
		html_rawf(b, "%s#%lld ", i > 0 ? ", " : "", (long long)ch->items[i].id);
		html_text(b, ch->items[i].kind);
		if (!ch->items[i].verified) {
			html_raw(b, " (");
			html_text(b, page_t(x, "console.staff.pending"));
			html_raw(b, ")");
			pending++;
		}
		if (strcmp(ch->items[i].kind, "email") != 0)
			phones++;
	}
	if (ch->n == 0)
		html_text(b, page_t(x, "console.none"));
	html_raw(b, "</dd><dt>");
	html_text(b, page_t(x, "console.staff.second_factor"));
	html_raw(b, "</dt><dd>");
	html_text(b, page_t(x, l.totp_secret[0] != '\0' ? "console.staff.set" : "console.staff.not_set"));
	html_raw(b, "</dd></dl>");
	if (!s->active) {
		html_raw(b, "</section>");
		return 0;
	}
	html_raw(b, "<div class=\"actions\">");
	staff_button(x, b, s, s->away ? "back" : "away", s->away ? "console.staff.set_back" : "console.staff.set_away");
	staff_button(x, b, s, "invite", "console.staff.invite");
	if (phones > 0)
		staff_button(x, b, s, "unlink", "console.staff.unlink");
	staff_button(x, b, s, "totp", "console.staff.totp");
	html_raw(b, "</div>");
	if (pending > 0) {
		staff_form(x, b, s, "confirm");
		snprintf(id, sizeof(id), "confirm-%lld", (long long)s->id);
		page_label(x, b, id, "console.staff.number");
		html_raw(b, "<input inputmode=\"numeric\" pattern=\"[0-9 ]{6,12}\" required name=\"number\" id=\"");
		html_text(b, id);
		html_raw(b, "\">");
		page_form_end(x, b, "console.staff.confirm");
	}
	staff_form(x, b, s, "password");
	snprintf(id, sizeof(id), "password-%lld", (long long)s->id);
	page_label(x, b, id, "console.staff.new_password");
	html_rawf(b, "<input type=\"password\" autocomplete=\"new-password\" minlength=\"%d\" required "
		     "name=\"password\" id=\"", AUTH_PASSWORD_MIN);
	html_text(b, id);
	html_raw(b, "\">");
	page_form_end(x, b, "console.staff.set_password");
	if (s->role == ROLE_COUNSELLOR) {
		staff_form(x, b, s, "backup");
		snprintf(id, sizeof(id), "backup-%lld", (long long)s->id);
		page_label(x, b, id, "console.staff.backup");
		html_raw(b, "<select name=\"backup\" id=\"");
		html_text(b, id);
		html_raw(b, "\"><option value=\"0\">");
		html_text(b, page_t(x, "console.staff.no_backup"));
		html_raw(b, "</option>");
		for (int i = 0; i < w->n; i++) {
			if (w->all[i].id == s->id || !w->all[i].active)
				continue;
			html_rawf(b, "<option value=\"%lld\">", (long long)w->all[i].id);
			html_text(b, w->all[i].name);
			html_raw(b, "</option>");
		}
		html_raw(b, "</select>");
		page_form_end(x, b, "console.staff.set_backup");
	}
	staff_form(x, b, s, "deactivate");
	snprintf(id, sizeof(id), "deactivate-%lld", (long long)s->id);
	html_raw(b, "<p><input type=\"checkbox\" name=\"confirm\" value=\"yes\" required id=\"");
	html_text(b, id);
	html_raw(b, "\"> <label class=\"inline\" for=\"");
	html_text(b, id);
	html_raw(b, "\">");
	html_text(b, page_t(x, "console.staff.deactivate_confirm"));
	html_raw(b, "</label></p>");
	page_form_end(x, b, "console.staff.deactivate");
	html_raw(b, "</section>");
	return 0;
}

static int coordinator(struct page *x)
{
	if (x->staff.role == ROLE_COORDINATOR)
		return 1;
	if (page_audit(x, "scope.refused", NULL, "staff", 0) != 0)
		page_store_failed(x);
	else
		page_message(x, 404, "console.refused");
	return 0;
}

void team_page(struct page *x)
{
	struct html b = {0};
	struct team_walk w = {0};
	struct chats *ch = calloc(1, sizeof(*ch));

	if (!coordinator(x)) {
		free(ch);
		return;
	}
	w.x = x;
	w.b = &b;
	w.cap = 512;
	w.all = calloc((size_t)w.cap, sizeof(*w.all));
	if (ch == NULL || w.all == NULL || store_staff_each(x->h->store, keep_staff, &w) != 0 ||
	    store_audit(x->h->store, x->h->now, x->actor, "staff.read", NULL, "console") != 0)
		goto failed;
	page_start(x, &b, page_t(x, "console.staff.heading"));
	for (int i = 0; i < w.n; i++)
		if (staff_card(&w, &w.all[i], ch) != 0)
			goto failed;
	page_section(x, &b, "console.staff.add");
	page_form_start(x, &b, "/staff");
	page_label(x, &b, "new-name", "console.col.name");
	html_rawf(&b, "<input id=\"new-name\" name=\"name\" required maxlength=\"%d\">", STORE_NAME_MAX - 1);
	page_label(x, &b, "new-role", "console.col.role");
	html_raw(&b, "<select id=\"new-role\" name=\"role\"><option value=\"counsellor\">");
	html_text(&b, page_t(x, "console.staff.role_counsellor"));
	html_raw(&b, "</option><option value=\"coordinator\">");
	html_text(&b, page_t(x, "console.staff.role_coordinator"));
	html_raw(&b, "</option></select>");
	page_label(x, &b, "new-lang", "console.col.language");
	html_raw(&b, "<select id=\"new-lang\" name=\"lang\">");
	for (int l = 0; l < LANG_COUNT; l++) {
		html_raw(&b, "<option value=\"");
		html_text(&b, lang_code((enum lang)l));
		html_raw(&b, "\">");
		html_text(&b, locale_text(x->h->loc, (enum lang)l, "meta.language_name"));
		html_raw(&b, "</option>");
	}
	html_raw(&b, "</select>");
	page_form_end(x, &b, "console.family.add");
	page_end(&b);
	free(w.all);
	free(ch);
	page_finish(x, 200, PAGE_HTML, &b);
	return;
failed:
	free(w.all);
	free(ch);
	html_free(&b);
	page_store_failed(x);
}

static void team_add(struct page *x)
{
	struct staff s;
	char role[16], lang[8];
	int rc;

	memset(&s, 0, sizeof(s));
	if (page_form(x, "name", s.name, sizeof(s.name)) != 0 || s.name[0] == '\0' ||
	    page_form(x, "role", role, sizeof(role)) != 0 || page_form(x, "lang", lang, sizeof(lang)) != 0 ||
	    lang_parse(lang, &s.lang) != 0 || (strcmp(role, "counsellor") != 0 && strcmp(role, "coordinator") != 0)) {
		page_message(x, 422, "console.family.bad_input");
		return;
	}
	for (const char *p = s.name; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20) {
			page_message(x, 422, "console.family.bad_input");
			return;
		}
	s.role = strcmp(role, "coordinator") == 0 ? ROLE_COORDINATOR : ROLE_COUNSELLOR;
	rc = store_staff_add(x->h->store, &s, x->h->now, &s.id);
	if (rc == -CB_EEXIST) {
		page_message(x, 409, "console.staff.exists");
		return;
	}
	if (rc != 0 || team_audit(x, "staff.add", &s, 0, NULL) != 0) {
		page_store_failed(x);
		return;
	}
	page_redirect(x, "/staff");
}

/* A page that shows a secret once (an invite link, a second factor):
 * the text, its QR code and what to do with it. */
static void secret_page(struct page *x, const char *title, const char *text, const char *how)
{
	struct html b = {0};

	page_start(x, &b, title);
	html_raw(&b, "<p>");
	html_text(&b, how);
	html_raw(&b, "</p>");
	qr_svg(&b, text, text);
	html_raw(&b, "<p><code class=\"secret\">");
	html_text(&b, text);
	html_raw(&b, "</code></p><p><a href=\"/staff\">");
	html_text(&b, page_t(x, "console.nav.staff"));
	html_raw(&b, "</a></p>");
	page_end(&b);
	page_finish(x, 200, PAGE_HTML, &b);
	/* The page holds the secret: wiped once sent. */
	x->res->wipe = 1;
}

static int unlink_picked(struct page *x, const struct staff *s, int all, int64_t keep, int *n)
{
	struct chats *ch = calloc(1, sizeof(*ch));
	int rc = -CB_ENOMEM;

	*n = 0;
	if (ch == NULL)
		return rc;
	if ((rc = store_channel_each_staff(x->h->store, s->id, keep_chat, ch)) != 0)
		goto out;
	for (int i = 0; i < ch->n; i++) {
		const struct channel *one = &ch->items[i];

		/* all: every chat; keep > 0: the pending ones but that;
		 * otherwise the phone chats (email stays). */
		if (!(all || (keep > 0 ? !one->verified && one->id != keep : strcmp(one->kind, "email") != 0)))
			continue;
		if ((rc = store_channel_unlink(x->h->store, one->id, x->h->now)) != 0 ||
		    (rc = team_audit(x, "staff.unlink", s, one->id, one->verified ? one->kind : "pending")) != 0)
			goto out;
		(*n)++;
	}
	rc = 0;
out:
	free(ch);
	return rc;
}

struct followed {
	int64_t staff_id;
	int64_t *ids;
	int n, cap;
};

static int keep_followed(const void *rec, void *arg)
{
	const struct family *f = rec;
	struct followed *w = arg;

	if (f->counsellor_id != w->staff_id || strcmp(f->status, "closed") == 0)
		return 0;
	if (w->n == w->cap) {
		int64_t *more = realloc(w->ids, sizeof(*more) * (size_t)(w->cap > 0 ? 2 * w->cap : 64));

		if (more == NULL)
			return -CB_ENOMEM;
		w->ids = more;
		w->cap = w->cap > 0 ? 2 * w->cap : 64;
	}
	w->ids[w->n++] = f->id;
	return 0;
}

/* The backup of every open family s counsels (0: none); one audit row
 * per family, since each file changes. The families are read first, then
 * changed, so that the walk does not see its own writes. */
static int set_backup(struct page *x, const struct staff *s, int64_t backup)
{
	struct followed w = {s->id, NULL, 0, 0};
	struct family f;
	int rc = store_family_each(x->h->store, keep_followed, &w);

	for (int i = 0; rc == 0 && i < w.n; i++) {
		if ((rc = store_family_get_id(x->h->store, w.ids[i], &f)) != 0)
			break;
		f.backup_id = backup;
		if ((rc = store_family_update(x->h->store, &f)) == 0) {
			const struct audit_entry e = {x->actor, "family.backup", f.ref, "console", backup, 0, 0};

			rc = store_audit_add(x->h->store, x->h->now, &e);
		}
	}
	free(w.ids);
	return rc;
}

void team_post(struct page *x, int64_t id, const char *verb)
{
	struct staff s;
	char v[AUTH_PASSWORD_MAX + 1];
	int rc, n = 0;

	if (!coordinator(x))
		return;
	if (id == 0 && verb == NULL) {
		team_add(x);
		return;
	}
	if ((rc = store_staff_get_id(x->h->store, id, &s)) == -CB_ENOENT) {
		page_message(x, 404, "console.not_found");
		return;
	}
	if (rc != 0) {
		page_store_failed(x);
		return;
	}
	if (!s.active) {
		page_message(x, 409, "console.family.bad_state");
		return;
	}
	if (strcmp(verb, "away") == 0 || strcmp(verb, "back") == 0) {
		int away = strcmp(verb, "away") == 0;

		rc = store_staff_set_away(x->h->store, s.id, away);
		if (rc == 0)
			rc = team_audit(x, away ? "staff.away" : "staff.back", &s, 0, "console");
	} else if (strcmp(verb, "invite") == 0) {
		char code[INVITE_CODE_LEN + 1], link[256], until_s[DATE_MAX], how[512];
		time_t until = x->h->now + (time_t)x->h->cfg->invite_valid_days * 86400;

		if (store_invite_create(x->h->store, 0, 0, s.id, x->h->now, until, code) != 0 ||
		    team_audit(x, "staff.invite", &s, 0, "console") != 0) {
			page_store_failed(x);
			return;
		}
		snprintf(link, sizeof(link), "https://t.me/%s?start=%s", x->h->cfg->gw.telegram.bot_username, code);
		page_when(x, until, until_s, sizeof(until_s));
		{
			const struct locale_param p[] = {{"name", s.name}, {"until", until_s}};

			page_render(x, "console.staff.invite_how", p, 2, how, sizeof(how));
		}
		secret_page(x, page_t(x, "console.staff.invite"), link, how);
		sodium_memzero(code, sizeof(code));
		return;
	} else if (strcmp(verb, "totp") == 0) {
		char secret[AUTH_TOTP_B32_MAX], uri[512], how[512];
		const struct locale_param p[] = {{"name", s.name}};

		if (auth_totp_new(secret) != 0 || auth_totp_uri("casebot", s.name, secret, uri, sizeof(uri)) != 0 ||
		    store_login_set_totp(x->h->store, s.id, secret, x->h->now) != 0 ||
		    team_audit(x, "staff.totp", &s, 0, "console") != 0) {
			page_store_failed(x);
			return;
		}
		page_render(x, "console.staff.totp_how", p, 1, how, sizeof(how));
		secret_page(x, page_t(x, "console.staff.totp"), uri, how);
		sodium_memzero(secret, sizeof(secret));
		sodium_memzero(uri, sizeof(uri));
		return;
	} else if (strcmp(verb, "confirm") == 0) {
		char number[STAFF_PAIRING_DIGITS + 1];
		int64_t chat = 0;
		int left = 0;
		size_t k = 0;

		if (page_form(x, "number", v, sizeof(v)) != 0) {
			page_message(x, 422, "console.family.bad_input");
			return;
		}
		for (const char *p = v; *p != '\0'; p++) {
			if (*p == ' ')
				continue;
			if (!isdigit((unsigned char)*p) || k == STAFF_PAIRING_DIGITS) {
				k = 0;
				break;
			}
			number[k++] = *p;
		}
		number[k] = '\0';
		if (k != STAFF_PAIRING_DIGITS) {
			page_message(x, 422, "console.family.bad_input");
			return;
		}
		rc = store_pairing_confirm(x->h->store, s.id, number, x->h->now, &chat, &left);
		if (rc == -CB_ENOENT) {
			page_message(x, 409, "console.staff.nothing_pending");
			return;
		}
		if (rc == -CB_EINVAL) {
			/* The try is spent: its row stays though the answer is a refusal. */
			if (team_audit(x, "staff.confirm_failed", &s, 0, "console") != 0)
				page_store_failed(x);
			else
				page_message(x, 422, "console.staff.wrong_number");
			return;
		}
		if (rc == 0)
			rc = team_audit(x, "staff.confirm", &s, chat, "console");
		if (rc == 0)
			rc = unlink_picked(x, &s, 0, chat, &n);
		if (rc == 0)
			rc = staff_notice(x->h, s.id, 0, "staff_notice", "staff.welcome", "name", s.name, NULL);
	} else if (strcmp(verb, "unlink") == 0) {
		rc = unlink_picked(x, &s, 0, 0, &n);
	} else if (strcmp(verb, "deactivate") == 0) {
		if (page_form(x, "confirm", v, sizeof(v)) != 0 || strcmp(v, "yes") != 0) {
			page_message(x, 422, "console.family.bad_input");
			return;
		}
		if (s.id == x->staff.id) {
			page_message(x, 409, "console.family.bad_state");
			return;
		}
		rc = store_staff_deactivate(x->h->store, s.id);
		if (rc == 0)
			rc = unlink_picked(x, &s, 1, 0, &n);
		if (rc == 0)
			rc = store_invite_kill(x->h->store, 0, s.id);
		if (rc == 0)
			rc = team_audit(x, "staff.deactivate", &s, 0, "console");
	} else if (strcmp(verb, "password") == 0) {
		char hash[AUTH_PWHASH_MAX];

		if (page_form(x, "password", v, sizeof(v)) != 0 || auth_password_hash(v, hash) != 0) {
			sodium_memzero(v, sizeof(v));
			page_message(x, 422, "console.staff.password_rule");
			return;
		}
		sodium_memzero(v, sizeof(v));
		rc = store_login_set_password(x->h->store, s.id, hash, x->h->now);
		if (rc == 0)
			rc = team_audit(x, "staff.password", &s, 0, "console");
	} else if (strcmp(verb, "backup") == 0) {
		struct staff to = {0};

		if (page_form(x, "backup", v, sizeof(v)) != 0 ||
		    (atoll(v) != 0 && (store_staff_get_id(x->h->store, atoll(v), &to) != 0 || !to.active ||
				       to.id == s.id))) {
			page_message(x, 422, "console.family.bad_input");
			return;
		}
		rc = set_backup(x, &s, to.id);
	} else {
		page_message(x, 404, "console.not_found");
		return;
	}
	if (rc != 0) {
		page_store_failed(x);
		return;
	}
	{
		char to[URL_MAX];

		snprintf(to, sizeof(to), "/staff#staff-%lld", (long long)s.id);
		page_redirect(x, to);
	}
}
