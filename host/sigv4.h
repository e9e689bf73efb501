/*
** sigv4.h: AWS Signature Version 4 (AWS4-HMAC-SHA256), one function per
** step, and the Lua module "host.sigv4" (sign, signing_key, sha256_hex).
**
** The steps, in the order sigv4_sign runs them:
**   canonical URI, canonical query, canonical headers
**     -> sigv4_canonical_request
**     -> sigv4_string_to_sign (with sigv4_scope)
**     -> sigv4_signing_key -> sigv4_signature
**     -> sigv4_authorization (header mode) or the presigned query string.
** Every function returns SIGV4_OK (0) or one of the SIGV4_E* codes below;
** sigv4_strerror names them.  Nothing here prints anything.
*/
#ifndef SQ_SIGV4_H
#define SQ_SIGV4_H

#include <stddef.h>
#include <stdint.h>
#include <lua.h>

enum {
  SIGV4_OK = 0,
  SIGV4_ENOMEM,      /* out of memory */
  SIGV4_EARGUMENT,   /* a region, service, key or method that cannot be used */
  SIGV4_EHEADER,     /* a header name or value that cannot be sent */
  SIGV4_ENOHOST,     /* the request has no Host header */
  SIGV4_EAUTHORIZATION, /* header mode, and Authorization already present */
  SIGV4_EDATE,       /* time out of range, or a malformed X-Amz-Date */
  SIGV4_EEXPIRES,    /* query mode, expires not within 1..604800 */
  SIGV4_ECRYPTO      /* OpenSSL failed */
};

#define SIGV4_HASH_HEX 65   /* 64 hex digits and a NUL */
#define SIGV4_DATE_SIZE 17  /* "YYYYMMDDTHHMMSSZ" and a NUL */
#define SIGV4_MAX_EXPIRES 604800 /* seven days, the longest AWS accepts */

/*
** A growable byte buffer with one owner.  'data' is always NUL-terminated
** once anything was appended.  An allocation failure is sticky: later
** appends do nothing and 'failed' stays set, so a chain of appends needs
** one check at its end.  sigv4_buffer_free clears the bytes before
** releasing them, since buffers may hold secret material.
*/
typedef struct sigv4_buffer {
  char *data;
  size_t length;
  size_t capacity;
  int failed;
} sigv4_buffer;

void sigv4_buffer_init(sigv4_buffer *buffer);
void sigv4_buffer_append(sigv4_buffer *buffer, const void *data,
                         size_t length);
void sigv4_buffer_append_string(sigv4_buffer *buffer, const char *text);
void sigv4_buffer_append_char(sigv4_buffer *buffer, char c);
void sigv4_buffer_free(sigv4_buffer *buffer);

/* One header as it will be sent; the strings need not be NUL-terminated. */
typedef struct sigv4_header {
  const char *name;
  size_t name_length;
  const char *value;
  size_t value_length;
} sigv4_header;

/* A query parameter in plain (decoded) form, NUL-terminated. */
typedef struct sigv4_param {
  const char *key;
  const char *value;
} sigv4_param;

typedef enum sigv4_mode {
  SIGV4_MODE_HEADER = 0,  /* Authorization header */
  SIGV4_MODE_QUERY = 1    /* presigned URL: auth in the query string */
} sigv4_mode;

/*
** The request to sign.  'path' and 'query' are exactly as they go on the
** wire (the query without its '?').  Every header listed is signed except
** Connection, Expect, User-Agent and X-Amzn-Trace-Id, which proxies and
** HTTP libraries are free to change.
*/
typedef struct sigv4_request {
  const char *method;
  const char *path;
  size_t path_length;
  const char *query;
  size_t query_length;
  const sigv4_header *headers;
  size_t header_count;
  const char *body;
  size_t body_length;
} sigv4_request;

typedef struct sigv4_credentials {
  const char *access_key_id;
  const char *secret_access_key;
  const char *session_token;   /* NULL when there is none */
} sigv4_credentials;

/*
** How to sign.  When the request carries an X-Amz-Date header its value
** is the signing time and 'time' is not used.  'double_encode' is true
** for every service but S3; 'normalize' likewise.  'sign_body' adds and
** signs x-amz-content-sha256 (header mode).  'omit_session_token' adds
** the token after signing instead of signing it.
*/
typedef struct sigv4_options {
  const char *region;
  const char *service;
  int64_t time;
  sigv4_mode mode;
  int64_t expires;
  int normalize;
  int double_encode;
  int sign_body;
  int omit_session_token;
} sigv4_options;

#define SIGV4_MAX_ADDED 4

/*
** What sigv4_sign produces.  Header mode fills 'authorization' and
** 'headers' (the headers to add to the request, in order: X-Amz-Date
** unless present, X-Amz-Security-Token, x-amz-content-sha256,
** Authorization); query mode fills 'query', the complete query string to
** send.  Added header values point into this result, except the session
** token, which points into the credentials.  sigv4_result_free clears it.
*/
typedef struct sigv4_result {
  sigv4_buffer canonical_request;
  sigv4_buffer string_to_sign;
  sigv4_buffer authorization;
  sigv4_buffer query;
  sigv4_header headers[SIGV4_MAX_ADDED];
  size_t header_count;
  char signature[SIGV4_HASH_HEX];
  char amz_date[SIGV4_DATE_SIZE];
  char payload_hash[SIGV4_HASH_HEX];
} sigv4_result;

void sigv4_result_init(sigv4_result *result);
void sigv4_result_free(sigv4_result *result);

/* A message for a SIGV4_E* code, never NULL. */
const char *sigv4_strerror(int code);

/* Lower-case hex SHA-256 of 'length' bytes. */
int sigv4_sha256_hex(const void *data, size_t length,
                     char out[SIGV4_HASH_HEX]);

/*
** Append the SigV4 URI encoding of the bytes: everything but
** A-Z a-z 0-9 - . _ ~ becomes %XX (upper-case hex), and '/' too unless
** 'keep_slash'.
*/
void sigv4_uri_encode(const char *data, size_t length, int keep_slash,
                      sigv4_buffer *out);

/* Epoch seconds to "YYYYMMDDTHHMMSSZ" (years 1 to 9999). */
int sigv4_format_date(int64_t time, char out[SIGV4_DATE_SIZE]);

/*
** The canonical URI: the path, dot segments removed and runs of '/'
** collapsed when 'normalize', then URI-encoded again with '/' kept when
** 'double_encode', or decoded and re-encoded once (S3) when not.  An empty
** path is "/".
*/
int sigv4_canonical_uri(const char *path, size_t length, int normalize,
                        int double_encode, sigv4_buffer *out);

/*
** The canonical query string: every key and value of the raw 'query'
** decoded and re-encoded, the plain 'extra' parameters encoded, all pairs
** sorted by key then value, byte-wise, joined with '&'.
*/
int sigv4_canonical_query(const char *query, size_t length,
                          const sigv4_param *extra, size_t extra_count,
                          sigv4_buffer *out);

/*
** The canonical headers block (one "name:value\n" per distinct name,
** names lower-cased and sorted, values trimmed with inner runs of
** blanks collapsed, repeated names joined with ',' in request order) and
** the signed header list ("host;x-amz-date").
*/
int sigv4_canonical_headers(const sigv4_header *headers, size_t count,
                            sigv4_buffer *canonical,
                            sigv4_buffer *signed_headers);

/* Join the six parts of the canonical request with newlines. */
int sigv4_canonical_request(const char *method, const char *uri,
                            const char *query, const char *headers,
                            const char *signed_headers,
                            const char *payload_hash, sigv4_buffer *out);

/* The credential scope "YYYYMMDD/region/service/aws4_request". */
int sigv4_scope(const char *amz_date, const char *region,
                const char *service, sigv4_buffer *out);

/* "AWS4-HMAC-SHA256\n<date>\n<scope>\n<hex sha-256 of the request>". */
int sigv4_string_to_sign(const char *amz_date, const char *scope,
                         const char *canonical_request, size_t length,
                         sigv4_buffer *out);

/* The HMAC chain from "AWS4" + secret down to "aws4_request". */
int sigv4_signing_key(const char *secret, const char *date,
                      const char *region, const char *service,
                      unsigned char out[32]);

/* Lower-case hex HMAC-SHA256 of the string to sign under the key. */
int sigv4_signature(const unsigned char key[32], const char *string_to_sign,
                    size_t length, char out[SIGV4_HASH_HEX]);

/* "AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...". */
int sigv4_authorization(const char *access_key_id, const char *scope,
                        const char *signed_headers, const char *signature,
                        sigv4_buffer *out);

/*
** Run every step for one request.  'result' must have been initialised
** with sigv4_result_init; it is filled on success and must be freed with
** sigv4_result_free in every case.
*/
int sigv4_sign(const sigv4_request *request,
               const sigv4_credentials *credentials,
               const sigv4_options *options, sigv4_result *result);

int luaopen_host_sigv4(lua_State *L);

#endif
