/* SPDX-License-Identifier: Apache-2.0 */
/* nosym_errsites.c - OpenSSL 3's error-site shape (ERR_raise: the function's name, its
 * source file, one reporting call) without OpenSSL, built as code linked below 4 GiB
 * (-fno-pie -no-pie: addresses loaded with `mov r32, imm32`, not `lea`) for test_nosym. */
__attribute__((noinline)) void ERR_set_debug(const char *file, int line, const char *func)
{
	__asm__ volatile("" ::"r"(file), "r"(line), "r"(func));
}

__attribute__((noinline)) int SSL_write(int x)
{
	if (x < 0) {
		ERR_set_debug("ssl/ssl_lib.c", __LINE__, __func__);
		return -1;
	}
	return x;
}

__attribute__((noinline)) int SSL_read(int x)
{
	if (x < 0) {
		ERR_set_debug("ssl/ssl_lib.c", __LINE__, __func__);
		return -1;
	}
	return x + 1;
}

int main(int argc, char **argv)
{
	(void)argv;
	return SSL_write(argc) + SSL_read(-argc);
}
