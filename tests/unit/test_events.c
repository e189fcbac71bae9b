/* SPDX-License-Identifier: Apache-2.0 */
/* test_events.c - the events pipeline on plain bytes: chunks from several CPUs put in the order
 * of their seq (at once when it is their turn), a gap waited for or given up, a late chunk
 * counted, a call's chunks put together with a gap counted lost, and the summary's account of
 * every byte */
#define _GNU_SOURCE
#include "check.h"
#include "events.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static struct probe_set no_probes;

/* A data chunk of call `call` (call_len bytes, its seq the same number), at `offset`, its
 * bytes `data`. */
static struct tls_event *chunk(uint64_t time_ns, uint64_t call, uint32_t call_len, uint32_t offset,
			       const char *data, bool last, size_t *size)
{
	size_t len = strlen(data);
	struct tls_event *ev =
		calloc(1, sizeof(*ev) + len); /* the whole struct: its fields are written */

	ev->time_ns = time_ns;
	ev->call_id = call;
	ev->seq = call;
	ev->call_len = call_len;
	ev->offset = offset;
	ev->data_len = (uint32_t)len;
	ev->flags = last ? TLS_CHUNK_LAST : 0;
	ev->pid = 42;
	ev->tid = 42;
	ev->dir = TLS_DIR_WRITE;
	ev->kind = TLS_KIND_DATA;
	ev->fd = -1;
	memcpy(ev->comm, "client", 7);
	memcpy(ev->data, data, len);
	*size = TLS_EVENT_HDR_SIZE + len;
	return ev;
}

static void feed(struct events *e, int cpu, uint64_t time_ns, uint64_t call, uint32_t call_len,
		 uint32_t offset, const char *data, bool last)
{
	size_t size;
	struct tls_event *ev = chunk(time_ns, call, call_len, offset, data, last, &size);

	events_on_sample(e, cpu, ev, (int)size);
	free(ev);
}

static uint64_t seen[16];
static int nseen;

/* The self-test's kind of sink: the call of each chunk, in order. */
static void collect(struct sink *s, const struct out_event *ev)
{
	(void)s;
	if (nseen < 16)
		seen[nseen++] = ev->call_id;
}

static const struct sink_ops collect_ops = {.data = collect};
static struct sink collector = {.ops = &collect_ops};
static struct sink *collecting[] = {&collector};

/* Events whose data chunks alone go to collect(). */
static struct events_config *data_only(void)
{
	static struct events_config cfg;

	cfg = (struct events_config){.probes = &no_probes,
				     .sinks = collecting,
				     .nsinks = 1,
				     .max_data_size = 64,
				     .data_only = true};
	return &cfg;
}

/* Events writing JSON lines (else text rows) to out, through a sink made here and freed by
 * free_events. */
static struct sink *made[1];
static struct events_config *writing(FILE *out, bool json, const struct probe_set *set,
				     uint32_t max_data_size)
{
	static struct events_config cfg;

	made[0] =
		json ? sink_json_new(out, false) : sink_text_new(out, &(struct sink_text_opts){0});
	cfg = (struct events_config){
		.probes = set, .sinks = made, .nsinks = 1, .max_data_size = max_data_size};
	return &cfg;
}

static void free_events(struct events *e)
{
	events_free(e);
	if (e->cfg.sinks == made)
		sink_free(made[0]);
}

/* An event without data (kind) of seq at time_ns. */
static void feed_meta(struct events *e, int cpu, uint64_t time_ns, uint64_t seq, uint32_t kind)
{
	struct tls_event ev = {.time_ns = time_ns, .seq = seq, .kind = kind, .pid = 42};

	ev.flags = TLS_CHUNK_LAST;
	ev.fd = -1;
	events_on_sample(e, cpu, &ev, (int)TLS_EVENT_HDR_SIZE);
}

static void test_order_across_cpus_and_late(void)
{
	struct events e;

	events_init(&e, data_only());
	nseen = 0;
	feed(&e, 1, 300, 3, 1, 0, "c", true); /* before its turn: kept */
	CHECK(nseen == 0 && e.queue.n == 1);
	feed(&e, 0, 100, 1, 1, 0, "a", true); /* its turn: at once */
	CHECK(nseen == 1 && seen[0] == 1);
	feed(&e, 1, 200, 2, 1, 0, "b", true); /* and 3 after it, with no round */
	CHECK(nseen == 3 && seen[1] == 2 && seen[2] == 3 && e.queue.n == 0);

	/* 4 never comes: 5 waits until a round begins a reorder window after it */
	feed(&e, 0, 500, 5, 1, 0, "e", true);
	events_deliver(&e, 500 + EVENTS_REORDER_WINDOW_NS);
	CHECK(nseen == 3);
	events_deliver(&e, 501 + EVENTS_REORDER_WINDOW_NS);
	CHECK(nseen == 4 && seen[3] == 5 && e.late == 0);
	feed(&e, 0, 400, 4, 1, 0, "d", true); /* after its turn was given up: late, shown */
	CHECK(e.late == 1 && nseen == 5 && seen[4] == 4);

	/* the perf buffer refused 6's last chunk: the gap it tells of lets 7 go at once */
	feed(&e, 1, 700, 7, 1, 0, "g", true);
	CHECK(nseen == 5);
	feed_meta(&e, 0, 600, 6, TLS_KIND_GAP);
	CHECK(nseen == 6 && seen[5] == 7);

	/* a call's chunks share its turn until its last: 9 waits for 8's end */
	feed(&e, 0, 800, 8, 2, 0, "h", false);
	feed(&e, 1, 900, 9, 1, 0, "i", true);
	CHECK(nseen == 7 && seen[6] == 8);
	feed(&e, 0, 800, 8, 2, 1, "h", true);
	CHECK(nseen == 9 && seen[7] == 8 && seen[8] == 9 && e.late == 1);

	/* a chunk of more bytes than a chunk holds, one shorter than a header: counted */
	feed(&e, 0, 1000, 10, 65, 0,
	     "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", true);
	events_on_sample(&e, 0, "short", 5);
	CHECK(e.malformed == 2 && e.queue.n == 0);
	free_events(&e);
}

/* More than EVENTS_QUEUE_BUDGET kept behind a gap: the gap is given up at once, not when a
 * round ends (one round may read for long). */
static void test_gap_given_up_for_room(void)
{
	static char big[65];
	struct events e;
	uint64_t i;

	memset(big, 'x', 64);
	events_init(&e, data_only());
	nseen = 0;
	for (i = 2; i < 2 + EVENTS_QUEUE_BUDGET / 64 + 16 && nseen == 0; i++)
		feed(&e, 0, i, i, 64, 0, big, true);
	CHECK(nseen > 0 && seen[0] == 2 && e.queued_bytes <= EVENTS_QUEUE_BUDGET);
	free_events(&e);
}

/* A call that returns just after another thread closed its socket (a Go program's other
 * goroutine) is shown on its connection, before the close. */
static void test_close_comes_after_a_call_returning_just_after_it(void)
{
	char *text = NULL;
	size_t tlen = 0, size;
	FILE *out = open_memstream(&text, &tlen);
	struct tls_event *data = chunk(1000 + 1000000, 9, 2, 0, "hi", true, &size), close = {0};
	struct events e;

	events_init(&e, writing(out, true, &no_probes, 64));
	close.time_ns = 1000;
	close.seq = 8; /* the data's seq is 9 */
	close.kind = TLS_KIND_CONN_CLOSE;
	close.conn = 7;
	close.pid = 42;
	close.fd = 5;
	close.flags = TLS_CHUNK_LAST;
	data->conn = 7;
	data->fd = 5;
	events_on_sample(&e, 0, &close, TLS_EVENT_HDR_SIZE);
	events_on_sample(&e, 1, data, (int)size);
	events_deliver(&e, UINT64_MAX);
	fflush(out);
	CHECK(strstr(text, "\"type\":\"data\"") != NULL &&
	      strstr(text, "\"event\":\"close\"") != NULL &&
	      strstr(text, "\"type\":\"data\"") < strstr(text, "\"event\":\"close\""));
	CHECK(e.late == 0);
	free_events(&e);
	fclose(out);
	free(text);
	free(data);
}

/* Two threads found a new connection at once and both sent its opening (conn_of_fd): one
 * "open" record, one connection counted. */
static void test_an_opening_sent_twice_is_shown_once(void)
{
	char *text = NULL, *p;
	size_t tlen = 0;
	FILE *out = open_memstream(&text, &tlen);
	struct tls_event open = {.time_ns = 1000,
				 .kind = TLS_KIND_CONN_OPEN,
				 .conn = 7,
				 .pid = 42,
				 .fd = 5,
				 .flags = TLS_CHUNK_LAST};
	struct events e;
	int n = 0;

	events_init(&e, writing(out, true, &no_probes, 64));
	e.conns.proc_root = "/nonexistent";
	open.seq = 1;
	events_on_sample(&e, 0, &open, TLS_EVENT_HDR_SIZE);
	open.seq = 2;
	open.time_ns = 1001;
	events_on_sample(&e, 1, &open, TLS_EVENT_HDR_SIZE);
	events_deliver(&e, UINT64_MAX);
	fflush(out);
	for (p = text; (p = strstr(p, "\"event\":\"open\"")) != NULL; p++)
		n++;
	CHECK(n == 1);
	CHECK(e.conns.opened == 1);
	free_events(&e);
	fclose(out);
	free(text);
}

/* The two ends of every opening below: 127.0.0.1:40112 to 127.0.0.2:8443. */
static const struct tls_sock_addr ENDS = {.family = 2,
					  .lport = 40112,
					  .rport = 8443,
					  .laddr = {127, 0, 0, 1},
					  .raddr = {127, 0, 0, 2}};

/* An event of `kind` about connection conn (PID 42's socket 5) at time_ns, its place seq. */
static void conn_event(struct tls_event *ev, uint32_t kind, uint64_t time_ns, uint64_t seq,
		       uint64_t conn)
{
	memset(ev, 0, TLS_EVENT_HDR_SIZE);
	ev->time_ns = time_ns;
	ev->seq = seq;
	ev->kind = kind;
	ev->conn = conn;
	ev->pid = 42;
	ev->fd = 5;
	ev->flags = TLS_CHUNK_LAST;
}

/* The opening of connection conn at time_ns, its place seq, with ENDS. */
static void opening(struct tls_event *open, uint64_t time_ns, uint64_t seq, uint64_t conn)
{
	conn_event(open, TLS_KIND_CONN_OPEN, time_ns, seq, conn);
	open->data_len = sizeof(ENDS);
	memcpy(open->data, &ENDS, sizeof(ENDS));
}

/* e started writing JSON lines to out, with no /proc to look sockets up in. */
static void json_events(struct events *e, FILE *out)
{
	events_init(e, writing(out, true, &no_probes, 64));
	e->conns.proc_root = "/nonexistent";
}

/* An opening carries the two ends BPF read from the socket: they are shown though the
 * socket is gone (no /proc to look in), also when the opening waited for an earlier event
 * (its copy keeps them); a malformed one (ends of another size) is counted, not shown. */
static void test_an_opening_carries_its_ends(void)
{
	char *text = NULL;
	size_t tlen = 0;
	FILE *out = open_memstream(&text, &tlen);
	uint8_t raw[sizeof(struct tls_event)] = {0};
	struct tls_event *open = (struct tls_event *)raw;
	struct events e;

	json_events(&e, out);
	opening(open, 1000, 2, 7);
	events_on_sample(&e, 0, open, TLS_EVENT_HDR_SIZE + sizeof(ENDS)); /* seq 1 not yet */
	open->seq = 1;
	open->conn = 8;
	open->data_len = sizeof(ENDS) - 1;
	events_on_sample(&e, 1, open, TLS_EVENT_HDR_SIZE + sizeof(ENDS));
	CHECK(e.malformed == 1);
	open->data_len = 0;
	events_on_sample(&e, 1, open, TLS_EVENT_HDR_SIZE); /* seq 1: no ends, unresolved */
	events_deliver(&e, UINT64_MAX);
	fflush(out);
	CHECK(strstr(text, "\"conn\":7,\"family\":\"ipv4\",\"laddr\":\"127.0.0.1\","
			   "\"lport\":40112,\"raddr\":\"127.0.0.2\",\"rport\":8443") != NULL);
	CHECK(strstr(text, "\"conn\":8,\"family\":null") != NULL);
	CHECK(e.conns.opened == 2 && conns_unresolved(&e.conns) == 1);
	free_events(&e);
	fclose(out);
	free(text);
}

/* A call of connection conn (PID 42's socket 5), its place seq, sent (write) or received. */
static void feed_call(struct events *e, uint64_t seq, uint64_t conn, bool write, const char *data)
{
	size_t size;
	struct tls_event *ev = chunk(1000 + seq, seq, (uint32_t)strlen(data), 0, data, true, &size);

	ev->conn = conn;
	ev->fd = 5;
	ev->dir = write ? TLS_DIR_WRITE : TLS_DIR_READ;
	events_on_sample(e, 0, ev, (int)size);
	free(ev);
}

/* --http in text: a response that ends in a call of connection 7, after rows of connection
 * 8, comes under connection 7's line, its row before its HTTP line (the line is decoded
 * before the row is shown, and was once shown after the row, the row left under 8's line). */
static void test_an_http_line_follows_its_row_under_its_connection(void)
{
	uint8_t raw[sizeof(struct tls_event) + sizeof(ENDS)] = {0};
	struct tls_event *open = (struct tls_event *)raw;
	struct http h = {.on_msg = events_on_http, .on_error = events_on_http_error};
	char *text = NULL;
	const char *conn7, *row, *line;
	size_t tlen = 0;
	FILE *out = open_memstream(&text, &tlen);
	struct events_config *cfg = writing(out, false, &no_probes, 64);
	struct events e;

	cfg->http = &h;
	events_init(&e, cfg);
	h.ctx = &e;
	e.conns.proc_root = "/nonexistent";
	opening(open, 1000, 1, 7);
	events_on_sample(&e, 0, open, TLS_EVENT_HDR_SIZE + sizeof(ENDS));
	opening(open, 1001, 2, 8);
	events_on_sample(&e, 0, open, TLS_EVENT_HDR_SIZE + sizeof(ENDS));
	feed_call(&e, 3, 7, true, "GET /a HTTP/1.1\r\n\r\n");
	feed_call(&e, 4, 8, true, "GET /b HTTP/1.1\r\n\r\n");
	feed_call(&e, 5, 7, false, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
	events_deliver(&e, UINT64_MAX);
	fflush(out);
	row = strstr(text, "HTTP/1.1 200 OK");
	line = strstr(text, "HTTP/1.1 conn 7: GET /a -> 200");
	conn7 = strstr(text, "--- conn 8"); /* then 7's line again */
	conn7 = conn7 ? strstr(conn7, "--- conn 7") : NULL;
	CHECK(row && line && conn7);
	CHECK(conn7 && row && conn7 < row); /* 7's line again before the response's row */
	CHECK(row && line && row < line);
	CHECK(line && !strstr(line, "--- conn")); /* no line more: the row's was 7's */
	free_events(&e);
	http_free(&h);
	fclose(out);
	free(text);
}

/* Whether the line of text that holds `needle` holds `also` too. */
static bool line_has(const char *text, const char *needle, const char *also)
{
	const char *at = strstr(text, needle), *start, *end;
	char *line;
	bool has;

	if (!at)
		return false;
	for (start = at; start > text && start[-1] != '\n'; start--)
		;
	end = strchr(at, '\n');
	line = strndup(start, end ? (size_t)(end - start) : strlen(start));
	has = line && strstr(line, also) != NULL;
	free(line);
	return has;
}

/* The tie at time 1200 of session `sess`, known to BPF since since_ns, to connection conn,
 * its place seq. */
static void tie(struct tls_event *ev, uint64_t seq, uint64_t conn, uint64_t sess, uint64_t since_ns)
{
	conn_event(ev, TLS_KIND_CONN_TIE, 1200, seq, conn);
	ev->dir = TLS_DIR_WRITE;
	ev->result = (int64_t)sess;
	ev->latency_ns = 1200 - since_ns;
}

/* A call sent without a connection by a session whose calls use no socket (result: the
 * session) waits for its tie: the tie, come before its turn, shows the connection's opening
 * and lets the call go on it; another session's call, never tied, waits a reorder window
 * and goes without one, counted. */
static void test_a_call_waits_for_its_session_tie(void)
{
	char *text = NULL, *a, *b, *open_at;
	size_t tlen = 0, size;
	FILE *out = open_memstream(&text, &tlen);
	uint8_t raw[sizeof(struct tls_event)] = {0};
	struct tls_event *open = (struct tls_event *)raw, t;
	struct tls_event *first = chunk(1000, 1, 3, 0, "GET", true, &size);
	struct tls_event *other = chunk(1100, 2, 3, 0, "PUT", true, &size);
	struct events e;

	json_events(&e, out);
	first->result = 0xabc;
	other->result = 0xdef;
	events_on_sample(&e, 0, first, (int)size);
	events_on_sample(&e, 0, other, (int)size);
	fflush(out);
	CHECK(tlen == 0 && e.queue.n == 2); /* its turn, but it waits */
	opening(open, 1200, 3, 7);
	tie(&t, 4, 7, 0xabc, 900);
	events_on_sample(&e, 1, open, TLS_EVENT_HDR_SIZE + sizeof(ENDS));
	events_on_sample(&e, 1, &t, TLS_EVENT_HDR_SIZE);
	fflush(out);
	CHECK((a = strstr(text, "\"data\":\"R0VU\"")) != NULL); /* "GET" went on */
	CHECK(strstr(text, "\"data\":\"UFVU\"") == NULL);	/* "PUT" waits */
	events_deliver(&e, 1100 + EVENTS_REORDER_WINDOW_NS);
	fflush(out);
	CHECK(strstr(text, "\"data\":\"UFVU\"") == NULL); /* not older than the window yet */
	events_deliver(&e, 1101 + EVENTS_REORDER_WINDOW_NS);
	fflush(out);
	a = strstr(text, "\"data\":\"R0VU\"");
	b = strstr(text, "\"data\":\"UFVU\"");
	open_at = strstr(text, "\"event\":\"open\"");
	CHECK(a && b && open_at && open_at < a && a < b);
	CHECK(line_has(text, "\"data\":\"R0VU\"",
		       "\"fd\":5,\"conn\":7,\"family\":\"ipv4\",\"laddr\":\"127.0.0.1\","
		       "\"lport\":40112"));
	CHECK(line_has(text, "\"data\":\"UFVU\"", "\"conn\":null") && e.calls_without_conn == 1);
	CHECK(e.conns.opened == 1 && e.late == 0 && e.queue.n == 0);
	free_events(&e);
	fclose(out);
	free(text);
	free(first);
	free(other);
}

/* A session tied to a connection that closed is no longer its: a call of an object at its
 * address after the close's turn (a new session) waits for its own tie and goes without
 * one, not on the closed connection (which still waits out its grace). */
static void test_a_closed_connections_session_is_not_tied_again(void)
{
	char *text = NULL;
	size_t tlen = 0, size;
	FILE *out = open_memstream(&text, &tlen);
	uint8_t raw[sizeof(struct tls_event)] = {0};
	struct tls_event *open = (struct tls_event *)raw, t;
	struct tls_event *before = chunk(1300, 3, 3, 0, "GET", true, &size);
	struct tls_event *after = chunk(2100, 5, 3, 0, "PUT", true, &size);
	struct tls_event close;
	struct events e;

	json_events(&e, out);
	conn_event(&close, TLS_KIND_CONN_CLOSE, 2000, 4, 7);
	tie(&t, 2, 7, 0xabc, 900);
	opening(open, 1000, 1, 7);
	before->result = after->result = 0xabc;
	events_on_sample(&e, 0, open, TLS_EVENT_HDR_SIZE + sizeof(ENDS));
	events_on_sample(&e, 0, &t, TLS_EVENT_HDR_SIZE);
	events_on_sample(&e, 0, before, (int)size);
	events_on_sample(&e, 1, after, (int)size); /* before the close's turn: kept */
	events_on_sample(&e, 0, &close, TLS_EVENT_HDR_SIZE);
	fflush(out);
	CHECK(line_has(text, "\"data\":\"R0VU\"", "\"conn\":7,"));
	CHECK(strstr(text, "\"data\":\"UFVU\"") == NULL); /* waits for a tie of its own */
	events_deliver(&e, UINT64_MAX);
	fflush(out);
	CHECK(line_has(text, "\"data\":\"UFVU\"", "\"conn\":null"));
	CHECK(e.calls_without_conn == 1 && e.late == 0);
	free_events(&e);
	fclose(out);
	free(text);
	free(before);
	free(after);
}

/* A call that waits for its tie keeps its place: its own gap event (the buffer refused its
 * last chunk) and the calls after it wait behind it, and go in order once the tie comes. */
static void test_a_gap_of_a_waiting_call_keeps_its_place(void)
{
	char *text = NULL, *a, *b;
	size_t tlen = 0, size;
	FILE *out = open_memstream(&text, &tlen);
	uint8_t raw[sizeof(struct tls_event)] = {0};
	struct tls_event *open = (struct tls_event *)raw, t;
	struct tls_event *waiting = chunk(1000, 1, 6, 0, "GET", false, &size);
	struct tls_event *next = chunk(1100, 2, 3, 0, "PUT", true, &size);
	struct events e;

	json_events(&e, out);
	waiting->result = 0xabc;
	events_on_sample(&e, 0, waiting, (int)size);
	feed_meta(&e, 1, 1000, 1, TLS_KIND_GAP);
	events_on_sample(&e, 1, next, (int)size);
	fflush(out);
	CHECK(tlen == 0);
	opening(open, 1200, 3, 7);
	tie(&t, 4, 7, 0xabc, 900);
	events_on_sample(&e, 1, open, TLS_EVENT_HDR_SIZE + sizeof(ENDS));
	events_on_sample(&e, 1, &t, TLS_EVENT_HDR_SIZE);
	fflush(out);
	a = strstr(text, "\"data\":\"R0VU\"");
	b = strstr(text, "\"data\":\"UFVU\"");
	CHECK(a && b && a < b && line_has(text, "\"data\":\"R0VU\"", "\"conn\":7,"));
	CHECK(e.late == 0 && e.queue.n == 0);
	free_events(&e);
	fclose(out);
	free(text);
	free(waiting);
	free(next);
}

/* A tie of another object at the session's address, known to BPF only after the call was
 * made (a session freed, a new one at its address), is not the call's: it waits on and goes
 * without one. A tie whose opening has not come yet makes the connection; the opening, when
 * it comes, brings its ends. */
static void test_a_later_objects_tie_is_not_the_calls(void)
{
	char *text = NULL;
	size_t tlen = 0, size;
	FILE *out = open_memstream(&text, &tlen);
	uint8_t raw[sizeof(struct tls_event)] = {0};
	struct tls_event *open = (struct tls_event *)raw, t;
	struct tls_event *call = chunk(1000, 1, 3, 0, "GET", true, &size);
	struct tls_event *later = chunk(1300, 4, 3, 0, "PUT", true, &size);
	struct events e;

	json_events(&e, out);
	call->result = 0xabc;
	later->conn = 8;
	events_on_sample(&e, 0, call, (int)size);
	tie(&t, 2, 8, 0xabc, 1100); /* no opening of 8 yet: on another CPU's buffer */
	events_on_sample(&e, 1, &t, TLS_EVENT_HDR_SIZE);
	fflush(out);
	CHECK(strstr(text, "\"data\":\"R0VU\"") == NULL && e.conns.opened == 1);
	opening(open, 1150, 3, 8);
	events_on_sample(&e, 0, open, TLS_EVENT_HDR_SIZE + sizeof(ENDS));
	events_on_sample(&e, 0, later, (int)size);
	events_deliver(&e, UINT64_MAX);
	fflush(out);
	CHECK(line_has(text, "\"data\":\"R0VU\"", "\"conn\":null"));
	CHECK(line_has(text, "\"data\":\"UFVU\"", "\"conn\":8,\"family\":\"ipv4\""));
	CHECK(e.conns.opened == 1 && e.calls_without_conn == 1);
	free_events(&e);
	fclose(out);
	free(text);
	free(call);
	free(later);
}

static void test_reassembly_with_gap_and_summary(void)
{
	char *text = NULL, *errs = NULL;
	size_t tlen = 0, elen = 0;
	FILE *out = open_memstream(&text, &tlen), *err = open_memstream(&errs, &elen);

	diag_to(err);
	uint64_t sums[TLS_STAT_MAX] = {0};
	struct events e;

	events_init(&e, writing(out, false, &no_probes, 64));
	/* call 7 moved 30 bytes in 3 chunks on CPU 0; the middle one never arrived */
	feed(&e, 0, 1000, 7, 30, 0, "aaaaaaaaaa", false);
	feed(&e, 0, 1000, 7, 30, 20, "cccccccccc", true);
	events_deliver(&e, UINT64_MAX);
	fflush(out);
	CHECK(strstr(text, "aaaaaaaaaacccccccccc") != NULL);
	CHECK(strstr(text, "----- END DATA (LOST, 10 bytes not captured) -----") != NULL);
	CHECK(e.bytes_captured == 20);

	/* the BPF counters: 1 call moved 30 bytes, 10 of them lost */
	sums[TLS_STAT_CALLS] = 1;
	sums[TLS_STAT_BYTES_MOVED] = 30;
	sums[TLS_STAT_BYTES_LOST] = 10;
	sums[TLS_STAT_SUBMIT_FAILED] = 1;
	events_on_counters(&e, 42, sums, TLS_STAT_MAX);
	e.lost_events = 1;
	events_summary(&e, true, "stopped");
	fflush(err);
	CHECK(strstr(errs,
		     "stopped: 1 calls, 30 bytes moved = 20 captured + 0 truncated + 10 lost; "
		     "1 events lost\n") != NULL);
	CHECK(strstr(errs, "accounting mismatch") == NULL);
	CHECK(!events_all_captured(&e)); /* 10 bytes lost */
	CHECK(strstr(errs, "connections: 0 (0 without addresses); 1 calls without a known "
			   "connection\n") != NULL);

	/* a byte the account cannot place is said */
	sums[TLS_STAT_CALLS] = 0;
	sums[TLS_STAT_BYTES_MOVED] = 1;
	sums[TLS_STAT_BYTES_LOST] = 0;
	sums[TLS_STAT_SUBMIT_FAILED] = 0;
	events_on_counters(&e, 42, sums, TLS_STAT_MAX);
	rewind(err);
	events_summary(&e, true, "stopped");
	fflush(err);
	CHECK(strstr(errs, "accounting mismatch: 31 bytes moved but 30 accounted for\n") != NULL);
	free_events(&e);
	diag_to(NULL);
	fclose(out);
	fclose(err);
	free(text);
	free(errs);
}

/* Every byte moved captured in order: the self-test's verdict. */
static void test_all_captured(void)
{
	uint64_t sums[TLS_STAT_MAX] = {0};
	struct events e;

	events_init(&e, data_only());
	feed(&e, 0, 100, 1, 5, 0, "hello", true);
	events_deliver(&e, UINT64_MAX);
	sums[TLS_STAT_CALLS] = 1;
	sums[TLS_STAT_BYTES_MOVED] = 5;
	events_on_counters(&e, 42, sums, TLS_STAT_MAX);
	CHECK(events_all_captured(&e));
	feed(&e, 0, 50, 2, 1, 0, "x", true); /* a byte the counters never moved */
	CHECK(!events_all_captured(&e));
	free_events(&e);
}

/* A certificate made once with `openssl req -x509 -newkey ec` (P-256, CN=unit.test), DER */
static const uint8_t UNIT_CERT[] = {
	0x30, 0x82, 0x01, 0x7e, 0x30, 0x82, 0x01, 0x23, 0xa0, 0x03, 0x02, 0x01, 0x02, 0x02, 0x14,
	0x39, 0xf6, 0x02, 0x33, 0x56, 0x00, 0x7c, 0x35, 0x5d, 0x1a, 0x83, 0xa1, 0xed, 0xad, 0x59,
	0x14, 0x84, 0xf6, 0x73, 0x0a, 0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04,
	0x03, 0x02, 0x30, 0x14, 0x31, 0x12, 0x30, 0x10, 0x06, 0x03, 0x55, 0x04, 0x03, 0x0c, 0x09,
	0x75, 0x6e, 0x69, 0x74, 0x2e, 0x74, 0x65, 0x73, 0x74, 0x30, 0x1e, 0x17, 0x0d, 0x32, 0x36,
	0x31, 0x32, 0x30, 0x36, 0x31, 0x31, 0x35, 0x37, 0x35, 0x38, 0x5a, 0x17, 0x0d, 0x33, 0x36,
	0x31, 0x32, 0x30, 0x33, 0x31, 0x31, 0x35, 0x37, 0x35, 0x38, 0x5a, 0x30, 0x14, 0x31, 0x12,
	0x30, 0x10, 0x06, 0x03, 0x55, 0x04, 0x03, 0x0c, 0x09, 0x75, 0x6e, 0x69, 0x74, 0x2e, 0x74,
	0x65, 0x73, 0x74, 0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02,
	0x01, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00, 0x04,
	0x30, 0xe6, 0x56, 0x8f, 0xd5, 0x2e, 0x9a, 0x39, 0x7a, 0x2e, 0x3c, 0xbe, 0x93, 0xb7, 0xef,
	0x1a, 0xd9, 0xda, 0x91, 0xed, 0x25, 0xff, 0x82, 0xf8, 0x28, 0x9e, 0x2b, 0x2b, 0x08, 0x6c,
	0x64, 0xa6, 0xae, 0x2d, 0x18, 0xff, 0xf5, 0x7f, 0x10, 0x95, 0xf8, 0xe7, 0x7e, 0xde, 0x99,
	0xd0, 0x29, 0x10, 0x3b, 0x0a, 0xd7, 0xcc, 0x49, 0x72, 0x2a, 0x04, 0x92, 0x8c, 0x14, 0xd8,
	0x63, 0xcd, 0xcb, 0xf5, 0xa3, 0x53, 0x30, 0x51, 0x30, 0x1d, 0x06, 0x03, 0x55, 0x1d, 0x0e,
	0x04, 0x16, 0x04, 0x14, 0xae, 0x2f, 0x10, 0x03, 0x0b, 0xd7, 0x50, 0xf6, 0x5c, 0x97, 0x5e,
	0xbc, 0xd3, 0x68, 0x26, 0x90, 0x87, 0x2b, 0x80, 0x5b, 0x30, 0x1f, 0x06, 0x03, 0x55, 0x1d,
	0x23, 0x04, 0x18, 0x30, 0x16, 0x80, 0x14, 0xae, 0x2f, 0x10, 0x03, 0x0b, 0xd7, 0x50, 0xf6,
	0x5c, 0x97, 0x5e, 0xbc, 0xd3, 0x68, 0x26, 0x90, 0x87, 0x2b, 0x80, 0x5b, 0x30, 0x0f, 0x06,
	0x03, 0x55, 0x1d, 0x13, 0x01, 0x01, 0xff, 0x04, 0x05, 0x30, 0x03, 0x01, 0x01, 0xff, 0x30,
	0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02, 0x03, 0x49, 0x00, 0x30,
	0x46, 0x02, 0x21, 0x00, 0xc6, 0xf7, 0x20, 0x91, 0xee, 0xdf, 0xdf, 0x11, 0x15, 0xa9, 0x7d,
	0xaf, 0x05, 0xe5, 0x69, 0x0f, 0xe0, 0xf4, 0x67, 0x4a, 0xe0, 0x24, 0x02, 0x90, 0x49, 0xc5,
	0x00, 0x60, 0x7b, 0x8f, 0x7e, 0x0e, 0x02, 0x21, 0x00, 0xbf, 0x3e, 0x39, 0x3d, 0x97, 0x03,
	0x77, 0x3e, 0x71, 0xa2, 0xd4, 0xdc, 0xdf, 0x22, 0xa3, 0xb1, 0xae, 0x0c, 0xe3, 0x97, 0x0d,
	0xd2, 0x60, 0xe1, 0x70, 0x22, 0xfe, 0x54, 0x46, 0x1f, 0xae, 0xec

};

/* A certificate event of seq (its thread too): the TLS call's probe 1 (the parser returns
 * ret_delta past it), the parser's probe 2 (latency_ns past it), on connection conn (0: none,
 * sess naming the session for a tie). */
static void feed_cert(struct events *e, uint64_t seq, int64_t ret_delta, int64_t parser_delta,
		      uint64_t conn, uint64_t sess)
{
	uint8_t raw[TLS_EVENT_HDR_SIZE + sizeof(UNIT_CERT)];
	static struct tls_event ev;

	ev = (struct tls_event){.time_ns = 1000 + seq,
				.seq = seq,
				.probe = 1,
				.ret_delta = ret_delta,
				.call_id = 2,
				.latency_ns = (uint64_t)parser_delta,
				.conn = conn,
				.result = (int64_t)sess,
				.pid = 42,
				.tid = (uint32_t)seq,
				.kind = TLS_KIND_CERT,
				.fd = conn ? 5 : -1,
				.call_len = sizeof(UNIT_CERT),
				.data_len = sizeof(UNIT_CERT),
				.flags = TLS_CHUNK_LAST};
	memcpy(raw, &ev, TLS_EVENT_HDR_SIZE);
	memcpy(raw + TLS_EVENT_HDR_SIZE, UNIT_CERT, sizeof(UNIT_CERT));
	events_on_sample(e, 0, raw, (int)sizeof(raw));
}

/* How many JSON records of `type` text holds. */
static int records(const char *text, const char *type)
{
	char key[64];
	int n = 0;

	snprintf(key, sizeof(key), "\"type\":\"%s\"", type);
	for (; (text = strstr(text, key)); text++)
		n++;
	return n;
}

/* e writing JSON lines to out, its probes those of feed_cert in set (rps its chunk): the TLS
 * call's in one file, the parser's in another, each probe at 0x2000 in code from 0x1000 to
 * 0x9000 */
static void cert_events(struct events *e, struct probe_set *set, struct resolved_probe *rps,
			FILE *out)
{
	int i;

	for (i = 0; i < 2; i++)
		rps[i] = (struct resolved_probe){.offset = 0x2000,
						 .id = (uint64_t)i + 1,
						 .code_start = 0x1000,
						 .code_end = 0x9000};
	strcpy(rps[0].lib_path, "/lib/libtls.so");
	strcpy(rps[1].lib_path, "/lib/libparser.so");
	events_init(e, writing(out, true, set, 16384));
	e->conns.proc_root = "/nonexistent";
}

/* Whose call of the X.509 parser is the peer's certificate: the TLS call's library's (in
 * the executable code of its file), or, the parser being in a file of its own, anyone's but
 * that file's (NSS's libssl3 between libnspr4 and libnss3); not the parser's file calling
 * itself (a CA read from disk), nor, both in one file, code outside it (a program), nor
 * anything outside a parser whose code is not known. */
static void test_a_certificate_is_kept_by_who_parsed_it(void)
{
	static struct resolved_probe rps[PROBES_CHUNK];
	struct probe_set set = {.chunk = {rps}, .n = 2};
	char *text = NULL;
	size_t tlen = 0;
	FILE *out = open_memstream(&text, &tlen);
	struct events e;

	cert_events(&e, &set, rps, out);
	feed_cert(&e, 1, 0x100, 0x300000, 0, 0);     /* from the TLS library's code */
	feed_cert(&e, 2, 0x300000, 0x100, 0, 0);     /* from the parser's own */
	feed_cert(&e, 3, 0x300000, -0x300000, 0, 0); /* from neither (a third library) */
	strcpy(rps[1].lib_path, "/lib/libtls.so");
	feed_cert(&e, 4, 0x300000, 0x300000, 0, 0); /* one file, called from outside it */
	strcpy(rps[1].lib_path, "/lib/libparser.so");
	rps[1].code_start = rps[1].code_end = 0;
	feed_cert(&e, 5, 0x300000, -0x300000, 0, 0); /* the parser's code not known */
	fflush(out);
	CHECK(records(text, "certificate") == 2);
	CHECK(line_has(text, "\"tid\":1,", "\"subject\":\"CN=unit.test\""));
	CHECK(line_has(text, "\"tid\":3,", "\"subject\":\"CN=unit.test\""));
	free_events(&e);
	fclose(out);
	free(text);
}

/* A connection shows a certificate once (GnuTLS parses its first one again), numbered by
 * depth; without a connection nothing is compared. One sent without a connection by a
 * session whose calls use no socket (node) waits for the tie that names its connection. */
static void test_a_certificate_on_its_connection(void)
{
	static struct resolved_probe rps[PROBES_CHUNK];
	struct probe_set set = {.chunk = {rps}, .n = 2};
	uint8_t raw[sizeof(struct tls_event)] = {0};
	struct tls_event *open = (struct tls_event *)raw, t;
	char *text = NULL;
	size_t tlen = 0;
	FILE *out = open_memstream(&text, &tlen);
	struct events e;

	cert_events(&e, &set, rps, out);
	opening(open, 1000, 1, 7);
	events_on_sample(&e, 0, open, TLS_EVENT_HDR_SIZE + sizeof(ENDS));
	feed_cert(&e, 2, 0x100, 0x300000, 7, 0);
	feed_cert(&e, 3, 0x100, 0x300000, 7, 0); /* parsed again */
	feed_cert(&e, 4, 0x100, 0x300000, 0, 0);
	feed_cert(&e, 5, 0x100, 0x300000, 0, 0xabc);
	fflush(out);
	CHECK(!strstr(text, "\"tid\":5,") && e.queue.n == 1); /* it waits */
	tie(&t, 6, 8, 0xabc, 900);
	events_on_sample(&e, 0, &t, TLS_EVENT_HDR_SIZE);
	fflush(out);
	CHECK(records(text, "certificate") == 3);
	CHECK(line_has(text, "\"tid\":2,", "\"conn\":7,") &&
	      line_has(text, "\"tid\":2,", "\"depth\":0,"));
	CHECK(line_has(text, "\"tid\":4,", "\"conn\":null") &&
	      line_has(text, "\"tid\":4,", "\"depth\":null"));
	CHECK(line_has(text, "\"tid\":5,", "\"conn\":8,") &&
	      line_has(text, "\"tid\":5,", "\"depth\":0,"));
	free_events(&e);
	fclose(out);
	free(text);
}

/* With --port, a certificate shows on a connection that matches; one whose connection is
 * unknown, or not yet known to match (its addresses not known), is counted, not shown. */
static void test_a_certificate_the_filter_cannot_decide_on_is_counted(void)
{
	static struct resolved_probe rps[PROBES_CHUNK];
	struct probe_set set = {.chunk = {rps}, .n = 2};
	uint8_t raw[sizeof(struct tls_event)] = {0}, raw2[sizeof(struct tls_event)] = {0};
	struct tls_event *open = (struct tls_event *)raw, *bare = (struct tls_event *)raw2;
	struct conn_filter filter = {0};
	char *text = NULL, why[160];
	size_t tlen = 0;
	FILE *out = open_memstream(&text, &tlen);
	struct events e;

	CHECK(conn_filter_add_port(&filter, "8443", why, sizeof(why)) == 0);
	cert_events(&e, &set, rps, out);
	e.cfg.filter = &filter;
	opening(open, 1000, 1, 7); /* ENDS: to port 8443 */
	events_on_sample(&e, 0, open, TLS_EVENT_HDR_SIZE + sizeof(ENDS));
	conn_event(bare, TLS_KIND_CONN_OPEN, 1000, 2, 9); /* no ends, none to look up */
	events_on_sample(&e, 0, bare, TLS_EVENT_HDR_SIZE);
	feed_cert(&e, 3, 0x100, 0x300000, 7, 0);
	feed_cert(&e, 4, 0x100, 0x300000, 0, 0);
	feed_cert(&e, 5, 0x100, 0x300000, 9, 0);
	fflush(out);
	CHECK(records(text, "certificate") == 1 && line_has(text, "\"tid\":3,", "\"conn\":7,"));
	CHECK(e.certs_unshown == 2 && e.certs_undecoded == 0);
	free_events(&e);
	fclose(out);
	free(text);
}

int main(void)
{
	test_an_http_line_follows_its_row_under_its_connection();
	test_all_captured();
	test_order_across_cpus_and_late();
	test_gap_given_up_for_room();
	test_close_comes_after_a_call_returning_just_after_it();
	test_an_opening_sent_twice_is_shown_once();
	test_an_opening_carries_its_ends();
	test_a_call_waits_for_its_session_tie();
	test_a_closed_connections_session_is_not_tied_again();
	test_a_gap_of_a_waiting_call_keeps_its_place();
	test_a_later_objects_tie_is_not_the_calls();
	test_reassembly_with_gap_and_summary();
	test_a_certificate_is_kept_by_who_parsed_it();
	test_a_certificate_on_its_connection();
	test_a_certificate_the_filter_cannot_decide_on_is_counted();
	return check_done();
}
