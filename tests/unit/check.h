/* SPDX-License-Identifier: Apache-2.0 */
/* check.h - a minimal unit-test harness: CHECK() counts, check_done() reports */
#ifndef TRACER_CHECK_H
#define TRACER_CHECK_H

#include <stdio.h>
#include <string.h>

#include "diag.h"

static int checks_passed, checks_failed;

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (cond) {                                                                        \
			checks_passed++;                                                           \
		} else {                                                                           \
			checks_failed++;                                                           \
			fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);   \
		}                                                                                  \
	} while (0)

#define CHECK_STR(got, want)                                                                       \
	do {                                                                                       \
		const char *g_ = (got), *w_ = (want);                                              \
		if (strcmp(g_, w_) == 0) {                                                         \
			checks_passed++;                                                           \
		} else {                                                                           \
			checks_failed++;                                                           \
			fprintf(stderr, "%s:%d: got \"%s\", want \"%s\"\n", __FILE__, __LINE__,    \
				g_, w_);                                                           \
		}                                                                                  \
	} while (0)

/* Prints the closing line ctest logs show and returns the exit status. */
static inline int check_done(void)
{
	printf("%d passed, %d failed\n", checks_passed, checks_failed);
	return checks_failed ? 1 : 0;
}

/* Runs fn with its output captured into buf (NUL-terminated). */
#define CAPTURE(buf, size, stream, stmt)                                                           \
	do {                                                                                       \
		FILE *stream = fmemopen(buf, size, "w");                                           \
		stmt;                                                                              \
		fclose(stream);                                                                    \
	} while (0)

/* What stmt says through diag (tracer/diag.h), into buf. */
#define CAPTURE_DIAG(buf, size, stmt)                                                              \
	CAPTURE(buf, size, diag_capture_, {                                                        \
		diag_to(diag_capture_);                                                            \
		stmt;                                                                              \
		diag_to(NULL);                                                                     \
	})

#endif
