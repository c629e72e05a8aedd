/* A growing buffer for the console's pages and exports, and the one
 * escaping function every value goes through. */
#ifndef CASEBOT_HTML_H
#define CASEBOT_HTML_H

#include <stddef.h>

struct html {
	char *buf;
	size_t len, cap;
	int failed;          /* out of memory once: the page is not sent */
};

/* Literal markup, written by this program only. */
void html_raw(struct html *h, const char *s);
/* Literal markup with numbers: never pass a value people wrote. */
void html_rawf(struct html *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Text people or the catalogs wrote, escaped for HTML text and for a
 * quoted attribute value alike (& < > " ' become references). */
void html_text(struct html *h, const char *s);
/* One CSV field: quoted, quotes doubled, and a leading = + - @ or tab
 * made inert for spreadsheets (a ' before it). */
void html_csv(struct html *h, const char *s);
void html_free(struct html *h);

#endif
