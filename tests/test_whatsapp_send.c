/* The sending side of WhatsApp: request bodies against the ones courier
 * sends (tests/data/payloads/whatsapp/courier_send_request_*.json), every
 * error answer mapped to what the outbox does, the 24-hour window, the
 * templates that stand for a message outside it, and what the CLI prints
 * and refuses about them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "bot/casebot.h"
#include "bot/compose.h"
#include "bot/config.h"
#include "bot/metrics.h"
#include "bot/net/http_client.h"
#include "bot/net/http_server.h"
#include "bot/gateways/whatsapp.h"
#include "bot/gateways/gateway.h"
#include "bot/gateways/whatsapp_send.h"
#include "locales/locale.h"
#include "tests/support/testenv.h"

#define FILE_MAX (256 * 1024)
#define TO "250788123123"

static struct locales *loc;

static char *load(const char *name, size_t *len)
{
	char path[512];
	FILE *fp;
	char *buf;
	size_t n;

	snprintf(path, sizeof(path), "tests/data/payloads/whatsapp/%s", name);
	fp = fopen(path, "rb");
	if (fp == NULL)
		fail_msg("cannot open %s", path);
	buf = malloc(FILE_MAX + 1);
	assert_non_null(buf);
	n = fread(buf, 1, FILE_MAX, fp);
	fclose(fp);
	buf[n] = '\0';
	if (len != NULL)
		*len = n;
	return buf;
}

static cJSON *load_json(const char *name)
{
	char *s = load(name, NULL);
	cJSON *o = cJSON_Parse(s);

	free(s);
	assert_non_null(o);
	return o;
}

/* Same keys and the same types all through; strings and numbers may
 * differ. Arrays pair their items up to the shorter one. */
static int same_shape(const cJSON *a, const cJSON *b)
{
	const cJSON *x, *y;

	if ((a->type & 0xff) != (b->type & 0xff) && !(cJSON_IsBool(a) && cJSON_IsBool(b)))
		return 0;
	if (cJSON_IsObject(a)) {
		if (cJSON_GetArraySize(a) != cJSON_GetArraySize(b))
			return 0;
		cJSON_ArrayForEach(x, a) {
			y = cJSON_GetObjectItemCaseSensitive(b, x->string);
			if (y == NULL || !same_shape(x, y))
				return 0;
		}
	} else if (cJSON_IsArray(a)) {
		for (x = a->child, y = b->child; x != NULL && y != NULL; x = x->next, y = y->next)
			if (!same_shape(x, y))
				return 0;
	}
	return 1;
}

static void assert_json_equal(const char *json, const cJSON *want)
{
	cJSON *got = cJSON_Parse(json);

	assert_non_null(got);
	if (!cJSON_Compare(got, want, 1)) {
		char *w = cJSON_PrintUnformatted(want);

		print_error("got  %s\nwant %s\n", json, w);
		free(w);
		fail();
	}
	cJSON_Delete(got);
}

static void button(struct composed_button *b, const char *label, const char *data)
{
	memset(b, 0, sizeof(*b));
	cb_strlcpy(b->label, label, sizeof(b->label));
	cb_strlcpy(b->data, data, sizeof(b->data));
}

/* ---------------------------------------------------------------- bodies */

static void test_text_body(void **state)
{
	cJSON *want = load_json("courier_send_request_text.json");
	char *json;

	(void)state;
	assert_int_equal(whatsapp_send_build_text(TO, "Simple Message", 14, &json), 0);
	assert_json_equal(json, want);
	free(json);
	/* Only len bytes go; an empty text or one over 4096 characters is
	 * not a message. */
	assert_int_equal(whatsapp_send_build_text(TO, "Simple Message and more", 14, &json), 0);
	assert_json_equal(json, want);
	free(json);
	assert_int_equal(whatsapp_send_build_text(TO, "", 0, &json), -CB_EINVAL);
	assert_null(json);
	{
		char *big = malloc(4097);

		memset(big, 'a', 4097);
		assert_int_equal(whatsapp_send_build_text(TO, big, 4096, &json), 0);
		free(json);
		assert_int_equal(whatsapp_send_build_text(TO, big, 4097, &json), -CB_EINVAL);
		free(big);
	}
	cJSON_Delete(want);
}

/* A user known only by a business-scoped user id is addressed by it in
 * "recipient", never in "to" (which Graph reads as a phone number and
 * prefers when both are there); a number stays in "to". */
static void test_user_id_recipient(void **state)
{
	struct composed_button b[1];
	cJSON *o;
	char *json;

	(void)state;
	assert_int_equal(whatsapp_send_build_text("US.13491208655302741918", "Hallo", 5, &json), 0);
	o = cJSON_Parse(json);
	assert_string_equal(cJSON_GetObjectItem(o, "recipient")->valuestring, "US.13491208655302741918");
	assert_null(cJSON_GetObjectItem(o, "to"));
	cJSON_Delete(o);
	free(json);
	button(&b[0], "Ja", "ap:1:1");
	assert_int_equal(whatsapp_send_build_choices("BE.ENT.4711", "Komt u?", 7, b, 1, "Kies", &json), 0);
	o = cJSON_Parse(json);
	assert_string_equal(cJSON_GetObjectItem(o, "recipient")->valuestring, "BE.ENT.4711");
	assert_null(cJSON_GetObjectItem(o, "to"));
	cJSON_Delete(o);
	free(json);
	assert_int_equal(whatsapp_send_build_media("BE.4711", "document", "1234", "a.pdf", &json), 0);
	o = cJSON_Parse(json);
	assert_string_equal(cJSON_GetObjectItem(o, "recipient")->valuestring, "BE.4711");
	assert_null(cJSON_GetObjectItem(o, "to"));
	cJSON_Delete(o);
	free(json);
	assert_int_equal(whatsapp_send_build_text("32470001001", "Hallo", 5, &json), 0);
	o = cJSON_Parse(json);
	assert_string_equal(cJSON_GetObjectItem(o, "to")->valuestring, "32470001001");
	assert_null(cJSON_GetObjectItem(o, "recipient"));
	cJSON_Delete(o);
	free(json);
}

/* Staff outside the window get one neutral template: no placeholder (no
 * family, no words), one quick reply, in all four languages. */
static void test_staff_template(void **state)
{
	const struct whatsapp_template *t = NULL;
	const char *names[WHATSAPP_TEMPLATE_PARAMS];
	char body[2048];
	int n;

	(void)state;
	for (size_t i = 0; i < whatsapp_ntemplates; i++)
		if (strcmp(whatsapp_templates[i].name, "casebot_staff_waiting") == 0)
			t = &whatsapp_templates[i];
	assert_non_null(t);
	assert_string_equal(t->kinds, "window_nudge");
	assert_int_equal(t->nbuttons, 1);
	for (int l = 0; l < LANG_COUNT; l++) {
		assert_int_equal(whatsapp_template_body(loc, (enum lang)l, t, body, sizeof(body), names, &n), 0);
		assert_int_equal(n, 0);
		assert_null(strchr(body, '{'));
		assert_non_null(locale_text(loc, (enum lang)l, t->buttons[0]));
	}
}

static void test_buttons_body(void **state)
{
	cJSON *want = load_json("courier_send_request_interactive_buttons.json");
	struct composed_button b[3];
	char *json;
	cJSON *got;

	(void)state;
	button(&b[0], "BUTTON1", "0");
	assert_int_equal(whatsapp_send_build_choices(TO, "Interactive Button Msg", 22, b, 1, "Menu", &json), 0);
	assert_json_equal(json, want);
	free(json);
	/* Three is the most reply buttons take; the ids are the buttons' data. */
	button(&b[0], "I will come", "ap:12:1");
	button(&b[1], "I cannot come", "ap:12:2");
	button(&b[2], "Other time", "ap:12:3");
	assert_int_equal(whatsapp_send_build_choices(TO, "Reminder", 8, b, 3, "Menu", &json), 0);
	got = cJSON_Parse(json);
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(got, "interactive"), "type")->valuestring,
			    "button");
	assert_true(same_shape(got, want));
	{
		const cJSON *arr = cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(got, "interactive"),
									   "action"),
						       "buttons");

		assert_int_equal(cJSON_GetArraySize(arr), 3);
		assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetArrayItem(arr, 2), "reply"), "id")
					    ->valuestring,
				    "ap:12:3");
	}
	cJSON_Delete(got);
	free(json);
	cJSON_Delete(want);
}

static const char *list_type(const char *json)
{
	static char type[16];
	cJSON *got = cJSON_Parse(json);

	assert_non_null(got);
	cb_strlcpy(type, cJSON_GetObjectItem(cJSON_GetObjectItem(got, "interactive"), "type")->valuestring,
		   sizeof(type));
	cJSON_Delete(got);
	return type;
}

static void test_list_body(void **state)
{
	cJSON *want = load_json("courier_send_request_interactive_list.json");
	cJSON *rows = cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetObjectItem(
		cJSON_GetObjectItem(want, "interactive"), "action"), "sections"), 0), "rows");
	struct composed_button b[11];
	char *json, label[64], data[16];
	cJSON *got;

	(void)state;
	/* courier's third row has a description of its own; ours come only
	 * from a label too long for a title. */
	cJSON_DeleteItemFromObject(cJSON_GetArrayItem(rows, 2), "description");
	for (int i = 0; i < 4; i++) {
		snprintf(label, sizeof(label), "ROW%d", i + 1);
		snprintf(data, sizeof(data), "%d", i);
		button(&b[i], label, data);
	}
	assert_int_equal(whatsapp_send_build_choices(TO, "Interactive List Msg", 20, b, 4, "Menu", &json), 0);
	assert_json_equal(json, want);
	free(json);

	/* A title over 20 characters, or two the same, make a list too. */
	button(&b[0], "Yes", "a");
	button(&b[1], "A title that is far too long for a button", "b");
	assert_int_equal(whatsapp_send_build_choices(TO, "Q", 1, b, 2, "Menu", &json), 0);
	assert_string_equal(list_type(json), "list");
	got = cJSON_Parse(json);
	{
		const cJSON *row = cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(
			cJSON_GetObjectItem(cJSON_GetObjectItem(got, "interactive"), "action"), "sections"), 0), "rows"), 1);
		const char *title = cJSON_GetObjectItem(row, "title")->valuestring;

		/* Cut at a space within 24 characters; the whole label below. */
		assert_string_equal(title, "A title that is far too");
		assert_string_equal(cJSON_GetObjectItem(row, "description")->valuestring,
				    "A title that is far too long for a button");
	}
	cJSON_Delete(got);
	free(json);
	button(&b[1], "Yes", "b");
	assert_int_equal(whatsapp_send_build_choices(TO, "Q", 1, b, 2, "Menu", &json), 0);
	assert_string_equal(list_type(json), "list");
	free(json);
	button(&b[1], "No", "b");
	assert_int_equal(whatsapp_send_build_choices(TO, "Q", 1, b, 2, "Menu", &json), 0);
	assert_string_equal(list_type(json), "button");
	free(json);

	/* Ten rows at most; a body with choices holds 1024 characters. */
	for (int i = 0; i < 11; i++) {
		snprintf(data, sizeof(data), "r%d", i);
		button(&b[i], data, data);
	}
	assert_int_equal(whatsapp_send_build_choices(TO, "Q", 1, b, 10, "Menu", &json), 0);
	free(json);
	assert_int_equal(whatsapp_send_build_choices(TO, "Q", 1, b, 11, "Menu", &json), -CB_EINVAL);
	{
		char body[1025];

		memset(body, 'x', sizeof(body));
		assert_int_equal(whatsapp_send_build_choices(TO, body, 1024, b, 2, "Menu", &json), 0);
		free(json);
		assert_int_equal(whatsapp_send_build_choices(TO, body, 1025, b, 2, "Menu", &json), -CB_EINVAL);
	}
	cJSON_Delete(want);
}

static void test_media_body(void **state)
{
	const char *as = NULL;
	char *json;
	cJSON *got;

	(void)state;
	assert_int_equal(whatsapp_send_build_media(TO, "document", "MEDIA1", "letter.pdf", &json), 0);
	got = cJSON_Parse(json);
	assert_string_equal(cJSON_GetObjectItem(got, "type")->valuestring, "document");
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(got, "document"), "id")->valuestring, "MEDIA1");
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(got, "document"), "filename")->valuestring,
			    "letter.pdf");
	cJSON_Delete(got);
	free(json);
	assert_int_equal(whatsapp_send_build_media(TO, "audio", "MEDIA2", NULL, &json), 0);
	got = cJSON_Parse(json);
	assert_null(cJSON_GetObjectItem(cJSON_GetObjectItem(got, "audio"), "filename"));
	cJSON_Delete(got);
	free(json);
	assert_int_equal(whatsapp_send_build_media(TO, "voice", "MEDIA2", NULL, &json), -CB_EINVAL);

	/* What WhatsApp takes: a voice note is opus in ogg, sent as audio. */
	assert_int_equal(whatsapp_send_media_type("voice", "audio/ogg; codecs=opus", 1000, &as), 0);
	assert_string_equal(as, "audio");
	assert_int_equal(whatsapp_send_media_type("voice", "audio/ogg; codecs=vorbis", 1000, &as), -CB_EINVAL);
	assert_int_equal(whatsapp_send_media_type("document", "application/pdf", 1000, &as), 0);
	assert_string_equal(as, "document");
	assert_int_equal(whatsapp_send_media_type("document", "application/x-msdownload", 1000, &as), -CB_EINVAL);
	assert_int_equal(whatsapp_send_media_type("voice", "audio/ogg", 17u << 20, &as), -CB_ETOOBIG);
	assert_int_equal(whatsapp_send_media_type("photo", "image/jpeg", 6u << 20, &as), -CB_ETOOBIG);
}

/* ------------------------------------------------------------- templates */

static void first_line(struct composed *m, const char *key, const char *n1, const char *v1, const char *n2,
		       const char *v2)
{
	memset(m, 0, sizeof(*m));
	cb_strlcpy(m->first_key, key, sizeof(m->first_key));
	if (n1 != NULL) {
		cb_strlcpy(m->first[0].name, n1, sizeof(m->first[0].name));
		cb_strlcpy(m->first[0].value, v1, sizeof(m->first[0].value));
		m->nfirst = 1;
	}
	if (n2 != NULL) {
		cb_strlcpy(m->first[1].name, n2, sizeof(m->first[1].name));
		cb_strlcpy(m->first[1].value, v2, sizeof(m->first[1].value));
		m->nfirst = 2;
	}
}

static void test_window(void **state)
{
	(void)state;
	assert_false(whatsapp_send_window_open(0, 1000000, 86400));
	assert_true(whatsapp_send_window_open(1000000 - 86399, 1000000, 86400));
	assert_false(whatsapp_send_window_open(1000000 - 86400, 1000000, 86400));
	assert_false(whatsapp_send_window_open(1000000 - 25 * 3600, 1000000, 86400));
	assert_true(whatsapp_send_window_open(1000000, 1000000, 86400));
}

static void test_template_for(void **state)
{
	struct composed m;

	(void)state;
	first_line(&m, "reminder.appointment", "when", "x", "what", "y");
	m.nbuttons = 3;
	assert_string_equal(whatsapp_template_for(&m)->name, "casebot_reminder");
	m.nbuttons = 0;
	assert_string_equal(whatsapp_template_for(&m)->name, "casebot_reminder_note");
	first_line(&m, "checkin.question", NULL, NULL, NULL, NULL);
	m.nbuttons = 4;
	assert_string_equal(whatsapp_template_for(&m)->name, "casebot_checkin");
	first_line(&m, "reply.from_counsellor", "counsellor", "Anna", "text", "hello");
	assert_null(whatsapp_template_for(&m));
	first_line(&m, "document.request", "document", "passport", NULL, NULL);
	assert_string_equal(whatsapp_template_for(&m)->name, "casebot_document_request");
}

static void test_template_body(void **state)
{
	cJSON *want = load_json("courier_send_request_template.json");
	cJSON *want_buttons = load_json("courier_send_request_template_buttons_utf8.json");
	struct composed m;
	cJSON *got, *tp, *comps;
	char *json;

	(void)state;
	first_line(&m, "reminder.appointment", "when", "dinsdag 3 december om 14.00 uur", "what", "advocaat");
	assert_int_equal(whatsapp_send_build_template(loc, LANG_NL, whatsapp_template_for(&m), TO, &m, &json), 0);
	got = cJSON_Parse(json);
	assert_true(same_shape(got, want));
	tp = cJSON_GetObjectItem(got, "template");
	assert_string_equal(cJSON_GetObjectItem(tp, "name")->valuestring, "casebot_reminder_note");
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(tp, "language"), "code")->valuestring, "nl");
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(tp, "language"), "policy")->valuestring,
			    "deterministic");
	comps = cJSON_GetObjectItem(tp, "components");
	{
		const cJSON *p = cJSON_GetObjectItem(cJSON_GetArrayItem(comps, 0), "parameters");

		assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(p, 0), "text")->valuestring,
				    "dinsdag 3 december om 14.00 uur");
		/* What the appointment is stays off a locked screen: no
		 * template carries it. */
		assert_int_equal(cJSON_GetArraySize(p), 1);
	}
	cJSON_Delete(got);
	free(json);

	/* With buttons: each quick reply carries the button's data as its
	 * payload, so that a tap answers as the button would. */
	m.nbuttons = 3;
	button(&m.buttons[0], "Je viens", "ap:42:1");
	button(&m.buttons[1], "Pas possible", "ap:42:2");
	button(&m.buttons[2], "Autre moment", "ap:42:3");
	assert_int_equal(whatsapp_send_build_template(loc, LANG_FR, whatsapp_template_for(&m), TO, &m, &json), 0);
	got = cJSON_Parse(json);
	comps = cJSON_GetObjectItem(cJSON_GetObjectItem(got, "template"), "components");
	assert_int_equal(cJSON_GetArraySize(comps), 4);
	{
		const cJSON *courier_body = cJSON_GetArrayItem(
			cJSON_GetObjectItem(cJSON_GetObjectItem(want_buttons, "template"), "components"), 1);
		const cJSON *courier_quick = cJSON_GetArrayItem(
			cJSON_GetObjectItem(cJSON_GetObjectItem(want_buttons, "template"), "components"), 2);

		assert_true(same_shape(cJSON_GetArrayItem(comps, 0), courier_body));
		for (int i = 1; i < 4; i++) {
			const cJSON *c = cJSON_GetArrayItem(comps, i);
			char index[4], data[24];

			snprintf(index, sizeof(index), "%d", i - 1);
			snprintf(data, sizeof(data), "ap:42:%d", i);
			assert_true(same_shape(c, courier_quick));
			assert_string_equal(cJSON_GetObjectItem(c, "sub_type")->valuestring, "quick_reply");
			assert_string_equal(cJSON_GetObjectItem(c, "index")->valuestring, index);
			assert_string_equal(
				cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(c, "parameters"), 0), "payload")
					->valuestring,
				data);
		}
	}
	cJSON_Delete(got);
	free(json);

	/* A check-in has no values: no body component, four quick replies. */
	first_line(&m, "checkin.question", NULL, NULL, NULL, NULL);
	m.nbuttons = 4;
	for (int i = 0; i < 4; i++) {
		char data[24];

		snprintf(data, sizeof(data), "ci:7:%d", i + 1);
		button(&m.buttons[i], "x", data);
	}
	assert_int_equal(whatsapp_send_build_template(loc, LANG_DE, whatsapp_template_for(&m), TO, &m, &json), 0);
	got = cJSON_Parse(json);
	comps = cJSON_GetObjectItem(cJSON_GetObjectItem(got, "template"), "components");
	assert_int_equal(cJSON_GetArraySize(comps), 4);
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(comps, 0), "type")->valuestring, "button");
	cJSON_Delete(got);
	free(json);
	cJSON_Delete(want);
	cJSON_Delete(want_buttons);
}

/* Meta refuses a parameter with a newline, a tab or four spaces; a value
 * the template needs and the message lacks is no template either. */
static void test_template_values_refused(void **state)
{
	struct composed m;
	char *json;

	(void)state;
	first_line(&m, "reminder.appointment", "when", "dinsdag\n3 december", NULL, NULL);
	assert_int_equal(whatsapp_send_build_template(loc, LANG_EN, whatsapp_template_for(&m), TO, &m, &json),
			 -CB_EINVAL);
	first_line(&m, "reminder.appointment", "when", "a    b", NULL, NULL);
	assert_int_equal(whatsapp_send_build_template(loc, LANG_EN, whatsapp_template_for(&m), TO, &m, &json),
			 -CB_EINVAL);
	first_line(&m, "reminder.appointment", "other", "dinsdag 3 december", NULL, NULL);
	assert_int_equal(whatsapp_send_build_template(loc, LANG_EN, &whatsapp_templates[1], TO, &m, &json),
			 -CB_EINVAL);
	first_line(&m, "reminder.appointment", "when", "dinsdag 3 december", NULL, NULL);
	assert_int_equal(whatsapp_send_build_template(loc, LANG_EN, whatsapp_template_for(&m), TO, &m, &json), 0);
	free(json);
	/* A request's template names no document, and needs no value. */
	first_line(&m, "document.request", NULL, NULL, NULL, NULL);
	assert_int_equal(whatsapp_send_build_template(loc, LANG_EN, whatsapp_template_for(&m), TO, &m, &json), 0);
	assert_null(strstr(json, "passport"));
	free(json);
}

/* The numbers follow each language's own order of the placeholders. */
static void test_template_numbering(void **state)
{
	const char *names[WHATSAPP_TEMPLATE_PARAMS];
	char body[2048];
	int n;

	(void)state;
	for (int l = 0; l < LANG_COUNT; l++) {
		assert_int_equal(whatsapp_template_body(loc, (enum lang)l, &whatsapp_templates[0], body, sizeof(body),
							names, &n),
				 0);
		/* Only when: what it is would show on a locked screen. */
		assert_int_equal(n, 1);
		assert_non_null(strstr(body, "{{1}}"));
		assert_null(strstr(body, "{{2}}"));
		assert_null(strchr(body, '{') == body ? body : NULL);
		assert_string_equal(names[0], "when");
	}
	assert_int_equal(whatsapp_templates_check(loc, body, sizeof(body)), 0);
}

/* ---------------------------------------------------------------- answers */

struct case_ {
	const char *file;         /* a stored payload, or NULL for body */
	const char *body;
	int status;
	long retry_after;
	enum gateway_outcome outcome;
	int wait;                 /* retry_after expected, 0: not checked */
	int chat_only;
	const char *why;
	const char *reason_has;
};

static void check_case(const struct case_ *c, int retried)
{
	struct whatsapp_send_answer a;
	struct gateway_result r;
	char *body = c->file != NULL ? load(c->file, NULL) : NULL;
	const char *b = body != NULL ? body : c->body;

	memset(&r, 0, sizeof(r));
	assert_int_equal(whatsapp_send_parse(c->status, b, b != NULL ? strlen(b) : 0, c->retry_after, &a), 0);
	whatsapp_send_outcome(&a, retried, &r);
	if (r.outcome != c->outcome)
		fail_msg("%s: outcome %d, want %d", c->file != NULL ? c->file : c->body, r.outcome, c->outcome);
	if (c->wait != 0)
		assert_int_equal(r.retry_after, c->wait);
	assert_int_equal(r.chat_only, c->chat_only);
	assert_string_equal(r.why, c->why != NULL ? c->why : "");
	if (c->reason_has != NULL && strstr(r.reason, c->reason_has) == NULL)
		fail_msg("%s: reason \"%s\" lacks \"%s\"", c->file != NULL ? c->file : c->body, r.reason, c->reason_has);
	free(body);
}

static void test_errors_mapped(void **state)
{
	static const struct case_ cases[] = {
		/* courier's stored answers */
		{"courier_send_error_130429_rate_limit.json", NULL, 403, -1, GW_RETRY_AFTER, 2, 0, NULL, "130429"},
		{"courier_send_error_131056_pair_rate_limit.json", NULL, 403, -1, GW_RETRY_AFTER, 6, 1, NULL,
		 "pair rate limit"},
		{"courier_send_error_613_http429.json", NULL, 429, -1, GW_RETRY_AFTER, 60, 0, NULL, "613"},
		{"courier_send_error_613_http429.json", NULL, 429, 17, GW_RETRY_AFTER, 17, 0, NULL, NULL},
		{"courier_send_error_368_policy_block.json", NULL, 400, -1, GW_PERMANENT, 0, 0, NULL,
		 "whatsapp 368: (#368) Temporarily blocked"},
		{"courier_send_error_131009_param_invalid.json", NULL, 400, -1, GW_PERMANENT, 0, 0, NULL,
		 "whatsapp 131009: (#131009) Parameter value is not valid"},
		/* Meta's documented shapes for the other codes */
		{NULL, "{\"error\":{\"message\":\"(#131048) Spam rate limit hit\",\"type\":\"OAuthException\",\"code\":131048}}",
		 400, -1, GW_RETRY_AFTER, 60, 0, NULL, NULL},
		{NULL, "{\"error\":{\"message\":\"(#131047) Re-engagement message\",\"code\":131047,\"error_data\":"
		       "{\"messaging_product\":\"whatsapp\",\"details\":\"Message failed to send because more than 24 "
		       "hours have passed since the customer last replied to this number.\"}}}",
		 400, -1, GW_PERMANENT, 0, 0, "window", "131047"},
		{NULL, "{\"error\":{\"message\":\"(#131026) Message Undeliverable.\",\"code\":131026}}", 400, -1,
		 GW_UNREACHABLE, 0, 0, "unreachable", "131026"},
		{NULL, "{\"error\":{\"message\":\"(#132000) Number of parameters does not match the expected number of "
		       "params\",\"code\":132000}}",
		 400, -1, GW_PERMANENT, 0, 0, "template", "132000"},
		{NULL, "{\"error\":{\"message\":\"(#132001) Template name does not exist in the translation\",\"code\":132001}}",
		 404, -1, GW_PERMANENT, 0, 0, "template", "132001"},
		{NULL, "{\"error\":{\"message\":\"Media upload error\",\"code\":131053}}", 400, -1, GW_TRANSIENT, 0, 0, NULL,
		 "131053"},
		{NULL, "{\"error\":{\"message\":\"Service unavailable\",\"code\":131016}}", 503, -1, GW_TRANSIENT, 0, 0,
		 NULL, NULL},
		{NULL, "{\"error\":{\"message\":\"Error validating access token: Session has expired\",\"type\":"
		       "\"OAuthException\",\"code\":190}}",
		 401, -1, GW_TRANSIENT, 0, 0, NULL, NULL},
		{NULL, "<html>Bad Gateway</html>", 502, -1, GW_TRANSIENT, 0, 0, NULL, NULL},
		{NULL, "", 429, 5, GW_RETRY_AFTER, 5, 0, NULL, NULL},
		/* A code not in the table that speaks of the window is the window. */
		{NULL, "{\"error\":{\"message\":\"Outside the customer service window\",\"code\":131999}}", 400, -1,
		 GW_PERMANENT, 0, 0, "window", NULL},
		{NULL, "{\"error\":{\"message\":\"Recipient cannot be sender\",\"code\":131021}}", 400, -1, GW_PERMANENT, 0,
		 0, NULL, "131021"},
		/* An answer that says it went, without an id, may not have. */
		{NULL, "{\"messages\":[]}", 200, -1, GW_TRANSIENT, 0, 0, NULL, NULL},
	};

	(void)state;
	for (size_t i = 0; i < CB_ARRAY_SIZE(cases); i++)
		check_case(&cases[i], 0);
	/* A media error is tried once more, then fails the message. */
	{
		const struct case_ again = {NULL, "{\"error\":{\"message\":\"Media upload error\",\"code\":131053}}", 400,
					    -1, GW_PERMANENT, 0, 0, NULL, "131053"};

		check_case(&again, 1);
	}
}

static void test_sent_answers(void **state)
{
	static const char *const files[] = {"courier_send_response_201.json",
					    "courier_send_response_201_with_user_id.json"};
	struct whatsapp_send_answer a;
	struct gateway_result r;

	(void)state;
	for (size_t i = 0; i < CB_ARRAY_SIZE(files); i++) {
		size_t len;
		char *body = load(files[i], &len);

		memset(&r, 0, sizeof(r));
		assert_int_equal(whatsapp_send_parse(201, body, len, -1, &a), 0);
		whatsapp_send_outcome(&a, 0, &r);
		assert_int_equal(r.outcome, GW_SENT);
		/* The wamid as the string it is, so that statuses find the row. */
		assert_string_equal(r.message_id, "157b5e14568e8");
		free(body);
	}
	/* An upload answers with the media id. */
	assert_int_equal(whatsapp_send_parse(200, "{\"id\":\"1037543291543636\"}", 25, -1, &a), 0);
	assert_int_equal(a.cls, WHATSAPP_SENT);
	assert_string_equal(a.id, "1037543291543636");
}

/* ------------------------------------------------------------------- CLI */

static void test_templates_cli(void **state)
{
	struct testenv t;
	int seen[16][LANG_COUNT] = {{0}};
	char *line, *save = NULL;
	int lines = 0;

	(void)state;
	assert_int_equal(testenv_setup(&t, 1733234400, NULL), 0);
	assert_int_equal(testenv_cli(&t, "whatsapp", "templates", NULL), 0);
	for (line = strtok_r(t.out, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		cJSON *o = cJSON_Parse(line);
		const char *name, *code;
		const cJSON *comps, *body;
		size_t ti;
		enum lang l;
		const char *names[WHATSAPP_TEMPLATE_PARAMS];
		char want[2048];
		int n;

		assert_non_null(o);
		lines++;
		name = cJSON_GetObjectItem(o, "name")->valuestring;
		code = cJSON_GetObjectItem(o, "language")->valuestring;
		assert_string_equal(cJSON_GetObjectItem(o, "category")->valuestring, "UTILITY");
		for (ti = 0; ti < whatsapp_ntemplates; ti++)
			if (strcmp(whatsapp_templates[ti].name, name) == 0)
				break;
		assert_true(ti < whatsapp_ntemplates);
		assert_int_equal(lang_parse(code, &l), 0);
		seen[ti][l]++;
		comps = cJSON_GetObjectItem(o, "components");
		body = cJSON_GetArrayItem(comps, 0);
		assert_string_equal(cJSON_GetObjectItem(body, "type")->valuestring, "BODY");
		/* The body Meta approves is the one the sends fill in. */
		assert_int_equal(whatsapp_template_body(loc, l, &whatsapp_templates[ti], want, sizeof(want), names, &n), 0);
		assert_string_equal(cJSON_GetObjectItem(body, "text")->valuestring, want);
		if (n > 0)
			assert_int_equal(cJSON_GetArraySize(cJSON_GetArrayItem(
						 cJSON_GetObjectItem(cJSON_GetObjectItem(body, "example"), "body_text"), 0)),
					 n);
		else
			assert_null(cJSON_GetObjectItem(body, "example"));
		if (whatsapp_templates[ti].nbuttons > 0) {
			const cJSON *b = cJSON_GetObjectItem(cJSON_GetArrayItem(comps, 1), "buttons");

			assert_int_equal(cJSON_GetArraySize(b), whatsapp_templates[ti].nbuttons);
			for (int i = 0; i < whatsapp_templates[ti].nbuttons; i++) {
				assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(b, i), "type")->valuestring,
						    "QUICK_REPLY");
				assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(b, i), "text")->valuestring,
						    locale_text(loc, l, whatsapp_templates[ti].buttons[i]));
			}
		} else {
			assert_int_equal(cJSON_GetArraySize(comps), 1);
		}
		cJSON_Delete(o);
	}
	assert_int_equal(lines, (int)whatsapp_ntemplates * LANG_COUNT);
	for (size_t ti = 0; ti < whatsapp_ntemplates; ti++)
		for (int l = 0; l < LANG_COUNT; l++)
			assert_int_equal(seen[ti][l], 1);
	testenv_teardown(&t);
}

/* Copies the catalogs into dir, without key in the one of lang. */
static void catalogs_without(const char *dir, const char *lang, const char *key)
{
	static const char *const langs[] = {"nl", "fr", "de", "en"};
	char src[1024], dst[1024], prefix[128];

	for (size_t i = 0; i < CB_ARRAY_SIZE(langs); i++) {
		FILE *in, *out;
		char buf[8192];

		snprintf(src, sizeof(src), "%s/%s.json", CASEBOT_LOCALES_DIR, langs[i]);
		snprintf(dst, sizeof(dst), "%s/%s.json", dir, langs[i]);
		snprintf(prefix, sizeof(prefix), "  \"%s\":", key);
		in = fopen(src, "r");
		out = fopen(dst, "w");
		assert_non_null(in);
		assert_non_null(out);
		while (fgets(buf, sizeof(buf), in) != NULL)
			if (strcmp(langs[i], lang) != 0 || strncmp(buf, prefix, strlen(prefix)) != 0)
				fputs(buf, out);
		fclose(in);
		fclose(out);
	}
}

static int check_with(const char *lang, const char *key, char *err, size_t cap)
{
	char dir[] = "/tmp/casebot-wa-locales-XXXXXX", ini[640], path[1024];
	struct testenv t;
	int rc;

	assert_non_null(mkdtemp(dir));
	catalogs_without(dir, lang, key);
	snprintf(ini, sizeof(ini), "locales_dir = %s\n", dir);
	assert_int_equal(testenv_setup(&t, 1733234400, ini), 0);
	rc = testenv_cli(&t, "check", NULL);
	cb_strlcpy(err, t.err, cap);
	testenv_teardown(&t);
	for (int i = 0; i < 4; i++) {
		snprintf(path, sizeof(path), "%s/%s.json", dir, (const char *[]){"nl", "fr", "de", "en"}[i]);
		unlink(path);
	}
	rmdir(dir);
	return rc;
}

/* A template a message kind uses, missing in one language: check says
 * which, and where. */
static void test_check_refuses_missing_language(void **state)
{
	char err[4096];

	(void)state;
	assert_int_equal(check_with("de", "no such key", err, sizeof(err)), 0);
	assert_int_not_equal(check_with("de", "template.checkin", err, sizeof(err)), 0);
	assert_non_null(strstr(err, "template.checkin"));
	assert_non_null(strstr(err, "de.json"));
	assert_int_not_equal(check_with("fr", "template.reminder", err, sizeof(err)), 0);
	assert_non_null(strstr(err, "template.reminder"));
	assert_non_null(strstr(err, "fr.json"));
}

/* ------------------------------------------- the send op, against a fake Graph API */

#define PHONE_ID "1234567890"
#define TOKEN "EAAtest-token-42"

struct answer_ {
	int status;
	const char *body;
};

struct gfx {
	uv_loop_t loop;
	struct config cfg;
	struct testenv env;
	struct locales *loc;
	struct metrics metrics;
	struct http_client *http;
	struct http_server *server;
	struct gateway_env genv;
	struct gateway *gw;
	/* what the fake Graph API got and says */
	char bodies[4][8192];
	char auth[4][128];
	int requests;
	struct answer_ script[4];
	int nscript;
	/* uploads */
	int uploads;
	int upload_ok;               /* came as the multipart form WhatsApp takes */
	char upload_type[128];
	struct answer_ upload_script[4];
	int nupload_script;
	/* what the gateway reported */
	struct gateway_result r;
	int reported;
};

static void graph(struct http_server_req *req, void *arg)
{
	struct gfx *g = arg;
	const char *auth;
	size_t n = 0;
	const struct answer_ *a;
	static const struct answer_ ok = {200, "{\"messaging_product\":\"whatsapp\",\"contacts\":[{\"input\":\"32470\","
					       "\"wa_id\":\"32470\"}],\"messages\":[{\"id\":\"wamid.HBgLMzI0NzA=\"}]}"};

	if (g->requests < 4) {
		size_t len = req->body_len < sizeof(g->bodies[0]) - 1 ? req->body_len : sizeof(g->bodies[0]) - 1;

		memcpy(g->bodies[g->requests], req->body, len);
		g->bodies[g->requests][len] = '\0';
		auth = http_server_req_header(req, "authorization", &n);
		cb_strlcpy(g->auth[g->requests], auth != NULL ? auth : "", sizeof(g->auth[0]));
	}
	a = g->requests < g->nscript ? &g->script[g->requests] : &ok;
	g->requests++;
	http_server_respond(req, a->status, "application/json", a->body, strlen(a->body));
}

static int has(const char *b, size_t n, const char *needle, size_t len)
{
	for (size_t i = 0; b != NULL && len <= n && i <= n - len; i++)
		if (memcmp(b + i, needle, len) == 0)
			return 1;
	return 0;
}

#define FILE_BYTES "%PDF-1.4\n\0binary\xff"

static void graph_media(struct http_server_req *req, void *arg)
{
	struct gfx *g = arg;
	const char *ct = http_server_req_header(req, "content-type", NULL);
	const char *auth = http_server_req_header(req, "authorization", NULL);
	static const struct answer_ ok = {200, "{\"id\":\"MEDIA-1\"}"};
	const struct answer_ *a = g->uploads < g->nupload_script ? &g->upload_script[g->uploads] : &ok;
	static const char part[] = "name=\"messaging_product\"\r\n\r\nwhatsapp\r\n";

	g->uploads++;
	g->upload_ok = ct != NULL && strncmp(ct, "multipart/form-data", 19) == 0 && auth != NULL &&
		       strcmp(auth, "Bearer " TOKEN) == 0 && has(req->body, req->body_len, part, sizeof(part) - 1) &&
		       has(req->body, req->body_len, FILE_BYTES, sizeof(FILE_BYTES) - 1);
	g->upload_type[0] = '\0';
	for (size_t i = 0; req->body != NULL && i + 30 < req->body_len; i++) {
		if (memcmp(req->body + i, "name=\"type\"\r\n\r\n", 15) == 0) {
			size_t k = i + 15, n = 0;

			while (k < req->body_len && req->body[k] != '\r' && n < sizeof(g->upload_type) - 1)
				g->upload_type[n++] = req->body[k++];
			g->upload_type[n] = '\0';
			break;
		}
	}
	http_server_respond(req, a->status, "application/json", a->body, strlen(a->body));
}

static void noop_ready(void *arg)
{
	(void)arg;
}

static int gsetup(void **state)
{
	struct gfx *g = calloc(1, sizeof(*g));
	char ini[512], err[256], base[128];
	int port;

	if (g == NULL || uv_loop_init(&g->loop) != 0 || (g->server = http_server_new(&g->loop)) == NULL ||
	    http_server_route(g->server, "/v23.0/" PHONE_ID "/messages", graph, g) != 0 ||
	    http_server_route(g->server, "/v23.0/" PHONE_ID "/media", graph_media, g) != 0 ||
	    http_server_listen(g->server, "127.0.0.1:0") != 0 || (port = http_server_port(g->server)) <= 0 ||
	    (g->http = http_client_new(&g->loop)) == NULL)
		return -1;
	snprintf(base, sizeof(base), "http://127.0.0.1:%d/v23.0", port);
	snprintf(ini, sizeof(ini), "[whatsapp]\napi_base = %s\nphone_number_id = " PHONE_ID
		 "\nverify_token = v\n", base);
	setenv("CASEBOT_WHATSAPP_TOKEN", TOKEN, 1);
	setenv("CASEBOT_WHATSAPP_APP_SECRET", "secret", 1);
	if (testenv_setup(&g->env, time(NULL), ini) != 0 || config_load(&g->cfg, g->env.conf, err, sizeof(err)) != 0)
		return -1;
	g->loc = loc;
	g->genv = (struct gateway_env){.loop = &g->loop, .cfg = &g->cfg, .loc = &g->loc, .metrics = &g->metrics,
				       .http = g->http, .inbound_ready = noop_ready};
	if ((g->gw = gateway_whatsapp_new(&g->genv, err, sizeof(err))) == NULL)
		return -1;
	*state = g;
	return 0;
}

static void closed(void *arg)
{
	(void)arg;
}

static int gteardown(void **state)
{
	struct gfx *g = *state;

	g->gw->ops->free(g->gw);
	http_client_close(g->http, closed, NULL);
	http_server_close(g->server, closed, NULL);
	uv_run(&g->loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&g->loop), 0);
	testenv_teardown(&g->env);
	free(g);
	return 0;
}

static void reported(const struct gateway_result *r, void *arg)
{
	struct gfx *g = arg;

	g->r = *r;
	g->reported++;
}

/* Sends the message's first part and runs the loop until it is reported. */
static void send_msg(struct gfx *g, const struct composed *m, enum lang l, int outside_window)
{
	struct gateway_part p = {.address = "32470123456", .text = m->text, .len = strlen(m->text),
				 .buttons = m->buttons, .nbuttons = m->nbuttons, .msg = m, .lang = l,
				 .outside_window = outside_window};

	g->reported = 0;
	assert_int_equal(g->gw->ops->send(g->gw, &p, reported, g), 0);
	/* Never inside the call. */
	assert_int_equal(g->reported, 0);
	while (g->reported == 0)
		uv_run(&g->loop, UV_RUN_ONCE);
	assert_int_equal(g->gw->ops->busy(g->gw), 0);
}

static const char *type_of(const struct gfx *g, int i)
{
	static char type[32];
	cJSON *o = cJSON_Parse(g->bodies[i]);

	assert_non_null(o);
	cb_strlcpy(type, cJSON_GetObjectItem(o, "type")->valuestring, sizeof(type));
	cJSON_Delete(o);
	return type;
}

static struct composed reminder_msg;

static const struct composed *reminder(void)
{
	struct composed *m = &reminder_msg;

	first_line(m, "reminder.appointment", "when", "Tuesday 3 December at 14:00", "what", "lawyer");
	cb_strlcpy(m->text, "Reminder: you have an appointment on Tuesday 3 December at 14:00.\nWhat: lawyer\n"
		   "Can you come? Reply with the number:\n1 I will come\n2 I cannot come\n3 Other time",
		   sizeof(m->text));
	m->nbuttons = 3;
	button(&m->buttons[0], "I will come", "ap:5:1");
	button(&m->buttons[1], "I cannot come", "ap:5:2");
	button(&m->buttons[2], "Other time", "ap:5:3");
	m->question = 1;
	return m;
}

static long long template_count(const struct gfx *g, const char *name)
{
	for (int i = 0; i < g->metrics.nseries; i++)
		if (strcmp(g->metrics.series[i].direction, "tpl") == 0 && strcmp(g->metrics.series[i].kind, name) == 0)
			return (long long)g->metrics.series[i].n;
	return 0;
}

/* Inside the window: the reminder with its three reply buttons, under the
 * Bearer token; the wamid comes back as the message's id. */
static void test_send_inside_window(void **state)
{
	struct gfx *g = *state;

	send_msg(g, reminder(), LANG_EN, 0);
	assert_int_equal(g->requests, 1);
	assert_string_equal(g->auth[0], "Bearer " TOKEN);
	assert_string_equal(type_of(g, 0), "interactive");
	assert_non_null(strstr(g->bodies[0], "\"type\":\"button\""));
	assert_non_null(strstr(g->bodies[0], "ap:5:3"));
	assert_int_equal(g->r.outcome, GW_SENT);
	assert_string_equal(g->r.message_id, "wamid.HBgLMzI0NzA=");
	assert_int_equal(g->r.whole, 0);
	assert_int_equal(template_count(g, "casebot_reminder"), 0);
}

/* Four choices are a list, opened by the reader's word for it. */
static void test_send_list(void **state)
{
	struct gfx *g = *state;
	static struct composed m;

	first_line(&m, "checkin.question", NULL, NULL, NULL, NULL);
	cb_strlcpy(m.text, "Bonjour ! Comment allez-vous ?", sizeof(m.text));
	m.nbuttons = 4;
	for (int i = 0; i < 4; i++) {
		char data[24], label[32];

		snprintf(data, sizeof(data), "ci:9:%d", i + 1);
		snprintf(label, sizeof(label), "Ça va %d", i + 1);
		button(&m.buttons[i], label, data);
	}
	send_msg(g, &m, LANG_FR, 0);
	assert_non_null(strstr(g->bodies[0], "\"type\":\"list\""));
	assert_non_null(strstr(g->bodies[0], "\"button\":\"Choisir\""));
	assert_int_equal(g->r.outcome, GW_SENT);
}

/* After 25 hours of silence: the template in the family's language, with
 * quick replies that answer as the buttons do; counted as a template. */
static void test_send_outside_window(void **state)
{
	struct gfx *g = *state;

	send_msg(g, reminder(), LANG_NL, 1);
	assert_int_equal(g->requests, 1);
	assert_string_equal(type_of(g, 0), "template");
	assert_non_null(strstr(g->bodies[0], "\"name\":\"casebot_reminder\""));
	assert_non_null(strstr(g->bodies[0], "\"code\":\"nl\""));
	assert_non_null(strstr(g->bodies[0], "\"payload\":\"ap:5:1\""));
	assert_int_equal(g->r.outcome, GW_SENT);
	assert_int_equal(g->r.whole, 1);
	assert_int_equal(template_count(g, "casebot_reminder"), 1);
	{
		char out[8192];
		size_t len;

		assert_int_equal(metrics_render(&g->metrics, 0, 0, out, sizeof(out), &len), 0);
		assert_non_null(strstr(out, "casebot_templates_sent_total{channel=\"whatsapp\",template=\"casebot_reminder\"} 1"));
		assert_null(strstr(out, "direction=\"tpl\""));
	}
}

/* Free-form refused for the window, by 131047 or by a later code that
 * says the same: the template goes at once, in the same send. */
static void test_send_window_fallback(void **state)
{
	static const char *const refusals[] = {
		"{\"error\":{\"message\":\"(#131047) Re-engagement message\",\"type\":\"OAuthException\",\"code\":131047,"
		"\"error_data\":{\"messaging_product\":\"whatsapp\",\"details\":\"Message failed to send because more than "
		"24 hours have passed since the customer last replied to this number.\"}}}",
		"{\"error\":{\"message\":\"Message failed to send because more than 24 hours have passed since the "
		"customer last replied\",\"code\":470}}",
		"{\"error\":{\"message\":\"The customer service window is closed\",\"code\":131999}}",
	};
	struct gfx *g = *state;

	for (size_t i = 0; i < CB_ARRAY_SIZE(refusals); i++) {
		g->requests = 0;
		g->nscript = 1;
		g->script[0] = (struct answer_){400, refusals[i]};
		send_msg(g, reminder(), LANG_DE, 0);
		assert_int_equal(g->requests, 2);
		assert_string_equal(type_of(g, 0), "interactive");
		assert_string_equal(type_of(g, 1), "template");
		assert_non_null(strstr(g->bodies[1], "\"code\":\"de\""));
		assert_int_equal(g->r.outcome, GW_SENT);
		assert_int_equal(g->r.whole, 1);
	}
	assert_int_equal(template_count(g, "casebot_reminder"), 3);
}

/* A message no template stands for (a counsellor's reply) fails on the
 * window, and staff are told that reason. */
static void test_send_window_no_template(void **state)
{
	struct gfx *g = *state;
	static struct composed m;

	first_line(&m, "reply.from_counsellor", "counsellor", "Sara", "text", "Tot morgen");
	cb_strlcpy(m.text, "Sara: Tot morgen", sizeof(m.text));
	g->nscript = 1;
	g->script[0] = (struct answer_){400, "{\"error\":{\"message\":\"(#131047) Re-engagement message\","
					      "\"code\":131047}}"};
	send_msg(g, &m, LANG_NL, 1);
	assert_int_equal(g->requests, 1);
	assert_string_equal(type_of(g, 0), "text");
	assert_int_equal(g->r.outcome, GW_PERMANENT);
	assert_string_equal(g->r.why, "window");
	assert_non_null(strstr(g->r.reason, "131047"));
}

/* 132000 and 132001 fail the message with the template as the reason. */
static void test_send_template_refused(void **state)
{
	struct gfx *g = *state;

	g->nscript = 1;
	g->script[0] = (struct answer_){404, "{\"error\":{\"message\":\"(#132001) Template name does not exist in the "
					      "translation\",\"code\":132001}}"};
	send_msg(g, reminder(), LANG_FR, 1);
	assert_int_equal(g->r.outcome, GW_PERMANENT);
	assert_string_equal(g->r.why, "template");
	assert_non_null(strstr(g->r.reason, "132001"));
	assert_int_equal(template_count(g, "casebot_reminder"), 0);
	g->requests = 0;
	g->script[0] = (struct answer_){400, "{\"error\":{\"message\":\"(#132000) Number of parameters does not match "
					      "the expected number of params\",\"code\":132000}}"};
	send_msg(g, reminder(), LANG_FR, 1);
	assert_int_equal(g->r.outcome, GW_PERMANENT);
	assert_string_equal(g->r.why, "template");
}

/* The pair limit holds this chat; 131026 marks it for the next channel. */
static void test_send_limits(void **state)
{
	struct gfx *g = *state;

	g->nscript = 2;
	g->script[0] = (struct answer_){400, "{ \"error\": {\"message\": \"(#131056) (Business Account, Consumer "
					      "Account) pair rate limit hit\",\"code\": 131056 }}"};
	g->script[1] = (struct answer_){400, "{\"error\":{\"message\":\"(#131026) Message Undeliverable.\",\"code\":131026}}"};
	send_msg(g, reminder(), LANG_EN, 0);
	assert_int_equal(g->r.outcome, GW_RETRY_AFTER);
	assert_int_equal(g->r.chat_only, 1);
	assert_int_equal(g->r.retry_after, 6);
	send_msg(g, reminder(), LANG_EN, 0);
	assert_int_equal(g->r.outcome, GW_UNREACHABLE);
	assert_string_equal(g->r.why, "unreachable");
}

static void send_file(struct gfx *g, const char *kind, const char *mime)
{
	g->reported = 0;
	assert_int_equal(whatsapp_send_file((struct whatsapp *)g->gw, "32470123456", kind, mime, NULL, FILE_BYTES,
					    sizeof(FILE_BYTES) - 1, reported, g),
			 0);
	while (g->reported == 0)
		uv_run(&g->loop, UV_RUN_ONCE);
	assert_int_equal(g->gw->ops->busy(g->gw), 0);
}

/* A PDF and a voice note: uploaded as a form, then sent by the id. */
static void test_send_files(void **state)
{
	struct gfx *g = *state;
	cJSON *o;

	send_file(g, "document", "application/pdf");
	assert_int_equal(g->uploads, 1);
	assert_true(g->upload_ok);
	assert_string_equal(g->upload_type, "application/pdf");
	assert_int_equal(g->requests, 1);
	o = cJSON_Parse(g->bodies[0]);
	assert_string_equal(cJSON_GetObjectItem(o, "type")->valuestring, "document");
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(o, "document"), "id")->valuestring, "MEDIA-1");
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(o, "document"), "filename")->valuestring,
			    "document.pdf");
	cJSON_Delete(o);
	assert_int_equal(g->r.outcome, GW_SENT);
	assert_string_equal(g->r.message_id, "wamid.HBgLMzI0NzA=");

	send_file(g, "voice", "audio/ogg; codecs=opus");
	assert_int_equal(g->uploads, 2);
	assert_true(g->upload_ok);
	assert_string_equal(g->upload_type, "audio/ogg; codecs=opus");
	o = cJSON_Parse(g->bodies[1]);
	assert_string_equal(cJSON_GetObjectItem(o, "type")->valuestring, "audio");
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(o, "audio"), "id")->valuestring, "MEDIA-1");
	cJSON_Delete(o);
	assert_int_equal(g->r.outcome, GW_SENT);

	/* What WhatsApp does not take is refused before anything goes. */
	assert_int_equal(whatsapp_send_file((struct whatsapp *)g->gw, "32470123456", "document",
					    "application/x-msdownload", NULL, "MZ", 2, reported, g),
			 -CB_EINVAL);
	assert_int_equal(g->uploads, 2);
}

/* A media error is tried once more, then fails that message. */
static void test_send_file_media_retry(void **state)
{
	struct gfx *g = *state;
	static const char media_error[] = "{\"error\":{\"message\":\"Media upload error\",\"code\":131053}}";

	g->nupload_script = 1;
	g->upload_script[0] = (struct answer_){400, media_error};
	send_file(g, "document", "application/pdf");
	assert_int_equal(g->uploads, 2);
	assert_int_equal(g->r.outcome, GW_SENT);
	/* Twice: the message fails, with the code. */
	g->uploads = 0;
	g->nupload_script = 2;
	g->upload_script[1] = (struct answer_){400, media_error};
	send_file(g, "document", "application/pdf");
	assert_int_equal(g->uploads, 2);
	assert_int_equal(g->r.outcome, GW_PERMANENT);
	assert_non_null(strstr(g->r.reason, "131053"));
	/* The media error on the message by id: uploaded again, once. */
	g->uploads = 0;
	g->nupload_script = 0;
	g->requests = 0;
	g->nscript = 1;
	g->script[0] = (struct answer_){400, media_error};
	send_file(g, "voice", "audio/ogg; codecs=opus");
	assert_int_equal(g->uploads, 2);
	assert_int_equal(g->requests, 2);
	assert_int_equal(g->r.outcome, GW_SENT);
}

#define G(fn) cmocka_unit_test_setup_teardown(fn, gsetup, gteardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text_body),
		cmocka_unit_test(test_user_id_recipient),
		cmocka_unit_test(test_staff_template),
		cmocka_unit_test(test_buttons_body),
		cmocka_unit_test(test_list_body),
		cmocka_unit_test(test_media_body),
		cmocka_unit_test(test_window),
		cmocka_unit_test(test_template_for),
		cmocka_unit_test(test_template_body),
		cmocka_unit_test(test_template_values_refused),
		cmocka_unit_test(test_template_numbering),
		cmocka_unit_test(test_errors_mapped),
		cmocka_unit_test(test_sent_answers),
		cmocka_unit_test(test_templates_cli),
		cmocka_unit_test(test_check_refuses_missing_language),
		G(test_send_inside_window),
		G(test_send_list),
		G(test_send_outside_window),
		G(test_send_window_fallback),
		G(test_send_window_no_template),
		G(test_send_template_refused),
		G(test_send_limits),
		G(test_send_files),
		G(test_send_file_media_retry),
	};
	char err[512];
	int rc;

	if (locale_load(CASEBOT_LOCALES_DIR, &loc, err, sizeof(err)) != 0) {
		fprintf(stderr, "locale_load: %s\n", err);
		return 1;
	}
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	locale_free(loc);
	return rc;
}
