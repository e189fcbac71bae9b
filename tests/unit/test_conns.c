/* SPDX-License-Identifier: Apache-2.0 */
/* test_conns.c - /proc/net/tcp{,6} lines, socket lookup (under a fixture /proc, and of live
 * sockets), the table, the notes, the sockets looked up as the tracer attaches */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "conns.h"
#include "tls_event.h"

#define PROC FIXTURES "/proc" /* fixtures/proc/4242: fds 3-8 and its net/tcp, net/tcp6 */

static void test_parse_lines(void)
{
	struct conn_addr a;
	unsigned long ino = 0;

	CHECK(conns_parse_tcp_line("  sl  local_address rem_address   st tx_queue rx_queue tr "
				   "tm->when retrnsmt   uid  timeout inode",
				   &a, &ino) == -1);
	CHECK(conns_parse_tcp_line("   1: 0100007F:C5A2 0100007F:20FB 01 00000000:00000000 "
				   "00:00000000 00000000     0        0 1001 1 00000000c804cd21 "
				   "20 4 30 10 -1",
				   &a, &ino) == 0);
	CHECK(a.family == AF_INET && ino == 1001);
	CHECK_STR(a.laddr, "127.0.0.1");
	CHECK_STR(a.raddr, "127.0.0.1");
	CHECK(a.lport == 50594 && a.rport == 8443);

	CHECK(conns_parse_tcp_line("   0: 00000000000000000000000001000000:AEAA "
				   "00000000000000000000000001000000:01BB 01 00000000:00000000 "
				   "00:00000000 00000000     0        0 1002 1 000000009a3ecbb5",
				   &a, &ino) == 0);
	CHECK(a.family == AF_INET6 && ino == 1002);
	CHECK_STR(a.laddr, "::1");
	CHECK_STR(a.raddr, "::1");
	CHECK(a.lport == 44714 && a.rport == 443);

	/* An IPv4 peer of a dual-stack socket: shown as IPv4. */
	CHECK(conns_parse_tcp_line("   1: 0000000000000000FFFF00000100007F:01BB "
				   "0000000000000000FFFF00000100007F:D431 01 00000000:00000000 "
				   "00:00000000 00000000     0        0 1005 1 000000009a3ecbb5",
				   &a, &ino) == 0);
	CHECK(a.family == AF_INET && ino == 1005);
	CHECK_STR(a.laddr, "127.0.0.1");
	CHECK(a.lport == 443 && a.rport == 54321);

	CHECK(conns_parse_tcp_line("garbage", &a, &ino) == -1);
	CHECK(conns_parse_tcp_line("", &a, &ino) == -1);
	/* The two ends of different lengths, an address of 6 digits, a port past 16 bits. */
	CHECK(conns_parse_tcp_line("   1: 0100007F:C5A2 00000000000000000000000001000000:20FB 01 "
				   "00000000:00000000 00:00000000 00000000 0 0 1001",
				   &a, &ino) == -1);
	CHECK(conns_parse_tcp_line("   1: 00007F:C5A2 00007F:20FB 01 00000000:00000000 "
				   "00:00000000 00000000 0 0 1001",
				   &a, &ino) == -1);
	CHECK(conns_parse_tcp_line("   1: 0100007F:1C5A2 0100007F:20FB 01 00000000:00000000 "
				   "00:00000000 00000000 0 0 1001",
				   &a, &ino) == -1);
}

static void test_resolve(void)
{
	struct conn_addr a;
	char end[64];

	CHECK(conns_resolve(PROC, 4242, 3, 0, &a) == 0);
	CHECK(a.family == AF_INET && a.lport == 50594 && a.rport == 8443);
	/* the socket BPF saw (inode 1001), or another on the same fd since: gone */
	CHECK(conns_resolve(PROC, 4242, 3, 1001, &a) == 0 && a.lport == 50594);
	CHECK(conns_resolve(PROC, 4242, 3, 1002, &a) == -ENOENT);
	CHECK(conns_resolve(PROC, 4242, 4, 0, &a) == 0);
	CHECK(a.family == AF_INET6 && a.lport == 44714 && a.rport == 443);
	CHECK(conns_resolve(PROC, 4242, 8, 0, &a) == 0);
	CHECK(a.family == AF_INET && a.rport == 54321);
	CHECK(conns_resolve(PROC, 4242, 5, 0, &a) == -ENOTSOCK); /* /dev/null */
	CHECK(conns_resolve(PROC, 4242, 6, 0, &a) == -EAGAIN);	 /* in no TCP table */
	CHECK(conns_resolve(PROC, 4242, 7, 0, &a) == -EAGAIN);	 /* listening: no peer */
	CHECK(conns_resolve(PROC, 4242, 9, 0, &a) == -ENOENT);	 /* no such fd */
	CHECK(conns_resolve(PROC, 4243, 3, 0, &a) == -ENOENT);	 /* no such process */

	conns_format_end(end, sizeof(end), AF_INET, "127.0.0.1", 8443);
	CHECK_STR(end, "127.0.0.1:8443");
	conns_format_end(end, sizeof(end), AF_INET6, "::1", 443);
	CHECK_STR(end, "[::1]:443");
}

/* Real sockets of this process, asked through a copy of each (pidfd_getfd). */
static void test_resolve_live(void)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(sa);
	int lfd = socket(AF_INET, SOCK_STREAM, 0), cfd = socket(AF_INET, SOCK_STREAM, 0), sv[2],
	    pp[2];
	struct conn_addr a = {0};
	struct stat st;
	uint16_t lport;

	CHECK(lfd >= 0 && cfd >= 0 && bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
	      listen(lfd, 1) == 0 && getsockname(lfd, (struct sockaddr *)&sa, &len) == 0);
	CHECK(conns_resolve("/proc", getpid(), lfd, 0, &a) == -EAGAIN); /* listening: no peer */
	CHECK(connect(cfd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
	len = sizeof(sa);
	CHECK(getsockname(cfd, (struct sockaddr *)&sa, &len) == 0);
	lport = ntohs(sa.sin_port);
	CHECK(conns_resolve("/proc", getpid(), cfd, 0, &a) == 0);
	CHECK(a.family == AF_INET && a.lport == lport && a.rport != 0 && a.rport != lport);
	CHECK(fstat(cfd, &st) == 0 && conns_resolve("/proc", getpid(), cfd, st.st_ino, &a) == 0);
	CHECK(conns_resolve("/proc", getpid(), cfd, st.st_ino + 1, &a) == -ENOENT); /* reused */
	CHECK_STR(a.laddr, "127.0.0.1");
	CHECK_STR(a.raddr, "127.0.0.1");
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	CHECK(conns_resolve("/proc", getpid(), sv[0], 0, &a) == -EAGAIN); /* not TCP */
	CHECK(pipe(pp) == 0 && conns_resolve("/proc", getpid(), pp[0], 0, &a) == -ENOTSOCK);
	close(pp[0]);
	close(pp[1]);
	close(sv[1]);
	CHECK(conns_resolve("/proc", getpid(), 1000, 0, &a) == -ENOENT); /* no such fd */
	close(sv[0]);
	close(cfd);
	close(lfd);
}

static void test_table(void)
{
	struct conn_table t = {.proc_root = PROC};
	struct conn *c;
	int i;

	/* Ids arrive out of order too; the table keeps them sorted. */
	c = conns_open(&t, 10, 4242, 3, 0, false, NULL);
	CHECK(c && c->resolved && c->addr.rport == 8443);
	c = conns_open(&t, 7, 4242, 5, 0, false, NULL);
	CHECK(c && !c->resolved && c->tries == 0);
	CHECK_STR(c->why, "not a socket");
	c = conns_open(&t, 12, 4242, 6, 0, false, NULL);
	CHECK(c && !c->resolved && c->tries > 0);
	CHECK_STR(c->why, "not a connected TCP socket");
	CHECK(t.n == 3 && t.v[0].id == 7 && t.v[1].id == 10 && t.v[2].id == 12);
	CHECK(t.opened == 3);

	/* Opened again (the ordered event after the early notice): the same entry. */
	CHECK(conns_open(&t, 10, 4242, 3, 0, false, NULL) == &t.v[1] && t.n == 3 && t.opened == 3);

	/* A connection without addresses is looked up again a few times, then let be. */
	for (i = 0; i < 10; i++)
		c = conns_get(&t, 12);
	CHECK(c && c->tries == 0 && !c->resolved);
	CHECK(conns_get(&t, 11) == NULL);
	CHECK(conns_unresolved(&t) == 2);

	conns_close(&t, 7);
	conns_close(&t, 99); /* unknown: nothing happens */
	CHECK(t.n == 2 && conns_get(&t, 7) == NULL && conns_get(&t, 10) != NULL);
	CHECK(conns_unresolved(&t) == 2); /* the closed one still counts */
	conns_close(&t, 10);
	CHECK(conns_unresolved(&t) == 2 && t.n == 1);
	conns_free(&t);
	CHECK(t.n == 0 && t.v == NULL);
}

static void test_notes(void)
{
	static struct conn_notes notes = {.mu = PTHREAD_MUTEX_INITIALIZER, .proc_root = PROC};
	struct conn_table t = {.proc_root = PROC, .notes = &notes};
	struct conn *c;
	int i;

	/* Looked up when announced: the connection takes that result, even though its
	 * process (4243 here) is gone by the time it is opened. */
	conn_notes_add(&notes, 20, 4242, 3, 0, NULL);
	conn_notes_add(&notes, 21, 4242, 9, 0, NULL);
	c = conns_open(&t, 20, 4243, 3, 0, false, NULL);
	CHECK(c && c->resolved && c->addr.lport == 50594 && c->addr.rport == 8443);
	c = conns_open(&t, 21, 4243, 9, 0, false, NULL);
	CHECK(c && !c->resolved && c->tries == 0);
	CHECK_STR(c->why, "socket closed before it could be looked at");
	/* No note: looked up then. */
	c = conns_open(&t, 22, 4242, 4, 0, false, NULL);
	CHECK(c && c->resolved && c->addr.family == AF_INET6);

	/* A note is taken once; the oldest give way to newer ones. */
	conns_close(&t, 20);
	c = conns_open(&t, 20, 4243, 3, 0, false, NULL);
	CHECK(c && !c->resolved);
	for (i = 0; i <= CONN_NOTES; i++)
		conn_notes_add(&notes, 100 + (uint64_t)i, 4242, 3, 0, NULL);
	CHECK(!conns_open(&t, 100, 4243, 3, 0, false, NULL)->resolved);
	CHECK(conns_open(&t, 101, 4243, 3, 0, false, NULL)->resolved);
	CHECK(conns_open(&t, 100 + CONN_NOTES, 4243, 3, 0, false, NULL)->resolved);
	conns_free(&t);
}

/* The addresses BPF read from the socket are taken as they are: no lookup (the process,
 * 4299, has no fixture at all), IPv4, IPv6, IPv4-mapped IPv6 as IPv4; none read (family 0):
 * looked up. */
static void test_bpf_addresses(void)
{
	static struct conn_notes notes = {.mu = PTHREAD_MUTEX_INITIALIZER, .proc_root = PROC};
	struct conn_table t = {.proc_root = PROC, .notes = &notes};
	struct tls_sock_addr v4 = {.family = AF_INET,
				   .lport = 40112,
				   .rport = 8443,
				   .laddr = {127, 0, 0, 1},
				   .raddr = {10, 1, 2, 3}};
	struct tls_sock_addr v6 = {.family = AF_INET6,
				   .lport = 1,
				   .rport = 443,
				   .laddr = {[15] = 1},
				   .raddr = {0x20, 0x01, 0x0d, 0xb8, [15] = 9}};
	struct tls_sock_addr mapped = {.family = AF_INET6,
				       .lport = 2,
				       .rport = 3,
				       .laddr = {[10] = 0xff, 0xff, 192, 168, 0, 1},
				       .raddr = {[10] = 0xff, 0xff, 192, 168, 0, 2}};
	struct tls_sock_addr none = {0};
	struct conn_addr a;
	struct conn *c;

	conn_notes_add(&notes, 30, 4299, 3, 0, &v4);
	c = conns_open(&t, 30, 4299, 3, 0, false, NULL);
	CHECK(c && c->resolved && c->addr.family == AF_INET && c->addr.lport == 40112 &&
	      c->addr.rport == 8443);
	CHECK_STR(c->addr.laddr, "127.0.0.1");
	CHECK_STR(c->addr.raddr, "10.1.2.3");
	CHECK(conns_from_bpf(&v6, &a) == 0 && a.family == AF_INET6 && a.rport == 443);
	CHECK_STR(a.laddr, "::1");
	CHECK_STR(a.raddr, "2001:db8::9");
	CHECK(conns_from_bpf(&mapped, &a) == 0 && a.family == AF_INET && a.lport == 2);
	CHECK_STR(a.laddr, "192.168.0.1");
	CHECK_STR(a.raddr, "192.168.0.2");
	CHECK(conns_from_bpf(&none, &a) == -EAGAIN && conns_from_bpf(NULL, &a) == -EAGAIN);
	conn_notes_add(&notes, 31, 4242, 3, 0, &none); /* looked up in the fixture */
	c = conns_open(&t, 31, 4242, 3, 0, false, NULL);
	CHECK(c && c->resolved && c->addr.lport == 50594 && c->addr.rport == 8443);
	/* The opening's own ends come first: no note yet (the thread of notes is behind), the
	 * socket closed (no fixture for 4299), the addresses all the same. */
	c = conns_open(&t, 32, 4299, 3, 0, false, &v6);
	CHECK(c && c->resolved && c->addr.family == AF_INET6 && c->addr.rport == 443);
	CHECK_STR(c->addr.raddr, "2001:db8::9");
	c = conns_open(&t, 33, 4242, 3, 0, false, &none); /* none read: looked up */
	CHECK(c && c->resolved && c->addr.lport == 50594);
	conns_free(&t);
}

/* What conns_scan asked of each fd, in order: '+' mark, '-' unmark; fd 4 can be refused. */
static char marks[16][8];
static int refuse_fd = -1;

static int record_mark(void *ctx, pid_t pid, int fd, bool add)
{
	(void)ctx;
	(void)pid;
	if (add && fd == refuse_fd)
		return -E2BIG; /* the map is full */
	if (fd >= 0 && fd < 16 && strlen(marks[fd]) < sizeof(marks[fd]) - 1)
		marks[fd][strlen(marks[fd])] = add ? '+' : '-';
	return 0;
}

/* marks of fds 3..8, as "3:+ 4:+- ..." */
static const char *marks_of(void)
{
	static char buf[128];
	size_t n = 0;
	int fd;

	buf[0] = '\0';
	for (fd = 3; fd <= 8; fd++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%d:%s", fd > 3 ? " " : "", fd,
				      marks[fd]);
	memset(marks, 0, sizeof(marks));
	return buf;
}

static void test_scan(void)
{
	struct conn_table t = {.proc_root = PROC};
	struct conn *c;

	CHECK(conns_scan(&t, 4242) == -EINVAL); /* nothing to mark with */
	t.mark = record_mark;
	CHECK(conns_scan(&t, 4243) == -ENOENT);
	/* Each socket is marked before it is looked up; those not connected are unmarked. */
	CHECK(conns_scan(&t, 4242) == 3 && t.nknown == 3);
	CHECK_STR(marks_of(), "3:+ 4:+ 5: 6:+- 7:+- 8:+");

	/* A marked socket's connection takes what the scan found; an unmarked one (or a
	 * socket of another process) is looked up as ever. */
	c = conns_open(&t, 30, 4242, 3, 0, true, NULL);
	CHECK(c && c->resolved && c->addr.lport == 50594 && c->addr.rport == 8443);
	c = conns_open(&t, 31, 4243, 4, 0, true, NULL);
	CHECK(c && !c->resolved);
	CHECK_STR(c->why, "socket closed before it could be looked at");
	/* Still marked, but BPF saw another socket on the fd (a close_range whose notice has
	 * not come yet): not the one found; the same socket (inode 1001) is. */
	c = conns_open(&t, 33, 4242, 3, 999, true, NULL);
	CHECK(c && c->addr.lport != 50594);
	c = conns_open(&t, 34, 4242, 3, 1001, true, NULL);
	CHECK(c && c->resolved && c->addr.lport == 50594);

	/* It exits (or execs): its finds go and their marks with them. */
	conns_forget_known(&t, 4242);
	CHECK(t.nknown == 0);
	CHECK_STR(marks_of(), "3:- 4:- 5: 6: 7: 8:-");
	c = conns_open(&t, 32, 4242, 3, 0, true, NULL); /* a mark BPF still had: looked up */
	CHECK(c && c->resolved && c->addr.lport == 50594);

	/* A socket BPF could not mark is not looked up now. */
	refuse_fd = 4;
	CHECK(conns_scan(&t, 4242) == 2);
	CHECK_STR(marks_of(), "3:+ 4: 5: 6:+- 7:+- 8:+");
	conns_free(&t);
	CHECK(t.known == NULL && t.nknown == 0);
}

int main(void)
{
	test_parse_lines();
	test_resolve();
	test_resolve_live();
	test_table();
	test_notes();
	test_bpf_addresses();
	test_scan();
	return check_done();
}
