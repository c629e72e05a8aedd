#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bot/console/html.h"

static void put(struct html *h, const char *s, size_t n)
{
	char *grown;
	size_t cap;

	if (h->failed)
		return;
	if (h->len + n + 1 > h->cap) {
		cap = h->cap != 0 ? h->cap : 4096;
		while (h->len + n + 1 > cap)
			cap *= 2;
		if ((grown = realloc(h->buf, cap)) == NULL) {
			h->failed = 1;
			return;
		}
		h->buf = grown;
		h->cap = cap;
	}
	memcpy(h->buf + h->len, s, n);
	h->len += n;
	h->buf[h->len] = '\0';
}

void html_raw(struct html *h, const char *s)
{
	put(h, s, strlen(s));
}

void html_rawf(struct html *h, const char *fmt, ...)
{
	char one[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(one, sizeof(one), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(one)) {
		h->failed = 1;
		return;
	}
	put(h, one, (size_t)n);
}

void html_text(struct html *h, const char *s)
{
	const char *run = s;

	for (; *s != '\0'; s++) {
		const char *ref;

		switch (*s) {
		case '&': ref = "&amp;"; break;
		case '<': ref = "&lt;"; break;
		case '>': ref = "&gt;"; break;
		case '"': ref = "&quot;"; break;
		case '\'': ref = "&#39;"; break;
		default: continue;
		}
		put(h, run, (size_t)(s - run));
		html_raw(h, ref);
		run = s + 1;
	}
	put(h, run, (size_t)(s - run));
}

void html_csv(struct html *h, const char *s)
{
	const char *run = s;

	put(h, "\"", 1);
	if (*s != '\0' && strchr("=+-@\t\r", *s) != NULL)
		put(h, "'", 1);
	for (; *s != '\0'; s++) {
		if (*s != '"')
			continue;
		put(h, run, (size_t)(s - run + 1));
		put(h, "\"", 1);
		run = s + 1;
	}
	put(h, run, (size_t)(s - run));
	put(h, "\"", 1);
}

void html_free(struct html *h)
{
	free(h->buf);
	memset(h, 0, sizeof(*h));
}
