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
	struct tls_event *ev = calloc(1, TLS_EVENT_HDR_SIZE + len);

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

static void sink(void *ctx, const struct tls_event *ev)
{
	(void)ctx;
	if (nseen < 16)
		seen[nseen++] = ev->call_id;
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

	events_init(&e, &(struct events_config){
				.probes = &no_probes, .max_data_size = 64, .sink = sink});
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
	events_free(&e);
}

/* More than EVENTS_QUEUE_BUDGET kept behind a gap: the gap is given up at once, not when a
 * round ends (one round may read for long). */
static void test_gap_given_up_for_room(void)
{
	static char big[65];
	struct events e;
	uint64_t i;

	memset(big, 'x', 64);
	events_init(&e, &(struct events_config){
				.probes = &no_probes, .max_data_size = 64, .sink = sink});
	nseen = 0;
	for (i = 2; i < 2 + EVENTS_QUEUE_BUDGET / 64 + 16 && nseen == 0; i++)
		feed(&e, 0, i, i, 64, 0, big, true);
	CHECK(nseen > 0 && seen[0] == 2 && e.queued_bytes <= EVENTS_QUEUE_BUDGET);
	events_free(&e);
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

	events_init(&e,
		    &(struct events_config){
			    .probes = &no_probes, .out = out, .json = true, .max_data_size = 64});
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
	events_free(&e);
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

	events_init(&e,
		    &(struct events_config){
			    .probes = &no_probes, .out = out, .json = true, .max_data_size = 64});
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
	events_free(&e);
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
	events_init(e,
		    &(struct events_config){
			    .probes = &no_probes, .out = out, .json = true, .max_data_size = 64});
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
	events_free(&e);
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
	events_free(&e);
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
	events_free(&e);
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
	events_free(&e);
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
	events_free(&e);
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

	events_init(&e,
		    &(struct events_config){.probes = &no_probes, .out = out, .max_data_size = 64});
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
	events_free(&e);
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

	events_init(&e, &(struct events_config){
				.probes = &no_probes, .max_data_size = 64, .sink = sink});
	feed(&e, 0, 100, 1, 5, 0, "hello", true);
	events_deliver(&e, UINT64_MAX);
	sums[TLS_STAT_CALLS] = 1;
	sums[TLS_STAT_BYTES_MOVED] = 5;
	events_on_counters(&e, 42, sums, TLS_STAT_MAX);
	CHECK(events_all_captured(&e));
	feed(&e, 0, 50, 2, 1, 0, "x", true); /* a byte the counters never moved */
	CHECK(!events_all_captured(&e));
	events_free(&e);
}

int main(void)
{
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
	return check_done();
}
