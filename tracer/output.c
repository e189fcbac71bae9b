/* SPDX-License-Identifier: Apache-2.0 */
/* output.c - the encodings the outputs write bytes in: escaped text, hex dumps, base64,
 * JSON strings; and stdout set up for a stream */
#define _GNU_SOURCE /* F_SETPIPE_SZ */
#include "output.h"

#include <fcntl.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Length of a well-formed UTF-8 sequence at p (2-4 bytes), or 0. C1 controls (U+0080 to
 * U+009F) count as malformed: some terminals act on them. */
static size_t utf8_len(const unsigned char *p, size_t avail)
{
	size_t n, i;
	uint32_t cp;

	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		n = 2;
		cp = p[0] & 0x1f;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		n = 3;
		cp = p[0] & 0x0f;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		n = 4;
		cp = p[0] & 0x07;
	} else {
		return 0;
	}
	if (avail < n)
		return 0;
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp <= 0x9f)
		return 0;
	return n;
}

/* Whether byte c goes into a JSON string as itself. */
static bool plain_json(unsigned char c)
{
	return c >= 0x20 && c < 0x7f && c != '"' && c != '\\';
}

/* 16 bytes compared at once (GCC's and clang's vector extensions: SSE2 on x86-64). */
typedef signed char bytes16 __attribute__((vector_size(16)));

/* Whether a byte of the 16 at p is not printable ASCII (as signed bytes, those from 0x80 on
 * are below 0x20), or is a backslash or `also`. */
static bool block_needs_look(const unsigned char *p, signed char also)
{
	bytes16 v, bad;
	uint64_t w[2];

	memcpy(&v, p, sizeof(v));
	bad = (v < 0x20) | (v > 0x7e) | (v == '\\') | (v == also);
	memcpy(w, &bad, sizeof(w));
	return (w[0] | w[1]) != 0;
}

/*
 * Writes the run of bytes from data[i] on that `plain` keeps as they are; returns its end.
 * Printable ASCII but the backslash and `also` is taken 16 bytes at a time; the rest byte by
 * byte.
 */
static size_t put_run(FILE *out, const unsigned char *data, size_t i, size_t len,
		      bool (*plain)(unsigned char), signed char also)
{
	size_t end = i;

	for (;;) {
		while (end + 16 <= len && !block_needs_look(data + end, also))
			end += 16;
		if (end >= len || !plain(data[end]))
			break;
		end++;
	}
	fwrite(data + i, 1, end - i, out);
	return end;
}

/* How text output shows a byte: "\xHH" (the zero value), itself, "\\\\", or as what follows
 * decides: '\r' is itself before '\n', the first byte of a sequence utf8_len takes too. */
enum { TEXT_HEX, TEXT_SELF, TEXT_BACKSLASH, TEXT_CR, TEXT_UTF8 };

static const unsigned char text_class[256] = {
	['\t'] = TEXT_SELF,	     ['\n'] = TEXT_SELF,      ['\r'] = TEXT_CR,
	[0x20 ... 0x5b] = TEXT_SELF, ['\\'] = TEXT_BACKSLASH, [0x5d ... 0x7e] = TEXT_SELF,
	[0xc2 ... 0xf4] = TEXT_UTF8,
};

/* Each byte's form on its own, filled on first use: its characters, 4 bytes written whatever
 * its width, and the width (1, 2 or 4). */
static uint32_t text_forms[256];
static unsigned char text_widths[256];

static void text_fill(void)
{
	static const char hex[] = "0123456789abcdef";
	int c;

	for (c = 0; c < 256; c++) {
		char form[4] = {'\\', 'x', hex[c >> 4], hex[c & 15]};

		text_widths[c] = 4;
		if (text_class[c] == TEXT_SELF) {
			form[0] = (char)c;
			text_widths[c] = 1;
		} else if (text_class[c] == TEXT_BACKSLASH) {
			form[1] = '\\';
			text_widths[c] = 2;
		}
		memcpy(&text_forms[c], form, sizeof(form));
	}
}

/* How many of the 16 bytes at p, from the first, are printable ASCII but the backslash. */
static size_t block_plain(const unsigned char *p)
{
	bytes16 v, bad;
	uint64_t w[2];

	memcpy(&v, p, sizeof(v));
	bad = (v < 0x20) | (v > 0x7e) | (v == '\\');
	memcpy(w, &bad, sizeof(w));
	if (!(w[0] | w[1]))
		return 16;
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	return w[0] ? (size_t)__builtin_ctzll(w[0]) / 8 : 8 + (size_t)__builtin_ctzll(w[1]) / 8;
#else
	return w[0] ? (size_t)__builtin_clzll(w[0]) / 8 : 8 + (size_t)__builtin_clzll(w[1]) / 8;
#endif
}

/* Bytes escape_some takes one by one before it looks for 16 plain ones again. */
#define TEXT_STEP 4
/* What escape_some may write past the characters it counts: 4 bytes for each of a step's. */
#define TEXT_SLACK (4 * TEXT_STEP)

/*
 * Escapes data[*pos..len) into dst and moves *pos past the bytes it took; returns the
 * characters written. Not `whole`: as much as dst, room bytes, holds. `whole`: all of it
 * within room characters, else it stops once it is sure that cannot be (every byte left takes
 * a character at least) and returns more than room; dst holds room + TEXT_SLACK bytes. Plain
 * bytes go 16 at a time, the others TEXT_STEP at a time by their forms.
 */
static size_t escape_some(char *dst, size_t room, const unsigned char *data, size_t len,
			  size_t *pos, bool whole)
{
	size_t i = *pos, n = 0, k, j;
	unsigned char c;

	if (!text_widths[0])
		text_fill();
	while (i < len) {
		if (whole ? n + (len - i) > room : n + TEXT_SLACK > room)
			break; /* whole: cannot fit; else: no room for a step */
		/* 16 bytes written, the plain ones counted; room left for a step after them */
		while (i + 16 <= len && (whole || n + 16 + TEXT_SLACK <= room)) {
			k = block_plain(data + i);
			memcpy(dst + n, data + i, 16);
			n += k;
			i += k;
			if (k < 16)
				break;
		}
		for (j = 0; j < TEXT_STEP && i < len; j++) {
			c = data[i];
			if (text_class[c] >= TEXT_CR) {
				if (text_class[c] == TEXT_CR)
					k = i + 1 < len && data[i + 1] == '\n';
				else
					k = utf8_len(data + i, len - i);
				if (k) { /* itself */
					memcpy(dst + n, data + i, i + 4 <= len ? 4 : k);
					n += k;
					i += k;
					continue;
				}
			}
			memcpy(dst + n, &text_forms[c], 4);
			n += text_widths[c];
			i++;
		}
	}
	*pos = i;
	return whole && i < len ? room + 1 : n;
}

/* The sum of the 8 bytes of w, when it is below 256. */
static size_t byte_sum(uint64_t w)
{
	return (size_t)((w * 0x0101010101010101ull) >> 56);
}

/*
 * Whether data[0..len) escaped certainly takes more than room characters, by a lower bound
 * counted 16 bytes at a time: a character a byte, one more a backslash, three more a byte
 * that is "\xHH" whatever its neighbours (a control but '\t', '\n' and '\r'; DEL; a byte no
 * UTF-8 has; a continuation byte after an ASCII one; a first byte without a continuation
 * byte after it). It tells binary bytes fast (random ones come to 2.3 characters a byte by
 * it, 2.7 escaped) and gives up on the first 128 bytes whose pace would not get there.
 */
static bool text_too_long(const unsigned char *data, size_t len, size_t room)
{
	typedef unsigned char ubytes16 __attribute__((vector_size(16)));
	ubytes16 v, prev, next, sum;
	bytes16 hex;
	uint64_t w[2];
	size_t i, j, more = 0, slice;

	if (len > room)
		return true;
	for (i = 1; i + 128 + 1 <= len; i += 128) {
		sum = (ubytes16){0}; /* at most 3 * 8 in a lane, 8 * 24 in a byte_sum */
		for (j = i; j < i + 128; j += 16) {
			memcpy(&v, data + j, sizeof(v));
			memcpy(&prev, data + j - 1, sizeof(prev));
			memcpy(&next, data + j + 1, sizeof(next));
			hex = ((v < 0x20) & (v != '\t') & (v != '\n') & (v != '\r')) | (v == 0x7f) |
			      (v - 0xc0 < 2) | (v >= 0xf5) |
			      (((v & 0xc0) == 0x80) & (prev < 0x80)) |
			      ((v - 0xc2 <= 0xf4 - 0xc2) & ((next & 0xc0) != 0x80));
			sum += ((ubytes16)hex & 3) + ((ubytes16)(v == '\\') & 1);
		}
		memcpy(w, &sum, sizeof(w));
		slice = byte_sum(w[0]) + byte_sum(w[1]);
		more += slice;
		if (len + more > room)
			return true;
		if (more + slice * ((len - i) / 128) <= room - len)
			return false; /* the rest at this pace would not get there */
	}
	return false;
}

void output_escape(FILE *out, const unsigned char *data, size_t len)
{
	char buf[16384];
	size_t i = 0, n;

	while (i < len) {
		n = escape_some(buf, sizeof(buf), data, len, &i, false);
		fwrite(buf, 1, n, out);
	}
}

void output_hexdump(FILE *out, const unsigned char *data, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	char line[96];
	size_t off, i, n;

	for (off = 0; off < len; off += 16) {
		n = (size_t)snprintf(line, sizeof(line), "%08zx ", off);
		for (i = 0; i < 16; i++) {
			if (i == 8)
				line[n++] = ' ';
			line[n++] = ' ';
			line[n++] = off + i < len ? hex[data[off + i] >> 4] : ' ';
			line[n++] = off + i < len ? hex[data[off + i] & 15] : ' ';
		}
		memcpy(line + n, "  |", 3);
		n += 3;
		for (i = 0; i < 16 && off + i < len; i++) {
			unsigned char c = data[off + i];

			line[n++] = c >= 0x20 && c < 0x7f ? (char)c : '.';
		}
		line[n++] = '|';
		line[n++] = '\n';
		fwrite(line, 1, n, out);
	}
}

static const char b64_alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Base64 of every 12 bits: two characters of the alphabet, filled on first use. */
static uint16_t b64_pairs[4096];

static void b64_fill(void)
{
	char pair[2];
	int i;

	for (i = 0; i < 4096; i++) {
		pair[0] = b64_alphabet[i >> 6];
		pair[1] = b64_alphabet[i & 63];
		memcpy(&b64_pairs[i], pair, sizeof(pair));
	}
}

#if defined(__x86_64__)
/*
 * Base64 of the first bytes of in[0..len), 24 at a time while 28 can be read, with AVX2 byte
 * shuffles (the method W. Mula described), 12 bytes in each 128-bit half: each 3-byte group
 * is spread over a 32-bit lane as b a c b, two masks and two 16-bit multiplies move its four
 * 6-bit fields into one byte each, and each field becomes its character by adding the offset
 * of its range, looked up by a shuffle. Writes 32 characters per 24 bytes to out; returns
 * the bytes taken.
 */
__attribute__((target("avx2"))) static size_t b64_avx2(char *out, const unsigned char *in,
						       size_t len)
{
	const __m256i spread = _mm256_setr_epi8(1, 0, 2, 1, 4, 3, 5, 4, 7, 6, 8, 7, 10, 9, 11, 10,
						1, 0, 2, 1, 4, 3, 5, 4, 7, 6, 8, 7, 10, 9, 11, 10);
	/* by range: 26..51 'a'-26, 52..61 '0'-52, 62 '+'-62, 63 '/'-63, 0..25 'A' */
	const __m256i offsets =
		_mm256_setr_epi8(71, -4, -4, -4, -4, -4, -4, -4, -4, -4, -4, -19, -16, 65, 0, 0, 71,
				 -4, -4, -4, -4, -4, -4, -4, -4, -4, -4, -19, -16, 65, 0, 0);
	size_t i;

	for (i = 0; i + 28 <= len; i += 24, out += 32) {
		__m256i x = _mm256_inserti128_si256(
			_mm256_castsi128_si256(_mm_loadu_si128((const __m128i *)(in + i))),
			_mm_loadu_si128((const __m128i *)(in + i + 12)), 1);
		__m256i hi, lo, idx, range, letters;

		x = _mm256_shuffle_epi8(x, spread);
		hi = _mm256_mulhi_epu16(_mm256_and_si256(x, _mm256_set1_epi32(0x0fc0fc00)),
					_mm256_set1_epi32(0x04000040));
		lo = _mm256_mullo_epi16(_mm256_and_si256(x, _mm256_set1_epi32(0x003f03f0)),
					_mm256_set1_epi32(0x01000010));
		idx = _mm256_or_si256(hi, lo);
		range = _mm256_subs_epu8(idx, _mm256_set1_epi8(51));	/* 52..63: 1..12 */
		letters = _mm256_cmpgt_epi8(_mm256_set1_epi8(26), idx); /* 0..25 */
		range = _mm256_or_si256(range, _mm256_and_si256(letters, _mm256_set1_epi8(13)));
		_mm256_storeu_si256((__m256i *)out,
				    _mm256_add_epi8(idx, _mm256_shuffle_epi8(offsets, range)));
	}
	return i;
}
#endif

/* Base64 of as many bytes of data[0..len) as the vector code takes (a multiple of 3) into
 * out; returns how many. */
static size_t b64_blocks(char *out, const unsigned char *data, size_t len)
{
#if defined(__x86_64__)
	static int avx2 = -1;

	if (avx2 < 0)
		avx2 = __builtin_cpu_supports("avx2");
	if (avx2)
		return b64_avx2(out, data, len);
#endif
	(void)out;
	(void)data;
	(void)len;
	return 0;
}

/* Base64 of data[0..len) with padding into dst; returns the characters written. */
static size_t b64_encode(char *dst, const unsigned char *data, size_t len)
{
	size_t i = 0, n;

	if (!b64_pairs[0])
		b64_fill();
	if (len >= 28)
		i = b64_blocks(dst, data, len); /* vectors first */
	n = i / 3 * 4;
	/* Six bytes at a time, as eight characters: four lookups of two. */
	for (; i + 6 <= len; i += 6) {
		uint64_t v = (uint64_t)data[i] << 40 | (uint64_t)data[i + 1] << 32 |
			     (uint64_t)data[i + 2] << 24 | (uint64_t)data[i + 3] << 16 |
			     (uint64_t)data[i + 4] << 8 | data[i + 5];
		uint16_t quad[4] = {b64_pairs[v >> 36], b64_pairs[(v >> 24) & 4095],
				    b64_pairs[(v >> 12) & 4095], b64_pairs[v & 4095]};

		memcpy(dst + n, quad, sizeof(quad));
		n += sizeof(quad);
	}
	for (; i + 2 < len; i += 3) {
		uint32_t v = (uint32_t)data[i] << 16 | (uint32_t)data[i + 1] << 8 | data[i + 2];

		memcpy(dst + n, &b64_pairs[v >> 12], 2);
		memcpy(dst + n + 2, &b64_pairs[v & 4095], 2);
		n += 4;
	}
	if (i < len) {
		uint32_t v =
			(uint32_t)data[i] << 16 | (i + 1 < len ? (uint32_t)data[i + 1] << 8 : 0);

		dst[n++] = b64_alphabet[v >> 18];
		dst[n++] = b64_alphabet[(v >> 12) & 63];
		dst[n++] = i + 1 < len ? b64_alphabet[(v >> 6) & 63] : '=';
		dst[n++] = '=';
	}
	return n;
}

void output_base64(FILE *out, const unsigned char *data, size_t len)
{
	char buf[8192];
	size_t i, take;

	/* 6000 bytes (8000 characters) at a time */
	for (i = 0; i < len; i += take) {
		take = len - i < 6000 ? len - i : 6000;
		fwrite(buf, 1, b64_encode(buf, data + i, take), out);
	}
}

/* Base64 in lines of 76 characters (57 bytes), each ending in a newline, as base64(1) writes
 * them: 64 lines encoded at once, then copied out a line at a time. */
static void base64_lines(FILE *out, const unsigned char *data, size_t len)
{
	char chars[64 * 76], lines[3 * 64 * 77];
	size_t i, j, n = 0, took, c;

	for (i = 0; i < len; i += took) {
		took = len - i < 64 * 57 ? len - i : 64 * 57;
		c = b64_encode(chars, data + i, took);
		if (n + 64 * 77 > sizeof(lines)) {
			fwrite(lines, 1, n, out);
			n = 0;
		}
		for (j = 0; j + 76 <= c; j += 76, n += 77) {
			memcpy(lines + n, chars + j, 76);
			lines[n + 76] = '\n';
		}
		if (j < c) {
			memcpy(lines + n, chars + j, c - j);
			n += c - j;
			lines[n++] = '\n';
		}
	}
	fwrite(lines, 1, n, out);
}

/* Characters of len bytes in base64 lines (base64_lines), newlines included. */
static size_t base64_lines_size(size_t len)
{
	size_t chars = (len + 2) / 3 * 4;

	return chars + (chars + 75) / 76;
}

void output_setup_stdout(void)
{
	static char buf[OUTPUT_BUFFER_SIZE]; /* glibc sizes a buffer it allocates itself */
	struct stat st;

	if (isatty(STDOUT_FILENO))
		return; /* a person reads it: line by line */
	setvbuf(stdout, buf, _IOFBF, sizeof(buf));
	/* A pipe holds 64 KiB: its reader would be woken every 64 KiB. Refused (a pipe of
	 * another user's limits): it keeps its size, which only costs time. */
	if (fstat(STDOUT_FILENO, &st) == 0 && S_ISFIFO(st.st_mode))
		(void)fcntl(STDOUT_FILENO, F_SETPIPE_SZ, OUTPUT_BUFFER_SIZE);
}
/*
 * A payload between the DATA markers as text, or as base64 lines when its text would take
 * more room: text never takes more than base64, so the output keeps up with any bytes (random
 * bytes escaped take 2.7 times their size, base64 4/3). Binary bytes are told by a quick look
 * (text_too_long); the rest is escaped into a buffer of base64's size, given up as soon as it
 * cannot fit. A newline ends the text if it has none. A payload of TEXT_ALWAYS bytes or
 * fewer is always text: a short message with a few control bytes stays readable.
 */
#define TEXT_ALWAYS 128
void output_payload(FILE *out, const unsigned char *data, size_t len)
{
	bool newline = len > 0 && data[len - 1] != '\n';
	size_t room = base64_lines_size(len) - newline, pos = 0, n = 0;
	bool text = len <= TEXT_ALWAYS || !text_too_long(data, len, room);
	char *buf = text && len > TEXT_ALWAYS ? malloc(room + TEXT_SLACK) : NULL;

	if (buf)
		text = (n = escape_some(buf, room, data, len, &pos, true)) <= room;
	if (text) {
		fputs("----- DATA -----\n", out);
		if (buf)
			fwrite(buf, 1, n, out);
		else /* nothing, or no memory for it: the text as it comes */
			output_escape(out, data, len);
		if (newline)
			fputc('\n', out);
	} else {
		fputs("----- DATA (base64) -----\n", out);
		base64_lines(out, data, len);
	}
	free(buf);
}

void output_json_string(FILE *out, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, u;

	fputc('"', out);
	while ((i = put_run(out, p, i, len, plain_json, '"')) < len) {
		unsigned char c = p[i];

		if (c == '"' || c == '\\') {
			char esc[2] = {'\\', (char)c};

			fwrite(esc, 1, sizeof(esc), out);
		} else if (c >= 0x80 && (u = utf8_len(p + i, len - i)) > 0) {
			fwrite(p + i, 1, u, out);
			i += u;
			continue;
		} else {
			fprintf(out, "\\u%04x", c);
		}
		i++;
	}
	fputc('"', out);
}
