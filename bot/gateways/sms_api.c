/* The pure side of the SMS gateway (see sms_api.h). Forms are split at '&'
 * and '=' and each part decoded by libcurl; the signature is OpenSSL's
 * HMAC-SHA1 (libsodium has no SHA-1) in libsodium's base64; URLs are taken
 * apart and put together by libcurl's URL API; JSON answers by cJSON;
 * UTF-8 by utf8proc. */
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "bot/gateways/sms_api.h"

/* ---- forms ------------------------------------------------------------- */

static int hex_digit(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static int decode(const char *s, size_t n, char **out, size_t *outlen)
{
	char *plus, *dec;
	int len;

	/* A '%' must start an escape: libcurl leaves a broken one as it is,
	 * which would then read differently from what was signed. */
	for (size_t i = 0; i < n; i++)
		if (s[i] == '%' && (i + 2 >= n || !hex_digit(s[i + 1]) || !hex_digit(s[i + 2])))
			return -CB_EPARSE;
	if (n > (size_t)INT32_MAX)
		return -CB_ETOOBIG;
	if ((plus = malloc(n + 1)) == NULL)
		return -CB_ENOMEM;
	for (size_t i = 0; i < n; i++)
		plus[i] = s[i] == '+' ? ' ' : s[i];
	plus[n] = '\0';
	dec = curl_easy_unescape(NULL, plus, (int)n, &len);
	free(plus);
	if (dec == NULL)
		return -CB_ENOMEM;
	if (memchr(dec, '\0', (size_t)len) != NULL) {
		curl_free(dec);
		return -CB_EPARSE;
	}
	*out = strdup(dec);
	curl_free(dec);
	if (*out == NULL)
		return -CB_ENOMEM;
	*outlen = (size_t)len;
	return 0;
}

void sms_api_form_free(struct sms_form *f)
{
	for (int i = 0; i < f->n; i++) {
		free(f->p[i].name);
		if (f->p[i].value != NULL)
			sodium_memzero(f->p[i].value, f->p[i].value_len);
		free(f->p[i].value);
	}
	free(f->p);
	f->p = NULL;
	f->n = 0;
}

int sms_api_form_parse(const char *body, size_t len, struct sms_form *f)
{
	const char *p = body, *end = body + len, *amp, *eq;
	size_t nlen;
	int rc = 0;

	memset(f, 0, sizeof(*f));
	if (len == 0)
		return 0;
	if ((f->p = calloc(SMS_FORM_PARAMS_MAX, sizeof(*f->p))) == NULL)
		return -CB_ENOMEM;
	while (p <= end && rc == 0) {
		amp = memchr(p, '&', (size_t)(end - p));
		if (amp == NULL)
			amp = end;
		if (amp == p) {          /* "a=1&&b=2": nothing between */
			p = amp + 1;
			continue;
		}
		if (f->n == SMS_FORM_PARAMS_MAX) {
			rc = -CB_ETOOBIG;
			break;
		}
		eq = memchr(p, '=', (size_t)(amp - p));
		if (eq == NULL)
			eq = amp;
		if ((rc = decode(p, (size_t)(eq - p), &f->p[f->n].name, &nlen)) != 0)
			break;
		if ((rc = decode(eq < amp ? eq + 1 : amp, eq < amp ? (size_t)(amp - eq - 1) : 0, &f->p[f->n].value,
				 &f->p[f->n].value_len)) != 0) {
			free(f->p[f->n].name);
			f->p[f->n].name = NULL;
			break;
		}
		f->n++;
		p = amp + 1;
	}
	if (rc != 0)
		sms_api_form_free(f);
	return rc;
}

const char *sms_api_form_get(const struct sms_form *f, const char *name)
{
	for (int i = 0; i < f->n; i++)
		if (strcmp(f->p[i].name, name) == 0)
			return f->p[i].value;
	return NULL;
}

/* ---- the signature ---------------------------------------------------------- */

static int by_name_value(const void *a, const void *b)
{
	const struct sms_param *x = *(const struct sms_param *const *)a, *y = *(const struct sms_param *const *)b;
	int c = strcmp(x->name, y->name);

	return c != 0 ? c : strcmp(x->value, y->value);
}

int sms_api_signature(const char *token, const char *url, const struct sms_form *f, char *out, size_t cap)
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int maclen = 0;
	const struct sms_param **sorted = NULL;
	size_t total = strlen(url), at;
	char *data = NULL;
	int rc = 0;

	if (cap < sodium_base64_ENCODED_LEN(20, sodium_base64_VARIANT_ORIGINAL))
		return -CB_ETOOBIG;
	if (f->n > 0 && (sorted = calloc((size_t)f->n, sizeof(*sorted))) == NULL)
		return -CB_ENOMEM;
	for (int i = 0; i < f->n; i++) {
		sorted[i] = &f->p[i];
		total += strlen(f->p[i].name) + f->p[i].value_len;
	}
	if (f->n > 1)
		qsort(sorted, (size_t)f->n, sizeof(*sorted), by_name_value);
	if ((data = malloc(total + 1)) == NULL) {
		rc = -CB_ENOMEM;
		goto out;
	}
	at = strlen(url);
	memcpy(data, url, at);
	for (int i = 0; i < f->n; i++) {
		size_t nl = strlen(sorted[i]->name);

		memcpy(data + at, sorted[i]->name, nl);
		at += nl;
		memcpy(data + at, sorted[i]->value, sorted[i]->value_len);
		at += sorted[i]->value_len;
	}
	if (HMAC(EVP_sha1(), token, (int)strlen(token), (const unsigned char *)data, at, mac, &maclen) == NULL ||
	    maclen != 20) {
		rc = -CB_EINVAL;
		goto out;
	}
	sodium_bin2base64(out, cap, mac, maclen, sodium_base64_VARIANT_ORIGINAL);
out:
	if (data != NULL)
		sodium_memzero(data, total + 1);
	free(data);
	free(sorted);
	sodium_memzero(mac, sizeof(mac));
	return rc;
}

/* url with its port taken off (which = 0) or the scheme's default port
 * put on when it has none (which = 1), by libcurl's URL API; NULL when
 * that makes no other URL. The caller frees with curl_free. */
static char *url_variant(const char *url, int which)
{
	CURLU *h = curl_url();
	char *port = NULL, *out = NULL;

	if (h == NULL || curl_url_set(h, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK)
		goto out;
	if (curl_url_get(h, CURLUPART_PORT, &port, 0) == CURLUE_OK) {
		if (which == 0 && curl_url_set(h, CURLUPART_PORT, NULL, 0) == CURLUE_OK)
			curl_url_get(h, CURLUPART_URL, &out, 0);
	} else if (which == 1) {
		curl_url_get(h, CURLUPART_URL, &out, CURLU_DEFAULT_PORT);
	}
out:
	curl_free(port);
	curl_url_cleanup(h);
	return out;
}

static int matches(const char *token, const char *url, const struct sms_form *f, const char *given, size_t glen)
{
	char want[SMS_SIGNATURE_MAX];
	size_t wlen;
	int ok;

	if (sms_api_signature(token, url, f, want, sizeof(want)) != 0)
		return 0;
	wlen = strlen(want);
	ok = wlen == glen && sodium_memcmp(want, given, wlen) == 0;
	sodium_memzero(want, sizeof(want));
	return ok;
}

int sms_api_signature_ok(const char *token, const char *url, const struct sms_form *f, const char *given,
			 size_t given_len)
{
	char *v;
	int ok;

	if (given == NULL || given_len == 0 || given_len >= SMS_SIGNATURE_MAX || token[0] == '\0')
		return 0;
	ok = matches(token, url, f, given, given_len);
	for (int which = 0; which < 2 && !ok; which++) {
		if ((v = url_variant(url, which)) == NULL)
			continue;
		/* libcurl may write the same URL slightly otherwise (a "/"
		 * path): only a real change of port is worth a try. */
		ok = strcmp(v, url) != 0 && matches(token, v, f, given, given_len);
		curl_free(v);
	}
	return ok;
}

/* ---- inbound and statuses ------------------------------------------------ */

int sms_api_is_e164(const char *s)
{
	size_t n;

	if (s == NULL || s[0] != '+' || s[1] < '1' || s[1] > '9')
		return 0;
	n = strlen(s + 1);
	return n >= 8 && n <= 15 && strspn(s + 1, "0123456789") == n;
}

static int sid_ok(const char *s)
{
	size_t n = s != NULL ? strlen(s) : 0;

	return n >= 2 && n < EVENT_ID_MAX &&
	       strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789") == n;
}

static int utf8_ok(const char *s, size_t len)
{
	utf8proc_int32_t cp;
	utf8proc_ssize_t n;

	for (size_t i = 0; i < len; i += (size_t)n)
		if ((n = utf8proc_iterate((const utf8proc_uint8_t *)s + i, (utf8proc_ssize_t)(len - i), &cp)) <= 0)
			return 0;
	return 1;
}

static const char *first_of(const struct sms_form *f, const char *a, const char *b, const char *c)
{
	const char *v = sms_api_form_get(f, a);

	if (v == NULL && b != NULL)
		v = sms_api_form_get(f, b);
	if (v == NULL && c != NULL)
		v = sms_api_form_get(f, c);
	return v;
}

int sms_api_parse_inbound(const struct sms_form *f, time_t at, struct inbound_event *ev)
{
	const char *sid = first_of(f, "MessageSid", "SmsMessageSid", "SmsSid");
	const char *from = sms_api_form_get(f, "From"), *body = sms_api_form_get(f, "Body");
	const char *media = sms_api_form_get(f, "NumMedia");
	size_t blen = body != NULL ? strlen(body) : 0;

	memset(ev, 0, sizeof(*ev));
	if (from != NULL && strchr(from, ':') != NULL)
		return SMS_IGNORED;              /* whatsapp:+32..., messenger:... */
	if (!sid_ok(sid) || !sms_api_is_e164(from))
		return -CB_EPARSE;
	if (blen >= sizeof(ev->text) || !utf8_ok(body != NULL ? body : "", blen))
		return -CB_EPARSE;
	cb_strlcpy(ev->channel, "sms", sizeof(ev->channel));
	cb_strlcpy(ev->external_id, sid, sizeof(ev->external_id));
	cb_strlcpy(ev->message_id, sid, sizeof(ev->message_id));
	cb_strlcpy(ev->sender, from, sizeof(ev->sender));
	ev->at = at;
	if (blen > 0) {
		ev->kind = EVENT_TEXT;
		memcpy(ev->text, body, blen);
		ev->text[blen] = '\0';
	} else {
		/* A picture alone, or an empty text: nothing casebot can read. */
		ev->kind = media != NULL && strcmp(media, "0") != 0 ? EVENT_OTHER : EVENT_TEXT;
	}
	return 0;
}

int sms_api_parse_status(const struct sms_form *f, struct sms_status *st)
{
	static const struct {
		const char *word;
		int state;
	} states[] = {
		{"sent", 1}, {"delivered", 2}, {"read", 3}, {"undelivered", 5}, {"failed", 5},
		{"queued", 0}, {"accepted", 0}, {"scheduled", 0}, {"sending", 0}, {"canceled", 0},
	};
	const char *sid = first_of(f, "MessageSid", "SmsSid", NULL);
	const char *status = first_of(f, "MessageStatus", "SmsStatus", NULL);
	const char *code = sms_api_form_get(f, "ErrorCode");
	char *end;
	long c;

	memset(st, 0, sizeof(*st));
	if (!sid_ok(sid) || status == NULL)
		return -CB_EPARSE;
	for (size_t i = 0; i < CB_ARRAY_SIZE(states); i++) {
		if (strcmp(status, states[i].word) != 0)
			continue;
		cb_strlcpy(st->sid, sid, sizeof(st->sid));
		cb_strlcpy(st->status, status, sizeof(st->status));
		st->state = states[i].state;
		if (code != NULL && code[0] != '\0') {
			c = strtol(code, &end, 10);
			if (*end != '\0' || c < 0 || c > 999999)
				return -CB_EPARSE;
			st->error_code = (int)c;
		}
		return st->state == 0 ? SMS_IGNORED : 0;
	}
	return -CB_EPARSE;
}

/* ---- answers --------------------------------------------------------------- */

enum sms_class sms_api_classify(int http_status, int code)
{
	switch (code) {
	case 21610:
		return SMS_OPTED_OUT;
	case 30003:  /* unreachable destination handset */
	case 30005:  /* unknown destination handset */
	case 30006:  /* landline or unreachable carrier */
	case 21614:  /* not a mobile number */
		return SMS_UNREACHABLE;
	case 20429:  /* too many requests */
	case 63018:  /* rate limit exceeded for the channel */
	case 14107:  /* outbound rate limit */
		return SMS_BACKOFF;
	case 20500:  /* internal server error */
	case 20503:  /* service unavailable */
	case 30001:  /* queue overflow */
		return SMS_TRANSIENT;
	default:
		break;
	}
	if (http_status == 429)
		return SMS_BACKOFF;
	if (http_status == 0 || http_status >= 500)
		return SMS_TRANSIENT;
	return SMS_FAILED;
}

void sms_api_parse_answer(int http_status, const char *body, size_t len, long retry_after, struct sms_answer *a)
{
	cJSON *root = body != NULL && len > 0 ? cJSON_ParseWithLength(body, len) : NULL;
	const cJSON *sid = cJSON_GetObjectItemCaseSensitive(root, "sid");
	const cJSON *code = cJSON_GetObjectItemCaseSensitive(root, "code");
	const cJSON *msg = cJSON_GetObjectItemCaseSensitive(root, "message");

	memset(a, 0, sizeof(*a));
	if (http_status >= 200 && http_status <= 299) {
		if (cJSON_IsString(sid) && sid_ok(sid->valuestring)) {
			a->cls = SMS_SENT;
			cb_strlcpy(a->sid, sid->valuestring, sizeof(a->sid));
		} else {
			a->cls = SMS_TRANSIENT;
			cb_strlcpy(a->message, "an answer without a message sid", sizeof(a->message));
		}
		cJSON_Delete(root);
		return;
	}
	if (cJSON_IsNumber(code) && code->valuedouble >= 0 && code->valuedouble <= 999999)
		a->code = code->valueint;
	/* Twilio's messages can hold the number ("To number: +1..., is not
	 * a mobile number"): only a fixed word goes to the log. */
	(void)msg;
	a->cls = sms_api_classify(http_status, a->code);
	snprintf(a->message, sizeof(a->message), "HTTP %d, error %d", http_status, a->code);
	if (a->cls == SMS_BACKOFF)
		a->retry_after = retry_after > 0 ? (int)(retry_after < 3600 ? retry_after : 3600) : 30;
	cJSON_Delete(root);
}

int sms_api_build_send(const struct sms_send *s, char **out, size_t *len)
{
	const char *names[6], *values[6];
	size_t lens[6], total = 0, at = 0;
	char *esc[6] = {0}, validity[16], *buf;
	int n = 0, rc = 0;

	*out = NULL;
	if (s->to == NULL || s->body == NULL || s->body_len == 0 ||
	    ((s->from == NULL || s->from[0] == '\0') &&
	     (s->messaging_service_sid == NULL || s->messaging_service_sid[0] == '\0')))
		return -CB_EINVAL;
	names[n] = "To", values[n] = s->to, lens[n++] = strlen(s->to);
	if (s->messaging_service_sid != NULL && s->messaging_service_sid[0] != '\0')
		names[n] = "MessagingServiceSid", values[n] = s->messaging_service_sid,
		lens[n++] = strlen(s->messaging_service_sid);
	else
		names[n] = "From", values[n] = s->from, lens[n++] = strlen(s->from);
	names[n] = "Body", values[n] = s->body, lens[n++] = s->body_len;
	if (s->status_callback != NULL && s->status_callback[0] != '\0')
		names[n] = "StatusCallback", values[n] = s->status_callback, lens[n++] = strlen(s->status_callback);
	if (s->validity > 0) {
		snprintf(validity, sizeof(validity), "%ld", s->validity < SMS_VALIDITY_MAX ? s->validity : SMS_VALIDITY_MAX);
		names[n] = "ValidityPeriod", values[n] = validity, lens[n++] = strlen(validity);
	}
	for (int i = 0; i < n; i++) {
		if (lens[i] > (size_t)INT32_MAX / 3 || (esc[i] = curl_easy_escape(NULL, values[i], (int)lens[i])) == NULL) {
			rc = -CB_ENOMEM;
			goto out;
		}
		total += strlen(names[i]) + 2 + strlen(esc[i]);
	}
	if ((buf = malloc(total + 1)) == NULL) {
		rc = -CB_ENOMEM;
		goto out;
	}
	for (int i = 0; i < n; i++)
		at += (size_t)sprintf(buf + at, "%s%s=%s", i > 0 ? "&" : "", names[i], esc[i]);
	*out = buf;
	*len = at;
out:
	for (int i = 0; i < n; i++)
		curl_free(esc[i]);
	return rc;
}

/* ---- encoding and length ------------------------------------------------- */

/* GSM 03.38: the basic table and the extension table (each of those takes
 * an escape and itself). */
static const int32_t gsm_basic[] = {
	'@', 0xA3, '$', 0xA5, 0xE8, 0xE9, 0xF9, 0xEC, 0xF2, 0xC7, '\n', 0xD8, 0xF8, '\r', 0xC5, 0xE5,
	0x394, '_', 0x3A6, 0x393, 0x39B, 0x3A9, 0x3A0, 0x3A8, 0x3A3, 0x398, 0x39E, 0xC6, 0xE6, 0xDF, 0xC9,
	' ', '!', '"', '#', 0xA4, '%', '&', '\'', '(', ')', '*', '+', ',', '-', '.', '/',
	':', ';', '<', '=', '>', '?', 0xA1, 0xC4, 0xD6, 0xD1, 0xDC, 0xA7, 0xBF, 0xE4, 0xF6, 0xF1, 0xFC, 0xE0,
};
static const int32_t gsm_ext[] = {0x0C, '^', '{', '}', '\\', '[', '~', ']', '|', 0x20AC};

static int in(const int32_t *set, size_t n, int32_t cp)
{
	for (size_t i = 0; i < n; i++)
		if (set[i] == cp)
			return 1;
	return 0;
}

static int septets(int32_t cp)
{
	if ((cp >= 'A' && cp <= 'Z') || (cp >= 'a' && cp <= 'z') || (cp >= '0' && cp <= '9'))
		return 1;
	if (in(gsm_basic, CB_ARRAY_SIZE(gsm_basic), cp))
		return 1;
	if (in(gsm_ext, CB_ARRAY_SIZE(gsm_ext), cp))
		return 2;
	return 0;
}

int sms_api_is_gsm7(int32_t cp)
{
	return septets(cp) > 0;
}

/* Greedy: a character that would not fit whole in the part goes to the
 * next one. */
static int count_parts(const size_t *w, size_t n, size_t per)
{
	size_t used = 0;
	int parts = 1;

	for (size_t i = 0; i < n; i++) {
		if (used + w[i] > per) {
			parts++;
			used = 0;
		}
		used += w[i];
	}
	return parts;
}

int sms_api_segments(const char *text, size_t len, enum sms_encoding *enc, size_t *units)
{
	size_t *w7 = NULL, *w16 = NULL, n = 0, s7 = 0, s16 = 0;
	utf8proc_int32_t cp;
	utf8proc_ssize_t k;
	int gsm = 1, parts = 0;

	if ((w7 = malloc((len + 1) * sizeof(*w7))) == NULL || (w16 = malloc((len + 1) * sizeof(*w16))) == NULL)
		goto out;
	for (size_t i = 0; i < len; i += (size_t)k, n++) {
		if ((k = utf8proc_iterate((const utf8proc_uint8_t *)text + i, (utf8proc_ssize_t)(len - i), &cp)) <= 0)
			goto out;
		w7[n] = (size_t)septets(cp);
		w16[n] = cp > 0xFFFF ? 2 : 1;
		if (w7[n] == 0)
			gsm = 0;
		s7 += w7[n];
		s16 += w16[n];
	}
	if (gsm)
		parts = s7 <= 160 ? 1 : count_parts(w7, n, 153);
	else
		parts = s16 <= 70 ? 1 : count_parts(w16, n, 67);
	if (enc != NULL)
		*enc = gsm ? SMS_GSM7 : SMS_UCS2;
	if (units != NULL)
		*units = gsm ? s7 : s16;
out:
	free(w7);
	free(w16);
	return parts;
}

/* What GSM-7 lacks and a reader takes for the same: the letters of nl, fr
 * and de first, then punctuation that word processors put in. */
static const struct {
	int32_t cp;
	const char *to;
} translit[] = {
	{0x152, "OE"}, {0x153, "oe"}, {0xC6, "AE"}, {0x2018, "'"}, {0x2019, "'"}, {0x201A, "'"}, {0x201B, "'"},
	{0x201C, "\""}, {0x201D, "\""}, {0x201E, "\""}, {0xAB, "\""}, {0xBB, "\""}, {0x2039, "'"}, {0x203A, "'"},
	{0x2010, "-"}, {0x2011, "-"}, {0x2012, "-"}, {0x2013, "-"}, {0x2014, "-"}, {0x2026, "..."}, {0xA0, " "},
	{0x202F, " "}, {0x2009, " "}, {0x2022, "-"}, {0xB7, "."}, {'\t', " "}, {0x2032, "'"}, {0xB4, "'"},
	{'`', "'"},
};

static int put(char **buf, size_t *at, size_t *cap, const char *p, size_t n)
{
	char *g;

	if (*at + n + 1 > *cap) {
		size_t c = (*cap + n + 1) * 2;

		if ((g = realloc(*buf, c)) == NULL)
			return -CB_ENOMEM;
		*buf = g;
		*cap = c;
	}
	memcpy(*buf + *at, p, n);
	*at += n;
	(*buf)[*at] = '\0';
	return 0;
}

/* The character without its accents, when all that is left is GSM-7. */
static int strip_marks(int32_t cp, char *out, size_t cap, size_t *n)
{
	utf8proc_int32_t dec[8];
	utf8proc_ssize_t k;
	int last = 0;

	k = utf8proc_decompose_char(cp, dec, 8, UTF8PROC_DECOMPOSE | UTF8PROC_STRIPMARK | UTF8PROC_COMPAT, &last);
	*n = 0;
	if (k <= 0 || k > 8)
		return 0;
	for (utf8proc_ssize_t i = 0; i < k; i++) {
		if (!sms_api_is_gsm7(dec[i]) || *n + 4 >= cap)
			return 0;
		*n += (size_t)utf8proc_encode_char(dec[i], (utf8proc_uint8_t *)out + *n);
	}
	return *n > 0;
}

int sms_api_transliterate(const char *text, size_t len, char **out, size_t *outlen)
{
	char *buf = NULL, tmp[40];
	size_t at = 0, cap = 0, n;
	utf8proc_int32_t cp;
	utf8proc_ssize_t k;
	int rc = 0;

	*out = NULL;
	if ((rc = put(&buf, &at, &cap, "", 0)) != 0)
		return rc;
	for (size_t i = 0; i < len && rc == 0; i += (size_t)k) {
		const char *to = NULL;

		if ((k = utf8proc_iterate((const utf8proc_uint8_t *)text + i, (utf8proc_ssize_t)(len - i), &cp)) <= 0) {
			rc = -CB_EINVAL;
			break;
		}
		if (sms_api_is_gsm7(cp)) {
			rc = put(&buf, &at, &cap, text + i, (size_t)k);
			continue;
		}
		for (size_t t = 0; t < CB_ARRAY_SIZE(translit) && to == NULL; t++)
			if (translit[t].cp == cp)
				to = translit[t].to;
		if (to != NULL)
			rc = put(&buf, &at, &cap, to, strlen(to));
		else if (strip_marks(cp, tmp, sizeof(tmp), &n))
			rc = put(&buf, &at, &cap, tmp, n);
		else
			rc = put(&buf, &at, &cap, text + i, (size_t)k);
	}
	if (rc != 0) {
		free(buf);
		return rc;
	}
	*out = buf;
	*outlen = at;
	return 0;
}

/* ---- numbers ------------------------------------------------------------- */

/* Belgium's national significant numbers: 8 digits for a fixed line (not
 * starting with 0 or 4), 9 for a mobile (45 to 49). */
static int belgian_nsn(const char *d)
{
	size_t n = strlen(d);

	if (n == 8)
		return d[0] != '0' && d[0] != '4';
	return n == 9 && d[0] == '4' && d[1] >= '5' && d[1] <= '9';
}

int sms_api_normalize_number(const char *typed, char *out, size_t cap)
{
	char digits[24];
	size_t n = 0;
	int plus = 0, brackets = 0, last_digit = 0;
	const char *p = typed;

	while (*p == ' ')
		p++;
	if (*p == '+') {
		plus = 1;
		p++;
	}
	for (; *p != '\0'; p++) {
		if (*p >= '0' && *p <= '9') {
			if (n + 1 >= sizeof(digits))
				return -CB_EINVAL;
			digits[n++] = *p;
			last_digit = 1;
			continue;
		}
		/* Separators only between digits, and one pair of brackets. */
		if (*p == '(' && brackets == 0 && (n > 0 || plus)) {
			brackets = 1;
			continue;
		}
		if (*p == ')' && brackets == 1 && last_digit) {
			brackets = 2;
			continue;
		}
		if ((*p == ' ' || *p == '.' || *p == '-' || *p == '/') && last_digit) {
			last_digit = 0;
			continue;
		}
		if (*p == ' ' && p[1] == '\0')
			continue;
		return -CB_EINVAL;
	}
	digits[n] = '\0';
	if (brackets == 1 || n == 0)
		return -CB_EINVAL;
	if (!plus && n > 2 && digits[0] == '0' && digits[1] == '0') {
		memmove(digits, digits + 2, n - 1);
		n -= 2;
		plus = 1;
	}
	if (!plus) {
		/* The national form is Belgium's: a leading 0, the trunk prefix. */
		if (digits[0] != '0' || !belgian_nsn(digits + 1))
			return -CB_EINVAL;
		if (cap < n + 3)
			return -CB_ETOOBIG;
		snprintf(out, cap, "+32%s", digits + 1);
		return 0;
	}
	/* +32 0470...: the trunk 0 kept after the country code is a mistake
	 * worth asking about, as is a Belgian number of the wrong length. */
	if (strncmp(digits, "32", 2) == 0 && !belgian_nsn(digits + 2))
		return -CB_EINVAL;
	if (cap < n + 2)
		return -CB_ETOOBIG;
	snprintf(out, cap, "+%s", digits);
	return sms_api_is_e164(out) ? 0 : -CB_EINVAL;
}
