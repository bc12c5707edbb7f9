/* A launcher that runs a command under a seccomp filter killing the
 * process on any mmap, mprotect or pkey_mprotect asking for a page both
 * writable and executable — what systems denying W+X (SELinux execmem,
 * PaX-like policies) refuse. The library patches libc in its constructor,
 * so the filter must be in force before it loads: installed here (with
 * no_new_privs), then kept across the exec.
 *
 *   prog_nowx [-p] COMMAND [ARG...]
 *
 * -p also makes pwrite64 fail with EPERM, as a kernel refusing writes to
 * /proc/self/mem would: the library's fallback must be W+X-free too.
 * Exit status: the command's; killed by the filter, the shell sees
 * SIGSYS (exit 159).
 */
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#define ARG2 (offsetof(struct seccomp_data, args) + 2 * sizeof(__u64)) /* low half, little-endian */
#define WX (PROT_WRITE | PROT_EXEC)

int main(int argc, char **argv)
{
	int deny_pwrite = argc > 1 && !strcmp(argv[1], "-p");
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_mmap, 4, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_mprotect, 3, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_pkey_mprotect, 2, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, deny_pwrite ? SYS_pwrite64 : 0xffffffff, 6, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG2),
		BPF_STMT(BPF_ALU | BPF_AND | BPF_K, WX),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, WX, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
	};
	struct sock_fprog prog = {sizeof f / sizeof *f, f};
	char **cmd = argv + 1 + deny_pwrite;
	if (!*cmd) {
		fprintf(stderr, "usage: %s [-p] COMMAND [ARG...]\n", argv[0]);
		return 2;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
	    syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0) {
		perror("seccomp");
		return 2;
	}
	execvp(cmd[0], cmd);
	perror("exec");
	return 127;
}
