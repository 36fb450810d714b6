/* `hivebox daemon`: flags, runtime init, the API key, the actors and the
 * gateway, and an orderly stop on SIGTERM/SIGINT that leaves sandboxes
 * running. argv[0] is the subcommand name ("daemon"). */
#ifndef HB_DAEMON_H
#define HB_DAEMON_H

int daemon_main(int argc, char **argv);

#endif
