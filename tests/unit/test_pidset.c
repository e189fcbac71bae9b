/* test_pidset.c - the set of processes probes are attached for, told apart by start time */
#include "check.h"
#include "pidset.h"

#include <errno.h>

int main(void)
{
	struct pidset ps = {0};
	int i;

	CHECK(pidset_add(&ps, 100, 5000) == 1);
	CHECK(pidset_add(&ps, 100, 5000) == 0);	      /* the same process, told twice */
	CHECK(pidset_add(&ps, 100, 0) == 0);	      /* start not known: the same */
	CHECK(pidset_add(&ps, 100, 7000) == -EEXIST); /* a later process of PID 100 */
	CHECK(ps.n == 1 && ps.start[0] == 5000);      /* unchanged by the refusal */
	CHECK(pidset_add(&ps, 200, 0) == 1);
	CHECK(pidset_add(&ps, 200, 9000) == 0); /* the first start was not known */
	for (i = 1; i <= 40; i++)		/* grows past its first 16 */
		CHECK(pidset_add(&ps, 1000 + i, (unsigned long long)i) == 1);
	CHECK(ps.n == 42 && ps.pid[41] == 1040 && ps.start[41] == 40);
	CHECK(pidset_remove(&ps, 100));
	CHECK(!pidset_remove(&ps, 100));
	CHECK(!pidset_has(&ps, 100) && pidset_has(&ps, 200));
	CHECK(ps.n == 41 && ps.pid[0] == 200 && ps.pid[1] == 1001 && ps.start[1] == 1);
	CHECK(pidset_add(&ps, 100, 7000) == 1); /* after the exit, the new one */
	pidset_free(&ps);
	CHECK(ps.n == 0 && !ps.pid);
	return check_done();
}
