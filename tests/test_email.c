/* The email gateway and the client's SMTP transfers against real SMTP
 * servers on loopback: Debian's aiosmtpd delivering into a maildir, and a
 * small aiosmtpd script that refuses with a code we pick, or answers late.
 * Everything runs on one libuv loop; every test counts its callbacks, is
 * bounded by a watchdog, and ends with uv_loop_close() == 0. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <time.h>
#include <unistd.h>

#include <uv.h>

#include "bot/casebot.h"
#include "bot/config.h"
#include "bot/config.h"
#include "bot/gateways/gateway.h"
#include "bot/gateways/email.h"
#include "bot/net/http_client.h"
#include "tests/support/testenv.h"

#define PYTHON "/usr/bin/python3"
#define WATCHDOG_MS 15000
#define SERVER_START_MS 15000
#define MAX_SERVERS 4
#define MAX_SLOTS 16
#define MAX_MAILS 16
#define MAIL_FILE_MAX (1024 * 1024)
#define FROM "casebot@example.org"

/* Answers every RCPT, or the end of every DATA, with argv[3]; argv[1] is
 * the port, argv[2] the command. SLOW: waits argv[3] seconds before it
 * accepts the end of the first DATA; later ones go at once. */
static const char refuser_py[] =
	"import asyncio, sys\n"
	"from aiosmtpd.smtp import SMTP\n"
	"class Refuse:\n"
	"    async def handle_RCPT(self, server, session, envelope, address, options):\n"
	"        if sys.argv[2] == 'RCPT':\n"
	"            return sys.argv[3]\n"
	"        envelope.rcpt_tos.append(address)\n"
	"        return '250 OK'\n"
	"    slow = sys.argv[2] == 'SLOW'\n"
	"    async def handle_DATA(self, server, session, envelope):\n"
	"        if sys.argv[2] == 'SLOW':\n"
	"            if Refuse.slow:\n"
	"                Refuse.slow = False\n"
	"                await asyncio.sleep(float(sys.argv[3]))\n"
	"            return '250 OK'\n"
	"        return sys.argv[3]\n"
	"async def main():\n"
	"    loop = asyncio.get_running_loop()\n"
	"    srv = await loop.create_server(lambda: SMTP(Refuse()), '127.0.0.1', int(sys.argv[1]))\n"
	"    async with srv:\n"
	"        await srv.serve_forever()\n"
	"asyncio.run(main())\n";

/* Servers of the running test: stopped at teardown, and at exit should a
 * test abort; each child also dies with us (PR_SET_PDEATHSIG). */
static pid_t servers[MAX_SERVERS];
static int nservers;
/* The running test's directory, removed at teardown should it fail. */
static char test_dir[64];

struct fx;

struct slot {
	struct fx *fx;
	int calls;
	int in_call;                 /* the callback ran inside send() */
	struct gateway_result r;
	/* http_client_mail */
	int status, error, timed_out, cancelled, reused;
};

struct fx {
	struct {                     /* what the daemon would hold for it */
		uv_loop_t loop;
		struct config cfg;
		struct http_client *http;
	} d;
	struct gateway_env env;      /* what the gateway is given: d's loop, cfg and http */
	uv_timer_t watchdog;
	uv_tcp_t listener;           /* counts connections; never answers */
	int listening;
	int listen_port;
	int accepted;
	int stop_on_accept;
	uv_tcp_t *conns[8];
	int nconns;
	struct gateway *gw[3];
	int watchdog_fired;
	int stopping;
	int cli_closed;
	int sending;                 /* inside a send() or http_client_mail() */
	int expected, done;
	struct slot slots[MAX_SLOTS];
	char tmp[64];
	char maildir[PATH_MAX];
};

/* Servers. */

static void kill_servers(void)
{
	for (int i = 0; i < nservers; i++) {
		if (servers[i] > 0) {
			kill(servers[i], SIGTERM);
			waitpid(servers[i], NULL, 0);
		}
		servers[i] = 0;
	}
	nservers = 0;
}

static int free_port(void)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;

	assert_true(fd >= 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	port = ntohs(sa.sin_port);
	close(fd);
	return port;
}

static int try_connect(int port)
{
	struct sockaddr_in sa;
	int fd = socket(AF_INET, SOCK_STREAM, 0), rc;

	if (fd < 0)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	rc = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	close(fd);
	return rc;
}

/* Starts argv, then waits (bounded) until something accepts on port. */
static void spawn_server(char *const argv[], int port)
{
	struct timespec ts = {0, 50 * 1000 * 1000};
	pid_t pid;
	int waited = 0, status;

	assert_true(nservers < MAX_SERVERS);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);

		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (null >= 0) {
			dup2(null, 0);
			dup2(null, 1);
			if (getenv("EMAIL_TEST_VERBOSE") == NULL)
				dup2(null, 2);
		}
		execv(argv[0], argv);
		_exit(127);
	}
	servers[nservers++] = pid;
	while (try_connect(port) != 0) {
		if (waitpid(pid, &status, WNOHANG) == pid) {
			servers[--nservers] = 0;
			fail_msg("%s exited before listening (is python3-aiosmtpd installed?)", argv[0]);
		}
		if (waited >= SERVER_START_MS)
			fail_msg("no SMTP server on port %d after %d ms", port, waited);
		nanosleep(&ts, NULL);
		waited += 50;
	}
}

static int start_mailbox(const char *maildir)
{
	char listen[32];
	int port = free_port();
	char *argv[] = {PYTHON, "-m", "aiosmtpd", "-n", "-l", listen,
			"-c", "aiosmtpd.handlers.Mailbox", (char *)maildir, NULL};

	snprintf(listen, sizeof(listen), "127.0.0.1:%d", port);
	spawn_server(argv, port);
	return port;
}

static int start_refuser(const char *command, const char *reply)
{
	char port_s[16];
	int port = free_port();
	char *argv[] = {PYTHON, "-c", (char *)refuser_py, port_s, (char *)command, (char *)reply, NULL};

	snprintf(port_s, sizeof(port_s), "%d", port);
	spawn_server(argv, port);
	return port;
}

static int teardown(void **state)
{
	(void)state;
	kill_servers();
	if (test_dir[0] != '\0')
		testenv_rmtree(test_dir);
	test_dir[0] = '\0';
	return 0;
}

/* Fixture. */

static void on_cli_closed(void *arg)
{
	((struct fx *)arg)->cli_closed++;
}

static void on_conn_closed(uv_handle_t *h)
{
	free(h);
}

/* Same order as the daemon: the client first (transfers report, cancelled),
 * then the gateways, then our own handles. */
static void fx_stop(struct fx *fx)
{
	if (fx->stopping)
		return;
	fx->stopping = 1;
	http_client_close(fx->d.http, on_cli_closed, fx);
	for (int i = 0; i < (int)CB_ARRAY_SIZE(fx->gw); i++) {
		if (fx->gw[i] != NULL)
			fx->gw[i]->ops->free(fx->gw[i]);
		fx->gw[i] = NULL;
	}
	if (fx->listening) {
		fx->listening = 0;
		uv_close((uv_handle_t *)&fx->listener, NULL);
	}
	for (int i = 0; i < fx->nconns; i++)
		uv_close((uv_handle_t *)fx->conns[i], on_conn_closed);
	fx->nconns = 0;
	uv_close((uv_handle_t *)&fx->watchdog, NULL);
}

static void on_watchdog(uv_timer_t *t)
{
	struct fx *fx = t->data;

	fx->watchdog_fired = 1;
	fx_stop(fx);
	uv_stop(&fx->d.loop);
}

static struct fx *fx_new(void)
{
	struct fx *fx = calloc(1, sizeof(*fx));

	assert_non_null(fx);
	assert_int_equal(uv_loop_init(&fx->d.loop), 0);
	config_defaults(&fx->d.cfg);
	assert_int_equal(uv_timer_init(&fx->d.loop, &fx->watchdog), 0);
	fx->watchdog.data = fx;
	assert_int_equal(uv_timer_start(&fx->watchdog, on_watchdog, WATCHDOG_MS, 0), 0);
	uv_unref((uv_handle_t *)&fx->watchdog);
	fx->d.http = http_client_new(&fx->d.loop);
	assert_non_null(fx->d.http);
	fx->env = (struct gateway_env){.loop = &fx->d.loop, .cfg = &fx->d.cfg, .http = fx->d.http};
	for (int i = 0; i < MAX_SLOTS; i++)
		fx->slots[i].fx = fx;
	strcpy(fx->tmp, "/tmp/casebot-email-XXXXXX");
	assert_non_null(mkdtemp(fx->tmp));
	cb_strlcpy(test_dir, fx->tmp, sizeof(test_dir));
	snprintf(fx->maildir, sizeof(fx->maildir), "%s/mail", fx->tmp);
	return fx;
}

static void fx_finish(struct fx *fx)
{
	uv_run(&fx->d.loop, UV_RUN_DEFAULT);
	assert_int_equal(fx->watchdog_fired, 0);
	uv_run(&fx->d.loop, UV_RUN_DEFAULT);
	assert_int_equal(fx->cli_closed, 1);
	assert_int_equal(uv_loop_close(&fx->d.loop), 0);
	testenv_rmtree(fx->tmp);
	test_dir[0] = '\0';
	free(fx);
}

static struct gateway *fx_gateway(struct fx *fx, int i, int port)
{
	char err[256];

	snprintf(fx->d.cfg.gw.smtp.url, sizeof(fx->d.cfg.gw.smtp.url), "smtp://127.0.0.1:%d", port);
	cb_strlcpy(fx->d.cfg.gw.smtp.from, FROM, sizeof(fx->d.cfg.gw.smtp.from));
	fx->gw[i] = gateway_email_new(&fx->env, err, sizeof(err));
	assert_non_null(fx->gw[i]);
	assert_string_equal(err, "");
	assert_string_equal(fx->gw[i]->ops->name, "email");
	assert_int_equal(fx->gw[i]->ops->start(fx->gw[i]), 0);
	return fx->gw[i];
}

/* A listener that accepts and then says nothing. */
static void on_connection(uv_stream_t *l, int status)
{
	struct fx *fx = l->data;
	uv_tcp_t *c;

	assert_int_equal(status, 0);
	c = calloc(1, sizeof(*c));
	assert_non_null(c);
	assert_int_equal(uv_tcp_init(&fx->d.loop, c), 0);
	assert_int_equal(uv_accept(l, (uv_stream_t *)c), 0);
	fx->accepted++;
	if (fx->nconns < (int)CB_ARRAY_SIZE(fx->conns))
		fx->conns[fx->nconns++] = c;
	else
		uv_close((uv_handle_t *)c, on_conn_closed);
	if (fx->stop_on_accept)
		fx_stop(fx);
}

static void fx_listen(struct fx *fx)
{
	struct sockaddr_in sa;
	struct sockaddr_storage ss;
	int len = sizeof(ss);

	assert_int_equal(uv_tcp_init(&fx->d.loop, &fx->listener), 0);
	fx->listener.data = fx;
	fx->listening = 1;
	assert_int_equal(uv_ip4_addr("127.0.0.1", 0, &sa), 0);
	assert_int_equal(uv_tcp_bind(&fx->listener, (struct sockaddr *)&sa, 0), 0);
	assert_int_equal(uv_listen((uv_stream_t *)&fx->listener, 8, on_connection), 0);
	assert_int_equal(uv_tcp_getsockname(&fx->listener, (struct sockaddr *)&ss, &len), 0);
	fx->listen_port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

static void on_sent(const struct gateway_result *r, void *arg)
{
	struct slot *s = arg;
	struct fx *fx = s->fx;

	s->calls++;
	s->in_call += fx->sending;
	s->r = *r;
	fx->done++;
	if (fx->done == fx->expected)
		fx_stop(fx);
}

static void send_to(struct fx *fx, struct gateway *gw, int slot, const char *to, const char *text)
{
	struct gateway_part p = {.address = to, .text = text, .len = strlen(text)};

	fx->sending = 1;
	assert_int_equal(gw->ops->send(gw, &p, on_sent, &fx->slots[slot]), 0);
	fx->sending = 0;
}

static void on_mailed(const struct http_response *res, void *arg)
{
	struct slot *s = arg;
	struct fx *fx = s->fx;

	s->calls++;
	s->in_call += fx->sending;
	s->status = res->status;
	s->error = res->error;
	s->timed_out = res->timed_out;
	s->cancelled = res->cancelled;
	s->reused = res->reused;
	assert_non_null(res->body);
	assert_int_equal(res->retry_after, -1);
	if (res->error != 0)
		assert_non_null(res->reason);
	fx->done++;
	if (fx->done == fx->expected)
		fx_stop(fx);
}

/* The maildir. */

struct mail {
	char *text;                  /* the file, line ends made "\n" */
	char *body;                  /* after the blank line */
};

static int read_mails(const char *maildir, struct mail *out, int max)
{
	char dir[PATH_MAX + 8], path[PATH_MAX * 2];
	struct dirent *de;
	DIR *dp;
	int n = 0;

	snprintf(dir, sizeof(dir), "%s/new", maildir);
	dp = opendir(dir);
	if (dp == NULL)
		return 0;
	while ((de = readdir(dp)) != NULL && n < max) {
		FILE *f;
		size_t len, o = 0;
		char *t, *sep;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		f = fopen(path, "rb");
		assert_non_null(f);
		t = malloc(MAIL_FILE_MAX + 1);
		assert_non_null(t);
		len = fread(t, 1, MAIL_FILE_MAX, f);
		fclose(f);
		assert_true(len < MAIL_FILE_MAX);
		for (size_t i = 0; i < len; i++)
			if (!(t[i] == '\r' && i + 1 < len && t[i + 1] == '\n'))
				t[o++] = t[i];
		t[o] = '\0';
		sep = strstr(t, "\n\n");
		assert_non_null(sep);
		out[n].text = t;
		out[n].body = sep + 2;
		n++;
	}
	closedir(dp);
	return n;
}

static void free_mails(struct mail *m, int n)
{
	for (int i = 0; i < n; i++)
		free(m[i].text);
}

/* The raw value of a header, continuation lines kept (joined by "\n");
 * NULL when absent. */
static const char *header(const struct mail *m, const char *name, char *out, size_t cap)
{
	size_t nl = strlen(name);
	const char *p = m->text;

	while (p < m->body) {
		const char *eol = strchr(p, '\n');

		if (strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
			const char *v = p + nl + 1, *end = eol;

			while (*v == ' ')
				v++;
			while (end[0] == '\n' && (end[1] == ' ' || end[1] == '\t'))
				end = strchr(end + 1, '\n');
			assert_true((size_t)(end - v) < cap);
			memcpy(out, v, (size_t)(end - v));
			out[end - v] = '\0';
			return out;
		}
		p = eol + 1;
	}
	return NULL;
}

static struct mail *find_by_id(struct mail *m, int n, const char *id)
{
	char want[128], got[256];

	snprintf(want, sizeof(want), "<%s@example.org>", id);
	for (int i = 0; i < n; i++)
		if (header(&m[i], "Message-ID", got, sizeof(got)) != NULL && strcmp(got, want) == 0)
			return &m[i];
	return NULL;
}

/* Decodes a Subject of UTF-8 B encoded-words separated by folding white
 * space; every word must be at most 75 characters. */
static void decode_subject(const char *raw, char *out, size_t cap)
{
	size_t o = 0;
	const char *p = raw;

	while (*p != '\0') {
		const char *end;
		size_t bin = 0;

		while (*p == ' ' || *p == '\n' || *p == '\t')
			p++;
		if (*p == '\0')
			break;
		assert_true(strncmp(p, "=?UTF-8?B?", 10) == 0);
		end = strstr(p + 10, "?=");
		assert_non_null(end);
		assert_true(end + 2 - p <= 75);
		assert_int_equal(sodium_base642bin((unsigned char *)out + o, cap - o - 1, p + 10,
						   (size_t)(end - p - 10), NULL, &bin, NULL,
						   sodium_base64_VARIANT_ORIGINAL), 0);
		/* Whole characters in every word. */
		assert_true(bin > 0 && ((unsigned char)out[o] & 0xc0) != 0x80);
		o += bin;
		p = end + 2;
	}
	out[o] = '\0';
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Quoted-printable back to bytes; checks line lengths on the way. */
static size_t decode_qp(const char *s, char *out, size_t cap)
{
	size_t o = 0, col = 0;

	for (; *s != '\0'; s++) {
		assert_true(o < cap - 1);
		if (*s == '\n') {
			assert_true(col <= 76);
			col = 0;
			out[o++] = '\n';
			continue;
		}
		col++;
		assert_true((unsigned char)*s < 0x80);
		if (*s != '=') {
			out[o++] = *s;
			continue;
		}
		if (s[1] == '\n') {
			assert_true(col <= 76);
			col = 0;
			s++;
			continue;
		}
		assert_true(hexval(s[1]) >= 0 && hexval(s[2]) >= 0);
		out[o++] = (char)(hexval(s[1]) * 16 + hexval(s[2]));
		s += 2;
		col += 2;
	}
	assert_true(col <= 76);
	out[o] = '\0';
	return o;
}

static void check_common(const struct mail *m, const char *to)
{
	char v[512], wday[4], mon[4];
	struct tm tm;
	time_t t, now = time(NULL);
	int used = 0;

	assert_non_null(header(m, "From", v, sizeof(v)));
	assert_string_equal(v, "casebot <" FROM ">");
	assert_non_null(header(m, "To", v, sizeof(v)));
	assert_string_equal(v, to);
	/* The envelope, as the server saw it. */
	assert_non_null(header(m, "X-MailFrom", v, sizeof(v)));
	assert_string_equal(v, FROM);
	assert_non_null(header(m, "X-RcptTo", v, sizeof(v)));
	assert_string_equal(v, to);
	assert_non_null(header(m, "MIME-Version", v, sizeof(v)));
	assert_string_equal(v, "1.0");
	assert_non_null(header(m, "Content-Type", v, sizeof(v)));
	assert_string_equal(v, "text/plain; charset=UTF-8");
	assert_non_null(header(m, "Content-Transfer-Encoding", v, sizeof(v)));
	assert_string_equal(v, "quoted-printable");
	assert_non_null(header(m, "Date", v, sizeof(v)));
	memset(&tm, 0, sizeof(tm));
	assert_int_equal(sscanf(v, "%3s, %2d %3s %4d %2d:%2d:%2d +0000%n", wday, &tm.tm_mday, mon, &tm.tm_year,
				&tm.tm_hour, &tm.tm_min, &tm.tm_sec, &used), 7);
	assert_int_equal((size_t)used, strlen(v));
	assert_non_null(strstr("SunMonTueWedThuFriSat", wday));
	tm.tm_mon = (int)((strstr("JanFebMarAprMayJunJulAugSepOctNovDec", mon) -
			   "JanFebMarAprMayJunJulAugSepOctNovDec") / 3);
	tm.tm_year -= 1900;
	t = timegm(&tm);
	assert_true(t > now - 300 && t <= now + 5);
	/* Every line fits SMTP's limit, with room to spare. */
	for (const char *p = m->text; *p != '\0';) {
		const char *eol = strchr(p, '\n');

		if (eol == NULL)
			eol = p + strlen(p);
		assert_true(eol - p <= 998);
		p = *eol != '\0' ? eol + 1 : eol;
	}
}

/* Tests. */

#define SUBJ_UTF8 "Rappel : rendez-vous \xc3\xa0 Li\xc3\xa8ge, \xc3\xa9t\xc3\xa9 \xe2\x80\x93 Gr\xc3\xbc\xc3\x9f" \
	"e \xf0\x9f\x8e\x89"
#define SUBJ_UTF8_RAW "=?UTF-8?B?UmFwcGVsIDogcmVuZGV6LXZvdXMgw6AgTGnDqGdlLCDDqXTDqSDigJMgR3I=?=\n" \
	" =?UTF-8?B?w7zDn2Ug8J+OiQ==?="
#define SUBJ_SHORT "\xc3\x9c" "berweisung f\xc3\xbcr Caf\xc3\xa9 \xf0\x9f\x8e\x89"
#define SUBJ_SHORT_RAW "=?UTF-8?B?w5xiZXJ3ZWlzdW5nIGbDvHIgQ2Fmw6kg8J+OiQ==?="

static char long_line[3001];
static char body_text[8192];
static char long_subject[1024];

static void build_texts(void)
{
	size_t n = 0;

	/* A 3000-byte line mixing ASCII and two-byte characters. */
	while (n + 3 <= sizeof(long_line) - 1) {
		memcpy(long_line + n, n % 9 == 0 ? "\xc3\xa9" : "ab", 2);
		long_line[n + 2] = (char)('a' + n % 26);
		n += 3;
	}
	long_line[n] = '\0';
	n = (size_t)snprintf(body_text, sizeof(body_text),
			     "Bonjour Ana,\n"
			     ".a line starting with a dot\n"
			     ".\n"
			     "..two dots\n"
			     "From the start of a line\n"
			     "trailing space \n"
			     "tab\tinside and trailing\t\n"
			     "equals = sign and =?UTF-8?B?eA==?= as text\n"
			     "\n"
			     "accents: \xc3\xa9 \xc3\xbc \xc3\x9f \xe2\x80\x94 emoji \xf0\x9f\x8e\x89\n"
			     "%s\n"
			     "last line, no newline",
			     long_line);
	assert_true(n < sizeof(body_text));
	n = 0;
	while (n + 2 < 400) {
		memcpy(long_subject + n, "\xc3\xa9", 2);
		n += 2;
		long_subject[n++] = 'x';
	}
	long_subject[n] = '\0';
}

static void test_delivery(void **state)
{
	struct fx *fx = fx_new();
	struct gateway *gw;
	struct mail mails[MAX_MAILS];
	char text[sizeof(body_text) + 512], v[2048], dec[16384];
	const struct mail *m;
	int port, n;

	(void)state;
	port = start_mailbox(fx->maildir);
	gw = fx_gateway(fx, 0, port);
	fx->expected = 7;
	snprintf(text, sizeof(text), "Forward from family FAM-12\n%s", body_text);
	send_to(fx, gw, 0, "ana@example.org", text);
	snprintf(text, sizeof(text), "%s\n%s", SUBJ_UTF8, body_text);
	send_to(fx, gw, 1, "bert@example.org", text);
	send_to(fx, gw, 2, "carla@example.org", SUBJ_SHORT "\nKurz.\n");
	send_to(fx, gw, 3, "dirk@example.org", "Subject with CR\r\nBody line\r\nsecond\r\n");
	send_to(fx, gw, 4, "els@example.org", "\nno subject line here");
	send_to(fx, gw, 5, "fien@example.org", "  \tTabs\x01 and spaces  ");
	snprintf(text, sizeof(text), "%s\nbody", long_subject);
	send_to(fx, gw, 6, "geert@example.org", text);
	assert_int_equal(gw->ops->busy(gw), 7);
	uv_run(&fx->d.loop, UV_RUN_DEFAULT);
	for (int i = 0; i < 7; i++) {
		assert_int_equal(fx->slots[i].calls, 1);
		assert_int_equal(fx->slots[i].in_call, 0);
		assert_int_equal(fx->slots[i].r.outcome, GW_SENT);
		assert_int_equal(strlen(fx->slots[i].r.message_id), 30);
	}
	n = read_mails(fx->maildir, mails, MAX_MAILS);
	assert_int_equal(n, 7);

	/* ASCII subject. */
	snprintf(text, sizeof(text), "%s\n", body_text);
	m = find_by_id(mails, n, fx->slots[0].r.message_id);
	assert_non_null(m);
	check_common(m, "ana@example.org");
	assert_non_null(header(m, "Subject", v, sizeof(v)));
	assert_string_equal(v, "Forward from family FAM-12");
	decode_qp(m->body, dec, sizeof(dec));
	assert_string_equal(dec, text);

	/* Non-ASCII subject, two encoded-words folded. */
	m = find_by_id(mails, n, fx->slots[1].r.message_id);
	assert_non_null(m);
	check_common(m, "bert@example.org");
	assert_non_null(header(m, "Subject", v, sizeof(v)));
	assert_string_equal(v, SUBJ_UTF8_RAW);
	assert_null(strstr(v, "Bonjour"));
	decode_subject(v, dec, sizeof(dec));
	assert_string_equal(dec, SUBJ_UTF8);
	decode_qp(m->body, dec, sizeof(dec));
	assert_string_equal(dec, text);
	/* The dotted lines went dot-stuffed and came back as written. */
	assert_non_null(strstr(m->body, "\n.a line starting with a dot\n.\n..two dots\n"));

	m = find_by_id(mails, n, fx->slots[2].r.message_id);
	assert_non_null(m);
	check_common(m, "carla@example.org");
	assert_non_null(header(m, "Subject", v, sizeof(v)));
	assert_string_equal(v, SUBJ_SHORT_RAW);
	decode_subject(v, dec, sizeof(dec));
	assert_string_equal(dec, SUBJ_SHORT);
	decode_qp(m->body, dec, sizeof(dec));
	assert_string_equal(dec, "Kurz.\n");

	/* CRLF in the text: no CR in the subject, line breaks in the body. */
	m = find_by_id(mails, n, fx->slots[3].r.message_id);
	assert_non_null(m);
	check_common(m, "dirk@example.org");
	assert_non_null(header(m, "Subject", v, sizeof(v)));
	assert_string_equal(v, "Subject with CR");
	decode_qp(m->body, dec, sizeof(dec));
	assert_string_equal(dec, "Body line\nsecond\n");

	/* An empty first line: a neutral subject, never the body's words. */
	m = find_by_id(mails, n, fx->slots[4].r.message_id);
	assert_non_null(m);
	check_common(m, "els@example.org");
	assert_non_null(header(m, "Subject", v, sizeof(v)));
	assert_string_equal(v, "casebot");
	decode_qp(m->body, dec, sizeof(dec));
	assert_string_equal(dec, "no subject line here\n");

	/* Controls become spaces, the ends are trimmed; no body at all. */
	m = find_by_id(mails, n, fx->slots[5].r.message_id);
	assert_non_null(m);
	check_common(m, "fien@example.org");
	assert_non_null(header(m, "Subject", v, sizeof(v)));
	assert_string_equal(v, "Tabs  and spaces");
	assert_string_equal(m->body, "");

	/* A long subject is capped on a character boundary. */
	m = find_by_id(mails, n, fx->slots[6].r.message_id);
	assert_non_null(m);
	check_common(m, "geert@example.org");
	assert_non_null(header(m, "Subject", v, sizeof(v)));
	decode_subject(v, dec, sizeof(dec));
	assert_int_equal(strlen(dec), 159);
	assert_true(strlen(dec) <= EMAIL_SUBJECT_MAX);
	assert_memory_equal(dec, long_subject, 159);
	decode_qp(m->body, dec, sizeof(dec));
	assert_string_equal(dec, "body\n");

	free_mails(mails, n);
	fx_finish(fx);
}

static void on_sent_bad(const struct gateway_result *r, void *arg)
{
	struct slot *s = arg;
	struct fx *fx = s->fx;

	on_sent(r, arg);
	if (fx->done == fx->expected - 1) {
		/* The control: the same gateway does reach the listener. */
		assert_int_equal(fx->accepted, 0);
		send_to(fx, fx->gw[0], MAX_SLOTS - 1, "ana@example.org", "Subject\nbody");
	}
}

static void test_bad_recipient(void **state)
{
	static const char *const bad[] = {
		"no-at-sign",
		"ana@example.org\r\nRCPT TO:<eve@example.org>",
		"ana@example.org\nBcc: eve@example.org",
		"<ana@example.org>",
		"ana@example.org>",
		"",
		"ana smith@example.org",
		"ana@example.org, eve@example.org",
		"two@@example.org",
		"@example.org",
		"ana@",
		"\xc3\xa9@example.org",
	};
	const int nbad = (int)CB_ARRAY_SIZE(bad);
	struct fx *fx = fx_new();
	struct gateway *gw;
	struct gateway_part p;

	(void)state;
	fx_listen(fx);
	/* Stop at the first connection: only the control may make one. */
	fx->stop_on_accept = 1;
	gw = fx_gateway(fx, 0, fx->listen_port);
	fx->expected = nbad + 1;
	for (int i = 0; i < nbad; i++) {
		memset(&p, 0, sizeof(p));
		p.address = bad[i];
		p.text = "Subject\nbody";
		p.len = strlen(p.text);
		fx->sending = 1;
		assert_int_equal(gw->ops->send(gw, &p, on_sent_bad, &fx->slots[i]), 0);
		fx->sending = 0;
	}
	assert_int_equal(http_client_active(fx->d.http), 0);
	assert_int_equal(gw->ops->busy(gw), nbad);
	uv_run(&fx->d.loop, UV_RUN_DEFAULT);
	for (int i = 0; i < nbad; i++) {
		assert_int_equal(fx->slots[i].calls, 1);
		assert_int_equal(fx->slots[i].in_call, 0);
		assert_int_equal(fx->slots[i].r.outcome, GW_PERMANENT);
		assert_string_equal(fx->slots[i].r.message_id, "");
		/* Neither the address nor the text in the reason. */
		assert_null(strstr(fx->slots[i].r.reason, "example"));
	}
	assert_int_equal(fx->accepted, 1);
	/* The control, on its worker thread, gave up when the gateway went,
	 * and reports nothing, as a refusal would not: its row stays
	 * 'sending' and goes again after the restart. */
	assert_int_equal(fx->slots[MAX_SLOTS - 1].calls, 0);
	fx_finish(fx);
}

static void test_closed_port(void **state)
{
	struct fx *fx = fx_new();
	struct gateway *gw;

	(void)state;
	gw = fx_gateway(fx, 0, free_port());
	fx->expected = 1;
	send_to(fx, gw, 0, "ana@example.org", "Subject\nbody");
	uv_run(&fx->d.loop, UV_RUN_DEFAULT);
	assert_int_equal(fx->slots[0].calls, 1);
	assert_int_equal(fx->slots[0].in_call, 0);
	assert_int_equal(fx->slots[0].r.outcome, GW_TRANSIENT);
	assert_string_equal(fx->slots[0].r.message_id, "");
	assert_true(strncmp(fx->slots[0].r.reason, "smtp: ", 6) == 0);
	fx_finish(fx);
}

/* A 5xx for the recipient or the message: it can never go; a 4xx: later. */
static void test_refused(void **state)
{
	struct fx *fx = fx_new();

	(void)state;
	fx_gateway(fx, 0, start_refuser("RCPT", "550 5.1.1 no such user"));
	fx_gateway(fx, 1, start_refuser("RCPT", "451 4.3.0 try again later"));
	fx_gateway(fx, 2, start_refuser("DATA", "554 5.6.0 message refused"));
	fx->expected = 3;
	send_to(fx, fx->gw[0], 0, "nobody@example.org", "Subject\nbody");
	send_to(fx, fx->gw[1], 1, "later@example.org", "Subject\nbody");
	send_to(fx, fx->gw[2], 2, "ana@example.org", "Subject\nbody");
	uv_run(&fx->d.loop, UV_RUN_DEFAULT);
	assert_int_equal(fx->slots[0].calls, 1);
	assert_int_equal(fx->slots[0].r.outcome, GW_PERMANENT);
	assert_non_null(strstr(fx->slots[0].r.reason, "550"));
	assert_null(strstr(fx->slots[0].r.reason, "example"));
	assert_int_equal(fx->slots[1].calls, 1);
	assert_int_equal(fx->slots[1].r.outcome, GW_TRANSIENT);
	assert_non_null(strstr(fx->slots[1].r.reason, "451"));
	assert_int_equal(fx->slots[2].calls, 1);
	assert_int_equal(fx->slots[2].r.outcome, GW_PERMANENT);
	assert_non_null(strstr(fx->slots[2].r.reason, "554"));
	fx_finish(fx);
}

/* The client alone: copies, several recipients, dot-stuffing on the wire,
 * a second mail over the same connection, TLS required and absent, and a
 * server that never greets. */
static const char raw_mail[] =
	"From: casebot@example.org\r\n"
	"To: ana@example.org, bert@example.org\r\n"
	"Subject: raw\r\n"
	"\r\n"
	".starts with a dot\r\n"
	".\r\n"
	"..two\r\n"
	"end\r\n";

static void mail_once(struct fx *fx, int slot, int port, const char *to1, const char *to2, int tls,
		      long timeout_ms)
{
	struct http_mail m;
	char url[64];
	char *from = strdup(FROM), *msg = strdup(raw_mail);
	char *a = strdup(to1), *b = to2 != NULL ? strdup(to2) : NULL;
	const char *rcpt[3] = {a, b, NULL};

	assert_non_null(from);
	assert_non_null(msg);
	snprintf(url, sizeof(url), "smtp://127.0.0.1:%d", port);
	memset(&m, 0, sizeof(m));
	m.url = url;
	m.from = from;
	m.rcpt = rcpt;
	m.message = msg;
	m.message_len = strlen(msg);
	m.require_tls = tls;
	m.timeout_ms = timeout_ms;
	fx->sending = 1;
	assert_int_equal(http_client_mail(fx->d.http, &m, on_mailed, &fx->slots[slot]), 0);
	fx->sending = 0;
	/* Copied: the caller's strings may go at once. */
	memset(msg, 'x', strlen(msg));
	memset(url, 0, sizeof(url));
	free(from);
	free(msg);
	free(a);
	free(b);
}

static int mailbox_port;

static void on_mailed_again(const struct http_response *res, void *arg)
{
	struct slot *s = arg;
	struct fx *fx = s->fx;

	on_mailed(res, arg);
	if (s == &fx->slots[0])
		mail_once(fx, 1, mailbox_port, "carla@example.org", NULL, 0, 0);
}

static void test_client_mail(void **state)
{
	struct fx *fx = fx_new();
	struct mail mails[MAX_MAILS];
	struct http_mail m;
	char v[256];
	const char *rcpt[] = {"ana@example.org", NULL};
	int n;

	(void)state;
	mailbox_port = start_mailbox(fx->maildir);
	fx_listen(fx);
	fx->expected = 4;
	{
		char url[64];

		snprintf(url, sizeof(url), "smtp://127.0.0.1:%d", mailbox_port);
		memset(&m, 0, sizeof(m));
		m.url = url;
		m.from = FROM;
		m.rcpt = rcpt;
		m.message = raw_mail;
		m.message_len = strlen(raw_mail);
		fx->sending = 1;
		assert_int_equal(http_client_mail(fx->d.http, &m, on_mailed_again, &fx->slots[0]), 0);
		fx->sending = 0;
	}
	/* Slot 1 goes from slot 0's callback, over its idle connection. */
	mail_once(fx, 2, mailbox_port, "dirk@example.org", NULL, 1, 0);
	mail_once(fx, 3, fx->listen_port, "els@example.org", NULL, 0, 300);
	assert_int_equal(http_client_active(fx->d.http), 3);
	uv_run(&fx->d.loop, UV_RUN_DEFAULT);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(fx->slots[i].calls, 1);
		assert_int_equal(fx->slots[i].in_call, 0);
	}
	assert_int_equal(fx->slots[0].error, 0);
	assert_int_equal(fx->slots[0].status, 250);
	assert_int_equal(fx->slots[1].error, 0);
	assert_int_equal(fx->slots[1].status, 250);
	assert_int_equal(fx->slots[1].reused, 1);
	/* No STARTTLS on offer: refused before a word of the mail. */
	assert_int_equal(fx->slots[2].error, -CB_EGATEWAY);
	assert_int_equal(fx->slots[2].timed_out, 0);
	/* A server that never greets: the timeout ends it. */
	assert_int_equal(fx->slots[3].error, -CB_EGATEWAY);
	assert_int_equal(fx->slots[3].timed_out, 1);
	assert_int_equal(fx->slots[3].status, 0);
	assert_int_equal(fx->accepted, 1);

	n = read_mails(fx->maildir, mails, MAX_MAILS);
	assert_int_equal(n, 2);
	for (int i = 0; i < n; i++) {
		const char *to = header(&mails[i], "X-RcptTo", v, sizeof(v));

		assert_non_null(to);
		assert_true(strcmp(to, "ana@example.org") == 0 || strcmp(to, "carla@example.org") == 0);
		assert_true(strncmp(mails[i].text, "From: casebot@example.org\nTo: ana@example.org, "
					      "bert@example.org\nSubject: raw\n", 77) == 0);
		assert_string_equal(mails[i].body, ".starts with a dot\n.\n..two\nend\n");
	}
	free_mails(mails, n);
	fx_finish(fx);
}

static int slow_port;

static void on_mailed_slow(const struct http_response *res, void *arg)
{
	struct slot *s = arg;

	on_mailed(res, arg);
	/* While the server still works on the first mail's end of DATA. */
	mail_once(s->fx, 1, slow_port, "bert@example.org", NULL, 0, 5000);
}

static double mono_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* curl waits for the reply to the end of DATA without going back to the
 * loop; the transfer's timeout is what bounds that wait. The connection
 * that timed out still owes a reply: the next mail must not reuse it (its
 * MAIL FROM would read the late 250), and closing must not wait for it. */
static void test_slow_server(void **state)
{
	struct fx *fx = fx_new();
	struct http_mail m;
	const char *rcpt[] = {"ana@example.org", NULL};
	char url[64];
	double start;

	(void)state;
	slow_port = start_refuser("SLOW", "3");
	fx->expected = 2;
	snprintf(url, sizeof(url), "smtp://127.0.0.1:%d", slow_port);
	memset(&m, 0, sizeof(m));
	m.url = url;
	m.from = FROM;
	m.rcpt = rcpt;
	m.message = raw_mail;
	m.message_len = strlen(raw_mail);
	m.timeout_ms = 700;
	start = mono_seconds();
	assert_int_equal(http_client_mail(fx->d.http, &m, on_mailed_slow, &fx->slots[0]), 0);
	uv_run(&fx->d.loop, UV_RUN_DEFAULT);
	assert_int_equal(fx->slots[0].calls, 1);
	assert_int_equal(fx->slots[0].error, -CB_EGATEWAY);
	assert_int_equal(fx->slots[0].timed_out, 1);
	assert_int_equal(fx->slots[1].calls, 1);
	assert_int_equal(fx->slots[1].error, 0);
	assert_int_equal(fx->slots[1].status, 250);
	assert_int_equal(fx->slots[1].reused, 0);
	fx_finish(fx);
	/* Well before the server's 3 s: nothing waited for the late reply. */
	assert_true(mono_seconds() - start < 2.5);
}

static void write_file(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);

	assert_true(fd >= 0);
	assert_int_equal(fchmod(fd, mode), 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static struct gateway *new_gw(struct fx *fx, char *err, size_t errlen)
{
	memset(err, 'z', errlen - 1);
	err[errlen - 1] = '\0';
	return gateway_email_new(&fx->env, err, errlen);
}

static void test_new(void **state)
{
	struct fx *fx = fx_new();
	struct config *c = &fx->d.cfg;
	char err[256], pw_open[PATH_MAX], pw_ok[PATH_MAX], *big;
	struct gateway *gw;
	size_t next = 0, cut;

	(void)state;
	snprintf(pw_open, sizeof(pw_open), "%s/pw-open", fx->tmp);
	snprintf(pw_ok, sizeof(pw_ok), "%s/pw-ok", fx->tmp);
	write_file(pw_open, "hunter2-secret\n", 0644);
	write_file(pw_ok, "hunter2-secret\n", 0600);

	/* Email off. */
	assert_null(new_gw(fx, err, sizeof(err)));
	assert_string_equal(err, "");

	cb_strlcpy(c->gw.smtp.url, "smtp://127.0.0.1:1", sizeof(c->gw.smtp.url));
	cb_strlcpy(c->gw.smtp.from, FROM, sizeof(c->gw.smtp.from));
	snprintf(c->gw.smtp.password_file, sizeof(c->gw.smtp.password_file), "%s/missing", fx->tmp);
	assert_null(new_gw(fx, err, sizeof(err)));
	assert_true(err[0] != '\0' && strchr(err, '\n') == NULL);

	cb_strlcpy(c->gw.smtp.password_file, pw_open, sizeof(c->gw.smtp.password_file));
	assert_null(new_gw(fx, err, sizeof(err)));
	assert_true(err[0] != '\0');
	assert_null(strstr(err, "hunter2"));

	cb_strlcpy(c->gw.smtp.password_file, pw_ok, sizeof(c->gw.smtp.password_file));
	assert_null(new_gw(fx, err, sizeof(err)));
	assert_non_null(strstr(err, "username"));
	assert_null(strstr(err, "hunter2"));

	setenv("CASEBOT_SMTP_PASSWORD", "env-secret", 1);
	c->gw.smtp.password_file[0] = '\0';
	assert_null(new_gw(fx, err, sizeof(err)));
	assert_null(strstr(err, "env-secret"));
	unsetenv("CASEBOT_SMTP_PASSWORD");

	cb_strlcpy(c->gw.smtp.url, "smtp://[::1", sizeof(c->gw.smtp.url));
	assert_null(new_gw(fx, err, sizeof(err)));
	assert_non_null(strstr(err, "url"));

	/* Good: with credentials, over implicit TLS. */
	cb_strlcpy(c->gw.smtp.url, "smtps://mail.example.org:465", sizeof(c->gw.smtp.url));
	cb_strlcpy(c->gw.smtp.username, "casebot", sizeof(c->gw.smtp.username));
	cb_strlcpy(c->gw.smtp.password_file, pw_ok, sizeof(c->gw.smtp.password_file));
	gw = new_gw(fx, err, sizeof(err));
	assert_non_null(gw);
	assert_string_equal(err, "");
	fx->gw[0] = gw;
	assert_string_equal(gw->ops->name, "email");
	/* What mail can carry: a subject line, no buttons, and sending limits
	 * of its own, whatever Telegram's are. */
	assert_true(gw->caps.has_subject);
	assert_int_equal(gw->caps.buttons_max, 0);
	assert_int_equal(gw->caps.media_send, 0);
	assert_true(gw->caps.rate_global > 0 && gw->caps.rate_global != c->gw.telegram.rate_global);
	assert_true(gw->caps.quiet_ok);
	assert_int_equal(gw->ops->start(gw), 0);
	gw->ops->stop(gw);
	assert_int_equal(gw->ops->busy(gw), 0);
	assert_int_equal(gw->ops->fetch(gw, "ref", NULL, NULL, NULL), -CB_ESTATE);
	assert_int_equal(gw->ops->split("Subject\nbody", 12, &next), 12);
	assert_int_equal(next, 12);

	/* Over the cap: cut at a line end, the rest dropped, not a second mail. */
	big = malloc(EMAIL_MESSAGE_MAX + 1000);
	assert_non_null(big);
	for (size_t i = 0; i < EMAIL_MESSAGE_MAX + 1000; i++)
		big[i] = i % 100 == 99 ? '\n' : 'a';
	cut = gw->ops->split(big, EMAIL_MESSAGE_MAX + 1000, &next);
	assert_true(cut <= EMAIL_MESSAGE_MAX && cut > EMAIL_MESSAGE_MAX - 100);
	assert_int_equal(big[cut - 1], '\n');
	assert_int_equal(next, EMAIL_MESSAGE_MAX + 1000);
	/* One endless line: cut on a character. */
	for (size_t i = 0; i < EMAIL_MESSAGE_MAX + 1000; i += 2)
		memcpy(big + i, "\xc3\xa9", 2);
	cut = gw->ops->split(big, EMAIL_MESSAGE_MAX + 1000, &next);
	assert_int_equal(cut, EMAIL_MESSAGE_MAX);
	assert_int_equal(big[cut] & 0xc0, 0xc0);
	free(big);

	fx_stop(fx);
	fx_finish(fx);
}

/* A refusal not yet reported when the gateway goes: no callback, and the
 * timer is closed all the same. */
static void test_free_pending(void **state)
{
	struct fx *fx = fx_new();
	struct gateway *gw;
	struct gateway_part p = {.address = "bad", .text = "Subject\nbody", .len = 12};

	(void)state;
	gw = fx_gateway(fx, 0, free_port());
	assert_int_equal(gw->ops->send(gw, &p, on_sent, &fx->slots[0]), 0);
	assert_int_equal(gw->ops->busy(gw), 1);
	fx_stop(fx);
	uv_run(&fx->d.loop, UV_RUN_DEFAULT);
	assert_int_equal(fx->slots[0].calls, 0);
	fx_finish(fx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_delivery, teardown),
		cmocka_unit_test_teardown(test_bad_recipient, teardown),
		cmocka_unit_test_teardown(test_closed_port, teardown),
		cmocka_unit_test_teardown(test_refused, teardown),
		cmocka_unit_test_teardown(test_client_mail, teardown),
		cmocka_unit_test_teardown(test_slow_server, teardown),
		cmocka_unit_test_teardown(test_new, teardown),
		cmocka_unit_test_teardown(test_free_pending, teardown),
	};

	setenv("no_proxy", "*", 1);
	unsetenv("CASEBOT_SMTP_PASSWORD");
	atexit(kill_servers);
	if (sodium_init() < 0)
		return 1;
	build_texts();
	return cmocka_run_group_tests_name("email", tests, NULL, NULL);
}
