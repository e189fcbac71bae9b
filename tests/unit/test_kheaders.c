/* SPDX-License-Identifier: Apache-2.0 */
/* test_kheaders.c - unit tests of kernel header discovery on a fake /usr/src and /lib/modules */
#include <stdlib.h>
#include <sys/stat.h>

#include "check.h"
#include "kheaders.h"

static char root[] = "/tmp/tracer-kh-XXXXXX";

static void touch(const char *rel, const char *text)
{
	char path[1024], cmd[1100];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	snprintf(cmd, sizeof(cmd), "mkdir -p \"$(dirname '%s')\"", path);
	if (system(cmd) != 0)
		return;
	f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
}

/* A Debian-style split pair: -common has the sources, -<flavour> the generated files. */
static void debian_pair(const char *ver, const char *flavour)
{
	char rel[512], text[512];

	snprintf(rel, sizeof(rel), "usr/src/linux-headers-%s-common/include/linux/kconfig.h", ver);
	touch(rel, "");
	snprintf(rel, sizeof(rel), "usr/src/linux-headers-%s-%s/include/generated/autoconf.h", ver,
		 flavour);
	touch(rel, "");
	snprintf(rel, sizeof(rel), "usr/src/linux-headers-%s-%s/arch/x86/include/generated/x", ver,
		 flavour);
	touch(rel, "");
	snprintf(rel, sizeof(rel), "usr/src/linux-headers-%s-%s/Makefile", ver, flavour);
	snprintf(text, sizeof(text), "include %s/usr/src/linux-headers-%s-common/Makefile\n", root,
		 ver);
	touch(rel, text);
}

static int find(const char *release, struct kheaders *kh, char *errs)
{
	char mods[1024], src[1024];
	int r;

	snprintf(mods, sizeof(mods), "%s/lib/modules", root);
	snprintf(src, sizeof(src), "%s/usr/src", root);
	CAPTURE_DIAG(errs, 2048, r = kheaders_find(release, "x86_64", mods, src, kh));
	return r;
}

int main(void)
{
	struct kheaders kh;
	char errs[2048], want[1024];

	unsetenv("BCC_KERNEL_SOURCE");
	CHECK(mkdtemp(root) != NULL);
	CHECK(kheaders_version_code("6.18.44-fc-v657") == 0x061200 + 44);
	CHECK(kheaders_version_code("6.1.0-56-amd64") == 0x060100);
	CHECK(kheaders_version_code("5.4.300") == 0x0504ff);
	CHECK(kheaders_version_code("common") == 0);

	/* Nothing installed: the message names the packages to install. */
	CHECK(find("6.18.44-x", &kh, errs) == -2);
	CHECK(strstr(errs, "no kernel headers found for Linux 6.18.44-x") != NULL);
	CHECK(strstr(errs, "install linux-headers-6.18.44-x (on Debian, linux-headers-amd64") !=
	      NULL);

	/* Split pairs: the one nearest in version wins, with -I flags for its generated half. */
	debian_pair("5.10.0-30", "amd64");
	debian_pair("6.1.0-56", "amd64");
	CHECK(find("6.18.44-x", &kh, errs) == 0);
	snprintf(want, sizeof(want), "%s/usr/src/linux-headers-6.1.0-56-common", root);
	CHECK_STR(kh.source, want);
	snprintf(want, sizeof(want), "%s/usr/src/linux-headers-6.1.0-56-amd64", root);
	CHECK_STR(kh.build, want);
	CHECK(kh.ncflags == 4);
	snprintf(want, sizeof(want),
		 "-I%s/usr/src/linux-headers-6.1.0-56-amd64/arch/x86/include/"
		 "generated/uapi",
		 root);
	CHECK_STR(kh.cflags[0], want);
	CHECK(find("5.10.99", &kh, errs) == 0);
	CHECK(strstr(kh.source, "linux-headers-5.10.0-30-common") != NULL);

	/* The running kernel's own build tree beats anything in /usr/src. */
	touch("lib/modules/6.18.44-x/build/include/linux/kconfig.h", "");
	CHECK(find("6.18.44-x", &kh, errs) == 0);
	CHECK_STR(kh.source, ""); /* libbcc's default finds it */
	CHECK(strstr(kh.desc, "/lib/modules/6.18.44-x/build") != NULL);

	/* BCC_KERNEL_SOURCE, set by the user, wins. */
	setenv("BCC_KERNEL_SOURCE", "/my/headers", 1);
	CHECK(find("6.18.44-x", &kh, errs) == 0);
	CHECK_STR(kh.source, "/my/headers");
	unsetenv("BCC_KERNEL_SOURCE");

	snprintf(want, sizeof(want), "rm -rf %s", root);
	CHECK(system(want) == 0);
	return check_done();
}
