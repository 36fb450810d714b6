/* One image as a catalogue item (GET /api/v1/images[/:name], SB_SNAPSHOT's
 * reply): its record (image_layer.c) and its facts (image_facts.c). */
#include "image_layer.h"
#include "messages.h"

#include <stdlib.h>
#include <string.h>

int hb_image_catitem(const hb_runtime_t *rt, const char *name, hb_catitem_t *it)
{
    hb_imginfo_t i;
    hb_image_facts_t f;
    memset(it, 0, sizeof *it);
    if (hb_image_info(rt, name, &i) < 0)
        return -1;
    if (hb_image_facts(rt, name, &f) < 0)
        f.os[0] = '\0';
    it->name = strdup(name);
    it->state = strdup("ready");
    it->description = strdup(f.os);
    it->parent = strdup(i.parent);
    it->kind = strdup(i.kind);
    it->source = strdup(i.source);
    it->created_at = i.created_at;
    it->size_bytes = i.size_bytes;
    if (it->name && it->state && it->description && it->parent && it->kind && it->source)
        return 0;
    char **strs[] = {&it->name, &it->state, &it->description, &it->parent, &it->kind,
                     &it->source};
    for (size_t k = 0; k < sizeof strs / sizeof *strs; k++) {
        free(*strs[k]);
        *strs[k] = NULL;
    }
    return -1;
}
