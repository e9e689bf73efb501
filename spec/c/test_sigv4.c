/*
** test_sigv4.c: the SigV4 signer against the official AWS test vectors
** (../shared/testdata/sigv4, read at run time, never copied), and a few
** cases of the project's own.  TAP output: one line per vector case and
** mode.  Diagnostics show canonical requests and strings to sign, which
** are not secret; signatures and keys are only ever said to differ.
*/
#define _POSIX_C_SOURCE 200809L

#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "clock.h"
#include "sigv4.h"

#define MAX_HEADERS 32
#define MAX_PARTS 64
#define PATH_SIZE 1024
#define FIELD_SIZE 1024
#define V4_CASES 38
#define CLASSIC_CASES 34
#define VECTOR_KEY \
  "938127b5336810ddb6a5d6af445fcac9e371f9ed418ed386b022aed82901be75"
#define EMPTY_HASH \
  "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

/* The classic .sreq whose Authorization is wrong upstream (README). */
#define BAD_CLASSIC_SREQ "get-vanilla-with-session-token"

static int test_number = 0;
static int failures = 0;
static char vectors[PATH_SIZE];


/*
** A request read from HTTP/1.1 text.  'storage' owns every string.
*/
typedef struct parsed_request {
  char *storage;
  const char *method;
  const char *path;
  size_t path_length;
  const char *query;
  size_t query_length;
  sigv4_header headers[MAX_HEADERS];
  size_t header_count;
  const char *body;
  size_t body_length;
} parsed_request;


/* What the vectors give as signing parameters (context.json). */
typedef struct context {
  char access_key_id[FIELD_SIZE];
  char secret[FIELD_SIZE];
  char token[FIELD_SIZE];
  int has_token;
  char region[FIELD_SIZE];
  char service[FIELD_SIZE];
  int64_t time;
  int64_t expires;
  int normalize, sign_body, omit_session_token;
} context;


/*
** Report one test.  'problem' is NULL when it passed.
*/
static void report(const char *problem, const char *description)
{
  test_number++;
  if (problem == NULL) {
    printf("ok %d - %s\n", test_number, description);
  } else {
    failures++;
    printf("not ok %d - %s\n# %s\n", test_number, description, problem);
  }
}


/*
** Read a whole file into a NUL-terminated block the caller frees;
** NULL when it cannot be read.
*/
static char *read_file(const char *path, size_t *length)
{
  FILE *file = fopen(path, "rb");
  char *data = NULL;
  long size;

  if (file == NULL)
    return NULL;
  if (fseek(file, 0, SEEK_END) != 0 || (size = ftell(file)) < 0
      || fseek(file, 0, SEEK_SET) != 0)
    goto done;
  data = malloc((size_t)size + 1);
  if (data == NULL)
    goto done;
  if (fread(data, 1, (size_t)size, file) != (size_t)size) {
    free(data);
    data = NULL;
    goto done;
  }
  data[size] = '\0';
  if (length != NULL)
    *length = (size_t)size;
done:
  fclose(file);
  return data;
}


/*
** Format a file name into 'out' (PATH_SIZE bytes); a name too long to
** fit becomes "", which no file has, so the test reports it unreadable.
*/
static void make_path(char *out, const char *format, ...)
{
  va_list arguments;
  int length;

  va_start(arguments, format);
  length = vsnprintf(out, PATH_SIZE, format, arguments);
  va_end(arguments);
  if (length < 0 || length >= PATH_SIZE)
    out[0] = '\0';
}


/* Whether the path names a directory. */
static int is_directory(const char *path)
{
  struct stat info;

  return stat(path, &info) == 0 && S_ISDIR(info.st_mode);
}


/*
** Where the vectors are: $STREAMQUERY_ROOT/../shared/testdata/sigv4,
** else /work/shared/testdata/sigv4.
*/
static int find_vectors(void)
{
  const char *root = getenv("STREAMQUERY_ROOT");

  if (root != NULL && root[0] != '\0') {
    make_path(vectors, "%s/../shared/testdata/sigv4", root);
    if (is_directory(vectors))
      return 0;
  }
  make_path(vectors, "/work/shared/testdata/sigv4");
  return is_directory(vectors) ? 0 : -1;
}


/*
** The value after "key": in a flat JSON text, or NULL.  The vectors'
** keys are unique across the nesting, so a search by name suffices.
*/
static const char *json_value(const char *json, const char *key)
{
  char quoted[128];
  const char *at;

  snprintf(quoted, sizeof quoted, "\"%s\"", key);
  at = strstr(json, quoted);
  if (at == NULL)
    return NULL;
  at += strlen(quoted);
  while (*at == ' ' || *at == '\n' || *at == '\t' || *at == '\r')
    at++;
  if (*at != ':')
    return NULL;
  at++;
  while (*at == ' ' || *at == '\n' || *at == '\t' || *at == '\r')
    at++;
  return at;
}


/*
** A JSON string value (escapes \" \\ \/ only, all the vectors use) into
** 'out'; 0 on success.
*/
static int json_string(const char *json, const char *key, char *out,
                       size_t size)
{
  const char *at = json_value(json, key);
  size_t n = 0;

  if (at == NULL || *at != '"')
    return -1;
  for (at++; *at != '"'; at++) {
    if (*at == '\0' || n + 1 >= size)
      return -1;
    if (*at == '\\') {
      at++;
      if (*at != '"' && *at != '\\' && *at != '/')
        return -1;
    }
    out[n++] = *at;
  }
  out[n] = '\0';
  return 0;
}


/* A JSON boolean value, or 'otherwise' when the key is absent. */
static int json_bool(const char *json, const char *key, int otherwise)
{
  const char *at = json_value(json, key);

  if (at == NULL)
    return otherwise;
  return strncmp(at, "true", 4) == 0;
}


/*
** Read a case's context.json; 0 on success.
*/
static int read_context(const char *path, context *ctx)
{
  char *json = read_file(path, NULL);
  char timestamp[64];
  const char *at;
  int status = -1;

  memset(ctx, 0, sizeof *ctx);
  if (json == NULL)
    return -1;
  if (json_string(json, "access_key_id", ctx->access_key_id,
                  FIELD_SIZE) != 0
      || json_string(json, "secret_access_key", ctx->secret,
                     FIELD_SIZE) != 0
      || json_string(json, "region", ctx->region, FIELD_SIZE) != 0
      || json_string(json, "service", ctx->service, FIELD_SIZE) != 0
      || json_string(json, "timestamp", timestamp, sizeof timestamp) != 0
      || clock_parse_iso(timestamp, &ctx->time) != 0)
    goto done;
  ctx->has_token = json_string(json, "token", ctx->token, FIELD_SIZE) == 0;
  at = json_value(json, "expiration_in_seconds");
  if (at == NULL)
    goto done;
  ctx->expires = strtoll(at, NULL, 10);
  ctx->normalize = json_bool(json, "normalize", 1);
  ctx->sign_body = json_bool(json, "sign_body", 0);
  ctx->omit_session_token = json_bool(json, "omit_session_token", 0);
  status = 0;
done:
  free(json);
  return status;
}


/* Release what parse_request allocated. */
static void free_request(parsed_request *request)
{
  free(request->storage);
  request->storage = NULL;
}


/*
** Parse HTTP/1.1 request text.  The method runs to the first space, the
** target to the last " HTTP/" (paths may hold raw spaces).  A line that
** starts with a blank continues the previous header's value, joined by
** one space.  The body is whatever follows the first empty line.
*/
static int parse_request(const char *text, size_t length,
                         parsed_request *request)
{
  const char *end = text + length, *line, *eol, *space, *version, *colon;
  char *out, *target, *mark;
  size_t n;

  memset(request, 0, sizeof *request);
  request->storage = malloc(length + 2);
  if (request->storage == NULL)
    return -1;
  out = request->storage;
  eol = memchr(text, '\n', length);
  if (eol == NULL)
    eol = end;
  space = memchr(text, ' ', (size_t)(eol - text));
  for (version = NULL, line = text; line + 6 <= eol; line++)
    if (memcmp(line, " HTTP/", 6) == 0)
      version = line; /* the last one: the path may hold spaces */
  if (space == NULL || version == NULL || version <= space)
    return -1;
  n = (size_t)(space - text);
  memcpy(out, text, n);
  out[n] = '\0';
  request->method = out;
  out += n + 1;
  n = (size_t)(version - space - 1);
  memcpy(out, space + 1, n);
  out[n] = '\0';
  target = out;
  out += n + 1;
  request->path = target;
  mark = strchr(target, '?');
  if (mark != NULL) {
    *mark = '\0';
    request->query = mark + 1;
    request->query_length = strlen(mark + 1);
  } else {
    request->query = "";
  }
  request->path_length = strlen(target);
  request->body = "";
  for (line = eol + 1; line < end; line = eol + 1) {
    eol = memchr(line, '\n', (size_t)(end - line));
    if (eol == NULL)
      eol = end;
    if (eol == line) { /* the empty line: the body follows */
      request->body = eol + 1 < end ? eol + 1 : "";
      request->body_length = eol + 1 < end ? (size_t)(end - eol - 1) : 0;
      break;
    }
    if (*line == ' ' || *line == '\t') {
      sigv4_header *last;
      if (request->header_count == 0)
        return -1;
      last = &request->headers[request->header_count - 1];
      while (line < eol && (*line == ' ' || *line == '\t'))
        line++;
      out[-1] = ' '; /* over the NUL that ended the value */
      n = (size_t)(eol - line);
      memcpy(out, line, n);
      out[n] = '\0';
      last->value_length += 1 + n;
      out += n + 1;
      continue;
    }
    colon = memchr(line, ':', (size_t)(eol - line));
    if (colon == NULL || request->header_count == MAX_HEADERS)
      return -1;
    request->headers[request->header_count].name = out;
    request->headers[request->header_count].name_length =
      (size_t)(colon - line);
    memcpy(out, line, (size_t)(colon - line));
    out[colon - line] = '\0';
    out += colon - line + 1;
    n = (size_t)(eol - colon - 1);
    request->headers[request->header_count].value = out;
    request->headers[request->header_count].value_length = n;
    memcpy(out, colon + 1, n);
    out[n] = '\0';
    out += n + 1;
    request->header_count++;
  }
  return 0;
}


/* Read and parse a request file; returns its text for the caller to free. */
static char *read_request(const char *path, parsed_request *request)
{
  size_t length;
  char *text = read_file(path, &length);

  if (text == NULL)
    return NULL;
  if (parse_request(text, length, request) != 0) {
    free_request(request);
    free(text);
    return NULL;
  }
  return text;
}


/* qsort order for an array of strings. */
static int compare_strings(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}


/*
** One header as "lower-case-name:value" with the value's surrounding
** blanks removed, in a block the caller frees.
*/
static char *header_entry(const char *name, size_t name_length,
                          const char *value, size_t value_length)
{
  char *entry = malloc(name_length + value_length + 2);
  size_t i;

  if (entry == NULL)
    return NULL;
  for (i = 0; i < name_length; i++)
    entry[i] = (char)(name[i] >= 'A' && name[i] <= 'Z'
                      ? name[i] - 'A' + 'a' : name[i]);
  entry[name_length] = ':';
  while (value_length > 0 && (*value == ' ' || *value == '\t')) {
    value++;
    value_length--;
  }
  while (value_length > 0 && value[value_length - 1] == ' ')
    value_length--;
  memcpy(entry + name_length + 1, value, value_length);
  entry[name_length + 1 + value_length] = '\0';
  return entry;
}


/* Free each string of an array. */
static void free_entries(char **entries, size_t count)
{
  size_t i;

  for (i = 0; i < count; i++)
    free(entries[i]);
}


/*
** Whether two header sets (the signed request we would send, the one
** the vector expects) are equal as sets; 'skip' names a header left out
** of both (NULL for none).
*/
static int same_headers(const parsed_request *request,
                        const sigv4_result *result,
                        const parsed_request *expected, const char *skip)
{
  char *ours[MAX_HEADERS + SIGV4_MAX_ADDED], *theirs[MAX_HEADERS];
  size_t n_ours = 0, n_theirs = 0, i, skip_length;
  int same = 0;

  skip_length = skip != NULL ? strlen(skip) : 0;
  for (i = 0; i < request->header_count; i++)
    ours[n_ours++] = header_entry(request->headers[i].name,
                                  request->headers[i].name_length,
                                  request->headers[i].value,
                                  request->headers[i].value_length);
  for (i = 0; i < result->header_count; i++)
    ours[n_ours++] = header_entry(result->headers[i].name,
                                  result->headers[i].name_length,
                                  result->headers[i].value,
                                  result->headers[i].value_length);
  for (i = 0; i < expected->header_count; i++)
    theirs[n_theirs++] = header_entry(expected->headers[i].name,
                                      expected->headers[i].name_length,
                                      expected->headers[i].value,
                                      expected->headers[i].value_length);
  for (i = 0; i < n_ours; i++)
    if (ours[i] == NULL)
      goto done;
  for (i = 0; i < n_theirs; i++)
    if (theirs[i] == NULL)
      goto done;
  qsort(ours, n_ours, sizeof *ours, compare_strings);
  qsort(theirs, n_theirs, sizeof *theirs, compare_strings);
  same = 1;
  for (i = 0; i < n_ours && i < n_theirs; i++) {
    if (skip != NULL && strncmp(ours[i], skip, skip_length) == 0
        && strncmp(theirs[i], skip, skip_length) == 0)
      continue;
    if (strcmp(ours[i], theirs[i]) != 0)
      same = 0;
  }
  if (n_ours != n_theirs)
    same = 0;
done:
  free_entries(ours, n_ours);
  free_entries(theirs, n_theirs);
  return same;
}


/*
** Split a query string on '&' into sorted parts, in 'copy' (which the
** caller frees); returns the count or -1.
*/
static int query_parts(const char *query, char **copy, char **parts)
{
  char *at;
  int count = 0;

  *copy = malloc(strlen(query) + 1);
  if (*copy == NULL)
    return -1;
  strcpy(*copy, query);
  for (at = *copy; at != NULL && *at != '\0'; count++) {
    if (count == MAX_PARTS)
      return -1;
    parts[count] = at;
    at = strchr(at, '&');
    if (at != NULL)
      *at++ = '\0';
  }
  qsort(parts, (size_t)count, sizeof *parts, compare_strings);
  return count;
}


/*
** Whether the presigned query equals the expected one as a set of
** parameters.
*/
static int same_query(const char *ours, const char *theirs)
{
  char *copy_ours = NULL, *copy_theirs = NULL;
  char *parts_ours[MAX_PARTS], *parts_theirs[MAX_PARTS];
  int n_ours = query_parts(ours, &copy_ours, parts_ours);
  int n_theirs = query_parts(theirs, &copy_theirs, parts_theirs);
  int i, same = n_ours >= 0 && n_ours == n_theirs;

  for (i = 0; same && i < n_ours; i++)
    same = strcmp(parts_ours[i], parts_theirs[i]) == 0;
  free(copy_ours);
  free(copy_theirs);
  return same;
}


/*
** Compare text we built with an expected file, byte for byte; on a
** difference, describe both in 'problem' with newlines shown as \n.
*/
static int check_text(const char *what, const char *ours, size_t length,
                      const char *path, char *problem, size_t size)
{
  char *expected, shown[2][600];
  const char *sources[2];
  size_t expected_length, i, j, k;

  expected = read_file(path, &expected_length);
  if (expected == NULL) {
    snprintf(problem, size, "cannot read %s", path);
    return 0;
  }
  if (expected_length == length && memcmp(expected, ours, length) == 0) {
    free(expected);
    return 1;
  }
  sources[0] = expected;
  sources[1] = ours;
  for (k = 0; k < 2; k++) {
    for (i = 0, j = 0; sources[k][i] != '\0' && j + 3 < sizeof shown[k];
         i++) {
      if (sources[k][i] == '\n') {
        shown[k][j++] = '\\';
        shown[k][j++] = 'n';
      } else {
        shown[k][j++] = sources[k][i];
      }
    }
    shown[k][j] = '\0';
  }
  snprintf(problem, size, "%s differs\n#   expected: %s\n#   got:      %s",
           what, shown[0], shown[1]);
  free(expected);
  return 0;
}


/*
** Sign a parsed request with a case's credentials and options, and compare
** the canonical request and the string to sign with the expected files.
*/
static int sign_and_check(const parsed_request *request, const context *ctx,
                          const sigv4_options *options, sigv4_result *result,
                          const char *creq_path, const char *sts_path,
                          char *problem, size_t size)
{
  sigv4_request input = {request->method, request->path,
                         request->path_length, request->query,
                         request->query_length, request->headers,
                         request->header_count, request->body,
                         request->body_length};
  sigv4_credentials credentials = {ctx->access_key_id, ctx->secret,
                                   ctx->has_token ? ctx->token : NULL};
  int status = sigv4_sign(&input, &credentials, options, result);

  if (status != SIGV4_OK) {
    snprintf(problem, size, "sigv4_sign: %s", sigv4_strerror(status));
    return 0;
  }
  return check_text("canonical request", result->canonical_request.data,
                    result->canonical_request.length, creq_path, problem,
                    size)
         && check_text("string to sign", result->string_to_sign.data,
                       result->string_to_sign.length, sts_path, problem,
                       size);
}


/*
** Compare a signature with an expected file without printing either.
*/
static int check_secret(const char *what, const char *ours, size_t length,
                        const char *path, char *problem, size_t size)
{
  size_t expected_length;
  char *expected = read_file(path, &expected_length);
  int same = expected != NULL && expected_length == length
             && memcmp(expected, ours, length) == 0;

  if (!same)
    snprintf(problem, size, "%s differs from %s", what, path);
  free(expected);
  return same;
}


/*
** The separate steps, fed the vector's own expected inputs: the string
** to sign from the expected canonical request, the signature from the
** expected string to sign.
*/
static int check_steps(const context *ctx, const char *creq_path,
                       const char *sts_path, const char *signature_path,
                       const char *amz_date, char *problem, size_t size)
{
  sigv4_buffer scope, sts;
  unsigned char key[32];
  char date[9], signature[SIGV4_HASH_HEX], *creq = NULL, *expected = NULL;
  size_t creq_length, expected_length;
  int ok = 0;

  sigv4_buffer_init(&scope);
  sigv4_buffer_init(&sts);
  creq = read_file(creq_path, &creq_length);
  expected = read_file(sts_path, &expected_length);
  if (creq == NULL || expected == NULL
      || sigv4_scope(amz_date, ctx->region, ctx->service, &scope) != 0
      || sigv4_string_to_sign(amz_date, scope.data, creq, creq_length,
                              &sts) != 0) {
    snprintf(problem, size, "steps: cannot build the string to sign");
    goto done;
  }
  if (!check_text("string to sign (from the expected canonical request)",
                  sts.data, sts.length, sts_path, problem, size))
    goto done;
  memcpy(date, amz_date, 8);
  date[8] = '\0';
  if (sigv4_signing_key(ctx->secret, date, ctx->region, ctx->service,
                        key) != 0
      || sigv4_signature(key, expected, expected_length, signature) != 0) {
    snprintf(problem, size, "steps: cannot compute the signature");
    goto done;
  }
  ok = check_secret("signature (from the expected string to sign)",
                    signature, strlen(signature), signature_path, problem,
                    size);
done:
  free(creq);
  free(expected);
  sigv4_buffer_free(&scope);
  sigv4_buffer_free(&sts);
  return ok;
}


/*
** One v4 case in one mode: sign the request, compare canonical request,
** string to sign, signature and signed request, then run the steps on
** the expected intermediate texts.
*/
static void test_v4_case(const char *name, sigv4_mode mode)
{
  const char *prefix = mode == SIGV4_MODE_QUERY ? "query" : "header";
  char dir[PATH_SIZE], path[PATH_SIZE], path2[PATH_SIZE];
  char path3[PATH_SIZE], problem[2048], description[256];
  char *text = NULL, *signed_text = NULL;
  parsed_request request, expected;
  sigv4_options options;
  sigv4_result result;
  context ctx;

  snprintf(description, sizeof description, "v4 %s (%s signing)", name,
           prefix);
  memset(&request, 0, sizeof request);
  memset(&expected, 0, sizeof expected);
  sigv4_result_init(&result);
  snprintf(problem, sizeof problem, "cannot read the case");
  make_path(dir, "%s/v4/%s", vectors, name);
  make_path(path, "%s/context.json", dir);
  if (read_context(path, &ctx) != 0)
    goto done;
  make_path(path, "%s/request.txt", dir);
  text = read_request(path, &request);
  make_path(path, "%s/%s-signed-request.txt", dir, prefix);
  signed_text = read_request(path, &expected);
  if (text == NULL || signed_text == NULL)
    goto done;

  options = (sigv4_options){ctx.region, ctx.service, ctx.time, mode,
                            ctx.expires, ctx.normalize, 1, ctx.sign_body,
                            ctx.omit_session_token};
  make_path(path, "%s/%s-canonical-request.txt", dir, prefix);
  make_path(path2, "%s/%s-string-to-sign.txt", dir, prefix);
  if (!sign_and_check(&request, &ctx, &options, &result, path, path2,
                      problem, sizeof problem))
    goto done;
  make_path(path3, "%s/%s-signature.txt", dir, prefix);
  if (!check_secret("signature", result.signature, strlen(result.signature),
                    path3, problem, sizeof problem))
    goto done;
  if (strcmp(expected.method, request.method) != 0
      || strcmp(expected.path, request.path) != 0
      || expected.body_length != request.body_length
      || memcmp(expected.body, request.body, request.body_length) != 0) {
    snprintf(problem, sizeof problem, "signed request: method, path or "
             "body differ from the request");
    goto done;
  }
  if (mode == SIGV4_MODE_QUERY ? !same_query(result.query.data,
                                             expected.query)
      : strcmp(expected.query, request.query) != 0) {
    snprintf(problem, sizeof problem, "signed request: query string "
             "differs (compared as a set of parameters)");
    goto done;
  }
  if (!same_headers(&request, &result, &expected, NULL)) {
    snprintf(problem, sizeof problem, "signed request: headers differ "
             "(compared as a set)");
    goto done;
  }
  if (!check_steps(&ctx, path, path2, path3, result.amz_date, problem,
                   sizeof problem))
    goto done;
  problem[0] = '\0';
done:
  report(problem[0] == '\0' ? NULL : problem, description);
  sigv4_result_free(&result);
  free_request(&request);
  free_request(&expected);
  free(text);
  free(signed_text);
}


/*
** One classic case (header signing only): the request already carries
** X-Amz-Date, so 'time' is deliberately wrong and must be ignored.  The
** identity comes from v4/get-vanilla; a token and omit_session_token from
** the v4 case of the same name when there is one.  The classic
** form-urlencoded cases sign no x-amz-content-sha256 (sign_body false).
*/
static void test_classic_case(const char *dir, const char *name)
{
  char path[PATH_SIZE], path2[PATH_SIZE], problem[2048], description[256];
  char *text = NULL, *signed_text = NULL, *authz = NULL;
  parsed_request request, expected;
  sigv4_options options;
  sigv4_result result;
  context ctx, same_case;
  size_t authz_length;
  int bad_sreq = strcmp(name, BAD_CLASSIC_SREQ) == 0;

  snprintf(description, sizeof description, "classic %s (header signing)%s",
           name, bad_sreq ? ": .sreq Authorization not compared, upstream "
           "gives it get-vanilla's signature" : "");
  memset(&request, 0, sizeof request);
  memset(&expected, 0, sizeof expected);
  sigv4_result_init(&result);
  snprintf(problem, sizeof problem, "cannot read the case");
  make_path(path, "%s/v4/get-vanilla/context.json", vectors);
  if (read_context(path, &ctx) != 0)
    goto done;
  make_path(path, "%s/v4/%s/context.json", vectors, name);
  if (read_context(path, &same_case) == 0) {
    ctx.has_token = same_case.has_token;
    memcpy(ctx.token, same_case.token, sizeof ctx.token);
    ctx.omit_session_token = same_case.omit_session_token;
  }
  make_path(path, "%s/%s.req", dir, name);
  text = read_request(path, &request);
  make_path(path, "%s/%s.sreq", dir, name);
  signed_text = read_request(path, &expected);
  make_path(path, "%s/%s.authz", dir, name);
  authz = read_file(path, &authz_length);
  if (text == NULL || signed_text == NULL || authz == NULL)
    goto done;

  options = (sigv4_options){ctx.region, ctx.service, 0, SIGV4_MODE_HEADER,
                            ctx.expires, 1, 1, 0, ctx.omit_session_token};
  make_path(path, "%s/%s.creq", dir, name);
  make_path(path2, "%s/%s.sts", dir, name);
  if (!sign_and_check(&request, &ctx, &options, &result, path, path2,
                      problem, sizeof problem))
    goto done;
  make_path(path, "%s/%s.authz", dir, name);
  if (!check_secret("Authorization", result.authorization.data,
                    result.authorization.length, path, problem,
                    sizeof problem))
    goto done;
  if (strcmp(expected.query, request.query) != 0
      || !same_headers(&request, &result, &expected,
                       bad_sreq ? "authorization:" : NULL)) {
    snprintf(problem, sizeof problem, "signed request (.sreq): headers "
             "differ (compared as a set)");
    goto done;
  }
  problem[0] = '\0';
done:
  report(problem[0] == '\0' ? NULL : problem, description);
  sigv4_result_free(&result);
  free_request(&request);
  free_request(&expected);
  free(text);
  free(signed_text);
  free(authz);
}


/* A buffer's text for a diagnostic. */
static const char *buffer_text(const sigv4_buffer *buffer)
{
  return buffer->data != NULL ? buffer->data : "(nothing)";
}


/* qsort order for folder names. */
static int compare_names(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}


/*
** The sub-folders of 'dir', sorted, in 'names' (each freed by the
** caller); returns the count.
*/
static size_t list_folders(const char *dir, char **names, size_t size)
{
  char path[PATH_SIZE];
  struct dirent *entry;
  size_t count = 0;
  DIR *folder = opendir(dir);

  if (folder == NULL)
    return 0;
  while ((entry = readdir(folder)) != NULL && count < size) {
    if (entry->d_name[0] == '.')
      continue;
    make_path(path, "%s/%s", dir, entry->d_name);
    if (!is_directory(path))
      continue;
    names[count] = malloc(strlen(entry->d_name) + 1);
    if (names[count] == NULL)
      break;
    strcpy(names[count++], entry->d_name);
  }
  closedir(folder);
  qsort(names, count, sizeof *names, compare_names);
  return count;
}


/* Every v4 case, in header mode then in query mode. */
static void test_v4_vectors(void)
{
  char dir[PATH_SIZE], *names[128], problem[128];
  size_t count, i;

  make_path(dir, "%s/v4", vectors);
  count = list_folders(dir, names, 128);
  snprintf(problem, sizeof problem, "found %zu cases", count);
  report(count == V4_CASES ? NULL : problem, "v4 has all 38 cases");
  for (i = 0; i < count; i++) {
    test_v4_case(names[i], SIGV4_MODE_HEADER);
    test_v4_case(names[i], SIGV4_MODE_QUERY);
    free(names[i]);
  }
}


/*
** Whether 'dir' holds the case of its own name (dir/name/name.req).
*/
static int is_classic_case(const char *dir, const char *name)
{
  char path[PATH_SIZE];
  FILE *file;

  make_path(path, "%s/%s/%s.req", dir, name, name);
  file = fopen(path, "rb");
  if (file != NULL)
    fclose(file);
  return file != NULL;
}


/* Every classic case, including those one group folder down. */
static void test_classic_vectors(void)
{
  char dir[PATH_SIZE], group[PATH_SIZE], inner[PATH_SIZE];
  char *names[128], *members[64], problem[128];
  size_t count, members_count, i, j, cases = 0;

  make_path(dir, "%s/classic", vectors);
  count = list_folders(dir, names, 128);
  for (i = 0; i < count; i++) {
    if (is_classic_case(dir, names[i])) {
      make_path(group, "%s/%s", dir, names[i]);
      test_classic_case(group, names[i]);
      cases++;
    } else { /* a group folder: normalize-path, post-sts-token */
      make_path(group, "%s/%s", dir, names[i]);
      members_count = list_folders(group, members, 64);
      for (j = 0; j < members_count; j++) {
        if (is_classic_case(group, members[j])) {
          make_path(inner, "%s/%s", group, members[j]);
          test_classic_case(inner, members[j]);
          cases++;
        }
        free(members[j]);
      }
    }
    free(names[i]);
  }
  snprintf(problem, sizeof problem, "found %zu cases", cases);
  report(cases == CLASSIC_CASES ? NULL : problem,
         "classic has all 34 cases");
}


/*
** Sign a small request made of the given headers; returns the status
** and leaves the result for the caller to inspect and free.
*/
static int sign_simple(const sigv4_header *headers, size_t count,
                       const char *path, const char *region,
                       sigv4_mode mode, int64_t expires,
                       sigv4_result *result)
{
  sigv4_request request = {"GET", path, strlen(path), "", 0, headers,
                           count, "", 0};
  sigv4_credentials credentials = {"AKIDEXAMPLE", "secret", NULL};
  sigv4_options options = {region, "service", 1440938160, mode, expires,
                           1, 1, 0, 0};

  sigv4_result_init(result);
  return sigv4_sign(&request, &credentials, &options, result);
}


#define HEADER(name, value) {name, sizeof name - 1, value, sizeof value - 1}


/* The project's own cases: the steps alone, and every refusal. */
static void test_own_cases(void)
{
  static const sigv4_header host[] = {HEADER("Host", "h.example")};
  static const sigv4_header no_host[] = {HEADER("Accept", "*/*")};
  static const sigv4_header authorized[] = {
    HEADER("Host", "h.example"), HEADER("Authorization", "x")};
  static const sigv4_header injected[] = {
    HEADER("Host", "h.example"), HEADER("X-Evil", "a\r\nX-More: b")};
  static const sigv4_header bad_date[] = {
    HEADER("Host", "h.example"), HEADER("X-Amz-Date", "2015-08-30")};
  static const sigv4_header unsigned_payload[] = {
    HEADER("Host", "h.example"),
    HEADER("x-amz-content-sha256", "UNSIGNED-PAYLOAD"),
    HEADER("User-Agent", "streamquery")};
  unsigned char key[32];
  char hex[SIGV4_HASH_HEX], date[SIGV4_DATE_SIZE];
  sigv4_buffer buffer;
  sigv4_result result;
  const char *canonical;
  int status, i;

  status = sigv4_signing_key("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                             "20150830", "us-east-1", "service", key);
  for (i = 0; i < 32; i++)
    sprintf(hex + 2 * i, "%02x", key[i]);
  report(status == 0 && strcmp(hex, VECTOR_KEY) == 0 ? NULL
         : "signing key differs",
         "the signing key of the vectors' scope is the README's");

  report(sigv4_sha256_hex("", 0, hex) == 0 && strcmp(hex, EMPTY_HASH) == 0
         ? NULL : "wrong hash", "the hash of an empty body is e3b0c442...");

  report(sigv4_format_date(0, date) == 0
         && strcmp(date, "19700101T000000Z") == 0
         && sigv4_format_date(1440938160, date) == 0
         && strcmp(date, "20150830T123600Z") == 0
         && sigv4_format_date(253402300800LL, date) == SIGV4_EDATE
         ? NULL : "wrong date", "dates are formatted YYYYMMDDTHHMMSSZ in UTC");

  sigv4_buffer_init(&buffer);
  sigv4_canonical_uri("/a%20b", 6, 1, 1, &buffer);
  status = strcmp(buffer.data, "/a%2520b") == 0;
  sigv4_buffer_free(&buffer);
  sigv4_canonical_uri("/a%20b/%7e/c%2Fd", 16, 0, 0, &buffer);
  status = status && strcmp(buffer.data, "/a%20b/~/c%2Fd") == 0;
  sigv4_buffer_free(&buffer);
  sigv4_canonical_uri("", 0, 0, 1, &buffer);
  status = status && strcmp(buffer.data, "/") == 0;
  sigv4_buffer_free(&buffer);
  report(status ? NULL : "wrong canonical URI",
         "a path with '%' is encoded twice, or once for S3");
  sigv4_canonical_uri("/a/./b/../../../c//d/.", 22, 1, 1, &buffer);
  report(strcmp(buffer_text(&buffer), "/c/d/") == 0 ? NULL
         : buffer_text(&buffer), "normalization stops at the root and keeps "
         "the slash a final '.' implies");
  sigv4_buffer_free(&buffer);

  sigv4_canonical_query("b=2&a=1&a=0&&c&d=x+y%zz/", 24, NULL, 0, &buffer);
  report(strcmp(buffer.data, "a=0&a=1&b=2&c=&d=x%2By%25zz%2F") == 0 ? NULL
         : buffer.data, "a query is decoded, re-encoded and sorted");
  sigv4_buffer_free(&buffer);

  status = sign_simple(no_host, 1, "/", "us-east-1", SIGV4_MODE_HEADER, 0,
                       &result);
  sigv4_result_free(&result);
  report(status == SIGV4_ENOHOST ? NULL : sigv4_strerror(status),
         "a request without Host is refused");
  status = sign_simple(authorized, 2, "/", "us-east-1", SIGV4_MODE_HEADER,
                       0, &result);
  sigv4_result_free(&result);
  report(status == SIGV4_EAUTHORIZATION ? NULL : sigv4_strerror(status),
         "a request already authorized is refused in header mode");
  status = sign_simple(injected, 2, "/", "us-east-1", SIGV4_MODE_HEADER, 0,
                       &result);
  sigv4_result_free(&result);
  report(status == SIGV4_EHEADER ? NULL : sigv4_strerror(status),
         "a header value with a line break is refused");
  status = sign_simple(bad_date, 2, "/", "us-east-1", SIGV4_MODE_HEADER, 0,
                       &result);
  sigv4_result_free(&result);
  report(status == SIGV4_EDATE ? NULL : sigv4_strerror(status),
         "a malformed X-Amz-Date is refused");
  status = sign_simple(host, 1, "/", "us-east-1/x", SIGV4_MODE_HEADER, 0,
                       &result);
  sigv4_result_free(&result);
  report(status == SIGV4_EARGUMENT ? NULL : sigv4_strerror(status),
         "a region with '/' is refused");
  status = sign_simple(host, 1, "/", "us-east-1", SIGV4_MODE_QUERY, 604801,
                       &result);
  sigv4_result_free(&result);
  report(status == SIGV4_EEXPIRES ? NULL : sigv4_strerror(status),
         "a presigned URL longer than seven days is refused");

  status = sign_simple(unsigned_payload, 3, "/", "us-east-1",
                       SIGV4_MODE_HEADER, 0, &result);
  canonical = buffer_text(&result.canonical_request);
  report(status == 0 && strcmp(canonical, "GET\n/\n\nhost:h.example\n"
                               "x-amz-content-sha256:UNSIGNED-PAYLOAD\n"
                               "x-amz-date:20150830T123600Z\n\n"
                               "host;x-amz-content-sha256;x-amz-date\n"
                               "UNSIGNED-PAYLOAD") == 0
         && result.header_count == 2 ? NULL : canonical,
         "x-amz-content-sha256 gives the payload line; User-Agent is "
         "not signed");
  sigv4_result_free(&result);
}


/* TAP: the vectors, then the own cases; the plan comes last. */
int main(void)
{
  if (find_vectors() != 0) {
    printf("not ok 1 - the SigV4 vectors are in ../shared/testdata/sigv4\n"
           "1..1\n");
    return 1;
  }
  test_v4_vectors();
  test_classic_vectors();
  test_own_cases();
  printf("1..%d\n", test_number);
  return failures > 0;
}
