/* The web console without a socket: console_handle() on a real store and
 * the catalogs, with staff set up through the CLI. Also the pieces it is
 * built from: passwords, TOTP (the RFC 6238 vectors), tokens, CSRF and
 * escaping. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <liboath/oath.h>

#include "bot/config.h"
#include "bot/console/auth.h"
#include "bot/console/console.h"
#include "bot/console/html.h"
#include "bot/vault.h"
#include "handlers/handler.h"
#include "locales/locale.h"
#include "store/store.h"
#include "tests/support/testenv.h"

#define NOW 1767261600 /* 2026-01-01 10:00 UTC */
#define PASSWORD "correct horse battery"
#define CLI(t, ...) testenv_cli((t), __VA_ARGS__, (const char *)NULL)

struct fx {
	struct testenv env;
	struct config cfg;
	struct store *st;
	struct locales *loc;
	struct console console;
	struct hctx h;
	char secret[3][AUTH_TOTP_B32_MAX];   /* Sara, Ana, Marc */
	const char *peer;
};

static const char *const names[3] = {"Sara", "Ana", "Marc"};

/* The CLI reads the password from standard input: a pipe stands in. */
static int cli_password(struct testenv *t, const char *name, const char *pw)
{
	int fds[2], saved = dup(STDIN_FILENO), rc;

	if (saved < 0 || pipe(fds) != 0)
		return -1;
	if (write(fds[1], pw, strlen(pw)) < 0 || write(fds[1], "\n", 1) < 0)
		return -1;
	close(fds[1]);
	dup2(fds[0], STDIN_FILENO);
	close(fds[0]);
	clearerr(stdin);
	rc = CLI(t, "staff", "password", name);
	dup2(saved, STDIN_FILENO);
	close(saved);
	clearerr(stdin);
	return rc;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char err[512];

	if (f == NULL || testenv_setup(&f->env, NOW, NULL) != 0)
		return -1;
	if (CLI(&f->env, "init") != 0 ||
	    CLI(&f->env, "staff", "add", "Sara", "--role", "counsellor", "--lang", "nl") != 0 ||
	    CLI(&f->env, "staff", "add", "Ana", "--role", "counsellor", "--lang", "en") != 0 ||
	    CLI(&f->env, "staff", "add", "Marc", "--role", "coordinator", "--lang", "fr") != 0 ||
	    CLI(&f->env, "family", "add", "F-001", "--lang", "fr", "--counsellor", "Sara", "--backup", "Ana") != 0 ||
	    CLI(&f->env, "family", "add", "F-002", "--lang", "nl", "--counsellor", "Ana") != 0 ||
	    CLI(&f->env, "member", "add", "F-001", "<b>Amina</b>", "--role", "parent") != 0) {
		fprintf(stderr, "setup: %s\n", f->env.err);
		return -1;
	}
	for (int i = 0; i < 3; i++) {
		const char *s;

		if (cli_password(&f->env, names[i], PASSWORD) != 0 || CLI(&f->env, "staff", "totp", names[i]) != 0 ||
		    (s = strstr(f->env.out, "secret=")) == NULL) {
			fprintf(stderr, "setup: %s\n", f->env.err);
			return -1;
		}
		s += 7;
		snprintf(f->secret[i], sizeof(f->secret[i]), "%.*s", (int)strcspn(s, "&"), s);
	}
	if (config_load(&f->cfg, f->env.conf, err, sizeof(err)) != 0 ||
	    store_open(f->cfg.data_dir, 0, &f->st, err, sizeof(err)) != 0 ||
	    locale_load(CASEBOT_LOCALES_DIR, &f->loc, err, sizeof(err)) != 0)
		return -1;
	console_init(&f->console, &f->cfg);
	f->h.cfg = &f->cfg;
	f->h.store = f->st;
	f->h.loc = f->loc;
	f->h.now = NOW;
	f->h.actor = "console";
	f->peer = "127.0.0.1";
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	store_close(f->st);
	locale_free(f->loc);
	testenv_teardown(&f->env);
	free(f);
	return 0;
}

static void request(struct fx *f, const char *method, const char *path, const char *body, const char *cookie,
		    struct console_response *res)
{
	struct console_request r = {method, path, body, body != NULL ? strlen(body) : 0, cookie, f->peer};

	console_handle(&f->console, &f->h, &r, res);
}

static const char *header(const struct console_response *res, const char *name, int nth)
{
	for (int i = 0; i < res->nheaders; i++)
		if (strcmp(res->headers[i].name, name) == 0 && nth-- == 0)
			return res->headers[i].value;
	return NULL;
}

/* The cookie NAME=VALUE a response sets, as a browser sends it back. */
static void cookie_of(const struct console_response *res, const char *name, char *out, size_t cap)
{
	const char *v;

	out[0] = '\0';
	for (int i = 0; (v = header(res, "set-cookie", i)) != NULL; i++)
		if (strncmp(v, name, strlen(name)) == 0 && v[strlen(name)] == '=')
			snprintf(out, cap, "%.*s", (int)strcspn(v, ";"), v);
}

static void csrf_of(const struct console_response *res, char *out, size_t cap)
{
	const char *at = strstr(res->body, "name=\"csrf\" value=\"");

	assert_non_null(at);
	at += strlen("name=\"csrf\" value=\"");
	snprintf(out, cap, "%.*s", (int)strcspn(at, "\""), at);
}

static void code_at(const char *secret, time_t now, char out[8])
{
	char *raw = NULL, padded[80];
	size_t len = 0;

	snprintf(padded, sizeof(padded), "%s", secret);
	while (strlen(padded) % 8 != 0)
		strcat(padded, "=");
	assert_int_equal(oath_base32_decode(padded, strlen(padded), &raw, &len), OATH_OK);
	assert_int_equal(oath_totp_generate(raw, len, now, 30, 0, 6, out), OATH_OK);
	free(raw);
}

/* One login attempt; the answer is left in res. */
static void try_login(struct fx *f, const char *name, const char *password, const char *code,
		      struct console_response *res)
{
	struct console_response page;
	char cookie[128], csrf[80], body[512];

	request(f, "GET", "/login", NULL, NULL, &page);
	assert_int_equal(page.status, 200);
	cookie_of(&page, CONSOLE_LOGIN_COOKIE, cookie, sizeof(cookie));
	csrf_of(&page, csrf, sizeof(csrf));
	console_response_free(&page);
	snprintf(body, sizeof(body), "csrf=%s&name=%s&password=%s&code=%s", csrf, name, password, code);
	for (char *p = body; *p != '\0'; p++)
		if (*p == ' ')
			*p = '+';
	request(f, "POST", "/login", body, cookie, res);
}

/* Signs in staff member i and returns the session cookie. */
static void login(struct fx *f, int i, char *cookie, size_t cap)
{
	struct console_response res;
	char code[8];

	/* A code works once: every login in a test is a step later. */
	f->h.now += 30;
	code_at(f->secret[i], f->h.now, code);
	try_login(f, names[i], PASSWORD, code, &res);
	assert_int_equal(res.status, 303);
	assert_string_equal(header(&res, "location", 0), "/");
	cookie_of(&res, CONSOLE_SESSION_COOKIE, cookie, cap);
	assert_int_equal(strlen(cookie), strlen(CONSOLE_SESSION_COOKIE) + 1 + 64);
	console_response_free(&res);
}

static long long audit_count(struct fx *f, const char *where)
{
	char sql[512];

	snprintf(sql, sizeof(sql), "SELECT count(*) FROM audit WHERE %s", where);
	return testenv_query_int(&f->env, sql);
}

/* RFC 6238 appendix B, for SHA-1, SHA-256 and SHA-512. */
static void test_totp_rfc6238_vectors(void **state)
{
	static const char *const secrets[3] = {
		"GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ",
		"GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZA",
		"GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
		"GEZDGNA",
	};
	static const int flags[3] = {0, OATH_TOTP_HMAC_SHA256, OATH_TOTP_HMAC_SHA512};
	static const struct {
		time_t t;
		const char *code[3];
	} v[] = {
		{59, {"94287082", "46119246", "90693936"}},
		{1111111109, {"07081804", "68084774", "25091201"}},
		{1111111111, {"14050471", "67062674", "99943326"}},
		{1234567890, {"89005924", "91819424", "93441116"}},
		{2000000000, {"69279037", "90698825", "38618901"}},
		{(time_t)20000000000LL, {"65353130", "77737706", "47863826"}},
	};
	int64_t step;

	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		for (int a = 0; a < 3; a++) {
			step = -1;
			assert_int_equal(auth_totp_check(secrets[a], v[i].t, v[i].code[a], flags[a], &step), 0);
			assert_int_equal(step, (int64_t)(v[i].t / 30));
		}
	/* One step either side is allowed, two are not; a wrong code and a
	 * code that is no code fail. */
	assert_int_equal(auth_totp_check(secrets[0], 59 + 30, "94287082", 0, &step), 0);
	assert_int_equal(auth_totp_check(secrets[0], 59 + 60, "94287082", 0, &step), -CB_EPERM);
	assert_int_equal(auth_totp_check(secrets[0], 59, "94287083", 0, &step), -CB_EPERM);
	assert_int_equal(auth_totp_check(secrets[0], 59, "9428708a", 0, &step), -CB_EPERM);
	assert_int_equal(auth_totp_check(secrets[0], 59, "", 0, &step), -CB_EPERM);
}

static void test_totp_uri(void **state)
{
	char secret[AUTH_TOTP_B32_MAX], other[AUTH_TOTP_B32_MAX], uri[256];

	(void)state;
	assert_int_equal(auth_totp_new(secret), 0);
	assert_int_equal(auth_totp_new(other), 0);
	assert_int_equal(strlen(secret), 32);
	assert_string_not_equal(secret, other);
	assert_int_equal(auth_totp_uri("casebot", "Anne Marie", secret, uri, sizeof(uri)), 0);
	assert_int_equal(strncmp(uri, "otpauth://totp/casebot:Anne%20Marie?secret=", 43), 0);
	assert_non_null(strstr(uri, secret));
}

static void test_password(void **state)
{
	char hash[AUTH_PWHASH_MAX], again[AUTH_PWHASH_MAX];

	(void)state;
	assert_int_equal(auth_password_hash(PASSWORD, hash), 0);
	assert_int_equal(strncmp(hash, "$argon2id$", 10), 0);
	assert_int_equal(auth_password_check(hash, PASSWORD), 0);
	assert_int_equal(auth_password_check(hash, "correct horse battery "), -CB_EPERM);
	assert_int_equal(auth_password_check(hash, ""), -CB_EPERM);
	assert_int_equal(auth_password_check("", PASSWORD), -CB_EPERM);
	assert_int_equal(auth_password_check(NULL, PASSWORD), -CB_EPERM);
	/* Salted: the same password hashes differently each time. */
	assert_int_equal(auth_password_hash(PASSWORD, again), 0);
	assert_string_not_equal(hash, again);
	assert_int_equal(auth_password_hash("short", hash), -CB_EINVAL);
}

static void test_tokens_and_csrf(void **state)
{
	char a[AUTH_TOKEN_HEX], b[AUTH_TOKEN_HEX], ca[AUTH_TOKEN_HEX], cb[AUTH_TOKEN_HEX];
	unsigned char ha[AUTH_HASH_BYTES], hb[AUTH_HASH_BYTES];

	(void)state;
	auth_token_new(a);
	auth_token_new(b);
	assert_int_equal(strlen(a), 64);
	assert_string_not_equal(a, b);
	assert_int_equal(auth_token_hash(a, ha), 0);
	assert_int_equal(auth_token_hash(b, hb), 0);
	assert_memory_not_equal(ha, hb, sizeof(ha));
	assert_int_equal(auth_token_hash("abc", ha), -CB_EINVAL);
	assert_int_equal(auth_csrf(a, ca), 0);
	assert_int_equal(auth_csrf(b, cb), 0);
	assert_string_not_equal(ca, a);
	assert_int_equal(auth_csrf_check(a, ca), 0);
	assert_int_equal(auth_csrf_check(b, ca), -CB_EPERM);
	assert_int_equal(auth_csrf_check(a, NULL), -CB_EPERM);
	assert_int_equal(auth_csrf_check(a, ""), -CB_EPERM);
	ca[10] = ca[10] == '0' ? '1' : '0';
	assert_int_equal(auth_csrf_check(a, ca), -CB_EPERM);
}

static void test_escaping(void **state)
{
	struct html h = {0};

	(void)state;
	html_text(&h, "<a href=\"x\" onclick='y'>&amp;</a>");
	assert_string_equal(h.buf, "&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;amp;&lt;/a&gt;");
	html_free(&h);
	html_csv(&h, "=HYPERLINK(\"x\")");
	html_raw(&h, ",");
	html_csv(&h, "plain");
	html_raw(&h, ",");
	html_csv(&h, "@SUM");
	assert_string_equal(h.buf, "\"'=HYPERLINK(\"\"x\"\")\",\"plain\",\"'@SUM\"");
	html_free(&h);
}

static void assert_security_headers(const struct console_response *res)
{
	const char *csp = header(res, "content-security-policy", 0);

	assert_non_null(csp);
	assert_non_null(strstr(csp, "frame-ancestors 'none'"));
	assert_non_null(strstr(csp, "default-src 'none'"));
	assert_null(strstr(csp, "unsafe-inline"));
	assert_null(strstr(csp, "unsafe-eval"));
	/* Scripts from the console's own files only, never inline. */
	assert_non_null(strstr(csp, "script-src 'self';"));
	assert_string_equal(header(res, "referrer-policy", 0), "no-referrer");
	assert_string_equal(header(res, "cache-control", 0), "no-store");
	assert_string_equal(header(res, "x-content-type-options", 0), "nosniff");
}

static void test_login_and_session(void **state)
{
	struct fx *f = *state;
	struct console_response res;
	char cookie[128];
	const char *set;

	request(f, "GET", "/", NULL, NULL, &res);
	assert_int_equal(res.status, 303);
	assert_string_equal(header(&res, "location", 0), "/login");
	console_response_free(&res);
	login(f, 0, cookie, sizeof(cookie));
	assert_int_equal(audit_count(f, "action = 'console.login' AND actor = 'console:Sara'"), 1);
	/* The cookie as set: HttpOnly and SameSite=Strict, not Secure over
	 * plain HTTP. The store keeps only its hash. */
	request(f, "GET", "/", NULL, cookie, &res);
	assert_int_equal(res.status, 200);
	assert_non_null(strstr(res.body, "Overzicht"));
	assert_non_null(strstr(res.body, "lang=\"nl\""));
	console_response_free(&res);
	f->h.now += 30;
	{
		char code[8];

		code_at(f->secret[0], f->h.now, code);
		try_login(f, "Sara", PASSWORD, code, &res);
		set = header(&res, "set-cookie", 0);
		assert_non_null(strstr(set, "HttpOnly"));
		assert_non_null(strstr(set, "SameSite=Strict"));
		assert_null(strstr(set, "Secure"));
		console_response_free(&res);
	}
	assert_int_equal(testenv_query_int(&f->env, "SELECT count(*) FROM console_sessions WHERE length(token_hash) = 32"),
			 2);
	{
		char sql[256];

		snprintf(sql, sizeof(sql), "SELECT count(*) FROM console_sessions WHERE hex(token_hash) LIKE '%%%.16s%%'",
			 cookie + strlen(CONSOLE_SESSION_COOKIE) + 1);
		assert_int_equal(testenv_query_int(&f->env, sql), 0);
	}
}

/* A code used once does not let anyone in again. */
static void test_totp_code_works_once(void **state)
{
	struct fx *f = *state;
	struct console_response res;
	char code[8];

	f->h.now += 30;
	code_at(f->secret[0], f->h.now, code);
	try_login(f, "Sara", PASSWORD, code, &res);
	assert_int_equal(res.status, 303);
	console_response_free(&res);
	try_login(f, "Sara", PASSWORD, code, &res);
	assert_int_equal(res.status, 401);
	console_response_free(&res);
}

/* A wrong code, a wrong password and an unknown name read the same. */
static void test_login_failures_read_the_same(void **state)
{
	struct fx *f = *state;
	struct console_response a, b, c;
	char code[8], wrong[8];

	f->h.now += 30;
	code_at(f->secret[0], f->h.now, code);
	snprintf(wrong, sizeof(wrong), "%06d", (atoi(code) + 1) % 1000000);
	try_login(f, "Sara", PASSWORD, wrong, &a);
	try_login(f, "Sara", "wrong password!", code, &b);
	try_login(f, "Nobody", PASSWORD, code, &c);
	assert_int_equal(a.status, 401);
	assert_int_equal(b.status, 401);
	assert_int_equal(c.status, 401);
	assert_null(header(&a, "location", 0));
	/* The forms differ only by their CSRF token. */
	assert_non_null(strstr(a.body, "Aanmelden mislukt"));
	assert_int_equal(a.len, b.len);
	assert_int_equal(a.len, c.len);
	console_response_free(&a);
	console_response_free(&b);
	console_response_free(&c);
	assert_int_equal(audit_count(f, "action = 'console.login_failed'"), 3);
	assert_int_equal(testenv_query_int(&f->env, "SELECT count(*) FROM console_sessions"), 0);
}

/* Past five failures in 15 minutes each try waits, for the account and
 * for the address, whatever the outcome; after the window it is free
 * again. */
static void test_login_slowed(void **state)
{
	struct fx *f = *state;
	struct console_response res;
	char code[8];

	for (int i = 0; i < CONSOLE_FAIL_FREE; i++) {
		try_login(f, "Sara", "wrong password!", "000000", &res);
		assert_int_equal(res.status, 401);
		assert_int_equal(res.delay_ms, 0);
		console_response_free(&res);
	}
	f->h.now += 30;
	code_at(f->secret[0], f->h.now, code);
	try_login(f, "Sara", PASSWORD, code, &res);
	assert_int_equal(res.status, 303);
	assert_true(res.delay_ms >= 1000);
	console_response_free(&res);
	/* Another account from the same address waits too; from another
	 * address it does not. */
	try_login(f, "Ana", "wrong password!", "000000", &res);
	assert_true(res.delay_ms >= 1000);
	console_response_free(&res);
	f->peer = "192.0.2.7";
	try_login(f, "Marc", "wrong password!", "000000", &res);
	assert_int_equal(res.delay_ms, 0);
	console_response_free(&res);
	/* The same account from elsewhere waits. */
	try_login(f, "Sara", "wrong password!", "000000", &res);
	assert_true(res.delay_ms >= 1000);
	console_response_free(&res);
	f->h.now += CONSOLE_FAIL_WINDOW + 1;
	f->peer = "127.0.0.1";
	try_login(f, "Sara", "wrong password!", "000000", &res);
	assert_int_equal(res.delay_ms, 0);
	console_response_free(&res);
}

static void test_session_idle_and_absolute(void **state)
{
	struct fx *f = *state;
	struct console_response res;
	char cookie[128];

	login(f, 0, cookie, sizeof(cookie));
	f->h.now += CONSOLE_IDLE_SECONDS - 60;
	request(f, "GET", "/", NULL, cookie, &res);
	assert_int_equal(res.status, 200);
	console_response_free(&res);
	f->h.now += CONSOLE_IDLE_SECONDS + 1;
	request(f, "GET", "/", NULL, cookie, &res);
	assert_int_equal(res.status, 303);
	assert_string_equal(header(&res, "location", 0), "/login");
	console_response_free(&res);

	/* In use all the time, it still ends after 12 hours. */
	login(f, 0, cookie, sizeof(cookie));
	for (int i = 0; i < 12 * 3 - 1; i++) {
		f->h.now += 20 * 60;
		request(f, "GET", "/", NULL, cookie, &res);
		assert_int_equal(res.status, 200);
		console_response_free(&res);
	}
	f->h.now += 20 * 60 + 1;
	request(f, "GET", "/", NULL, cookie, &res);
	assert_int_equal(res.status, 303);
	console_response_free(&res);
}

static void test_logout_and_csrf(void **state)
{
	struct fx *f = *state;
	struct console_response res;
	char cookie[128], csrf[80], body[128];

	login(f, 0, cookie, sizeof(cookie));
	request(f, "GET", "/", NULL, cookie, &res);
	csrf_of(&res, csrf, sizeof(csrf));
	console_response_free(&res);
	/* Without the token, or with another session's, a POST is refused
	 * and does nothing. */
	request(f, "POST", "/logout", "", cookie, &res);
	assert_int_equal(res.status, 403);
	assert_security_headers(&res);
	console_response_free(&res);
	request(f, "POST", "/logout", "csrf=00", cookie, &res);
	assert_int_equal(res.status, 403);
	console_response_free(&res);
	request(f, "POST", "/families/F-001/write", "text=hello", cookie, &res);
	assert_int_equal(res.status, 403);
	console_response_free(&res);
	assert_int_equal(audit_count(f, "action = 'console.write'"), 0);
	request(f, "GET", "/", NULL, cookie, &res);
	assert_int_equal(res.status, 200);
	console_response_free(&res);
	/* With it, the session ends and its cookie no longer works. */
	snprintf(body, sizeof(body), "csrf=%s", csrf);
	request(f, "POST", "/logout", body, cookie, &res);
	assert_int_equal(res.status, 303);
	assert_string_equal(header(&res, "location", 0), "/login");
	console_response_free(&res);
	request(f, "GET", "/", NULL, cookie, &res);
	assert_int_equal(res.status, 303);
	console_response_free(&res);
	assert_int_equal(testenv_query_int(&f->env, "SELECT count(*) FROM console_sessions"), 0);
}

/* The same headers on every kind of answer. */
static void test_headers_everywhere(void **state)
{
	struct fx *f = *state;
	struct console_response res;
	char cookie[128];
	const char *paths[] = {"/", "/families/F-001", "/families/NOPE", "/nothing", "/console.css",
			       "/export/no-channel.csv", "/?list=no-channel"};

	request(f, "GET", "/login", NULL, NULL, &res);
	assert_security_headers(&res);
	console_response_free(&res);
	request(f, "GET", "/", NULL, NULL, &res);
	assert_security_headers(&res);
	console_response_free(&res);
	login(f, 2, cookie, sizeof(cookie));
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		request(f, "GET", paths[i], NULL, cookie, &res);
		assert_security_headers(&res);
		/* No inline script and no inline style anywhere: the one script
		 * is a file. */
		for (const char *s = res.body; (s = strstr(s, "<script")) != NULL; s++)
			assert_int_equal(strncmp(s, "<script src=\"/console.js\" defer></script>", 41), 0);
		/* No event handler attribute (on...=) either. */
		for (const char *s = res.body; (s = strstr(s, " on")) != NULL; s++) {
			size_t n = strspn(s + 3, "abcdefghijklmnopqrstuvwxyz");

			assert_false(n > 0 && s[3 + n] == '=');
		}
		assert_null(strstr(res.body, "style="));
		console_response_free(&res);
	}
}

/* A counsellor sees their families, and those they back up while the
 * counsellor is away; a coordinator sees all. Views and refusals are
 * audited. */
static void test_scope(void **state)
{
	struct fx *f = *state;
	struct console_response res;
	char sara[128], ana[128], marc[128];
	struct staff s;

	login(f, 0, sara, sizeof(sara));
	login(f, 1, ana, sizeof(ana));
	login(f, 2, marc, sizeof(marc));
	request(f, "GET", "/families/F-002", NULL, sara, &res);
	assert_int_equal(res.status, 404);
	assert_null(strstr(res.body, "F-002"));
	console_response_free(&res);
	assert_int_equal(audit_count(f, "action = 'scope.refused' AND actor = 'console:Sara' AND family_ref = 'F-002'"),
			 1);
	/* An unknown family reads the same, audited without a reference. */
	request(f, "GET", "/families/F-999", NULL, sara, &res);
	assert_int_equal(res.status, 404);
	console_response_free(&res);
	assert_int_equal(audit_count(f, "action = 'scope.refused' AND actor = 'console:Sara' AND family_ref IS NULL"), 1);

	/* Ana backs up F-001, but Sara is not away. */
	request(f, "GET", "/families/F-001", NULL, ana, &res);
	assert_int_equal(res.status, 404);
	console_response_free(&res);
	request(f, "GET", "/?list=no-channel", NULL, ana, &res);
	assert_null(strstr(res.body, "/families/F-001"));
	assert_non_null(strstr(res.body, "/families/F-002"));
	console_response_free(&res);
	assert_int_equal(store_staff_get(f->st, "Sara", &s), 0);
	assert_int_equal(store_staff_set_away(f->st, s.id, 1), 0);
	request(f, "GET", "/families/F-001", NULL, ana, &res);
	assert_int_equal(res.status, 200);
	console_response_free(&res);
	assert_int_equal(audit_count(f, "action = 'console.view' AND actor = 'console:Ana' AND family_ref = 'F-001'"), 1);

	request(f, "GET", "/families/F-002", NULL, marc, &res);
	assert_int_equal(res.status, 200);
	console_response_free(&res);
	request(f, "GET", "/families/F-001", NULL, marc, &res);
	assert_int_equal(res.status, 200);
	/* Marc reads French; the member's name is escaped. */
	assert_non_null(strstr(res.body, "Famille F-001"));
	assert_non_null(strstr(res.body, "&lt;b&gt;Amina&lt;/b&gt;"));
	assert_null(strstr(res.body, "<b>Amina"));
	console_response_free(&res);
}

/* A family never reached is in the overview, under "nothing sent"; once
 * written to, under "we wrote"; once it answers, in neither. The export
 * is audited. */
static void test_overview_not_reached(void **state)
{
	struct fx *f = *state;
	struct console_response res;
	char cookie[128];
	struct family fam;

	login(f, 0, cookie, sizeof(cookie));
	request(f, "GET", "/?list=not-reached-silent", NULL, cookie, &res);
	assert_int_equal(res.status, 200);
	assert_non_null(strstr(res.body, "14 dagen niet bereikt: niets verstuurd"));
	assert_non_null(strstr(res.body, "href=\"/families/F-001\""));
	/* Sara's list has only her family. */
	assert_null(strstr(res.body, "F-002"));
	console_response_free(&res);

	assert_int_equal(store_family_get(f->st, "F-001", &fam), 0);
	assert_int_equal(store_contact_add(f->st, fam.id, f->h.now - 3600, "out", "telegram", "checkin", 0, 0,
					   "checkin.question", NULL, "sent"),
			 0);
	request(f, "GET", "/?list=not-reached-silent", NULL, cookie, &res);
	assert_null(strstr(res.body, "href=\"/families/F-001\""));
	console_response_free(&res);
	request(f, "GET", "/export/not-reached-wrote.csv", NULL, cookie, &res);
	assert_int_equal(res.status, 200);
	assert_string_equal(res.content_type, "text/csv; charset=utf-8");
	assert_non_null(strstr(res.body, "\"F-001\",\"Sara\",\"nooit\",\"wij schreven, geen antwoord\""));
	console_response_free(&res);
	assert_int_equal(audit_count(f, "action = 'console.export' AND detail = 'not-reached-wrote'"), 1);

	assert_int_equal(store_contact_add(f->st, fam.id, f->h.now - 60, "in", "telegram", "text", 0, 0, "text",
					   NULL, NULL),
			 0);
	request(f, "GET", "/?list=not-reached-wrote", NULL, cookie, &res);
	assert_null(strstr(res.body, "href=\"/families/F-001\""));
	console_response_free(&res);
	/* That message is unanswered now. */
	request(f, "GET", "/?list=unanswered", NULL, cookie, &res);
	assert_non_null(strstr(res.body, "href=\"/families/F-001\""));
	console_response_free(&res);
}

/* The caseload: numbers in the chart's titles, the median wait for an
 * answer; a counsellor sees only their own, a coordinator everyone's. */
/* The family page says, per member, whether voice notes are on. */
static void test_family_page_voice(void **state)
{
	struct fx *f = *state;
	struct console_response res;
	char sara[128];

	login(f, 0, sara, sizeof(sara));
	request(f, "GET", "/families/F-001", NULL, sara, &res);
	assert_int_equal(res.status, 200);
	assert_non_null(strstr(res.body, "Spraakberichten"));
	assert_non_null(strstr(res.body, "<td>uit</td>"));
	console_response_free(&res);
	assert_int_equal(store_member_set_voice(f->st, 1, 1), 0);
	request(f, "GET", "/families/F-001", NULL, sara, &res);
	assert_non_null(strstr(res.body, "<td>aan</td>"));
	console_response_free(&res);
}

static void test_caseload(void **state)
{
	struct fx *f = *state;
	struct console_response res;
	char sara[128], marc[128];
	struct family fam;

	assert_int_equal(store_family_get(f->st, "F-001", &fam), 0);
	assert_int_equal(store_contact_add(f->st, fam.id, f->h.now - 2 * 86400, "in", "telegram", "text", 0, 0, "text",
					   NULL, NULL),
			 0);
	assert_int_equal(store_contact_add(f->st, fam.id, f->h.now - 2 * 86400 + 5400, "internal", NULL, "reply", 1, 0,
					   "reply", NULL, NULL),
			 0);
	assert_int_equal(store_contact_add(f->st, fam.id, f->h.now - 2 * 86400 + 5401, "out", "telegram", "reply", 1,
					   0, "reply.from_counsellor", NULL, "sent"),
			 0);
	login(f, 0, sara, sizeof(sara));
	login(f, 2, marc, sizeof(marc));
	request(f, "GET", "/caseload", NULL, sara, &res);
	assert_int_equal(res.status, 200);
	assert_non_null(strstr(res.body, "<svg"));
	assert_non_null(strstr(res.body, "Contacten per week van Sara over 12 weken: 1 van gezinnen, 1 naar gezinnen"));
	assert_non_null(strstr(res.body, "1 u 30 min"));
	assert_null(strstr(res.body, "<h2>Ana"));
	console_response_free(&res);
	request(f, "GET", "/caseload", NULL, marc, &res);
	assert_int_equal(res.status, 200);
	assert_non_null(strstr(res.body, "<h2>Sara"));
	assert_non_null(strstr(res.body, "<h2>Ana"));
	/* Marc holds no family: no row of his own. */
	assert_null(strstr(res.body, "<h2>Marc"));
	console_response_free(&res);
}

/* A POST with the session's CSRF token; the answer is left in res. */
static void post(struct fx *f, const char *cookie, const char *path, const char *fields,
		 struct console_response *res)
{
	struct console_response page;
	char csrf[80], body[1024];

	request(f, "GET", "/", NULL, cookie, &page);
	csrf_of(&page, csrf, sizeof(csrf));
	console_response_free(&page);
	snprintf(body, sizeof(body), "csrf=%s%s%s", csrf, fields[0] != '\0' ? "&" : "", fields);
	request(f, "POST", path, body, cookie, res);
}

/* A POST that must go back to the family page. */
static void post_ok(struct fx *f, const char *cookie, const char *path, const char *fields)
{
	struct console_response res;

	post(f, cookie, path, fields, &res);
	if (res.status != 303)
		fprintf(stderr, "%s: %d\n%s\n", path, res.status, res.body);
	assert_int_equal(res.status, 303);
	assert_int_equal(strncmp(header(&res, "location", 0), "/families/F-001", 15), 0);
	console_response_free(&res);
}

static int post_status(struct fx *f, const char *cookie, const char *path, const char *fields)
{
	struct console_response res;
	int status;

	post(f, cookie, path, fields, &res);
	status = res.status;
	console_response_free(&res);
	return status;
}

/* Appointments added, moved and cancelled, a document asked for, a
 * check-in plan set and stopped, a chat unlinked and the file closed,
 * from the family page; each audited. Another counsellor is refused each
 * of them, audited, and nothing changes. */
static void test_family_actions(void **state)
{
	struct fx *f = *state;
	struct console_response res;
	char sara[128], ana[128], path[128];
	struct family fam;
	struct checkin_plan plan;
	struct channel ch;
	long long id;

	assert_int_equal(store_family_get(f->st, "F-001", &fam), 0);
	assert_int_equal(store_channel_link(f->st, fam.id, 0, 0, "telegram", "4242", f->h.now, &ch), 0);
	login(f, 0, sara, sizeof(sara));
	login(f, 1, ana, sizeof(ana));

	request(f, "GET", "/families/F-001", NULL, sara, &res);
	assert_int_equal(res.status, 200);
	/* Every control has its label. */
	assert_non_null(strstr(res.body, "<label for=\"appt-at\">"));
	assert_non_null(strstr(res.body, "id=\"appt-at\""));
	assert_non_null(strstr(res.body, "<label for=\"doc-type\">"));
	assert_non_null(strstr(res.body, "<label for=\"checkin-every\">"));
	snprintf(path, sizeof(path), "action=\"/families/F-001/chats/%lld/unlink\"", (long long)ch.id);
	assert_non_null(strstr(res.body, path));
	console_response_free(&res);

	/* 2026-01-01 10:00 UTC is the clock: the 5th, 14:00 Brussels time. */
	post_ok(f, sara, "/families/F-001/appointments", "kind=lawyer&at=2026-01-05T14%3A00&place=Rue+Haute+1");
	assert_int_equal(testenv_query_int(&f->env, "SELECT count(*) FROM appointments WHERE kind = 'lawyer' AND "
						     "starts_at = 1767618000 AND place = 'Rue Haute 1'"),
			 1);
	id = testenv_query_int(&f->env, "SELECT id FROM appointments");
	assert_int_equal(audit_count(f, "action = 'appointment.add' AND actor = 'console:Sara' AND "
					"family_ref = 'F-001' AND detail = 'lawyer'"),
			 1);
	/* A time in the past, a kind that does not exist: nothing is added. */
	assert_int_equal(post_status(f, sara, "/families/F-001/appointments", "kind=lawyer&at=2025-01-05T14%3A00"),
			 422);
	assert_int_equal(post_status(f, sara, "/families/F-001/appointments", "kind=party&at=2026-01-05T14%3A00"),
			 422);
	assert_int_equal(testenv_query_int(&f->env, "SELECT count(*) FROM appointments"), 1);

	snprintf(path, sizeof(path), "/families/F-001/appointments/%lld/move", id);
	assert_int_equal(post_status(f, ana, path, "at=2026-01-06T09%3A30"), 404);
	post_ok(f, sara, path, "at=2026-01-06T09%3A30");
	assert_int_equal(testenv_query_int(&f->env, "SELECT starts_at FROM appointments"), 1767688200);
	assert_int_equal(audit_count(f, "action = 'appointment.move' AND family_ref = 'F-001'"), 1);
	snprintf(path, sizeof(path), "/families/F-001/appointments/%lld/cancel", id);
	post_ok(f, sara, path, "");
	assert_int_equal(testenv_query_int(&f->env, "SELECT count(*) FROM appointments WHERE status = 'cancelled'"), 1);
	assert_int_equal(audit_count(f, "action = 'appointment.cancel' AND family_ref = 'F-001'"), 1);
	/* Cancelled once is cancelled. */
	assert_int_equal(post_status(f, sara, path, ""), 409);

	post_ok(f, sara, "/families/F-001/documents/request", "type=passport&due=2026-01-20");
	assert_int_equal(testenv_query_int(&f->env, "SELECT count(*) FROM document_requests WHERE doc_type = 'passport' "
						     "AND due_date = '2026-01-20'"),
			 1);
	assert_int_equal(audit_count(f, "action = 'document.request' AND detail = 'passport'"), 1);
	assert_int_equal(post_status(f, sara, "/families/F-001/documents/request", "type=passport&due=2026-02-30"), 422);

	post_ok(f, sara, "/families/F-001/write", "text=Tot+dinsdag");
	post_ok(f, sara, "/families/F-001/checkin", "every=14&day=3&time=09%3A15");
	assert_int_equal(store_checkin_get(f->st, fam.id, &plan), 0);
	assert_true(plan.active);
	assert_int_equal(plan.every_days, 14);
	assert_int_equal(plan.weekday, 3);
	assert_int_equal(plan.minute_of_day, 9 * 60 + 15);
	assert_int_equal(audit_count(f, "action = 'checkin.set' AND detail = '14d'"), 1);
	request(f, "GET", "/families/F-001", NULL, sara, &res);
	assert_non_null(strstr(res.body, "Om de 14 dagen, op woensdag om 09:15."));
	console_response_free(&res);
	post_ok(f, sara, "/families/F-001/checkin/off", "");
	assert_int_equal(store_checkin_get(f->st, fam.id, &plan), 0);
	assert_false(plan.active);
	assert_int_equal(audit_count(f, "action = 'checkin.off' AND family_ref = 'F-001'"), 1);

	snprintf(path, sizeof(path), "/families/F-001/chats/%lld/unlink", (long long)ch.id);
	assert_int_equal(post_status(f, ana, path, ""), 404);
	assert_int_equal(testenv_query_int(&f->env, "SELECT count(*) FROM channels WHERE address = '4242'"), 1);
	post_ok(f, sara, path, "");
	assert_int_equal(testenv_query_int(&f->env, "SELECT count(*) FROM channels WHERE address = '4242'"), 0);
	assert_int_equal(audit_count(f, "action = 'channel.unlink' AND family_ref = 'F-001'"), 1);

	/* Closing asks for a yes. */
	assert_int_equal(post_status(f, sara, "/families/F-001/close", ""), 422);
	assert_int_equal(post_status(f, ana, "/families/F-001/close", "confirm=yes"), 404);
	post_ok(f, sara, "/families/F-001/close", "confirm=yes");
	assert_int_equal(store_family_get(f->st, "F-001", &fam), 0);
	assert_string_equal(fam.status, "closed");
	assert_int_equal(audit_count(f, "action = 'family.close' AND family_ref = 'F-001'"), 1);
	/* A closed file takes no new appointment. */
	assert_int_equal(post_status(f, sara, "/families/F-001/appointments", "kind=lawyer&at=2026-01-05T14%3A00"),
			 409);
	/* Ana's five tries, each refused and audited. */
	assert_int_equal(audit_count(f, "action = 'scope.refused' AND actor = 'console:Ana' AND family_ref = 'F-001'"),
			 3);
}

/* A document is decrypted for its download only: the plain bytes, its
 * type, an attachment that is not cached, one audit row. Verified or
 * rejected from the page. Another family's document is not found under
 * this family; an altered file is refused. */
static void test_document_download(void **state)
{
	struct fx *f = *state;
	struct console_response res;
	unsigned char key[VAULT_KEY_BYTES];
	static const char plain[] = "%PDF-1.4\n% a test document\n%%EOF\n";
	char sara[128], keypath[PATH_MAX], abs[PATH_MAX], path[128];
	struct family fam, other;
	struct document d, d2;

	assert_int_equal(store_family_get(f->st, "F-001", &fam), 0);
	assert_int_equal(store_family_get(f->st, "F-002", &other), 0);
	assert_int_equal(config_document_key_path(&f->cfg, keypath, sizeof(keypath)), 0);
	assert_int_equal(vault_load_key(keypath, key), 0);
	memset(&d, 0, sizeof(d));
	d.family_id = fam.id;
	cb_strlcpy(d.mime, "application/pdf", sizeof(d.mime));
	d.size = (int64_t)strlen(plain);
	assert_int_equal(documents_new_path(f->cfg.data_dir, fam.id, d.path, sizeof(d.path), abs, sizeof(abs)), 0);
	assert_int_equal(vault_encrypt_buffer(key, plain, strlen(plain), abs, d.mac), 0);
	assert_int_equal(store_document_add(f->st, &d, f->h.now), 0);
	d2 = d;
	d2.family_id = other.id;
	assert_int_equal(store_document_add(f->st, &d2, f->h.now), 0);
	login(f, 0, sara, sizeof(sara));

	request(f, "GET", "/families/F-001", NULL, sara, &res);
	snprintf(path, sizeof(path), "href=\"/families/F-001/documents/%lld\"", (long long)d.id);
	assert_non_null(strstr(res.body, path));
	console_response_free(&res);
	snprintf(path, sizeof(path), "/families/F-001/documents/%lld", (long long)d.id);
	request(f, "GET", path, NULL, sara, &res);
	assert_int_equal(res.status, 200);
	assert_string_equal(res.content_type, "application/pdf");
	assert_int_equal(res.len, strlen(plain));
	assert_memory_equal(res.body, plain, strlen(plain));
	assert_true(res.wipe);
	snprintf(path, sizeof(path), "attachment; filename=\"F-001-document-%lld.pdf\"", (long long)d.id);
	assert_string_equal(header(&res, "content-disposition", 0), path);
	assert_string_equal(header(&res, "cache-control", 0), "no-store");
	assert_string_equal(header(&res, "x-content-type-options", 0), "nosniff");
	console_response_free(&res);
	assert_int_equal(audit_count(f, "action = 'document.get' AND actor = 'console:Sara' AND family_ref = 'F-001'"),
			 1);

	/* F-002's document is not F-001's; Sara does not reach F-002. */
	snprintf(path, sizeof(path), "/families/F-001/documents/%lld", (long long)d2.id);
	request(f, "GET", path, NULL, sara, &res);
	assert_int_equal(res.status, 404);
	console_response_free(&res);
	snprintf(path, sizeof(path), "/families/F-002/documents/%lld", (long long)d2.id);
	request(f, "GET", path, NULL, sara, &res);
	assert_int_equal(res.status, 404);
	console_response_free(&res);
	assert_int_equal(audit_count(f, "action = 'document.get'"), 1);
	assert_int_equal(audit_count(f, "action = 'scope.refused' AND family_ref = 'F-002'"), 1);

	snprintf(path, sizeof(path), "/families/F-001/documents/%lld/reject", (long long)d.id);
	assert_int_equal(post_status(f, sara, path, "reason=nonsense"), 422);
	snprintf(path, sizeof(path), "/families/F-001/documents/%lld/verify", (long long)d.id);
	post_ok(f, sara, path, "");
	assert_int_equal(store_document_get(f->st, d.id, &d2), 0);
	assert_string_equal(d2.status, "verified");
	assert_int_equal(audit_count(f, "action = 'document.verify' AND family_ref = 'F-001'"), 1);
	assert_int_equal(post_status(f, sara, path, ""), 409);

	/* One byte changed: refused, never half sent. */
	{
		FILE *fp = fopen(abs, "r+b");

		assert_non_null(fp);
		assert_int_equal(fseek(fp, 40, SEEK_SET), 0);
		assert_int_equal(fputc('x', fp), 'x');
		fclose(fp);
	}
	snprintf(path, sizeof(path), "/families/F-001/documents/%lld", (long long)d.id);
	request(f, "GET", path, NULL, sara, &res);
	assert_int_equal(res.status, 500);
	assert_null(strstr(res.body, "a test document"));
	console_response_free(&res);
	sodium_memzero(key, sizeof(key));
}

static int64_t staff_id(struct fx *f, const char *name)
{
	struct staff s;

	assert_int_equal(store_staff_get(f->st, name, &s), 0);
	return s.id;
}

/* The alerts to triage: only those of families the reader reaches,
 * filtered, each read audited; acknowledged and passed on from the list,
 * never to someone who does not follow the family. */
static void test_alerts_page(void **state)
{
	struct fx *f = *state;
	struct console_response res;
	struct family f1, f2;
	char sara[128], ana[128], marc[128], path[96], body[64];
	int64_t a1, a2;

	assert_int_equal(store_family_get(f->st, "F-001", &f1), 0);
	assert_int_equal(store_family_get(f->st, "F-002", &f2), 0);
	assert_int_equal(store_alert_add(f->st, f1.id, staff_id(f, "Sara"), "checkin", 0, "checkin_unanswered", NULL,
					 f->h.now - 600, 0, &a1),
			 0);
	assert_int_equal(store_alert_add(f->st, f2.id, staff_id(f, "Ana"), "urgent", 1, "urgent", "{\"bytes\":12}",
					 f->h.now - 60, 0, &a2),
			 0);
	login(f, 0, sara, sizeof(sara));
	login(f, 1, ana, sizeof(ana));
	login(f, 2, marc, sizeof(marc));

	request(f, "GET", "/alerts", NULL, sara, &res);
	assert_int_equal(res.status, 200);
	assert_non_null(strstr(res.body, "href=\"/families/F-001\""));
	assert_non_null(strstr(res.body, "De laatste check-in bleef onbeantwoord"));
	assert_null(strstr(res.body, "F-002"));
	assert_non_null(strstr(res.body, "<label for=\"assign-"));
	console_response_free(&res);
	assert_int_equal(audit_count(f, "action = 'alerts.read' AND actor = 'console:Sara'"), 1);

	request(f, "GET", "/alerts?urgent=1", NULL, marc, &res);
	assert_non_null(strstr(res.body, "href=\"/families/F-002\""));
	assert_null(strstr(res.body, "href=\"/families/F-001\""));
	assert_non_null(strstr(res.body, "<tr class=\"urgent\">"));
	console_response_free(&res);
	request(f, "GET", "/alerts?family=F-001", NULL, marc, &res);
	assert_non_null(strstr(res.body, "href=\"/families/F-001\""));
	assert_null(strstr(res.body, "href=\"/families/F-002\""));
	console_response_free(&res);
	assert_int_equal(audit_count(f, "action = 'alerts.read' AND family_ref = 'F-001'"), 1);

	/* Not Sara's family: refused, audited, still open. */
	snprintf(path, sizeof(path), "/alerts/%lld/ack", (long long)a2);
	assert_int_equal(post_status(f, sara, path, ""), 404);
	assert_int_equal(audit_count(f, "action = 'scope.refused' AND actor = 'console:Sara' AND family_ref = 'F-002'"), 1);
	assert_int_equal(testenv_query_int(&f->env, "SELECT count(*) FROM alerts WHERE acked_at IS NULL"), 2);

	/* Ana backs up F-001 but Sara is not away: Ana does not follow it. */
	snprintf(path, sizeof(path), "/alerts/%lld/assign", (long long)a1);
	snprintf(body, sizeof(body), "staff=%lld", (long long)staff_id(f, "Ana"));
	assert_int_equal(post_status(f, sara, path, body), 422);
	snprintf(body, sizeof(body), "staff=%lld", (long long)staff_id(f, "Marc"));
	assert_int_equal(post_status(f, sara, path, body), 303);
	assert_int_equal(testenv_query_int(&f->env, "SELECT count(*) FROM alerts WHERE group_id = (SELECT group_id FROM "
						     "alerts WHERE id = 1) AND staff_id = (SELECT id FROM staff WHERE "
						     "name = 'Marc')"),
			 1);
	assert_int_equal(audit_count(f, "action = 'alert.assign' AND family_ref = 'F-001'"), 1);
	request(f, "GET", "/alerts?mine=1", NULL, marc, &res);
	assert_non_null(strstr(res.body, "href=\"/families/F-001\""));
	assert_null(strstr(res.body, "href=\"/families/F-002\""));
	console_response_free(&res);

	snprintf(path, sizeof(path), "/alerts/%lld/ack", (long long)a1);
	assert_int_equal(post_status(f, sara, path, ""), 303);
	assert_int_equal(audit_count(f, "action = 'alert.ack' AND family_ref = 'F-001'"), 1);
	/* Every copy closes with it. */
	assert_int_equal(testenv_query_int(&f->env, "SELECT count(*) FROM alerts WHERE acked_at IS NULL"), 1);
	request(f, "GET", "/alerts", NULL, sara, &res);
	assert_null(strstr(res.body, "href=\"/families/F-001\""));
	console_response_free(&res);
	request(f, "GET", "/alerts?all=1", NULL, sara, &res);
	assert_non_null(strstr(res.body, "href=\"/families/F-001\""));
	console_response_free(&res);
	(void)ana;
}

/* What the overview's script polls: the open alerts' count and those
 * newer than the newest it has, in the reader's scope; a poll that
 * brings alerts is audited, an empty one is not. The overview carries
 * the newest id it counted, and the script is a file. */
static void test_alerts_live(void **state)
{
	struct fx *f = *state;
	struct console_response res;
	struct family f1, f2;
	char sara[128], marc[128], path[64], want[64];
	int64_t a1, a2, a3;

	assert_int_equal(store_family_get(f->st, "F-001", &f1), 0);
	assert_int_equal(store_family_get(f->st, "F-002", &f2), 0);
	assert_int_equal(store_alert_add(f->st, f1.id, staff_id(f, "Sara"), "checkin", 0, "checkin_unanswered", NULL,
					 f->h.now - 600, 0, &a1),
			 0);
	login(f, 0, sara, sizeof(sara));
	login(f, 2, marc, sizeof(marc));
	request(f, "GET", "/", NULL, sara, &res);
	snprintf(want, sizeof(want), "id=\"live\" data-newest=\"%lld\"", (long long)a1);
	assert_non_null(strstr(res.body, want));
	assert_non_null(strstr(res.body, "<b id=\"count-alerts\">1</b>"));
	assert_non_null(strstr(res.body, "<script src=\"/console.js\" defer></script>"));
	console_response_free(&res);
	request(f, "GET", "/console.js", NULL, NULL, &res);
	assert_int_equal(res.status, 200);
	assert_string_equal(res.content_type, "text/javascript; charset=utf-8");
	assert_non_null(strstr(res.body, "/alerts/live?after="));
	assert_non_null(strstr(res.body, "textContent"));
	assert_null(strstr(res.body, "innerHTML"));
	console_response_free(&res);

	snprintf(path, sizeof(path), "/alerts/live?after=%lld", (long long)a1);
	request(f, "GET", path, NULL, sara, &res);
	assert_int_equal(res.status, 200);
	assert_string_equal(res.content_type, "application/json");
	snprintf(want, sizeof(want), "{\"open\":1,\"newest\":%lld,\"alerts\":[]}", (long long)a1);
	assert_string_equal(res.body, want);
	console_response_free(&res);
	assert_int_equal(audit_count(f, "action = 'alerts.read'"), 0);

	assert_int_equal(store_alert_add(f->st, f2.id, staff_id(f, "Ana"), "urgent", 1, "urgent", "{\"bytes\":12}",
					 f->h.now, 0, &a2),
			 0);
	assert_int_equal(store_alert_add(f->st, f1.id, staff_id(f, "Sara"), "urgent", 1, "urgent", "{\"bytes\":5}",
					 f->h.now, 0, &a3),
			 0);
	/* Sara's scope: her new one only. */
	request(f, "GET", path, NULL, sara, &res);
	snprintf(want, sizeof(want), "{\"open\":2,\"newest\":%lld,\"alerts\":[{\"id\":%lld,\"ref\":\"F-001\"",
		 (long long)a3, (long long)a3);
	assert_int_equal(strncmp(res.body, want, strlen(want)), 0);
	assert_null(strstr(res.body, "F-002"));
	assert_non_null(strstr(res.body, "\"urgent\":true"));
	console_response_free(&res);
	request(f, "GET", path, NULL, marc, &res);
	assert_non_null(strstr(res.body, "\"open\":3"));
	assert_non_null(strstr(res.body, "\"ref\":\"F-002\""));
	console_response_free(&res);
	assert_int_equal(audit_count(f, "action = 'alerts.read' AND detail = 'live'"), 2);
	/* Without a session: the login, not the alerts. */
	request(f, "GET", path, NULL, NULL, &res);
	assert_int_equal(res.status, 303);
	console_response_free(&res);
}

/* The audit log: filtered, its reading audited; a counsellor reads only
 * their own rows; the export is CSV. */
static void test_audit_page(void **state)
{
	struct fx *f = *state;
	struct console_response res;
	char sara[128], marc[128];

	login(f, 0, sara, sizeof(sara));
	login(f, 2, marc, sizeof(marc));
	request(f, "GET", "/families/F-001", NULL, sara, &res);
	console_response_free(&res);
	request(f, "GET", "/families/F-002", NULL, marc, &res);
	console_response_free(&res);

	request(f, "GET", "/audit?family=F-001", NULL, marc, &res);
	assert_int_equal(res.status, 200);
	assert_non_null(strstr(res.body, "<td>console:Sara</td><td>console.view</td><td>F-001</td>"));
	assert_null(strstr(res.body, "<td>F-002</td>"));
	assert_non_null(strstr(res.body, "<label for=\"a-since\">"));
	console_response_free(&res);
	assert_int_equal(audit_count(f, "action = 'audit.read' AND actor = 'console:Marc' AND family_ref = 'F-001'"), 1);
	request(f, "GET", "/audit?staff=Sara", NULL, marc, &res);
	assert_non_null(strstr(res.body, "<td>console:Sara</td><td>console.view</td>"));
	assert_null(strstr(res.body, "<td>console:Marc</td><td>console.view</td>"));
	console_response_free(&res);
	/* Sara asks for Marc's rows and gets her own. */
	request(f, "GET", "/audit?staff=Marc", NULL, sara, &res);
	assert_int_equal(res.status, 200);
	assert_non_null(strstr(res.body, "<td>console:Sara</td><td>console.view</td>"));
	assert_null(strstr(res.body, "<td>console:Marc</td><td>console.view</td>"));
	console_response_free(&res);
	/* A week back by default: an older row is not there. */
	assert_int_equal(store_audit(f->st, f->h.now - 30 * 86400, "cli:old", "family.close", "F-002", NULL), 0);
	request(f, "GET", "/audit", NULL, marc, &res);
	assert_null(strstr(res.body, "cli:old"));
	console_response_free(&res);
	request(f, "GET", "/audit?since=2025-11-01", NULL, marc, &res);
	assert_non_null(strstr(res.body, "cli:old"));
	console_response_free(&res);
	request(f, "GET", "/audit?since=2025-02-30", NULL, marc, &res);
	assert_int_equal(res.status, 422);
	console_response_free(&res);

	request(f, "GET", "/audit.csv?family=F-001&since=2025-12-01", NULL, marc, &res);
	assert_int_equal(res.status, 200);
	assert_string_equal(res.content_type, "text/csv; charset=utf-8");
	assert_non_null(strstr(res.body, "\"console:Sara\",\"console.view\",\"F-001\""));
	assert_string_equal(header(&res, "content-disposition", 0), "attachment; filename=\"audit.csv\"");
	console_response_free(&res);
	assert_int_equal(audit_count(f, "action = 'audit.export' AND actor = 'console:Marc'"), 1);
}

/* The staff page: coordinators only (a counsellor's try audited); add,
 * away and back, a password, a new second factor and an invite (each
 * shown once, with its QR code), a wrong pairing number, the backup of
 * someone's families, deactivation; every change audited. */
static void test_staff_page(void **state)
{
	struct fx *f = *state;
	struct console_response res;
	char sara[128], marc[128], path[64], body[128];
	struct staff s;
	struct staff_login l;
	struct family fam;
	int64_t sara_id = staff_id(f, "Sara"), ana_id = staff_id(f, "Ana");

	login(f, 0, sara, sizeof(sara));
	login(f, 2, marc, sizeof(marc));
	request(f, "GET", "/staff", NULL, sara, &res);
	assert_int_equal(res.status, 404);
	console_response_free(&res);
	assert_int_equal(post_status(f, sara, "/staff", "name=Eve&role=coordinator&lang=en"), 404);
	assert_int_equal(audit_count(f, "action = 'scope.refused' AND actor = 'console:Sara' AND detail = 'staff'"), 2);
	assert_int_equal(store_staff_get(f->st, "Eve", &s), -CB_ENOENT);

	request(f, "GET", "/staff", NULL, marc, &res);
	assert_int_equal(res.status, 200);
	assert_non_null(strstr(res.body, "<h2>Sara</h2>"));
	assert_non_null(strstr(res.body, "<label for=\"new-name\">"));
	console_response_free(&res);
	assert_int_equal(audit_count(f, "action = 'staff.read' AND actor = 'console:Marc'"), 1);

	assert_int_equal(post_status(f, marc, "/staff", "name=%3Ci%3EEve&role=counsellor&lang=de"), 303);
	assert_int_equal(store_staff_get(f->st, "<i>Eve", &s), 0);
	assert_int_equal(s.lang, LANG_DE);
	assert_int_equal(audit_count(f, "action = 'staff.add' AND actor = 'console:Marc'"), 1);
	assert_int_equal(post_status(f, marc, "/staff", "name=Sara&role=counsellor&lang=de"), 409);
	request(f, "GET", "/staff", NULL, marc, &res);
	assert_non_null(strstr(res.body, "<h2>&lt;i&gt;Eve</h2>"));
	console_response_free(&res);

	snprintf(path, sizeof(path), "/staff/%lld/away", (long long)sara_id);
	assert_int_equal(post_status(f, marc, path, ""), 303);
	assert_int_equal(store_staff_get_id(f->st, sara_id, &s), 0);
	assert_true(s.away);
	snprintf(path, sizeof(path), "/staff/%lld/back", (long long)sara_id);
	assert_int_equal(post_status(f, marc, path, ""), 303);
	assert_int_equal(store_staff_get_id(f->st, sara_id, &s), 0);
	assert_false(s.away);
	assert_int_equal(audit_count(f, "action IN ('staff.away', 'staff.back') AND actor = 'console:Marc'"), 2);

	snprintf(path, sizeof(path), "/staff/%lld/password", (long long)sara_id);
	assert_int_equal(post_status(f, marc, path, "password=short"), 422);
	assert_int_equal(post_status(f, marc, path, "password=a+new+long+password"), 303);
	assert_int_equal(store_login_get(f->st, sara_id, &l), 0);
	assert_int_equal(auth_password_check(l.password, "a new long password"), 0);
	assert_int_equal(audit_count(f, "action = 'staff.password' AND actor = 'console:Marc'"), 1);

	snprintf(path, sizeof(path), "/staff/%lld/totp", (long long)sara_id);
	post(f, marc, path, "", &res);
	assert_int_equal(res.status, 200);
	assert_true(res.wipe);
	assert_non_null(strstr(res.body, "otpauth://totp/casebot:Sara?secret="));
	assert_non_null(strstr(res.body, "<svg class=\"qr\" role=\"img\""));
	assert_int_equal(store_login_get(f->st, sara_id, &l), 0);
	assert_non_null(strstr(res.body, l.totp_secret));
	assert_string_not_equal(l.totp_secret, f->secret[0]);
	console_response_free(&res);
	assert_int_equal(audit_count(f, "action = 'staff.totp' AND actor = 'console:Marc'"), 1);

	snprintf(path, sizeof(path), "/staff/%lld/invite", (long long)ana_id);
	post(f, marc, path, "", &res);
	assert_int_equal(res.status, 200);
	assert_non_null(strstr(res.body, "https://t.me/"));
	assert_non_null(strstr(res.body, "?start="));
	assert_non_null(strstr(res.body, "<svg class=\"qr\""));
	console_response_free(&res);
	assert_int_equal(audit_count(f, "action = 'staff.invite' AND actor = 'console:Marc'"), 1);
	snprintf(path, sizeof(path), "/staff/%lld/confirm", (long long)ana_id);
	assert_int_equal(post_status(f, marc, path, "number=12345"), 422);
	/* Nothing waits for a number yet. */
	assert_int_equal(post_status(f, marc, path, "number=123456"), 409);

	snprintf(path, sizeof(path), "/staff/%lld/backup", (long long)ana_id);
	snprintf(body, sizeof(body), "backup=%lld", (long long)sara_id);
	assert_int_equal(post_status(f, marc, path, body), 303);
	assert_int_equal(store_family_get(f->st, "F-002", &fam), 0);
	assert_int_equal(fam.backup_id, sara_id);
	assert_int_equal(audit_count(f, "action = 'family.backup' AND family_ref = 'F-002'"), 1);
	snprintf(body, sizeof(body), "backup=%lld", (long long)ana_id);
	assert_int_equal(post_status(f, marc, path, body), 422);

	snprintf(path, sizeof(path), "/staff/%lld/deactivate", (long long)ana_id);
	assert_int_equal(post_status(f, marc, path, ""), 422);
	assert_int_equal(post_status(f, marc, path, "confirm=yes"), 303);
	assert_int_equal(store_staff_get_id(f->st, ana_id, &s), 0);
	assert_false(s.active);
	assert_int_equal(audit_count(f, "action = 'staff.deactivate' AND actor = 'console:Marc'"), 1);
	/* Marc cannot deactivate himself. */
	snprintf(path, sizeof(path), "/staff/%lld/deactivate", (long long)staff_id(f, "Marc"));
	assert_int_equal(post_status(f, marc, path, "confirm=yes"), 409);
}

/* HTTPS on the listener ([http] tls_cert and tls_key, both or neither)
 * makes the console's cookies Secure. */
static void test_secure_cookie_under_tls(void **state)
{
	struct fx *f = *state;
	struct console_response res;
	struct config cfg;
	char err[512];
	FILE *fp;

	request(f, "GET", "/login", NULL, NULL, &res);
	assert_null(strstr(header(&res, "set-cookie", 0), "Secure"));
	console_response_free(&res);
	assert_non_null(fp = fopen(f->env.conf, "a"));
	fputs("\n[http]\ntls_cert = tests/data/tls/cert.pem\n", fp);
	fclose(fp);
	assert_int_equal(config_load(&cfg, f->env.conf, err, sizeof(err)), -CB_ECONFIG);
	assert_non_null(strstr(err, "tls_cert and tls_key go together"));
	assert_non_null(fp = fopen(f->env.conf, "a"));
	fputs("tls_key = tests/data/tls/key.pem\n", fp);
	fclose(fp);
	assert_int_equal(config_load(&cfg, f->env.conf, err, sizeof(err)), 0);
	console_init(&f->console, &cfg);
	f->h.cfg = &cfg;
	request(f, "GET", "/login", NULL, NULL, &res);
	assert_non_null(strstr(header(&res, "set-cookie", 0), "; Secure"));
	console_response_free(&res);
	f->h.cfg = &f->cfg;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_totp_rfc6238_vectors),
		cmocka_unit_test(test_totp_uri),
		cmocka_unit_test(test_password),
		cmocka_unit_test(test_tokens_and_csrf),
		cmocka_unit_test(test_escaping),
		cmocka_unit_test_setup_teardown(test_login_and_session, setup, teardown),
		cmocka_unit_test_setup_teardown(test_totp_code_works_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_login_failures_read_the_same, setup, teardown),
		cmocka_unit_test_setup_teardown(test_login_slowed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_session_idle_and_absolute, setup, teardown),
		cmocka_unit_test_setup_teardown(test_logout_and_csrf, setup, teardown),
		cmocka_unit_test_setup_teardown(test_headers_everywhere, setup, teardown),
		cmocka_unit_test_setup_teardown(test_scope, setup, teardown),
		cmocka_unit_test_setup_teardown(test_overview_not_reached, setup, teardown),
		cmocka_unit_test_setup_teardown(test_caseload, setup, teardown),
		cmocka_unit_test_setup_teardown(test_family_page_voice, setup, teardown),
		cmocka_unit_test_setup_teardown(test_family_actions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_document_download, setup, teardown),
		cmocka_unit_test_setup_teardown(test_alerts_page, setup, teardown),
		cmocka_unit_test_setup_teardown(test_alerts_live, setup, teardown),
		cmocka_unit_test_setup_teardown(test_audit_page, setup, teardown),
		cmocka_unit_test_setup_teardown(test_staff_page, setup, teardown),
		cmocka_unit_test_setup_teardown(test_secure_cookie_under_tls, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
