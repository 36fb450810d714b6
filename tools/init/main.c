/* hivebox-init: started by the runtime (posix_spawn, never a bare fork of
 * the daemon) as real root, single-threaded from its first instruction.
 *
 *   hivebox-init launch <sandbox-dir>     set up a sandbox, become its PID 1
 *   hivebox-init serve <socket-path>      development only: serve the init
 *                                         protocol without any isolation
 */
#include "init.h"
#include "launcher.h"
#include "log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static int serve_only(const char *path)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    size_t len = strlen(path);
    if (len >= sizeof sa.sun_path) {
        fprintf(stderr, "socket path too long\n");
        return 2;
    }
    memcpy(sa.sun_path, path, len + 1);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    unlink(path);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(fd, 128) < 0) {
        perror("serve");
        return 1;
    }
    agent_cfg_t cfg = {.listen_fd = fd, .id = "dev", .last_pid_fd = -1};
    agent_run(&cfg);
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "launch") == 0) {
        /* The sandbox can read its PID 1's cmdline: keep the host path out of it. */
        char dir[1024];
        snprintf(dir, sizeof dir, "%s", argv[2]);
        memset(argv[2], 0, strlen(argv[2]));
        return launcher_main(dir);
    }
    if (argc == 3 && strcmp(argv[1], "probe") == 0)
        return launcher_probe(argv[2]);
    if (argc == 3 && strcmp(argv[1], "serve") == 0)
        return serve_only(argv[2]);
    fprintf(stderr, "usage: hivebox-init launch <sandbox-dir> | serve <socket>\n"
                    "(started by the hivebox runtime, not by hand)\n");
    return 2;
}
