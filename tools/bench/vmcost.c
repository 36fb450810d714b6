/* What this machine charges for the primitives HiveBox is made of: a page
 * fault, a copy-on-write fault after fork, a system call, spawning a static
 * and a dynamic program. Virtual machines differ by 10-100x here, which is
 * why the benchmark's absolute figures only compare within one machine.
 *
 * Built and run by tools/bench/bench.py (linked -static so that "spawn a
 * static no-op" can spawn itself); prints one JSON object on stdout. */
#define _GNU_SOURCE
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "benchclock.h"

extern char **environ;

#define PAGE 4096u

/* Microseconds per first touch of a fresh anonymous page (best of 5). */
static double page_fault_us(void)
{
    const size_t len = 32u << 20;
    double best = 1e18;
    for (int r = 0; r < 5; r++) {
        volatile char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                                -1, 0);
        if (p == MAP_FAILED)
            return -1;
        double t = now_us();
        for (size_t i = 0; i < len; i += PAGE)
            p[i] = 1;
        double d = now_us() - t;
        best = d < best ? d : best;
        munmap((void *)p, len);
    }
    return best * (double)PAGE / (double)len;
}

/* Microseconds per page a forked child writes to (median of 5 forks). */
static double cow_fault_us(void)
{
    const size_t pages = 512, len = pages * PAGE;
    double v[5];
    char *p = malloc(len);
    if (!p)
        return -1;
    memset(p, 1, len);
    for (int r = 0; r < 5; r++) {
        int fd[2];
        if (pipe(fd) < 0) {
            free(p);
            return -1;
        }
        pid_t c = fork();
        if (c == 0) {
            double t = now_us();
            for (size_t i = 0; i < len; i += PAGE)
                ((volatile char *)p)[i] = 2;
            double per = (now_us() - t) / (double)pages;
            _exit(write(fd[1], &per, sizeof per) == sizeof per ? 0 : 1);
        }
        if (c < 0 || read(fd[0], &v[r], sizeof v[r]) != sizeof v[r])
            v[r] = -1;
        waitpid(c, NULL, 0);
        close(fd[0]);
        close(fd[1]);
    }
    free(p);
    qsort(v, 5, sizeof *v, cmp_double);
    return v[2];
}

static double syscall_us(void)
{
    const int n = 200000;
    double t = now_us();
    for (int i = 0; i < n; i++)
        syscall(SYS_getpid);
    return (now_us() - t) / n;
}

/* Median milliseconds of posix_spawn + waitpid of argv[0]. */
static double spawn_ms(char *const argv[])
{
    enum { N = 41 };
    double v[N];
    for (int i = 0; i < N; i++) {
        pid_t pid;
        double t = now_us();
        if (posix_spawn(&pid, argv[0], NULL, NULL, argv, environ) != 0)
            return -1;
        waitpid(pid, NULL, 0);
        v[i] = (now_us() - t) / 1e3;
    }
    qsort(v, N, sizeof *v, cmp_double);
    return v[N / 2];
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "noop") == 0)
        return 0;
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0)
        return 1;
    self[n] = '\0';
    char *static_argv[] = {self, (char *)"noop", NULL};
    char *dynamic_argv[] = {(char *)(argc > 1 ? argv[1] : "/bin/true"), NULL};
    printf("{\"page_fault_us\": %.2f, \"cow_fault_us\": %.2f, \"syscall_us\": %.3f, "
           "\"spawn_static_ms\": %.2f, \"spawn_dynamic_ms\": %.2f, \"dynamic_program\": \"%s\"}\n",
           page_fault_us(), cow_fault_us(), syscall_us(), spawn_ms(static_argv),
           spawn_ms(dynamic_argv), dynamic_argv[0]);
    return 0;
}
