/*
 * Each process of meldpuntd gives up what it does not need before it
 * reads anything from outside (docs/PRIVSEP.md):
 *
 *  - the HTTP worker: no file system at all (Landlock with no rule), and
 *    only the system calls that serving sockets from memory takes
 *    (seccomp, an allow-list: opening a file or running a program fails);
 *  - the store: the instance directory only (Landlock), and no running of
 *    programs, no new sockets, no tracing (seccomp, a deny-list: SQLite's
 *    file work varies with its version and is not worth breaking);
 *  - the parent: waiting for its children and signalling them.
 *
 * All set no-new-privileges first.  Landlock needs Linux 5.13; without it
 * the seccomp filter still holds and the start says so once.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <linux/landlock.h>
#include <seccomp.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "extern.h"

#ifndef LANDLOCK_ACCESS_FS_REFER
#define LANDLOCK_ACCESS_FS_REFER (1ULL << 13)
#endif
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14)
#endif

/* Every right a kernel of Landlock ABI version abi knows. */
static uint64_t
fs_rights(int abi)
{
	uint64_t all = (1ULL << 13) - 1; /* ABI 1: execute .. make_sym */

	if (abi >= 2)
		all |= LANDLOCK_ACCESS_FS_REFER;
	if (abi >= 3)
		all |= LANDLOCK_ACCESS_FS_TRUNCATE;
	return all;
}

/*
 * Deny every file system right but, under dir (NULL: none), those that
 * SQLite needs.  0 when in force, 1 when the kernel lacks Landlock, -1 on
 * failure.
 */
static int __attribute__((unused)) landlock(const char *dir)
{
	struct landlock_ruleset_attr attr;
	struct landlock_path_beneath_attr rule;
	int abi, fd, rc = -1;

	abi = (int)syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
	/* Not in this kernel, turned off, or refused by a filter around meldpuntd. */
	if (abi < 1)
		return errno == ENOSYS || errno == EOPNOTSUPP || errno == EPERM ? 1 : -1;
	memset(&attr, 0, sizeof attr);
	attr.handled_access_fs = fs_rights(abi);
	if ((fd = (int)syscall(SYS_landlock_create_ruleset, &attr, sizeof attr, 0)) < 0)
		return -1;
	if (dir != NULL) {
		memset(&rule, 0, sizeof rule);
		rule.allowed_access = fs_rights(abi) &
		    (LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_WRITE_FILE |
		        LANDLOCK_ACCESS_FS_READ_DIR | LANDLOCK_ACCESS_FS_REMOVE_FILE |
		        LANDLOCK_ACCESS_FS_MAKE_REG | LANDLOCK_ACCESS_FS_TRUNCATE);
		if ((rule.parent_fd = open(dir, O_PATH | O_CLOEXEC)) < 0)
			goto out;
		if (syscall(SYS_landlock_add_rule, fd, LANDLOCK_RULE_PATH_BENEATH, &rule, 0) != 0) {
			close(rule.parent_fd);
			goto out;
		}
		close(rule.parent_fd);
		/* SQLCipher's crypto library may read the kernel's randomness from here. */
		rule.allowed_access = LANDLOCK_ACCESS_FS_READ_FILE;
		if ((rule.parent_fd = open("/dev/urandom", O_PATH | O_CLOEXEC)) >= 0) {
			syscall(SYS_landlock_add_rule, fd, LANDLOCK_RULE_PATH_BENEATH, &rule, 0);
			close(rule.parent_fd);
		}
	}
	if (syscall(SYS_landlock_restrict_self, fd, 0) == 0)
		rc = 0;
out:
	close(fd);
	return rc;
}

/* What the HTTP worker may call: sockets it has, memory, threads, time, randomness. */
static const int worker_calls[] = {
	SCMP_SYS(read),
	SCMP_SYS(write),
	SCMP_SYS(readv),
	SCMP_SYS(writev),
	SCMP_SYS(close),
	SCMP_SYS(recvfrom),
	SCMP_SYS(sendto),
	SCMP_SYS(recvmsg),
	SCMP_SYS(sendmsg),
	SCMP_SYS(accept),
	SCMP_SYS(accept4),
	SCMP_SYS(shutdown),
	SCMP_SYS(getsockopt),
	SCMP_SYS(setsockopt),
	SCMP_SYS(getsockname),
	SCMP_SYS(getpeername),
	SCMP_SYS(epoll_create1),
	SCMP_SYS(epoll_ctl),
	SCMP_SYS(epoll_wait),
	SCMP_SYS(epoll_pwait),
	SCMP_SYS(poll),
	SCMP_SYS(ppoll),
	SCMP_SYS(select),
	SCMP_SYS(pselect6),
	SCMP_SYS(eventfd2),
	SCMP_SYS(pipe2),
	SCMP_SYS(fcntl),
	SCMP_SYS(fstat),
	SCMP_SYS(newfstatat),
	SCMP_SYS(lseek),
	SCMP_SYS(ioctl),
	SCMP_SYS(futex),
	SCMP_SYS(set_robust_list),
	SCMP_SYS(rseq),
	SCMP_SYS(sched_yield),
	SCMP_SYS(sched_getaffinity),
	SCMP_SYS(mmap),
	SCMP_SYS(munmap),
	SCMP_SYS(mprotect),
	SCMP_SYS(mremap),
	SCMP_SYS(brk),
	SCMP_SYS(madvise),
	SCMP_SYS(mlock),
	SCMP_SYS(munlock),
	SCMP_SYS(mlock2),
	SCMP_SYS(rt_sigprocmask),
	SCMP_SYS(rt_sigaction),
	SCMP_SYS(rt_sigtimedwait),
	SCMP_SYS(rt_sigreturn),
	SCMP_SYS(sigaltstack),
	SCMP_SYS(getrandom),
	SCMP_SYS(clock_gettime),
	SCMP_SYS(clock_nanosleep),
	SCMP_SYS(nanosleep),
	SCMP_SYS(gettimeofday),
	SCMP_SYS(gettid),
	SCMP_SYS(getpid),
	SCMP_SYS(tgkill),
	SCMP_SYS(exit),
	SCMP_SYS(exit_group),
	SCMP_SYS(prctl),
};

/* What the store may not call: programs, new sockets, other processes, the kernel's own. */
static const int store_denied[] = {
	SCMP_SYS(execve),
	SCMP_SYS(execveat),
	SCMP_SYS(socket),
	SCMP_SYS(socketpair),
	SCMP_SYS(connect),
	SCMP_SYS(bind),
	SCMP_SYS(listen),
	SCMP_SYS(accept),
	SCMP_SYS(accept4),
	SCMP_SYS(ptrace),
	SCMP_SYS(process_vm_readv),
	SCMP_SYS(process_vm_writev),
	SCMP_SYS(kill),
	SCMP_SYS(tkill),
	SCMP_SYS(mount),
	SCMP_SYS(umount2),
	SCMP_SYS(pivot_root),
	SCMP_SYS(chroot),
	SCMP_SYS(setuid),
	SCMP_SYS(setgid),
	SCMP_SYS(setns),
	SCMP_SYS(unshare),
	SCMP_SYS(init_module),
	SCMP_SYS(finit_module),
	SCMP_SYS(delete_module),
	SCMP_SYS(kexec_load),
	SCMP_SYS(bpf),
	SCMP_SYS(perf_event_open),
	SCMP_SYS(keyctl),
	SCMP_SYS(add_key),
	SCMP_SYS(request_key),
	SCMP_SYS(userfaultfd),
	SCMP_SYS(fork),
	SCMP_SYS(vfork),
	SCMP_SYS(chmod),
	SCMP_SYS(fchmod),
	SCMP_SYS(chown),
	SCMP_SYS(fchown),
	SCMP_SYS(symlink),
	SCMP_SYS(link),
	SCMP_SYS(reboot),
	SCMP_SYS(swapon),
	SCMP_SYS(swapoff),
};

/* What the parent may call: wait, signal its children, say why it stops. */
static const int parent_calls[] = {
	SCMP_SYS(wait4),
	SCMP_SYS(waitid),
	SCMP_SYS(kill),
	SCMP_SYS(rt_sigtimedwait),
	SCMP_SYS(rt_sigprocmask),
	SCMP_SYS(rt_sigaction),
	SCMP_SYS(rt_sigreturn),
	SCMP_SYS(write),
	SCMP_SYS(writev),
	SCMP_SYS(close),
	SCMP_SYS(fstat),
	SCMP_SYS(newfstatat),
	SCMP_SYS(brk),
	SCMP_SYS(mmap),
	SCMP_SYS(munmap),
	SCMP_SYS(madvise),
	SCMP_SYS(futex),
	SCMP_SYS(clock_gettime),
	SCMP_SYS(getpid),
	SCMP_SYS(gettid),
	SCMP_SYS(tgkill),
	SCMP_SYS(exit),
	SCMP_SYS(exit_group),
	SCMP_SYS(munlock),
	SCMP_SYS(mprotect),
};

/*
 * A filter of calls with action act; everything else gets def.  Opening a
 * file answers EACCES in the worker rather than ending it: a library that
 * looks for a file it can do without goes on without it.
 */
static int __attribute__((unused))
seccomp(const int *calls, size_t n, uint32_t act, uint32_t def, int open_eacces)
{
	scmp_filter_ctx ctx;
	size_t i;
	int rc = -1;

	/*
	 * Below API level 3 the kernel cannot end a whole process on a call
	 * (Linux before 4.14, or a memory checker such as valgrind that does
	 * not pass seccomp on): go without rather than half-way.
	 */
	if (seccomp_api_get() < 3)
		return 1;
	if ((ctx = seccomp_init(def)) == NULL)
		return -1;
	for (i = 0; i < n; i++)
		if (seccomp_rule_add(ctx, act, calls[i], 0) != 0)
			goto out;
	/*
	 * Threads, not processes: clone only with CLONE_THREAD, and clone3
	 * (whose flags a filter cannot see) answers ENOSYS, so the C library
	 * falls back to clone.
	 */
	if (seccomp_rule_add(ctx, def == SCMP_ACT_ALLOW ? SCMP_ACT_KILL_PROCESS : SCMP_ACT_ALLOW,
	        SCMP_SYS(clone), 1,
	        def == SCMP_ACT_ALLOW
	            ? SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, 0)
	            : SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD)) != 0 ||
	    seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0) != 0)
		goto out;
	if (open_eacces &&
	    (seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EACCES), SCMP_SYS(open), 0) != 0 ||
	        seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EACCES), SCMP_SYS(openat), 0) != 0 ||
	        seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EACCES), SCMP_SYS(openat2), 0) != 0))
		goto out;
	rc = seccomp_load(ctx);
out:
	seccomp_release(ctx);
	return rc;
}

static int
no_new_privs(void)
{
	return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
}

static void __attribute__((unused)) note(int r, const char *what, const char *who)
{
	if (r == 1)
		fprintf(stderr, "meldpuntd: no %s here; the %s goes without it\n", what, who);
}

/*
 * Built with AddressSanitizer (make asan), the leak check at exit stops the
 * world with clone and ptrace and reads /proc, which neither filter allows:
 * such a build sets only no-new-privileges, and says so.
 */
#if defined(__SANITIZE_ADDRESS__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANITIZED 1
#endif
#endif

/* Landlock, then seccomp: 0 when both hold, or when the kernel lacks one of them. */
static int
confine(const char *who, const char *dir, const int *calls, size_t n, uint32_t act, uint32_t def,
    int open_eacces)
{
	int r;

#ifdef SANITIZED
	/* LeakSanitizer also reads /proc at exit, which Landlock would refuse. */
	(void)dir, (void)r, (void)calls, (void)n, (void)act, (void)def, (void)open_eacces;
	if (no_new_privs() != 0)
		return -1;
	fprintf(stderr,
	    "meldpuntd: built with AddressSanitizer: the %s goes without Landlock "
	    "and seccomp\n",
	    who);
#else
	if (no_new_privs() != 0 || (r = landlock(dir)) < 0)
		return -1;
	note(r, "Landlock", who);
	if ((r = seccomp(calls, n, act, def, open_eacces)) < 0)
		return -1;
	note(r, "seccomp", who);
#endif
	return 0;
}

int
sandbox_worker(void)
{
	return confine("HTTP worker", NULL, worker_calls,
	    sizeof worker_calls / sizeof worker_calls[0], SCMP_ACT_ALLOW, SCMP_ACT_KILL_PROCESS, 1);
}

int
sandbox_store(const char *dir)
{
	return confine("store", dir, store_denied, sizeof store_denied / sizeof store_denied[0],
	    SCMP_ACT_KILL_PROCESS, SCMP_ACT_ALLOW, 0);
}

int
sandbox_parent(void)
{
	return confine("parent", NULL, parent_calls, sizeof parent_calls / sizeof parent_calls[0],
	    SCMP_ACT_ALLOW, SCMP_ACT_KILL_PROCESS, 1);
}
