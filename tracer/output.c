/* output.c - sslsniff-like text output: header, rows, escaped payloads, hex dumps */
#define _GNU_SOURCE /* F_SETPIPE_SZ */
#include "output.h"

#include <fcntl.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "x509.h"

#define ROW_FMT "%-19s %-12s %-16s %-7s %-7s %s\n"
#define LEN_LAT_FMT "%-7s %s" /* -l: LEN and LAT(ms) as the last column */

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

void output_header(FILE *out, bool latency)
{
	char last[32];

	snprintf(last, sizeof(last), LEN_LAT_FMT, "LEN", "LAT(ms)");
	fprintf(out, ROW_FMT, "FUNC", "TIME(s)", "COMM", "PID", "TID", latency ? last : "LEN");
}

/* A row's columns up to TID and then `last`: FUNC TIME(s) COMM PID TID last. */
static void put_row(FILE *out, const struct out_event *ev, const char *last)
{
	char time[32], pid[16], tid[16], comm[17];
	size_t i;

	/* The command name is chosen by the traced program: keep it printable. */
	for (i = 0; i < sizeof(comm) - 1 && ev->comm[i]; i++)
		comm[i] = ev->comm[i] >= 0x20 && ev->comm[i] < 0x7f ? ev->comm[i] : '?';
	comm[i] = '\0';
	snprintf(time, sizeof(time), "%llu.%09llu", (unsigned long long)(ev->time_ns / 1000000000),
		 (unsigned long long)(ev->time_ns % 1000000000));
	snprintf(pid, sizeof(pid), "%u", ev->pid);
	snprintf(tid, sizeof(tid), "%u", ev->tid);
	fprintf(out, ROW_FMT, ev->func, time, comm, pid, tid, last);
}

/* Milliseconds with three decimals: "12.345". */
static void format_ms(char *buf, size_t size, uint64_t ns)
{
	snprintf(buf, size, "%llu.%03llu", (unsigned long long)(ns / 1000000),
		 (unsigned long long)(ns / 1000 % 1000));
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
static void put_payload(FILE *out, const unsigned char *data, size_t len)
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

void output_event(FILE *out, const struct out_event *ev, bool hexdump, bool latency)
{
	char len[16], lat[32], last[64];

	snprintf(len, sizeof(len), "%u", ev->len);
	if (latency) {
		format_ms(lat, sizeof(lat), ev->latency_ns);
		snprintf(last, sizeof(last), LEN_LAT_FMT, len, lat);
	}
	put_row(out, ev, latency ? last : len);

	if (hexdump) {
		fputs("----- DATA -----\n", out);
		output_hexdump(out, ev->data, ev->data_len);
	} else {
		put_payload(out, ev->data, ev->data_len);
	}
	if (ev->truncated && ev->lost)
		fprintf(out,
			"----- END DATA (TRUNCATED, %u bytes not shown; LOST, %u bytes) -----\n",
			ev->truncated, ev->lost);
	else if (ev->truncated)
		fprintf(out, "----- END DATA (TRUNCATED, %u bytes not shown) -----\n",
			ev->truncated);
	else if (ev->lost)
		fprintf(out, "----- END DATA (LOST, %u bytes not captured) -----\n", ev->lost);
	else
		fputs("----- END DATA -----\n", out);
}

/* " (conn 3)" or "" when the connection is unknown. */
static void conn_suffix(char *buf, size_t size, const struct out_event *ev)
{
	if (ev->conn)
		snprintf(buf, size, " (conn %llu)", (unsigned long long)ev->conn);
	else
		buf[0] = '\0';
}

/* "; sni example.com, alpn h2,http/1.1; TLSv1.3, TLS_AES_128_GCM_SHA256": what the
 * connection's hellos said, if any was seen. */
static void put_hellos(FILE *out, const struct out_event *ev)
{
	char said[HELLO_SNI_LEN + HELLO_ALPN_LEN + 64];
	int i;

	for (i = 0; ev->hello && i < 2; i++) {
		if (!ev->hello[i].side)
			continue;
		hello_describe(&ev->hello[i], said, sizeof(said));
		if (said[0])
			fprintf(out, "; %s", said);
	}
}

/* "; container docker 0123456789ab, pod UID" or "; cgroup /a/b": where the process runs,
 * when it is not the hierarchy's root */
static void put_cgroup(FILE *out, const struct cgroup_label *cg)
{
	char said[CGROUP_DESCRIBE_LEN];

	cgroup_describe(cg, true, said, sizeof(said));
	if (said[0])
		fprintf(out, "; %s", said);
}

void output_conn_line(FILE *out, const struct out_event *ev)
{
	char local[CONN_ADDR_LEN + 8], remote[CONN_ADDR_LEN + 8];

	if (!ev->conn) {
		fputs("--- connection unknown: no socket seen for this session ---\n", out);
		return;
	}
	if (!ev->addr) {
		fprintf(out, "--- conn %llu, fd %d: addresses unknown (%s)",
			(unsigned long long)ev->conn, ev->fd, ev->conn_why ? ev->conn_why : "?");
		put_hellos(out, ev);
		put_cgroup(out, ev->cgroup);
		fputs(" ---\n", out);
		return;
	}
	conns_format_end(local, sizeof(local), ev->addr->family, ev->addr->laddr, ev->addr->lport);
	conns_format_end(remote, sizeof(remote), ev->addr->family, ev->addr->raddr,
			 ev->addr->rport);
	fprintf(out, "--- conn %llu, fd %d: local %s, remote %s", (unsigned long long)ev->conn,
		ev->fd, local, remote);
	put_hellos(out, ev);
	put_cgroup(out, ev->cgroup);
	fputs(" ---\n", out);
}

void output_handshake(FILE *out, const struct out_event *ev)
{
	char lat[32], conn[32], last[128];

	format_ms(lat, sizeof(lat), ev->latency_ns);
	conn_suffix(conn, sizeof(conn), ev);
	if (ev->ok)
		snprintf(last, sizeof(last), "handshake ok in %s ms%s", lat, conn);
	else
		snprintf(last, sizeof(last), "handshake FAILED (returned %lld) after %s ms%s",
			 (long long)ev->result, lat, conn);
	put_row(out, ev, last);
}

void output_verify(FILE *out, const struct out_event *ev)
{
	const char *name = x509_error_name((long)ev->result);
	char conn[32], last[160];

	conn_suffix(conn, sizeof(conn), ev);
	snprintf(last, sizeof(last), "verify %s: %lld %s%s", ev->result ? "FAILED" : "ok",
		 (long long)ev->result, name ? name : "(unknown X509_V_ value)", conn);
	put_row(out, ev, last);
}

void output_verify_off(FILE *out, const struct out_event *ev)
{
	char conn[32], last[256];

	conn_suffix(conn, sizeof(conn), ev);
	snprintf(last, sizeof(last),
		 "WARNING: certificate verification disabled (mode %lld, no SSL_VERIFY_PEER): a "
		 "client accepts any server certificate%s",
		 (long long)ev->result, conn);
	put_row(out, ev, last);
}

void output_hello(FILE *out, const struct out_event *ev, const struct hello *h)
{
	char said[HELLO_SNI_LEN + HELLO_ALPN_LEN + 64], conn[32], last[HELLO_SNI_LEN + 256];

	hello_describe(h, said, sizeof(said));
	conn_suffix(conn, sizeof(conn), ev);
	snprintf(last, sizeof(last), "%s hello%s%s%s%s%s",
		 h->side == HELLO_CLIENT ? "client" : "server", ev->write ? "" : " received",
		 said[0] ? ": " : "", said, h->cut ? " (its first bytes only)" : "", conn);
	put_row(out, ev, last);
}

/* "server certificate 0" (who: "server", "client" or NULL: the peer's) */
static void cert_who(char *buf, size_t size, const char *who, int depth)
{
	if (depth >= 0)
		snprintf(buf, size, "%s certificate %d", who ? who : "peer", depth);
	else
		snprintf(buf, size, "%s certificate", who ? who : "peer");
}

void output_cert(FILE *out, const struct out_event *ev, const struct cert_info *c, const char *who,
		 int depth)
{
	char conn[32], name[48], from[24], to[24], last[CERT_NAME_LEN * 2 + CERT_SAN_LEN + 512];

	conn_suffix(conn, sizeof(conn), ev);
	cert_who(name, sizeof(name), who, depth);
	cert_time(c->not_before, from, sizeof(from));
	cert_time(c->not_after, to, sizeof(to));
	snprintf(last, sizeof(last),
		 "%s: %s; issuer %s%s%s; serial %s; %s; valid %s to %s; sha256 %s%s", name,
		 c->subject, c->issuer, c->san[0] ? "; " : "", c->san, c->serial, c->key, from, to,
		 c->sha256, conn);
	put_row(out, ev, last);
}

void output_cert_expiry(FILE *out, const struct out_event *ev, const struct cert_info *c,
			const char *who, int depth, int64_t days_left)
{
	char conn[32], name[48], to[24], last[CERT_NAME_LEN + 256];

	conn_suffix(conn, sizeof(conn), ev);
	cert_who(name, sizeof(name), who, depth);
	cert_time(c->not_after, to, sizeof(to));
	if (days_left < 0)
		snprintf(last, sizeof(last), "WARNING: %s %s expired on %s%s", name, c->subject, to,
			 conn);
	else
		snprintf(last, sizeof(last), "WARNING: %s %s expires in %lld day%s, on %s%s", name,
			 c->subject, (long long)days_left, days_left == 1 ? "" : "s", to, conn);
	put_row(out, ev, last);
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

/* ,"name":"value" or ,"name":null */
static void json_opt_string(FILE *out, const char *name, const char *value)
{
	fprintf(out, ",\"%s\":", name);
	if (value)
		output_json_string(out, value, strlen(value));
	else
		fputs("null", out);
}

/* ,"cgroup_id":..,"cgroup":.. and, where its path names them, "runtime", "container", "pod" */
static void json_cgroup(FILE *out, const struct cgroup_label *cg)
{
	if (!cg)
		return;
	fprintf(out, ",\"cgroup_id\":%llu", (unsigned long long)cg->id);
	json_opt_string(out, "cgroup", cg->path);
	if (cg->container[0]) {
		json_opt_string(out, "runtime", cg->runtime);
		json_opt_string(out, "container", cg->container);
	}
	if (cg->pod[0])
		json_opt_string(out, "pod", cg->pod);
}

/* {"v":1,"type":T,"time_ns":..,"pid":..,"tid":..,"uid":..,"comm":.. and the cgroup (no
 * closing brace) */
static void json_begin(FILE *out, const char *type, const struct out_event *ev)
{
	fprintf(out,
		"{\"v\":1,\"type\":\"%s\",\"time_ns\":%llu,\"pid\":%u,\"tid\":%u,"
		"\"uid\":%u,\"comm\":",
		type, (unsigned long long)ev->time_ns, ev->pid, ev->tid, ev->uid);
	output_json_string(out, ev->comm, strlen(ev->comm));
	json_cgroup(out, ev->cgroup);
}

/* ,"lib":..,"func":.. */
static void json_func(FILE *out, const struct out_event *ev)
{
	fputs(",\"lib\":", out);
	output_json_string(out, ev->lib, strlen(ev->lib));
	fputs(",\"func\":", out);
	output_json_string(out, ev->func, strlen(ev->func));
}

/* ,"fd":..,"conn":..,"laddr":..,"lport":..,"raddr":..,"rport":.. (null when unknown) */
static void json_conn(FILE *out, const struct out_event *ev)
{
	if (ev->fd >= 0)
		fprintf(out, ",\"fd\":%d", ev->fd);
	else
		fputs(",\"fd\":null", out);
	if (ev->conn)
		fprintf(out, ",\"conn\":%llu", (unsigned long long)ev->conn);
	else
		fputs(",\"conn\":null", out);
	if (ev->addr)
		fprintf(out,
			",\"family\":\"%s\",\"laddr\":\"%s\",\"lport\":%u,\"raddr\":\"%s\","
			"\"rport\":%u",
			ev->addr->family == AF_INET6 ? "ipv6" : "ipv4", ev->addr->laddr,
			(unsigned)ev->addr->lport, ev->addr->raddr, (unsigned)ev->addr->rport);
	else
		fputs(",\"family\":null,\"laddr\":null,\"lport\":null,\"raddr\":null,"
		      "\"rport\":null",
		      out);
	if (ev->hello && ev->hello[0].sni[0]) {
		fputs(",\"sni\":", out);
		output_json_string(out, ev->hello[0].sni, strlen(ev->hello[0].sni));
	}
}

void output_json_data(FILE *out, const struct out_event *ev)
{
	json_begin(out, "data", ev);
	json_func(out, ev);
	json_conn(out, ev);
	fprintf(out,
		",\"dir\":\"%s\",\"call\":%llu,\"call_len\":%u,\"offset\":%u,"
		"\"latency_ns\":%llu,\"data\":\"",
		ev->write ? "write" : "read", (unsigned long long)ev->call_id, ev->len, ev->offset,
		(unsigned long long)ev->latency_ns);
	output_base64(out, ev->data, ev->data_len);
	fputc('"', out);
	if (ev->truncated)
		fprintf(out, ",\"truncated_bytes\":%u", ev->truncated);
	fputs("}\n", out);
}

void output_json_handshake(FILE *out, const struct out_event *ev)
{
	json_begin(out, "handshake", ev);
	json_func(out, ev);
	json_conn(out, ev);
	fprintf(out, ",\"latency_ns\":%llu,\"ok\":%s,\"result\":%lld}\n",
		(unsigned long long)ev->latency_ns, ev->ok ? "true" : "false",
		(long long)ev->result);
}

void output_json_verify(FILE *out, const struct out_event *ev)
{
	const char *name = x509_error_name((long)ev->result);

	json_begin(out, "verify", ev);
	json_func(out, ev);
	json_conn(out, ev);
	fprintf(out, ",\"result\":%lld,\"ok\":%s,\"error\":", (long long)ev->result,
		ev->result == 0 ? "true" : "false");
	if (name)
		fprintf(out, "\"%s\"}\n", name);
	else
		fputs("null}\n", out);
}

void output_json_verify_off(FILE *out, const struct out_event *ev)
{
	json_begin(out, "verify_disabled", ev);
	json_func(out, ev);
	json_conn(out, ev);
	fprintf(out, ",\"mode\":%lld}\n", (long long)ev->result);
}

/* ,"name":["a","b"] from "a,b" or "a, b" (hello.c keeps commas out of names; an empty one
 * is passed over all the same; a subject alternative name holding ", " itself, which no
 * host name does, would be split there). */
static void json_list(FILE *out, const char *name, const char *commas)
{
	bool first = true;
	size_t len;

	fprintf(out, ",\"%s\":[", name);
	for (; *commas; commas += len + (commas[len] == ',')) {
		commas += strspn(commas, " "); /* "a, b" as openssl prints lists */
		len = strcspn(commas, ",");
		if (!len)
			continue;
		if (!first)
			fputc(',', out);
		output_json_string(out, commas, len);
		first = false;
	}
	fputc(']', out);
}

/* ,"name":"TEXT", or the code as "0x0304" where it has no name. */
static void json_named(FILE *out, const char *name, const char *text, unsigned code)
{
	if (text)
		fprintf(out, ",\"%s\":\"%s\"", name, text);
	else
		fprintf(out, ",\"%s\":\"0x%04x\"", name, code);
}

void output_json_hello(FILE *out, const struct out_event *ev, const struct hello *h)
{
	json_begin(out, "hello", ev);
	json_conn(out, ev);
	fprintf(out, ",\"side\":\"%s\",\"dir\":\"%s\"",
		h->side == HELLO_CLIENT ? "client" : "server", ev->write ? "write" : "read");
	json_named(out, "version", hello_version_name(h->version), h->version);
	if (h->side == HELLO_CLIENT) {
		json_opt_string(out, "server_name", h->sni[0] ? h->sni : NULL);
		json_list(out, "alpn", h->alpn);
		fprintf(out, ",\"ech\":%s", h->ech ? "true" : "false");
	} else {
		json_named(out, "cipher", hello_cipher_name(h->cipher), h->cipher);
		json_opt_string(out, "alpn", h->alpn[0] ? h->alpn : NULL);
		fprintf(out, ",\"resumed\":%s,\"retry\":%s", h->resumed ? "true" : "false",
			h->retry ? "true" : "false");
	}
	fprintf(out, ",\"complete\":%s}\n", h->cut ? "false" : "true");
}

void output_json_cert(FILE *out, const struct out_event *ev, const struct cert_info *c,
		      const char *who, int depth, int64_t days_left)
{
	char from[24], to[24];

	cert_time(c->not_before, from, sizeof(from));
	cert_time(c->not_after, to, sizeof(to));
	json_begin(out, "certificate", ev);
	json_func(out, ev);
	json_conn(out, ev);
	json_opt_string(out, "side", who);
	if (depth >= 0)
		fprintf(out, ",\"depth\":%d", depth);
	else
		fputs(",\"depth\":null", out);
	json_opt_string(out, "subject", c->subject);
	json_opt_string(out, "issuer", c->issuer);
	json_list(out, "san", c->san);
	json_opt_string(out, "serial", c->serial);
	json_opt_string(out, "not_before", from);
	json_opt_string(out, "not_after", to);
	json_opt_string(out, "sha256", c->sha256);
	json_opt_string(out, "key", c->key);
	fprintf(out, ",\"days_left\":%lld,\"expiring\":%s}\n", (long long)days_left,
		days_left <= CERT_WARN_DAYS ? "true" : "false");
}

void output_json_conn(FILE *out, const struct out_event *ev, const char *event, const char *reason)
{
	json_begin(out, "conn", ev);
	fprintf(out, ",\"event\":\"%s\"", event);
	json_conn(out, ev);
	if (reason)
		fprintf(out, ",\"reason\":\"%s\"", reason);
	if (!ev->addr && ev->conn_why)
		fprintf(out, ",\"unresolved\":\"%s\"", ev->conn_why);
	fputs("}\n", out);
}

/* Writes a NUL-terminated string escaped for the terminal; NULL as "?". */
static void put_text(FILE *out, const char *s)
{
	if (!s)
		s = "?";
	output_escape(out, (const unsigned char *)s, strlen(s));
}

static void http_headers_text(FILE *out, const struct http_headers *hs, const char *mark)
{
	int i;

	for (i = 0; hs && i < hs->n; i++) {
		fputs(mark, out);
		put_text(out, hs->v[i].name);
		fputs(": ", out);
		put_text(out, hs->v[i].value);
		fputc('\n', out);
	}
}

void output_http(FILE *out, const struct out_event *ev, const struct http_msg *m, bool headers)
{
	if (m->request)
		return;
	fprintf(out, "HTTP/%s", m->version);
	if (ev->conn)
		fprintf(out, " conn %llu", (unsigned long long)ev->conn);
	if (!strcmp(m->version, "2"))
		fprintf(out, " stream %u", m->stream);
	fputs(": ", out);
	put_text(out, m->method);
	fputc(' ', out);
	put_text(out, m->path);
	if (m->unanswered)
		fputs(" -> no response", out);
	else if (m->reset)
		fputs(" -> reset", out);
	else
		fprintf(out, " -> %d", m->status);
	fprintf(out, ", %.3f ms, request %llu B, response %llu B%s\n", m->latency_ns / 1e6,
		(unsigned long long)m->req_body_bytes, (unsigned long long)m->body_bytes,
		m->incomplete ? " (incomplete: bytes not captured)" : "");
	if (headers) {
		http_headers_text(out, m->req_headers, "  > ");
		http_headers_text(out, m->headers, "  < ");
	}
}

void output_json_http(FILE *out, const struct out_event *ev, const struct http_msg *m)
{
	int i;

	json_begin(out, "http", ev);
	json_conn(out, ev);
	fprintf(out, ",\"version\":\"%s\",\"msg\":\"%s\",\"stream\":%u", m->version,
		m->request ? "request" : "response", m->stream);
	json_opt_string(out, "method", m->method);
	json_opt_string(out, "path", m->path);
	json_opt_string(out, "authority", m->authority);
	if (m->request || !m->status)
		fputs(",\"status\":null", out);
	else
		fprintf(out, ",\"status\":%d", m->status);
	fputs(",\"headers\":[", out);
	for (i = 0; i < m->headers->n; i++) {
		fputs(i ? ",[" : "[", out);
		output_json_string(out, m->headers->v[i].name, strlen(m->headers->v[i].name));
		fputc(',', out);
		output_json_string(out, m->headers->v[i].value, strlen(m->headers->v[i].value));
		fputc(']', out);
	}
	fprintf(out, "],\"body_bytes\":%llu", (unsigned long long)m->body_bytes);
	if (!m->request)
		fprintf(out, ",\"latency_ns\":%llu", (unsigned long long)m->latency_ns);
	fprintf(out, ",\"incomplete\":%s", m->incomplete ? "true" : "false");
	if (m->reset)
		fputs(",\"reset\":true", out);
	if (m->unanswered)
		fputs(",\"unanswered\":true", out);
	fputs("}\n", out);
}

void output_json_summary_unknown(FILE *out, const char *reason, uint64_t captured)
{
	fprintf(out,
		"{\"v\":1,\"type\":\"summary\",\"reason\":\"%s\","
		"\"bytes_captured\":%llu,\"counters\":\"unavailable\"}\n",
		reason, (unsigned long long)captured);
}

/* "name":value pairs, comma-separated, without braces. */
static void json_u64s(FILE *f, const char *const *names, const uint64_t *v, int n)
{
	int i;

	for (i = 0; i < n; i++)
		fprintf(f, "%s\"%s\":%llu", i ? "," : "", names[i], (unsigned long long)v[i]);
}

/* The counters of the whole run or of one process, without braces. */
static void json_counters(FILE *f, const struct out_counters *c)
{
	static const char *const names[] = {
		"calls",
		"bytes_moved",
		"bytes_captured",
		"bytes_truncated",
		"bytes_lost",
		"bytes_unreadable",
		"events_lost",
		"events_filtered",
		"bytes_filtered",
		"calls_unfinished",
		"bytes_sent_before_probes",
		"bytes_received_before_probes",
		"uncounted_before_probes",
	};
	const uint64_t v[] = {c->calls,
			      c->bytes_moved,
			      c->bytes_captured,
			      c->bytes_truncated,
			      c->bytes_lost,
			      c->bytes_unreadable,
			      c->events_lost,
			      c->events_filtered,
			      c->bytes_filtered,
			      c->calls_unfinished,
			      c->bytes_sent_before_probes,
			      c->bytes_received_before_probes,
			      c->uncounted_before_probes};

	json_u64s(f, names, v, (int)(sizeof(names) / sizeof(names[0])));
}

void output_json_summary(FILE *out, const struct out_summary *s)
{
	static const char *const names[] = {
		"chunks_out_of_order",	  "meta_events_lost",	  "malformed_events",
		"chunks_dropped",	  "bytes_dropped",	  "connections",
		"connections_unresolved", "calls_without_conn",	  "connections_before_probes",
		"calls_in_flight",	  "connections_filtered", "certificates_undecoded",
	};
	const uint64_t v[] = {s->late,
			      s->meta_lost,
			      s->malformed,
			      s->dropped,
			      s->bytes_dropped,
			      s->conns,
			      s->conns_unresolved,
			      s->calls_without_conn,
			      s->conns_before_probes,
			      s->calls_in_flight,
			      s->conns_filtered,
			      s->certs_undecoded};
	int i;

	fprintf(out, "{\"v\":1,\"type\":\"summary\",\"reason\":\"%s\",", s->reason);
	fputs("\"libraries\":[", out);
	for (i = 0; i < s->nlibs; i++) {
		fprintf(out, "%s{\"path\":", i ? "," : "");
		output_json_string(out, s->lib_paths[i], strlen(s->lib_paths[i]));
		fprintf(out, ",\"calls\":%llu}", (unsigned long long)s->lib_calls[i]);
	}
	fputs("],", out);
	json_counters(out, &s->all);
	fputc(',', out);
	json_u64s(out, names, v, (int)(sizeof(names) / sizeof(names[0])));
	fputc(',', out);
	if (s->http)
		fprintf(out,
			"\"http_messages\":%llu,\"http_stopped\":%llu,"
			"\"http_unmasked_bytes\":%llu,",
			(unsigned long long)s->http_messages, (unsigned long long)s->http_stopped,
			(unsigned long long)s->http_unmasked);
	fputs("\"processes\":[", out);
	for (i = 0; i < s->nprocs; i++) {
		fprintf(out, "%s{\"pid\":%u,\"comm\":", i ? "," : "", s->procs[i].pid);
		output_json_string(out, s->procs[i].comm, strlen(s->procs[i].comm));
		fputc(',', out);
		json_counters(out, &s->procs[i].c);
		fputc('}', out);
	}
	fputs("]}\n", out);
}

void output_json_unprobed(FILE *out, const struct out_unprobed *u)
{
	fprintf(out, "{\"v\":1,\"type\":\"unprobed\",\"pid\":%u,\"comm\":", u->pid);
	output_json_string(out, u->comm, strlen(u->comm));
	fputs(",\"program\":", out);
	output_json_string(out, u->program, strlen(u->program));
	fprintf(out, ",\"fd\":%d,\"socket_ino\":%llu", u->fd, (unsigned long long)u->socket_ino);
	if (u->addr)
		fprintf(out,
			",\"family\":\"%s\",\"laddr\":\"%s\",\"lport\":%u,\"raddr\":\"%s\","
			"\"rport\":%u",
			u->addr->family == AF_INET6 ? "ipv6" : "ipv4", u->addr->laddr,
			(unsigned)u->addr->lport, u->addr->raddr, (unsigned)u->addr->rport);
	else
		fputs(",\"family\":null,\"laddr\":null,\"lport\":null,\"raddr\":null,"
		      "\"rport\":null",
		      out);
	fprintf(out, ",\"bytes_sent\":%llu,\"bytes_received\":%llu,\"reason\":\"%s\"}\n",
		(unsigned long long)u->sent, (unsigned long long)u->recv, u->reason);
}
