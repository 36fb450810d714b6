/* Issue 20: the cluster's pure parts -- the etcd endpoint list, the flag
 * checks at start, the bounded curl body -- and an etcd that does not
 * answer (a refused loopback port: nothing leaves the machine). */
#include <criterion/criterion.h>
#include <string.h>

#include "cluster.h"
#include "curl_body.h"
#include "etcd.h"

Test(cluster, etcd_urls_are_checked)
{
    hb_err_t e = {0};
    hb_etcd_t *c = hb_etcd_new("http://127.0.0.1:2379,http://[::1]:2379/", 500, &e);
    cr_assert(c, "%s", e.msg);
    hb_etcd_free(c);
    const char *bad[] = {"", "127.0.0.1:2379", "ftp://h:1", "http://a b:1", "http://",
                         "http://h:1,,http://g:2"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memset(&e, 0, sizeof e);
        cr_assert_null(hb_etcd_new(bad[i], 500, &e), "%s accepted", bad[i]);
        cr_assert_eq(e.code, HB_E_INVALID);
        cr_assert(strstr(e.msg, "--cluster"), "%s", e.msg);
    }
    char many[HB_ETCD_ENDPOINTS_MAX * 24 + 32] = "";
    for (int i = 0; i <= HB_ETCD_ENDPOINTS_MAX; i++)
        strcat(many, i ? ",http://h:1" : "http://h:1");
    cr_assert_null(hb_etcd_new(many, 500, &e), "more than %d endpoints", HB_ETCD_ENDPOINTS_MAX);
}

Test(cluster, an_etcd_that_refuses_is_unavail_on_every_call)
{
    hb_err_t e = {0};
    hb_etcd_t *c = hb_etcd_new("http://127.0.0.1:9,http://127.0.0.1:9", 500, &e);
    cr_assert(c);
    int64_t id = 0;
    char *v = NULL;
    cr_assert_eq(hb_etcd_lease_grant(c, 3, &id, &e), -1);
    cr_assert_eq(e.code, HB_E_UNAVAIL);
    cr_assert_eq(hb_etcd_lease_keepalive(c, 1, &e), -1);
    cr_assert_eq(hb_etcd_create(c, "/k", "v", NULL, &e), -1);
    cr_assert_eq(hb_etcd_get(c, "/k", &v, &e), -1);
    cr_assert_null(v);
    cr_assert_null(hb_etcd_range(c, "/k/", &e));
    hb_etcd_free(c);
}

static int start_with(const char *token, const char *label, const char *name, hb_err_t *e)
{
    static hb_config_t o;
    memset(&o, 0, sizeof o);
    o.cluster = "http://127.0.0.1:9";
    o.cluster_token = token;
    o.node_name = name;
    o.cluster_ttl = 3;
    if (label) {
        o.node_label.n = 1;
        o.node_label.item[0] = label;
    }
    hb_cluster_args_t a = {.cfg = &o, .manager = "inproc://none", .host = "127.0.0.1",
                           .port = 7070};
    return hb_cluster_start(&a, e);
}

Test(cluster, bad_flags_stop_the_start_and_name_the_flag)
{
    hb_err_t e = {0};
    cr_assert_eq(start_with("short", NULL, "n1", &e), -1);
    cr_assert(strstr(e.msg, "--cluster-token"), "%s", e.msg);
    cr_assert_eq(start_with("0123456789abcdef", "nolabel", "n1", &e), -1);
    cr_assert(strstr(e.msg, "--node-label"), "%s", e.msg);
    cr_assert_eq(start_with("0123456789abcdef", "=v", "n1", &e), -1);
    cr_assert_eq(start_with("0123456789abcdef", NULL, "bad name", &e), -1);
    cr_assert(strstr(e.msg, "--node-name"), "%s", e.msg);
    cr_assert_not(hb_cluster_on(), "nothing is left started");
}

Test(cluster, no_flag_no_cluster)
{
    static hb_config_t o;
    hb_err_t e = {0};
    hb_cluster_args_t a = {.cfg = &o, .manager = "inproc://none", .host = "h", .port = 1};
    cr_assert_eq(hb_cluster_start(&a, &e), 0);
    cr_assert_not(hb_cluster_on());
    cr_assert_not(hb_cluster_token_ok("anything"));
    char why[8];
    cr_assert(hb_cluster_healthy(why, sizeof why));
}

Test(cluster, curl_body_is_bounded)
{
    hb_curl_body_t b = {.max = 8};
    char data[] = "12345";
    cr_assert_eq(hb_curl_body_sink(data, 1, 5, &b), 5);
    cr_assert_eq(hb_curl_body_sink(data, 1, 5, &b), 0, "past max the transfer fails");
    cr_assert(b.over);
    cr_assert_str_eq(b.p, "12345");
    free(b.p);
}
