#ifndef HB_LAUNCHER_H
#define HB_LAUNCHER_H
/* Set up the sandbox described by <dir>/launch.conf and become (a clone of
 * ourselves becomes) its PID 1. Returns the process exit status for the
 * runtime: 0 once init reported ready (its host pid is written to stdout). */
int launcher_main(const char *dir);
/* Check the kernel features a sandbox needs, in a scratch dir; prints "ok" or
 * "error <what is missing>". */
int launcher_probe(const char *dir);
#endif
