/* The actor message codec (schemas/messages.c): round trips of every kind of
 * field, and refusal of anything that is not exactly a message's schema. */
#include <criterion/criterion.h>
#include <msgpack.h>
#include <stdlib.h>
#include <string.h>

#include "messages.h"

static void roundtrip(const hb_msg_t *in, hb_msg_t *out)
{
    void *buf = NULL;
    size_t len = 0;
    cr_assert_eq(hb_msg_encode(in, &buf, &len), 0);
    cr_assert_eq(hb_msg_decode(buf, len, out), 0, "decode of %s", hb_msg_name(in->type));
    free(buf);
    cr_assert_eq(out->type, in->type);
}

Test(codec, create_roundtrip_keeps_every_field)
{
    hb_msg_t m = {.type = HB_MSG_SB_CREATE, .reply_to = "inproc://x", .name = "box",
                  .image = "base", .memory = "256m", .memory_bytes = 256u << 20, .cpus = 1.5,
                  .pids = 64, .network = "shared:g", .timeout_s = 60, .skills = "[\"pdf\"]",
                  .llm_api_key = "sk-1", .llm_model = NULL};
    hb_msg_t o;
    roundtrip(&m, &o);
    cr_assert_str_eq(o.reply_to, "inproc://x");
    cr_assert_str_eq(o.name, "box");
    cr_assert_str_eq(o.memory, "256m");
    cr_assert_eq(o.memory_bytes, 256u << 20);
    cr_assert_float_eq(o.cpus, 1.5, 1e-12);
    cr_assert_eq(o.pids, 64);
    cr_assert_str_eq(o.network, "shared:g");
    cr_assert_eq(o.timeout_s, 60);
    cr_assert_str_eq(o.skills, "[\"pdf\"]");
    cr_assert_str_eq(o.llm_api_key, "sk-1");
    cr_assert_null(o.llm_model);
    cr_assert_null(o.custom_mcps);
    hb_msg_clear(&o);
}

Test(codec, exec_roundtrip_with_env_and_binary_stdin)
{
    char *env[] = {"A=1", "B=two", NULL};
    hb_msg_t m = {.type = HB_MSG_SB_EXEC, .id = "box", .command = "cat", .env = env,
                  .stdin_data = {"a\0b", 3}, .timeout_ms = 1500, .handle = 42};
    hb_msg_t o;
    roundtrip(&m, &o);
    cr_assert_str_eq(o.command, "cat");
    cr_assert_eq(o.handle, 42);   /* the output sink's id */
    cr_assert_str_eq(o.env[0], "A=1");
    cr_assert_str_eq(o.env[1], "B=two");
    cr_assert_null(o.env[2]);
    cr_assert_eq(o.stdin_data.len, 3);
    cr_assert_eq(memcmp(o.stdin_data.data, "a\0b", 3), 0);
    cr_assert_eq(o.timeout_ms, 1500);
    cr_assert_null(o.cwd);
    hb_msg_clear(&o);
}

Test(codec, exec_reply_negative_exit_and_flags)
{
    hb_msg_t m = {.type = HB_MSG_R_EXEC, .exit_code = -1, .timed_out = true,
                  .stderr_truncated = true, .duration_ms = 7};
    hb_msg_t o;
    roundtrip(&m, &o);
    cr_assert_eq(o.exit_code, -1);
    cr_assert(o.timed_out);
    cr_assert_not(o.oom_killed);
    cr_assert(o.stderr_truncated);
    cr_assert_eq(o.duration_ms, 7);
    hb_msg_clear(&o);
}

Test(codec, record_arrays_nest)
{
    hb_sample_sb_t sbs[2] = {{.id = "a", .memory_bytes = 10, .cpu_percent = 12.5, .pids = 3},
                             {.id = "b", .memory_limit_bytes = 20}};
    hb_sample_t samples[1] = {{.timestamp = 1700000000, .sandbox_count = 2, .sandboxes = sbs,
                               .sandboxes_n = 2, .host_memory_total = 100,
                               .host_cpu_percent = 50.0}};
    hb_msg_t m = {.type = HB_MSG_R_SAMPLES, .samples = samples, .samples_n = 1};
    hb_msg_t o;
    roundtrip(&m, &o);
    cr_assert_eq(o.samples_n, 1);
    cr_assert_eq(o.samples[0].timestamp, 1700000000);
    cr_assert_eq(o.samples[0].sandboxes_n, 2);
    cr_assert_str_eq(o.samples[0].sandboxes[1].id, "b");
    cr_assert_eq(o.samples[0].sandboxes[1].memory_limit_bytes, 20);
    cr_assert_float_eq(o.samples[0].sandboxes[0].cpu_percent, 12.5, 1e-12);
    hb_msg_clear(&o);
}

Test(codec, sample_record_roundtrip_and_copy)
{
    hb_sample_sb_t sbs[1] = {{.id = "a", .pids = 7}};
    hb_sample_t s = {.timestamp = 5, .sandboxes = sbs, .sandboxes_n = 1};
    void *buf;
    size_t len;
    cr_assert_eq(hb_sample_encode(&s, &buf, &len), 0);
    hb_sample_t d;
    cr_assert_eq(hb_sample_decode(buf, len, &d), 0);
    free(buf);
    hb_sample_t c;
    cr_assert_eq(hb_sample_copy(&c, &d), 0);
    hb_sample_clear(&d);   /* the copy owns its own memory */
    cr_assert_str_eq(c.sandboxes[0].id, "a");
    cr_assert_eq(c.sandboxes[0].pids, 7);
    hb_sample_clear(&c);
}

Test(codec, wire_names_are_unique_and_known)
{
    for (int a = 1; a < HB_MSG__COUNT; a++) {
        cr_assert_eq(hb_msg_type_of(hb_msg_name((hb_msg_type_t)a)), a);
    }
    cr_assert_eq(hb_msg_type_of("sandbox.created"), HB_MSG_EV_CREATED);
    cr_assert_eq(hb_msg_type_of("nope"), HB_MSG_NONE);
}

/* Pack a map by hand to feed the decoder what our encoder never makes. */
static void *pack(size_t *len, void (*fill)(msgpack_packer *))
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    fill(&pk);
    *len = sb.size;
    return sb.data;
}

static void kv(msgpack_packer *pk, const char *k, const char *v)
{
    msgpack_pack_str_with_body(pk, k, strlen(k));
    msgpack_pack_str_with_body(pk, v, strlen(v));
}

static void field_not_in_schema(msgpack_packer *pk)
{
    msgpack_pack_map(pk, 2);
    kv(pk, "t", "sb.list");
    kv(pk, "command", "rm -rf /");   /* a real field, but not sb.list's */
}

static void wrong_type(msgpack_packer *pk)
{
    msgpack_pack_map(pk, 2);
    kv(pk, "t", "sb.exec");
    msgpack_pack_str_with_body(pk, "timeout_ms", 10);
    msgpack_pack_int(pk, -5);
}

static void unknown_type(msgpack_packer *pk)
{
    msgpack_pack_map(pk, 1);
    kv(pk, "t", "sb.format_disk");
}

static void duplicate_key(msgpack_packer *pk)
{
    msgpack_pack_map(pk, 3);
    kv(pk, "t", "sb.get");
    kv(pk, "id", "a");
    kv(pk, "id", "b");
}

static void nul_in_string(msgpack_packer *pk)
{
    msgpack_pack_map(pk, 2);
    kv(pk, "t", "sb.get");
    msgpack_pack_str_with_body(pk, "id", 2);
    msgpack_pack_str_with_body(pk, "a\0b", 3);
}

static void not_a_map(msgpack_packer *pk) { msgpack_pack_array(pk, 0); }

Test(codec, decoder_refuses_what_the_schema_does_not_allow)
{
    void (*bad[])(msgpack_packer *) = {field_not_in_schema, wrong_type, unknown_type,
                                        duplicate_key, nul_in_string, not_a_map};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        size_t len;
        void *buf = pack(&len, bad[i]);
        hb_msg_t o;
        cr_assert_eq(hb_msg_decode(buf, len, &o), -1, "case %zu accepted", i);
        cr_assert_eq(o.type, HB_MSG_NONE);
        free(buf);
    }
}

Test(codec, decoder_refuses_trailing_bytes_and_truncation)
{
    hb_msg_t m = {.type = HB_MSG_SB_GET, .id = "a", .reply_to = "r"};
    void *buf;
    size_t len;
    cr_assert_eq(hb_msg_encode(&m, &buf, &len), 0);
    hb_msg_t o;
    cr_assert_eq(hb_msg_decode(buf, len - 1, &o), -1);
    char *longer = malloc(len + 1);
    memcpy(longer, buf, len);
    longer[len] = 0;
    cr_assert_eq(hb_msg_decode(longer, len + 1, &o), -1);
    free(longer);
    free(buf);
}
