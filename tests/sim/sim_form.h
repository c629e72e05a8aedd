/* multipart/form-data bodies (RFC 7578), as the simulators' upload
 * endpoints read them: each part's headers go through picohttpparser,
 * inside libh2o, so none is parsed by hand. */
#ifndef CASEBOT_SIM_FORM_H
#define CASEBOT_SIM_FORM_H

#include <stddef.h>

#define SIM_FORM_PARTS_MAX 16

struct sim_part {
	char name[64];
	char filename[256];
	char ctype[128];
	const char *data;        /* into the body */
	size_t len;
};

/* A parameter of a header value: name="value" or name=value. */
int sim_form_header_param(const char *v, size_t vlen, const char *name, char *out, size_t cap);
/* Splits body on its boundary; the number of parts, or a negative code. */
int sim_form_parse(const char *body, size_t len, const char *boundary, struct sim_part *parts, int max);

#endif
