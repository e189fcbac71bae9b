/* SPDX-License-Identifier: Apache-2.0 */
/* redact.c - secrets masked in every output, byte for byte ('*'), lengths kept */
#include "redact.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

static const char *const sensitive[] = {"authorization", "proxy-authorization", "cookie",
					"set-cookie"};
#define NSENSITIVE (sizeof(sensitive) / sizeof(sensitive[0]))
#define ALL_MISS ((1u << NSENSITIVE) - 1)

enum { S_NAME, S_LEAD, S_VALUE, S_SKIP };

int redact_init(struct redact *r, const char *const *patterns, int n, char *err, size_t size)
{
	int i, rc;

	memset(r, 0, sizeof(*r));
	if (n > REDACT_MAX_PATTERNS) {
		snprintf(err, size, "at most %d patterns", REDACT_MAX_PATTERNS);
		return -1;
	}
	for (i = 0; i <= n; i++) {
		const char *p = i ? patterns[i - 1] : REDACT_BEARER;

		rc = regcomp(&r->re[i], p, REG_EXTENDED | (i ? 0 : REG_ICASE));
		if (rc) {
			char msg[256];

			regerror(rc, &r->re[i], msg, sizeof(msg));
			snprintf(err, size, "'%s': %s", p, msg);
			redact_free(r);
			return -1;
		}
		r->n = i + 1;
	}
	return 0;
}

void redact_free(struct redact *r)
{
	int i;

	for (i = 0; i < r->n; i++)
		regfree(&r->re[i]);
	r->n = 0;
}

bool redact_header_name(const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < NSENSITIVE; i++)
		if (strlen(sensitive[i]) == len && strncasecmp(name, sensitive[i], len) == 0)
			return true;
	return false;
}

/* The header-line machine: masks the values of sensitive headers, line by line. */
static void mask_headers(struct redact_stream *st, uint8_t *data, size_t len)
{
	size_t i, k;

	for (i = 0; i < len; i++) {
		uint8_t c = data[i];

		if (c == '\n') {
			st->state = S_NAME;
			st->miss = 0;
			st->pos = 0;
			continue;
		}
		switch (st->state) {
		case S_NAME:
			if (c == ':') {
				st->state = S_SKIP;
				for (k = 0; k < NSENSITIVE; k++)
					if (!(st->miss & (1u << k)) &&
					    strlen(sensitive[k]) == st->pos)
						st->state = S_LEAD;
				break;
			}
			if (c >= 'A' && c <= 'Z')
				c += 'a' - 'A';
			for (k = 0; k < NSENSITIVE; k++)
				if (st->pos >= strlen(sensitive[k]) ||
				    sensitive[k][st->pos] != (char)c)
					st->miss |= 1u << k;
			st->pos++;
			if (st->miss == ALL_MISS)
				st->state = S_SKIP;
			break;
		case S_LEAD:
			if (c == ' ' || c == '\t' || c == '\r')
				break;
			st->state = S_VALUE;
			/* fall through */
		case S_VALUE:
			if (c != '\r')
				data[i] = REDACT_MASK;
			break;
		default: /* S_SKIP */
			break;
		}
	}
}

/* Masks every match of the patterns in data[0..len). */
static void mask_patterns(const struct redact *r, uint8_t *data, size_t len)
{
	regmatch_t m[2];
	size_t pos;
	int i;

	for (i = 0; i < r->n; i++) {
		for (pos = 0; pos < len;) {
			const regmatch_t *hit;

			m[0].rm_so = (regoff_t)pos;
			m[0].rm_eo = (regoff_t)len;
			if (regexec(&r->re[i], (const char *)data, 2, m,
				    REG_STARTEND | (pos ? REG_NOTBOL : 0)))
				break;
			hit = r->re[i].re_nsub >= 1 && m[1].rm_so >= 0 ? &m[1] : &m[0];
			memset(data + hit->rm_so, REDACT_MASK, (size_t)(hit->rm_eo - hit->rm_so));
			pos = m[0].rm_eo > (regoff_t)pos ? (size_t)m[0].rm_eo : pos + 1;
		}
	}
}

void redact_bytes(const struct redact *r, struct redact_stream *st, uint8_t *data, size_t len)
{
	mask_headers(st, data, len);
	mask_patterns(r, data, len);
}

void redact_value(const struct redact *r, const char *name, size_t name_len, char *value,
		  size_t len)
{
	if (redact_header_name(name, name_len))
		memset(value, REDACT_MASK, len);
	else
		mask_patterns(r, (uint8_t *)value, len);
}
