/*
** kinesis.c: turns records into PutRecords request bodies.
** Each body holds at most 500 records and 5 MiB of data and partition
** keys, as the service allows; data is base64-encoded here because it is
** the one step that touches every byte of every record.  Sending,
** signing and retrying the records that failed are the Lua side's job.
*/
#include <string.h>

#include <lauxlib.h>
#include <openssl/evp.h>

#include "kinesis.h"


/*
** Appends a JSON string literal.  Partition keys and stream names are
** short; escape what JSON requires and pass the rest through.
*/
static void add_json_string(luaL_Buffer *b, const char *s, size_t length)
{
  size_t i;

  luaL_addchar(b, '"');
  for (i = 0; i < length; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '"' || c == '\\') {
      luaL_addchar(b, '\\');
      luaL_addchar(b, (char)c);
    } else if (c < 0x20) {
      char escaped[8];
      snprintf(escaped, sizeof escaped, "\\u%04x", c);
      luaL_addstring(b, escaped);
    } else {
      luaL_addchar(b, (char)c);
    }
  }
  luaL_addchar(b, '"');
}


/*
** Appends the base64 form of 'data' (no line breaks).
*/
static void add_base64(luaL_Buffer *b, const char *data, size_t length)
{
  size_t encoded = 4 * ((length + 2) / 3);
  unsigned char *out = (unsigned char *)luaL_prepbuffsize(b, encoded + 1);

  EVP_EncodeBlock(out, (const unsigned char *)data, (int)length);
  luaL_addsize(b, encoded);
}


/*
** Fetches record 'index' (1-based) of the datas and keys lists at stack
** positions 2 and 3, checking it against the record limits.
*/
static void get_record(lua_State *L, lua_Integer index, const char **data,
                       size_t *data_length, const char **key,
                       size_t *key_length)
{
  lua_geti(L, 2, index);
  *data = lua_tolstring(L, -1, data_length);
  lua_geti(L, 3, index);
  *key = lua_tolstring(L, -1, key_length);
  lua_pop(L, 2); /* the strings stay alive in the lists */
  if (*data == NULL || *key == NULL)
    luaL_error(L, "kinesis.requests: record %I has no data or no key",
               index);
  if (*key_length < 1 || *key_length > KINESIS_MAX_KEY_BYTES)
    luaL_error(L, "kinesis.requests: record %I: partition key of %d bytes "
               "(1 to 256 allowed)", index, (int)*key_length);
  if (*data_length + *key_length > KINESIS_MAX_RECORD_BYTES)
    luaL_error(L, "kinesis.requests: record %I is %d bytes with its key, "
               "over the 1 MiB Kinesis limit", index,
               (int)(*data_length + *key_length));
}


/*
** Closes the request being built and stores it as
** { body = ..., indices = {...}, bytes = n } at the end of the result list
** (stack position 'list').
*/
static void finish_request(lua_State *L, luaL_Buffer *b, int indices,
                           size_t bytes, int list)
{
  luaL_addstring(b, "]}");
  luaL_pushresult(b);
  lua_createtable(L, 0, 3);
  lua_insert(L, -2);
  lua_setfield(L, -2, "body");
  lua_pushvalue(L, indices);
  lua_setfield(L, -2, "indices");
  lua_pushinteger(L, (lua_Integer)bytes);
  lua_setfield(L, -2, "bytes");
  lua_seti(L, list, (lua_Integer)luaL_len(L, list) + 1);
}


/*
** requests(stream, datas, keys [, indices]) -> list of
** { body = json, indices = { record numbers }, bytes = n }.
** 'indices' selects which records to send (all when absent), so the
** caller can resend only the records that failed.
*/
static int kinesis_requests(lua_State *L)
{
  size_t stream_length, bytes = 0;
  const char *stream = luaL_checklstring(L, 1, &stream_length);
  lua_Integer total, n, count = 0;
  int list, indices = 0, have_indices;
  luaL_Buffer b;

  luaL_checktype(L, 2, LUA_TTABLE);
  luaL_checktype(L, 3, LUA_TTABLE);
  have_indices = !lua_isnoneornil(L, 4);
  if (have_indices)
    luaL_checktype(L, 4, LUA_TTABLE);
  total = have_indices ? luaL_len(L, 4) : luaL_len(L, 2);
  lua_settop(L, 4);
  lua_newtable(L);
  list = lua_gettop(L);
  for (n = 1; n <= total; n++) {
    const char *data, *key;
    size_t data_length, key_length;
    lua_Integer index = n;

    if (have_indices) {
      lua_geti(L, 4, n);
      index = lua_tointeger(L, -1);
      lua_pop(L, 1);
    }
    get_record(L, index, &data, &data_length, &key, &key_length);
    if (count > 0 && (count == KINESIS_MAX_RECORDS
        || bytes + data_length + key_length > KINESIS_MAX_REQUEST_BYTES)) {
      finish_request(L, &b, indices, bytes, list);
      lua_pop(L, 1); /* indices of the finished request */
      count = 0;
      bytes = 0;
    }
    if (count == 0) {
      lua_newtable(L);
      indices = lua_gettop(L);
      luaL_buffinit(L, &b);
      luaL_addstring(&b, "{\"StreamName\":");
      add_json_string(&b, stream, stream_length);
      luaL_addstring(&b, ",\"Records\":[");
    } else {
      luaL_addchar(&b, ',');
    }
    luaL_addstring(&b, "{\"Data\":\"");
    add_base64(&b, data, data_length);
    luaL_addstring(&b, "\",\"PartitionKey\":");
    add_json_string(&b, key, key_length);
    luaL_addchar(&b, '}');
    lua_pushinteger(L, index);
    lua_seti(L, indices, ++count);
    bytes += data_length + key_length;
  }
  if (count > 0) {
    finish_request(L, &b, indices, bytes, list);
    lua_pop(L, 1); /* indices */
  }
  lua_pushvalue(L, list);
  return 1;
}


int luaopen_host_kinesis(lua_State *L)
{
  static const luaL_Reg functions[] = {
    {"requests", kinesis_requests},
    {NULL, NULL}
  };

  luaL_newlib(L, functions);
  lua_pushinteger(L, KINESIS_MAX_RECORDS);
  lua_setfield(L, -2, "MAX_RECORDS");
  lua_pushinteger(L, KINESIS_MAX_REQUEST_BYTES);
  lua_setfield(L, -2, "MAX_REQUEST_BYTES");
  lua_pushinteger(L, KINESIS_MAX_RECORD_BYTES);
  lua_setfield(L, -2, "MAX_RECORD_BYTES");
  return 1;
}
