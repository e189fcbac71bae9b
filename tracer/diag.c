/* SPDX-License-Identifier: Apache-2.0 */
/* diag.c - where the program's diagnostics go */
#include "diag.h"

static FILE *diag_out;

void diag_to(FILE *stream)
{
	diag_out = stream;
}

FILE *diag_stream(void)
{
	return diag_out ? diag_out : stderr;
}

void vdiag(const char *fmt, va_list ap)
{
	vfprintf(diag_stream(), fmt, ap);
}

void diag(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vdiag(fmt, ap);
	va_end(ap);
}
