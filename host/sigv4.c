/*
** sigv4.c: AWS Signature Version 4 signing (AWS4-HMAC-SHA256) with
** OpenSSL, each step a function of its own, and the Lua module
** "host.sigv4" that the HTTP layer calls for every AWS request.
** Secret material (the derived keys, the "AWS4"+secret prefix, every
** buffer) is cleared with OPENSSL_cleanse before it is released.
*/
#define _POSIX_C_SOURCE 200809L

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <lauxlib.h>
#include <lua.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include "sigv4.h"

#define ALGORITHM "AWS4-HMAC-SHA256"
#define TERMINATOR "aws4_request"
#define KEY_SIZE 32
#define AUTH_PARAMS 5 /* X-Amz-Algorithm ... X-Amz-SignedHeaders */
#define RESULT_METATABLE "host.sigv4.result"
#define FIRST_YEAR_EPOCH (-62135596800LL) /* 0001-01-01T00:00:00Z */
#define LAST_YEAR_EPOCH 253402300799LL    /* 9999-12-31T23:59:59Z */

static const char hex_digits[] = "0123456789abcdef";
static const char hex_upper[] = "0123456789ABCDEF";

/* Headers left out of the signature: intermediaries may change them. */
static const char *const unsigned_headers[] = {
  "connection", "expect", "user-agent", "x-amzn-trace-id", NULL
};


/*
** Make room for 'extra' more bytes and a NUL.  The old block is copied
** and cleared rather than realloc'ed, so no secret is left behind in
** freed memory.
*/
static int buffer_reserve(sigv4_buffer *buffer, size_t extra)
{
  size_t need, capacity;
  char *data;

  if (buffer->failed)
    return -1;
  if (extra > SIZE_MAX - buffer->length - 1)
    goto fail;
  need = buffer->length + extra + 1;
  if (need <= buffer->capacity)
    return 0;
  capacity = buffer->capacity > 0 ? buffer->capacity : 64;
  while (capacity < need)
    capacity = capacity > SIZE_MAX / 2 ? need : capacity * 2;
  data = malloc(capacity);
  if (data == NULL)
    goto fail;
  if (buffer->data != NULL) {
    memcpy(data, buffer->data, buffer->length + 1);
    OPENSSL_cleanse(buffer->data, buffer->capacity);
    free(buffer->data);
  }
  buffer->data = data;
  buffer->capacity = capacity;
  return 0;
fail:
  buffer->failed = 1;
  return -1;
}


/* An empty buffer that owns nothing yet. */
void sigv4_buffer_init(sigv4_buffer *buffer)
{
  buffer->data = NULL;
  buffer->length = 0;
  buffer->capacity = 0;
  buffer->failed = 0;
}


/* Append bytes; on failure the buffer is marked and left as it was. */
void sigv4_buffer_append(sigv4_buffer *buffer, const void *data,
                         size_t length)
{
  if (buffer_reserve(buffer, length) != 0)
    return;
  if (length > 0)
    memcpy(buffer->data + buffer->length, data, length);
  buffer->length += length;
  buffer->data[buffer->length] = '\0';
}


/* Append a NUL-terminated string. */
void sigv4_buffer_append_string(sigv4_buffer *buffer, const char *text)
{
  sigv4_buffer_append(buffer, text, strlen(text));
}


/* Append one byte. */
void sigv4_buffer_append_char(sigv4_buffer *buffer, char c)
{
  sigv4_buffer_append(buffer, &c, 1);
}


/* Clear and release the block; the buffer is empty again. */
void sigv4_buffer_free(sigv4_buffer *buffer)
{
  if (buffer->data != NULL) {
    OPENSSL_cleanse(buffer->data, buffer->capacity);
    free(buffer->data);
  }
  sigv4_buffer_init(buffer);
}


/*
** Drop the contents but keep the block, for a scratch buffer used again.
*/
static void buffer_clear(sigv4_buffer *buffer)
{
  buffer->length = 0;
  if (buffer->data != NULL)
    buffer->data[0] = '\0';
}


/*
** The text of a buffer, "" while nothing was appended.
*/
static const char *buffer_text(const sigv4_buffer *buffer)
{
  return buffer->data != NULL ? buffer->data : "";
}


/* SIGV4_ENOMEM once any append has failed. */
static int buffer_status(const sigv4_buffer *buffer)
{
  return buffer->failed ? SIGV4_ENOMEM : SIGV4_OK;
}


/* A result with nothing in it, safe to free. */
void sigv4_result_init(sigv4_result *result)
{
  sigv4_buffer_init(&result->canonical_request);
  sigv4_buffer_init(&result->string_to_sign);
  sigv4_buffer_init(&result->authorization);
  sigv4_buffer_init(&result->query);
  result->header_count = 0;
  result->signature[0] = '\0';
  result->amz_date[0] = '\0';
  result->payload_hash[0] = '\0';
}


/* Clear and release a result; freeing twice is harmless. */
void sigv4_result_free(sigv4_result *result)
{
  sigv4_buffer_free(&result->canonical_request);
  sigv4_buffer_free(&result->string_to_sign);
  sigv4_buffer_free(&result->authorization);
  sigv4_buffer_free(&result->query);
  OPENSSL_cleanse(result->signature, sizeof result->signature);
  result->header_count = 0;
  result->amz_date[0] = '\0';
  result->payload_hash[0] = '\0';
}


/* A message that a user can act on, for each status code. */
const char *sigv4_strerror(int code)
{
  switch (code) {
  case SIGV4_OK:
    return "no error";
  case SIGV4_ENOMEM:
    return "out of memory";
  case SIGV4_EARGUMENT:
    return "a method, key, region or service that cannot be signed";
  case SIGV4_EHEADER:
    return "a header name or value that cannot be sent (empty name, "
           "blank or control character in a name, line break in a value)";
  case SIGV4_ENOHOST:
    return "the request has no Host header";
  case SIGV4_EAUTHORIZATION:
    return "the request already has an Authorization header";
  case SIGV4_EDATE:
    return "the time is out of range, or X-Amz-Date is not "
           "YYYYMMDDTHHMMSSZ";
  case SIGV4_EEXPIRES:
    return "expires must be between 1 and 604800 seconds";
  case SIGV4_ECRYPTO:
    return "OpenSSL failed to compute a hash";
  default:
    return "unknown error";
  }
}


/* Lower-case hex of the bytes, NUL-terminated (2 * length + 1). */
static void hex_encode(const unsigned char *bytes, size_t length, char *out)
{
  size_t i;

  for (i = 0; i < length; i++) {
    out[2 * i] = hex_digits[bytes[i] >> 4];
    out[2 * i + 1] = hex_digits[bytes[i] & 15];
  }
  out[2 * length] = '\0';
}


/* One-shot SHA-256, as lower-case hex. */
int sigv4_sha256_hex(const void *data, size_t length,
                     char out[SIGV4_HASH_HEX])
{
  unsigned char digest[SHA256_DIGEST_LENGTH];

  if (SHA256(data, length, digest) == NULL)
    return SIGV4_ECRYPTO;
  hex_encode(digest, sizeof digest, out);
  return SIGV4_OK;
}


/*
** HMAC-SHA256 of 'data' under 'key' into 'out' (32 bytes).
*/
static int hmac_sha256(const void *key, size_t key_length, const void *data,
                       size_t length, unsigned char out[KEY_SIZE])
{
  unsigned int out_length = 0;

  if (key_length > INT_MAX)
    return SIGV4_ECRYPTO;
  if (HMAC(EVP_sha256(), key, (int)key_length, data, length, out,
           &out_length) == NULL || out_length != KEY_SIZE)
    return SIGV4_ECRYPTO;
  return SIGV4_OK;
}


/* The characters SigV4 never encodes: A-Z a-z 0-9 - . _ ~ */
static int is_unreserved(unsigned char c)
{
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
         || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_'
         || c == '~';
}


/* The value of one hex digit, or -1. */
static int hex_value(char c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}


/*
** The byte that "%XX" at 'data' stands for, or -1 if 'data' does not
** start a valid escape within 'length' bytes.
*/
static int escape_at(const char *data, size_t length)
{
  int high, low;

  if (length < 3 || data[0] != '%')
    return -1;
  high = hex_value(data[1]);
  low = hex_value(data[2]);
  if (high < 0 || low < 0)
    return -1;
  return high * 16 + low;
}


/*
** Append one byte, encoded unless it is unreserved (or a kept '/').
*/
static void encode_byte(sigv4_buffer *out, unsigned char c, int keep_slash)
{
  char escape[3];

  if (is_unreserved(c) || (keep_slash && c == '/')) {
    sigv4_buffer_append_char(out, (char)c);
    return;
  }
  escape[0] = '%';
  escape[1] = hex_upper[c >> 4];
  escape[2] = hex_upper[c & 15];
  sigv4_buffer_append(out, escape, 3);
}


/* Copy runs of literal bytes at once and encode the rest one by one. */
void sigv4_uri_encode(const char *data, size_t length, int keep_slash,
                      sigv4_buffer *out)
{
  size_t i, start = 0;

  for (i = 0; i < length; i++) {
    unsigned char c = (unsigned char)data[i];
    if (is_unreserved(c) || (keep_slash && c == '/'))
      continue; /* copied with the run it belongs to */
    sigv4_buffer_append(out, data + start, i - start);
    encode_byte(out, c, keep_slash);
    start = i + 1;
  }
  sigv4_buffer_append(out, data + start, length - start);
}


/*
** Append the bytes with every valid %XX escape decoded; a '%' that
** starts no valid escape stays as it is.
*/
static void uri_decode(const char *data, size_t length, sigv4_buffer *out)
{
  size_t i = 0;
  int byte;

  while (i < length) {
    byte = escape_at(data + i, length - i);
    if (byte >= 0) {
      sigv4_buffer_append_char(out, (char)byte);
      i += 3;
    } else {
      sigv4_buffer_append_char(out, data[i]);
      i++;
    }
  }
}


/* Epoch seconds to the X-Amz-Date form, in UTC. */
int sigv4_format_date(int64_t time, char out[SIGV4_DATE_SIZE])
{
  time_t seconds = (time_t)time;
  struct tm tm;

  out[0] = '\0';
  if (time < FIRST_YEAR_EPOCH || time > LAST_YEAR_EPOCH
      || (int64_t)seconds != time || gmtime_r(&seconds, &tm) == NULL)
    return SIGV4_EDATE;
  if (strftime(out, SIGV4_DATE_SIZE, "%Y%m%dT%H%M%SZ", &tm)
      != SIGV4_DATE_SIZE - 1) {
    out[0] = '\0';
    return SIGV4_EDATE;
  }
  return SIGV4_OK;
}


/*
** Remove dot segments and empty segments from an absolute path; the
** result starts with '/' and keeps a trailing '/' (also the one implied
** by a final "." or "..").
*/
static void normalize_path(const char *path, size_t length,
                           sigv4_buffer *out)
{
  size_t start = 0, end, segment;
  int trailing = 0;

  while (start <= length) {
    end = start;
    while (end < length && path[end] != '/')
      end++;
    segment = end - start;
    trailing = end == length && (segment == 0
               || (segment == 1 && path[start] == '.')
               || (segment == 2 && path[start] == '.'
                   && path[start + 1] == '.'));
    if (segment == 2 && path[start] == '.' && path[start + 1] == '.') {
      while (out->length > 0 && out->data[out->length - 1] != '/')
        out->length--; /* drop the last segment */
      if (out->length > 0)
        out->length--; /* and the '/' before it */
      if (out->data != NULL)
        out->data[out->length] = '\0';
    } else if (segment > 1 || (segment == 1 && path[start] != '.')) {
      sigv4_buffer_append_char(out, '/');
      sigv4_buffer_append(out, path + start, segment);
    }
    start = end + 1;
  }
  if (out->length == 0 || trailing)
    sigv4_buffer_append_char(out, '/');
}


/*
** Encode a path once for S3: each %XX escape stands for one byte of the
** key (a '/' among them included); the other bytes keep their '/'.
*/
static void encode_path_once(const char *path, size_t length,
                             sigv4_buffer *out)
{
  size_t i = 0;
  int byte;

  while (i < length) {
    byte = escape_at(path + i, length - i);
    if (byte >= 0) {
      encode_byte(out, (unsigned char)byte, 0);
      i += 3;
    } else {
      encode_byte(out, (unsigned char)path[i], 1);
      i++;
    }
  }
}


/* The path line of the canonical request. */
int sigv4_canonical_uri(const char *path, size_t length, int normalize,
                        int double_encode, sigv4_buffer *out)
{
  sigv4_buffer normalized;
  int status;

  sigv4_buffer_init(&normalized);
  if (normalize) {
    normalize_path(path, length, &normalized);
    status = buffer_status(&normalized);
    if (status != SIGV4_OK)
      goto done;
    path = normalized.data;
    length = normalized.length;
  }
  if (length == 0)
    sigv4_buffer_append_char(out, '/');
  else if (double_encode)
    sigv4_uri_encode(path, length, 1, out);
  else
    encode_path_once(path, length, out);
  status = buffer_status(out);
done:
  sigv4_buffer_free(&normalized);
  return status;
}


/* A query pair or a header, as offsets into a scratch buffer, then as
** pointers once the scratch buffer has stopped growing. */
typedef struct sort_entry {
  size_t name_offset, name_length;
  size_t value_offset, value_length;
  size_t index;
  const char *name;
  const char *value;
} sort_entry;


/* memcmp order, a shorter prefix first. */
static int compare_bytes(const char *a, size_t a_length, const char *b,
                         size_t b_length)
{
  int order = memcmp(a, b, a_length < b_length ? a_length : b_length);

  if (order != 0)
    return order;
  return (a_length > b_length) - (a_length < b_length);
}


/*
** Query order: by encoded key, then by encoded value.
*/
static int compare_pairs(const void *a, const void *b)
{
  const sort_entry *x = a, *y = b;
  int order = compare_bytes(x->name, x->name_length, y->name,
                            y->name_length);

  if (order != 0)
    return order;
  return compare_bytes(x->value, x->value_length, y->value, y->value_length);
}


/*
** Header order: by lower-case name, then by position in the request, so
** that repeated headers keep their order.
*/
static int compare_headers(const void *a, const void *b)
{
  const sort_entry *x = a, *y = b;
  int order = compare_bytes(x->name, x->name_length, y->name,
                            y->name_length);

  if (order != 0)
    return order;
  return (x->index > y->index) - (x->index < y->index);
}


/* Turn offsets into pointers once the scratch buffer stops moving. */
static void resolve_entries(sort_entry *entries, size_t count,
                            const sigv4_buffer *scratch)
{
  size_t i;

  for (i = 0; i < count; i++) {
    entries[i].name = scratch->data + entries[i].name_offset;
    entries[i].value = scratch->data + entries[i].value_offset;
  }
}


/*
** Append the SigV4 encoding of the decoded form of 'data' to 'scratch',
** using 'plain' as room for the decoded bytes.
*/
static void reencode(const char *data, size_t length, sigv4_buffer *plain,
                     sigv4_buffer *scratch)
{
  buffer_clear(plain);
  uri_decode(data, length, plain);
  if (!plain->failed)
    sigv4_uri_encode(buffer_text(plain), plain->length, 0, scratch);
}


/* The query line of the canonical request. */
int sigv4_canonical_query(const char *query, size_t length,
                          const sigv4_param *extra, size_t extra_count,
                          sigv4_buffer *out)
{
  sigv4_buffer scratch, plain;
  sort_entry *entries = NULL;
  size_t i, count = 0, slots = extra_count + 1, start, end, equals;
  int status = SIGV4_ENOMEM;

  sigv4_buffer_init(&scratch);
  sigv4_buffer_init(&plain);
  for (i = 0; i < length; i++)
    slots += query[i] == '&';
  entries = calloc(slots, sizeof *entries);
  if (entries == NULL)
    goto done;
  for (start = 0; start < length; start = end + 1) {
    end = start;
    while (end < length && query[end] != '&')
      end++;
    if (end == start)
      continue; /* "a=1&&b=2": nothing between the two '&' */
    equals = start;
    while (equals < end && query[equals] != '=')
      equals++;
    entries[count].name_offset = scratch.length;
    reencode(query + start, equals - start, &plain, &scratch);
    entries[count].name_length = scratch.length - entries[count].name_offset;
    entries[count].value_offset = scratch.length;
    if (equals < end)
      reencode(query + equals + 1, end - equals - 1, &plain, &scratch);
    entries[count].value_length = scratch.length
                                  - entries[count].value_offset;
    count++;
  }
  for (i = 0; i < extra_count; i++, count++) {
    entries[count].name_offset = scratch.length;
    sigv4_uri_encode(extra[i].key, strlen(extra[i].key), 0, &scratch);
    entries[count].name_length = scratch.length - entries[count].name_offset;
    entries[count].value_offset = scratch.length;
    sigv4_uri_encode(extra[i].value, strlen(extra[i].value), 0, &scratch);
    entries[count].value_length = scratch.length
                                  - entries[count].value_offset;
  }
  if (scratch.failed || plain.failed)
    goto done;
  resolve_entries(entries, count, &scratch);
  qsort(entries, count, sizeof *entries, compare_pairs);
  for (i = 0; i < count; i++) {
    if (i > 0)
      sigv4_buffer_append_char(out, '&');
    sigv4_buffer_append(out, entries[i].name, entries[i].name_length);
    sigv4_buffer_append_char(out, '=');
    sigv4_buffer_append(out, entries[i].value, entries[i].value_length);
  }
  if (out->data == NULL)
    sigv4_buffer_append(out, "", 0); /* an empty query is still a string */
  status = buffer_status(out);
done:
  free(entries);
  sigv4_buffer_free(&scratch);
  sigv4_buffer_free(&plain);
  return status;
}


/* ASCII lower case, whatever the locale says. */
static char lower_ascii(char c)
{
  return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}


/*
** Compare a header name, in any case, with a lower-case name.
*/
static int name_is(const char *name, size_t length, const char *lower)
{
  size_t i;

  for (i = 0; i < length; i++)
    if (lower[i] == '\0' || lower_ascii(name[i]) != lower[i])
      return 0;
  return lower[length] == '\0';
}


/*
** A header name is a non-empty run of visible characters other than
** ':'; a value may hold neither a line break nor a NUL.
*/
static int header_is_valid(const sigv4_header *header)
{
  size_t i;

  if (header->name == NULL || header->name_length == 0
      || (header->value == NULL && header->value_length > 0))
    return 0;
  for (i = 0; i < header->name_length; i++) {
    unsigned char c = (unsigned char)header->name[i];
    if (c <= ' ' || c >= 0x7f || c == ':')
      return 0;
  }
  for (i = 0; i < header->value_length; i++) {
    char c = header->value[i];
    if (c == '\r' || c == '\n' || c == '\0')
      return 0;
  }
  return 1;
}


/* Whether a header goes into the signature (see unsigned_headers). */
static int is_signed_header(const sigv4_header *header)
{
  const char *const *name;

  for (name = unsigned_headers; *name != NULL; name++)
    if (name_is(header->name, header->name_length, *name))
      return 0;
  return 1;
}


/*
** Append a header value without its leading and trailing blanks and with
** each inner run of blanks (spaces, tabs) turned into one space.
*/
static void append_trimmed(const char *value, size_t length,
                           sigv4_buffer *out)
{
  size_t i = 0, start;
  int first = 1;

  while (i < length) {
    while (i < length && (value[i] == ' ' || value[i] == '\t'))
      i++;
    start = i;
    while (i < length && value[i] != ' ' && value[i] != '\t')
      i++;
    if (i > start) {
      if (!first)
        sigv4_buffer_append_char(out, ' ');
      sigv4_buffer_append(out, value + start, i - start);
      first = 0;
    }
  }
}


/* The headers block and the SignedHeaders list. */
int sigv4_canonical_headers(const sigv4_header *headers, size_t count,
                            sigv4_buffer *canonical,
                            sigv4_buffer *signed_headers)
{
  sigv4_buffer scratch;
  sort_entry *entries = NULL;
  size_t i, j, kept = 0;
  int status = SIGV4_EHEADER;

  sigv4_buffer_init(&scratch);
  for (i = 0; i < count; i++)
    if (!header_is_valid(&headers[i]))
      goto done;
  status = SIGV4_ENOMEM;
  entries = calloc(count > 0 ? count : 1, sizeof *entries);
  if (entries == NULL)
    goto done;
  for (i = 0; i < count; i++) {
    if (!is_signed_header(&headers[i]))
      continue;
    entries[kept].index = i;
    entries[kept].name_offset = scratch.length;
    entries[kept].name_length = headers[i].name_length;
    for (j = 0; j < headers[i].name_length; j++)
      sigv4_buffer_append_char(&scratch, lower_ascii(headers[i].name[j]));
    entries[kept].value_offset = scratch.length;
    append_trimmed(headers[i].value, headers[i].value_length, &scratch);
    entries[kept].value_length = scratch.length
                                 - entries[kept].value_offset;
    kept++;
  }
  if (scratch.failed)
    goto done;
  resolve_entries(entries, kept, &scratch);
  qsort(entries, kept, sizeof *entries, compare_headers);
  for (i = 0; i < kept; i++) {
    if (i > 0 && compare_bytes(entries[i].name, entries[i].name_length,
                               entries[i - 1].name,
                               entries[i - 1].name_length) == 0) {
      sigv4_buffer_append_char(canonical, ',');
    } else {
      if (i > 0) {
        sigv4_buffer_append_char(canonical, '\n');
        sigv4_buffer_append_char(signed_headers, ';');
      }
      sigv4_buffer_append(canonical, entries[i].name,
                          entries[i].name_length);
      sigv4_buffer_append_char(canonical, ':');
      sigv4_buffer_append(signed_headers, entries[i].name,
                          entries[i].name_length);
    }
    sigv4_buffer_append(canonical, entries[i].value,
                        entries[i].value_length);
  }
  sigv4_buffer_append(canonical, "\n", kept > 0 ? 1 : 0);
  sigv4_buffer_append(signed_headers, "", 0);
  status = canonical->failed || signed_headers->failed ? SIGV4_ENOMEM
                                                       : SIGV4_OK;
done:
  free(entries);
  sigv4_buffer_free(&scratch);
  return status;
}


/* The six lines of the canonical request. */
int sigv4_canonical_request(const char *method, const char *uri,
                            const char *query, const char *headers,
                            const char *signed_headers,
                            const char *payload_hash, sigv4_buffer *out)
{
  sigv4_buffer_append_string(out, method);
  sigv4_buffer_append_char(out, '\n');
  sigv4_buffer_append_string(out, uri);
  sigv4_buffer_append_char(out, '\n');
  sigv4_buffer_append_string(out, query);
  sigv4_buffer_append_char(out, '\n');
  sigv4_buffer_append_string(out, headers); /* ends with its own '\n' */
  sigv4_buffer_append_char(out, '\n');
  sigv4_buffer_append_string(out, signed_headers);
  sigv4_buffer_append_char(out, '\n');
  sigv4_buffer_append_string(out, payload_hash);
  return buffer_status(out);
}


/* The credential scope, from the first eight characters of the date. */
int sigv4_scope(const char *amz_date, const char *region,
                const char *service, sigv4_buffer *out)
{
  if (strlen(amz_date) < 8)
    return SIGV4_EDATE;
  sigv4_buffer_append(out, amz_date, 8);
  sigv4_buffer_append_char(out, '/');
  sigv4_buffer_append_string(out, region);
  sigv4_buffer_append_char(out, '/');
  sigv4_buffer_append_string(out, service);
  sigv4_buffer_append_string(out, "/" TERMINATOR);
  return buffer_status(out);
}


/* The four lines of the string to sign. */
int sigv4_string_to_sign(const char *amz_date, const char *scope,
                         const char *canonical_request, size_t length,
                         sigv4_buffer *out)
{
  char hash[SIGV4_HASH_HEX];
  int status = sigv4_sha256_hex(canonical_request, length, hash);

  if (status != SIGV4_OK)
    return status;
  sigv4_buffer_append_string(out, ALGORITHM "\n");
  sigv4_buffer_append_string(out, amz_date);
  sigv4_buffer_append_char(out, '\n');
  sigv4_buffer_append_string(out, scope);
  sigv4_buffer_append_char(out, '\n');
  sigv4_buffer_append(out, hash, SIGV4_HASH_HEX - 1);
  return buffer_status(out);
}


/* Derive the signing key; every intermediate key is cleared. */
int sigv4_signing_key(const char *secret, const char *date,
                      const char *region, const char *service,
                      unsigned char out[32])
{
  sigv4_buffer first;
  unsigned char key[KEY_SIZE], next[KEY_SIZE];
  int status;

  sigv4_buffer_init(&first);
  sigv4_buffer_append_string(&first, "AWS4");
  sigv4_buffer_append_string(&first, secret);
  status = buffer_status(&first);
  if (status != SIGV4_OK)
    goto done;
  status = hmac_sha256(first.data, first.length, date, strlen(date), key);
  if (status != SIGV4_OK)
    goto done;
  status = hmac_sha256(key, KEY_SIZE, region, strlen(region), next);
  if (status != SIGV4_OK)
    goto done;
  status = hmac_sha256(next, KEY_SIZE, service, strlen(service), key);
  if (status != SIGV4_OK)
    goto done;
  status = hmac_sha256(key, KEY_SIZE, TERMINATOR, strlen(TERMINATOR), out);
done:
  sigv4_buffer_free(&first);
  OPENSSL_cleanse(key, sizeof key);
  OPENSSL_cleanse(next, sizeof next);
  return status;
}


/* The hex signature of the string to sign. */
int sigv4_signature(const unsigned char key[32], const char *string_to_sign,
                    size_t length, char out[SIGV4_HASH_HEX])
{
  unsigned char mac[KEY_SIZE];
  int status = hmac_sha256(key, KEY_SIZE, string_to_sign, length, mac);

  if (status == SIGV4_OK)
    hex_encode(mac, sizeof mac, out);
  OPENSSL_cleanse(mac, sizeof mac);
  return status;
}


/* The value of the Authorization header. */
int sigv4_authorization(const char *access_key_id, const char *scope,
                        const char *signed_headers, const char *signature,
                        sigv4_buffer *out)
{
  sigv4_buffer_append_string(out, ALGORITHM " Credential=");
  sigv4_buffer_append_string(out, access_key_id);
  sigv4_buffer_append_char(out, '/');
  sigv4_buffer_append_string(out, scope);
  sigv4_buffer_append_string(out, ", SignedHeaders=");
  sigv4_buffer_append_string(out, signed_headers);
  sigv4_buffer_append_string(out, ", Signature=");
  sigv4_buffer_append_string(out, signature);
  return buffer_status(out);
}


/*
** A region, service or access key id: letters, digits, '-', '_', '.',
** so that it cannot break the scope or the Credential field.
*/
static int is_name(const char *text)
{
  size_t i;

  if (text == NULL || text[0] == '\0')
    return 0;
  for (i = 0; text[i] != '\0'; i++) {
    unsigned char c = (unsigned char)text[i];
    if (!is_unreserved(c) || c == '~')
      return 0;
  }
  return 1;
}


/* A method is a non-empty run of visible characters. */
static int is_method(const char *text)
{
  size_t i;

  if (text == NULL || text[0] == '\0')
    return 0;
  for (i = 0; text[i] != '\0'; i++)
    if ((unsigned char)text[i] <= ' ' || (unsigned char)text[i] >= 0x7f)
      return 0;
  return 1;
}


/* A session token travels in a header: no control character at all. */
static int is_token(const char *text)
{
  size_t i;

  if (text[0] == '\0')
    return 0;
  for (i = 0; text[i] != '\0'; i++)
    if ((unsigned char)text[i] < ' ' || (unsigned char)text[i] == 0x7f)
      return 0;
  return 1;
}


/* Refuse what cannot be signed before doing any work. */
static int check_arguments(const sigv4_request *request,
                           const sigv4_credentials *credentials,
                           const sigv4_options *options)
{
  if (!is_method(request->method) || !is_name(options->region)
      || !is_name(options->service)
      || !is_name(credentials->access_key_id)
      || credentials->secret_access_key == NULL
      || credentials->secret_access_key[0] == '\0'
      || (credentials->session_token != NULL
          && !is_token(credentials->session_token))
      || (request->path == NULL && request->path_length > 0)
      || (request->query == NULL && request->query_length > 0)
      || (request->body == NULL && request->body_length > 0)
      || (request->headers == NULL && request->header_count > 0))
    return SIGV4_EARGUMENT;
  if (options->mode == SIGV4_MODE_QUERY
      && (options->expires < 1 || options->expires > SIGV4_MAX_EXPIRES))
    return SIGV4_EEXPIRES;
  return SIGV4_OK;
}


/* The headers of the request that change how it is signed. */
typedef struct special_headers {
  const sigv4_header *host, *date, *token, *content_sha256, *authorization;
} special_headers;


/* Find Host, X-Amz-Date, the token, the payload hash and Authorization. */
static void find_special_headers(const sigv4_request *request,
                                 special_headers *found)
{
  const sigv4_header *header;
  size_t i;

  memset(found, 0, sizeof *found);
  for (i = 0; i < request->header_count; i++) {
    header = &request->headers[i];
    if (name_is(header->name, header->name_length, "host"))
      found->host = header;
    else if (name_is(header->name, header->name_length, "x-amz-date"))
      found->date = header;
    else if (name_is(header->name, header->name_length,
                     "x-amz-security-token"))
      found->token = header;
    else if (name_is(header->name, header->name_length,
                     "x-amz-content-sha256"))
      found->content_sha256 = header;
    else if (name_is(header->name, header->name_length, "authorization"))
      found->authorization = header;
  }
}


/*
** Copy a header value without surrounding blanks into 'out' (of 'size'
** bytes), or fail when it does not fit.
*/
static int copy_trimmed(const sigv4_header *header, char *out, size_t size)
{
  const char *value = header->value;
  size_t length = header->value_length;

  while (length > 0 && (value[0] == ' ' || value[0] == '\t')) {
    value++;
    length--;
  }
  while (length > 0 && (value[length - 1] == ' '
                        || value[length - 1] == '\t'))
    length--;
  if (length >= size)
    return -1;
  memcpy(out, value, length);
  out[length] = '\0';
  return 0;
}


/* "YYYYMMDDTHHMMSSZ", digits where digits belong. */
static int is_amz_date(const char *text)
{
  size_t i;

  if (strlen(text) != SIGV4_DATE_SIZE - 1 || text[8] != 'T'
      || text[15] != 'Z')
    return 0;
  for (i = 0; i < 15; i++)
    if (i != 8 && (text[i] < '0' || text[i] > '9'))
      return 0;
  return 1;
}


/*
** The signing time: the request's own X-Amz-Date when it has one, else
** options->time.  Then the payload line: the request's own
** x-amz-content-sha256 (for instance UNSIGNED-PAYLOAD) when present, else
** the hash of the body.
*/
static int prepare_date_and_payload(const sigv4_request *request,
                                    const sigv4_options *options,
                                    const special_headers *found,
                                    sigv4_result *result)
{
  int status;

  if (found->date != NULL) {
    if (copy_trimmed(found->date, result->amz_date, SIGV4_DATE_SIZE) != 0
        || !is_amz_date(result->amz_date))
      return SIGV4_EDATE;
  } else {
    status = sigv4_format_date(options->time, result->amz_date);
    if (status != SIGV4_OK)
      return status;
  }
  if (found->content_sha256 != NULL) {
    if (copy_trimmed(found->content_sha256, result->payload_hash,
                     SIGV4_HASH_HEX) != 0)
      return SIGV4_EHEADER;
    return SIGV4_OK;
  }
  return sigv4_sha256_hex(request->body != NULL ? request->body : "",
                          request->body_length, result->payload_hash);
}


/* Append a header whose name and value are NUL-terminated. */
static void add_header(sigv4_header *list, size_t *count, const char *name,
                       const char *value)
{
  list[*count].name = name;
  list[*count].name_length = strlen(name);
  list[*count].value = value;
  list[*count].value_length = strlen(value);
  (*count)++;
}


/*
** Header mode: the headers the signer adds, in the order they are
** returned; the signed ones are also appended to 'all'.  The token goes
** into the result either way, but into the signature only when it is
** not omitted.
*/
static void add_signing_headers(const sigv4_credentials *credentials,
                                const sigv4_options *options,
                                const special_headers *found,
                                sigv4_header *all, size_t *all_count,
                                sigv4_result *result)
{
  const char *token = credentials->session_token;

  if (found->date == NULL) {
    add_header(all, all_count, "X-Amz-Date", result->amz_date);
    add_header(result->headers, &result->header_count, "X-Amz-Date",
               result->amz_date);
  }
  if (token != NULL && found->token == NULL) {
    if (!options->omit_session_token)
      add_header(all, all_count, "X-Amz-Security-Token", token);
    add_header(result->headers, &result->header_count,
               "X-Amz-Security-Token", token);
  }
  if (options->sign_body && found->content_sha256 == NULL) {
    add_header(all, all_count, "x-amz-content-sha256",
               result->payload_hash);
    add_header(result->headers, &result->header_count,
               "x-amz-content-sha256", result->payload_hash);
  }
}


/* Append "&key=value" (no '&' at the start) with the value encoded. */
static void append_param(sigv4_buffer *out, const char *key,
                         const char *value)
{
  if (out->length > 0)
    sigv4_buffer_append_char(out, '&');
  sigv4_buffer_append_string(out, key);
  sigv4_buffer_append_char(out, '=');
  sigv4_uri_encode(value, strlen(value), 0, out);
}


/*
** Query mode: the query string to send, the request's own query as it
** was followed by the authentication parameters, the session token
** (signed or not) and the signature.
*/
static int build_presigned_query(const sigv4_request *request,
                                 const sigv4_param *params,
                                 const char *token, sigv4_result *result)
{
  sigv4_buffer *out = &result->query;
  size_t i;

  sigv4_buffer_append(out, request->query, request->query_length);
  for (i = 0; i < AUTH_PARAMS; i++)
    append_param(out, params[i].key, params[i].value);
  if (token != NULL)
    append_param(out, "X-Amz-Security-Token", token);
  append_param(out, "X-Amz-Signature", result->signature);
  return buffer_status(out);
}


/* Every step for one request, in order; one cleanup path. */
int sigv4_sign(const sigv4_request *request,
               const sigv4_credentials *credentials,
               const sigv4_options *options, sigv4_result *result)
{
  sigv4_buffer scope, credential, uri, query, headers, signed_headers;
  sigv4_header *all = NULL;
  sigv4_param params[AUTH_PARAMS + 1];
  size_t all_count = 0, param_count = 0;
  special_headers found;
  unsigned char key[KEY_SIZE];
  char date[9], expires[24];
  const char *token = credentials->session_token;
  int query_mode = options->mode == SIGV4_MODE_QUERY, status;

  sigv4_buffer_init(&scope);
  sigv4_buffer_init(&credential);
  sigv4_buffer_init(&uri);
  sigv4_buffer_init(&query);
  sigv4_buffer_init(&headers);
  sigv4_buffer_init(&signed_headers);
  status = check_arguments(request, credentials, options);
  if (status != SIGV4_OK)
    goto done;
  find_special_headers(request, &found);
  status = SIGV4_ENOHOST;
  if (found.host == NULL)
    goto done;
  status = SIGV4_EAUTHORIZATION; /* a second one would be sent */
  if (!query_mode && found.authorization != NULL)
    goto done;
  status = prepare_date_and_payload(request, options, &found, result);
  if (status != SIGV4_OK)
    goto done;

  status = SIGV4_ENOMEM;
  if (request->header_count > SIZE_MAX / sizeof *all - SIGV4_MAX_ADDED)
    goto done;
  all = malloc((request->header_count + SIGV4_MAX_ADDED) * sizeof *all);
  if (all == NULL)
    goto done;
  if (request->header_count > 0)
    memcpy(all, request->headers, request->header_count * sizeof *all);
  all_count = request->header_count;
  if (!query_mode)
    add_signing_headers(credentials, options, &found, all, &all_count,
                        result);
  status = sigv4_canonical_headers(all, all_count, &headers,
                                   &signed_headers);
  if (status != SIGV4_OK)
    goto done;

  status = sigv4_scope(result->amz_date, options->region, options->service,
                       &scope);
  if (status != SIGV4_OK)
    goto done;
  if (query_mode) {
    sigv4_buffer_append_string(&credential, credentials->access_key_id);
    sigv4_buffer_append_char(&credential, '/');
    sigv4_buffer_append(&credential, scope.data, scope.length);
    status = buffer_status(&credential);
    if (status != SIGV4_OK)
      goto done;
    snprintf(expires, sizeof expires, "%lld", (long long)options->expires);
    params[param_count++] = (sigv4_param){"X-Amz-Algorithm", ALGORITHM};
    params[param_count++] = (sigv4_param){"X-Amz-Credential",
                                          credential.data};
    params[param_count++] = (sigv4_param){"X-Amz-Date", result->amz_date};
    params[param_count++] = (sigv4_param){"X-Amz-Expires", expires};
    params[param_count++] = (sigv4_param){"X-Amz-SignedHeaders",
                                          signed_headers.data};
    if (token != NULL && !options->omit_session_token)
      params[param_count++] = (sigv4_param){"X-Amz-Security-Token", token};
  }
  status = sigv4_canonical_query(request->query, request->query_length,
                                 params, param_count, &query);
  if (status != SIGV4_OK)
    goto done;
  status = sigv4_canonical_uri(request->path, request->path_length,
                               options->normalize, options->double_encode,
                               &uri);
  if (status != SIGV4_OK)
    goto done;

  status = sigv4_canonical_request(request->method, uri.data, query.data,
                                   buffer_text(&headers),
                                   signed_headers.data,
                                   result->payload_hash,
                                   &result->canonical_request);
  if (status != SIGV4_OK)
    goto done;
  status = sigv4_string_to_sign(result->amz_date, scope.data,
                                result->canonical_request.data,
                                result->canonical_request.length,
                                &result->string_to_sign);
  if (status != SIGV4_OK)
    goto done;
  memcpy(date, result->amz_date, 8);
  date[8] = '\0';
  status = sigv4_signing_key(credentials->secret_access_key, date,
                             options->region, options->service, key);
  if (status == SIGV4_OK)
    status = sigv4_signature(key, result->string_to_sign.data,
                             result->string_to_sign.length,
                             result->signature);
  OPENSSL_cleanse(key, sizeof key);
  if (status != SIGV4_OK)
    goto done;

  if (query_mode) {
    status = build_presigned_query(request, params, token, result);
  } else {
    status = sigv4_authorization(credentials->access_key_id, scope.data,
                                 signed_headers.data, result->signature,
                                 &result->authorization);
    if (status == SIGV4_OK)
      add_header(result->headers, &result->header_count, "Authorization",
                 result->authorization.data);
  }
done:
  free(all);
  sigv4_buffer_free(&scope);
  sigv4_buffer_free(&credential);
  sigv4_buffer_free(&uri);
  sigv4_buffer_free(&query);
  sigv4_buffer_free(&headers);
  sigv4_buffer_free(&signed_headers);
  return status;
}


/*
** Push the raw field t[name] of the argument table and return its type;
** raw access runs no metamethod while C holds pointers into the table.
*/
static int get_field(lua_State *L, const char *name)
{
  lua_pushstring(L, name);
  return lua_rawget(L, 1);
}


/*
** A string field, left on the stack so that it stays alive; NULL when
** it is nil and optional.
*/
static const char *string_field(lua_State *L, const char *name,
                                size_t *length, int required)
{
  int type = get_field(L, name);

  if (type == LUA_TSTRING)
    return lua_tolstring(L, -1, length);
  if (type == LUA_TNIL && !required) {
    *length = 0;
    return NULL;
  }
  luaL_error(L, "sigv4.sign: field '%s' must be a string%s", name,
             required ? "" : " or nil");
  return NULL;
}


/* A boolean field, or 'otherwise' when it is nil. */
static int boolean_field(lua_State *L, const char *name, int otherwise)
{
  int type = get_field(L, name), value = otherwise;

  if (type == LUA_TBOOLEAN)
    value = lua_toboolean(L, -1);
  else if (type != LUA_TNIL)
    luaL_error(L, "sigv4.sign: field '%s' must be a boolean or nil", name);
  lua_pop(L, 1);
  return value;
}


/*
** An integer field; 'present' says whether it was given at all.
*/
static lua_Integer integer_field(lua_State *L, const char *name,
                                 lua_Integer otherwise, int *present)
{
  lua_Integer value = otherwise;
  int type = get_field(L, name), ok = 1;

  *present = type != LUA_TNIL;
  if (type == LUA_TNUMBER)
    value = lua_tointegerx(L, -1, &ok);
  if ((type != LUA_TNUMBER && type != LUA_TNIL) || !ok)
    luaL_error(L, "sigv4.sign: field '%s' must be an integer or nil", name);
  lua_pop(L, 1);
  return value;
}


/*
** A string field that C reads up to its NUL, so it must hold no other
** NUL (a secret cut short would sign with the wrong key).
*/
static const char *text_field(lua_State *L, const char *name, int required)
{
  size_t length;
  const char *text = string_field(L, name, &length, required);

  if (text != NULL && strlen(text) != length)
    luaL_error(L, "sigv4.sign: field '%s' must not contain a NUL byte",
               name);
  return text;
}


/*
** "header" (the default) or "query".
*/
static sigv4_mode mode_field(lua_State *L)
{
  int type = get_field(L, "mode");
  const char *mode = lua_tostring(L, -1);
  sigv4_mode value = SIGV4_MODE_HEADER;

  if (type == LUA_TSTRING && strcmp(mode, "query") == 0)
    value = SIGV4_MODE_QUERY;
  else if (type != LUA_TNIL
           && (type != LUA_TSTRING || strcmp(mode, "header") != 0))
    luaL_error(L, "sigv4.sign: field 'mode' must be \"header\" or "
               "\"query\"");
  lua_pop(L, 1);
  return value;
}


/*
** A region, service or access key field, checked here so that the error
** names the field.
*/
static const char *name_field(lua_State *L, const char *name)
{
  size_t length;
  const char *text = string_field(L, name, &length, 1);

  if (!is_name(text) || strlen(text) != length)
    luaL_error(L, "sigv4.sign: field '%s' must be a non-empty string of "
               "letters, digits, '-', '_' and '.'", name);
  return text;
}


/*
** Read field 'headers', a list of { name, value } pairs, into an array
** owned by a userdata (so that an error cannot leak it).  The strings
** stay on the stack.  Returns the array; sets *count and *has_date.
*/
static sigv4_header *headers_field(lua_State *L, size_t *count,
                                   int *has_date)
{
  sigv4_header *headers;
  lua_Integer i, n;
  int list;

  if (get_field(L, "headers") != LUA_TTABLE)
    luaL_error(L, "sigv4.sign: field 'headers' must be a list of "
               "{ name, value } pairs");
  list = lua_gettop(L);
  n = (lua_Integer)lua_rawlen(L, list);
  if (n == 0) {
    lua_pushnil(L);
    if (lua_next(L, list) != 0) /* keys, but no list part: a map */
      luaL_error(L, "sigv4.sign: field 'headers' must be a list of "
                 "{ name, value } pairs, not a map");
  }
  luaL_checkstack(L, (int)(n < INT_MAX / 2 - 8 ? 2 * n + 8 : INT_MAX),
                  "too many headers");
  headers = lua_newuserdatauv(L, (size_t)(n > 0 ? n : 1) * sizeof *headers,
                              0);
  *has_date = 0;
  for (i = 1; i <= n; i++) {
    sigv4_header *header = &headers[i - 1];
    if (lua_rawgeti(L, list, i) != LUA_TTABLE
        || lua_rawgeti(L, -1, 1) != LUA_TSTRING
        || lua_rawgeti(L, -2, 2) != LUA_TSTRING)
      luaL_error(L, "sigv4.sign: headers[%I] must be a { name, value } "
                 "pair of strings", i);
    header->name = lua_tolstring(L, -2, &header->name_length);
    header->value = lua_tolstring(L, -1, &header->value_length);
    lua_remove(L, -3); /* the pair; its two strings stay */
    if (name_is(header->name, header->name_length, "x-amz-date"))
      *has_date = 1;
  }
  *count = (size_t)n;
  return headers;
}


/*
** Push the fields of a successful result as the table sign returns.
*/
static void push_result(lua_State *L, const sigv4_result *result,
                        int query_mode)
{
  size_t i;

  lua_createtable(L, 0, 6);
  lua_createtable(L, (int)result->header_count, 0);
  for (i = 0; i < result->header_count; i++) {
    lua_createtable(L, 2, 0);
    lua_pushlstring(L, result->headers[i].name,
                    result->headers[i].name_length);
    lua_rawseti(L, -2, 1);
    lua_pushlstring(L, result->headers[i].value,
                    result->headers[i].value_length);
    lua_rawseti(L, -2, 2);
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  lua_setfield(L, -2, "headers");
  lua_pushlstring(L, result->canonical_request.data,
                  result->canonical_request.length);
  lua_setfield(L, -2, "canonical_request");
  lua_pushlstring(L, result->string_to_sign.data,
                  result->string_to_sign.length);
  lua_setfield(L, -2, "string_to_sign");
  lua_pushstring(L, result->signature);
  lua_setfield(L, -2, "signature");
  if (query_mode) {
    lua_pushlstring(L, result->query.data, result->query.length);
    lua_setfield(L, -2, "query");
  } else {
    lua_pushlstring(L, result->authorization.data,
                    result->authorization.length);
    lua_setfield(L, -2, "authorization");
  }
}


/*
** sign{ method, path, query, headers, body, access_key, secret_key,
** session_token, region, service, time, mode, expires, normalize,
** double_encode, sign_body, omit_session_token } -> result table
*/
static int sigv4_lua_sign(lua_State *L)
{
  sigv4_request request;
  sigv4_credentials credentials;
  sigv4_options options;
  sigv4_result *result;
  int has_date, present, status;

  luaL_checktype(L, 1, LUA_TTABLE);
  lua_settop(L, 1);
  luaL_checkstack(L, 24, "sigv4.sign");
  request.method = text_field(L, "method", 1);
  request.path = string_field(L, "path", &request.path_length, 1);
  request.query = string_field(L, "query", &request.query_length, 0);
  request.body = string_field(L, "body", &request.body_length, 0);
  credentials.access_key_id = name_field(L, "access_key");
  credentials.secret_access_key = text_field(L, "secret_key", 1);
  credentials.session_token = text_field(L, "session_token", 0);
  if (!is_method(request.method))
    return luaL_error(L, "sigv4.sign: field 'method' must be a non-empty "
                      "string of visible characters");
  if (credentials.secret_access_key[0] == '\0')
    return luaL_error(L, "sigv4.sign: field 'secret_key' must be a "
                      "non-empty string");
  if (credentials.session_token != NULL
      && !is_token(credentials.session_token))
    return luaL_error(L, "sigv4.sign: field 'session_token' must be nil or "
                      "a non-empty string without control characters");
  options.region = name_field(L, "region");
  options.service = name_field(L, "service");
  options.mode = mode_field(L);
  options.expires = integer_field(L, "expires", 3600, &present);
  options.normalize = boolean_field(L, "normalize", 1);
  options.double_encode = boolean_field(L, "double_encode", 1);
  options.sign_body = boolean_field(L, "sign_body", 0);
  options.omit_session_token = boolean_field(L, "omit_session_token", 0);
  request.headers = headers_field(L, &request.header_count, &has_date);
  options.time = integer_field(L, "time", 0, &present);
  if (!present && !has_date)
    return luaL_error(L, "sigv4.sign: field 'time' must be an integer "
                      "(epoch seconds) unless the request has X-Amz-Date");

  result = lua_newuserdatauv(L, sizeof *result, 0);
  sigv4_result_init(result);
  luaL_setmetatable(L, RESULT_METATABLE); /* frees it if a push fails */
  status = sigv4_sign(&request, &credentials, &options, result);
  if (status != SIGV4_OK) {
    sigv4_result_free(result);
    return luaL_error(L, "sigv4.sign: %s", sigv4_strerror(status));
  }
  push_result(L, result, options.mode == SIGV4_MODE_QUERY);
  sigv4_result_free(result); /* clear it now rather than at collection */
  return 1;
}


/*
** __gc of the result userdata: a second free is harmless.
*/
static int sigv4_lua_result_gc(lua_State *L)
{
  sigv4_result_free(luaL_checkudata(L, 1, RESULT_METATABLE));
  return 0;
}


/*
** signing_key(secret, "YYYYMMDD", region, service) -> 64 hex digits
*/
static int sigv4_lua_signing_key(lua_State *L)
{
  const char *secret = luaL_checkstring(L, 1);
  const char *date = luaL_checkstring(L, 2);
  const char *region = luaL_checkstring(L, 3);
  const char *service = luaL_checkstring(L, 4);
  unsigned char key[KEY_SIZE];
  char hex[2 * KEY_SIZE + 1];
  int status;

  luaL_argcheck(L, strlen(date) == 8 && strspn(date, "0123456789") == 8,
                2, "the date must be YYYYMMDD");
  status = sigv4_signing_key(secret, date, region, service, key);
  if (status == SIGV4_OK)
    hex_encode(key, sizeof key, hex);
  OPENSSL_cleanse(key, sizeof key);
  if (status != SIGV4_OK)
    return luaL_error(L, "sigv4.signing_key: %s", sigv4_strerror(status));
  lua_pushstring(L, hex);
  OPENSSL_cleanse(hex, sizeof hex);
  return 1;
}


/*
** sha256_hex(data) -> 64 lower-case hex digits
*/
static int sigv4_lua_sha256_hex(lua_State *L)
{
  size_t length;
  const char *data = luaL_checklstring(L, 1, &length);
  char hex[SIGV4_HASH_HEX];

  if (sigv4_sha256_hex(data, length, hex) != SIGV4_OK)
    return luaL_error(L, "sigv4.sha256_hex: %s",
                      sigv4_strerror(SIGV4_ECRYPTO));
  lua_pushstring(L, hex);
  return 1;
}


/* The module table; also registers the metatable of sign's results. */
int luaopen_host_sigv4(lua_State *L)
{
  static const luaL_Reg functions[] = {
    {"sign", sigv4_lua_sign},
    {"signing_key", sigv4_lua_signing_key},
    {"sha256_hex", sigv4_lua_sha256_hex},
    {NULL, NULL}
  };

  if (luaL_newmetatable(L, RESULT_METATABLE)) {
    lua_pushcfunction(L, sigv4_lua_result_gc);
    lua_setfield(L, -2, "__gc");
  }
  lua_pop(L, 1); /* remove the metatable */
  luaL_newlib(L, functions);
  return 1;
}
