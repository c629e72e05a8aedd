/* libFuzzer target for the SMS gateway's reading half: the input is a
 * webhook's form body, read as an inbound text and as a status callback
 * and checked against a signature; its values go through the segment
 * count and the transliteration; the input is also a send's JSON answer
 * and a number typed at the CLI. Every event it yields is written as the
 * inbound table would keep it and read back. Built apart from the tests,
 * and run, by make fuzz. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bot/casebot.h"
#include "bot/event.h"
#include "bot/event_json.h"
#include "bot/gateways/sms_api.h"

static char json[102400];
static struct inbound_event ev, back;

static void terminated(const char *s, size_t cap)
{
	if (memchr(s, '\0', cap) == NULL)
		abort();
}

static void values(const struct sms_form *f)
{
	for (int i = 0; i < f->n; i++) {
		const char *v = f->p[i].value;
		size_t len = f->p[i].value_len, tlen;
		enum sms_encoding e;
		size_t units;
		char *tr;
		int n = sms_api_segments(v, len, &e, &units);

		if (strlen(v) != len)
			abort();
		if (n < 0 || (n == 0 && len == 0))
			abort();
		if (n > 0 && (units > 4 * len + 2 || (e == SMS_GSM7 && units <= 160 && n != 1)))
			abort();
		if (sms_api_transliterate(v, len, &tr, &tlen) == 0) {
			/* What comes out is text a phone reads, never longer in
			 * segments than what went in, and the same a second time. */
			char *again;
			size_t alen;

			if (n == 0 || strlen(tr) != tlen || sms_api_segments(tr, tlen, NULL, NULL) == 0)
				abort();
			if (sms_api_transliterate(tr, tlen, &again, &alen) != 0 || alen != tlen || memcmp(again, tr, tlen) != 0)
				abort();
			free(again);
			free(tr);
		} else if (n != 0) {
			abort();
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sms_form f;
	struct sms_status st;
	struct sms_answer a;
	char sig[SMS_SIGNATURE_MAX], number[SMS_NUMBER_MAX], typed[64];
	int rc;

	rc = sms_api_form_parse((const char *)data, size, &f);
	if (rc != 0 && rc != -CB_EPARSE && rc != -CB_ETOOBIG)
		abort();
	if (rc == 0) {
		for (int i = 0; i < f.n; i++)
			if (f.p[i].name == NULL || f.p[i].value == NULL)
				abort();
		rc = sms_api_parse_inbound(&f, 1700000000, &ev);
		terminated(ev.external_id, sizeof(ev.external_id));
		terminated(ev.sender, sizeof(ev.sender));
		terminated(ev.text, sizeof(ev.text));
		if (rc != 0 && rc != SMS_IGNORED && rc != -CB_EPARSE)
			abort();
		if (rc == 0) {
			if (!sms_api_is_e164(ev.sender) || ev.external_id[0] == '\0' || strcmp(ev.channel, "sms") != 0)
				abort();
			if (event_to_json(&ev, 0, json, sizeof(json)) != 0 ||
			    event_from_json(json, ev.channel, ev.external_id, ev.sender, &back) != 0 ||
			    back.kind != ev.kind || strcmp(back.text, ev.text) != 0)
				abort();
		}
		rc = sms_api_parse_status(&f, &st);
		terminated(st.sid, sizeof(st.sid));
		if (rc != 0 && rc != SMS_IGNORED && rc != -CB_EPARSE)
			abort();
		if (rc == 0 && (st.sid[0] == '\0' || (st.state != 1 && st.state != 2 && st.state != 3 && st.state != 5) ||
				st.error_code < 0))
			abort();
		/* A signature computed for the form is the one it checks. */
		if (sms_api_signature("token", "https://bot.example.org/sms/hook", &f, sig, sizeof(sig)) != 0 ||
		    !sms_api_signature_ok("token", "https://bot.example.org/sms/hook", &f, sig, strlen(sig)) ||
		    sms_api_signature_ok("tokeN", "https://bot.example.org/sms/hook", &f, sig, strlen(sig)))
			abort();
		values(&f);
		sms_api_form_free(&f);
	}
	sms_api_parse_answer(size > 0 ? 200 + data[0] % 400 : 200, (const char *)data, size, -1, &a);
	terminated(a.sid, sizeof(a.sid));
	terminated(a.message, sizeof(a.message));
	if (a.cls == SMS_SENT && a.sid[0] == '\0')
		abort();
	if (size < sizeof(typed)) {
		memcpy(typed, data, size);
		typed[size] = '\0';
		if (sms_api_normalize_number(typed, number, sizeof(number)) == 0 && !sms_api_is_e164(number))
			abort();
	}
	return 0;
}
