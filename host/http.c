/*
** http.c: HTTP(S) over libcurl.
** A client owns one curl multi handle for its whole life, so connections
** (and TLS sessions) are reused from one perform to the next.  perform
** runs a list of requests at most 'concurrency' at a time and returns one
** result per request.  TLS is always verified against a CA bundle found
** here; plain http:// is accepted only for loopback hosts and the AWS
** metadata and container-credentials addresses.
*/
#define _POSIX_C_SOURCE 200809L

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <curl/curl.h>
#include <lauxlib.h>
#include <openssl/crypto.h>

#include "http.h"

#define CLIENT_METATABLE "host.http.client"
#define BATCH_METATABLE  "host.http.batch"

#define DEFAULT_CONCURRENCY     8
#define MAX_CONCURRENCY         256
#define DEFAULT_CONNECT_TIMEOUT 3.0
#define DEFAULT_TIMEOUT         30.0
#define DEFAULT_MAX_RESPONSE    (64 * 1024 * 1024)
#define POLL_MS                 1000
#define ORIGIN_MAX              300
#define MESSAGE_MAX             512

/* Where CA bundles live when SSL_CERT_FILE does not name one. */
static const char *const ca_bundle_paths[] = {
  "/etc/ssl/certs/ca-certificates.crt", /* Debian, Ubuntu */
  "/etc/pki/tls/certs/ca-bundle.crt",   /* Amazon Linux, Fedora, RHEL */
  NULL
};

/* Addresses reached over plain HTTP besides loopback. */
static const char *const metadata_addresses[] = {
  "169.254.169.254", /* EC2 instance metadata */
  "169.254.170.2",   /* ECS container credentials */
  "169.254.170.23",  /* EKS pod identity */
  "fd00:ec2::254",   /* EC2 instance metadata, IPv6 */
  "fd00:ec2::23",    /* EKS pod identity, IPv6 */
  NULL
};

typedef struct {
  char *data;
  size_t length;
  size_t capacity;
} http_buffer;

typedef struct {
  CURL *easy;
  struct curl_slist *headers;
  http_buffer body;          /* response body */
  http_buffer head;          /* header lines of the last response */
  size_t max_response;
  CURLcode result;
  int added;                 /* in the multi handle right now */
  int overflow;              /* body exceeded max_response */
  char origin[ORIGIN_MAX];   /* scheme://host:port, for messages */
  char error[CURL_ERROR_SIZE];
} http_transfer;

typedef struct {
  CURLM *multi;
  long concurrency;
  long connect_timeout_ms;
  long timeout_ms;
  size_t max_response;
  char *ca_file;             /* explicit bundle, or NULL */
} http_client;

typedef struct {
  http_transfer *transfers;
  size_t count;
} http_batch;

typedef struct {
  int https;
  int plain_allowed;
  char origin[ORIGIN_MAX];
} http_target;


/*
** Append 'length' bytes to 'buffer', keeping it NUL-terminated and at
** most 'limit' bytes long.  Returns 0, or -1 when over the limit or out
** of memory.
*/
static int buffer_append(http_buffer *buffer, const char *data,
                         size_t length, size_t limit)
{
  size_t needed = buffer->length + length + 1;
  char *grown;

  if (buffer->length + length > limit)
    return -1;
  if (needed > buffer->capacity) {
    size_t capacity = buffer->capacity ? buffer->capacity : 1024;

    while (capacity < needed)
      capacity *= 2;
    grown = realloc(buffer->data, capacity);
    if (grown == NULL)
      return -1;
    buffer->data = grown;
    buffer->capacity = capacity;
  }
  memcpy(buffer->data + buffer->length, data, length);
  buffer->length += length;
  buffer->data[buffer->length] = '\0';
  return 0;
}


/*
** Overwrite and release a buffer's bytes (a response may carry
** credentials, from STS or instance metadata) and make it empty again.
*/
static void buffer_free(http_buffer *buffer)
{
  if (buffer->data != NULL) /* a word at a time, not a byte */
    OPENSSL_cleanse(buffer->data, buffer->capacity);
  free(buffer->data);
  buffer->data = NULL;
  buffer->length = buffer->capacity = 0;
}


/*
** Compare 'text' with an address in presentation form, whatever its
** spelling ("::1" and "0:0::1" are the same address).
*/
static int same_address(int family, const char *text, const char *address)
{
  unsigned char a[sizeof(struct in6_addr)], b[sizeof(struct in6_addr)];

  if (inet_pton(family, text, a) != 1 || inet_pton(family, address, b) != 1)
    return 0;
  return memcmp(a, b, family == AF_INET ? 4 : 16) == 0;
}


/*
** Loopback (127.0.0.0/8, localhost, ::1) or one of metadata_addresses.
*/
int http_plain_allowed(const char *host)
{
  char bare[INET6_ADDRSTRLEN + 1];
  unsigned char address[sizeof(struct in6_addr)];
  size_t length = strlen(host);
  int i;

  if (length >= 2 && host[0] == '[' && host[length - 1] == ']') {
    host++;            /* IPv6 literal: drop the brackets */
    length -= 2;
  }
  if (length == 0 || length >= sizeof bare)
    return 0;
  memcpy(bare, host, length);
  bare[length] = '\0';
  if (strcasecmp(bare, "localhost") == 0)
    return 1;
  if (inet_pton(AF_INET, bare, address) == 1 && address[0] == 127)
    return 1;
  if (inet_pton(AF_INET6, bare, address) == 1
      && IN6_IS_ADDR_LOOPBACK((struct in6_addr *)address))
    return 1;
  for (i = 0; metadata_addresses[i] != NULL; i++)
    if (same_address(AF_INET, bare, metadata_addresses[i])
        || same_address(AF_INET6, bare, metadata_addresses[i]))
      return 1;
  return 0;
}


/*
** Find the CA bundle: 'explicit_file' when given, else SSL_CERT_FILE,
** else the first known path that exists.  Returns the path, or NULL
** with an explanation in 'message'.
*/
static const char *find_ca_bundle(const char *explicit_file, char *message,
                                  size_t size)
{
  const char *env = getenv("SSL_CERT_FILE");
  int i;

  if (explicit_file != NULL || (env != NULL && env[0] != '\0')) {
    const char *path = explicit_file != NULL ? explicit_file : env;

    if (access(path, R_OK) == 0)
      return path;
    snprintf(message, size, "%s names the CA bundle \"%s\", which cannot "
             "be read: %s", explicit_file != NULL ? "ca_file"
             : "SSL_CERT_FILE", path, strerror(errno));
    return NULL;
  }
  for (i = 0; ca_bundle_paths[i] != NULL; i++)
    if (access(ca_bundle_paths[i], R_OK) == 0)
      return ca_bundle_paths[i];
  snprintf(message, size, "no CA certificate bundle found: set "
           "SSL_CERT_FILE to a PEM bundle or install the ca-certificates "
           "package (looked in %s and %s)", ca_bundle_paths[0],
           ca_bundle_paths[1]);
  return NULL;
}


/*
** Parse 'url' and say whether it may be used: scheme http or https,
** plain http only where http_plain_allowed says so.  Fills 'target'.
** Returns 0, or -1 with a message that never repeats the path or query
** (a presigned URL carries a signature there).
*/
static int inspect_url(const char *url, http_target *target, char *message,
                       size_t size)
{
  CURLU *handle = curl_url();
  char *scheme = NULL, *host = NULL, *port = NULL;
  CURLUcode code;
  int status = -1;

  if (handle == NULL) {
    snprintf(message, size, "out of memory");
    return -1;
  }
  code = curl_url_set(handle, CURLUPART_URL, url, 0);
  if (code != CURLUE_OK) {
    snprintf(message, size, "malformed URL (%s)", curl_url_strerror(code));
    goto done;
  }
  if (curl_url_get(handle, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK
      || curl_url_get(handle, CURLUPART_HOST, &host, 0) != CURLUE_OK
      || curl_url_get(handle, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT)
         != CURLUE_OK) {
    snprintf(message, size, "malformed URL: it needs a scheme and a host");
    goto done;
  }
  snprintf(target->origin, sizeof target->origin, "%s://%s:%s", scheme,
           host, port);
  target->https = strcmp(scheme, "https") == 0;
  target->plain_allowed = http_plain_allowed(host);
  if (!target->https && strcmp(scheme, "http") != 0) {
    snprintf(message, size, "scheme \"%s\" is not supported: use https://",
             scheme);
    goto done;
  }
  if (!target->https && !target->plain_allowed) {
    snprintf(message, size, "plain http:// is allowed only for loopback "
             "hosts and the instance-metadata and container-credentials "
             "addresses, not for %s: use https://", host);
    goto done;
  }
  status = 0;
done:
  curl_free(scheme);
  curl_free(host);
  curl_free(port);
  curl_url_cleanup(handle);
  return status;
}


/*
** libcurl's body callback: collect the body, up to the transfer's limit.
*/
static size_t on_body(char *data, size_t size, size_t count, void *user)
{
  http_transfer *transfer = user;
  size_t length = size * count;

  if (buffer_append(&transfer->body, data, length,
                    transfer->max_response) != 0) {
    transfer->overflow = 1;
    return 0; /* abort the transfer */
  }
  return length;
}


/*
** libcurl's header callback: keep the header lines of the last response
** only (a status line starts a new response, as after a redirect or an
** interim 1xx response).
*/
static size_t on_header(char *data, size_t size, size_t count, void *user)
{
  http_transfer *transfer = user;
  size_t length = size * count;

  if (length >= 5 && memcmp(data, "HTTP/", 5) == 0)
    transfer->head.length = 0;
  if (buffer_append(&transfer->head, data, length,
                    transfer->max_response) != 0)
    return 0;
  return length;
}


/*
** Overwrite and free a header list: it holds the Authorization header
** and the session token.
*/
static void free_headers(struct curl_slist *headers)
{
  struct curl_slist *node;

  for (node = headers; node != NULL; node = node->next) {
    volatile char *p = node->data;

    while (*p != '\0')
      *p++ = '\0';
  }
  curl_slist_free_all(headers);
}


/*
** Release every transfer of a batch: the one cleanup path, used both
** after a perform and by the garbage collector after an error.
*/
static void batch_release(http_batch *batch, CURLM *multi)
{
  size_t i;

  for (i = 0; batch->transfers != NULL && i < batch->count; i++) {
    http_transfer *transfer = &batch->transfers[i];

    if (transfer->added && multi != NULL)
      curl_multi_remove_handle(multi, transfer->easy);
    if (transfer->easy != NULL)
      curl_easy_cleanup(transfer->easy);
    free_headers(transfer->headers);
    transfer->headers = NULL;
    buffer_free(&transfer->body);
    buffer_free(&transfer->head);
  }
  free(batch->transfers);
  batch->transfers = NULL;
  batch->count = 0;
}


/*
** __gc of a batch: frees what an error left behind.
*/
static int batch_gc(lua_State *L)
{
  batch_release(luaL_checkudata(L, 1, BATCH_METATABLE), NULL);
  return 0;
}


/*
** The client at argument 1, which must still be open.
*/
static http_client *check_client(lua_State *L)
{
  http_client *client = luaL_checkudata(L, 1, CLIENT_METATABLE);

  if (client->multi == NULL)
    luaL_error(L, "http: the client is closed");
  return client;
}


/*
** Read an optional number field of the table at 'index', between 'low'
** and 'high'; 'fallback' when absent.
*/
static lua_Number number_field(lua_State *L, int index, const char *name,
                               lua_Number fallback, lua_Number low,
                               lua_Number high, const char *where)
{
  lua_Number value = fallback;

  if (lua_getfield(L, index, name) != LUA_TNIL) {
    int ok;

    value = lua_tonumberx(L, -1, &ok);
    if (!ok || !(value >= low && value <= high))
      luaL_error(L, "%s: '%s' must be a number from %f to %f", where, name,
                 low, high);
  }
  lua_pop(L, 1);
  return value;
}


/* Seconds to milliseconds, at least one. */
static long to_ms(lua_Number seconds)
{
  long ms = (long)(seconds * 1000.0 + 0.5);

  return ms > 0 ? ms : 1;
}


/*
** Turn the request's headers ({ {name, value}, ... }) into a curl list.
** Names must be tokens and values single lines, so that no header can
** smuggle another one in.
*/
static void add_headers(lua_State *L, http_transfer *transfer, int index,
                        lua_Integer number)
{
  lua_Integer i, count;
  struct curl_slist *grown;

  if (lua_getfield(L, index, "headers") != LUA_TNIL) {
    if (!lua_istable(L, -1))
      luaL_error(L, "http.perform: request %I: 'headers' must be a list "
                 "of {name, value} pairs", number);
    count = luaL_len(L, -1);
    for (i = 1; i <= count; i++) {
      const char *name, *value, *line;
      size_t name_length;

      if (lua_geti(L, -1, i) != LUA_TTABLE)
        luaL_error(L, "http.perform: request %I: header %I must be a "
                   "{name, value} pair", number, i);
      lua_geti(L, -1, 1);
      lua_geti(L, -2, 2);
      name = lua_tolstring(L, -2, &name_length);
      value = lua_tostring(L, -1);
      if (name == NULL || value == NULL || name_length == 0
          || strcspn(name, ": \t\r\n") != name_length
          || strpbrk(value, "\r\n") != NULL)
        luaL_error(L, "http.perform: request %I: header %I needs a name "
                   "without spaces or colons and a one-line value",
                   number, i);
      if (value[0] == '\0')
        line = lua_pushfstring(L, "%s;", name); /* curl: empty value */
      else
        line = lua_pushfstring(L, "%s: %s", name, value);
      grown = curl_slist_append(transfer->headers, line);
      if (grown == NULL)
        luaL_error(L, "http.perform: out of memory");
      transfer->headers = grown;
      lua_pop(L, 4); /* line, value, name, pair */
    }
  }
  lua_pop(L, 1); /* headers */
  grown = curl_slist_append(transfer->headers, "Expect:");
  if (grown == NULL)
    luaL_error(L, "http.perform: out of memory");
  transfer->headers = grown;
}


/*
** Set the method and body of a transfer from the request table.
*/
static void set_method(lua_State *L, http_transfer *transfer, int index,
                       lua_Integer number)
{
  const char *method, *body = NULL;
  size_t body_length = 0, i;
  CURL *easy = transfer->easy;

  lua_getfield(L, index, "method");
  method = lua_isnil(L, -1) ? "GET" : lua_tostring(L, -1);
  if (method == NULL || method[0] == '\0')
    luaL_error(L, "http.perform: request %I: 'method' must be a string",
               number);
  for (i = 0; method[i] != '\0'; i++)
    if (!isupper((unsigned char)method[i]))
      luaL_error(L, "http.perform: request %I: method \"%s\" must be "
                 "upper-case letters", number, method);
  if (lua_getfield(L, index, "body") != LUA_TNIL) {
    body = lua_tolstring(L, -1, &body_length);
    if (body == NULL)
      luaL_error(L, "http.perform: request %I: 'body' must be a string",
                 number);
  }
  if (strcmp(method, "HEAD") == 0) {
    curl_easy_setopt(easy, CURLOPT_NOBODY, 1L);
  } else if (body != NULL || strcmp(method, "POST") == 0
             || strcmp(method, "PUT") == 0 || strcmp(method, "PATCH") == 0) {
    curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE,
                     (curl_off_t)body_length);
    curl_easy_setopt(easy, CURLOPT_COPYPOSTFIELDS, body ? body : "");
    if (strcmp(method, "POST") != 0)
      curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, method);
  } else if (strcmp(method, "GET") == 0) {
    curl_easy_setopt(easy, CURLOPT_HTTPGET, 1L);
  } else {
    curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, method);
  }
  lua_pop(L, 2); /* method, body */
}


/*
** Build the transfer for the request table on top of the stack.
** '*ca_file' is found the first time an https URL needs it.
*/
static void prepare_transfer(lua_State *L, http_client *client,
                             http_transfer *transfer, lua_Integer number,
                             const char **ca_file)
{
  char message[MESSAGE_MAX];
  http_target target;
  const char *url;
  lua_Number timeout;
  CURL *easy;
  int index = lua_gettop(L);

  if (!lua_istable(L, index))
    luaL_error(L, "http.perform: request %I must be a table", number);
  lua_getfield(L, index, "url");
  url = lua_tostring(L, -1);
  if (url == NULL)
    luaL_error(L, "http.perform: request %I has no 'url'", number);
  if (inspect_url(url, &target, message, sizeof message) != 0)
    luaL_error(L, "http.perform: request %I: %s", number, message);
  if (target.https && *ca_file == NULL) {
    *ca_file = find_ca_bundle(client->ca_file, message, sizeof message);
    if (*ca_file == NULL)
      luaL_error(L, "http.perform: %s", message);
  }
  timeout = number_field(L, index, "timeout",
                         (lua_Number)client->timeout_ms / 1000.0, 0.001,
                         86400.0, "http.perform");
  transfer->max_response = client->max_response;
  memcpy(transfer->origin, target.origin, sizeof transfer->origin);
  easy = transfer->easy = curl_easy_init();
  if (easy == NULL)
    luaL_error(L, "http.perform: cannot create a curl handle");
  curl_easy_setopt(easy, CURLOPT_URL, url);
  curl_easy_setopt(easy, CURLOPT_PRIVATE, (void *)transfer);
  curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, transfer->error);
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(easy, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1);
  curl_easy_setopt(easy, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS,
                   client->connect_timeout_ms);
  curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, to_ms(timeout));
  curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, 2L);
  if (target.https) {
    curl_easy_setopt(easy, CURLOPT_CAINFO, *ca_file);
    curl_easy_setopt(easy, CURLOPT_CAPATH, NULL); /* the bundle only */
  }
  if (target.plain_allowed)
    curl_easy_setopt(easy, CURLOPT_PROXY, ""); /* never via a proxy */
  curl_easy_setopt(easy, CURLOPT_USERAGENT, "streamquery");
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, (void *)transfer);
  curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(easy, CURLOPT_HEADERDATA, (void *)transfer);
  set_method(L, transfer, index, number);
  add_headers(L, transfer, index, number);
  curl_easy_setopt(easy, CURLOPT_HTTPHEADER, transfer->headers);
  lua_pop(L, 1); /* url */
}


/*
** Mark a transfer failed without running it.
*/
static void fail_transfer(http_transfer *transfer, CURLcode result,
                          const char *message)
{
  transfer->result = result;
  snprintf(transfer->error, sizeof transfer->error, "%s", message);
}


/*
** Run every transfer of the batch on the client's multi handle, at most
** 'concurrency' at once.  Calls no Lua function, so no error can unwind
** while a handle is inside the multi handle.
*/
static void run_batch(http_client *client, http_batch *batch)
{
  size_t next = 0, active = 0, i;
  int running, pending;
  CURLMsg *message;

  while (next < batch->count || active > 0) {
    while (next < batch->count && active < (size_t)client->concurrency) {
      http_transfer *transfer = &batch->transfers[next++];

      if (curl_multi_add_handle(client->multi, transfer->easy) != CURLM_OK) {
        fail_transfer(transfer, CURLE_OUT_OF_MEMORY, "cannot start");
        continue;
      }
      transfer->added = 1;
      active++;
    }
    if (curl_multi_perform(client->multi, &running) != CURLM_OK)
      break;
    while ((message = curl_multi_info_read(client->multi, &pending))) {
      http_transfer *transfer;
      char *private_data = NULL;

      if (message->msg != CURLMSG_DONE)
        continue;
      curl_easy_getinfo(message->easy_handle, CURLINFO_PRIVATE,
                        &private_data);
      transfer = (http_transfer *)(void *)private_data;
      transfer->result = message->data.result; /* before removal */
      curl_multi_remove_handle(client->multi, transfer->easy);
      transfer->added = 0;
      active--;
    }
    if (active > 0 && (next == batch->count
                       || active == (size_t)client->concurrency))
      curl_multi_poll(client->multi, NULL, 0, POLL_MS, NULL);
  }
  for (i = 0; i < batch->count; i++) { /* only after a multi failure */
    http_transfer *transfer = &batch->transfers[i];

    if (transfer->added) {
      curl_multi_remove_handle(client->multi, transfer->easy);
      transfer->added = 0;
      fail_transfer(transfer, CURLE_FAILED_INIT, "curl multi failure");
    } else if (i >= next) {
      fail_transfer(transfer, CURLE_FAILED_INIT, "curl multi failure");
    }
  }
}


/*
** The kind of a failed transfer, and words for it.
*/
static const char *failure_kind(http_transfer *transfer, const char **what)
{
  long os_error = 0;

  switch (transfer->result) {
  case CURLE_OPERATION_TIMEDOUT:
    *what = "timed out talking to";
    return "timeout";
  case CURLE_COULDNT_CONNECT:
    curl_easy_getinfo(transfer->easy, CURLINFO_OS_ERRNO, &os_error);
    if (os_error == ECONNREFUSED) {
      *what = "connection refused by";
      return "refused";
    }
    *what = "cannot connect to";
    return "connect";
  case CURLE_COULDNT_RESOLVE_HOST:
  case CURLE_COULDNT_RESOLVE_PROXY:
    *what = "cannot resolve";
    return "connect";
  case CURLE_SSL_CONNECT_ERROR:
  case CURLE_PEER_FAILED_VERIFICATION:
  case CURLE_SSL_CACERT_BADFILE:
  case CURLE_SSL_CERTPROBLEM:
  case CURLE_SSL_CIPHER:
  case CURLE_SSL_ISSUER_ERROR:
  case CURLE_SSL_INVALIDCERTSTATUS:
    *what = "TLS failure with";
    return "tls";
  case CURLE_RECV_ERROR:
  case CURLE_SEND_ERROR:
  case CURLE_GOT_NOTHING:
  case CURLE_PARTIAL_FILE:
    *what = "connection reset by";
    return "reset";
  default:
    *what = "request failed to";
    return "other";
  }
}


/*
** Push the response headers as a table of lower-case names; repeated
** headers are joined with ", ".
*/
static void push_headers(lua_State *L, http_transfer *transfer)
{
  const char *line = transfer->head.data, *end, *colon, *value, *stop;
  luaL_Buffer name;

  lua_newtable(L);
  while (line != NULL && *line != '\0') {
    end = strchr(line, '\n');
    stop = end != NULL ? end : line + strlen(line);
    colon = memchr(line, ':', (size_t)(stop - line));
    if (colon != NULL && strncmp(line, "HTTP/", 5) != 0) {
      const char *p;

      luaL_buffinit(L, &name);
      for (p = line; p < colon; p++)
        luaL_addchar(&name, (char)tolower((unsigned char)*p));
      luaL_pushresult(&name);
      for (value = colon + 1; value < stop && (*value == ' '
                                               || *value == '\t'); value++)
        ;
      while (stop > value && isspace((unsigned char)stop[-1]))
        stop--;
      lua_pushvalue(L, -1);
      if (lua_rawget(L, -3) == LUA_TSTRING) {
        lua_pushliteral(L, ", ");
        lua_pushlstring(L, value, (size_t)(stop - value));
        lua_concat(L, 3);
      } else {
        lua_pop(L, 1);
        lua_pushlstring(L, value, (size_t)(stop - value));
      }
      lua_rawset(L, -3);
    }
    line = end != NULL ? end + 1 : NULL;
  }
}


/*
** Push the result table of one finished transfer.
*/
static void push_result(lua_State *L, http_transfer *transfer)
{
  long status = 0, connects = 0;
  const char *kind, *what;

  lua_createtable(L, 0, 4);
  if (transfer->easy != NULL)
    curl_easy_getinfo(transfer->easy, CURLINFO_NUM_CONNECTS, &connects);
  lua_pushinteger(L, connects);
  lua_setfield(L, -2, "connects");
  if (transfer->result == CURLE_OK) {
    curl_easy_getinfo(transfer->easy, CURLINFO_RESPONSE_CODE, &status);
    lua_pushinteger(L, status);
    lua_setfield(L, -2, "status");
    push_headers(L, transfer);
    lua_setfield(L, -2, "headers");
    lua_pushlstring(L, transfer->body.data ? transfer->body.data : "",
                    transfer->body.length);
    lua_setfield(L, -2, "body");
    return;
  }
  if (transfer->overflow) {
    lua_pushfstring(L, "response from %s is larger than %I bytes",
                    transfer->origin, (lua_Integer)transfer->max_response);
    kind = "other";
  } else {
    kind = failure_kind(transfer, &what);
    lua_pushfstring(L, "%s %s: %s", what, transfer->origin,
                    transfer->error[0] ? transfer->error
                    : curl_easy_strerror(transfer->result));
  }
  lua_setfield(L, -2, "error");
  lua_pushstring(L, kind);
  lua_setfield(L, -2, "kind");
}


/*
** client:perform(requests) -> results, one per request, in order.
*/
static int client_perform(lua_State *L)
{
  http_client *client = check_client(L);
  const char *ca_file = NULL;
  http_batch *batch;
  lua_Integer count, i;

  luaL_checktype(L, 2, LUA_TTABLE);
  lua_settop(L, 2);
  count = luaL_len(L, 2);
  batch = lua_newuserdatauv(L, sizeof *batch, 0);
  batch->transfers = NULL;
  batch->count = 0;
  luaL_setmetatable(L, BATCH_METATABLE);
  if (count > 0) {
    batch->transfers = calloc((size_t)count, sizeof *batch->transfers);
    if (batch->transfers == NULL)
      return luaL_error(L, "http.perform: out of memory");
    batch->count = (size_t)count;
  }
  for (i = 1; i <= count; i++) {
    lua_geti(L, 2, i);
    prepare_transfer(L, client, &batch->transfers[i - 1], i, &ca_file);
    lua_pop(L, 1);
  }
  run_batch(client, batch);
  lua_createtable(L, (int)count, 0);
  for (i = 1; i <= count; i++) {
    push_result(L, &batch->transfers[i - 1]);
    lua_rawseti(L, -2, i);
  }
  batch_release(batch, client->multi);
  return 1;
}


/*
** client:close(): closes every connection; later performs fail.
*/
static int client_close(lua_State *L)
{
  http_client *client = luaL_checkudata(L, 1, CLIENT_METATABLE);

  if (client->multi != NULL)
    curl_multi_cleanup(client->multi);
  client->multi = NULL;
  free(client->ca_file);
  client->ca_file = NULL;
  return 0;
}


/*
** __tostring of a client: its state, never a URL or header.
*/
static int client_tostring(lua_State *L)
{
  http_client *client = luaL_checkudata(L, 1, CLIENT_METATABLE);

  lua_pushfstring(L, "http client (%s, concurrency %I)",
                  client->multi ? "open" : "closed",
                  (lua_Integer)client->concurrency);
  return 1;
}


/*
** http.new{ concurrency, connect_timeout, timeout, ca_file,
**           max_response_bytes } -> client
*/
static int http_new(lua_State *L)
{
  http_client *client;
  lua_Number concurrency, connect_timeout, timeout, max_response;
  const char *ca_file = NULL;

  if (lua_isnoneornil(L, 1))
    lua_newtable(L);
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_settop(L, 1);
  concurrency = number_field(L, 1, "concurrency", DEFAULT_CONCURRENCY, 1,
                             MAX_CONCURRENCY, "http.new");
  connect_timeout = number_field(L, 1, "connect_timeout",
                                 DEFAULT_CONNECT_TIMEOUT, 0.001, 3600,
                                 "http.new");
  timeout = number_field(L, 1, "timeout", DEFAULT_TIMEOUT, 0.001, 86400,
                         "http.new");
  max_response = number_field(L, 1, "max_response_bytes",
                              DEFAULT_MAX_RESPONSE, 1, 1024.0 * 1024 * 1024,
                              "http.new");
  if (lua_getfield(L, 1, "ca_file") != LUA_TNIL) {
    ca_file = lua_tostring(L, -1);
    if (ca_file == NULL || ca_file[0] == '\0')
      return luaL_error(L, "http.new: 'ca_file' must be a path");
  }
  client = lua_newuserdatauv(L, sizeof *client, 0);
  memset(client, 0, sizeof *client);
  luaL_setmetatable(L, CLIENT_METATABLE);
  client->concurrency = (long)concurrency;
  client->connect_timeout_ms = to_ms(connect_timeout);
  client->timeout_ms = to_ms(timeout);
  client->max_response = (size_t)max_response;
  if (ca_file != NULL && (client->ca_file = strdup(ca_file)) == NULL)
    return luaL_error(L, "http.new: out of memory");
  client->multi = curl_multi_init();
  if (client->multi == NULL)
    return luaL_error(L, "http.new: cannot create a curl multi handle");
  curl_multi_setopt(client->multi, CURLMOPT_MAX_HOST_CONNECTIONS,
                    client->concurrency);
  curl_multi_setopt(client->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS,
                    client->concurrency);
  curl_multi_setopt(client->multi, CURLMOPT_MAXCONNECTS,
                    client->concurrency);
  return 1;
}


/*
** http.ca_bundle([path]) -> the CA bundle https requests would use, or
** nil and why none can be used.
*/
static int http_ca_bundle(lua_State *L)
{
  char message[MESSAGE_MAX];
  const char *path = find_ca_bundle(luaL_optstring(L, 1, NULL), message,
                                    sizeof message);

  if (path == NULL) {
    luaL_pushfail(L);
    lua_pushstring(L, message);
    return 2;
  }
  lua_pushstring(L, path);
  return 1;
}


/*
** http.plain_http_allowed(host) -> whether http:// may reach 'host'.
*/
static int http_plain_http_allowed(lua_State *L)
{
  lua_pushboolean(L, http_plain_allowed(luaL_checkstring(L, 1)));
  return 1;
}


/*
** The module table, and the metatables of clients and batches.
*/
int luaopen_host_http(lua_State *L)
{
  static const luaL_Reg client_methods[] = {
    {"perform", client_perform},
    {"close", client_close},
    {NULL, NULL}
  };
  static const luaL_Reg functions[] = {
    {"new", http_new},
    {"ca_bundle", http_ca_bundle},
    {"plain_http_allowed", http_plain_http_allowed},
    {NULL, NULL}
  };

  if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
    return luaL_error(L, "host.http: libcurl failed to initialise");
  if (luaL_newmetatable(L, CLIENT_METATABLE)) {
    luaL_newlib(L, client_methods);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, client_close);
    lua_setfield(L, -2, "__gc");
    lua_pushcfunction(L, client_close);
    lua_setfield(L, -2, "__close");
    lua_pushcfunction(L, client_tostring);
    lua_setfield(L, -2, "__tostring");
  }
  lua_pop(L, 1);
  if (luaL_newmetatable(L, BATCH_METATABLE)) {
    lua_pushcfunction(L, batch_gc);
    lua_setfield(L, -2, "__gc");
  }
  lua_pop(L, 1);
  luaL_newlib(L, functions);
  lua_pushstring(L, curl_version_info(CURLVERSION_NOW)->version);
  lua_setfield(L, -2, "curl_version");
  return 1;
}
