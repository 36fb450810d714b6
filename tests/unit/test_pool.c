/* The warm pool's bookkeeping (actors/pool.c): --pool parsing and its
 * messages, which creates a slot can serve, the PSI reading, and the
 * pressure check against files the test writes. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pool.h"

static hb_wpool_t parsed(const char *text)
{
    hb_wpool_t p;
    memset(&p, 0, sizeof p);
    hb_err_t e = {0};
    cr_assert_eq(hb_wpool_parse(&p, text, &e), 0, "%s: %s", text, e.msg);
    return p;
}

static void refused(const char *text, const char *why)
{
    hb_wpool_t p;
    memset(&p, 0, sizeof p);
    hb_err_t e = {0};
    cr_assert_eq(hb_wpool_parse(&p, text, &e), -1, "%s was taken", text);
    cr_assert_eq(e.code, HB_E_INVALID);
    cr_assert(strstr(e.msg, "--pool") && strstr(e.msg, why), "%s: %s", text, e.msg);
}

Test(pool, parses_slots)
{
    hb_wpool_t p = parsed("base:none=2,base:isolated=4,py:shared:team=1");
    cr_assert_eq(p.n, 3);
    cr_assert_str_eq(p.slot[0].image, "base");
    cr_assert_eq(p.slot[0].net_mode, HB_NET_NONE);
    cr_assert_eq(p.slot[0].target, 2);
    cr_assert_eq(p.slot[1].net_mode, HB_NET_ISOLATED);
    cr_assert_eq(p.slot[1].target, 4);
    cr_assert_str_eq(p.slot[2].image, "py");
    cr_assert_eq(p.slot[2].net_mode, HB_NET_SHARED);
    cr_assert_str_eq(p.slot[2].net_group, "team");
    cr_assert_str_eq(p.slot[2].network, "shared:team");
}

Test(pool, empty_and_zero_mean_none)
{
    cr_assert_eq(parsed(NULL).n, 0);
    cr_assert_eq(parsed("").n, 0);
    cr_assert_eq(parsed("0").n, 0);
}

Test(pool, bad_values_name_the_flag_and_the_problem)
{
    refused("base=2", "missing");
    refused("base:none", "missing");
    refused("base:bogus=2", "network");
    refused("base:none=65", "count");
    refused("base:none=-1", "count");
    refused("base:none=2x", "count");
    refused("base:none=", "count");
    refused("../x:none=1", "image");
    refused("base:none=1,base:none=2", "twice");
    char many[1024] = "";
    for (int i = 0; i < HB_WPOOL_SLOTS + 1; i++) {
        char one[32];
        snprintf(one, sizeof one, "%si%d:none=1", i ? "," : "", i);
        strcat(many, one);
    }
    refused(many, "16");
    char huge[2048];
    memset(huge, 'a', sizeof huge - 1);
    huge[sizeof huge - 1] = '\0';
    refused(huge, "too long");
}

Test(pool, match_takes_only_what_adoption_can_apply)
{
    hb_wpool_t p = parsed("base:none=2,base:isolated=1");
    hb_msg_t q = {.type = HB_MSG_SB_CREATE, .memory = "512m", .memory_bytes = 512u << 20};
    cr_assert_eq(hb_wpool_match(&p, &q), 0);
    q.network = "isolated";
    cr_assert_eq(hb_wpool_match(&p, &q), 1);
    q.network = "shared";
    cr_assert_eq(hb_wpool_match(&p, &q), -1, "no shared slot");
    q.network = NULL;
    q.image = "other";
    cr_assert_eq(hb_wpool_match(&p, &q), -1, "another image");
    q.image = NULL;
    q.name = "mine";
    cr_assert_eq(hb_wpool_match(&p, &q), 0, "a name: given to the pooled sandbox (sandbox_rename.c)");
    q.name = NULL;
    q.skills = "[\"web\"]";
    cr_assert_eq(hb_wpool_match(&p, &q), -1, "skills are bound at launch");
    q.skills = "[]";
    cr_assert_eq(hb_wpool_match(&p, &q), -1, "no skills: the pool's have every skill");
    q.skills = NULL;
    q.memory_bytes = 256u << 20;
    cr_assert_eq(hb_wpool_match(&p, &q), -1, "/dev/shm is sized at launch");
    q.memory_bytes = 524300ull << 10;   /* the same /dev/shm size */
    cr_assert_eq(hb_wpool_match(&p, &q), 0);
    cr_assert_eq(p.misses, 5);
}

Test(pool, psi_some_avg10)
{
    cr_assert_float_eq(hb_wpool_psi_some10("some avg10=12.50 avg60=1.00 avg300=0.00 total=9\n"
                                           "full avg10=3.00 avg60=0.00 avg300=0.00 total=1\n"),
                       12.5, 1e-9);
    cr_assert_lt(hb_wpool_psi_some10("full avg10=3.00\n"), 0.0);
    cr_assert_lt(hb_wpool_psi_some10("some avg10=x"), 0.0);
    cr_assert_lt(hb_wpool_psi_some10(NULL), 0.0);
}

Test(pool, failed_starts_back_off_to_a_ceiling_and_reset_when_one_is_ready)
{
    hb_wpool_slot_t s = {0};
    cr_assert_eq(hb_wpool_failed(&s, 1000), HB_WPOOL_RETRY_MS);
    cr_assert_eq(s.retry_ms, 1000 + HB_WPOOL_RETRY_MS);
    cr_assert_eq(hb_wpool_failed(&s, 1000), 2 * HB_WPOOL_RETRY_MS);
    cr_assert_eq(hb_wpool_failed(&s, 1000), 4 * HB_WPOOL_RETRY_MS);
    for (int i = 0; i < 100; i++)   /* no overflow, however long it fails */
        cr_assert_leq(hb_wpool_failed(&s, 1000), HB_WPOOL_RETRY_MAX_MS);
    cr_assert_eq(hb_wpool_failed(&s, 1000), HB_WPOOL_RETRY_MAX_MS);
    s.failures = 0;   /* what the manager does when one is ready */
    cr_assert_eq(hb_wpool_failed(&s, 0), HB_WPOOL_RETRY_MS);
}

static void put(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs(text, f);
    fclose(f);
}

Test(pool, pressure_from_memavailable_and_psi)
{
    char mem[] = "/tmp/hb-pool-meminfo-XXXXXX", psi[] = "/tmp/hb-pool-psi-XXXXXX";
    close(mkstemp(mem));
    close(mkstemp(psi));
    hb_wpool_t p = parsed("base:none=1");
    p.meminfo = mem;
    p.psi = psi;
    p.min_available = 1ull << 30;
    p.max_pressure = 10.0;
    put(mem, "MemTotal: 8388608 kB\nMemAvailable: 4194304 kB\n");
    put(psi, "some avg10=0.00 avg60=0.00 avg300=0.00 total=0\n");
    cr_assert_not(hb_wpool_pressed(&p, 1000));
    put(mem, "MemTotal: 8388608 kB\nMemAvailable: 524288 kB\n");
    cr_assert_not(hb_wpool_pressed(&p, 1500), "read at most every HB_WPOOL_CHECK_MS");
    cr_assert(hb_wpool_pressed(&p, 1000 + HB_WPOOL_CHECK_MS), "MemAvailable under 1g");
    put(mem, "MemTotal: 8388608 kB\nMemAvailable: 4194304 kB\n");
    put(psi, "some avg10=42.00 avg60=0.00 avg300=0.00 total=0\n");
    cr_assert(hb_wpool_pressed(&p, 1000 + 2 * HB_WPOOL_CHECK_MS), "PSI above 10%%");
    unlink(psi);   /* no PSI on this host: MemAvailable alone */
    cr_assert_not(hb_wpool_pressed(&p, 1000 + 3 * HB_WPOOL_CHECK_MS));
    unlink(mem);
}

Test(pool, prometheus_and_json)
{
    hb_wpool_t p = parsed("base:none=2");
    p.slot[0].ready = 1;
    p.slot[0].hits = 3;
    size_t len = 0;
    char *t = hb_wpool_prom(&p, &len);
    cr_assert_not_null(t);
    cr_assert(strstr(t, "hivebox_pool_ready{image=\"base\",network=\"none\"} 1\n"), "%s", t);
    cr_assert(strstr(t, "hivebox_pool_hits_total{image=\"base\",network=\"none\"} 3\n"), "%s", t);
    free(t);
    t = hb_wpool_json(&p, &len);
    cr_assert_not_null(t);
    cr_assert(strstr(t, "\"ready\":1") && strstr(t, "\"hits\":3"), "%s", t);
    free(t);
}
