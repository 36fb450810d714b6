/* The "instructions" of initialize: what a model should know about the
 * sandbox before its first call. Clients put them into the model's system
 * prompt, so they hold only text the daemon controls: the sandbox's name,
 * facts about its image recorded when the image was made (image_facts.c),
 * the admin's skills, and our own sentences. Nothing is asked of the
 * sandbox, whose files (/etc/os-release, ...) are the sandbox's to forge. */
#include "mcp_tools.h"

#include <stdlib.h>
#include <string.h>

static void image_facts(const hb_lease_t *l, mcp_buf_t *b)
{
    hb_image_facts_t f;
    if (hb_lease_image_facts(l, &f) < 0)
        return;
    if (f.os[0])
        mcp_buf_printf(b, "Operating system: %s.\n", f.os);
    if (f.tools[0])
        mcp_buf_printf(b, "Tools in the image: %s (install more with apt-get, pip or npm if "
                          "the sandbox has network access).\n", f.tools);
}

char *mcp_instructions(const hb_lease_t *l)
{
    mcp_buf_t b;
    mcp_buf_init(&b, 64 * 1024);
    mcp_buf_printf(&b, "You are operating inside the HiveBox sandbox '%s': an isolated Linux "
                       "machine of your own.\n", l ? hb_lease_id(l) : "(unknown)");
    if (l)
        image_facts(l, &b);
    mcp_buf_puts(&b,
                 "Commands run as root with /bin/sh -c; the working directory is /root, and "
                 "relative paths in every tool are resolved against /root.\n"
                 "Use exec for shell commands (builds, tests, package installs) and the file "
                 "tools (read_file, write_file, edit_file, list_directory, glob, search_files, "
                 "...) for files. Large outputs are truncated with a note.\n");
    if (l) {
        mcp_buf_t sk;
        mcp_buf_init(&sk, 32 * 1024);
        mcp_skills_describe(l, &sk);
        if (sk.len) {
            mcp_buf_puts(&b, "Skills (read-only under /opt/skills/<name>; read one with "
                             "read_skill_file before use, run its scripts with exec):\n");
            mcp_buf_add(&b, sk.s, sk.len);
        }
        mcp_buf_free(&sk);
    }
    return b.s; /* caller frees */
}
