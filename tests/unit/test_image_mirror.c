/* The mirror the default image is built from, read from apt's sources in
 * both formats, and the validation of $HIVEBOX_PACKAGES. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "image_internal.h"

Test(image_mirror, one_line_format_picks_bookworm_main)
{
    char m[256];
    const char *text =
        "# comment\n"
        "deb https://packages.cloud.google.com/apt cloud-sdk-bookworm main\n"
        "deb http://security.debian.org/debian-security bookworm-security main\n"
        "deb [arch=amd64 signed-by=/usr/share/keyrings/k.gpg] http://mirror.example/debian/ "
        "bookworm main contrib\n";
    cr_assert(hb_mirror_from_list(text, m, sizeof m));
    cr_assert_str_eq(m, "http://mirror.example/debian");
    cr_assert_not(hb_mirror_from_list("deb-src http://a/debian bookworm main\n", m, sizeof m));
    cr_assert_not(hb_mirror_from_list("deb file:/cdrom bookworm main\n", m, sizeof m));
    cr_assert_not(hb_mirror_from_list("#deb http://a/debian bookworm main\n", m, sizeof m));
}

Test(image_mirror, deb822_format_with_several_suites)
{
    char m[256];
    const char *text =
        "Types: deb\n"
        "URIs: https://deb.nodesource.com/node_20.x\n"
        "Suites: nodistro\n"
        "Components: main\n"
        "\n"
        "Types: deb\n"
        "# http://snapshot.debian.org/archive/debian/20250520T000000Z\n"
        "URIs: http://deb.debian.org/debian\n"
        "Suites: bookworm bookworm-updates\n"
        "Components: main\n"
        "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n";
    cr_assert(hb_mirror_from_deb822(text, m, sizeof m));
    cr_assert_str_eq(m, "http://deb.debian.org/debian");
    cr_assert_not(hb_mirror_from_deb822("Types: deb\nURIs: http://x/debian\nSuites: bookworm\n"
                                        "Components: main\nEnabled: no\n",
                                        m, sizeof m));
    cr_assert_not(hb_mirror_from_deb822("Types: deb-src\nURIs: http://x/debian\n"
                                        "Suites: bookworm\nComponents: main\n",
                                        m, sizeof m));
}

Test(image_mirror, detect_reads_a_root_and_falls_back)
{
    char root[] = "/tmp/hb-mirror-XXXXXX", path[512], m[256];
    cr_assert_not_null(mkdtemp(root));
    snprintf(path, sizeof path, "%s/etc", root);
    mkdir(path, 0755);
    snprintf(path, sizeof path, "%s/etc/apt", root);
    mkdir(path, 0755);
    hb_mirror_detect(root, m, sizeof m);
    cr_assert_str_eq(m, "http://deb.debian.org/debian", "no sources: the fallback");
    snprintf(path, sizeof path, "%s/etc/apt/sources.list.d", root);
    mkdir(path, 0755);
    snprintf(path, sizeof path, "%s/etc/apt/sources.list.d/local.sources", root);
    FILE *f = fopen(path, "w");
    fputs("Types: deb\nURIs: https://cache.local:3142/debian/\nSuites: bookworm\n"
          "Components: main\n", f);
    fclose(f);
    hb_mirror_detect(root, m, sizeof m);
    cr_assert_str_eq(m, "https://cache.local:3142/debian");
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    cr_assert_eq(system(cmd), 0);
}

Test(image_packages, valid_names_joined_bad_ones_named)
{
    char out[256];
    hb_err_t e = {0};
    cr_assert_eq(hb_packages_parse("jq, less\tvim g++", out, sizeof out, &e), 0);
    cr_assert_str_eq(out, "jq,less,vim,g++");
    cr_assert_eq(hb_packages_parse(NULL, out, sizeof out, &e), 0);
    cr_assert_str_eq(out, "");
    cr_assert_eq(hb_packages_parse("jq;rm -rf /", out, sizeof out, &e), -1);
    cr_assert_eq(e.code, HB_E_INVALID);
    cr_assert(strstr(e.msg, "jq;rm"), "%s", e.msg);
    cr_assert_eq(hb_packages_parse("--option", out, sizeof out, &e), -1);
    cr_assert_eq(hb_packages_parse("Upper", out, sizeof out, &e), -1);
}
