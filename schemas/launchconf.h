/* launch.conf: what the daemon (actors/runtime/sandbox.c, net/net.c) tells
 * the launcher (tools/init/launcher) about a sandbox it is to start, written
 * into the sandbox directory before the launcher runs. One `key=value` per
 * line; some keys repeat (one line per cgroup or skill). The keys are
 * spelled here only: the writer formats with hb_lc_append, the reader
 * splits with hb_lc_each and switches on the hb_lckey_t.
 *
 * Adding a setting: one X line below, its hb_lc_append in the writer, its
 * case in the reader (tools/init/launcher/launch_conf.c or the module that
 * owns it), and a line in tests/unit/test_launchconf.c. The file is read
 * once, at launch, by the launcher of the same build: its format may change
 * freely between versions. */
#ifndef HB_LAUNCHCONF_H
#define HB_LAUNCHCONF_H

#include <stdbool.h>
#include <stddef.h>

/* X(ENUM, "key") */
#define HB_LAUNCHCONF_KEYS(X)                                                   \
    X(ID,                "id")                 /* sandbox id                 */ \
    X(IMAGE,             "image")              /* image rootfs on the host   */ \
    X(UID_BASE,          "uid_base")           /* first host uid mapped      */ \
    X(SHM_BYTES,         "shm_bytes")          /* size of /dev/shm           */ \
    X(CGROUP_PROCS,      "cgroup_procs")       /* repeated: cgroups to join  */ \
    X(USER_CGROUP_PROCS, "user_cgroup_procs")  /* repeated: commands' cgroups */ \
    X(NET_IF,            "net_if")             /* host end of the veth pair  */ \
    X(NET_IP,            "net_ip")                                              \
    X(NET_PREFIX,        "net_prefix")                                          \
    X(NET_GW,            "net_gw")                                              \
    X(NET_BRIDGE,        "net_bridge")         /* the bridge's ifindex       */ \
    X(NET_GROUP,         "net_group")          /* device group (shared mode) */ \
    X(SKILLS_DIR,        "skills_dir")                                          \
    X(SKILL,             "skill")              /* repeated: one skill name   */ \
    X(LAYER,             "layer")              /* repeated, top first: "<uid_base> <path>" */ \
    X(WARM_EXEC,         "warm_exec")          /* "1": init arms warm exec   */

/* The most layers above the image's root (image_layer.h). */
#define HB_LC_LAYERS_MAX 16

#define HB_LC_ENUM(e, key) HB_LC_##e,
typedef enum { HB_LC_UNKNOWN = -1, HB_LAUNCHCONF_KEYS(HB_LC_ENUM) HB_LC_COUNT } hb_lckey_t;
#undef HB_LC_ENUM

const char *hb_lc_name(hb_lckey_t k);
/* The key named name, or HB_LC_UNKNOWN. */
hb_lckey_t hb_lc_key(const char *name);

/* Append "key=<fmt...>\n" to buf, which holds n bytes (of len). Returns the
 * new length; >= len when it did not fit (then every later call keeps
 * returning that), negative only if n was. */
int hb_lc_append(char *buf, size_t len, int n, hb_lckey_t k, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* Split buf (modified) into lines and call fn for each `key=value` line;
 * lines without '=' are skipped. Stops at the first fn that returns < 0
 * and returns that, else 0. */
typedef int (*hb_lc_fn)(void *ud, hb_lckey_t k, const char *val);
int hb_lc_each(char *buf, hb_lc_fn fn, void *ud);

#endif
