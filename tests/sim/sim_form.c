#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "bot/casebot.h"
#include "tests/sim/sim_form.h"

struct phr_header {
	const char *name;
	size_t name_len;
	const char *value;
	size_t value_len;
};
int phr_parse_headers(const char *buf, size_t len, struct phr_header *headers, size_t *num_headers,
		      size_t last_len);

/* A parameter of a header value: name="value" or name=value. */
int sim_form_header_param(const char *v, size_t vlen, const char *name, char *out, size_t cap)
{
	size_t nlen = strlen(name), i = 0, k = 0;

	for (i = 0; i + nlen < vlen; i++) {
		if ((i == 0 || v[i - 1] == ';' || v[i - 1] == ' ') &&
		    strncasecmp(v + i, name, nlen) == 0 && v[i + nlen] == '=') {
			i += nlen + 1;
			if (i < vlen && v[i] == '"') {
				for (i++; i < vlen && v[i] != '"' && k + 1 < cap; i++)
					out[k++] = v[i];
			} else {
				for (; i < vlen && v[i] != ';' && v[i] != ' ' && k + 1 < cap; i++)
					out[k++] = v[i];
			}
			out[k] = '\0';
			return 0;
		}
	}
	return -CB_ENOENT;
}

/* The first occurrence of needle in hay (memmem is a GNU extension). */
static const char *find_bytes(const char *hay, size_t len, const char *needle, size_t nlen)
{
	const char *p = hay, *end = hay + len;

	while (nlen > 0 && (size_t)(end - p) >= nlen &&
	       (p = memchr(p, needle[0], (size_t)(end - p) - nlen + 1)) != NULL) {
		if (memcmp(p, needle, nlen) == 0)
			return p;
		p++;
	}
	return NULL;
}

/* Splits a multipart/form-data body on its boundary (RFC 7578); each part's
 * headers go through picohttpparser. */
int sim_form_parse(const char *body, size_t len, const char *boundary, struct sim_part *parts, int max)
{
	char delim[128];
	size_t dlen;
	const char *p, *end = body + len, *next;
	int n = 0;

	if ((size_t)snprintf(delim, sizeof(delim), "--%s", boundary) >= sizeof(delim))
		return -CB_EINVAL;
	dlen = strlen(delim);
	if ((p = find_bytes(body, len, delim, dlen)) == NULL)
		return -CB_EINVAL;
	for (;;) {
		struct phr_header hdrs[8];
		size_t nh = CB_ARRAY_SIZE(hdrs), i;
		int hl;

		p += dlen;
		if (end - p >= 2 && p[0] == '-' && p[1] == '-')
			return n;
		if (end - p < 2 || p[0] != '\r' || p[1] != '\n')
			return -CB_EINVAL;
		p += 2;
		if ((hl = phr_parse_headers(p, (size_t)(end - p), hdrs, &nh, 0)) <= 0)
			return -CB_EINVAL;
		if ((next = find_bytes(p + hl, (size_t)(end - p - hl), delim, dlen)) == NULL ||
		    next - (p + hl) < 2)
			return -CB_EINVAL;
		if (n >= max)
			return -CB_ETOOBIG;
		memset(&parts[n], 0, sizeof(parts[n]));
		for (i = 0; i < nh; i++) {
			if (hdrs[i].name_len == 19 && strncasecmp(hdrs[i].name, "content-disposition", 19) == 0) {
				sim_form_header_param(hdrs[i].value, hdrs[i].value_len, "name", parts[n].name,
				             sizeof(parts[n].name));
				sim_form_header_param(hdrs[i].value, hdrs[i].value_len, "filename", parts[n].filename,
				             sizeof(parts[n].filename));
			} else if (hdrs[i].name_len == 12 && strncasecmp(hdrs[i].name, "content-type", 12) == 0 &&
			           hdrs[i].value_len < sizeof(parts[n].ctype)) {
				memcpy(parts[n].ctype, hdrs[i].value, hdrs[i].value_len);
				parts[n].ctype[hdrs[i].value_len] = '\0';
			}
		}
		parts[n].data = p + hl;
		parts[n].len = (size_t)(next - (p + hl)) - 2;   /* the CRLF before the delimiter */
		n++;
		p = next;
	}
}

