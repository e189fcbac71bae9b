/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz_maps.c - what the tracer parses of /proc: maps lines (one, and a whole file through
 * maps_read), /proc/PID/stat and /proc/net/tcp{,6} lines. */
#include "conns.h"
#include "fuzz.h"
#include "procmaps.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = {data, size};
	struct map_entry e;
	struct maps m = {0};
	struct proc_stat st;
	struct conn_addr a;
	unsigned long inode;
	size_t len;
	char *text = fuzz_bytes(&in, size, &len);
	FILE *f;
	int r, i;

	r = maps_parse_line(text, &e);
	FUZZ_CHECK(r >= -1 && r <= 1);
	if (r == 1) {
		FUZZ_CHECK(e.path && e.path[0] == '/' && e.start < e.end && !strchr(e.path, '\n'));
		FUZZ_CHECK(memchr(e.perms, 0, sizeof(e.perms)));
		free(e.path);
	}
	f = len ? fmemopen(text, len, "r") : NULL;
	if (f) {
		FUZZ_CHECK(maps_read(f, &m) == 0);
		for (i = 0; i < m.n; i++)
			FUZZ_CHECK(m.e[i].path && m.e[i].path[0] == '/');
		maps_free(&m);
		fclose(f);
	}
	if (proc_parse_stat(text, &st) == 0)
		FUZZ_CHECK(st.state != '\0');
	if (conns_parse_tcp_line(text, &a, &inode) == 0)
		FUZZ_CHECK(memchr(a.laddr, 0, sizeof(a.laddr)) &&
			   memchr(a.raddr, 0, sizeof(a.raddr)) &&
			   (a.family == 2 || a.family == 10)); /* AF_INET, AF_INET6 */
	free(text);
	return 0;
}
