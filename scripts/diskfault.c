/*
 * diskfault: an LD_PRELOAD shim that makes the disk misbehave for one process's files, switched
 * on and off from outside through a control file. Used by the disk-fault integration tests
 * (Tests/IntegrationTests/DiskFaultTests.swift) and the fault runner (scripts/torture).
 *
 *   cc -shared -fPIC -O2 -o libdiskfault.so scripts/diskfault.c -ldl
 *   DISKFAULT_PREFIX=/data/n1/chainkv DISKFAULT_CONTROL=/tmp/n1.fault LD_PRELOAD=./libdiskfault.so chainkv-server ...
 *
 * Only files whose path starts with DISKFAULT_PREFIX are touched (the server's database files,
 * not its log). The control file's first word says what happens to them, from the next call on:
 *
 *   (no file, or empty)   nothing: every call goes through
 *   eio-fsync             fsync and fdatasync fail with EIO (the write stays in the page cache)
 *   eio-write             write, pwrite, pwrite64, writev and pwritev fail with EIO
 *   enospc                the same writes fail with ENOSPC, as on a full file system
 *   delay-fsync MS        fsync and fdatasync wait MS milliseconds, then go through (a slow disk)
 *
 * The control file is read at most every CONTROL_RECHECK_NS, so a check costs a clock read on
 * most calls. The first fault of each mode is reported once on stderr.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define CONTROL_RECHECK_NS 20000000LL /* 20 ms */

enum mode { MODE_NONE, MODE_EIO_FSYNC, MODE_EIO_WRITE, MODE_ENOSPC, MODE_DELAY_FSYNC };

static int cached_mode = MODE_NONE;
static long cached_delay_ms = 0;
static long long next_check_ns = 0;
static int reported[5];

static long long now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* The mode now, re-reading the control file when the cached answer is old. Races between threads
 * only make two of them read the file. */
static int current_mode(long *delay_ms) {
    const char *control = getenv("DISKFAULT_CONTROL");
    if (control == NULL || getenv("DISKFAULT_PREFIX") == NULL) return MODE_NONE;
    long long now = now_ns();
    if (now >= __atomic_load_n(&next_check_ns, __ATOMIC_RELAXED)) {
        int mode = MODE_NONE;
        long delay = 0;
        int fd = open(control, O_RDONLY | O_CLOEXEC);
        if (fd >= 0) {
            char buf[64];
            ssize_t n = read(fd, buf, sizeof buf - 1);
            close(fd);
            if (n > 0) {
                buf[n] = 0;
                if (strncmp(buf, "eio-fsync", 9) == 0) mode = MODE_EIO_FSYNC;
                else if (strncmp(buf, "eio-write", 9) == 0) mode = MODE_EIO_WRITE;
                else if (strncmp(buf, "enospc", 6) == 0) mode = MODE_ENOSPC;
                else if (strncmp(buf, "delay-fsync", 11) == 0) {
                    mode = MODE_DELAY_FSYNC;
                    delay = strtol(buf + 11, NULL, 10);
                }
            }
        }
        __atomic_store_n(&cached_delay_ms, delay, __ATOMIC_RELAXED);
        __atomic_store_n(&cached_mode, mode, __ATOMIC_RELAXED);
        __atomic_store_n(&next_check_ns, now + CONTROL_RECHECK_NS, __ATOMIC_RELAXED);
    }
    *delay_ms = __atomic_load_n(&cached_delay_ms, __ATOMIC_RELAXED);
    return __atomic_load_n(&cached_mode, __ATOMIC_RELAXED);
}

/* Whether fd is a file under DISKFAULT_PREFIX. */
static int targeted(int fd) {
    const char *prefix = getenv("DISKFAULT_PREFIX");
    char link[64], path[4096];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, path, sizeof path - 1);
    if (n <= 0) return 0;
    path[n] = 0;
    return strncmp(path, prefix, strlen(prefix)) == 0;
}

static void report(int mode, const char *call, int fd) {
    if (__atomic_exchange_n(&reported[mode], 1, __ATOMIC_RELAXED)) return;
    char msg[160];
    int n = snprintf(msg, sizeof msg, "diskfault: injecting mode %d into %s (fd %d) and later calls\n", mode, call, fd);
    if (n > 0) {
        static ssize_t (*real_write)(int, const void *, size_t);
        if (!real_write) real_write = dlsym(RTLD_NEXT, "write");
        (void)real_write(2, msg, (size_t)n);
    }
}

/* 0: go on with the real call; otherwise the errno to fail it with. */
static int fault_for_sync(int fd, const char *call) {
    long delay = 0;
    int mode = current_mode(&delay);
    if ((mode != MODE_EIO_FSYNC && mode != MODE_DELAY_FSYNC) || !targeted(fd)) return 0;
    report(mode, call, fd);
    if (mode == MODE_EIO_FSYNC) return EIO;
    struct timespec ts = { delay / 1000, (delay % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {}
    return 0;
}

static int fault_for_write(int fd, const char *call) {
    long delay = 0;
    int mode = current_mode(&delay);
    if ((mode != MODE_EIO_WRITE && mode != MODE_ENOSPC) || !targeted(fd)) return 0;
    report(mode, call, fd);
    return mode == MODE_EIO_WRITE ? EIO : ENOSPC;
}

/* The next definition of `name` (libc's), looked up once. */
#define REAL(name) static __typeof__(&name) real; if (!real) real = (__typeof__(&name))dlsym(RTLD_NEXT, #name)

int fsync(int fd) {
    REAL(fsync);
    int e = fault_for_sync(fd, "fsync");
    if (e) { errno = e; return -1; }
    return real(fd);
}

int fdatasync(int fd) {
    REAL(fdatasync);
    int e = fault_for_sync(fd, "fdatasync");
    if (e) { errno = e; return -1; }
    return real(fd);
}

ssize_t write(int fd, const void *buf, size_t count) {
    REAL(write);
    int e = fault_for_write(fd, "write");
    if (e) { errno = e; return -1; }
    return real(fd, buf, count);
}

ssize_t pwrite(int fd, const void *buf, size_t count, off_t offset) {
    REAL(pwrite);
    int e = fault_for_write(fd, "pwrite");
    if (e) { errno = e; return -1; }
    return real(fd, buf, count, offset);
}

ssize_t pwrite64(int fd, const void *buf, size_t count, off64_t offset) {
    REAL(pwrite64);
    int e = fault_for_write(fd, "pwrite64");
    if (e) { errno = e; return -1; }
    return real(fd, buf, count, offset);
}

ssize_t writev(int fd, const struct iovec *iov, int iovcnt) {
    REAL(writev);
    int e = fault_for_write(fd, "writev");
    if (e) { errno = e; return -1; }
    return real(fd, iov, iovcnt);
}

ssize_t pwritev(int fd, const struct iovec *iov, int iovcnt, off_t offset) {
    REAL(pwritev);
    int e = fault_for_write(fd, "pwritev");
    if (e) { errno = e; return -1; }
    return real(fd, iov, iovcnt, offset);
}
