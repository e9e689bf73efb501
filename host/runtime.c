/*
** runtime.c: the Lambda Runtime API client (plain HTTP on loopback).
** One libcurl easy handle per client, so that the connection to the
** Runtime API is kept between invocations.  Everything a request
** allocates hangs off the client, which frees it at the next request
** or when it is collected, so a Lua error can never leak it.
*/
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>
#include <lauxlib.h>

#include "runtime.h"

#define CLIENT_METATABLE "host.runtime.client"
#define API_PREFIX "/2018-06-01/runtime"
#define BODY_MAX (16u * 1024 * 1024) /* Lambda's own limit is 6 MiB */
#define POST_TIMEOUT_SECS 60L
#define CONNECT_TIMEOUT_SECS 10L
#define NAME_MAX_LENGTH 256 /* request ids, error types */
#define QUOTED_BODY_MAX 200 /* how much of a refusal a message quotes */

enum header_slot {
  HEADER_REQUEST_ID,
  HEADER_DEADLINE,
  HEADER_TRACE_ID,
  HEADER_FUNCTION_ARN,
  HEADER_CLIENT_CONTEXT,
  HEADER_COGNITO_IDENTITY,
  HEADER_COUNT
};

/* The invocation headers and the info fields they become. */
static const struct {
  const char *header;
  const char *field;
} invocation_headers[HEADER_COUNT] = {
  {"Lambda-Runtime-Aws-Request-Id", "request_id"},
  {"Lambda-Runtime-Deadline-Ms", "deadline_ms"},
  {"Lambda-Runtime-Trace-Id", "trace_id"},
  {"Lambda-Runtime-Invoked-Function-Arn", "function_arn"},
  {"Lambda-Runtime-Client-Context", "client_context"},
  {"Lambda-Runtime-Cognito-Identity", "cognito_identity"},
};

typedef struct runtime_client {
  CURL *curl;                   /* NULL once closed */
  char *api;                    /* host:port of the Runtime API */
  char *body;                   /* the last response body */
  size_t body_length;
  size_t body_size;
  int body_overflow;            /* the body passed BODY_MAX */
  char *headers[HEADER_COUNT];  /* the last response's invocation headers */
  char curl_error[CURL_ERROR_SIZE];
} runtime_client;


/*
** Forget the previous response: its body and its headers.
*/
static void client_reset_response(runtime_client *client)
{
  int i;

  client->body_length = 0;
  client->body_overflow = 0;
  client->curl_error[0] = '\0';
  for (i = 0; i < HEADER_COUNT; i++) {
    free(client->headers[i]);
    client->headers[i] = NULL;
  }
}


/*
** Release everything the client holds; safe to call twice.
*/
static void client_release(runtime_client *client)
{
  client_reset_response(client);
  free(client->body);
  client->body = NULL;
  client->body_size = 0;
  free(client->api);
  client->api = NULL;
  if (client->curl != NULL)
    curl_easy_cleanup(client->curl);
  client->curl = NULL;
}


/*
** libcurl write callback: append to the client's body buffer, refusing
** (and so aborting the transfer) past BODY_MAX.
*/
static size_t client_write_body(char *data, size_t size, size_t count,
                                void *user)
{
  runtime_client *client = user;
  size_t length = size * count;
  size_t wanted = client->body_length + length;
  char *grown;

  if (wanted > BODY_MAX) {
    client->body_overflow = 1;
    return 0;
  }
  if (wanted > client->body_size) {
    size_t new_size = client->body_size ? client->body_size : 4096;
    while (new_size < wanted)
      new_size *= 2;
    grown = realloc(client->body, new_size);
    if (grown == NULL)
      return 0;
    client->body = grown;
    client->body_size = new_size;
  }
  memcpy(client->body + client->body_length, data, length);
  client->body_length = wanted;
  return length;
}


/*
** libcurl header callback: keep the invocation headers of the final
** response (a status line starts a new response, so an interim
** "100 Continue" leaves nothing behind).
*/
static size_t client_write_header(char *data, size_t size, size_t count,
                                  void *user)
{
  runtime_client *client = user;
  size_t length = size * count;
  size_t name_length, start, end;
  const char *colon;
  int i;

  if (length >= 5 && strncmp(data, "HTTP/", 5) == 0) {
    for (i = 0; i < HEADER_COUNT; i++) {
      free(client->headers[i]);
      client->headers[i] = NULL;
    }
    return length;
  }
  colon = memchr(data, ':', length);
  if (colon == NULL)
    return length; /* the blank line that ends the headers */
  name_length = (size_t)(colon - data);
  for (i = 0; i < HEADER_COUNT; i++) {
    const char *name = invocation_headers[i].header;
    if (strlen(name) == name_length
        && strncasecmp(name, data, name_length) == 0)
      break;
  }
  if (i == HEADER_COUNT)
    return length;
  start = name_length + 1;
  end = length;
  while (start < end && (data[start] == ' ' || data[start] == '\t'))
    start++;
  while (end > start && (data[end - 1] == '\r' || data[end - 1] == '\n'
                         || data[end - 1] == ' '))
    end--;
  free(client->headers[i]);
  client->headers[i] = strndup(data + start, end - start);
  return client->headers[i] != NULL ? length : 0;
}


/*
** Send one request to the Runtime API: a GET when body is NULL (with
** no time limit: Lambda freezes the process between invocations),
** otherwise a POST of a JSON body.  Returns the HTTP status, or -1 with
** a message on the Lua stack.
*/
static long client_perform(lua_State *L, runtime_client *client,
                           const char *path, const char *body,
                           size_t body_length, const char *error_type)
{
  struct curl_slist *headers = NULL, *grown;
  char error_header[NAME_MAX_LENGTH + 64];
  CURLcode code = CURLE_OK;
  long status = -1;

  client_reset_response(client);
  lua_pushfstring(L, "http://%s" API_PREFIX "%s", client->api, path);
  curl_easy_setopt(client->curl, CURLOPT_URL, lua_tostring(L, -1));
  if (body == NULL) {
    curl_easy_setopt(client->curl, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt(client->curl, CURLOPT_TIMEOUT, 0L);
  } else {
    grown = curl_slist_append(headers, "Content-Type: application/json");
    if (grown == NULL)
      goto fail;
    headers = grown;
    grown = curl_slist_append(headers, "Expect:"); /* no 100-continue */
    if (grown == NULL)
      goto fail;
    headers = grown;
    if (error_type != NULL) {
      snprintf(error_header, sizeof error_header,
               "Lambda-Runtime-Function-Error-Type: %s", error_type);
      grown = curl_slist_append(headers, error_header);
      if (grown == NULL)
        goto fail;
      headers = grown;
    }
    curl_easy_setopt(client->curl, CURLOPT_POST, 1L);
    curl_easy_setopt(client->curl, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(client->curl, CURLOPT_POSTFIELDSIZE_LARGE,
                     (curl_off_t)body_length);
    curl_easy_setopt(client->curl, CURLOPT_TIMEOUT, POST_TIMEOUT_SECS);
  }
  curl_easy_setopt(client->curl, CURLOPT_HTTPHEADER, headers);
  code = curl_easy_perform(client->curl);
  curl_easy_setopt(client->curl, CURLOPT_HTTPHEADER, NULL);
  if (code == CURLE_OK)
    curl_easy_getinfo(client->curl, CURLINFO_RESPONSE_CODE, &status);
fail:
  curl_slist_free_all(headers);
  lua_pop(L, 1); /* remove URL */
  if (status >= 0)
    return status;
  if (client->body_overflow)
    lua_pushfstring(L, "the Lambda Runtime API sent more than %d bytes",
                    (int)BODY_MAX);
  else if (code == CURLE_OK)
    lua_pushliteral(L, "out of memory while preparing a request");
  else
    lua_pushfstring(L, "cannot reach the Lambda Runtime API at %s: %s",
                    client->api, client->curl_error[0] != '\0'
                    ? client->curl_error : curl_easy_strerror(code));
  return -1;
}


/*
** Push the message for a status the Runtime API should not have given,
** quoting the start of its answer, which says why.
*/
static void push_refusal(lua_State *L, runtime_client *client,
                         const char *what, long status)
{
  size_t quoted = client->body_length;

  if (quoted > QUOTED_BODY_MAX)
    quoted = QUOTED_BODY_MAX;
  lua_pushfstring(L, "the Lambda Runtime API answered HTTP %d to %s: ",
                  (int)status, what);
  lua_pushlstring(L, client->body != NULL ? client->body : "", quoted);
  lua_concat(L, 2);
}


static runtime_client *check_client(lua_State *L)
{
  runtime_client *client = luaL_checkudata(L, 1, CLIENT_METATABLE);

  if (client->curl == NULL)
    luaL_error(L, "the Runtime API client is closed");
  return client;
}


/*
** Check that argument 'arg' is a name safe in a URL path or a header:
** letters, digits and . _ - : only.
*/
static const char *check_name(lua_State *L, int arg, const char *what)
{
  size_t length, i;
  const char *name = luaL_checklstring(L, arg, &length);

  if (length == 0 || length > NAME_MAX_LENGTH)
    luaL_argerror(L, arg, lua_pushfstring(L, "%s must have 1 to %d "
                  "characters", what, NAME_MAX_LENGTH));
  for (i = 0; i < length; i++) {
    char c = name[i];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
          || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'
          || c == ':'))
      luaL_argerror(L, arg, lua_pushfstring(L, "%s %s has a character "
                    "other than letters, digits and . _ - :", what,
                    name));
  }
  return name;
}


/*
** Append 'text' to 'buffer' as a JSON string.
*/
static void add_json_string(luaL_Buffer *buffer, const char *text,
                            size_t length)
{
  char escape[8];
  size_t i;

  luaL_addchar(buffer, '"');
  for (i = 0; i < length; i++) {
    unsigned char c = (unsigned char)text[i];
    switch (c) {
    case '"': luaL_addstring(buffer, "\\\""); break;
    case '\\': luaL_addstring(buffer, "\\\\"); break;
    case '\n': luaL_addstring(buffer, "\\n"); break;
    case '\r': luaL_addstring(buffer, "\\r"); break;
    case '\t': luaL_addstring(buffer, "\\t"); break;
    default:
      if (c < 0x20) {
        snprintf(escape, sizeof escape, "\\u%04x", c);
        luaL_addstring(buffer, escape);
      } else {
        luaL_addchar(buffer, (char)c);
      }
    }
  }
  luaL_addchar(buffer, '"');
}


/*
** Push the JSON body of an error report: errorMessage and errorType.
*/
static void push_error_body(lua_State *L, const char *type,
                            const char *message, size_t message_length)
{
  luaL_Buffer buffer;

  luaL_buffinit(L, &buffer);
  luaL_addstring(&buffer, "{\"errorMessage\":");
  add_json_string(&buffer, message, message_length);
  luaL_addstring(&buffer, ",\"errorType\":");
  add_json_string(&buffer, type, strlen(type));
  luaL_addstring(&buffer, "}");
  luaL_pushresult(&buffer);
}


/*
** POST a body to PATH and expect a 2xx answer.  Returns 1 result:
** true, or nil and a message (2 results).
*/
static int post(lua_State *L, runtime_client *client, const char *path,
                const char *body, size_t length, const char *error_type)
{
  long status = client_perform(L, client, path, body, length, error_type);

  if (status < 0) {
    lua_pushnil(L);
    lua_insert(L, -2);
    return 2;
  }
  if (status < 200 || status > 299) {
    lua_pushnil(L);
    push_refusal(L, client, path, status);
    return 2;
  }
  lua_pushboolean(L, 1);
  return 1;
}


/*
** runtime.client([api]): a client for the Runtime API at host:port.
*/
static int runtime_client_new(lua_State *L)
{
  const char *api = luaL_optstring(L, 1, getenv("AWS_LAMBDA_RUNTIME_API"));
  runtime_client *client;

  if (api == NULL || api[0] == '\0') {
    lua_pushnil(L);
    lua_pushliteral(L, "AWS_LAMBDA_RUNTIME_API is not set: the lambda "
                    "command runs inside AWS Lambda (or next to a "
                    "Runtime API test server)");
    return 2;
  }
  if (strspn(api, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
             "0123456789.-:[]") != strlen(api))
    return luaL_error(L, "invalid Runtime API address \"%s\": expected "
                      "host:port", api);
  client = lua_newuserdatauv(L, sizeof *client, 0);
  memset(client, 0, sizeof *client);
  luaL_setmetatable(L, CLIENT_METATABLE);
  client->api = strdup(api);
  client->curl = curl_easy_init();
  if (client->api == NULL || client->curl == NULL)
    return luaL_error(L, "cannot create the Runtime API client: "
                      "out of memory");
  curl_easy_setopt(client->curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(client->curl, CURLOPT_NOPROXY, "*"); /* loopback */
  curl_easy_setopt(client->curl, CURLOPT_CONNECTTIMEOUT,
                   CONNECT_TIMEOUT_SECS);
  curl_easy_setopt(client->curl, CURLOPT_ERRORBUFFER, client->curl_error);
  curl_easy_setopt(client->curl, CURLOPT_WRITEFUNCTION, client_write_body);
  curl_easy_setopt(client->curl, CURLOPT_WRITEDATA, client);
  curl_easy_setopt(client->curl, CURLOPT_HEADERFUNCTION,
                   client_write_header);
  curl_easy_setopt(client->curl, CURLOPT_HEADERDATA, client);
#if LIBCURL_VERSION_NUM >= 0x075500
  curl_easy_setopt(client->curl, CURLOPT_PROTOCOLS_STR, "http");
#endif
  return 1;
}


/*
** The wall clock in milliseconds since the epoch, as the deadline is.
*/
static long long epoch_ms(void)
{
  struct timespec now;

  clock_gettime(CLOCK_REALTIME, &now);
  return (long long)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}


/*
** client:next(): wait for the next invocation; returns its body and a
** table of its headers, and puts its trace id in _X_AMZN_TRACE_ID.
*/
static int runtime_next(lua_State *L)
{
  runtime_client *client = check_client(L);
  const char *trace, *deadline;
  char *end;
  long long deadline_ms;
  long status;
  int i;

  status = client_perform(L, client, "/invocation/next", NULL, 0, NULL);
  if (status < 0) {
    lua_pushnil(L);
    lua_insert(L, -2);
    return 2;
  }
  if (status != 200) {
    lua_pushnil(L);
    push_refusal(L, client, "/invocation/next", status);
    return 2;
  }
  if (client->headers[HEADER_REQUEST_ID] == NULL) {
    lua_pushnil(L);
    lua_pushliteral(L, "the Lambda Runtime API sent an invocation without "
                    "Lambda-Runtime-Aws-Request-Id");
    return 2;
  }
  trace = client->headers[HEADER_TRACE_ID];
  if (trace != NULL ? setenv("_X_AMZN_TRACE_ID", trace, 1)
                    : unsetenv("_X_AMZN_TRACE_ID"))
    return luaL_error(L, "cannot set _X_AMZN_TRACE_ID: %s",
                      strerror(errno));
  lua_pushlstring(L, client->body != NULL ? client->body : "",
                  client->body_length);
  lua_createtable(L, 0, HEADER_COUNT);
  for (i = 0; i < HEADER_COUNT; i++) {
    if (client->headers[i] == NULL || i == HEADER_DEADLINE)
      continue;
    lua_pushstring(L, client->headers[i]);
    lua_setfield(L, -2, invocation_headers[i].field);
  }
  deadline = client->headers[HEADER_DEADLINE];
  if (deadline != NULL) {
    errno = 0;
    deadline_ms = strtoll(deadline, &end, 10);
    if (errno == 0 && end != deadline && *end == '\0' && deadline_ms > 0) {
      lua_pushinteger(L, (lua_Integer)deadline_ms);
      lua_setfield(L, -2, "deadline_ms");
      lua_pushinteger(L, (lua_Integer)(deadline_ms - epoch_ms()));
      lua_setfield(L, -2, "remaining_ms");
    }
  }
  return 2;
}


/*
** client:respond(request_id, body): deliver an invocation's response.
*/
static int runtime_respond(lua_State *L)
{
  runtime_client *client = check_client(L);
  const char *id = check_name(L, 2, "request id");
  size_t length;
  const char *body = luaL_checklstring(L, 3, &length);

  lua_pushfstring(L, "/invocation/%s/response", id);
  return post(L, client, lua_tostring(L, -1), body, length, NULL);
}


/*
** client:fail(request_id, type, message): report an invocation error.
*/
static int runtime_fail(lua_State *L)
{
  runtime_client *client = check_client(L);
  const char *id = check_name(L, 2, "request id");
  const char *type = check_name(L, 3, "error type");
  size_t length;
  const char *message = luaL_checklstring(L, 4, &length);
  const char *body;

  push_error_body(L, type, message, length);
  body = lua_tolstring(L, -1, &length);
  lua_pushfstring(L, "/invocation/%s/error", id);
  return post(L, client, lua_tostring(L, -1), body, length, type);
}


/*
** client:init_error(type, message): report a failed start-up.
*/
static int runtime_init_error(lua_State *L)
{
  runtime_client *client = check_client(L);
  const char *type = check_name(L, 2, "error type");
  size_t length;
  const char *message = luaL_checklstring(L, 3, &length);
  const char *body;

  push_error_body(L, type, message, length);
  body = lua_tolstring(L, -1, &length);
  return post(L, client, "/init/error", body, length, type);
}


/*
** client:close() and the collector: free the handle and buffers.
*/
static int runtime_close(lua_State *L)
{
  runtime_client *client = luaL_checkudata(L, 1, CLIENT_METATABLE);

  client_release(client);
  return 0;
}


int luaopen_host_runtime(lua_State *L)
{
  static const luaL_Reg methods[] = {
    {"next", runtime_next},
    {"respond", runtime_respond},
    {"fail", runtime_fail},
    {"init_error", runtime_init_error},
    {"close", runtime_close},
    {NULL, NULL}
  };
  static const luaL_Reg functions[] = {
    {"client", runtime_client_new},
    {NULL, NULL}
  };

  if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
    return luaL_error(L, "cannot initialise libcurl");
  if (luaL_newmetatable(L, CLIENT_METATABLE)) {
    luaL_newlib(L, methods);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, runtime_close);
    lua_setfield(L, -2, "__gc");
    lua_pushcfunction(L, runtime_close);
    lua_setfield(L, -2, "__close");
  }
  lua_pop(L, 1); /* remove metatable */
  luaL_newlib(L, functions);
  return 1;
}
