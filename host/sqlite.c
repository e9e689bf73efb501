/*
** sqlite.c: the offline engine's database (Lua module "host.sqlite").
**
** An in-memory SQLite database that runs the SQLite text the Lua
** translator (sq.sql) makes out of Athena SQL.  Values keep these forms:
** timestamps are text 'YYYY-MM-DD HH:MM:SS.mmm' in UTC, dates
** 'YYYY-MM-DD', booleans 0 or 1, and arrays, maps and structs JSON text.
** The file holds:
**   - a bulk loader: JSON records, one a line or CloudTrail's
**     {"Records": [...]}, plain or gzip, normalized to a declared shape
**     (struct keys matched without regard to case, as Hive's SerDe does)
**     and inserted with one prepared statement;
**   - the functions Athena has and SQLite lacks (regular expressions,
**     dates in UTC, JSON paths, casts, split, approx_percentile);
**   - cursors that hand rows back page by page.
*/
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <regex.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>

#include <lauxlib.h>
#include <lua.h>
#include <sqlite3.h>
#include <zlib.h>

#include "clock.h"
#include "sqlite.h"

#define DB_META      "host.sqlite.db"
#define CURSOR_META  "host.sqlite.cursor"
#define LOADER_META  "host.sqlite.loader"
#define MAX_DEPTH    256
#define JSON_SUBTYPE 74          /* SQLite's JSON1 marks JSON text with 'J' */
#define MS_PER_DAY   INT64_C(86400000)


/* ---------------------------------------------------------------------
** Growable byte buffers
** ------------------------------------------------------------------- */

typedef struct {
  char *data;
  size_t len;
  size_t cap;
  int nomem;
} sbuf;


/*
** Make room for 'extra' more bytes plus a terminating zero.
*/
static int sbuf_grow(sbuf *b, size_t extra)
{
  size_t need = b->len + extra + 1, cap;
  char *data;

  if (need <= b->cap)
    return 0;
  if (b->nomem)
    return -1;
  cap = b->cap ? b->cap : 256;
  while (cap < need)
    cap *= 2;
  data = realloc(b->data, cap);
  if (data == NULL) {
    b->nomem = 1;
    return -1;
  }
  b->data = data;
  b->cap = cap;
  return 0;
}


/* Append n bytes (nothing once memory has run out). */
static void sbuf_add(sbuf *b, const char *s, size_t n)
{
  if (sbuf_grow(b, n) != 0)
    return;
  memcpy(b->data + b->len, s, n);
  b->len += n;
  b->data[b->len] = '\0';
}


/* Append one byte. */
static void sbuf_addc(sbuf *b, char c)
{
  sbuf_add(b, &c, 1);
}


/* Append a C string. */
static void sbuf_adds(sbuf *b, const char *s)
{
  sbuf_add(b, s, strlen(s));
}


/* Release the buffer and make it empty again. */
static void sbuf_free(sbuf *b)
{
  free(b->data);
  b->data = NULL;
  b->len = b->cap = 0;
  b->nomem = 0;
}


/* ---------------------------------------------------------------------
** JSON scanning: no tree is built; values are skipped, copied or
** converted straight from the text.
** ------------------------------------------------------------------- */

typedef struct {
  const char *p;
  const char *end;
  int depth;
} jscan;


/* Skip JSON whitespace. */
static void js_ws(jscan *s)
{
  while (s->p < s->end && (*s->p == ' ' || *s->p == '\n' || *s->p == '\r'
                           || *s->p == '\t'))
    s->p++;
}


/*
** Move past a string token that starts at s->p (on the quote).
** Returns 0, or -1 when the string never ends.
*/
static int js_string_end(jscan *s)
{
  const char *p = s->p + 1;

  while (p < s->end) {
    const char *q = memchr(p, '"', (size_t)(s->end - p));
    const char *b;
    size_t backslashes = 0;

    if (q == NULL)
      return -1;
    for (b = q; b > p && b[-1] == '\\'; b--)
      backslashes++;
    if (backslashes % 2 == 0) {
      s->p = q + 1;
      return 0;
    }
    p = q + 1;
  }
  return -1;
}


/* The value of a hexadecimal digit, or -1. */
static int hex_value(int c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}


/* Read the four hexadecimal digits of a \uXXXX escape. */
static int read_hex4(const char *p, const char *end, unsigned *value)
{
  int i, h;

  if (end - p < 4)
    return -1;
  *value = 0;
  for (i = 0; i < 4; i++) {
    h = hex_value((unsigned char)p[i]);
    if (h < 0)
      return -1;
    *value = *value * 16 + (unsigned)h;
  }
  return 0;
}


/* Append a code point as UTF-8. */
static void put_utf8(sbuf *out, unsigned cp)
{
  char u[4];

  if (cp < 0x80) {
    sbuf_addc(out, (char)cp);
  } else if (cp < 0x800) {
    u[0] = (char)(0xC0 | (cp >> 6));
    u[1] = (char)(0x80 | (cp & 0x3F));
    sbuf_add(out, u, 2);
  } else if (cp < 0x10000) {
    u[0] = (char)(0xE0 | (cp >> 12));
    u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
    u[2] = (char)(0x80 | (cp & 0x3F));
    sbuf_add(out, u, 3);
  } else {
    u[0] = (char)(0xF0 | (cp >> 18));
    u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    u[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    u[3] = (char)(0x80 | (cp & 0x3F));
    sbuf_add(out, u, 4);
  }
}


/*
** Decode the string token at s->p into 'out' as UTF-8 and move past it.
*/
static int js_string_decode(jscan *s, sbuf *out)
{
  const char *p = s->p + 1, *run = p;

  while (p < s->end) {
    unsigned cp, low;

    if (*p == '"') {
      sbuf_add(out, run, (size_t)(p - run));
      s->p = p + 1;
      return 0;
    }
    if (*p != '\\') {
      p++;
      continue;
    }
    sbuf_add(out, run, (size_t)(p - run));
    if (++p >= s->end)
      return -1;
    switch (*p) {
    case '"': case '\\': case '/': sbuf_addc(out, *p); break;
    case 'b': sbuf_addc(out, '\b'); break;
    case 'f': sbuf_addc(out, '\f'); break;
    case 'n': sbuf_addc(out, '\n'); break;
    case 'r': sbuf_addc(out, '\r'); break;
    case 't': sbuf_addc(out, '\t'); break;
    case 'u':
      if (read_hex4(p + 1, s->end, &cp) != 0)
        return -1;
      p += 4;
      if (cp >= 0xD800 && cp < 0xDC00 && s->end - p > 6 && p[1] == '\\'
          && p[2] == 'u' && read_hex4(p + 3, s->end, &low) == 0
          && low >= 0xDC00 && low < 0xE000) {
        cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
        p += 6;
      }
      put_utf8(out, cp);
      break;
    default:
      return -1;
    }
    run = ++p;
  }
  return -1;
}


/*
** Move past a number token; returns 0, or -1 if it is not one.
*/
static int js_number_end(jscan *s)
{
  const char *p = s->p;

  if (p < s->end && *p == '-')
    p++;
  if (p >= s->end || !isdigit((unsigned char)*p))
    return -1;
  while (p < s->end && isdigit((unsigned char)*p))
    p++;
  if (p < s->end && *p == '.') {
    p++;
    if (p >= s->end || !isdigit((unsigned char)*p))
      return -1;
    while (p < s->end && isdigit((unsigned char)*p))
      p++;
  }
  if (p < s->end && (*p == 'e' || *p == 'E')) {
    p++;
    if (p < s->end && (*p == '+' || *p == '-'))
      p++;
    if (p >= s->end || !isdigit((unsigned char)*p))
      return -1;
    while (p < s->end && isdigit((unsigned char)*p))
      p++;
  }
  s->p = p;
  return 0;
}


/* Move past the literal word (true, false, null, a key) if it is there. */
static int js_word(jscan *s, const char *word)
{
  size_t n = strlen(word);

  if ((size_t)(s->end - s->p) < n || memcmp(s->p, word, n) != 0)
    return -1;
  s->p += n;
  return 0;
}


/*
** Skip one value (whitespace around it too).  Returns 0 or -1.
*/
static int js_skip(jscan *s)
{
  js_ws(s);
  if (s->p >= s->end)
    return -1;
  switch (*s->p) {
  case '"':
    if (js_string_end(s) != 0)
      return -1;
    break;
  case '{': case '[': {
    char close = *s->p == '{' ? '}' : ']';
    int object = close == '}';

    if (++s->depth > MAX_DEPTH)
      return -1;
    s->p++;
    js_ws(s);
    if (s->p < s->end && *s->p == close) {
      s->p++;
      s->depth--;
      break;
    }
    for (;;) {
      if (object) {
        js_ws(s);
        if (s->p >= s->end || *s->p != '"' || js_string_end(s) != 0)
          return -1;
        js_ws(s);
        if (s->p >= s->end || *s->p++ != ':')
          return -1;
      }
      if (js_skip(s) != 0 || s->p >= s->end)
        return -1;
      if (*s->p == ',') {
        s->p++;
        continue;
      }
      if (*s->p++ != close)
        return -1;
      break;
    }
    s->depth--;
    break;
  }
  case 't':
    return js_word(s, "true") == 0 ? (js_ws(s), 0) : -1;
  case 'f':
    return js_word(s, "false") == 0 ? (js_ws(s), 0) : -1;
  case 'n':
    return js_word(s, "null") == 0 ? (js_ws(s), 0) : -1;
  default:
    if (js_number_end(s) != 0)
      return -1;
  }
  js_ws(s);
  return 0;
}


/*
** Copy one value into 'out' without insignificant whitespace.
*/
static int js_compact(jscan *s, sbuf *out)
{
  const char *start;

  js_ws(s);
  if (s->p >= s->end)
    return -1;
  if (*s->p == '{' || *s->p == '[') {
    char close = *s->p == '{' ? '}' : ']';
    int object = close == '}';

    if (++s->depth > MAX_DEPTH)
      return -1;
    sbuf_addc(out, *s->p++);
    js_ws(s);
    if (s->p < s->end && *s->p == close) {
      sbuf_addc(out, *s->p++);
      s->depth--;
      js_ws(s);
      return 0;
    }
    for (;;) {
      if (object) {
        js_ws(s);
        start = s->p;
        if (s->p >= s->end || *s->p != '"' || js_string_end(s) != 0)
          return -1;
        sbuf_add(out, start, (size_t)(s->p - start));
        js_ws(s);
        if (s->p >= s->end || *s->p++ != ':')
          return -1;
        sbuf_addc(out, ':');
      }
      if (js_compact(s, out) != 0 || s->p >= s->end)
        return -1;
      if (*s->p == ',') {
        sbuf_addc(out, *s->p++);
        continue;
      }
      if (*s->p != close)
        return -1;
      sbuf_addc(out, *s->p++);
      break;
    }
    s->depth--;
    js_ws(s);
    return 0;
  }
  start = s->p;
  if (js_skip(s) != 0)
    return -1;
  while (s->p > start && isspace((unsigned char)s->p[-1]))
    s->p--;                            /* keep the token, not the blanks */
  sbuf_add(out, start, (size_t)(s->p - start));
  js_ws(s);
  return 0;
}


/* Append 'n' bytes as a JSON string literal. */
static void json_quote(sbuf *out, const char *s, size_t n)
{
  static const char hex[] = "0123456789abcdef";
  size_t i, run = 0;

  sbuf_addc(out, '"');
  for (i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];

    if (c >= 0x20 && c != '"' && c != '\\')
      continue;
    sbuf_add(out, s + run, i - run);
    run = i + 1;
    if (c == '"' || c == '\\') {
      sbuf_addc(out, '\\');
      sbuf_addc(out, (char)c);
    } else if (c == '\n') {
      sbuf_add(out, "\\n", 2);
    } else if (c == '\t') {
      sbuf_add(out, "\\t", 2);
    } else if (c == '\r') {
      sbuf_add(out, "\\r", 2);
    } else {
      char u[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};

      sbuf_add(out, u, 6);
    }
  }
  sbuf_add(out, s + run, n - run);
  sbuf_addc(out, '"');
}


/* ---------------------------------------------------------------------
** Numbers and times
** ------------------------------------------------------------------- */

/* Parse a whole text as a decimal integer; returns 0 or -1. */
static int parse_int64(const char *s, size_t n, int64_t *value)
{
  uint64_t v = 0, limit = (uint64_t)INT64_MAX;
  int negative = 0;
  size_t i = 0;

  if (n > 0 && (s[0] == '-' || s[0] == '+')) {
    negative = s[0] == '-';
    limit += (uint64_t)negative;
    i = 1;
  }
  if (i >= n)
    return -1;
  for (; i < n; i++) {
    if (!isdigit((unsigned char)s[i]))
      return -1;
    if (v > (limit - (uint64_t)(s[i] - '0')) / 10)
      return -1;
    v = v * 10 + (uint64_t)(s[i] - '0');
  }
  *value = negative ? (int64_t)(0 - v) : (int64_t)v;
  return 0;
}


/* Parse a whole text as a decimal floating-point number. */
static int parse_double(const char *s, size_t n, double *value)
{
  char text[64], *end;
  size_t i;

  if (n == 0 || n >= sizeof text)
    return -1;
  for (i = 0; i < n; i++)
    if (!isdigit((unsigned char)s[i]) && strchr("+-.eE", s[i]) == NULL)
      return -1;
  memcpy(text, s, n);
  text[n] = '\0';
  errno = 0;
  *value = strtod(text, &end);
  return *end == '\0' && errno != ERANGE ? 0 : -1;
}


/* Division rounding towards minus infinity. */
static int64_t floor_div(int64_t a, int64_t b)
{
  int64_t q = a / b;

  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}


/* Civil date of a day count since 1970-01-01 (proleptic Gregorian). */
static void civil_from_days(int64_t days, int *year, int *month, int *day)
{
  int64_t z = days + 719468, era, doe, yoe, doy, mp;

  era = floor_div(z, 146097);
  doe = z - era * 146097;                             /* [0, 146096] */
  yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  doy = doe - (365 * yoe + yoe / 4 - yoe / 100);      /* [0, 365] */
  mp = (5 * doy + 2) / 153;
  *day = (int)(doy - (153 * mp + 2) / 5 + 1);
  *month = (int)(mp < 10 ? mp + 3 : mp - 9);
  *year = (int)(yoe + era * 400 + (*month <= 2));
}


typedef struct {
  int year, month, day, hour, minute, second, millis;
} civil;


/* Break epoch milliseconds into UTC calendar fields. */
static void civil_from_ms(int64_t ms, civil *c)
{
  int64_t days = floor_div(ms, MS_PER_DAY), rest = ms - days * MS_PER_DAY;

  civil_from_days(days, &c->year, &c->month, &c->day);
  c->hour = (int)(rest / 3600000);
  c->minute = (int)(rest / 60000 % 60);
  c->second = (int)(rest / 1000 % 60);
  c->millis = (int)(rest % 1000);
}


/* Epoch milliseconds of UTC calendar fields. */
static int64_t ms_from_civil(const civil *c)
{
  return clock_days_from_civil(c->year, (unsigned)c->month,
                               (unsigned)c->day) * MS_PER_DAY
         + (int64_t)c->hour * 3600000 + (int64_t)c->minute * 60000
         + (int64_t)c->second * 1000 + c->millis;
}


/* Is the (proleptic Gregorian) year a leap year? */
static int is_leap(int year)
{
  return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}


/* Days in a month of a year. */
static int month_days(int year, int month)
{
  static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

  return month == 2 && is_leap(year) ? 29 : days[month - 1];
}


/* Read exactly 'width' digits. */
static int digits(const char *s, const char *end, int width, int *value)
{
  int i;

  if (end - s < width)
    return -1;
  *value = 0;
  for (i = 0; i < width; i++) {
    if (!isdigit((unsigned char)s[i]))
      return -1;
    *value = *value * 10 + (s[i] - '0');
  }
  return 0;
}


/*
** Parse a timestamp whose date and time are separated by one of the
** characters of 'separators' ("T" for ISO 8601, " " for SQL).
*/
static int parse_timestamp_as(const char *text, size_t length, int64_t *ms,
                              const char *separators, int64_t *zone_offset)
{
  const char *p = text, *end = text + length;
  civil c = {0, 0, 0, 0, 0, 0, 0};
  int64_t offset = 0;

  while (end > p && end[-1] == ' ')
    end--;
  if (digits(p, end, 4, &c.year) != 0 || end - p < 10 || p[4] != '-'
      || digits(p + 5, end, 2, &c.month) != 0 || p[7] != '-'
      || digits(p + 8, end, 2, &c.day) != 0)
    return -1;
  p += 10;
  if (c.month < 1 || c.month > 12 || c.day < 1
      || c.day > month_days(c.year, c.month))
    return -1;
  if (p < end && strchr(separators, *p) != NULL && *p != '\0' && end - p >= 6
      && isdigit((unsigned char)p[1])) {
    if (digits(p + 1, end, 2, &c.hour) != 0 || p[3] != ':'
        || digits(p + 4, end, 2, &c.minute) != 0)
      return -1;
    p += 6;
    if (p < end && *p == ':') {
      if (digits(p + 1, end, 2, &c.second) != 0)
        return -1;
      p += 3;
      if (p < end && *p == '.') {
        int scale = 100;

        if (++p >= end || !isdigit((unsigned char)*p))
          return -1;
        for (; p < end && isdigit((unsigned char)*p); p++, scale /= 10)
          c.millis += (*p - '0') * scale;
      }
    }
    if (c.hour > 23 || c.minute > 59 || c.second > 59)
      return -1;
  }
  while (p < end && *p == ' ')
    p++;
  if (p < end) {
    int hours = 0, minutes = 0, sign;

    if ((end - p == 1 && *p == 'Z') || (end - p == 3
                                        && memcmp(p, "UTC", 3) == 0)) {
      p = end;
    } else if (*p == '+' || *p == '-') {
      sign = *p++ == '-' ? -1 : 1;
      if (digits(p, end, 2, &hours) != 0)
        return -1;
      p += 2;
      if (p < end && *p == ':')
        p++;
      if (p < end && (digits(p, end, 2, &minutes) != 0 || (p += 2) != end))
        return -1;
      offset = sign * ((int64_t)hours * 3600000 + (int64_t)minutes * 60000);
    } else {
      return -1;
    }
  }
  *ms = ms_from_civil(&c) - offset;
  if (zone_offset != NULL)
    *zone_offset = offset;
  return 0;
}


/* Write 'width' digits of 'value' (zero-padded) at 'out'. */
static void put_digits(char *out, int value, int width)
{
  while (width-- > 0) {
    out[width] = (char)('0' + value % 10);
    value /= 10;
  }
}


/* Either separator: see sqlite.h. */
int sqlite_parse_timestamp(const char *text, size_t length, int64_t *ms)
{
  return parse_timestamp_as(text, length, ms, "T ", NULL);
}


/* See sqlite.h: years outside 0-9999 take the slow path. */
void sqlite_format_timestamp(int64_t ms, char out[32])
{
  civil c;

  civil_from_ms(ms, &c);
  if (c.year < 0 || c.year > 9999) {
    snprintf(out, 32, "%04d-%02d-%02d %02d:%02d:%02d.%03d", c.year, c.month,
             c.day, c.hour, c.minute, c.second, c.millis);
    return;
  }
  memcpy(out, "0000-00-00 00:00:00.000", 24);
  put_digits(out, c.year, 4);
  put_digits(out + 5, c.month, 2);
  put_digits(out + 8, c.day, 2);
  put_digits(out + 11, c.hour, 2);
  put_digits(out + 14, c.minute, 2);
  put_digits(out + 17, c.second, 2);
  put_digits(out + 20, c.millis, 3);
}


/*
** Java's Double.toString: plain notation from 10^-3 to 10^7, otherwise
** d.dddE[-]n; always at least one digit after the point; the shortest
** digits that read back as the same double.
*/
void sqlite_format_double(double value, char out[40])
{
  char sci[40], mantissa[24];
  int precision, exponent, n = 0, i;
  const char *p;
  char *q;

  if (isnan(value)) {
    strcpy(out, "NaN");
    return;
  }
  if (isinf(value)) {
    strcpy(out, value > 0 ? "Infinity" : "-Infinity");
    return;
  }
  if (value == 0) {
    strcpy(out, signbit(value) ? "-0.0" : "0.0");
    return;
  }
  for (precision = 0; precision < 17; precision++) {
    snprintf(sci, sizeof sci, "%.*e", precision, value);
    if (strtod(sci, NULL) == value)
      break;
  }
  p = sci;
  q = out;
  if (*p == '-')
    *q++ = *p++;
  for (; *p != 'e'; p++)
    if (*p != '.')
      mantissa[n++] = *p;
  mantissa[n] = '\0';
  exponent = atoi(p + 1);
  if (exponent >= -3 && exponent < 7) {
    if (exponent < 0) {
      *q++ = '0';
      *q++ = '.';
      for (i = -1; i > exponent; i--)
        *q++ = '0';
      for (i = 0; i < n; i++)
        *q++ = mantissa[i];
    } else {
      for (i = 0; i <= exponent; i++)
        *q++ = i < n ? mantissa[i] : '0';
      *q++ = '.';
      if (n > exponent + 1)
        for (i = exponent + 1; i < n; i++)
          *q++ = mantissa[i];
      else
        *q++ = '0';
    }
    *q = '\0';
    return;
  }
  *q++ = mantissa[0];
  *q++ = '.';
  if (n > 1)
    for (i = 1; i < n; i++)
      *q++ = mantissa[i];
  else
    *q++ = '0';
  snprintf(q, 12, "E%d", exponent);
}


/* ---------------------------------------------------------------------
** Shapes: the declared type of a column, used to normalize JSON input
** the way Hive's JSON SerDe reads it into Athena's types.
** ------------------------------------------------------------------- */

enum {
  K_ANY, K_VARCHAR, K_BIGINT, K_DOUBLE, K_BOOLEAN, K_TIMESTAMP, K_DATE,
  K_ARRAY, K_MAP, K_STRUCT
};

typedef struct shape {
  int kind;
  int nfields;
  char **names;                 /* struct: declared field names */
  size_t *lengths;
  struct shape **fields;        /* struct fields; array/map: fields[0] */
} shape;


/* Release a shape and everything under it. */
static void shape_free(shape *s)
{
  int i;

  if (s == NULL)
    return;
  for (i = 0; i < s->nfields; i++) {
    if (s->names != NULL)
      free(s->names[i]);
    shape_free(s->fields[i]);
  }
  free(s->names);
  free(s->lengths);
  free(s->fields);
  free(s);
}


/* The K_* of a kind name from Lua, or -1. */
static int kind_from_name(const char *name)
{
  static const char *const names[] = {
    "json", "varchar", "bigint", "double", "boolean", "timestamp", "date",
    "array", "map", "struct", NULL
  };
  int i;

  for (i = 0; names[i] != NULL; i++)
    if (strcmp(name, names[i]) == 0)
      return i;
  return -1;
}


/*
** Build a shape from a Lua type table at 'index': { kind = "array",
** element = T }, { kind = "map", value = T }, { kind = "struct",
** fields = { { name =, type = T }, ... } } or { kind = "varchar" } ...
** Returns NULL with a message in 'err' when the table is not a type.
*/
static shape *shape_from_lua(lua_State *L, int index, int depth, char *err,
                             size_t errsize)
{
  shape *s = NULL;
  int kind, i, n;

  index = lua_absindex(L, index);
  if (depth > MAX_DEPTH || lua_type(L, index) != LUA_TTABLE) {
    snprintf(err, errsize, "a type must be a table");
    return NULL;
  }
  lua_getfield(L, index, "kind");
  kind = lua_type(L, -1) == LUA_TSTRING ? kind_from_name(lua_tostring(L, -1))
                                         : -1;
  lua_pop(L, 1);
  if (kind < 0) {
    snprintf(err, errsize, "unknown type kind");
    return NULL;
  }
  s = calloc(1, sizeof *s);
  if (s == NULL)
    goto nomem;
  s->kind = kind;
  if (kind == K_ARRAY || kind == K_MAP) {
    s->fields = calloc(1, sizeof *s->fields);
    if (s->fields == NULL)
      goto nomem;
    s->nfields = 1;
    lua_getfield(L, index, kind == K_ARRAY ? "element" : "value");
    s->fields[0] = shape_from_lua(L, -1, depth + 1, err, errsize);
    lua_pop(L, 1);
    if (s->fields[0] == NULL)
      goto fail;
  } else if (kind == K_STRUCT) {
    lua_getfield(L, index, "fields");
    n = lua_type(L, -1) == LUA_TTABLE ? (int)luaL_len(L, -1) : 0;
    s->names = calloc((size_t)n + 1, sizeof *s->names);
    s->lengths = calloc((size_t)n + 1, sizeof *s->lengths);
    s->fields = calloc((size_t)n + 1, sizeof *s->fields);
    if (s->names == NULL || s->lengths == NULL || s->fields == NULL) {
      lua_pop(L, 1);
      goto nomem;
    }
    for (i = 0; i < n; i++) {
      const char *name;

      lua_geti(L, -1, i + 1);
      lua_getfield(L, -1, "name");
      name = lua_tostring(L, -1);
      s->names[i] = name != NULL ? strdup(name) : NULL;
      s->lengths[i] = name != NULL ? strlen(name) : 0;
      lua_pop(L, 1);
      s->nfields = i + 1;
      lua_getfield(L, -1, "type");
      s->fields[i] = s->names[i] != NULL
                     ? shape_from_lua(L, -1, depth + 1, err, errsize) : NULL;
      lua_pop(L, 2);
      if (s->fields[i] == NULL) {
        lua_pop(L, 1);
        if (s->names[i] == NULL)
          snprintf(err, errsize, "a struct field needs a name");
        goto fail;
      }
    }
    lua_pop(L, 1);
  }
  return s;
nomem:
  snprintf(err, errsize, "out of memory");
fail:
  shape_free(s);
  return NULL;
}


/* Index of the struct field called 'key' (any case), or -1. */
static int shape_field(const shape *s, const char *key, size_t length)
{
  int i;

  for (i = 0; i < s->nfields; i++)
    if (s->lengths[i] == length && length > 0
        && tolower((unsigned char)key[0]) == (unsigned char)s->names[i][0]
        && strncasecmp(s->names[i], key, length) == 0)
      return i;
  return -1;
}


/*
** Read the scalar at s->p as text: a string is decoded, a number, true
** or false kept as written.  Returns 0, 1 for null or a container
** (skipped), -1 for bad JSON.
*/
static int js_scalar_text(jscan *s, sbuf *text)
{
  const char *start;

  text->len = 0;
  js_ws(s);
  if (s->p >= s->end)
    return -1;
  if (*s->p == '"')
    return js_string_decode(s, text) == 0 ? (js_ws(s), 0) : -1;
  if (*s->p == '{' || *s->p == '[' || *s->p == 'n')
    return js_skip(s) == 0 ? 1 : -1;
  start = s->p;
  if (js_skip(s) != 0)
    return -1;
  sbuf_add(text, start, (size_t)(s->p - start));
  while (text->len > 0 && isspace((unsigned char)text->data[text->len - 1]))
    text->len--;
  return 0;
}


/* 1 for "true", 0 for "false" (any case), -1 otherwise. */
static int bool_from_text(const char *s, size_t n)
{
  if (n == 4 && strncasecmp(s, "true", 4) == 0)
    return 1;
  if (n == 5 && strncasecmp(s, "false", 5) == 0)
    return 0;
  return -1;
}


/*
** Write the value at s->p as normalized JSON of shape 'sh' into 'out':
** struct keys become the declared names, undeclared keys are dropped,
** scalars are converted to the declared type or become null.
*/
static int js_normalize(jscan *s, const shape *sh, sbuf *out)
{
  sbuf text = {NULL, 0, 0, 0};
  char stamp[32];
  int status = 0, r;

  js_ws(s);
  if (s->p >= s->end)
    return -1;
  if (*s->p == 'n' || sh->kind == K_ANY) {
    return js_compact(s, out);
  }
  if (sh->kind >= K_ARRAY) {
    char open = sh->kind == K_ARRAY ? '[' : '{', close;
    int first = 1;

    if (*s->p != open) {
      status = js_skip(s);
      sbuf_adds(out, "null");
      return status;
    }
    close = open == '[' ? ']' : '}';
    if (++s->depth > MAX_DEPTH)
      return -1;
    sbuf_addc(out, open);
    s->p++;
    js_ws(s);
    if (s->p < s->end && *s->p == close) {
      s->p++;
    } else {
      for (;;) {
        const shape *inner = sh->fields[0];

        if (open == '{') {
          const char *key;
          int field = 0;

          js_ws(s);
          key = s->p;
          if (s->p >= s->end || *s->p != '"' || js_string_end(s) != 0)
            return -1;
          if (sh->kind == K_STRUCT) {
            field = shape_field(sh, key + 1, (size_t)(s->p - key - 2));
            inner = field >= 0 ? sh->fields[field] : NULL;
          }
          js_ws(s);
          if (s->p >= s->end || *s->p++ != ':')
            return -1;
          if (inner == NULL) {
            if (js_skip(s) != 0)
              return -1;
          } else {
            if (!first)
              sbuf_addc(out, ',');
            if (sh->kind == K_STRUCT)
              json_quote(out, sh->names[field], sh->lengths[field]);
            else
              sbuf_add(out, key, (size_t)(s->p - key - 1));
            sbuf_addc(out, ':');
            if (js_normalize(s, inner, out) != 0)
              return -1;
            first = 0;
          }
        } else {
          if (!first)
            sbuf_addc(out, ',');
          if (js_normalize(s, inner, out) != 0)
            return -1;
          first = 0;
        }
        js_ws(s);
        if (s->p >= s->end)
          return -1;
        if (*s->p == ',') {
          s->p++;
          continue;
        }
        if (*s->p++ != close)
          return -1;
        break;
      }
    }
    sbuf_addc(out, close);
    s->depth--;
    js_ws(s);
    return 0;
  }
  if (sh->kind == K_VARCHAR && (*s->p == '{' || *s->p == '[')) {
    status = js_compact(s, &text);
    json_quote(out, text.data, text.len);
    sbuf_free(&text);
    return status;
  }
  if (sh->kind == K_VARCHAR && *s->p == '"') {
    const char *start = s->p;

    if (js_string_end(s) != 0)
      return -1;
    sbuf_add(out, start, (size_t)(s->p - start));
    js_ws(s);
    return 0;
  }
  r = js_scalar_text(s, &text);
  if (r < 0) {
    status = -1;
  } else if (r > 0) {
    sbuf_adds(out, "null");
  } else {
    int64_t i, ms;
    double d;
    int b;

    switch (sh->kind) {
    case K_VARCHAR:
      json_quote(out, text.data, text.len);
      break;
    case K_BIGINT:
      if (parse_int64(text.data, text.len, &i) == 0) {
        char number[24];

        snprintf(number, sizeof number, "%lld", (long long)i);
        sbuf_adds(out, number);
      } else {
        sbuf_adds(out, "null");
      }
      break;
    case K_DOUBLE:
      if (parse_double(text.data, text.len, &d) == 0) {
        char number[40];

        snprintf(number, sizeof number, "%.17g", d);
        sbuf_adds(out, number);
      } else {
        sbuf_adds(out, "null");
      }
      break;
    case K_BOOLEAN:
      b = bool_from_text(text.data, text.len);
      sbuf_adds(out, b < 0 ? "null" : b ? "true" : "false");
      break;
    default:                           /* K_TIMESTAMP, K_DATE */
      if (sqlite_parse_timestamp(text.data, text.len, &ms) == 0) {
        sqlite_format_timestamp(ms, stamp);
        if (sh->kind == K_DATE)
          stamp[10] = '\0';
        json_quote(out, stamp, strlen(stamp));
      } else {
        sbuf_adds(out, "null");
      }
    }
  }
  sbuf_free(&text);
  return status;
}


/* ---------------------------------------------------------------------
** The loader: files of JSON records into a table
** ------------------------------------------------------------------- */

typedef struct {
  sqlite3_stmt *stmt;
  shape *row;                   /* a struct: the columns read from JSON */
  int nconst;                   /* constant columns after those */
  sbuf text;                    /* scratch for one value */
} loader;


/*
** Bind the value at s->p to parameter 'column' as shape 'sh' says.
*/
static int loader_bind(loader *ld, int column, jscan *s, const shape *sh)
{
  sbuf *text = &ld->text;
  int64_t i, ms;
  double d;
  int r, b;
  char stamp[32];

  sqlite3_bind_null(ld->stmt, column);  /* unless a value follows */
  js_ws(s);
  if (s->p >= s->end)
    return -1;
  if (*s->p == 'n')
    return js_skip(s);
  text->len = 0;
  if (sh->kind >= K_ARRAY || sh->kind == K_ANY
      || (sh->kind == K_VARCHAR && (*s->p == '{' || *s->p == '['))) {
    r = sh->kind == K_VARCHAR ? js_compact(s, text)
                              : js_normalize(s, sh, text);
    if (r != 0 || text->nomem)
      return -1;
    if (!(text->len == 4 && memcmp(text->data, "null", 4) == 0))
      sqlite3_bind_text(ld->stmt, column, text->data, (int)text->len,
                        SQLITE_TRANSIENT);
    return 0;
  }
  r = js_scalar_text(s, text);
  if (r != 0 || text->nomem)
    return r > 0 ? 0 : -1;
  switch (sh->kind) {
  case K_VARCHAR:
    sqlite3_bind_text(ld->stmt, column, text->data, (int)text->len,
                      SQLITE_TRANSIENT);
    break;
  case K_BIGINT:
    if (parse_int64(text->data, text->len, &i) == 0)
      sqlite3_bind_int64(ld->stmt, column, i);
    break;
  case K_DOUBLE:
    if (parse_double(text->data, text->len, &d) == 0)
      sqlite3_bind_double(ld->stmt, column, d);
    break;
  case K_BOOLEAN:
    b = bool_from_text(text->data, text->len);
    if (b >= 0)
      sqlite3_bind_int(ld->stmt, column, b);
    break;
  default:                             /* K_TIMESTAMP, K_DATE */
    if (sqlite_parse_timestamp(text->data, text->len, &ms) == 0) {
      sqlite_format_timestamp(ms, stamp);
      sqlite3_bind_text(ld->stmt, column, stamp, sh->kind == K_DATE ? 10 : 23,
                        SQLITE_TRANSIENT);
    }
  }
  return 0;
}


/*
** Insert the record (a JSON object) at s->p.  Constants are bound by
** the caller once per file and kept: clear_bindings is not used.
*/
static int loader_record(loader *ld, jscan *s, char *err, size_t errsize)
{
  const shape *row = ld->row;
  int i, rc;
  unsigned char seen[2048];

  if (row->nfields > (int)sizeof seen) {
    snprintf(err, errsize, "too many columns");
    return -1;
  }
  memset(seen, 0, (size_t)row->nfields);
  s->p++;                              /* the opening brace */
  js_ws(s);
  if (s->p < s->end && *s->p == '}') {
    s->p++;
  } else {
    for (;;) {
      const char *key;
      int field;

      js_ws(s);
      key = s->p;
      if (s->p >= s->end || *s->p != '"' || js_string_end(s) != 0)
        goto bad;
      field = shape_field(row, key + 1, (size_t)(s->p - key - 2));
      js_ws(s);
      if (s->p >= s->end || *s->p++ != ':')
        goto bad;
      if (field >= 0 && !seen[field]) {
        seen[field] = 1;
        if (loader_bind(ld, field + 1, s, row->fields[field]) != 0)
          goto bad;
      } else if (js_skip(s) != 0) {
        goto bad;
      }
      js_ws(s);
      if (s->p >= s->end)
        goto bad;
      if (*s->p == ',') {
        s->p++;
        continue;
      }
      if (*s->p++ != '}')
        goto bad;
      break;
    }
  }
  for (i = 0; i < row->nfields; i++)
    if (!seen[i])
      sqlite3_bind_null(ld->stmt, i + 1);
  rc = sqlite3_step(ld->stmt);
  sqlite3_reset(ld->stmt);
  if (rc != SQLITE_DONE) {
    snprintf(err, errsize, "%s",
             sqlite3_errmsg(sqlite3_db_handle(ld->stmt)));
    return -1;
  }
  return 0;
bad:
  snprintf(err, errsize, "%s", ld->text.nomem ? "out of memory"
                                              : "invalid JSON");
  return -1;
}


/*
** Is the object at s.p CloudTrail's {"Records": [...]} and nothing
** else?  If so, 'array' is left on the '[' and 'after' past the '}'.
*/
static int records_wrapper(jscan s, jscan *array, const char **after)
{
  s.p++;
  js_ws(&s);
  if (js_word(&s, "\"Records\"") != 0)
    return 0;
  js_ws(&s);
  if (s.p >= s.end || *s.p++ != ':')
    return 0;
  js_ws(&s);
  if (s.p >= s.end || *s.p != '[')
    return 0;
  *array = s;
  if (js_skip(&s) != 0 || s.p >= s.end || *s.p != '}')
    return 0;
  *after = s.p + 1;
  return 1;
}


/* Read a whole file, gzip or plain (zlib tells them apart). */
static int read_file(const char *path, sbuf *data, char *err, size_t errsize)
{
  gzFile file = gzopen(path, "rb");
  int n, status = 0;
  struct stat st;

  if (file == NULL) {
    snprintf(err, errsize, "cannot open: %s", strerror(errno));
    return -1;
  }
  gzbuffer(file, 1 << 17);
  n = (int)strlen(path);
  if (n > 3 && strcmp(path + n - 3, ".gz") == 0 && gzdirect(file)) {
    snprintf(err, errsize, "not in gzip format");
    gzclose(file);
    return -1;
  }
  if (stat(path, &st) == 0 && st.st_size > 0
      && sbuf_grow(data, (size_t)st.st_size + (1 << 18)) != 0) {
    snprintf(err, errsize, "out of memory");
    gzclose(file);
    return -1;
  }
  for (;;) {
    if (sbuf_grow(data, 1 << 18) != 0) {
      snprintf(err, errsize, "out of memory");
      status = -1;
      break;
    }
    n = gzread(file, data->data + data->len, 1 << 18);
    if (n < 0) {
      int code;

      snprintf(err, errsize, "cannot read: %s", gzerror(file, &code));
      status = -1;
      break;
    }
    if (n == 0)
      break;
    data->len += (size_t)n;
  }
  gzclose(file);
  return status;
}


/* The line number of position p, for error messages. */
static long line_of(const sbuf *data, const char *p)
{
  long line = 1;
  const char *q;

  for (q = data->data; q < p && q < data->data + data->len; q++)
    if (*q == '\n')
      line++;
  return line;
}


/* Call progress(count) every 'every' records; its errors are ignored. */
static void report_progress(lua_State *L, int progress, long long count,
                            long long every)
{
  if (!progress || every <= 0 || count % every != 0)
    return;
  lua_pushvalue(L, progress);
  lua_pushinteger(L, (lua_Integer)count);
  if (lua_pcall(L, 1, 0, 0) != LUA_OK)
    lua_pop(L, 1);
}


/*
** Load every record of the file at 'path', calling progress(count)
** every 'every' records.  Returns the count, or -1 with a message naming
** the line.
*/
static long long loader_file(lua_State *L, loader *ld, const char *path,
                             int progress, long long every, char *err,
                             size_t errsize)
{
  sbuf data = {NULL, 0, 0, 0};
  long long count = 0;
  char reason[160];
  jscan s;

  if (read_file(path, &data, reason, sizeof reason) != 0) {
    snprintf(err, errsize, "%s: %s", path, reason);
    sbuf_free(&data);
    return -1;
  }
  s.p = data.data;
  s.end = data.data + data.len;
  s.depth = 0;
  for (;;) {
    jscan array;
    const char *after, *at;

    js_ws(&s);
    if (s.p >= s.end)
      break;
    at = s.p;
    if (*s.p != '{') {
      snprintf(reason, sizeof reason, "expected a JSON object");
      goto fail;
    }
    if (!records_wrapper(s, &array, &after)) {
      if (loader_record(ld, &s, reason, sizeof reason) != 0)
        goto fail;
      report_progress(L, progress, ++count, every);
    } else {
      array.p++;
      for (;;) {
        js_ws(&array);
        if (array.p < array.end && *array.p == ']')
          break;
        at = array.p;
        if (array.p >= array.end || *array.p != '{') {
          snprintf(reason, sizeof reason, "a record must be a JSON object");
          goto fail;
        }
        if (loader_record(ld, &array, reason, sizeof reason) != 0)
          goto fail;
        report_progress(L, progress, ++count, every);
        js_ws(&array);
        if (array.p < array.end && *array.p == ',')
          array.p++;
      }
      s.p = after;
    }
    continue;
fail:
    snprintf(err, errsize, "%s: line %ld: %s", path, line_of(&data, at),
             reason);
    sbuf_free(&data);
    return -1;
  }
  sbuf_free(&data);
  return count;
}


/* ---------------------------------------------------------------------
** SQL functions: regular expressions (Java syntax on POSIX regex)
** ------------------------------------------------------------------- */

#define MAX_GROUPS 32

typedef struct {
  regex_t re;
  int ngroups;                  /* capturing groups, as Java counts them */
  int map[MAX_GROUPS + 1];      /* Java group -> POSIX group */
  int nposix;
} java_regex;


/*
** Translate the class body after '[' (Java) into POSIX bracket syntax.
*/
static const char *class_to_ere(const char *p, sbuf *out, const char **why)
{
  sbuf_addc(out, '[');
  if (*p == '^')
    sbuf_addc(out, *p++);
  if (*p == ']')
    sbuf_addc(out, *p++);
  for (; *p != '\0' && *p != ']'; p++) {
    if (*p == '[' && p[1] == ':') {
      const char *close = strstr(p, ":]");

      if (close == NULL)
        break;
      sbuf_add(out, p, (size_t)(close + 2 - p));
      p = close + 1;
    } else if (*p == '[' || (*p == '&' && p[1] == '&')) {
      *why = "nested character classes";
      return NULL;
    } else if (*p == '\\') {
      p++;
      switch (*p) {
      case 'd': sbuf_adds(out, "0-9"); break;
      case 'w': sbuf_adds(out, "A-Za-z0-9_"); break;
      case 's': sbuf_adds(out, " \t\n\r\f\v"); break;
      case 't': sbuf_addc(out, '\t'); break;
      case 'n': sbuf_addc(out, '\n'); break;
      case 'r': sbuf_addc(out, '\r'); break;
      case ']': case '^': case '-': case 'D': case 'W': case 'S':
      case 'p': case 'P': case '\0':
        *why = "this escape inside a character class";
        return NULL;
      default:
        sbuf_addc(out, *p);
      }
    } else {
      sbuf_addc(out, *p);
    }
  }
  if (*p != ']') {
    *why = "an unclosed character class";
    return NULL;
  }
  sbuf_addc(out, ']');
  return p;
}


/*
** Compile a Java regular expression as POSIX extended.  Constructs that
** POSIX cannot express (lazy quantifiers, look-around, back references)
** are refused with a message rather than matched differently.
*/
static int java_regex_compile(java_regex *jr, const char *pattern,
                              char *err, size_t errsize)
{
  sbuf out = {NULL, 0, 0, 0};
  const char *p = pattern, *why = NULL;
  int flags = REG_EXTENDED, rc;

  jr->ngroups = 0;
  jr->nposix = 0;
  if (strncmp(p, "(?i)", 4) == 0) {
    flags |= REG_ICASE;
    p += 4;
  }
  for (; *p != '\0' && why == NULL; p++) {
    switch (*p) {
    case '\\':
      p++;
      switch (*p) {
      case 'd': sbuf_adds(&out, "[0-9]"); break;
      case 'D': sbuf_adds(&out, "[^0-9]"); break;
      case 'w': sbuf_adds(&out, "[A-Za-z0-9_]"); break;
      case 'W': sbuf_adds(&out, "[^A-Za-z0-9_]"); break;
      case 's': sbuf_adds(&out, "[[:space:]]"); break;
      case 'S': sbuf_adds(&out, "[^[:space:]]"); break;
      case 'b': sbuf_adds(&out, "\\b"); break;
      case 'B': sbuf_adds(&out, "\\B"); break;
      case 't': sbuf_addc(&out, '\t'); break;
      case 'n': sbuf_addc(&out, '\n'); break;
      case 'r': sbuf_addc(&out, '\r'); break;
      case '\0':
        why = "a trailing backslash";
        goto done;
      default:
        if (isalnum((unsigned char)*p)) {
          why = "this escape sequence";
        } else {
          if (strchr(".[](){}*+?^$|\\", *p) != NULL)
            sbuf_addc(&out, '\\');
          sbuf_addc(&out, *p);
        }
      }
      break;
    case '[':
      p = class_to_ere(p + 1, &out, &why);
      if (p == NULL)
        goto done;
      break;
    case '(':
      if (p[1] == '?') {
        if (p[2] != ':') {
          why = "look-around and inline flags";
          break;
        }
        p += 2;
      } else if (jr->ngroups < MAX_GROUPS) {
        jr->map[++jr->ngroups] = jr->nposix + 1;
      } else {
        why = "more than 32 groups";
      }
      jr->nposix++;
      sbuf_addc(&out, '(');
      break;
    case '*': case '+': case '?': case '}':
      sbuf_addc(&out, *p);
      if (p[1] == '?' || p[1] == '+')
        why = "lazy and possessive quantifiers";
      break;
    default:
      sbuf_addc(&out, *p);
    }
  }
done:
  if (why == NULL && out.nomem)
    why = "a pattern this long (out of memory)";
  if (why != NULL) {
    snprintf(err, errsize, "regular expression '%s': %s %s", pattern, why,
             "is not supported by the local engine");
    sbuf_free(&out);
    return -1;
  }
  jr->map[0] = 0;
  rc = regcomp(&jr->re, out.data != NULL ? out.data : "", flags);
  sbuf_free(&out);
  if (rc != 0) {
    char reason[128];

    regerror(rc, &jr->re, reason, sizeof reason);
    snprintf(err, errsize, "invalid regular expression '%s': %s", pattern,
             reason);
    return -1;
  }
  return 0;
}


/* Free a compiled pattern cached by SQLite. */
static void java_regex_free(void *p)
{
  java_regex *jr = p;

  regfree(&jr->re);
  sqlite3_free(jr);
}


/*
** The compiled pattern of argument 'arg', cached for the statement.
*/
static java_regex *regex_arg(sqlite3_context *ctx, sqlite3_value **argv,
                             int arg)
{
  java_regex *jr = sqlite3_get_auxdata(ctx, arg);
  const char *pattern;
  char err[512];

  if (jr != NULL)
    return jr;
  pattern = (const char *)sqlite3_value_text(argv[arg]);
  jr = sqlite3_malloc(sizeof *jr);
  if (jr == NULL) {
    sqlite3_result_error_nomem(ctx);
    return NULL;
  }
  if (java_regex_compile(jr, pattern, err, sizeof err) != 0) {
    sqlite3_free(jr);
    sqlite3_result_error(ctx, err, -1);
    return NULL;
  }
  sqlite3_set_auxdata(ctx, arg, jr, java_regex_free);
  return sqlite3_get_auxdata(ctx, arg);
}


/* Is any argument NULL?  (Most functions then return NULL.) */
static int any_null(int argc, sqlite3_value **argv)
{
  int i;

  for (i = 0; i < argc; i++)
    if (sqlite3_value_type(argv[i]) == SQLITE_NULL)
      return 1;
  return 0;
}


/* regexp_like(string, pattern): does the pattern match anywhere? */
static void fn_regexp_like(sqlite3_context *ctx, int argc,
                           sqlite3_value **argv)
{
  java_regex *jr;

  if (any_null(argc, argv))
    return;
  jr = regex_arg(ctx, argv, 1);
  if (jr != NULL)
    sqlite3_result_int(ctx, regexec(&jr->re,
                       (const char *)sqlite3_value_text(argv[0]), 0, NULL,
                       0) == 0);
}


/* The group number argument, checked against the pattern's groups. */
static int group_arg(sqlite3_context *ctx, int argc, sqlite3_value **argv,
                     const java_regex *jr)
{
  sqlite3_int64 group = argc > 2 ? sqlite3_value_int64(argv[2]) : 0;
  char err[96];

  if (group < 0 || group > jr->ngroups) {
    snprintf(err, sizeof err, "Pattern has %d groups. Cannot access group "
             "%lld", jr->ngroups, (long long)group);
    sqlite3_result_error(ctx, err, -1);
    return -1;
  }
  return jr->map[group];
}


/* regexp_extract(string, pattern[, group]): the first match. */
static void fn_regexp_extract(sqlite3_context *ctx, int argc,
                              sqlite3_value **argv)
{
  regmatch_t m[MAX_GROUPS * 2 + 2];
  java_regex *jr;
  const char *s;
  int g;

  if (any_null(argc, argv))
    return;
  jr = regex_arg(ctx, argv, 1);
  if (jr == NULL || (g = group_arg(ctx, argc, argv, jr)) < 0)
    return;
  s = (const char *)sqlite3_value_text(argv[0]);
  if (regexec(&jr->re, s, (size_t)jr->nposix + 1, m, 0) != 0
      || m[g].rm_so < 0)
    return;
  sqlite3_result_text(ctx, s + m[g].rm_so, (int)(m[g].rm_eo - m[g].rm_so),
                      SQLITE_TRANSIENT);
}


/* regexp_extract_all(string, pattern[, group]): a JSON array. */
static void fn_regexp_extract_all(sqlite3_context *ctx, int argc,
                                  sqlite3_value **argv)
{
  regmatch_t m[MAX_GROUPS * 2 + 2];
  sbuf out = {NULL, 0, 0, 0};
  java_regex *jr;
  const char *s;
  int g, flags = 0, first = 1;

  if (any_null(argc, argv))
    return;
  jr = regex_arg(ctx, argv, 1);
  if (jr == NULL || (g = group_arg(ctx, argc, argv, jr)) < 0)
    return;
  s = (const char *)sqlite3_value_text(argv[0]);
  sbuf_addc(&out, '[');
  while (regexec(&jr->re, s, (size_t)jr->nposix + 1, m, flags) == 0) {
    if (!first)
      sbuf_addc(&out, ',');
    first = 0;
    if (m[g].rm_so < 0)
      sbuf_adds(&out, "null");
    else
      json_quote(&out, s + m[g].rm_so, (size_t)(m[g].rm_eo - m[g].rm_so));
    if (s[m[0].rm_eo] == '\0')
      break;
    s += m[0].rm_eo > 0 ? m[0].rm_eo : 1;
    flags = REG_NOTBOL;
  }
  sbuf_addc(&out, ']');
  if (out.nomem) {
    sqlite3_result_error_nomem(ctx);
  } else {
    sqlite3_result_text(ctx, out.data, (int)out.len, SQLITE_TRANSIENT);
    sqlite3_result_subtype(ctx, JSON_SUBTYPE);
  }
  sbuf_free(&out);
}


/* regexp_replace(string, pattern[, replacement]): $N names a group. */
static void fn_regexp_replace(sqlite3_context *ctx, int argc,
                              sqlite3_value **argv)
{
  regmatch_t m[MAX_GROUPS * 2 + 2];
  sbuf out = {NULL, 0, 0, 0};
  const char *s, *r = "";
  java_regex *jr;
  int flags = 0;

  if (any_null(argc, argv))
    return;
  jr = regex_arg(ctx, argv, 1);
  if (jr == NULL)
    return;
  s = (const char *)sqlite3_value_text(argv[0]);
  if (argc > 2)
    r = (const char *)sqlite3_value_text(argv[2]);
  while (*s != '\0' && regexec(&jr->re, s, (size_t)jr->nposix + 1, m,
                               flags) == 0) {
    const char *q;

    sbuf_add(&out, s, (size_t)m[0].rm_so);
    for (q = r; *q != '\0'; q++) {
      if (*q == '\\' && q[1] != '\0') {
        sbuf_addc(&out, *++q);
      } else if (*q == '$' && isdigit((unsigned char)q[1])) {
        int group = *++q - '0', g;

        if (group > jr->ngroups) {
          sqlite3_result_error(ctx, "regexp_replace: no such group", -1);
          sbuf_free(&out);
          return;
        }
        g = jr->map[group];
        if (m[g].rm_so >= 0)
          sbuf_add(&out, s + m[g].rm_so, (size_t)(m[g].rm_eo - m[g].rm_so));
      } else {
        sbuf_addc(&out, *q);
      }
    }
    if (m[0].rm_eo == m[0].rm_so) {    /* an empty match: keep one byte */
      sbuf_addc(&out, s[m[0].rm_eo]);
      s += m[0].rm_eo + 1;
    } else {
      s += m[0].rm_eo;
    }
    flags = REG_NOTBOL;
  }
  sbuf_adds(&out, s);
  if (out.nomem)
    sqlite3_result_error_nomem(ctx);
  else
    sqlite3_result_text(ctx, out.data != NULL ? out.data : "", (int)out.len,
                        SQLITE_TRANSIENT);
  sbuf_free(&out);
}


/* ---------------------------------------------------------------------
** SQL functions: timestamps ('YYYY-MM-DD HH:MM:SS.mmm') and dates
** ------------------------------------------------------------------- */

enum {
  U_MILLISECOND, U_SECOND, U_MINUTE, U_HOUR, U_DAY, U_WEEK, U_MONTH,
  U_QUARTER, U_YEAR
};


/* The U_* of a unit argument; -1 with an error set if unknown. */
static int unit_arg(sqlite3_context *ctx, sqlite3_value *value)
{
  static const char *const units[] = {
    "millisecond", "second", "minute", "hour", "day", "week", "month",
    "quarter", "year", NULL
  };
  const char *name = (const char *)sqlite3_value_text(value);
  char err[96];
  int i;

  for (i = 0; name != NULL && units[i] != NULL; i++)
    if (strcasecmp(name, units[i]) == 0)
      return i;
  snprintf(err, sizeof err, "'%s' is not a valid time unit",
           name != NULL ? name : "NULL");
  sqlite3_result_error(ctx, err, -1);
  return -1;
}


static const int64_t UNIT_MS[] = {
  1, 1000, 60000, 3600000, 86400000, 604800000
};


/*
** Read a timestamp or date argument.  Returns 1 for NULL, 0 for a
** value, -1 (error set) for text that is not a timestamp.
*/
static int time_arg(sqlite3_context *ctx, sqlite3_value *value, int64_t *ms,
                    int *is_date)
{
  const char *text;
  int n;
  char err[160];

  if (sqlite3_value_type(value) == SQLITE_NULL)
    return 1;
  text = (const char *)sqlite3_value_text(value);
  n = sqlite3_value_bytes(value);
  if (is_date != NULL)
    *is_date = n == 10;
  if (sqlite_parse_timestamp(text, (size_t)n, ms) == 0)
    return 0;
  snprintf(err, sizeof err, "Value cannot be cast to timestamp: %.100s",
           text);
  sqlite3_result_error(ctx, err, -1);
  return -1;
}


/* Return a timestamp, or its date part. */
static void result_time(sqlite3_context *ctx, int64_t ms, int is_date)
{
  char stamp[32];

  sqlite_format_timestamp(ms, stamp);
  sqlite3_result_text(ctx, stamp, is_date ? 10 : 23, SQLITE_TRANSIENT);
}


/* Add months, keeping the day within the new month (Jan 31 + 1 = Feb 29). */
static int64_t add_months(int64_t ms, int64_t months)
{
  civil c;
  int64_t total;

  civil_from_ms(ms, &c);
  total = (int64_t)c.year * 12 + (c.month - 1) + months;
  c.year = (int)floor_div(total, 12);
  c.month = (int)(total - (int64_t)c.year * 12) + 1;
  if (c.day > month_days(c.year, c.month))
    c.day = month_days(c.year, c.month);
  return ms_from_civil(&c);
}


/* sq_ts_add(unit, amount, ts): date_add and interval arithmetic. */
static void fn_ts_add(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
  int64_t ms, amount;
  int unit, is_date;

  (void)argc;
  if (any_null(3, argv) || (unit = unit_arg(ctx, argv[0])) < 0
      || time_arg(ctx, argv[2], &ms, &is_date) != 0)
    return;
  amount = sqlite3_value_int64(argv[1]);
  if (unit >= U_MONTH)
    ms = add_months(ms, amount * (unit == U_MONTH ? 1 : unit == U_QUARTER
                                  ? 3 : 12));
  else
    ms += amount * UNIT_MS[unit];
  result_time(ctx, ms, is_date && unit >= U_DAY);
}


/* Whole months from a to b, as Joda counts them. */
static int64_t months_between(int64_t a, int64_t b)
{
  civil ca, cb;
  int64_t months;

  civil_from_ms(a, &ca);
  civil_from_ms(b, &cb);
  months = ((int64_t)cb.year * 12 + cb.month) - ((int64_t)ca.year * 12
                                                 + ca.month);
  if (months > 0 && add_months(a, months) > b)
    months--;
  else if (months < 0 && add_months(a, months) < b)
    months++;
  return months;
}


/* sq_ts_diff(unit, a, b): date_diff, b - a in whole units. */
static void fn_ts_diff(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
  int64_t a, b, months;
  int unit;

  (void)argc;
  if (any_null(3, argv) || (unit = unit_arg(ctx, argv[0])) < 0
      || time_arg(ctx, argv[1], &a, NULL) != 0
      || time_arg(ctx, argv[2], &b, NULL) != 0)
    return;
  if (unit < U_MONTH) {
    sqlite3_result_int64(ctx, (b - a) / UNIT_MS[unit]);
    return;
  }
  months = months_between(a, b);
  sqlite3_result_int64(ctx, months / (unit == U_MONTH ? 1 : unit == U_QUARTER
                                      ? 3 : 12));
}


/* Day of the week of a day count, Monday 1 to Sunday 7. */
static int day_of_week(int64_t days)
{
  return (int)((days % 7 + 7 + 3) % 7) + 1;
}


/* sq_ts_trunc(unit, ts): date_trunc. */
static void fn_ts_trunc(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
  int64_t ms, days;
  int unit, is_date;
  civil c;

  (void)argc;
  if (any_null(2, argv) || (unit = unit_arg(ctx, argv[0])) < 0
      || time_arg(ctx, argv[1], &ms, &is_date) != 0)
    return;
  if (unit <= U_DAY) {
    ms = floor_div(ms, UNIT_MS[unit]) * UNIT_MS[unit];
  } else if (unit == U_WEEK) {
    days = floor_div(ms, MS_PER_DAY);
    ms = (days - (day_of_week(days) - 1)) * MS_PER_DAY;
  } else {
    civil_from_ms(ms, &c);
    c.day = 1;
    c.hour = c.minute = c.second = c.millis = 0;
    if (unit == U_QUARTER)
      c.month = (c.month - 1) / 3 * 3 + 1;
    else if (unit == U_YEAR)
      c.month = 1;
    ms = ms_from_civil(&c);
  }
  result_time(ctx, ms, is_date);
}


/* ISO-8601 week number and week-based year. */
static void iso_week(int64_t ms, int *week, int *week_year)
{
  int64_t days = floor_div(ms, MS_PER_DAY);
  int64_t thursday = days - day_of_week(days) + 4;
  civil c, jan;

  civil_from_ms(thursday * MS_PER_DAY, &c);
  jan = c;
  jan.month = jan.day = 1;
  jan.hour = jan.minute = jan.second = jan.millis = 0;
  *week = (int)((thursday - floor_div(ms_from_civil(&jan), MS_PER_DAY)) / 7
                + 1);
  *week_year = c.year;
}


/* Day of the year, from 1. */
static int day_of_year(const civil *c)
{
  return (int)(clock_days_from_civil(c->year, (unsigned)c->month,
                                     (unsigned)c->day)
               - clock_days_from_civil(c->year, 1, 1)) + 1;
}


/* sq_ts_part(field, ts): year(), month(), hour(), day_of_week() ... */
static void fn_ts_part(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
  const char *field;
  int64_t ms;
  int week, week_year;
  civil c;

  (void)argc;
  if (any_null(2, argv) || time_arg(ctx, argv[1], &ms, NULL) != 0)
    return;
  field = (const char *)sqlite3_value_text(argv[0]);
  civil_from_ms(ms, &c);
  iso_week(ms, &week, &week_year);
  if (strcmp(field, "year") == 0)
    sqlite3_result_int(ctx, c.year);
  else if (strcmp(field, "quarter") == 0)
    sqlite3_result_int(ctx, (c.month - 1) / 3 + 1);
  else if (strcmp(field, "month") == 0)
    sqlite3_result_int(ctx, c.month);
  else if (strcmp(field, "week") == 0)
    sqlite3_result_int(ctx, week);
  else if (strcmp(field, "year_of_week") == 0)
    sqlite3_result_int(ctx, week_year);
  else if (strcmp(field, "day") == 0)
    sqlite3_result_int(ctx, c.day);
  else if (strcmp(field, "day_of_week") == 0)
    sqlite3_result_int(ctx, day_of_week(floor_div(ms, MS_PER_DAY)));
  else if (strcmp(field, "day_of_year") == 0)
    sqlite3_result_int(ctx, day_of_year(&c));
  else if (strcmp(field, "hour") == 0)
    sqlite3_result_int(ctx, c.hour);
  else if (strcmp(field, "minute") == 0)
    sqlite3_result_int(ctx, c.minute);
  else if (strcmp(field, "second") == 0)
    sqlite3_result_int(ctx, c.second);
  else if (strcmp(field, "millisecond") == 0)
    sqlite3_result_int(ctx, c.millis);
  else
    sqlite3_result_error(ctx, "unknown date field", -1);
}


#define CAST_STRICT  1          /* an error, not NULL, for bad text */
#define CAST_ISO     2          /* from_iso8601: 'T' between date and time */
#define CAST_LENIENT 4          /* either separator (deriving partitions) */

/*
** sq_cast_ts(text, flags) and sq_cast_date(text, flags): CAST (flags 1)
** and TRY_CAST (0) from varchar take 'YYYY-MM-DD HH:MM:SS'; with flag 2
** (from_iso8601_timestamp) the ISO form 'YYYY-MM-DDTHH:MM:SSZ'.
*/
static void cast_time(sqlite3_context *ctx, sqlite3_value **argv,
                      int to_date)
{
  const char *text = (const char *)sqlite3_value_text(argv[0]);
  int n = sqlite3_value_bytes(argv[0]);
  int flags = sqlite3_value_int(argv[1]);
  const char *separators = (flags & CAST_LENIENT) ? "T " : (flags & CAST_ISO)
                           ? "T" : " ";
  char err[200];
  int64_t ms, offset = 0;

  if (text == NULL)
    return;
  if (parse_timestamp_as(text, (size_t)n, &ms, separators, &offset) == 0
      && (!to_date || n == 10)) {
    if (offset != 0 && (flags & CAST_ISO)) {
      snprintf(err, sizeof err, "a time zone offset other than Z (%.60s) is "
               "not supported by the local engine", text);
      sqlite3_result_error(ctx, err, -1);
      return;
    }
    result_time(ctx, ms, to_date);
    return;
  }
  if (!(flags & CAST_STRICT))
    return;                            /* TRY_CAST: NULL */
  if (flags & CAST_ISO)
    snprintf(err, sizeof err, "Invalid format: \"%.100s\"", text);
  else
    snprintf(err, sizeof err, "Value cannot be cast to %s: %.100s",
             to_date ? "date" : "timestamp", text);
  sqlite3_result_error(ctx, err, -1);
}


/* sq_cast_ts(text, flags) */
static void fn_cast_ts(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
  (void)argc;
  cast_time(ctx, argv, 0);
}


/* sq_cast_date(text, flags) */
static void fn_cast_date(sqlite3_context *ctx, int argc,
                         sqlite3_value **argv)
{
  (void)argc;
  cast_time(ctx, argv, 1);
}


/* sq_to_unixtime(ts): seconds since the epoch, a double. */
static void fn_to_unixtime(sqlite3_context *ctx, int argc,
                           sqlite3_value **argv)
{
  int64_t ms;

  (void)argc;
  if (time_arg(ctx, argv[0], &ms, NULL) == 0)
    sqlite3_result_double(ctx, (double)ms / 1000.0);
}


/* sq_from_unixtime(seconds): the timestamp. */
static void fn_from_unixtime(sqlite3_context *ctx, int argc,
                             sqlite3_value **argv)
{
  (void)argc;
  if (sqlite3_value_type(argv[0]) == SQLITE_NULL)
    return;
  result_time(ctx, (int64_t)llround(sqlite3_value_double(argv[0]) * 1000.0),
              0);
}


/* sq_to_iso8601(ts, zone): 2020-02-13T22:06:20.000Z */
static void fn_to_iso8601(sqlite3_context *ctx, int argc,
                          sqlite3_value **argv)
{
  char stamp[40];
  int64_t ms;
  int is_date;

  (void)argc;
  if (time_arg(ctx, argv[0], &ms, &is_date) != 0)
    return;
  sqlite_format_timestamp(ms, stamp);
  if (is_date) {
    stamp[10] = '\0';
  } else {
    stamp[10] = 'T';
    if (sqlite3_value_int(argv[1]))
      strcat(stamp, "Z");
  }
  sqlite3_result_text(ctx, stamp, -1, SQLITE_TRANSIENT);
}


static const char *const MONTHS[] = {
  "January", "February", "March", "April", "May", "June", "July",
  "August", "September", "October", "November", "December"
};
static const char *const DAYS[] = {
  "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday",
  "Sunday"
};


/* Append one formatted integer. */
static void addf(sbuf *out, const char *format, int value)
{
  char text[16];

  snprintf(text, sizeof text, format, value);
  sbuf_adds(out, text);
}


/*
** MySQL date_format.  Returns NULL (with 'err' set) for a specifier
** this engine does not know.
*/
static int mysql_format(int64_t ms, const char *f, sbuf *out, char *err,
                        size_t errsize)
{
  int64_t days = floor_div(ms, MS_PER_DAY);
  int dow = day_of_week(days), week, week_year, h12;
  civil c;

  civil_from_ms(ms, &c);
  iso_week(ms, &week, &week_year);
  h12 = c.hour % 12 == 0 ? 12 : c.hour % 12;
  for (; *f != '\0'; f++) {
    if (*f != '%' || f[1] == '\0') {
      sbuf_addc(out, *f);
      continue;
    }
    switch (*++f) {
    case 'a': sbuf_add(out, DAYS[dow - 1], 3); break;
    case 'b': sbuf_add(out, MONTHS[c.month - 1], 3); break;
    case 'c': addf(out, "%d", c.month); break;
    case 'd': addf(out, "%02d", c.day); break;
    case 'e': addf(out, "%d", c.day); break;
    case 'f': addf(out, "%06d", c.millis * 1000); break;
    case 'H': addf(out, "%02d", c.hour); break;
    case 'h': case 'I': addf(out, "%02d", h12); break;
    case 'i': addf(out, "%02d", c.minute); break;
    case 'j': addf(out, "%03d", day_of_year(&c)); break;
    case 'k': addf(out, "%d", c.hour); break;
    case 'l': addf(out, "%d", h12); break;
    case 'M': sbuf_adds(out, MONTHS[c.month - 1]); break;
    case 'm': addf(out, "%02d", c.month); break;
    case 'p': sbuf_adds(out, c.hour < 12 ? "AM" : "PM"); break;
    case 'r':
      addf(out, "%02d:", h12);
      addf(out, "%02d:", c.minute);
      addf(out, "%02d ", c.second);
      sbuf_adds(out, c.hour < 12 ? "AM" : "PM");
      break;
    case 'S': case 's': addf(out, "%02d", c.second); break;
    case 'T':
      addf(out, "%02d:", c.hour);
      addf(out, "%02d:", c.minute);
      addf(out, "%02d", c.second);
      break;
    case 'v': addf(out, "%02d", week); break;
    case 'W': sbuf_adds(out, DAYS[dow - 1]); break;
    case 'x': addf(out, "%04d", week_year); break;
    case 'Y': addf(out, "%04d", c.year); break;
    case 'y': addf(out, "%02d", c.year % 100); break;
    case '%': sbuf_addc(out, '%'); break;
    default:
      snprintf(err, errsize, "date_format specifier %%%c is not supported",
               *f);
      return -1;
    }
  }
  return 0;
}


/* sq_date_format(ts, format): MySQL-style formatting. */
static void fn_date_format(sqlite3_context *ctx, int argc,
                           sqlite3_value **argv)
{
  sbuf out = {NULL, 0, 0, 0};
  char err[96];
  int64_t ms;

  (void)argc;
  if (any_null(2, argv) || time_arg(ctx, argv[0], &ms, NULL) != 0)
    return;
  if (mysql_format(ms, (const char *)sqlite3_value_text(argv[1]), &out, err,
                   sizeof err) != 0)
    sqlite3_result_error(ctx, err, -1);
  else
    sqlite3_result_text(ctx, out.data != NULL ? out.data : "", (int)out.len,
                        SQLITE_TRANSIENT);
  sbuf_free(&out);
}


/* Read up to 'max' digits; at least one. */
static int read_number(const char **p, int max, int *value)
{
  int n = 0;

  *value = 0;
  while (n < max && isdigit((unsigned char)**p)) {
    *value = *value * 10 + (**p - '0');
    (*p)++;
    n++;
  }
  return n > 0 ? 0 : -1;
}


/* Match a month or AM/PM name (its first 'length' letters if > 0). */
static int match_name(const char **p, const char *const *names, int count,
                      int length, int *index)
{
  int i;

  for (i = 0; i < count; i++) {
    size_t n = length > 0 ? (size_t)length : strlen(names[i]);

    if (strncasecmp(*p, names[i], n) == 0) {
      *p += n;
      *index = i;
      return 0;
    }
  }
  return -1;
}


/* sq_date_parse(text, format): MySQL-style parsing, strict. */
static void fn_date_parse(sqlite3_context *ctx, int argc,
                          sqlite3_value **argv)
{
  civil c = {1970, 1, 1, 0, 0, 0, 0};
  const char *s, *f;
  int pm = -1, value = 0, ok = 0;
  char err[160];

  (void)argc;
  if (any_null(2, argv))
    return;
  s = (const char *)sqlite3_value_text(argv[0]);
  f = (const char *)sqlite3_value_text(argv[1]);
  for (; *f != '\0'; f++) {
    if (*f != '%' || f[1] == '\0') {
      if (*s++ != *f)
        goto bad;
      continue;
    }
    switch (*++f) {
    case 'Y': ok = read_number(&s, 4, &c.year); break;
    case 'y': ok = read_number(&s, 2, &value); c.year = 2000 + value; break;
    case 'm': case 'c': ok = read_number(&s, 2, &c.month); break;
    case 'd': case 'e': ok = read_number(&s, 2, &c.day); break;
    case 'H': case 'k': ok = read_number(&s, 2, &c.hour); break;
    case 'h': case 'I': case 'l': ok = read_number(&s, 2, &c.hour); break;
    case 'i': ok = read_number(&s, 2, &c.minute); break;
    case 'S': case 's': ok = read_number(&s, 2, &c.second); break;
    case 'f':
      ok = read_number(&s, 6, &value);
      c.millis = value / 1000;
      break;
    case 'p':
      ok = match_name(&s, (const char *const[]){"AM", "PM"}, 2, 2, &pm);
      break;
    case 'b':
      ok = match_name(&s, MONTHS, 12, 3, &value);
      c.month = value + 1;
      break;
    case 'M':
      ok = match_name(&s, MONTHS, 12, 0, &value);
      c.month = value + 1;
      break;
    case 'T':
      ok = read_number(&s, 2, &c.hour) || *s++ != ':'
           || read_number(&s, 2, &c.minute) || *s++ != ':'
           || read_number(&s, 2, &c.second);
      break;
    case '%': ok = *s++ == '%' ? 0 : -1; break;
    default:
      snprintf(err, sizeof err, "date_parse specifier %%%c is not "
               "supported", *f);
      sqlite3_result_error(ctx, err, -1);
      return;
    }
    if (ok != 0)
      goto bad;
  }
  if (pm >= 0)
    c.hour = c.hour % 12 + (pm == 1 ? 12 : 0);
  if (*s != '\0' || c.month < 1 || c.month > 12 || c.day < 1
      || c.day > month_days(c.year, c.month) || c.hour > 23
      || c.minute > 59 || c.second > 59)
    goto bad;
  result_time(ctx, ms_from_civil(&c), 0);
  return;
bad:
  snprintf(err, sizeof err, "Invalid format: \"%.60s\"",
           (const char *)sqlite3_value_text(argv[0]));
  sqlite3_result_error(ctx, err, -1);
}


/* One Joda pattern letter repeated 'n' times. */
static int joda_field(sbuf *out, char letter, int n, const civil *c,
                      int dow, int doy)
{
  int h12 = c->hour % 12 == 0 ? 12 : c->hour % 12;
  char format[8];

  snprintf(format, sizeof format, "%%0%dd", n > 9 ? 9 : n);
  switch (letter) {
  case 'y': case 'Y': case 'x':
    if (n == 2)
      addf(out, "%02d", c->year % 100);
    else
      addf(out, format, c->year);
    break;
  case 'M':
    if (n >= 4)
      sbuf_adds(out, MONTHS[c->month - 1]);
    else if (n == 3)
      sbuf_add(out, MONTHS[c->month - 1], 3);
    else
      addf(out, format, c->month);
    break;
  case 'd': addf(out, format, c->day); break;
  case 'D': addf(out, format, doy); break;
  case 'H': addf(out, format, c->hour); break;
  case 'k': addf(out, format, c->hour == 0 ? 24 : c->hour); break;
  case 'h': addf(out, format, h12); break;
  case 'K': addf(out, format, c->hour % 12); break;
  case 'm': addf(out, format, c->minute); break;
  case 's': addf(out, format, c->second); break;
  case 'S': {
    char millis[4];

    snprintf(millis, sizeof millis, "%03d", c->millis);
    for (int i = 0; i < n; i++)
      sbuf_addc(out, i < 3 ? millis[i] : '0');
    break;
  }
  case 'E':
    if (n >= 4)
      sbuf_adds(out, DAYS[dow - 1]);
    else
      sbuf_add(out, DAYS[dow - 1], 3);
    break;
  case 'e': addf(out, format, dow); break;
  case 'a': sbuf_adds(out, c->hour < 12 ? "AM" : "PM"); break;
  case 'Z': sbuf_adds(out, n == 1 ? "+0000" : n == 2 ? "+00:00" : "UTC");
    break;
  case 'z': sbuf_adds(out, "UTC"); break;
  case 'G': sbuf_adds(out, c->year > 0 ? "AD" : "BC"); break;
  default:
    return -1;
  }
  return 0;
}


/* sq_format_datetime(ts, format): Joda-style formatting, in UTC. */
static void fn_format_datetime(sqlite3_context *ctx, int argc,
                               sqlite3_value **argv)
{
  sbuf out = {NULL, 0, 0, 0};
  const char *f;
  int64_t ms;
  char err[96];
  civil c;

  (void)argc;
  if (any_null(2, argv) || time_arg(ctx, argv[0], &ms, NULL) != 0)
    return;
  civil_from_ms(ms, &c);
  for (f = (const char *)sqlite3_value_text(argv[1]); *f != '\0'; f++) {
    if (*f == '\'') {
      if (f[1] == '\'') {
        sbuf_addc(&out, *f++);
        continue;
      }
      for (f++; *f != '\0' && !(*f == '\'' && f[1] != '\''); f++) {
        sbuf_addc(&out, *f);
        if (*f == '\'')
          f++;
      }
      if (*f == '\0')
        break;
    } else if (isalpha((unsigned char)*f)) {
      int n = 1;

      while (f[n] == *f)
        n++;
      if (joda_field(&out, *f, n, &c, day_of_week(floor_div(ms, MS_PER_DAY)),
                     day_of_year(&c)) != 0) {
        snprintf(err, sizeof err, "format_datetime letter '%c' is not "
                 "supported", *f);
        sqlite3_result_error(ctx, err, -1);
        sbuf_free(&out);
        return;
      }
      f += n - 1;
    } else {
      sbuf_addc(&out, *f);
    }
  }
  sqlite3_result_text(ctx, out.data != NULL ? out.data : "", (int)out.len,
                      SQLITE_TRANSIENT);
  sbuf_free(&out);
}


/* ---------------------------------------------------------------------
** SQL functions: JSON paths, casts, split, approx_percentile
** ------------------------------------------------------------------- */

/* Compare the key token at 'key' (on its quote) with 'want'. */
static int key_equals(const char *key, const char *key_end, const char *want,
                      size_t want_len)
{
  size_t n = (size_t)(key_end - key - 2);
  sbuf decoded = {NULL, 0, 0, 0};
  jscan s;
  int equal;

  if (memchr(key + 1, '\\', n) == NULL)
    return n == want_len && memcmp(key + 1, want, n) == 0;
  s.p = key;
  s.end = key_end;
  s.depth = 0;
  equal = js_string_decode(&s, &decoded) == 0 && decoded.len == want_len
          && memcmp(decoded.data, want, want_len) == 0;
  sbuf_free(&decoded);
  return equal;
}


/*
** Leave s->p on the value that 'path' ($.a.b[0]["c"]) names.  Returns
** 0 when found, 1 when absent, -1 for bad JSON, -2 for a bad path.
*/
static int json_path_find(jscan *s, const char *p)
{
  if (*p++ != '$')
    return -2;
  js_ws(s);
  while (*p != '\0') {
    const char *want = NULL, *want_end = NULL;
    long index = -1;

    if (*p == '.') {
      want = ++p;
      while (*p != '\0' && *p != '.' && *p != '[')
        p++;
      want_end = p;
      if (want_end == want)
        return -2;
    } else if (*p == '[' && (p[1] == '"' || p[1] == '\'')) {
      char quote = p[1];

      want = p + 2;
      want_end = strchr(want, quote);
      if (want_end == NULL || want_end[1] != ']')
        return -2;
      p = want_end + 2;
    } else if (*p == '[' && isdigit((unsigned char)p[1])) {
      char *end;

      index = strtol(p + 1, &end, 10);
      if (*end != ']')
        return -2;
      p = end + 1;
    } else {
      return -2;
    }
    if (s->p >= s->end)
      return -1;
    if (*s->p != (want != NULL ? '{' : '['))
      return js_skip(s) == 0 ? 1 : -1;
    s->p++;
    js_ws(s);
    if (s->p < s->end && *s->p == (want != NULL ? '}' : ']'))
      return 1;
    for (long i = 0;; i++) {
      int match;

      if (want != NULL) {
        const char *key = s->p;

        if (s->p >= s->end || *s->p != '"' || js_string_end(s) != 0)
          return -1;
        match = key_equals(key, s->p, want, (size_t)(want_end - want));
        js_ws(s);
        if (s->p >= s->end || *s->p++ != ':')
          return -1;
      } else {
        match = i == index;
      }
      js_ws(s);
      if (match)
        break;
      if (js_skip(s) != 0 || s->p >= s->end)
        return -1;
      if (*s->p != ',')
        return 1;
      s->p++;
      js_ws(s);
    }
  }
  return 0;
}


/*
** Find the value at the path of argv[1] in the JSON text argv[0].
** Returns 0 when found (s on it), 1 for NULL, -1 with an error set.
*/
static int json_arg(sqlite3_context *ctx, sqlite3_value **argv, jscan *s)
{
  const char *path;
  char err[160];
  int rc;

  if (any_null(2, argv))
    return 1;
  s->p = (const char *)sqlite3_value_text(argv[0]);
  s->end = s->p + sqlite3_value_bytes(argv[0]);
  s->depth = 0;
  path = (const char *)sqlite3_value_text(argv[1]);
  rc = json_path_find(s, path);
  if (rc == -2) {
    snprintf(err, sizeof err, "Invalid JSON path: '%.100s'", path);
    sqlite3_result_error(ctx, err, -1);
    return -1;
  }
  return rc == 0 ? 0 : 1;
}


/* Return the buffer as JSON text (SQLite's JSON subtype). */
static void result_json(sqlite3_context *ctx, sbuf *out)
{
  if (out->nomem) {
    sqlite3_result_error_nomem(ctx);
  } else {
    sqlite3_result_text(ctx, out->data, (int)out->len, SQLITE_TRANSIENT);
    sqlite3_result_subtype(ctx, JSON_SUBTYPE);
  }
}


/* sq_json_extract(json, path): the JSON text at the path. */
static void fn_json_extract(sqlite3_context *ctx, int argc,
                            sqlite3_value **argv)
{
  sbuf out = {NULL, 0, 0, 0};
  jscan s;

  (void)argc;
  if (json_arg(ctx, argv, &s) != 0)
    return;
  if (js_compact(&s, &out) == 0)
    result_json(ctx, &out);
  sbuf_free(&out);
}


/*
** The scalar at s->p as varchar: NULL for null; 'strict' raises for an
** object or array (CAST), otherwise they give NULL (json_extract_scalar).
*/
static void result_scalar(sqlite3_context *ctx, jscan *s, int strict)
{
  sbuf text = {NULL, 0, 0, 0};
  int r;

  js_ws(s);
  if (strict && s->p < s->end && (*s->p == '{' || *s->p == '[')) {
    sqlite3_result_error(ctx, "Cannot cast a JSON object or array to "
                         "varchar", -1);
    return;
  }
  r = js_scalar_text(s, &text);
  if (r == 0)
    sqlite3_result_text(ctx, text.data != NULL ? text.data : "",
                        (int)text.len, SQLITE_TRANSIENT);
  sbuf_free(&text);
}


/* sq_json_scalar(json, path): json_extract_scalar. */
static void fn_json_scalar(sqlite3_context *ctx, int argc,
                           sqlite3_value **argv)
{
  jscan s;

  (void)argc;
  if (json_arg(ctx, argv, &s) == 0)
    result_scalar(ctx, &s, 0);
}


/* sq_json_varchar(json): CAST(json AS VARCHAR). */
static void fn_json_varchar(sqlite3_context *ctx, int argc,
                            sqlite3_value **argv)
{
  jscan s;

  (void)argc;
  if (sqlite3_value_type(argv[0]) == SQLITE_NULL)
    return;
  s.p = (const char *)sqlite3_value_text(argv[0]);
  s.end = s.p + sqlite3_value_bytes(argv[0]);
  s.depth = 0;
  result_scalar(ctx, &s, 1);
}


/* sq_json_size(json, path): elements of an array or keys of an object. */
static void fn_json_size(sqlite3_context *ctx, int argc,
                         sqlite3_value **argv)
{
  sqlite3_int64 count = 0;
  jscan s;

  (void)argc;
  if (json_arg(ctx, argv, &s) != 0)
    return;
  if (s.p < s.end && (*s.p == '{' || *s.p == '[')) {
    int object = *s.p == '{';

    s.p++;
    js_ws(&s);
    while (s.p < s.end && *s.p != '}' && *s.p != ']') {
      if (object && (js_skip(&s) != 0 || s.p >= s.end || *s.p++ != ':'))
        return;
      if (js_skip(&s) != 0)
        return;
      count++;
      if (s.p < s.end && *s.p == ',')
        s.p++;
    }
  }
  sqlite3_result_int64(ctx, count);
}


/* sq_json_parse(text): json_parse, compact JSON or an error. */
static void fn_json_parse(sqlite3_context *ctx, int argc,
                          sqlite3_value **argv)
{
  sbuf out = {NULL, 0, 0, 0};
  char err[160];
  jscan s;

  (void)argc;
  if (sqlite3_value_type(argv[0]) == SQLITE_NULL)
    return;
  s.p = (const char *)sqlite3_value_text(argv[0]);
  s.end = s.p + sqlite3_value_bytes(argv[0]);
  s.depth = 0;
  if (js_compact(&s, &out) == 0 && s.p == s.end) {
    result_json(ctx, &out);
  } else {
    snprintf(err, sizeof err, "Cannot convert value to JSON: '%.100s'",
             (const char *)sqlite3_value_text(argv[0]));
    sqlite3_result_error(ctx, err, -1);
  }
  sbuf_free(&out);
}


/* sq_split(string, delimiter[, limit]): a JSON array of the parts. */
static void fn_split(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
  sbuf out = {NULL, 0, 0, 0};
  const char *s, *d, *hit;
  sqlite3_int64 limit = argc > 2 ? sqlite3_value_int64(argv[2]) : 0, n = 0;
  size_t dlen;

  if (any_null(argc, argv))
    return;
  s = (const char *)sqlite3_value_text(argv[0]);
  d = (const char *)sqlite3_value_text(argv[1]);
  dlen = (size_t)sqlite3_value_bytes(argv[1]);
  if (dlen == 0) {
    sqlite3_result_error(ctx, "The delimiter may not be the empty string",
                         -1);
    return;
  }
  sbuf_addc(&out, '[');
  while ((limit <= 0 || n + 1 < limit) && (hit = strstr(s, d)) != NULL) {
    json_quote(&out, s, (size_t)(hit - s));
    sbuf_addc(&out, ',');
    s = hit + dlen;
    n++;
  }
  json_quote(&out, s, strlen(s));
  sbuf_addc(&out, ']');
  result_json(ctx, &out);
  sbuf_free(&out);
}


/* sq_split_part(string, delimiter, index): 1-based, NULL past the end. */
static void fn_split_part(sqlite3_context *ctx, int argc,
                          sqlite3_value **argv)
{
  const char *s, *d, *hit;
  sqlite3_int64 index;
  size_t dlen;

  if (any_null(argc, argv))
    return;
  s = (const char *)sqlite3_value_text(argv[0]);
  d = (const char *)sqlite3_value_text(argv[1]);
  dlen = (size_t)sqlite3_value_bytes(argv[1]);
  index = sqlite3_value_int64(argv[2]);
  if (index <= 0) {
    sqlite3_result_error(ctx, "Index must be greater than zero", -1);
    return;
  }
  while (--index > 0) {
    hit = dlen > 0 ? strstr(s, d) : NULL;
    if (hit == NULL)
      return;
    s = hit + dlen;
  }
  hit = dlen > 0 ? strstr(s, d) : NULL;
  sqlite3_result_text(ctx, s, hit != NULL ? (int)(hit - s) : -1,
                      SQLITE_TRANSIENT);
}


/* Trino's error for a value that cannot be cast. */
static void cast_error(sqlite3_context *ctx, sqlite3_value *value,
                       const char *type)
{
  char err[160];

  snprintf(err, sizeof err, "Cannot cast '%.100s' to %s",
           (const char *)sqlite3_value_text(value), type);
  sqlite3_result_error(ctx, err, -1);
}


/* sq_cast_bigint(x, strict): doubles round half up, text is strict. */
static void fn_cast_bigint(sqlite3_context *ctx, int argc,
                           sqlite3_value **argv)
{
  int64_t i;
  double d;

  (void)argc;
  switch (sqlite3_value_type(argv[0])) {
  case SQLITE_NULL:
    return;
  case SQLITE_INTEGER:
    sqlite3_result_int64(ctx, sqlite3_value_int64(argv[0]));
    return;
  case SQLITE_FLOAT:
    d = sqlite3_value_double(argv[0]);
    if (isfinite(d) && fabs(d) < 9.2e18) {
      sqlite3_result_int64(ctx, (sqlite3_int64)llround(d));
      return;
    }
    break;
  default:
    if (parse_int64((const char *)sqlite3_value_text(argv[0]),
                    (size_t)sqlite3_value_bytes(argv[0]), &i) == 0) {
      sqlite3_result_int64(ctx, i);
      return;
    }
  }
  if (sqlite3_value_int(argv[1]))
    cast_error(ctx, argv[0], "BIGINT");
}


/* sq_cast_double(x, strict) */
static void fn_cast_double(sqlite3_context *ctx, int argc,
                           sqlite3_value **argv)
{
  const char *text;
  double d;

  (void)argc;
  switch (sqlite3_value_type(argv[0])) {
  case SQLITE_NULL:
    return;
  case SQLITE_INTEGER: case SQLITE_FLOAT:
    sqlite3_result_double(ctx, sqlite3_value_double(argv[0]));
    return;
  default:
    text = (const char *)sqlite3_value_text(argv[0]);
    if (parse_double(text, (size_t)sqlite3_value_bytes(argv[0]), &d) == 0) {
      sqlite3_result_double(ctx, d);
      return;
    }
    if (strcmp(text, "NaN") == 0 || strcmp(text, "Infinity") == 0
        || strcmp(text, "-Infinity") == 0) {
      if (text[0] == 'N')
        sqlite3_result_error(ctx, "a NaN result (CAST('NaN' AS double)) is "
                             "not supported by the local engine", -1);
      else
        sqlite3_result_double(ctx, text[0] == '-' ? -INFINITY : INFINITY);
      return;
    }
  }
  if (sqlite3_value_int(argv[1]))
    cast_error(ctx, argv[0], "DOUBLE");
}


/* sq_cast_boolean(x, strict) */
static void fn_cast_boolean(sqlite3_context *ctx, int argc,
                            sqlite3_value **argv)
{
  const char *text;
  int b = -1;

  (void)argc;
  switch (sqlite3_value_type(argv[0])) {
  case SQLITE_NULL:
    return;
  case SQLITE_INTEGER: case SQLITE_FLOAT:
    sqlite3_result_int(ctx, sqlite3_value_double(argv[0]) != 0);
    return;
  default:
    text = (const char *)sqlite3_value_text(argv[0]);
    b = bool_from_text(text, strlen(text));
    if (b < 0 && (strcasecmp(text, "t") == 0 || strcmp(text, "1") == 0))
      b = 1;
    if (b < 0 && (strcasecmp(text, "f") == 0 || strcmp(text, "0") == 0))
      b = 0;
  }
  if (b >= 0)
    sqlite3_result_int(ctx, b);
  else if (sqlite3_value_int(argv[1]))
    cast_error(ctx, argv[0], "BOOLEAN");
}


/* sq_double_text(x): CAST(double AS VARCHAR), Java's spelling. */
static void fn_double_text(sqlite3_context *ctx, int argc,
                           sqlite3_value **argv)
{
  char text[40];

  (void)argc;
  if (sqlite3_value_type(argv[0]) == SQLITE_NULL)
    return;
  sqlite_format_double(sqlite3_value_double(argv[0]), text);
  sqlite3_result_text(ctx, text, -1, SQLITE_TRANSIENT);
}


typedef struct {
  double *values;
  size_t count;
  size_t cap;
  double fraction;
} percentile;


/* approx_percentile(x, p) step: collect the values. */
static void percentile_step(sqlite3_context *ctx, int argc,
                            sqlite3_value **argv)
{
  percentile *acc = sqlite3_aggregate_context(ctx, sizeof *acc);

  (void)argc;
  if (acc == NULL) {
    sqlite3_result_error_nomem(ctx);
    return;
  }
  if (sqlite3_value_type(argv[0]) == SQLITE_NULL)
    return;
  acc->fraction = sqlite3_value_double(argv[1]);
  if (acc->count == acc->cap) {
    size_t cap = acc->cap ? acc->cap * 2 : 64;
    double *values = realloc(acc->values, cap * sizeof *values);

    if (values == NULL) {
      sqlite3_result_error_nomem(ctx);
      return;
    }
    acc->values = values;
    acc->cap = cap;
  }
  acc->values[acc->count++] = sqlite3_value_double(argv[0]);
}


/* qsort order of doubles. */
static int compare_doubles(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;

  return (x > y) - (x < y);
}


/*
** approx_percentile final: the nearest-rank value, exact on the data
** (Athena's answer comes from a sketch and may differ slightly).
*/
static void percentile_final(sqlite3_context *ctx)
{
  percentile *acc = sqlite3_aggregate_context(ctx, 0);
  size_t rank;

  if (acc == NULL || acc->count == 0)
    return;
  if (acc->fraction < 0 || acc->fraction > 1) {
    sqlite3_result_error(ctx, "Percentile must be between 0 and 1", -1);
  } else {
    qsort(acc->values, acc->count, sizeof *acc->values, compare_doubles);
    rank = (size_t)ceil(acc->fraction * (double)acc->count);
    sqlite3_result_double(ctx, acc->values[rank > 0 ? rank - 1 : 0]);
  }
  free(acc->values);
}


/* sq_nonzero(x): x, or Trino's error for a division by zero. */
static void fn_nonzero(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
  (void)argc;
  if (sqlite3_value_type(argv[0]) != SQLITE_NULL
      && sqlite3_value_double(argv[0]) == 0)
    sqlite3_result_error(ctx, "Division by zero", -1);
  else
    sqlite3_result_value(ctx, argv[0]);
}


/*
** Checked bigint arithmetic: sq_add, sq_sub, sq_mul, sq_div (two
** arguments) and sq_neg (one). NULL gives NULL; a division by zero and an
** integer overflow are Trino's errors rather than SQLite's NULL and silent
** change to a double; a double operand (not expected of a bigint
** expression) is computed as a double.
*/
static void fn_checked(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
  const char *op = sqlite3_user_data(ctx);
  sqlite3_int64 a, b = 0, r = 0;
  double x, y = 0;
  int i, overflow = 0;
  char *message;

  for (i = 0; i < argc; i++)
    if (sqlite3_value_type(argv[i]) == SQLITE_NULL)
      return;
  for (i = 0; i < argc; i++)
    if (sqlite3_value_numeric_type(argv[i]) != SQLITE_INTEGER) {
      x = sqlite3_value_double(argv[0]);
      y = argc > 1 ? sqlite3_value_double(argv[1]) : 0;
      if (*op == '/' && y == 0)
        sqlite3_result_error(ctx, "Division by zero", -1);
      else
        sqlite3_result_double(ctx, *op == '+' ? x + y : *op == '-' ? x - y
                                   : *op == '*' ? x * y : *op == '/' ? x / y
                                   : -x);
      return;
    }
  a = sqlite3_value_int64(argv[0]);
  if (argc > 1)
    b = sqlite3_value_int64(argv[1]);
  if (*op == '+')
    overflow = __builtin_add_overflow(a, b, &r);
  else if (*op == '-')
    overflow = __builtin_sub_overflow(a, b, &r);
  else if (*op == '*')
    overflow = __builtin_mul_overflow(a, b, &r);
  else if (*op == '/' && b == 0) {
    sqlite3_result_error(ctx, "Division by zero", -1);
    return;
  } else if (*op == '/' && a == INT64_MIN && b == -1)
    overflow = 1;
  else if (*op == '/')
    r = a / b;
  else
    overflow = __builtin_sub_overflow((sqlite3_int64)0, a, &r);
  if (!overflow) {
    sqlite3_result_int64(ctx, r);
    return;
  }
  if (argc > 1)
    message = sqlite3_mprintf("NUMERIC_VALUE_OUT_OF_RANGE: bigint %s "
                              "overflow: %lld %c %lld", op + 2,
                              (long long)a, op[0], (long long)b);
  else
    message = sqlite3_mprintf("NUMERIC_VALUE_OUT_OF_RANGE: bigint negation "
                              "overflow: %lld", (long long)a);
  if (message == NULL) {
    sqlite3_result_error_nomem(ctx);
  } else {
    sqlite3_result_error(ctx, message, -1);
    sqlite3_free(message);
  }
}


/*
** A double result as Trino computes it: infinities are kept (SQLite holds
** them), and a NaN, which SQLite would turn into NULL, is an error that
** shows the operation (`what`, with %s for each of the n operands).
*/
static void result_ieee(sqlite3_context *ctx, double r, const char *what,
                        sqlite3_value **argv, int n)
{
  char a[40] = "", b[40] = "", *message;

  if (!isnan(r)) {
    sqlite3_result_double(ctx, r);
    return;
  }
  sqlite_format_double(sqlite3_value_double(argv[0]), a);
  if (n > 1)
    sqlite_format_double(sqlite3_value_double(argv[1]), b);
  message = sqlite3_mprintf(what, a, b);
  if (message == NULL) {
    sqlite3_result_error_nomem(ctx);
    return;
  }
  sqlite3_result_error(ctx, message, -1);
  sqlite3_free(message);
}


#define NAN_RESULT(op) "a NaN result (" op ") is not supported by the " \
  "local engine"


/* sq_fdiv(x, y): x / y in doubles, x / 0 an infinity as in Trino. */
static void fn_fdiv(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
  if (any_null(argc, argv))
    return;
  result_ieee(ctx, sqlite3_value_double(argv[0])
              / sqlite3_value_double(argv[1]), NAN_RESULT("%s / %s"), argv,
              2);
}


/* sq_sqrt, sq_ln, sq_log10, sq_log2, sq_power: IEEE results of libm. */
static void fn_ieee(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
  const char *name = sqlite3_user_data(ctx);
  double x, r;

  if (any_null(argc, argv))
    return;
  x = sqlite3_value_double(argv[0]);
  if (strcmp(name, "sqrt") == 0)
    r = sqrt(x);
  else if (strcmp(name, "ln") == 0)
    r = log(x);
  else if (strcmp(name, "log10") == 0)
    r = log10(x);
  else if (strcmp(name, "log2") == 0)
    r = log2(x);
  else
    r = pow(x, sqlite3_value_double(argv[1]));
  if (argc > 1)
    result_ieee(ctx, r, NAN_RESULT("power(%s, %s)"), argv, 2);
  else if (strcmp(name, "sqrt") == 0)
    result_ieee(ctx, r, NAN_RESULT("sqrt(%s)"), argv, 1);
  else if (strcmp(name, "ln") == 0)
    result_ieee(ctx, r, NAN_RESULT("ln(%s)"), argv, 1);
  else if (strcmp(name, "log10") == 0)
    result_ieee(ctx, r, NAN_RESULT("log10(%s)"), argv, 1);
  else
    result_ieee(ctx, r, NAN_RESULT("log2(%s)"), argv, 1);
}


/* Length in bytes of the UTF-8 character starting with byte c. */
static int utf8_length(unsigned char c)
{
  return c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
}


/*
** sq_substr(string, start [, length]): Trino's substr, in characters:
** start 1 is the first, a negative start counts from the end, and a start
** of 0 or out of the string, or a length below 1, gives ''.
*/
static void fn_substr(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
  const unsigned char *s = sqlite3_value_text(argv[0]);
  int n = sqlite3_value_bytes(argv[0]), i, chars = 0, from, to;
  sqlite3_int64 start, length, first, last;

  for (i = 0; i < argc; i++)
    if (sqlite3_value_type(argv[i]) == SQLITE_NULL)
      return;
  if (s == NULL) {
    sqlite3_result_error_nomem(ctx);
    return;
  }
  for (i = 0; i < n; i += utf8_length(s[i]))
    chars++;
  start = sqlite3_value_int64(argv[1]);
  length = argc > 2 ? sqlite3_value_int64(argv[2]) : chars;
  first = start > 0 ? start - 1 : chars + start;
  if (start == 0 || length <= 0 || first < 0 || first >= chars) {
    sqlite3_result_text(ctx, "", 0, SQLITE_STATIC);
    return;
  }
  last = length > chars - first ? chars : first + length;
  from = to = 0;
  for (i = 0, chars = 0; i < n; i += utf8_length(s[i]), chars++) {
    if (chars == first)
      from = i;
    if (chars == last)
      break;
  }
  to = i < n ? i : n;
  sqlite3_result_text(ctx, (const char *)s + from, to - from,
                      SQLITE_TRANSIENT);
}


/* sq_reverse(string): the characters in reverse order. */
static void fn_reverse(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
  const char *s = (const char *)sqlite3_value_text(argv[0]);
  int n = sqlite3_value_bytes(argv[0]), i = 0, k;
  char *out;

  (void)argc;
  if (s == NULL)
    return;
  out = sqlite3_malloc(n + 1);
  if (out == NULL) {
    sqlite3_result_error_nomem(ctx);
    return;
  }
  while (i < n) {
    k = utf8_length((unsigned char)s[i]);
    if (i + k > n)
      k = n - i;
    memcpy(out + n - i - k, s + i, (size_t)k);
    i += k;
  }
  out[n] = '\0';
  sqlite3_result_text(ctx, out, n, sqlite3_free);
}


/* Characters in n bytes of UTF-8. */
static int utf8_count(const char *s, int n)
{
  int count = 0, i = 0;

  while (i < n) {
    i += utf8_length((unsigned char)s[i]);
    count++;
  }
  return count;
}


/* sq_lpad / sq_rpad (string, size, padding): Trino's lpad and rpad. */
static void pad(sqlite3_context *ctx, sqlite3_value **argv, int left)
{
  const char *s, *p;
  sqlite3_int64 size;
  int n, pn, have, i, cut = 0;
  sbuf out = {NULL, 0, 0, 0};

  if (any_null(3, argv))
    return;
  s = (const char *)sqlite3_value_text(argv[0]);
  n = sqlite3_value_bytes(argv[0]);
  size = sqlite3_value_int64(argv[1]);
  p = (const char *)sqlite3_value_text(argv[2]);
  pn = sqlite3_value_bytes(argv[2]);
  if (size < 0 || size > 1000000 || pn == 0) {
    sqlite3_result_error(ctx, "pad: the size must be from 0 to 1000000 "
                         "and the padding not empty", -1);
    return;
  }
  have = utf8_count(s, n);
  if (have >= size) {
    for (i = 0; i < size; i++)
      cut += utf8_length((unsigned char)s[cut]);
    sqlite3_result_text(ctx, s, cut, SQLITE_TRANSIENT);
    return;
  }
  if (!left)
    sbuf_add(&out, s, (size_t)n);
  for (i = 0; have + i < size; i++) {
    int k = 0, j, skip = i % utf8_count(p, pn);

    for (j = 0; j < skip; j++)
      k += utf8_length((unsigned char)p[k]);
    sbuf_add(&out, p + k, (size_t)utf8_length((unsigned char)p[k]));
  }
  if (left)
    sbuf_add(&out, s, (size_t)n);
  if (out.nomem)
    sqlite3_result_error_nomem(ctx);
  else
    sqlite3_result_text(ctx, out.data, (int)out.len, SQLITE_TRANSIENT);
  sbuf_free(&out);
}


/* sq_lpad(string, size, padding) */
static void fn_lpad(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
  (void)argc;
  pad(ctx, argv, 1);
}


/* sq_rpad(string, size, padding) */
static void fn_rpad(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
  (void)argc;
  pad(ctx, argv, 0);
}


typedef struct {
  sqlite3_value *value;
  sqlite3_value *key;
} best_by;


/* max_by(x, y) / min_by(x, y) step: keep x of the greatest/least y. */
static void best_by_step(sqlite3_context *ctx, sqlite3_value **argv,
                         int sign)
{
  best_by *acc = sqlite3_aggregate_context(ctx, sizeof *acc);
  int better;

  if (acc == NULL) {
    sqlite3_result_error_nomem(ctx);
    return;
  }
  if (sqlite3_value_type(argv[1]) == SQLITE_NULL)
    return;
  if (acc->key == NULL) {
    better = 1;
  } else if (sqlite3_value_type(argv[1]) == SQLITE_TEXT
             || sqlite3_value_type(acc->key) == SQLITE_TEXT) {
    better = sign * strcmp((const char *)sqlite3_value_text(argv[1]),
                           (const char *)sqlite3_value_text(acc->key)) > 0;
  } else {
    better = sign * (sqlite3_value_double(argv[1])
                     - sqlite3_value_double(acc->key)) > 0;
  }
  if (!better)
    return;
  sqlite3_value_free(acc->key);
  sqlite3_value_free(acc->value);
  acc->key = sqlite3_value_dup(argv[1]);
  acc->value = sqlite3_value_dup(argv[0]);
  if (acc->key == NULL || acc->value == NULL)
    sqlite3_result_error_nomem(ctx);
}


/* sq_max_by(x, y) step */
static void max_by_step(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
  (void)argc;
  best_by_step(ctx, argv, 1);
}


/* sq_min_by(x, y) step */
static void min_by_step(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
  (void)argc;
  best_by_step(ctx, argv, -1);
}


/* max_by / min_by final: the kept x. */
static void best_by_final(sqlite3_context *ctx)
{
  best_by *acc = sqlite3_aggregate_context(ctx, 0);

  if (acc == NULL)
    return;
  if (acc->value != NULL)
    sqlite3_result_value(ctx, acc->value);
  sqlite3_value_free(acc->key);
  sqlite3_value_free(acc->value);
}


typedef struct {
  sqlite3_value *value;
  sqlite3_int64 rows;
} scalar_rows;


/* sq_scalar(x) step: keep the first row's x; a second row is Trino's error. */
static void scalar_step(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
  scalar_rows *acc = sqlite3_aggregate_context(ctx, sizeof *acc);

  (void)argc;
  if (acc == NULL) {
    sqlite3_result_error_nomem(ctx);
    return;
  }
  if (++acc->rows > 1) {
    sqlite3_value_free(acc->value);
    acc->value = NULL;
    sqlite3_result_error(ctx, "Scalar sub-query has returned multiple rows",
                         -1);
    return;
  }
  acc->value = sqlite3_value_dup(argv[0]);
  if (acc->value == NULL)
    sqlite3_result_error_nomem(ctx);
}


/* sq_scalar final: the one row's x, or NULL for no row. */
static void scalar_final(sqlite3_context *ctx)
{
  scalar_rows *acc = sqlite3_aggregate_context(ctx, 0);

  if (acc == NULL)
    return;
  if (acc->value != NULL)
    sqlite3_result_value(ctx, acc->value);
  sqlite3_value_free(acc->value);
  acc->value = NULL;
}


/* ---------------------------------------------------------------------
** The Lua interface
** ------------------------------------------------------------------- */

typedef struct {
  sqlite3 *db;
} database;

typedef struct {
  sqlite3_stmt *stmt;
  int done;
} cursor;


static const struct {
  const char *name;
  int argc;
  void (*func)(sqlite3_context *, int, sqlite3_value **);
} FUNCTIONS[] = {
  {"regexp_like", 2, fn_regexp_like},
  {"regexp_extract", 2, fn_regexp_extract},
  {"regexp_extract", 3, fn_regexp_extract},
  {"regexp_extract_all", 2, fn_regexp_extract_all},
  {"regexp_extract_all", 3, fn_regexp_extract_all},
  {"regexp_replace", 2, fn_regexp_replace},
  {"regexp_replace", 3, fn_regexp_replace},
  {"sq_ts_add", 3, fn_ts_add},
  {"sq_ts_diff", 3, fn_ts_diff},
  {"sq_ts_trunc", 2, fn_ts_trunc},
  {"sq_ts_part", 2, fn_ts_part},
  {"sq_cast_ts", 2, fn_cast_ts},
  {"sq_cast_date", 2, fn_cast_date},
  {"sq_to_unixtime", 1, fn_to_unixtime},
  {"sq_from_unixtime", 1, fn_from_unixtime},
  {"sq_to_iso8601", 2, fn_to_iso8601},
  {"sq_date_format", 2, fn_date_format},
  {"sq_date_parse", 2, fn_date_parse},
  {"sq_format_datetime", 2, fn_format_datetime},
  {"sq_json_extract", 2, fn_json_extract},
  {"sq_json_scalar", 2, fn_json_scalar},
  {"sq_json_varchar", 1, fn_json_varchar},
  {"sq_json_size", 2, fn_json_size},
  {"sq_json_parse", 1, fn_json_parse},
  {"sq_split", 2, fn_split},
  {"sq_split", 3, fn_split},
  {"sq_split_part", 3, fn_split_part},
  {"sq_cast_bigint", 2, fn_cast_bigint},
  {"sq_cast_double", 2, fn_cast_double},
  {"sq_cast_boolean", 2, fn_cast_boolean},
  {"sq_double_text", 1, fn_double_text},
  {"sq_nonzero", 1, fn_nonzero},
  {"sq_reverse", 1, fn_reverse},
  {"sq_substr", 2, fn_substr},
  {"sq_fdiv", 2, fn_fdiv},
  {"sq_substr", 3, fn_substr},
  {"sq_lpad", 3, fn_lpad},
  {"sq_rpad", 3, fn_rpad},
};


/* The checked bigint operators; op is the sign, a space and the name. */
static const struct {
  const char *name;
  int argc;
  const char *op;
} CHECKED[] = {
  {"sq_add", 2, "+ addition"},
  {"sq_sub", 2, "- subtraction"},
  {"sq_mul", 2, "* multiplication"},
  {"sq_div", 2, "/ division"},
  {"sq_neg", 1, "~ negation"},
};


/* The IEEE math functions of fn_ieee, each with its name as user data. */
static const struct {
  const char *name;
  int argc;
  const char *op;
} IEEE[] = {
  {"sq_sqrt", 1, "sqrt"},
  {"sq_ln", 1, "ln"},
  {"sq_log10", 1, "log10"},
  {"sq_log2", 1, "log2"},
  {"sq_power", 2, "power"},
};


/* The database argument, open. */
static database *check_db(lua_State *L)
{
  database *d = luaL_checkudata(L, 1, DB_META);

  if (d->db == NULL)
    luaL_error(L, "the database is closed");
  return d;
}


/*
** sqlite.open(): a new in-memory database with Athena's functions and
** a case-sensitive LIKE.
*/
static int db_open(lua_State *L)
{
  database *d = lua_newuserdatauv(L, sizeof *d, 0);
  size_t i;
  int rc;

  d->db = NULL;
  luaL_setmetatable(L, DB_META);
  rc = sqlite3_open_v2(":memory:", &d->db, SQLITE_OPEN_READWRITE
                       | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
  for (i = 0; rc == SQLITE_OK && i < sizeof FUNCTIONS / sizeof *FUNCTIONS;
       i++)
    rc = sqlite3_create_function(d->db, FUNCTIONS[i].name, FUNCTIONS[i].argc,
                                 SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL,
                                 FUNCTIONS[i].func, NULL, NULL);
  for (i = 0; rc == SQLITE_OK && i < sizeof IEEE / sizeof *IEEE; i++)
    rc = sqlite3_create_function(d->db, IEEE[i].name, IEEE[i].argc,
                                 SQLITE_UTF8 | SQLITE_DETERMINISTIC,
                                 (void *)IEEE[i].op, fn_ieee, NULL, NULL);
  for (i = 0; rc == SQLITE_OK && i < sizeof CHECKED / sizeof *CHECKED; i++)
    rc = sqlite3_create_function(d->db, CHECKED[i].name, CHECKED[i].argc,
                                 SQLITE_UTF8 | SQLITE_DETERMINISTIC,
                                 (void *)CHECKED[i].op, fn_checked, NULL,
                                 NULL);
  if (rc == SQLITE_OK)
    rc = sqlite3_create_function(d->db, "approx_percentile", 2,
                                 SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL,
                                 NULL, percentile_step, percentile_final);
  if (rc == SQLITE_OK)
    rc = sqlite3_create_function(d->db, "sq_max_by", 2, SQLITE_UTF8, NULL,
                                 NULL, max_by_step, best_by_final);
  if (rc == SQLITE_OK)
    rc = sqlite3_create_function(d->db, "sq_scalar", 1, SQLITE_UTF8, NULL,
                                 NULL, scalar_step, scalar_final);
  if (rc == SQLITE_OK)
    rc = sqlite3_create_function(d->db, "sq_min_by", 2, SQLITE_UTF8, NULL,
                                 NULL, min_by_step, best_by_final);
  if (rc == SQLITE_OK)
    rc = sqlite3_exec(d->db, "PRAGMA case_sensitive_like = ON", NULL, NULL,
                      NULL);
  if (rc != SQLITE_OK) {
    lua_pushnil(L);
    lua_pushstring(L, d->db != NULL ? sqlite3_errmsg(d->db)
                                    : "cannot open SQLite");
    sqlite3_close_v2(d->db);
    d->db = NULL;
    return 2;
  }
  return 1;
}


/* Return nil and SQLite's message. */
static int push_error(lua_State *L, sqlite3 *db)
{
  lua_pushnil(L);
  lua_pushstring(L, sqlite3_errmsg(db));
  return 2;
}


/* db:exec(sql): true, or nil and the message. */
static int db_exec(lua_State *L)
{
  database *d = check_db(L);
  const char *sql = luaL_checkstring(L, 2);

  if (sqlite3_exec(d->db, sql, NULL, NULL, NULL) != SQLITE_OK)
    return push_error(L, d->db);
  lua_pushboolean(L, 1);
  return 1;
}


/* db:query(sql): a cursor over the rows, or nil and the message. */
static int db_query(lua_State *L)
{
  database *d = check_db(L);
  const char *sql = luaL_checkstring(L, 2);
  cursor *c = lua_newuserdatauv(L, sizeof *c, 1);

  c->stmt = NULL;
  c->done = 0;
  luaL_setmetatable(L, CURSOR_META);
  lua_pushvalue(L, 1);
  lua_setiuservalue(L, -2, 1);          /* the cursor keeps the db alive */
  if (sqlite3_prepare_v2(d->db, sql, -1, &c->stmt, NULL) != SQLITE_OK)
    return push_error(L, d->db);
  if (c->stmt == NULL) {
    lua_pushnil(L);
    lua_pushliteral(L, "empty statement");
    return 2;
  }
  return 1;
}


/* db:close() and __gc: the memory goes with the last statement. */
static int db_close(lua_State *L)
{
  database *d = luaL_checkudata(L, 1, DB_META);

  if (d->db != NULL)
    sqlite3_close_v2(d->db);           /* waits for open statements */
  d->db = NULL;
  return 0;
}


/* The cursor argument. */
static cursor *check_cursor(lua_State *L)
{
  return luaL_checkudata(L, 1, CURSOR_META);
}


/* cursor:columns(): the names of the result's columns. */
static int cursor_columns(lua_State *L)
{
  cursor *c = check_cursor(L);
  int i, n;

  if (c->stmt == NULL)
    return luaL_error(L, "the cursor is closed");
  n = sqlite3_column_count(c->stmt);
  lua_createtable(L, n, 0);
  for (i = 0; i < n; i++) {
    lua_pushstring(L, sqlite3_column_name(c->stmt, i));
    lua_rawseti(L, -2, i + 1);
  }
  return 1;
}


/*
** cursor:fetch(max, null): up to 'max' rows, each a list of values with
** 'null' for SQL NULL, and whether the result is exhausted.
*/
static int cursor_fetch(lua_State *L)
{
  cursor *c = check_cursor(L);
  lua_Integer max = luaL_checkinteger(L, 2), count = 0;
  int i, n, rc;

  luaL_checkany(L, 3);
  if (c->stmt == NULL)
    return luaL_error(L, "the cursor is closed");
  lua_newtable(L);
  n = sqlite3_column_count(c->stmt);
  while (!c->done && count < max) {
    rc = sqlite3_step(c->stmt);
    if (rc == SQLITE_DONE) {
      c->done = 1;
      break;
    }
    if (rc != SQLITE_ROW)
      return push_error(L, sqlite3_db_handle(c->stmt));
    lua_createtable(L, n, 0);
    for (i = 0; i < n; i++) {
      switch (sqlite3_column_type(c->stmt, i)) {
      case SQLITE_INTEGER:
        lua_pushinteger(L, (lua_Integer)sqlite3_column_int64(c->stmt, i));
        break;
      case SQLITE_FLOAT:
        lua_pushnumber(L, sqlite3_column_double(c->stmt, i));
        break;
      case SQLITE_NULL:
        lua_pushvalue(L, 3);
        break;
      default:
        lua_pushlstring(L, (const char *)sqlite3_column_text(c->stmt, i),
                        (size_t)sqlite3_column_bytes(c->stmt, i));
      }
      lua_rawseti(L, -2, i + 1);
    }
    lua_rawseti(L, -2, (lua_Integer)++count);
  }
  lua_pushboolean(L, c->done);
  return 2;
}


/* cursor:close() and __gc. */
static int cursor_close(lua_State *L)
{
  cursor *c = check_cursor(L);

  if (c->stmt != NULL)
    sqlite3_finalize(c->stmt);
  c->stmt = NULL;
  return 0;
}


/*
** db:loader(insert_sql, row_type, nconst): a loader whose statement
** takes the struct row_type's fields, then nconst constants.
*/
static int db_loader(lua_State *L)
{
  database *d = check_db(L);
  const char *sql = luaL_checkstring(L, 2);
  int nconst = (int)luaL_checkinteger(L, 4);
  loader *ld;
  char err[128];

  luaL_checktype(L, 3, LUA_TTABLE);
  ld = lua_newuserdatauv(L, sizeof *ld, 1);
  memset(ld, 0, sizeof *ld);
  luaL_setmetatable(L, LOADER_META);
  lua_pushvalue(L, 1);
  lua_setiuservalue(L, -2, 1);
  ld->nconst = nconst;
  ld->row = shape_from_lua(L, 3, 0, err, sizeof err);
  if (ld->row == NULL || ld->row->kind != K_STRUCT)
    return luaL_error(L, "loader: the row type must be a struct (%s)",
                      ld->row == NULL ? err : "not a struct");
  if (sqlite3_prepare_v2(d->db, sql, -1, &ld->stmt, NULL) != SQLITE_OK)
    return push_error(L, d->db);
  if (sqlite3_bind_parameter_count(ld->stmt) != ld->row->nfields + nconst)
    return luaL_error(L, "loader: the statement takes %d values, not %d",
                      sqlite3_bind_parameter_count(ld->stmt),
                      ld->row->nfields + nconst);
  return 1;
}


/*
** loader:load(path, constants, progress, every): inserts every record of
** the file; constants (a list) fill the columns after the JSON ones;
** progress(count) is called every 'every' records (default 50000).
** Returns the record count, or nil and a message naming the file and line.
*/
static int loader_load(lua_State *L)
{
  loader *ld = luaL_checkudata(L, 1, LOADER_META);
  const char *path = luaL_checkstring(L, 2);
  int i, progress = lua_isfunction(L, 4) ? 4 : 0;
  long long count, every = (long long)luaL_optinteger(L, 5, 50000);
  char err[512];

  luaL_checktype(L, 3, LUA_TTABLE);
  if (ld->stmt == NULL)
    return luaL_error(L, "the loader is closed");
  for (i = 1; i <= ld->nconst; i++) {
    int column = ld->row->nfields + i;

    lua_geti(L, 3, i);
    if (lua_isinteger(L, -1))
      sqlite3_bind_int64(ld->stmt, column, lua_tointeger(L, -1));
    else if (lua_type(L, -1) == LUA_TSTRING)
      sqlite3_bind_text(ld->stmt, column, lua_tostring(L, -1), -1,
                        SQLITE_TRANSIENT);
    else
      sqlite3_bind_null(ld->stmt, column);
    lua_pop(L, 1);
  }
  count = loader_file(L, ld, path, progress, every, err, sizeof err);
  if (count < 0) {
    lua_pushnil(L);
    lua_pushstring(L, err);
    return 2;
  }
  lua_pushinteger(L, (lua_Integer)count);
  return 1;
}


/* loader:close() and __gc. */
static int loader_close(lua_State *L)
{
  loader *ld = luaL_checkudata(L, 1, LOADER_META);

  if (ld->stmt != NULL)
    sqlite3_finalize(ld->stmt);
  ld->stmt = NULL;
  shape_free(ld->row);
  ld->row = NULL;
  sbuf_free(&ld->text);
  return 0;
}


/* sqlite.check_regex(pattern): nil, or why the pattern cannot be used. */
static int l_check_regex(lua_State *L)
{
  const char *pattern = luaL_checkstring(L, 1);
  java_regex jr;
  char err[512];

  if (java_regex_compile(&jr, pattern, err, sizeof err) != 0) {
    lua_pushstring(L, err);
    return 1;
  }
  regfree(&jr.re);
  return 0;
}


/* sqlite.format_double(x): a double as Athena renders it. */
static int l_format_double(lua_State *L)
{
  char text[40];

  sqlite_format_double(luaL_checknumber(L, 1), text);
  lua_pushstring(L, text);
  return 1;
}


/* sqlite.parse_timestamp(text): epoch milliseconds, or nil. */
static int l_parse_timestamp(lua_State *L)
{
  size_t n;
  const char *text = luaL_checklstring(L, 1, &n);
  int64_t ms;

  if (sqlite_parse_timestamp(text, n, &ms) != 0)
    return 0;
  lua_pushinteger(L, (lua_Integer)ms);
  return 1;
}


/* sqlite.format_timestamp(ms): 'YYYY-MM-DD HH:MM:SS.mmm'. */
static int l_format_timestamp(lua_State *L)
{
  char stamp[32];

  sqlite_format_timestamp((int64_t)luaL_checkinteger(L, 1), stamp);
  lua_pushstring(L, stamp);
  return 1;
}


static void new_class(lua_State *L, const char *name, const luaL_Reg *methods,
                      lua_CFunction gc)
{
  luaL_newmetatable(L, name);
  lua_newtable(L);
  luaL_setfuncs(L, methods, 0);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, gc);
  lua_setfield(L, -2, "__gc");
  lua_pushcfunction(L, gc);
  lua_setfield(L, -2, "__close");
  lua_pop(L, 1);
}


/* The module: open, format_double, parse_timestamp, files ... */
int luaopen_host_sqlite(lua_State *L)
{
  /* one thread per database: no allocator statistics, no mutex for them */
  sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
  static const luaL_Reg db_methods[] = {
    {"exec", db_exec}, {"query", db_query}, {"loader", db_loader},
    {"close", db_close}, {NULL, NULL}
  };
  static const luaL_Reg cursor_methods[] = {
    {"columns", cursor_columns}, {"fetch", cursor_fetch},
    {"close", cursor_close}, {NULL, NULL}
  };
  static const luaL_Reg loader_methods[] = {
    {"load", loader_load}, {"close", loader_close}, {NULL, NULL}
  };
  static const luaL_Reg functions[] = {
    {"open", db_open}, {"format_double", l_format_double},
    {"parse_timestamp", l_parse_timestamp},
    {"format_timestamp", l_format_timestamp},
    {"check_regex", l_check_regex},
    {NULL, NULL}
  };

  new_class(L, DB_META, db_methods, db_close);
  new_class(L, CURSOR_META, cursor_methods, cursor_close);
  new_class(L, LOADER_META, loader_methods, loader_close);
  luaL_newlib(L, functions);
  lua_pushstring(L, sqlite3_libversion());
  lua_setfield(L, -2, "version");
  return 1;
}
