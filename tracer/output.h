/* output.h - sslsniff-like text output: header, rows, escaped payloads, hex dumps */
#ifndef TRACER_OUTPUT_H
#define TRACER_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* One call's plaintext as the output sees it. */
struct out_event {
	const char *func;
	uint64_t time_ns; /* since tracing started */
	const char *comm;
	uint32_t pid, tid;
	uint32_t len; /* bytes the call moved */
	const unsigned char *data;
	uint32_t data_len; /* bytes captured, <= len */
};

/*
 * Writes bytes so no byte can drive the terminal: printable ASCII, '\n', '\t', "\r\n" and
 * well-formed UTF-8 (but C1 controls) pass; '\\' becomes "\\\\"; every other byte "\xHH".
 */
void output_escape(FILE *out, const unsigned char *data, size_t len);

/* Writes 16 bytes a line: offset, hex, and the printable ASCII ('.' for the rest). */
void output_hexdump(FILE *out, const unsigned char *data, size_t len);

/* The column header, same widths as output_event's rows. */
void output_header(FILE *out);

/* A row, then the payload between DATA markers, marked TRUNCATED when bytes are missing. */
void output_event(FILE *out, const struct out_event *ev, bool hexdump);

#endif
