/* SPDX-License-Identifier: Apache-2.0 */
/* redact.h - secrets masked in every output, byte for byte ('*'), lengths kept */
#ifndef TRACER_REDACT_H
#define TRACER_REDACT_H

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define REDACT_MAX_PATTERNS 16
#define REDACT_MASK '*'

/* Built in: the token of "Bearer <token>" anywhere in the data. */
#define REDACT_BEARER "bearer[ \t]+([a-z0-9._~+/=-]+)" /* case-insensitive */

struct redact {
	regex_t re[REDACT_MAX_PATTERNS + 1]; /* [0]: the bearer token; then --redact-pattern */
	int n;
};

/*
 * Where one byte stream (a connection's direction) is within a header line, across the
 * calls that carry it: the value of a sensitive header is masked even when the line is
 * split between two calls.
 */
struct redact_stream {
	uint8_t state;
	uint8_t miss; /* sensitive names the line's name no longer matches (bit per name) */
	uint16_t pos; /* characters of the name seen */
};

/*
 * Compiles the bearer pattern and the user's (POSIX extended regular expressions). A
 * pattern with a group masks what its first group matched, else the whole match. Returns
 * 0, or -1 with the failing pattern's message in err.
 */
int redact_init(struct redact *r, const char *const *patterns, int n, char *err, size_t size);

void redact_free(struct redact *r);

/* Whether a header of this name has its value masked (Authorization, Proxy-Authorization,
 * Cookie, Set-Cookie; case does not matter). */
bool redact_header_name(const char *name, size_t len);

/* Masks sensitive header values of the bytes of one stream (st carries the line state from
 * the previous call), the bearer token and the patterns' matches in data, in place.
 * data[len] must be a NUL: regexec matches within len (REG_STARTEND), but sanitizers'
 * regexec reads the string to its NUL. */
void redact_bytes(const struct redact *r, struct redact_stream *st, uint8_t *data, size_t len);

/* Masks a header value: the whole value for sensitive names, else the patterns' matches. */
void redact_value(const struct redact *r, const char *name, size_t name_len, char *value,
		  size_t len);

#endif
