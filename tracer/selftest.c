/* SPDX-License-Identifier: Apache-2.0 */
/*
 * selftest.c - tracer --selftest: trace our own TLS client and server, check every byte.
 *
 * Long because it is a whole program in small: a plan of transfers, a TLS server and a
 * client in a child kept in step with the tracer, and the check of what came back.
 */
#define _GNU_SOURCE
#include "selftest.h"
#include "diag.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "session.h"

#define SELFTEST_CALL_BYTES (4 << 20) /* the biggest transfer is one 4 MiB call */
#define SELFTEST_TIMEOUT_S 120	      /* the child gives up (SIGALRM) after this */
#define READ_BUF_SIZE 65536

/* Each size goes once through SSL_write + SSL_read_ex and once through SSL_write_ex + SSL_read. */
static const size_t sizes[] = {1,     2,     100,   1000,   4095,    4096,   16383,
			       16384, 16385, 65536, 100000, 1 << 20, 4 << 20};
#define NSIZES (sizeof(sizes) / sizeof(sizes[0]))
#define NTRANSFERS (2 * NSIZES)

struct transfer {
	size_t size;
	bool write_ex, read_ex;
};

/* What the captured stream of one direction said about one transfer. */
struct seen {
	EVP_MD_CTX *md;
	uint64_t bytes;
	unsigned calls;
	bool wrong_func; /* a call came through another function than planned */
	bool gap;	 /* a chunk did not start where the previous one ended */
	unsigned char digest[EVP_MAX_MD_SIZE];
};

struct selftest {
	struct sink sink; /* first: its data op finds the self-test from it */
	struct transfer plan[NTRANSFERS];
	struct seen seen[NTRANSFERS][2]; /* [transfer][enum tls_dir] */
	int cur[2];			 /* the transfer each direction's stream is in */
	uint64_t cur_call[2], next_offset[2];
	uint64_t extra[2];   /* bytes beyond the last transfer */
	int sync_fd, ack_fd; /* the child asks for a drain; we answer when it is done */
	bool sync_seen;	     /* asked during the last poll round: answer after the next one */
};

static void plan(struct transfer *t)
{
	size_t i;

	for (i = 0; i < NTRANSFERS; i++)
		t[i] = (struct transfer){
			.size = sizes[i / 2], .write_ex = i % 2, .read_ex = !(i % 2)};
}

/* Transfer t's bytes: a xorshift stream seeded by t, so no two transfers look alike. */
static void pattern(int t, unsigned char *buf, size_t len)
{
	uint64_t x = 0x9e3779b97f4a7c15ull * (uint64_t)(t + 1);
	size_t i;

	for (i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		buf[i] = (unsigned char)x;
	}
}

static const char *func_name(bool write, bool ex)
{
	return write ? (ex ? "SSL_write_ex" : "SSL_write") : (ex ? "SSL_read_ex" : "SSL_read");
}

/* ------------------------------------------------- the traced child: client and server */

/*
 * The selftest checks capture, not whether the tracer keeps up (bench/ measures that). So
 * the transfers are paced: once a transfer is read and its write call has returned, the
 * server thread asks the tracer to drain its perf buffers (a byte on sync_fd) and the
 * client writes the next transfer only after the answer (a byte on ack_fd). With the client
 * and the server on different CPUs, no CPU's buffer then holds more than one whole call,
 * which is what the buffer is sized for, however slow the tracer (a sanitized build on a
 * busy machine lost bytes when transfers went back to back).
 */
struct pace {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int written; /* transfers whose write call returned */
	int drained; /* transfers the tracer has drained */
	bool failed; /* either side failed: nobody waits any more */
	int sync_fd, ack_fd;
};

struct peer {
	SSL_CTX *ctx;
	int fd;
	const struct transfer *plan;
	int failed; /* transfers whose bytes the server did not receive intact */
	struct pace pace;
	cpu_set_t cpus[2]; /* [0] the client's, [1] the server's */
};

static void pace_fail(struct pace *pc)
{
	pthread_mutex_lock(&pc->mu);
	pc->failed = true;
	pthread_cond_broadcast(&pc->cv);
	pthread_mutex_unlock(&pc->mu);
}

/* Waits until *count > t (or a failure); 0 when it got there. */
static int pace_wait(struct pace *pc, const int *count, int t)
{
	bool failed;

	pthread_mutex_lock(&pc->mu);
	while (*count <= t && !pc->failed)
		pthread_cond_wait(&pc->cv, &pc->mu);
	failed = pc->failed;
	pthread_mutex_unlock(&pc->mu);
	return failed ? -1 : 0;
}

static void pace_set(struct pace *pc, int *count, int value)
{
	pthread_mutex_lock(&pc->mu);
	*count = value;
	pthread_cond_broadcast(&pc->cv);
	pthread_mutex_unlock(&pc->mu);
}

/* Server side, transfer t read: once its write returned, has the tracer drain. */
static int pace_drain(struct pace *pc, int t)
{
	char byte;

	if (pace_wait(pc, &pc->written, t))
		return -1;
	if (write(pc->sync_fd, "s", 1) != 1 || read(pc->ack_fd, &byte, 1) != 1) {
		pace_fail(pc);
		return -1;
	}
	pace_set(pc, &pc->drained, t + 1);
	return 0;
}

/* Client side, transfer t written: waits for the drain before the next. */
static int pace_written(struct pace *pc, int t)
{
	pace_set(pc, &pc->written, t + 1);
	return pace_wait(pc, &pc->drained, t);
}

/* Two CPUs this process may use, one for each thread (the same one if there is only one). */
static void pick_cpus(cpu_set_t cpus[2])
{
	cpu_set_t allowed;
	int cpu, n = 0;

	CPU_ZERO(&cpus[0]);
	CPU_ZERO(&cpus[1]);
	if (sched_getaffinity(0, sizeof(allowed), &allowed))
		return;
	for (cpu = 0; cpu < CPU_SETSIZE && n < 2; cpu++)
		if (CPU_ISSET(cpu, &allowed))
			CPU_SET(cpu, &cpus[n++]);
	if (n == 1)
		cpus[1] = cpus[0];
}

/* A throwaway P-256 key and self-signed certificate for 127.0.0.1. */
static int make_identity(EVP_PKEY **key, X509 **cert)
{
	X509_NAME *name;

	*key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	*cert = X509_new();
	if (!*key || !*cert)
		return -1;
	ASN1_INTEGER_set(X509_get_serialNumber(*cert), 1);
	X509_gmtime_adj(X509_getm_notBefore(*cert), -3600);
	X509_gmtime_adj(X509_getm_notAfter(*cert), 3600);
	name = X509_get_subject_name(*cert);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"127.0.0.1", -1,
				   -1, 0);
	if (!X509_set_issuer_name(*cert, name) || !X509_set_pubkey(*cert, *key) ||
	    !X509_sign(*cert, *key, EVP_sha256()))
		return -1;
	return 0;
}

/* Server thread: reads every transfer with the planned call and checks its bytes. */
static void *serve(void *arg)
{
	struct peer *p = arg;
	unsigned char *buf = malloc(READ_BUF_SIZE), *want = malloc(SELFTEST_CALL_BYTES);
	int fd = accept(p->fd, NULL, NULL);
	SSL *ssl = SSL_new(p->ctx);
	size_t t, got, n;
	int r;

	if (CPU_COUNT(&p->cpus[1]))
		pthread_setaffinity_np(pthread_self(), sizeof(p->cpus[1]), &p->cpus[1]);
	if (!buf || !want || fd < 0 || !ssl || !SSL_set_fd(ssl, fd) || SSL_accept(ssl) != 1) {
		p->failed = -1;
		goto out;
	}
	for (t = 0; t < NTRANSFERS; t++) {
		const struct transfer *tr = &p->plan[t];
		bool intact = true;

		pattern((int)t, want, tr->size);
		for (got = 0; got < tr->size; got += n) {
			size_t ask =
				tr->size - got < READ_BUF_SIZE ? tr->size - got : READ_BUF_SIZE;

			if (tr->read_ex) {
				r = SSL_read_ex(ssl, buf, ask, &n);
			} else {
				r = SSL_read(ssl, buf, (int)ask);
				n = r > 0 ? (size_t)r : 0;
			}
			if (r <= 0) {
				p->failed = -1;
				goto out;
			}
			intact = intact && memcmp(buf, want + got, n) == 0;
		}
		p->failed += !intact;
		if (pace_drain(&p->pace, (int)t)) {
			p->failed = -1;
			goto out;
		}
	}
out:
	if (p->failed < 0)
		pace_fail(&p->pace);
	SSL_free(ssl);
	if (fd >= 0)
		close(fd);
	free(buf);
	free(want);
	return NULL;
}

/* Client (this thread): writes every transfer in one planned call. */
static int client(struct peer *p, uint16_t port, X509 *cert)
{
	const struct transfer *plan = p->plan;
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	unsigned char *buf = malloc(SELFTEST_CALL_BYTES);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), r, err = -1;
	SSL *ssl = NULL;
	size_t t, n;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (CPU_COUNT(&p->cpus[0]))
		pthread_setaffinity_np(pthread_self(), sizeof(p->cpus[0]), &p->cpus[0]);
	if (!ctx || !buf || fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    !X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx), cert))
		goto out;
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	ssl = SSL_new(ctx);
	if (!ssl || !SSL_set_fd(ssl, fd) || SSL_connect(ssl) != 1)
		goto out;
	for (t = 0; t < NTRANSFERS; t++) {
		pattern((int)t, buf, plan[t].size);
		if (plan[t].write_ex) {
			r = SSL_write_ex(ssl, buf, plan[t].size, &n) == 1 && n == plan[t].size;
		} else {
			r = SSL_write(ssl, buf, (int)plan[t].size) == (int)plan[t].size;
		}
		if (!r || pace_written(&p->pace, (int)t))
			goto out;
	}
	/* Close only after the server has read everything: closing a socket with unread
	 * bytes (session tickets) resets the connection and discards what is in flight. */
	SSL_shutdown(ssl);
	shutdown(fd, SHUT_WR);
	while (recv(fd, buf, SELFTEST_CALL_BYTES, 0) > 0)
		;
	err = 0;
out:
	if (err)
		pace_fail(&p->pace);
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	if (fd >= 0)
		close(fd);
	free(buf);
	return err;
}

/* The traced child: waits for `go`, then runs the transfers. Its exit status is 0 if all
 * transfers reached the server intact. */
static int child_main(int go, int sync_fd, int ack_fd, const struct transfer *plan)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t salen = sizeof(sa);
	struct peer p = {.plan = plan,
			 .fd = -1,
			 .pace = {.mu = PTHREAD_MUTEX_INITIALIZER,
				  .cv = PTHREAD_COND_INITIALIZER,
				  .sync_fd = sync_fd,
				  .ack_fd = ack_fd}};
	EVP_PKEY *key = NULL;
	X509 *cert = NULL;
	pthread_t server;
	char byte;
	int err = 1;

	alarm(SELFTEST_TIMEOUT_S);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	p.fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	p.ctx = SSL_CTX_new(TLS_server_method());
	if (make_identity(&key, &cert) || !p.ctx || !SSL_CTX_use_certificate(p.ctx, cert) ||
	    !SSL_CTX_use_PrivateKey(p.ctx, key) || p.fd < 0 ||
	    bind(p.fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(p.fd, 1) ||
	    getsockname(p.fd, (struct sockaddr *)&sa, &salen)) {
		diag("selftest: failed to set up the TLS server: %s\n", strerror(errno));
		ERR_print_errors_fp(stderr);
		goto out;
	}
	/* Traffic starts only once the tracer is attached. */
	if (read(go, &byte, 1) != 1)
		goto out;
	pick_cpus(p.cpus);
	if (pthread_create(&server, NULL, serve, &p))
		goto out;
	if (client(&p, ntohs(sa.sin_port), cert)) {
		diag("selftest: the TLS client failed\n");
		ERR_print_errors_fp(stderr);
		shutdown(p.fd, SHUT_RDWR);
	}
	pthread_join(server, NULL);
	if (p.failed)
		diag("selftest: the TLS server %s\n",
		     p.failed < 0 ? "failed" : "received corrupted transfers");
	err = p.failed != 0;
out:
	SSL_CTX_free(p.ctx);
	EVP_PKEY_free(key);
	X509_free(cert);
	return err;
}

/* ------------------------------------------- the tracer side: hash what was captured */

/* The session's sink: feeds each chunk's bytes to the transfers of its direction, in order. */
static void on_chunk(struct sink *sink, const struct out_event *ev)
{
	struct selftest *st = (struct selftest *)sink;
	int dir = ev->write;
	const unsigned char *data = ev->data;
	uint32_t left = ev->data_len;
	bool new_call = ev->call_id != st->cur_call[dir];
	bool gap = new_call ? ev->offset != 0 : ev->offset != st->next_offset[dir];

	while (left > 0 && st->cur[dir] < (int)NTRANSFERS) {
		int t = st->cur[dir];
		struct seen *s = &st->seen[t][dir];
		const struct transfer *tr = &st->plan[t];
		uint64_t room = tr->size - s->bytes;
		uint32_t n = left < room ? left : (uint32_t)room;

		if (new_call || s->bytes == 0)
			s->calls++;
		s->gap |= gap;
		new_call = gap = false;
		s->wrong_func |= strcmp(ev->func, func_name(dir, dir ? tr->write_ex : tr->read_ex));
		EVP_DigestUpdate(s->md, data, n);
		s->bytes += n;
		data += n;
		left -= n;
		if (s->bytes == tr->size)
			st->cur[dir]++;
	}
	st->extra[dir] += left;
	st->cur_call[dir] = ev->call_id;
	st->next_offset[dir] = ev->offset + ev->data_len;
}

/* Checks one direction of one transfer; writes its table cell. */
static bool check_seen(struct selftest *st, int t, int dir, const unsigned char *want, char *cell,
		       size_t size)
{
	struct seen *s = &st->seen[t][dir];
	unsigned int len = 0;

	if (s->bytes != st->plan[t].size) {
		snprintf(cell, size, "MISSING %llu B",
			 (unsigned long long)(st->plan[t].size - s->bytes));
		return false;
	}
	EVP_DigestFinal_ex(s->md, s->digest, &len);
	if (memcmp(s->digest, want, len) != 0 || s->gap) {
		snprintf(cell, size, "sha256 DIFFERS");
		return false;
	}
	if (s->wrong_func) {
		snprintf(cell, size, "WRONG FUNC");
		return false;
	}
	snprintf(cell, size, "sha256 ok");
	return true;
}

/* Prints the table; true when every transfer was captured whole in both directions. */
static bool report(struct selftest *st)
{
	unsigned char *buf = malloc(SELFTEST_CALL_BYTES), want[EVP_MAX_MD_SIZE];
	char cell[2][32];
	uint64_t total = 0;
	int t, ok = 0;

	if (!buf)
		return false;
	printf("%3s %9s  %-13s %5s  %-14s  %-12s %5s  %s\n", "#", "BYTES", "WRITTEN WITH", "CALLS",
	       "CAPTURED", "READ WITH", "CALLS", "CAPTURED");
	for (t = 0; t < (int)NTRANSFERS; t++) {
		const struct transfer *tr = &st->plan[t];
		bool good;

		pattern(t, buf, tr->size);
		EVP_Digest(buf, tr->size, want, NULL, EVP_sha256(), NULL);
		good = check_seen(st, t, TLS_DIR_WRITE, want, cell[1], sizeof(cell[1]));
		good &= check_seen(st, t, TLS_DIR_READ, want, cell[0], sizeof(cell[0]));
		printf("%3d %9zu  %-13s %5u  %-14s  %-12s %5u  %s\n", t + 1, tr->size,
		       func_name(true, tr->write_ex), st->seen[t][TLS_DIR_WRITE].calls, cell[1],
		       func_name(false, tr->read_ex), st->seen[t][TLS_DIR_READ].calls, cell[0]);
		ok += good;
		total += tr->size;
	}
	if (st->extra[0] || st->extra[1])
		printf("unexpected bytes after the last transfer: %llu written, %llu read\n",
		       (unsigned long long)st->extra[1], (unsigned long long)st->extra[0]);
	printf("%d of %d transfers captured whole in both directions (%llu bytes each way)\n", ok,
	       (int)NTRANSFERS, (unsigned long long)total);
	free(buf);
	return ok == (int)NTRANSFERS && !st->extra[0] && !st->extra[1];
}

/* After each poll round: answers a drain asked for before the round began, since every
 * chunk submitted before then has now left the perf buffers. */
static void on_round(void *ctx)
{
	struct selftest *st = ctx;
	char byte;

	if (st->sync_seen && write(st->ack_fd, "a", 1) == 1)
		st->sync_seen = false;
	if (read(st->sync_fd, &byte, 1) == 1)
		st->sync_seen = true;
}

static void close_pipe(int p[2])
{
	if (p[0] >= 0)
		close(p[0]);
	if (p[1] >= 0)
		close(p[1]);
	p[0] = p[1] = -1;
}

/* Nothing lost, truncated, unreadable or out of order, by the session's own accounting. */
static bool accounting_clean(const struct events *e)
{
	bool clean = events_all_captured(e);

	if (!clean)
		printf("the summary on stderr shows bytes not captured in order\n");
	return clean;
}

/* Ends the child (ours, by PID) if it still runs; true if it exited with status 0. */
static bool reap(pid_t child, bool kill_it)
{
	int status = 0;

	if (kill_it)
		kill(child, SIGTERM);
	if (waitpid(child, &status, 0) != child)
		return false;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		printf("the TLS client/server child %s %d\n",
		       WIFEXITED(status) ? "exited with status" : "was killed by signal",
		       WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
		return false;
	}
	return true;
}

/* The digests of every transfer's bytes, both ways, started (false: out of memory) or
 * freed. */
static bool start_digests(struct selftest *st)
{
	int t, dir;

	for (t = 0; t < (int)NTRANSFERS; t++)
		for (dir = 0; dir < 2; dir++)
			if (!(st->seen[t][dir].md = EVP_MD_CTX_new()) ||
			    !EVP_DigestInit_ex(st->seen[t][dir].md, EVP_sha256(), NULL))
				return false;
	return true;
}

static void free_digests(struct selftest *st)
{
	int t, dir;

	for (t = 0; t < (int)NTRANSFERS; t++)
		for (dir = 0; dir < 2; dir++)
			EVP_MD_CTX_free(st->seen[t][dir].md);
}

/* The child that does TLS, forked waiting for `go` (pipes made here: the child keeps one end
 * of each, the tracer the other, in st). 0, or EXIT_RUNTIME (said); *child is -1 when there
 * is none. */
static int start_child(struct selftest *st, int go[2], int sync[2], int ack[2], pid_t *child)
{
	*child = -1;
	if (pipe2(go, O_CLOEXEC) || pipe2(sync, O_CLOEXEC | O_NONBLOCK) || pipe2(ack, O_CLOEXEC)) {
		perror("selftest: failed to create a pipe");
		return EXIT_RUNTIME;
	}
	fflush(NULL);
	*child = fork();
	if (*child < 0) {
		perror("selftest: failed to fork");
		return EXIT_RUNTIME;
	}
	if (*child == 0) {
		/* Not the tracer's handlers: SIGINT/SIGTERM end the child. */
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		close(go[1]);
		close(sync[0]);
		close(ack[1]);
		_exit(child_main(go[0], sync[1], ack[0], st->plan));
	}
	close(go[0]);
	close(sync[1]);
	close(ack[0]);
	go[0] = sync[1] = ack[0] = -1;
	st->sync_fd = sync[0];
	st->ack_fd = ack[1];
	return 0;
}

static const struct sink_ops selftest_ops = {.data = on_chunk};

int selftest_run(struct env *env, volatile sig_atomic_t *stop)
{
	struct selftest st = {.sink.ops = &selftest_ops};
	struct session s = {.observer = {.sink = &st.sink, .round = on_round, .ctx = &st}};
	int go[2] = {-1, -1}, sync[2] = {-1, -1}, ack[2] = {-1, -1}, err, freed;
	bool passed = false, child_ok = false;
	pid_t child = -1;

	plan(st.plan);
	if (!start_digests(&st)) {
		diag("selftest: failed to set up the SHA-256 digests: out of memory\n");
		free_digests(&st);
		return EXIT_RUNTIME;
	}
	if (env->max_call_bytes < SELFTEST_CALL_BYTES)
		env->max_call_bytes = SELFTEST_CALL_BYTES;
	/* 1. The child that does TLS, waiting for `go`. */
	err = start_child(&st, go, sync, ack, &child);
	if (err)
		goto cleanup;

	/* 2. Trace it with the normal machinery; its chunks go to on_chunk. */
	env->pids[0] = child;
	env->npids = 1;
	err = session_open(&s, env);
	if (err)
		goto cleanup;
	session_announce(&s);

	/* 3. Go, and trace until the child is done. */
	if (write(go[1], "g", 1) != 1) {
		perror("selftest: failed to start the child");
		err = EXIT_RUNTIME;
		goto cleanup;
	}
	session_run(&s, stop);
	err = session_finish(&s);

	/* 4. Check every transfer, and that nothing was lost. */
	child_ok = reap(child, !s.target_exited);
	child = -1;
	passed = report(&st);
	passed = accounting_clean(s.ev) && passed && child_ok && !*stop;
	printf("selftest: %s\n", passed ? "PASS" : "FAIL");
	if (!err && !passed)
		err = EXIT_RUNTIME;

cleanup:
	if (child > 0)
		reap(child, true);
	close_pipe(go);
	close_pipe(sync);
	close_pipe(ack);
	free_digests(&st);
	freed = session_free(&s);
	return err ? err : freed;
}
