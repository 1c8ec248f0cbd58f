/*
 * json.h - a small JSON writer for the tools' machine-readable output.
 *
 * The host tool (sysboot --json) and the emulator (sysboot-sim diagnose
 * --json) both print JSON for scripts. Objects are written member by
 * member straight to a FILE; nested objects and arrays are opened from
 * their parent and closed in order. The one part that needs care is the
 * string escaper (RFC 8259 section 7: quote, backslash and every control
 * character). Hosted code only.
 */
#ifndef SYSBOOT_JSON_H
#define SYSBOOT_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* Write s as a JSON string literal, quotes and escapes included. */
void json_str(FILE *f, const char *s);

/* An object or array being written: members are separated by commas. */
struct json_obj {
	FILE *f;
	bool first;
};

/*
 * A top-level object: json_begin(), json_kv_*() for each member,
 * json_end() writes "}\n" and flushes. Keys are plain identifiers.
 */
void json_begin(struct json_obj *j, FILE *f);
void json_kv_str(struct json_obj *j, const char *key, const char *val);   /* NULL: null */
void json_kv_int(struct json_obj *j, const char *key, long long val);
void json_kv_bool(struct json_obj *j, const char *key, bool val);
/* "0x%08x" as a string: JSON numbers lose nothing, but hex is what people grep. */
void json_kv_hex32(struct json_obj *j, const char *key, uint32_t val);
void json_end(struct json_obj *j);

/* Nesting: a member (or array element) that is itself an object or array. */
void json_kv_obj(struct json_obj *j, const char *key, struct json_obj *child);
void json_kv_array(struct json_obj *j, const char *key, struct json_obj *array);
void json_elem_obj(struct json_obj *array, struct json_obj *child);
void json_elem_str(struct json_obj *array, const char *val);
void json_close_obj(struct json_obj *child);
void json_close_array(struct json_obj *array);

#endif /* SYSBOOT_JSON_H */
