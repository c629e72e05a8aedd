/* The SMS gateway's pure side: X-Twilio-Signature against the vectors of
 * Twilio's own libraries and documentation, webhooks captured from public
 * sources (tests/data/payloads/sms), statuses, error codes, answers, the
 * form of a send, segments against Twilio's segment calculator, the
 * transliteration, and numbers as a counsellor types them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bot/gateways/sms_api.h"

#define DIR "tests/data/payloads/sms/"

static char *slurp(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	char *buf;
	long n;

	assert_non_null(fp);
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	fseek(fp, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, fp), (size_t)n);
	buf[n] = '\0';
	fclose(fp);
	if (len != NULL)
		*len = (size_t)n;
	return buf;
}

static cJSON *load(const char *name)
{
	char path[256], *text;
	cJSON *root;

	snprintf(path, sizeof(path), DIR "%s", name);
	text = slurp(path, NULL);
	root = cJSON_Parse(text);
	free(text);
	assert_non_null(root);
	return root;
}

/* A form from the JSON params of a vector: each value, or each value of
 * an array, a field of its own. */
static void form_of(const cJSON *params, struct sms_form *f)
{
	const cJSON *it, *v;
	int n = 0;

	f->p = calloc(SMS_FORM_PARAMS_MAX, sizeof(*f->p));
	assert_non_null(f->p);
	cJSON_ArrayForEach(it, params) {
		if (cJSON_IsArray(it)) {
			cJSON_ArrayForEach(v, it) {
				f->p[n].name = strdup(it->string);
				f->p[n].value = strdup(v->valuestring);
				f->p[n].value_len = strlen(v->valuestring);
				n++;
			}
		} else {
			f->p[n].name = strdup(it->string);
			f->p[n].value = strdup(it->valuestring);
			f->p[n].value_len = strlen(it->valuestring);
			n++;
		}
	}
	f->n = n;
}

/* The classic example of Twilio's documentation ("Validating Requests
 * are coming from Twilio": token 12345, https://mycompany.com/myapp.php?
 * foo=1&bar=2 and a call's fields) signs to RSOYDt4T1cUTdK1PDd93/VVr8B8=. */
static void test_signature_docs_vector(void **state)
{
	struct sms_form f;
	char sig[SMS_SIGNATURE_MAX];
	cJSON *all = load("twilio_signature_vectors.json"), *v;

	(void)state;
	v = cJSON_GetArrayItem(all, 0);
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(v, "id")), "node_default");
	form_of(cJSON_GetObjectItem(v, "params"), &f);
	assert_int_equal(sms_api_signature("12345", "https://mycompany.com/myapp.php?foo=1&bar=2", &f, sig, sizeof(sig)),
			 0);
	assert_string_equal(sig, "RSOYDt4T1cUTdK1PDd93/VVr8B8=");
	assert_true(sms_api_signature_ok("12345", "https://mycompany.com/myapp.php?foo=1&bar=2", &f, sig, strlen(sig)));
	/* One character off, the wrong token, another URL: refused. */
	sig[3] ^= 1;
	assert_false(sms_api_signature_ok("12345", "https://mycompany.com/myapp.php?foo=1&bar=2", &f, sig, strlen(sig)));
	sig[3] ^= 1;
	assert_false(sms_api_signature_ok("12346", "https://mycompany.com/myapp.php?foo=1&bar=2", &f, sig, strlen(sig)));
	assert_false(sms_api_signature_ok("12345", "https://mycompany.com/myapp.php?foo=1&bar=3", &f, sig, strlen(sig)));
	assert_false(sms_api_signature_ok("12345", "https://mycompany.com/myapp.php?foo=1&bar=2", &f, NULL, 0));
	assert_false(sms_api_signature_ok("12345", "https://mycompany.com/myapp.php?foo=1&bar=2", &f, "", 0));
	/* A field changed after signing. */
	free(f.p[2].value);
	f.p[2].value = strdup("1235");
	assert_false(sms_api_signature_ok("12345", "https://mycompany.com/myapp.php?foo=1&bar=2", &f, sig, strlen(sig)));
	sms_api_form_free(&f);
	cJSON_Delete(all);
}

/* Every form-body vector of twilio-node, twilio-python and twilio-go:
 * with the port as given, taken off, or the default one put on. The
 * vectors for JSON bodies (bodySHA256), Python's removal of duplicate
 * values and Node's re-encoding of an apostrophe are other schemes than
 * Twilio's form webhooks and are left out. */
static void test_signature_library_vectors(void **state)
{
	static const char *const skip[] = {
		"node_body_sha256", "node_body_sha256_empty_object", "node_body_sha256_only_param",
		"node_body_without_sha_param", "node_multiple_params_and_values", "python_duplicate_multidict",
		"node_special_characters",
	};
	cJSON *all = load("twilio_signature_vectors.json"), *v;
	int checked = 0, ports = 0;

	(void)state;
	cJSON_ArrayForEach(v, all) {
		const char *id = cJSON_GetStringValue(cJSON_GetObjectItem(v, "id"));
		const char *url = cJSON_GetStringValue(cJSON_GetObjectItem(v, "url"));
		const char *token = cJSON_GetStringValue(cJSON_GetObjectItem(v, "auth_token"));
		const char *sig = cJSON_GetStringValue(cJSON_GetObjectItem(v, "expected_signature"));
		int valid = cJSON_IsTrue(cJSON_GetObjectItem(v, "expect_valid"));
		int raw = cJSON_IsTrue(cJSON_GetObjectItem(v, "collector_check_raw_hmac_equal"));
		struct sms_form f;
		int skipped = 0;

		for (size_t i = 0; i < sizeof(skip) / sizeof(skip[0]); i++)
			skipped |= strcmp(id, skip[i]) == 0;
		if (skipped)
			continue;
		form_of(cJSON_GetObjectItem(v, "params"), &f);
		if (sms_api_signature_ok(token, url, &f, sig, strlen(sig)) != valid)
			fail_msg("vector %s: expected %s", id, valid ? "valid" : "refused");
		ports += valid && !raw;
		checked++;
		sms_api_form_free(&f);
	}
	assert_true(checked >= 14);
	/* Some were signed over the URL with another port than given. */
	assert_true(ports >= 4);
	cJSON_Delete(all);
}

static void test_form_parse(void **state)
{
	struct sms_form f;
	size_t len;
	char *body = slurp(DIR "courier_receive_valid.txt", &len);

	(void)state;
	assert_int_equal(sms_api_form_parse(body, len, &f), 0);
	assert_string_equal(sms_api_form_get(&f, "From"), "+14133881111");
	assert_string_equal(sms_api_form_get(&f, "ToState"), "District Of Columbia");
	assert_string_equal(sms_api_form_get(&f, "ToCity"), "");
	assert_null(sms_api_form_get(&f, "Nope"));
	sms_api_form_free(&f);
	free(body);
	assert_int_equal(sms_api_form_parse("Body=caf%C3%A9+%E2%82%AC&&x", 27, &f), 0);
	assert_string_equal(sms_api_form_get(&f, "Body"), "café €");
	assert_string_equal(sms_api_form_get(&f, "x"), "");
	sms_api_form_free(&f);
	/* A broken escape or a NUL is malformed, not read otherwise. */
	assert_int_equal(sms_api_form_parse("Body=50%", 8, &f), -CB_EPARSE);
	assert_int_equal(sms_api_form_parse("Body=%zz1", 9, &f), -CB_EPARSE);
	assert_int_equal(sms_api_form_parse("Body=a%00b", 10, &f), -CB_EPARSE);
	assert_int_equal(sms_api_form_parse("", 0, &f), 0);
	assert_int_equal(f.n, 0);
}

static void test_form_too_many_fields(void **state)
{
	char body[SMS_FORM_PARAMS_MAX * 4 + 16];
	struct sms_form f;
	size_t at = 0;

	(void)state;
	for (int i = 0; i <= SMS_FORM_PARAMS_MAX; i++)
		at += (size_t)sprintf(body + at, "%sa=", i > 0 ? "&" : "");
	assert_int_equal(sms_api_form_parse(body, at, &f), -CB_ETOOBIG);
}

static void test_inbound(void **state)
{
	struct inbound_event *ev = malloc(sizeof(*ev));
	struct sms_form f;
	size_t len;
	char *body = slurp(DIR "courier_receive_valid.txt", &len);

	(void)state;
	assert_int_equal(sms_api_form_parse(body, len, &f), 0);
	assert_int_equal(sms_api_parse_inbound(&f, 1700000000, ev), 0);
	assert_string_equal(ev->channel, "sms");
	assert_string_equal(ev->external_id, "SMe287d7109a5a925f182f0e07fe5b223b");
	assert_string_equal(ev->sender, "+14133881111");
	assert_string_equal(ev->text, "Msg");
	assert_int_equal(ev->kind, EVENT_TEXT);
	assert_int_equal(ev->at, 1700000000);
	sms_api_form_free(&f);
	free(body);

	/* A picture alone is nothing casebot reads; with a body, the body. */
	body = slurp(DIR "courier_receive_media.txt", &len);
	assert_int_equal(sms_api_form_parse(body, len, &f), 0);
	assert_int_equal(sms_api_parse_inbound(&f, 1, ev), 0);
	assert_int_equal(ev->kind, EVENT_OTHER);
	sms_api_form_free(&f);
	free(body);
	body = slurp(DIR "courier_receive_media_with_msg.txt", &len);
	assert_int_equal(sms_api_form_parse(body, len, &f), 0);
	assert_int_equal(sms_api_parse_inbound(&f, 1, ev), 0);
	assert_int_equal(ev->kind, EVENT_TEXT);
	assert_string_equal(ev->text, "Msg");
	sms_api_form_free(&f);
	free(body);

	/* WhatsApp through Twilio is not this gateway's. */
	body = slurp(DIR "courier_receive_whatsapp.txt", &len);
	assert_int_equal(sms_api_form_parse(body, len, &f), 0);
	assert_int_equal(sms_api_parse_inbound(&f, 1, ev), SMS_IGNORED);
	sms_api_form_free(&f);
	free(body);

	/* No sid, a sender that is no number, a body that is not UTF-8. */
	assert_int_equal(sms_api_form_parse("From=%2B32470000001&Body=hi", 27, &f), 0);
	assert_int_equal(sms_api_parse_inbound(&f, 1, ev), -CB_EPARSE);
	sms_api_form_free(&f);
	assert_int_equal(sms_api_form_parse("MessageSid=SM1&From=0470&Body=hi", 32, &f), 0);
	assert_int_equal(sms_api_parse_inbound(&f, 1, ev), -CB_EPARSE);
	sms_api_form_free(&f);
	assert_int_equal(sms_api_form_parse("MessageSid=SM1&From=%2B32470000001&Body=%FF", 43, &f), 0);
	assert_int_equal(sms_api_parse_inbound(&f, 1, ev), -CB_EPARSE);
	sms_api_form_free(&f);
	free(ev);
}

/* Real Twilio fields: the sample inbound SMS of Twilio's own CLI plugin
 * (twilio-labs/plugin-webhook), as form fields. */
static void test_inbound_twilio_sample(void **state)
{
	cJSON *root = load("twilio_labs_plugin_webhook_sms.json");
	struct inbound_event *ev = malloc(sizeof(*ev));
	struct sms_form f;

	(void)state;
	form_of(cJSON_GetObjectItem(root, "body"), &f);
	assert_int_equal(sms_api_parse_inbound(&f, 5, ev), 0);
	assert_string_equal(ev->sender, "+15017122661");
	assert_string_equal(ev->external_id, cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetObjectItem(root, "body"),
										       "MessageSid")));
	assert_string_equal(ev->text, cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetObjectItem(root, "body"), "Body")));
	sms_api_form_free(&f);
	cJSON_Delete(root);
	free(ev);
}

static void status_of(const char *file, struct sms_status *st, int want)
{
	char path[256], *body;
	struct sms_form f;
	size_t len;

	snprintf(path, sizeof(path), DIR "%s", file);
	body = slurp(path, &len);
	assert_int_equal(sms_api_form_parse(body, len, &f), 0);
	assert_int_equal(sms_api_parse_status(&f, st), want);
	sms_api_form_free(&f);
	free(body);
}

static void test_status(void **state)
{
	struct sms_status st;
	struct sms_form f;

	(void)state;
	status_of("courier_status_delivered.txt", &st, 0);
	assert_int_equal(st.state, 2);
	assert_string_equal(st.sid, "SMe287d7109a5a925f182f0e07fe5b223b");
	status_of("courier_status_read.txt", &st, 0);
	assert_int_equal(st.state, 3);
	status_of("courier_status_failed_21610.txt", &st, 0);
	assert_int_equal(st.state, 5);
	assert_int_equal(st.error_code, 21610);
	status_of("courier_status_failed_63018.txt", &st, 0);
	assert_int_equal(st.error_code, 63018);
	status_of("courier_status_sent_messaging_service.txt", &st, 0);
	assert_int_equal(st.state, 1);
	status_of("courier_status_invalid_huh.txt", &st, -CB_EPARSE);
	assert_int_equal(sms_api_form_parse("MessageSid=SM1&MessageStatus=queued", 35, &f), 0);
	assert_int_equal(sms_api_parse_status(&f, &st), SMS_IGNORED);
	sms_api_form_free(&f);
	assert_int_equal(sms_api_form_parse("MessageSid=SM1&MessageStatus=undelivered&ErrorCode=30003", 56, &f), 0);
	assert_int_equal(sms_api_parse_status(&f, &st), 0);
	assert_int_equal(st.state, 5);
	assert_int_equal(st.error_code, 30003);
	sms_api_form_free(&f);
	assert_int_equal(sms_api_form_parse("MessageSid=SM1&MessageStatus=failed&ErrorCode=x1", 48, &f), 0);
	assert_int_equal(sms_api_parse_status(&f, &st), -CB_EPARSE);
	sms_api_form_free(&f);
}

static void test_classify(void **state)
{
	(void)state;
	assert_int_equal(sms_api_classify(400, 21610), SMS_OPTED_OUT);
	assert_int_equal(sms_api_classify(400, 30003), SMS_UNREACHABLE);
	assert_int_equal(sms_api_classify(400, 30005), SMS_UNREACHABLE);
	assert_int_equal(sms_api_classify(400, 63018), SMS_BACKOFF);
	assert_int_equal(sms_api_classify(429, 0), SMS_BACKOFF);
	assert_int_equal(sms_api_classify(429, 20429), SMS_BACKOFF);
	assert_int_equal(sms_api_classify(503, 0), SMS_TRANSIENT);
	assert_int_equal(sms_api_classify(0, 0), SMS_TRANSIENT);
	assert_int_equal(sms_api_classify(400, 21602), SMS_FAILED);
}

static void answer_of(const char *file, int status, long retry_after, struct sms_answer *a)
{
	char path[256], *body;
	size_t len;

	snprintf(path, sizeof(path), DIR "%s", file);
	body = slurp(path, &len);
	sms_api_parse_answer(status, body, len, retry_after, a);
	free(body);
}

static void test_answers(void **state)
{
	struct sms_answer a;

	(void)state;
	answer_of("twilio_python_create_message_response_201.json", 201, -1, &a);
	assert_int_equal(a.cls, SMS_SENT);
	assert_true(strncmp(a.sid, "SM", 2) == 0);
	answer_of("twilio_docs_testcreds_send_response.json", 201, -1, &a);
	assert_int_equal(a.cls, SMS_SENT);
	assert_string_equal(a.sid, "SM711c87aba9a3ed02554c91a7d503b64e");
	answer_of("courier_send_error_21610_stopped.json", 400, -1, &a);
	assert_int_equal(a.cls, SMS_OPTED_OUT);
	answer_of("courier_send_error_20429_throttled.json", 429, 7, &a);
	assert_int_equal(a.cls, SMS_BACKOFF);
	assert_int_equal(a.retry_after, 7);
	answer_of("twilio_docs_error_21614_not_mobile.json", 400, -1, &a);
	assert_int_equal(a.cls, SMS_UNREACHABLE);
	/* The number Twilio's message holds stays out of ours. */
	assert_null(strstr(a.message, "+1500"));
	answer_of("twilio_docs_error_21602_body_required.json", 400, -1, &a);
	assert_int_equal(a.cls, SMS_FAILED);
	assert_int_equal(a.code, 21602);
	sms_api_parse_answer(200, "{}", 2, -1, &a);
	assert_int_equal(a.cls, SMS_TRANSIENT);
	sms_api_parse_answer(502, "<html>", 6, -1, &a);
	assert_int_equal(a.cls, SMS_TRANSIENT);
}

/* The form of a send, read back as Twilio reads it. */
static void test_build_send(void **state)
{
	struct sms_send s = {"+32470123456", "+32460000000", "", "Reçu & 100% ok", strlen("Reçu & 100% ok"),
			     "https://bot.example.org/sms/hook/status", 5400};
	struct sms_form f;
	size_t len;
	char *out;

	(void)state;
	assert_int_equal(sms_api_build_send(&s, &out, &len), 0);
	assert_int_equal(sms_api_form_parse(out, len, &f), 0);
	assert_string_equal(sms_api_form_get(&f, "To"), "+32470123456");
	assert_string_equal(sms_api_form_get(&f, "From"), "+32460000000");
	assert_string_equal(sms_api_form_get(&f, "Body"), "Reçu & 100% ok");
	assert_string_equal(sms_api_form_get(&f, "StatusCallback"), "https://bot.example.org/sms/hook/status");
	assert_string_equal(sms_api_form_get(&f, "ValidityPeriod"), "5400");
	assert_null(sms_api_form_get(&f, "MessagingServiceSid"));
	sms_api_form_free(&f);
	free(out);
	/* A messaging service instead of From; the validity capped. */
	s.messaging_service_sid = "MG0123";
	s.validity = 99999;
	assert_int_equal(sms_api_build_send(&s, &out, &len), 0);
	assert_int_equal(sms_api_form_parse(out, len, &f), 0);
	assert_string_equal(sms_api_form_get(&f, "MessagingServiceSid"), "MG0123");
	assert_null(sms_api_form_get(&f, "From"));
	assert_string_equal(sms_api_form_get(&f, "ValidityPeriod"), "36000");
	sms_api_form_free(&f);
	free(out);
	s.messaging_service_sid = "";
	s.from = "";
	assert_int_equal(sms_api_build_send(&s, &out, &len), -CB_EINVAL);
}

/* Twilio's segment calculator's own test cases. */
static void test_segments_twilio_calculator(void **state)
{
	cJSON *root = load("gsm_segment_vectors.json"), *v;
	int checked = 0;

	(void)state;
	cJSON_ArrayForEach(v, cJSON_GetObjectItem(cJSON_GetObjectItem(root, "twilio_segment_calculator"), "vectors")) {
		const char *text = cJSON_GetStringValue(cJSON_GetObjectItem(v, "text"));
		const char *enc = cJSON_GetStringValue(cJSON_GetObjectItem(v, "encoding"));
		const cJSON *segs = cJSON_GetObjectItem(v, "segments");
		enum sms_encoding e;
		int want, got;

		if (text == NULL || !cJSON_IsNumber(segs))
			continue;
		want = segs->valueint;
		got = sms_api_segments(text, strlen(text), &e, NULL);

		if (got != want)
			fail_msg("%s: %d segments, expected %d", cJSON_GetStringValue(cJSON_GetObjectItem(v, "test")), got,
				 want);
		if (enc != NULL)
			assert_int_equal(e, strcmp(enc, "GSM-7") == 0 ? SMS_GSM7 : SMS_UCS2);
		checked++;
	}
	assert_true(checked >= 20);
	cJSON_Delete(root);
}

static void test_segments_edges(void **state)
{
	char buf[400];
	enum sms_encoding e;
	size_t units;

	(void)state;
	memset(buf, 'a', sizeof(buf));
	assert_int_equal(sms_api_segments(buf, 160, &e, &units), 1);
	assert_int_equal(e, SMS_GSM7);
	assert_int_equal(units, 160);
	assert_int_equal(sms_api_segments(buf, 161, NULL, NULL), 2);
	assert_int_equal(sms_api_segments(buf, 306, NULL, NULL), 2);
	assert_int_equal(sms_api_segments(buf, 307, NULL, NULL), 3);
	/* The extension table counts two. */
	memcpy(buf, "{}", 2);
	assert_int_equal(sms_api_segments(buf, 159, &e, &units), 2);
	assert_int_equal(units, 161);
	/* One "reçu" makes it UCS-2: 70 a message, 67 a part. */
	memset(buf, 'a', sizeof(buf));
	memcpy(buf, "re\xc3\xa7u", 5);
	assert_int_equal(sms_api_segments(buf, 72, &e, &units), 2);
	assert_int_equal(e, SMS_UCS2);
	assert_int_equal(units, 71);
	assert_int_equal(sms_api_segments(buf, 71, NULL, NULL), 1);
	assert_int_equal(sms_api_segments("", 0, &e, NULL), 1);
	assert_int_equal(sms_api_segments("\xff", 1, NULL, NULL), 0);
	/* é, è, ü, ä, ö, à are GSM-7; ê, ç, ë, ï, œ are not. */
	assert_int_equal(sms_api_segments("éèüäöàÉÇ", strlen("éèüäöàÉÇ"), &e, NULL), 1);
	assert_int_equal(e, SMS_GSM7);
	for (const char *const *p = (const char *const[]){"ê", "â", "î", "ô", "û", "ë", "ï", "ç", "œ", NULL}; *p; p++) {
		sms_api_segments(*p, strlen(*p), &e, NULL);
		assert_int_equal(e, SMS_UCS2);
	}
}

static void translit(const char *in, const char *want)
{
	size_t len;
	char *out;
	enum sms_encoding e;

	assert_int_equal(sms_api_transliterate(in, strlen(in), &out, &len), 0);
	assert_string_equal(out, want);
	assert_int_equal(len, strlen(want));
	sms_api_segments(out, len, &e, NULL);
	if (strcmp(want, "日本") != 0)
		assert_int_equal(e, SMS_GSM7);
	free(out);
}

static void test_transliterate(void **state)
{
	(void)state;
	translit("Reçu, à bientôt : “été” – fenêtre, cœur, Noël, naïve…", "Recu, à bientot : \"été\" - fenetre, coeur, Noel, naive...");
	translit("Grüße aus Köln", "Grüße aus Köln");
	translit("België, ideeën", "Belgie, ideeen");
	translit("ÊTRE Œuvre", "ETRE OEuvre");
	/* What has no GSM-7 letter stays, and the text stays UCS-2. */
	translit("日本", "日本");
}

static void number(const char *typed, const char *want)
{
	char out[SMS_NUMBER_MAX];

	if (want == NULL) {
		if (sms_api_normalize_number(typed, out, sizeof(out)) != -CB_EINVAL)
			fail_msg("\"%s\" should be refused, got %s", typed, out);
		return;
	}
	if (sms_api_normalize_number(typed, out, sizeof(out)) != 0)
		fail_msg("\"%s\" should be %s", typed, want);
	assert_string_equal(out, want);
}

static void test_numbers(void **state)
{
	(void)state;
	number("+32470123456", "+32470123456");
	number("0470 12 34 56", "+32470123456");
	number("0470/12.34.56", "+32470123456");
	number("0470-123456", "+32470123456");
	number("+32 470 12 34 56", "+32470123456");
	number("0032 470 12 34 56", "+32470123456");
	number("02 123 45 67", "+3221234567");
	number("+33 6 12 34 56 78", "+33612345678");
	number("+1 (415) 867-5309", "+14158675309");
	/* Ambiguous or wrong: refused. */
	number("470123456", NULL);        /* no trunk 0, no country */
	number("32470123456", NULL);      /* a country without + */
	number("+32 0470 12 34 56", NULL);/* the trunk 0 after +32 */
	number("0470 12 34 5", NULL);     /* too short */
	number("0470 12 34 567", NULL);   /* too long */
	number("004701", NULL);           /* 00 then too short */
	number("+0470123456", NULL);
	number("+32 470 12 34 56 ext 2", NULL);
	number("0470  12", NULL);
	number("", NULL);
	number("+", NULL);
	number("0470 12 34 56a", NULL);
	number("+1234567890123456", NULL);
	assert_true(sms_api_is_e164("+32470123456"));
	assert_false(sms_api_is_e164("32470123456"));
	assert_false(sms_api_is_e164("+3247012345a"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_signature_docs_vector),
		cmocka_unit_test(test_signature_library_vectors),
		cmocka_unit_test(test_form_parse),
		cmocka_unit_test(test_form_too_many_fields),
		cmocka_unit_test(test_inbound),
		cmocka_unit_test(test_inbound_twilio_sample),
		cmocka_unit_test(test_status),
		cmocka_unit_test(test_classify),
		cmocka_unit_test(test_answers),
		cmocka_unit_test(test_build_send),
		cmocka_unit_test(test_segments_twilio_calculator),
		cmocka_unit_test(test_segments_edges),
		cmocka_unit_test(test_transliterate),
		cmocka_unit_test(test_numbers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
