/* Spec validation: every rejection names the field the API client sent. */
#include <criterion/criterion.h>
#include <string.h>

#include "runtime.h"

static hb_spec_t spec(void)
{
    hb_spec_t s;
    hb_spec_defaults(&s);
    return s;
}

Test(spec, defaults_match_the_seed)
{
    hb_spec_t s = spec();
    cr_assert_str_eq(s.image, "base");
    cr_assert_eq(s.memory_bytes, 512ull << 20);
    cr_assert_str_eq(s.memory_str, "512m");
    cr_assert_float_eq(s.cpus, 1.0, 1e-9);
    cr_assert_eq(s.pids, 128);
    cr_assert_eq(s.timeout_s, 3600);
    cr_assert_eq(s.net_mode, HB_NET_NONE);
    cr_assert_eq(s.disk_bytes, 10ull << 30);
    cr_assert_str_eq(s.disk_str, "10g");
    hb_err_t e = {0};
    cr_assert_eq(hb_spec_validate(&s, &e), 0, "%s", e.msg);
}

Test(spec, memory_units_and_echo)
{
    hb_spec_t s = spec();
    hb_err_t e = {0};
    cr_assert_eq(hb_spec_set_memory(&s, "1G", &e), 0);
    cr_assert_eq(s.memory_bytes, 1ull << 30);
    cr_assert_str_eq(s.memory_str, "1g");
    cr_assert_eq(hb_spec_set_memory(&s, "256m", &e), 0);
    cr_assert_eq(s.memory_bytes, 256ull << 20);
    cr_assert_eq(hb_spec_set_memory(&s, "67108864", &e), 0);
    cr_assert_eq(s.memory_bytes, 64ull << 20);
    cr_assert_eq(hb_spec_set_memory(&s, "65536k", &e), 0);
    cr_assert_eq(s.memory_bytes, 64ull << 20);
}

Test(spec, memory_rejections_name_the_field)
{
    const char *bad[] = {"", "m", "12x", "-5m", "1.5g", "1m", "99999999999999999999g", "512 m"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        hb_spec_t s = spec();
        hb_err_t e = {0};
        cr_assert_eq(hb_spec_set_memory(&s, bad[i], &e), -1, "accepted \"%s\"", bad[i]);
        cr_assert_eq(e.code, HB_E_INVALID);
        cr_assert(strncmp(e.msg, "memory:", 7) == 0, "message: %s", e.msg);
        cr_assert_eq(s.memory_bytes, 512ull << 20, "failed parse changed the spec");
    }
}

Test(spec, disk_sizes_like_memory)
{
    hb_spec_t s = spec();
    hb_err_t e = {0};
    cr_assert_eq(hb_spec_set_disk(&s, "50M", &e), 0, "%s", e.msg);
    cr_assert_eq(s.disk_bytes, 50ull << 20);
    cr_assert_str_eq(s.disk_str, "50m");
    cr_assert_eq(hb_spec_set_disk(&s, "17179869184", &e), 0, "%s", e.msg);
    cr_assert_eq(s.disk_bytes, 16ull << 30);
    const char *bad[] = {"", "g", "10x", "-1g", "1.5g", "15m", "0", "99999999999999999999g"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        hb_spec_t t = spec();
        cr_assert_eq(hb_spec_set_disk(&t, bad[i], &e), -1, "accepted \"%s\"", bad[i]);
        cr_assert_eq(e.code, HB_E_INVALID);
        cr_assert(strncmp(e.msg, "disk:", 5) == 0, "message: %s", e.msg);
        cr_assert_eq(t.disk_bytes, 10ull << 30, "failed parse changed the spec");
    }
}

Test(spec, names)
{
    cr_assert(hb_name_valid("a"));
    cr_assert(hb_name_valid("my-sandbox_1.x"));
    char max[64];
    memset(max, 'a', 63);
    max[63] = '\0';
    cr_assert(hb_name_valid(max));
    const char *bad[] = {"", "-a", ".a", "_a", "a/b", "..", "a b", "a\n", "é"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        cr_assert_not(hb_name_valid(bad[i]), "accepted \"%s\"", bad[i]);
}

Test(spec, ranges)
{
    hb_spec_t s = spec();
    hb_err_t e = {0};
    s.cpus = 0;
    cr_assert_eq(hb_spec_validate(&s, &e), -1);
    cr_assert(strncmp(e.msg, "cpus:", 5) == 0, "%s", e.msg);
    s = spec();
    s.cpus = 100000;
    cr_assert_eq(hb_spec_validate(&s, &e), -1);
    cr_assert(strncmp(e.msg, "cpus:", 5) == 0, "%s", e.msg);
    s = spec();
    s.pids = 0;
    cr_assert_eq(hb_spec_validate(&s, &e), -1);
    cr_assert(strncmp(e.msg, "pids:", 5) == 0, "%s", e.msg);
    s = spec();
    s.timeout_s = 86401;
    cr_assert_eq(hb_spec_validate(&s, &e), -1);
    cr_assert(strncmp(e.msg, "timeout:", 8) == 0, "%s", e.msg);
    s = spec();
    s.timeout_s = 86400;
    cr_assert_eq(hb_spec_validate(&s, &e), 0, "%s", e.msg);
    s = spec();
    strcpy(s.name, "bad/name");
    cr_assert_eq(hb_spec_validate(&s, &e), -1);
    cr_assert(strncmp(e.msg, "name:", 5) == 0, "%s", e.msg);
}

Test(spec, network_modes)
{
    hb_spec_t s = spec();
    hb_err_t e = {0};
    cr_assert_eq(hb_spec_set_network(&s, "none", &e), 0);
    cr_assert_eq(s.net_mode, HB_NET_NONE);
    cr_assert_eq(hb_spec_set_network(&s, "shared:team-a", &e), 0);
    cr_assert_eq(s.net_mode, HB_NET_SHARED);
    cr_assert_str_eq(s.net_group, "team-a");
    cr_assert_eq(hb_spec_set_network(&s, "bridge", &e), -1);
    cr_assert(strncmp(e.msg, "network:", 8) == 0, "%s", e.msg);
    cr_assert_eq(hb_spec_set_network(&s, "shared:../x", &e), -1);
}
