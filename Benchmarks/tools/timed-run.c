/* timed-run: runs a command and prints "<wall ns> <peak RSS KiB> <exit status> <CPU ns>" on stdout
 * (CPU: user + system time of the command and its children).
 *
 * The harness measures every whole-process run through this small launcher rather than
 * spawning the command itself: Linux charges the spawning process's peak RSS to a child's
 * ru_maxrss when the child was forked or vforked from it, and the harness grows to hundreds of
 * MiB during its in-process runs. This launcher is ~1 MiB, so the figure is the command's own.
 * The child's stdin, stdout and stderr are /dev/null, or stdout goes to the file given with
 * -o FILE (for peers that write their output there).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
    const char *out = "/dev/null";
    int first = 1;
    if (argc > 2 && strcmp(argv[1], "-o") == 0) { out = argv[2]; first = 3; }
    if (first >= argc) { fprintf(stderr, "usage: timed-run [-o FILE] COMMAND [ARG...]\n"); return 64; }
    struct timespec start, end;
    clock_gettime(CLOCK_MONOTONIC, &start);
    pid_t pid = fork();
    if (pid < 0) { perror("timed-run: fork"); return 71; }
    if (pid == 0) {
        int null = open("/dev/null", O_RDWR);
        int stdout_fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (null < 0 || stdout_fd < 0) _exit(126);
        dup2(null, 0); dup2(stdout_fd, 1); dup2(null, 2);
        execvp(argv[first], argv + first);
        _exit(127);
    }
    int status;
    struct rusage usage;
    if (wait4(pid, &status, 0, &usage) < 0) { perror("timed-run: wait4"); return 71; }
    clock_gettime(CLOCK_MONOTONIC, &end);
    long long ns = (long long)(end.tv_sec - start.tv_sec) * 1000000000LL + (end.tv_nsec - start.tv_nsec);
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    long long cpu = ((long long)usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * 1000000000LL
        + ((long long)usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) * 1000LL;
    printf("%lld %ld %d %lld\n", ns, usage.ru_maxrss, code, cpu);
    return 0;
}
