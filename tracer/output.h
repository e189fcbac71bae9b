/* output.h - sslsniff-like text output: header, rows, escaped payloads, hex dumps */
#ifndef TRACER_OUTPUT_H
#define TRACER_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* A call's plaintext (text modes: the whole call; JSON: one chunk) as the output sees it. */
struct out_event {
	const char *func;
	const char *lib;
	const char *comm;
	uint64_t time_ns; /* text: since tracing started; JSON: Unix time */
	uint32_t pid, tid, uid;
	bool write; /* the process sent this (else it received it) */
	uint64_t call_id;
	uint32_t len;	 /* bytes the call moved */
	uint32_t offset; /* where data starts within the call */
	const unsigned char *data;
	uint32_t data_len;  /* bytes captured here */
	uint32_t truncated; /* bytes of the call beyond the capture limit (0 but on the end) */
	uint32_t lost;	    /* bytes of the call that never arrived (text modes) */
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

/* A row, then the payload between DATA markers; the end marker says what is missing. */
void output_event(FILE *out, const struct out_event *ev, bool hexdump);

/* Writes len bytes as a JSON string with its quotes; bytes that are not UTF-8 as \u00XX. */
void output_json_string(FILE *out, const char *s, size_t len);

/* Writes len bytes as RFC 4648 base64 with padding. */
void output_base64(FILE *out, const unsigned char *data, size_t len);

/* One JSON line: {"v":1,"type":"data",...} for a chunk. */
void output_json_data(FILE *out, const struct out_event *ev);

#endif
