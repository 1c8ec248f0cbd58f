/*
 * json.c - the JSON writer (see json.h).
 */
#include "sysboot/json.h"

void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		switch (c) {
		case '"': fputs("\\\"", f); break;
		case '\\': fputs("\\\\", f); break;
		case '\b': fputs("\\b", f); break;
		case '\f': fputs("\\f", f); break;
		case '\n': fputs("\\n", f); break;
		case '\r': fputs("\\r", f); break;
		case '\t': fputs("\\t", f); break;
		default:
			if (c < 0x20 || c == 0x7F)
				fprintf(f, "\\u%04x", c);
			else
				fputc(c, f);
		}
	}
	fputc('"', f);
}

static void open_with(struct json_obj *j, FILE *f, char c)
{
	j->f = f;
	j->first = true;
	fputc(c, f);
}

void json_begin(struct json_obj *j, FILE *f)
{
	open_with(j, f, '{');
}

static void sep(struct json_obj *j)
{
	if (!j->first)
		fputc(',', j->f);
	j->first = false;
}

static void key(struct json_obj *j, const char *k)
{
	sep(j);
	json_str(j->f, k);
	fputc(':', j->f);
}

void json_kv_str(struct json_obj *j, const char *k, const char *val)
{
	key(j, k);
	if (val)
		json_str(j->f, val);
	else
		fputs("null", j->f);
}

void json_kv_int(struct json_obj *j, const char *k, long long val)
{
	key(j, k);
	fprintf(j->f, "%lld", val);
}

void json_kv_bool(struct json_obj *j, const char *k, bool val)
{
	key(j, k);
	fputs(val ? "true" : "false", j->f);
}

void json_kv_hex32(struct json_obj *j, const char *k, uint32_t val)
{
	key(j, k);
	fprintf(j->f, "\"0x%08x\"", val);
}

void json_end(struct json_obj *j)
{
	fputs("}\n", j->f);
	fflush(j->f);
}

void json_kv_obj(struct json_obj *j, const char *k, struct json_obj *child)
{
	key(j, k);
	open_with(child, j->f, '{');
}

void json_kv_array(struct json_obj *j, const char *k, struct json_obj *array)
{
	key(j, k);
	open_with(array, j->f, '[');
}

void json_elem_obj(struct json_obj *array, struct json_obj *child)
{
	sep(array);
	open_with(child, array->f, '{');
}

void json_elem_str(struct json_obj *array, const char *val)
{
	sep(array);
	json_str(array->f, val);
}

void json_close_obj(struct json_obj *child)
{
	fputc('}', child->f);
}

void json_close_array(struct json_obj *array)
{
	fputc(']', array->f);
}
