/* The sandbox state directory's paths and its "written last" rule (see
 * sbdir.h). */
#include "sbdir.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "record.h"   /* hb_write_atomic */
#include "runtime.h"  /* HB_HOSTPATH_MAX */

static int fits(int n, size_t len, const char *what, hb_err_t *e)
{
    if (n < 0 || (size_t)n >= len)
        return hb_fail(e, HB_E_INTERNAL, ENAMETOOLONG, "path too long: %s", what);
    return 0;
}

int hb_sbdir_path(char *buf, size_t len, const char *data_dir, const char *id, hb_err_t *e)
{
    int n = id ? snprintf(buf, len, "%s/" HB_SBDIR_ROOT "/%s", data_dir, id)
               : snprintf(buf, len, "%s/" HB_SBDIR_ROOT, data_dir);
    return fits(n, len, data_dir, e);
}

int hb_sbdir_file(char *buf, size_t len, const char *dir, const char *name, hb_err_t *e)
{
    return fits(snprintf(buf, len, "%s/%s", dir, name), len, dir, e);
}

bool hb_sbdir_has(const char *dir, const char *name)
{
    char path[HB_HOSTPATH_MAX + 128];
    struct stat st;
    return hb_sbdir_file(path, sizeof path, dir, name, NULL) == 0 && stat(path, &st) == 0;
}

int hb_sbdir_seal(const char *dir, const char *mcp_token, hb_err_t *e)
{
    return hb_write_atomic(dir, HB_SBDIR_MCP_TOKEN, mcp_token, strlen(mcp_token), 0600, e);
}

bool hb_sbdir_complete(const char *dir)
{
    return hb_sbdir_has(dir, HB_SBDIR_RECORD) && hb_sbdir_has(dir, HB_SBDIR_MCP_TOKEN) &&
           !hb_sbdir_has(dir, HB_SBDIR_DESTROYING);
}
