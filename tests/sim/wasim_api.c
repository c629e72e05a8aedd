/* The Graph API side, as Meta's Cloud API answers it:
 *
 *   POST /{version}/{phone_number_id}/messages   text, interactive (button,
 *        list), template, image/audio/document/video by media id; or
 *        {status: "read", message_id} to mark an inbound message read
 *   POST /{version}/{phone_number_id}/media      multipart upload -> {id}
 *   GET  /{version}/{media_id}                   {url, mime_type, sha256,
 *        file_size, id, messaging_product}
 *   GET  /whatsapp_business/attachments/?mid=ID&ext=EXPIRY&hash=H
 *        the bytes, with the same Bearer token, until the URL expires
 *
 * Every call needs "Authorization: Bearer TOKEN" (401 with code 190
 * otherwise). Errors have Graph's shape and the HTTP status Meta uses:
 * 400 for most, 404 for a template missing in a language (132001). The
 * checks, in order: the request's shape (100, 131009), the template
 * (132001, 132000), the number (131026 when marked unreachable
 * synchronously), the 24-hour window for free-form messages (131047), then
 * the pair rate (131056) and the throughput (130429), which are counted
 * always and refused with --enforce. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>
#include <utf8proc.h>

#include "bot/log.h"
#include "tests/sim/sim_form.h"
#include "tests/sim/wasim.h"


struct call {
	struct wasim *w;
	struct http_server_req *req;
	uint64_t started;
	const char *what;          /* "messages", "media", "media_get" for the log */
};

/* ---- answers ---------------------------------------------------------- */

static void fbtrace(char *buf, size_t cap)
{
	unsigned char raw[16];
	char b64[32];

	randombytes_buf(raw, sizeof(raw));
	sodium_bin2base64(b64, sizeof(b64), raw, sizeof(raw), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	snprintf(buf, cap, "A%.22s", b64);
}

static cJSON *graph_error(int code, int subcode, const char *title, const char *details)
{
	cJSON *root = cJSON_CreateObject(), *e, *ed;
	char msg[256], trace[32];

	if (root == NULL)
		return NULL;
	e = cJSON_AddObjectToObject(root, "error");
	/* Graph writes the code before the title; Meta asks clients to use
	 * the code and the details, never the title. */
	snprintf(msg, sizeof(msg), "(#%d) %s", code, title);
	cJSON_AddStringToObject(e, "message", code == 190 ? title : msg);
	cJSON_AddStringToObject(e, "type", code == 100 && subcode == 33 ? "GraphMethodException" :
	                        "OAuthException");
	cJSON_AddNumberToObject(e, "code", code);
	if (subcode != 0)
		cJSON_AddNumberToObject(e, "error_subcode", subcode);
	if (details != NULL) {
		ed = cJSON_AddObjectToObject(e, "error_data");
		cJSON_AddStringToObject(ed, "messaging_product", "whatsapp");
		cJSON_AddStringToObject(ed, "details", details);
	}
	fbtrace(trace, sizeof(trace));
	cJSON_AddStringToObject(e, "fbtrace_id", trace);
	return root;
}

void wasim_graph_error(struct http_server_req *req, int http_status, int code, int subcode,
                       const char *title, const char *details)
{
	sim_reply_json(req, http_status, graph_error(code, subcode, title, details));
}

static void finish(struct call *c, int status, cJSON *root, const char *note)
{
	c->w->st.api_calls++;
	log_info("%s -> %d%s%s (%llu ms)", c->what, status, note != NULL ? " " : "",
	         note != NULL ? note : "", (unsigned long long)(sim_now_ms() - c->started));
	sim_reply_json(c->req, status, root);
}

static void fail(struct call *c, int status, int code, int subcode, const char *title,
                 const char *details)
{
	char note[32];

	if (strcmp(c->what, "messages") == 0)
		c->w->st.rejected++;
	snprintf(note, sizeof(note), "code %d", code);
	finish(c, status, graph_error(code, subcode, title, details), note);
}

static void fail_param(struct call *c, const char *details)
{
	c->w->st.param_errors++;
	fail(c, 400, 100, 0, "Invalid parameter", details);
}

static void fail_value(struct call *c, const char *details)
{
	c->w->st.param_errors++;
	fail(c, 400, 131009, 0, "Parameter value is not valid", details);
}

/* ---- the Bearer token ------------------------------------------------- */

static int authorised(struct wasim *w, struct http_server_req *req)
{
	const char *h = http_server_req_header(req, "authorization", NULL);
	size_t n = strlen(w->token);

	if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0)
		return 0;
	h += 7;
	return strlen(h) == n && sodium_memcmp(h, w->token, n) == 0;
}

static int check_auth(struct call *c)
{
	if (authorised(c->w, c->req))
		return 1;
	c->w->st.bad_auth++;
	finish(c, 401, graph_error(190, 0, "Invalid OAuth access token - Cannot parse access token",
	                           NULL), "bad token");
	return 0;
}

/* ---- helpers ---------------------------------------------------------- */

/* Characters as WhatsApp counts them: code points; -1 for invalid UTF-8. */
static long chars(const char *s)
{
	const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;
	utf8proc_ssize_t len = (utf8proc_ssize_t)strlen(s), n;
	utf8proc_int32_t cp;
	long count = 0;

	while (len > 0) {
		if ((n = utf8proc_iterate(p, len, &cp)) <= 0)
			return -1;
		p += n;
		len -= n;
		count++;
	}
	return count;
}

static const char *str_at(const cJSON *o, const char *name)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, name);

	return cJSON_IsString(it) ? it->valuestring : NULL;
}

/* CC.<alphanumerics>, or a parent CC.ENT.<alphanumerics>: two capital
 * letters, a dot, then letters and digits (a dot after ENT). */
static int bsuid_shaped(const char *s)
{
	size_t i;

	if (s == NULL || s[0] < 'A' || s[0] > 'Z' || s[1] < 'A' || s[1] > 'Z' || s[2] != '.')
		return 0;
	s += 3;
	if (strncmp(s, "ENT.", 4) == 0)
		s += 4;
	for (i = 0; s[i] != '\0'; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z')))
			return 0;
	return i > 0 && i <= 128;
}

struct sim_chat *wasim_chat_by_wa_id(struct wasim *w, const char *wa_id, int create)
{
	int64_t id = 0;
	size_t n = strlen(wa_id);
	char *end;

	/* The API takes "+32 470 12 34 56" too; it keeps only the digits. */
	char digits[24];
	size_t i, k = 0;

	for (i = 0; i < n; i++) {
		if (wa_id[i] >= '0' && wa_id[i] <= '9') {
			if (k + 1 >= sizeof(digits))
				return NULL;
			digits[k++] = wa_id[i];
		} else if (wa_id[i] != '+' && wa_id[i] != ' ' && wa_id[i] != '-') {
			return NULL;
		}
	}
	digits[k] = '\0';
	if (k < 5 || k > 15)
		return NULL;
	id = strtoll(digits, &end, 10);
	if (*end != '\0' || id <= 0)
		return NULL;
	return create ? sim_chat_get(&w->core, id, NULL) : sim_chat_find(&w->core, id);
}

/* ---- POST /messages --------------------------------------------------- */

/* Keeps what the daemon sent, for /control/sent: the text (body, caption
 * or the template's parameters), the buttons as [{title, data}]. */
struct outgoing {
	const char *type;
	char *text;                 /* malloc'd */
	cJSON *markup;              /* {buttons, rows, template, media_id, ...} */
	int freeform;
	char category[16];
	int template_ok;
};

static int check_buttons(struct call *c, const cJSON *action, struct outgoing *o)
{
	const cJSON *buttons = cJSON_GetObjectItemCaseSensitive(action, "buttons"), *b, *b2;
	cJSON *list = cJSON_AddArrayToObject(o->markup, "buttons"), *e;
	int n = 0;

	if (!cJSON_IsArray(buttons) || cJSON_GetArraySize(buttons) < 1 ||
	    cJSON_GetArraySize(buttons) > WASIM_BUTTONS_MAX) {
		fail_value(c, "Invalid buttons count. Min allowed buttons: 1, Max allowed buttons: 3");
		return -1;
	}
	cJSON_ArrayForEach(b, buttons) {
		const cJSON *reply = cJSON_GetObjectItemCaseSensitive(b, "reply");
		const char *type = str_at(b, "type"), *id = str_at(reply, "id");
		const char *title = str_at(reply, "title");
		long len = title != NULL ? chars(title) : -1;

		if (type == NULL || strcmp(type, "reply") != 0 || id == NULL || id[0] == '\0' ||
		    strlen(id) > 256) {
			fail_param(c, "Each button needs type \"reply\" and a reply id of 1 to 256 characters");
			return -1;
		}
		if (len < 1 || len > WASIM_BUTTON_TITLE_MAX) {
			fail_value(c, "Button title length invalid. Min length: 1, Max length: 20");
			return -1;
		}
		n = 0;
		cJSON_ArrayForEach(b2, buttons) {
			const char *t2 = str_at(cJSON_GetObjectItemCaseSensitive(b2, "reply"), "title");
			const char *i2 = str_at(cJSON_GetObjectItemCaseSensitive(b2, "reply"), "id");

			if (t2 != NULL && strcmp(t2, title) == 0)
				n++;
			if (i2 != NULL && strcmp(i2, id) == 0 && b2 != b) {
				fail_value(c, "Duplicate button id");
				return -1;
			}
		}
		if (n > 1) {
			fail_value(c, "Button titles must be unique");
			return -1;
		}
		if ((e = cJSON_CreateObject()) == NULL)
			return -1;
		cJSON_AddStringToObject(e, "title", title);
		cJSON_AddStringToObject(e, "data", id);
		cJSON_AddItemToArray(list, e);
	}
	return 0;
}

static int check_list(struct call *c, const cJSON *action, struct outgoing *o)
{
	const cJSON *sections = cJSON_GetObjectItemCaseSensitive(action, "sections"), *s, *r;
	const char *button = str_at(action, "button");
	cJSON *list = cJSON_AddArrayToObject(o->markup, "buttons"), *e;
	long blen = button != NULL ? chars(button) : -1;
	int rows = 0;

	if (blen < 1 || blen > WASIM_BUTTON_TITLE_MAX) {
		fail_value(c, "List button text length invalid. Min length: 1, Max length: 20");
		return -1;
	}
	if (!cJSON_IsArray(sections) || cJSON_GetArraySize(sections) < 1 ||
	    cJSON_GetArraySize(sections) > 10) {
		fail_value(c, "Invalid sections count. Min allowed sections: 1, Max allowed sections: 10");
		return -1;
	}
	cJSON_AddStringToObject(o->markup, "list_button", button);
	cJSON_ArrayForEach(s, sections) {
		const cJSON *rl = cJSON_GetObjectItemCaseSensitive(s, "rows");

		if (!cJSON_IsArray(rl) || cJSON_GetArraySize(rl) < 1) {
			fail_value(c, "Each section needs at least one row");
			return -1;
		}
		cJSON_ArrayForEach(r, rl) {
			const char *id = str_at(r, "id"), *title = str_at(r, "title");
			const char *desc = str_at(r, "description");
			long tl = title != NULL ? chars(title) : -1;

			if (++rows > WASIM_LIST_ROWS_MAX) {
				fail_value(c, "Invalid rows count. Max allowed rows: 10");
				return -1;
			}
			if (id == NULL || id[0] == '\0' || strlen(id) > 200) {
				fail_param(c, "Each row needs an id of 1 to 200 characters");
				return -1;
			}
			if (tl < 1 || tl > WASIM_ROW_TITLE_MAX) {
				fail_value(c, "Row title length invalid. Min length: 1, Max length: 24");
				return -1;
			}
			if (desc != NULL && chars(desc) > WASIM_ROW_DESC_MAX) {
				fail_value(c, "Row description length invalid. Max length: 72");
				return -1;
			}
			if ((e = cJSON_CreateObject()) == NULL)
				return -1;
			cJSON_AddStringToObject(e, "title", title);
			cJSON_AddStringToObject(e, "data", id);
			if (desc != NULL)
				cJSON_AddStringToObject(e, "description", desc);
			cJSON_AddItemToArray(list, e);
		}
	}
	return 0;
}

static int check_interactive(struct call *c, const cJSON *in, struct outgoing *o)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(in, "interactive");
	const char *type = str_at(it, "type");
	const char *body = str_at(cJSON_GetObjectItemCaseSensitive(it, "body"), "text");
	const cJSON *action = cJSON_GetObjectItemCaseSensitive(it, "action");
	long len = body != NULL ? chars(body) : -1;

	if (!cJSON_IsObject(it) || type == NULL || !cJSON_IsObject(action)) {
		fail_param(c, "The parameter interactive needs type, body and action");
		return -1;
	}
	if (len < 1 || len > WASIM_INTERACTIVE_BODY_MAX) {
		fail_value(c, "Body text length invalid. Min length: 1, Max length: 1024");
		return -1;
	}
	cJSON_AddStringToObject(o->markup, "interactive", type);
	if ((o->text = strdup(body)) == NULL)
		return -1;
	if (strcmp(type, "button") == 0)
		return check_buttons(c, action, o);
	if (strcmp(type, "list") == 0)
		return check_list(c, action, o);
	fail_param(c, "Param interactive['type'] must be one of {button, list}");
	return -1;
}

static int check_template(struct call *c, const cJSON *in, struct outgoing *o)
{
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(in, "template"), *comp, *p;
	const char *name = str_at(t, "name");
	const char *lang = str_at(cJSON_GetObjectItemCaseSensitive(t, "language"), "code");
	const struct wasim_template *tp;
	cJSON *params, *buttons;
	char details[WASIM_TEMPLATE_NAME_MAX + 128];
	size_t tlen = 0;
	int n = 0;

	if (name == NULL || lang == NULL) {
		fail_param(c, "The parameter template needs name and language.code");
		return -1;
	}
	if ((tp = wasim_template_find(c->w, name, lang)) == NULL) {
		c->w->st.template_errors++;
		snprintf(details, sizeof(details), "template name (%s) does not exist in %s", name, lang);
		fail(c, 404, 132001, 2494073, "Template name does not exist in the translation", details);
		return -1;
	}
	params = cJSON_AddArrayToObject(o->markup, "params");
	buttons = cJSON_AddArrayToObject(o->markup, "buttons");
	comp = cJSON_GetObjectItemCaseSensitive(t, "components");
	cJSON_ArrayForEach(p, comp) {
		const char *ctype = str_at(p, "type");
		const cJSON *ps = cJSON_GetObjectItemCaseSensitive(p, "parameters"), *q;

		if (ctype == NULL)
			continue;
		if (strcmp(ctype, "body") == 0) {
			cJSON_ArrayForEach(q, ps) {
				const char *text = str_at(q, "text");

				n++;
				if (text == NULL) {
					fail_param(c, "Each body parameter needs type text and a text");
					return -1;
				}
				cJSON_AddItemToArray(params, cJSON_CreateString(text));
				tlen += strlen(text) + 1;
			}
		} else if (strcmp(ctype, "button") == 0) {
			const char *payload = NULL;

			cJSON_ArrayForEach(q, ps)
				if ((payload = str_at(q, "payload")) != NULL)
					break;
			if (payload != NULL) {
				cJSON *e = cJSON_CreateObject();

				cJSON_AddStringToObject(e, "title", payload);
				cJSON_AddStringToObject(e, "data", payload);
				cJSON_AddItemToArray(buttons, e);
			}
		}
	}
	if (n != tp->params) {
		c->w->st.template_errors++;
		snprintf(details, sizeof(details),
		         "body: number of localizable_params (%d) does not match the expected number of params (%d)",
		         n, tp->params);
		fail(c, 400, 132000, 2494002, "Number of parameters does not match the expected number of params",
		     details);
		return -1;
	}
	cJSON_AddStringToObject(o->markup, "template", name);
	cJSON_AddStringToObject(o->markup, "language", lang);
	/* The text shown in /control/sent: the name and its parameters. */
	if ((o->text = malloc(strlen(name) + tlen + 4)) == NULL)
		return -1;
	strcpy(o->text, name);
	cJSON_ArrayForEach(p, params) {
		strcat(o->text, tlen > 0 && p == params->child ? ": " : " ");
		strcat(o->text, p->valuestring);
	}
	cb_strlcpy(o->category, tp->category, sizeof(o->category));
	o->freeform = 0;
	return 0;
}

static int check_media(struct call *c, const cJSON *in, const char *type, struct outgoing *o)
{
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(in, type);
	const char *id = str_at(m, "id"), *caption = str_at(m, "caption");
	const char *filename = str_at(m, "filename");
	struct sim_file *f;

	if (!cJSON_IsObject(m) || (id == NULL && str_at(m, "link") == NULL)) {
		fail_param(c, "The media object needs an id (or a link)");
		return -1;
	}
	if (id == NULL) {
		/* A link needs Meta to fetch it; this simulator fetches nothing. */
		fail(c, 400, 131053, 0, "Media upload error", "Links are not fetched by the simulator");
		return -1;
	}
	if ((f = sim_file_by_id(&c->w->core, id)) == NULL) {
		fail(c, 400, 131053, 0, "Media upload error", "Unable to retrieve media: unknown media id");
		return -1;
	}
	if (caption != NULL && strcmp(type, "audio") == 0) {
		fail_param(c, "Param audio['caption'] is not allowed");
		return -1;
	}
	if (caption != NULL && chars(caption) > WASIM_CAPTION_MAX) {
		fail_value(c, "Caption length invalid. Max length: 1024");
		return -1;
	}
	cJSON_AddStringToObject(o->markup, "media_id", id);
	cJSON_AddStringToObject(o->markup, "mime_type", f->mime);
	if (filename != NULL)
		cJSON_AddStringToObject(o->markup, "filename", filename);
	if ((o->text = strdup(caption != NULL ? caption : "")) == NULL)
		return -1;
	return 0;
}

static void mark_read(struct call *c, const cJSON *in)
{
	const char *mid = str_at(in, "message_id");
	cJSON *root;

	if (mid == NULL || strncmp(mid, "wamid.", 6) != 0) {
		fail_param(c, "The parameter message_id is required");
		return;
	}
	c->w->st.marked_read++;
	if ((root = cJSON_CreateObject()) != NULL)
		cJSON_AddTrueToObject(root, "success");
	finish(c, 200, root, "read");
}

static void api_messages(struct call *c)
{
	struct wasim *w = c->w;
	struct http_server_req *req = c->req;
	struct outgoing o = {.freeform = 1};
	const char *product, *to, *recipient, *type;
	struct sim_chat *chat = NULL;
	struct sim_sent *sent;
	uint64_t now = sim_now_ms(), wait_ms;
	int pair, global;
	char wamid[WASIM_WAMID_MAX], num[24];
	cJSON *in = NULL, *root, *arr, *e;

	cb_strlcpy(o.category, "service", sizeof(o.category));
	if (strcmp(req->method, "POST") != 0) {
		fail(c, 400, 100, 0, "Unsupported request - method type: get", NULL);
		return;
	}
	in = req->body != NULL ? cJSON_ParseWithLength(req->body, req->body_len) : NULL;
	if (!cJSON_IsObject(in)) {
		fail_param(c, "The request body must be a JSON object");
		goto out;
	}
	product = str_at(in, "messaging_product");
	if (product == NULL || strcmp(product, "whatsapp") != 0) {
		fail_param(c, "The parameter messaging_product is required and must be whatsapp");
		goto out;
	}
	if (str_at(in, "status") != NULL) {
		mark_read(c, in);
		goto out;
	}
	to = str_at(in, "to");
	recipient = str_at(in, "recipient");
	type = str_at(in, "type");
	if (type == NULL)
		type = "text";
	if (to == NULL && recipient == NULL) {
		fail_param(c, "The parameter to is required.");
		goto out;
	}
	/* As Graph does: "to" takes a phone number and wins when both are
	 * given; "recipient" takes a business-scoped user id (CC.digits) and
	 * nothing else, for a user known only by it. */
	if (to == NULL && !bsuid_shaped(recipient)) {
		fail_param(c, "Param recipient must be a business-scoped user id");
		goto out;
	}
	if (to != NULL)
		chat = wasim_chat_by_wa_id(w, to, 1);
	else
		chat = sim_chat_by_user_id(&w->core, recipient);
	if (chat == NULL) {
		if (to != NULL)
			fail_param(c, "Param to must be a phone number of 5 to 15 digits");
		else
			fail(c, 400, 131030, 0, "Recipient phone number not in allowed list",
			     "No user with this business-scoped user id");
		goto out;
	}
	if ((o.markup = cJSON_CreateObject()) == NULL) {
		fail(c, 500, 1, 0, "An unknown error occurred", NULL);
		goto out;
	}
	o.type = type;
	if (strcmp(type, "text") == 0) {
		const char *body = str_at(cJSON_GetObjectItemCaseSensitive(in, "text"), "body");
		long len = body != NULL ? chars(body) : -1;

		if (body == NULL || len < 1) {
			fail_param(c, "The parameter text['body'] is required.");
			goto out;
		}
		if (len > WASIM_TEXT_MAX) {
			fail_param(c, "Param text['body'] must be at most 4096 characters long.");
			goto out;
		}
		if ((o.text = strdup(body)) == NULL)
			goto out;
	} else if (strcmp(type, "interactive") == 0) {
		if (check_interactive(c, in, &o) != 0)
			goto out;
	} else if (strcmp(type, "template") == 0) {
		if (check_template(c, in, &o) != 0)
			goto out;
	} else if (strcmp(type, "image") == 0 || strcmp(type, "audio") == 0 ||
	           strcmp(type, "document") == 0 || strcmp(type, "video") == 0 ||
	           strcmp(type, "sticker") == 0) {
		if (check_media(c, in, type, &o) != 0)
			goto out;
	} else {
		fail_param(c, "Param type must be one of {text, interactive, template, image, audio, document, video, sticker}");
		goto out;
	}
	if (chat->unreachable == 2) {
		w->st.unreachable++;
		fail(c, 400, 131026, 0, "Message undeliverable", "Message Undeliverable.");
		goto out;
	}
	/* The window runs from the family's last message, on the simulated
	 * clock (tests move it with /control/age). */
	if (o.freeform && (chat->last_inbound_ms == 0 ||
	                   sim_clock_ms(&w->core) - chat->last_inbound_ms >= WASIM_WINDOW_MS)) {
		w->st.window_violations++;
		fail(c, 400, 131047, 2494010, "Re-engagement message",
		     "Message failed to send because more than 24 hours have passed since the customer last replied to this number.");
		goto out;
	}
	sim_rate_check(&w->core, chat, now, &pair, &global, &wait_ms);
	w->st.pair_breaches += pair;
	w->st.throughput_breaches += global;
	if (w->core.enforce && global) {
		fail(c, 400, 130429, 0, "Rate limit hit",
		     "Cloud API message throughput has been reached.");
		goto out;
	}
	if (w->core.enforce && pair) {
		fail(c, 400, 131056, 0, "(Business Account, Consumer Account) pair rate limit hit",
		     "Message failed to send because there were too many messages sent from this phone number to the same phone number in a short period of time.");
		goto out;
	}
	sim_rate_record(&w->core, chat, now);
	wasim_wamid(w, chat, wamid, sizeof(wamid));
	cJSON_AddStringToObject(o.markup, "type", type);
	if (sim_sent_push(&w->core, chat->id, ++chat->last_message_id, 0, o.text, o.markup,
	                  &sent) != 0) {
		o.text = NULL;
		o.markup = NULL;
		fail(c, 500, 1, 0, "An unknown error occurred", NULL);
		goto out;
	}
	o.text = NULL;
	o.markup = NULL;
	cb_strlcpy(sent->mid, wamid, sizeof(sent->mid));
	cb_strlcpy(sent->kind, type, sizeof(sent->kind));
	w->st.sent++;
	wasim_statuses_schedule(w, chat, wamid, o.category, 1, chat->unreachable == 1 ? 131026 : 0);
	if (chat->unreachable == 1)
		w->st.unreachable++;

	root = cJSON_CreateObject();
	cJSON_AddStringToObject(root, "messaging_product", "whatsapp");
	arr = cJSON_AddArrayToObject(root, "contacts");
	e = cJSON_CreateObject();
	cJSON_AddItemToArray(arr, e);
	cJSON_AddStringToObject(e, "input", to != NULL ? to : recipient);
	/* wa_id answers a send by number, user_id one by user id. */
	if (to != NULL && wasim_has_number(chat)) {
		snprintf(num, sizeof(num), "%" PRId64, chat->id);
		cJSON_AddStringToObject(e, "wa_id", num);
	}
	if (to == NULL && chat->user_id[0] != '\0')
		cJSON_AddStringToObject(e, "user_id", chat->user_id);
	arr = cJSON_AddArrayToObject(root, "messages");
	e = cJSON_CreateObject();
	cJSON_AddItemToArray(arr, e);
	cJSON_AddStringToObject(e, "id", wamid);
	if (strcmp(type, "template") == 0)
		cJSON_AddStringToObject(e, "message_status", "accepted");
	sim_wait_wake(&w->core);
	finish(c, 200, root, type);
out:
	free(o.text);
	cJSON_Delete(o.markup);
	cJSON_Delete(in);
}

/* ---- POST /media ------------------------------------------------------ */

static const char *const accepted_types[] = {
	"audio/aac", "audio/amr", "audio/mpeg", "audio/mp4", "audio/ogg",
	"text/plain", "application/pdf", "application/vnd.ms-powerpoint", "application/msword",
	"application/vnd.ms-excel",
	"application/vnd.openxmlformats-officedocument.wordprocessingml.document",
	"application/vnd.openxmlformats-officedocument.presentationml.presentation",
	"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
	"image/jpeg", "image/png", "image/webp", "video/mp4", "video/3gpp",
};

static int type_accepted(const char *mime)
{
	size_t i, n = strcspn(mime, ";");

	for (i = 0; i < CB_ARRAY_SIZE(accepted_types); i++)
		if (strlen(accepted_types[i]) == n && strncasecmp(mime, accepted_types[i], n) == 0)
			return 1;
	return 0;
}

static void api_media_upload(struct call *c)
{
	struct wasim *w = c->w;
	const char *ctype = http_server_req_header(c->req, "content-type", NULL);
	struct sim_part parts[SIM_FORM_PARTS_MAX];
	const struct sim_part *file = NULL;
	char boundary[100], product[32] = "", type[128] = "", ext[16];
	struct sim_file *f;
	cJSON *root;
	int n, i, rc;

	if (strcmp(c->req->method, "POST") != 0) {
		fail(c, 400, 100, 0, "Unsupported request - method type: get", NULL);
		return;
	}
	if (ctype == NULL || strncasecmp(ctype, "multipart/form-data", 19) != 0 ||
	    sim_form_header_param(ctype, strlen(ctype), "boundary", boundary, sizeof(boundary)) != 0 ||
	    c->req->body == NULL) {
		fail_param(c, "The upload must be multipart/form-data");
		return;
	}
	if ((n = sim_form_parse(c->req->body, c->req->body_len, boundary, parts, SIM_FORM_PARTS_MAX)) < 0) {
		fail_param(c, "The multipart body could not be read");
		return;
	}
	for (i = 0; i < n; i++) {
		if (strcmp(parts[i].name, "file") == 0)
			file = &parts[i];
		else if (strcmp(parts[i].name, "messaging_product") == 0 && parts[i].len < sizeof(product))
			memcpy(product, parts[i].data, parts[i].len), product[parts[i].len] = '\0';
		else if (strcmp(parts[i].name, "type") == 0 && parts[i].len < sizeof(type))
			memcpy(type, parts[i].data, parts[i].len), type[parts[i].len] = '\0';
	}
	if (strcmp(product, "whatsapp") != 0) {
		fail_param(c, "The parameter messaging_product is required.");
		return;
	}
	if (file == NULL || file->len == 0) {
		fail_param(c, "The parameter file is required.");
		return;
	}
	if (type[0] == '\0')
		cb_strlcpy(type, file->ctype, sizeof(type));
	if (!type_accepted(type)) {
		fail_param(c, "Param file must be a file with one of the following types: audio/aac, audio/mp4, audio/mpeg, audio/amr, audio/ogg, audio/opus, application/pdf, image/jpeg, image/png, video/mp4, ...");
		return;
	}
	snprintf(ext, sizeof(ext), "bin");
	if ((rc = sim_file_add(&w->core, "media", ext, (int64_t)file->len, GEN_NONE, file->data, &f)) != 0) {
		fail(c, rc == -CB_ETOOBIG ? 400 : 500, 131053, 0, "Media upload error", casebot_strerror(rc));
		return;
	}
	snprintf(f->file_id, sizeof(f->file_id), "%" PRIu64, UINT64_C(1700000000000000) + ++w->next_seq);
	cb_strlcpy(f->mime, type, sizeof(f->mime));
	f->created_ms = sim_clock_ms(&w->core);
	w->st.media_uploads++;
	root = cJSON_CreateObject();
	cJSON_AddStringToObject(root, "id", f->file_id);
	sim_wait_wake(&w->core);
	finish(c, 200, root, "uploaded");
}

/* ---- GET /{media_id} and the download --------------------------------- */

static void url_hash(struct wasim *w, const char *mid, int64_t ext, char *out, size_t cap)
{
	unsigned char mac[crypto_auth_hmacsha256_BYTES];
	char msg[WASIM_ID_MAX + 32], hex[sizeof(mac) * 2 + 1];

	snprintf(msg, sizeof(msg), "%s:%" PRId64, mid, ext);
	crypto_auth_hmacsha256(mac, (const unsigned char *)msg, strlen(msg), w->url_key);
	sodium_bin2hex(hex, sizeof(hex), mac, sizeof(mac));
	snprintf(out, cap, "AT%.40s", hex);
}

int wasim_media_url(struct wasim *w, const struct sim_file *f, char *buf, size_t cap)
{
	char hash[48];
	int64_t ext = (sim_clock_ms(&w->core) + WASIM_MEDIA_URL_MS) / 1000;
	int n;

	url_hash(w, f->file_id, ext, hash, sizeof(hash));
	n = snprintf(buf, cap, "http://127.0.0.1:%d/whatsapp_business/attachments/?mid=%s&ext=%" PRId64
	             "&hash=%s", http_server_port(w->core.http), f->file_id, ext, hash);
	return n > 0 && (size_t)n < cap ? 0 : -CB_ETOOBIG;
}

static void api_media_get(struct call *c, const char *id)
{
	struct wasim *w = c->w;
	struct sim_file *f = sim_file_by_id(&w->core, id);
	unsigned char hash[crypto_hash_sha256_BYTES], *bytes;
	char hex[sizeof(hash) * 2 + 1], url[512];
	cJSON *root;

	if (strcmp(c->req->method, "DELETE") == 0 && f != NULL) {
		f->file_id[0] = '\0';
		root = cJSON_CreateObject();
		cJSON_AddTrueToObject(root, "success");
		finish(c, 200, root, "deleted");
		return;
	}
	if (f == NULL || strcmp(c->req->method, "GET") != 0) {
		finish(c, 400, graph_error(100, 33, "Unsupported get request. Object with ID does not exist, cannot be loaded due to missing permissions, or does not support this operation.",
		                           NULL), "unknown media");
		return;
	}
	if ((bytes = sim_file_bytes(f)) == NULL) {
		fail(c, 500, 1, 0, "An unknown error occurred", NULL);
		return;
	}
	crypto_hash_sha256(hash, bytes, (unsigned long long)f->size);
	free(bytes);
	sodium_bin2hex(hex, sizeof(hex), hash, sizeof(hash));
	if (wasim_media_url(w, f, url, sizeof(url)) != 0) {
		fail(c, 500, 1, 0, "An unknown error occurred", NULL);
		return;
	}
	root = cJSON_CreateObject();
	cJSON_AddStringToObject(root, "url", url);
	cJSON_AddStringToObject(root, "mime_type", f->mime);
	cJSON_AddStringToObject(root, "sha256", hex);
	cJSON_AddNumberToObject(root, "file_size", (double)f->size);
	cJSON_AddStringToObject(root, "id", f->file_id);
	cJSON_AddStringToObject(root, "messaging_product", "whatsapp");
	finish(c, 200, root, "media url");
}

void wasim_api_download(struct http_server_req *req, void *arg)
{
	struct wasim *w = arg;
	struct call c = {.w = w, .req = req, .started = sim_now_ms(), .what = "download"};
	char mid[WASIM_ID_MAX], hash[64], want[48];
	int64_t ext;
	struct sim_file *f;
	struct sim_fault fault;
	unsigned char *bytes;

	if (w->core.closing) {
		http_server_respond(req, 503, "text/plain", "shutting down\n", 14);
		return;
	}
	if (!authorised(w, req)) {
		w->st.media_bad_auth++;
		finish(&c, 401, graph_error(190, 0, "Invalid OAuth access token - Cannot parse access token",
		                            NULL), "download without the token");
		return;
	}
	if (sim_query(req->path, "mid", mid, sizeof(mid)) != 0 ||
	    sim_query_i64(req->path, "ext", 0, &ext) != 0 ||
	    sim_query(req->path, "hash", hash, sizeof(hash)) != 0 ||
	    (f = sim_file_by_id(&w->core, mid)) == NULL) {
		http_server_respond(req, 404, "text/plain", "Not Found\n", 10);
		return;
	}
	url_hash(w, mid, ext, want, sizeof(want));
	if (strcmp(want, hash) != 0) {
		http_server_respond(req, 403, "text/plain", "URL signature mismatch\n", 23);
		return;
	}
	if (sim_clock_ms(&w->core) / 1000 > ext) {
		w->st.media_expired++;
		log_info("download -> 404 (the URL expired)");
		http_server_respond(req, 404, "text/plain", "URL expired\n", 12);
		return;
	}
	if (sim_fault_take(&w->core, "file", 0, &fault) == 0 && fault.kind == FAULT_500) {
		http_server_respond(req, 500, "text/plain", "Internal Server Error\n", 22);
		return;
	}
	if ((bytes = sim_file_bytes(f)) == NULL) {
		http_server_respond(req, 500, "text/plain", "out of memory\n", 14);
		return;
	}
	w->st.media_downloads++;
	log_info("download -> 200 (%" PRId64 " bytes)", f->size);
	http_server_respond(req, 200, f->mime[0] != '\0' ? f->mime : "application/octet-stream",
	                    (const char *)bytes, (size_t)f->size);
	free(bytes);
	sim_wait_wake(&w->core);
}

/* ---- routing ---------------------------------------------------------- */

/* /v21.0/..., /v23.0/...: any version Graph still serves. */
static int version_ok(const char *seg)
{
	return seg[0] == 'v' && seg[1] >= '1' && seg[1] <= '9' && strchr(seg, '.') != NULL &&
	       strspn(seg + 1, "0123456789.") == strlen(seg + 1);
}

void wasim_api_handle(struct http_server_req *req, void *arg)
{
	struct wasim *w = arg;
	struct call c = {.w = w, .req = req, .started = sim_now_ms(), .what = "graph"};
	char path[512], *seg[4], *save = NULL, *p;
	struct sim_fault fault;
	int n = 0;

	if (w->core.closing) {
		http_server_respond(req, 503, "text/plain", "shutting down\n", 14);
		return;
	}
	if (sim_path(req->path, path, sizeof(path)) != 0) {
		fail(&c, 400, 100, 0, "Unknown path components", NULL);
		return;
	}
	for (p = strtok_r(path, "/", &save); p != NULL && n < 4; p = strtok_r(NULL, "/", &save))
		seg[n++] = p;
	if (n < 2 || n > 3 || p != NULL || !version_ok(seg[0])) {
		fail(&c, 400, 100, 0, "Unknown path components", NULL);
		return;
	}
	if (!check_auth(&c))
		return;
	if (n == 3) {
		c.what = seg[2];
		if (strcmp(seg[1], w->phone_number_id) != 0) {
			fail(&c, 400, 100, 33, "Unsupported post request. Object does not exist, cannot be loaded due to missing permissions, or does not support this operation.",
			     NULL);
			return;
		}
		if (sim_fault_take(&w->core, seg[2], 0, &fault) == 0) {
			if (fault.kind == FAULT_429) {
				fail(&c, 429, 80007, 0, "Rate limit issues", "Too many calls to this number");
				return;
			}
			if (fault.kind == FAULT_400) {
				fail_param(&c, "Injected by a fault");
				return;
			}
			if (fault.kind == FAULT_500 || fault.kind == FAULT_GARBAGE) {
				finish(&c, 500, graph_error(1, 0, "An unknown error occurred", NULL), "fault");
				return;
			}
		}
		if (strcmp(seg[2], "messages") == 0)
			api_messages(&c);
		else if (strcmp(seg[2], "media") == 0)
			api_media_upload(&c);
		else
			fail(&c, 400, 100, 0, "Unknown path components", NULL);
		return;
	}
	c.what = "media_get";
	api_media_get(&c, seg[1]);
}
