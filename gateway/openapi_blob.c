/* schemas/openapi.json, embedded at build time so the binary serves it from
 * wherever it is installed (the Makefile makes this object depend on it). */
#include "gw_internal.h"

__asm__(".section .rodata\n"
        ".global hb_openapi_json\n"
        ".type hb_openapi_json, @object\n"
        "hb_openapi_json:\n"
        ".incbin \"schemas/openapi.json\"\n"
        ".global hb_openapi_json_end\n"
        ".type hb_openapi_json_end, @object\n"
        "hb_openapi_json_end:\n"
        ".byte 0\n"
        ".balign 8\n"
        ".global hb_openapi_json_len\n"
        ".type hb_openapi_json_len, @object\n"
        "hb_openapi_json_len:\n"
        ".quad hb_openapi_json_end - hb_openapi_json\n"
        ".previous\n");
