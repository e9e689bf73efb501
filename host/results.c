/*
** results.c: Athena GetQueryResults pages turned into the rows' JSON
** objects without decoding the cells into Lua values.
**
** Athena sends every cell as an object, {"VarCharValue": "..."}, and the
** records want each row as one JSON object keyed by column name.  The
** values are JSON strings already, so they are copied, not decoded and
** encoded again.  The scan is in two steps: the first validates the
** whole body (strict JSON) and notes where each cell's string lies,
** because the rows may come before the column names; the second writes
** the rows.  A copied string is written exactly as lua-cjson would write
** the string it decodes to (the record specs compare records byte for
** byte): '/' as "\/", DEL and the control characters other than
** \b \t \n \f \r as lower-case "\u00XX", a "\u" escape of any other
** character as the character itself in UTF-8, other bytes as they are.
*/
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "results.h"

#define PAGE_METATABLE "host.results.page"
#define ENCODED_GROWTH 6 /* a byte may become "\u007f" */


/*
** 1 for the bytes that a JSON string holds as they are and that lua-cjson
** writes as they are: not the control characters, '"', '/', '\\' or DEL.
*/
static const unsigned char verbatim[256] = {
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x00 */
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x10 */
  1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, /* 0x20: '"' '/' */
  1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x30 */
  1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x40 */
  1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1, /* 0x50: '\\' */
  1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x60 */
  1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, /* 0x70: DEL */
  1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x80 */
  1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
  1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
  1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
  1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
  1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
  1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
  1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1  /* 0xf0 */
};


/* A JSON string in the body: where its opening quote is, its length
** with both quotes (0 for a missing value), and whether it holds only
** verbatim bytes, so that it can be copied as it is. */
typedef struct span {
  size_t start;
  size_t length;
  int plain;
} span;


/* A stored row: its cells are cells[first .. first + count - 1]. */
typedef struct row_cells {
  size_t first;
  size_t count;
} row_cells;


/* The first step's state: where it reads and what it has noted. */
typedef struct scanner {
  const char *body;
  const char *p;          /* next byte to read */
  const char *end;
  int first_page;
  char *error;            /* the page's error message */
  span *cells;
  size_t cell_count, cell_capacity;
  row_cells *rows;
  size_t row_count, row_capacity;
  span *columns;          /* the Name of each column */
  size_t column_count, column_capacity;
  span token;             /* NextToken, when has_token */
  int has_token;
} scanner;


/* What a callback over the members of an object or the elements of an
** array is called with; 'index' is 1-based. */
typedef int (*member_fn)(scanner *s, const span *key, void *context);
typedef int (*element_fn)(scanner *s, size_t index, void *context);


/*
** Writes an error message into the page, naming the byte (1-based) it
** is about, and returns -1.
*/
static int fail(scanner *s, const char *byte, const char *format, ...)
{
  char message[RESULTS_ERROR_SIZE - 32]; /* room for the byte */
  va_list arguments;

  va_start(arguments, format);
  vsnprintf(message, sizeof message, format, arguments);
  va_end(arguments);
  snprintf(s->error, RESULTS_ERROR_SIZE, "%s (at byte %zu)", message,
           (size_t)(byte - s->body) + 1);
  return -1;
}


/*
** Makes room for 'needed' items of 'size' bytes in the array at *items
** of *capacity items.  Returns 0, or -1 when memory is short.
*/
static int grow(void **items, size_t *capacity, size_t needed, size_t size)
{
  size_t wanted = *capacity > 0 ? *capacity : 16;
  void *larger;

  if (needed <= *capacity)
    return 0;
  while (wanted < needed) {
    if (wanted > SIZE_MAX / 2 / size)
      return -1;
    wanted *= 2;
  }
  larger = realloc(*items, wanted * size);
  if (larger == NULL)
    return -1;
  *items = larger;
  *capacity = wanted;
  return 0;
}


/* Room for 'more' bytes at the end of a buffer: 0, or -1. */
static int reserve(results_buffer *b, size_t more)
{
  if (more > SIZE_MAX - b->length)
    return -1;
  return grow((void **)&b->data, &b->capacity, b->length + more, 1);
}


/* The value of four hexadecimal digits at 'p', or -1. */
static long hex4(const char *p, const char *end)
{
  long value = 0;
  int i;

  if (end - p < 4)
    return -1;
  for (i = 0; i < 4; i++) {
    char c = p[i];
    value <<= 4;
    if (c >= '0' && c <= '9')
      value |= c - '0';
    else if (c >= 'a' && c <= 'f')
      value |= c - 'a' + 10;
    else if (c >= 'A' && c <= 'F')
      value |= c - 'A' + 10;
    else
      return -1;
  }
  return value;
}


/*
** Checks the escape at 'p' (a backslash) as lua-cjson reads them: a
** high surrogate must be followed by an escaped low one, and a low one
** must not stand alone.  Returns the byte after it, or NULL.
*/
static const char *check_escape(scanner *s, const char *p)
{
  long code, low;

  if (s->end - p < 2)
    return fail(s, p, "a string that never ends"), NULL;
  switch (p[1]) {
  case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r':
  case 't':
    return p + 2;
  case 'u':
    code = hex4(p + 2, s->end);
    if (code < 0)
      return fail(s, p, "\\u needs four hexadecimal digits"), NULL;
    if (code >= 0xDC00 && code <= 0xDFFF)
      return fail(s, p, "a low surrogate \\u escape with no high one"),
             NULL;
    if (code < 0xD800 || code > 0xDBFF)
      return p + 6;
    if (s->end - p < 12 || p[6] != '\\' || p[7] != 'u'
        || (low = hex4(p + 8, s->end)) < 0xDC00 || low > 0xDFFF)
      return fail(s, p, "a high surrogate \\u escape with no low one"),
             NULL;
    return p + 12;
  default:
    return fail(s, p, "an unknown escape in a string"), NULL;
  }
}


/*
** Reads the string whose opening quote is at s->p into 'out' and moves
** past it.  Returns 0, or -1 when it is not valid JSON.
*/
static int scan_string(scanner *s, span *out)
{
  const char *start = s->p, *p = s->p + 1, *end = s->end;
  int plain = 1;

  for (;;) {
    while (p < end && verbatim[(unsigned char)*p])
      p++;
    if (p >= end)
      return fail(s, start, "a string that never ends");
    if (*p == '"')
      break;
    if ((unsigned char)*p < 0x20)
      return fail(s, p, "a control character in a string (JSON wants it "
                  "escaped)");
    plain = 0;
    if (*p == '\\') {
      p = check_escape(s, p);
      if (p == NULL)
        return -1;
    } else {
      p++; /* '/' or DEL: valid, but lua-cjson escapes them */
    }
  }
  out->start = (size_t)(start - s->body);
  out->length = (size_t)(p + 1 - start);
  out->plain = plain;
  s->p = p + 1;
  return 0;
}


/*
** Writes byte 'c' of a decoded string: as it is when decoding, as
** lua-cjson writes it when encoding.  Returns where writing goes on.
*/
static char *put_byte(char *out, unsigned char c, int encode)
{
  static const char hex[] = "0123456789abcdef";
  char named = 0;

  if (!encode || verbatim[c]) {
    *out++ = (char)c;
    return out;
  }
  switch (c) {
  case '"': named = '"'; break;
  case '\\': named = '\\'; break;
  case '/': named = '/'; break;
  case '\b': named = 'b'; break;
  case '\f': named = 'f'; break;
  case '\n': named = 'n'; break;
  case '\r': named = 'r'; break;
  case '\t': named = 't'; break;
  default: break;
  }
  *out++ = '\\';
  if (named != 0) {
    *out++ = named;
    return out;
  }
  memcpy(out, "u00", 3);
  out[3] = hex[c >> 4];
  out[4] = hex[c & 0x0f];
  return out + 5;
}


/* Writes code point 'code' (0x80 or more) in UTF-8. */
static char *put_utf8(char *out, long code)
{
  if (code < 0x800) {
    *out++ = (char)(0xC0 | (code >> 6));
  } else if (code < 0x10000) {
    *out++ = (char)(0xE0 | (code >> 12));
    *out++ = (char)(0x80 | ((code >> 6) & 0x3F));
  } else {
    *out++ = (char)(0xF0 | (code >> 18));
    *out++ = (char)(0x80 | ((code >> 12) & 0x3F));
    *out++ = (char)(0x80 | ((code >> 6) & 0x3F));
  }
  *out++ = (char)(0x80 | (code & 0x3F));
  return out;
}


/*
** Converts a string the first step has checked ('token', quotes
** included): decoded to its bytes, or, when 'encode', to the JSON text
** lua-cjson writes for those bytes, quotes included.  'out' has room
** for the token's length (decoding) or six times it (encoding).
** Returns where writing ended.
*/
static char *convert_string(const char *token, size_t length, char *out,
                            int encode)
{
  const char *p = token + 1, *end = token + length - 1;

  if (encode)
    *out++ = '"';
  while (p < end) {
    const char *run = p;
    unsigned char c;
    long code;

    while (p < end && verbatim[(unsigned char)*p])
      p++;
    memcpy(out, run, (size_t)(p - run));
    out += p - run;
    if (p >= end)
      break;
    if (*p != '\\') {
      out = put_byte(out, (unsigned char)*p++, encode);
      continue;
    }
    switch (p[1]) {
    case 'b': c = '\b'; break;
    case 'f': c = '\f'; break;
    case 'n': c = '\n'; break;
    case 'r': c = '\r'; break;
    case 't': c = '\t'; break;
    case 'u':
      code = hex4(p + 2, end);
      p += 6;
      if (code >= 0xD800 && code <= 0xDBFF) { /* checked: a low one follows */
        code = 0x10000 + ((code - 0xD800) << 10) + (hex4(p + 2, end) - 0xDC00);
        p += 6;
      }
      if (code < 0x80)
        out = put_byte(out, (unsigned char)code, encode);
      else
        out = put_utf8(out, code);
      continue;
    default: c = (unsigned char)p[1]; break; /* '"', '\\' or '/' */
    }
    out = put_byte(out, c, encode);
    p += 2;
  }
  if (encode)
    *out++ = '"';
  return out;
}


/* Moves past JSON white space. */
static void skip_space(scanner *s)
{
  const char *p = s->p;

  while (p < s->end && (*p == ' ' || *p == '\n' || *p == '\r'
                        || *p == '\t'))
    p++;
  s->p = p;
}


/* Whether the next byte is 'c' (white space skipped before it). */
static int next_is(scanner *s, char c)
{
  skip_space(s);
  return s->p < s->end && *s->p == c;
}


/* Whether the byte at s->p is 'c' (no white space skipped). */
static int at(const scanner *s, char c)
{
  return s->p < s->end && *s->p == c;
}


/*
** Whether a key is 'name'.  Keys are compared decoded, so that an
** escaped spelling of a key is the same key, as for any JSON reader.
*/
static int key_is(const scanner *s, const span *key, const char *name)
{
  const char *token = s->body + key->start;
  size_t length = strlen(name);
  char decoded[64];
  char *end;

  if (key->plain)
    return key->length == length + 2
           && memcmp(token + 1, name, length) == 0;
  if (key->length > sizeof decoded)
    return 0; /* longer than any name asked about, even decoded */
  end = convert_string(token, key->length, decoded, 0);
  return (size_t)(end - decoded) == length
         && memcmp(decoded, name, length) == 0;
}


/* A word for the JSON type of the value at s->p, for messages. */
static const char *type_name(const scanner *s)
{
  if (s->p >= s->end)
    return "nothing";
  switch (*s->p) {
  case '{': return "an object";
  case '[': return "an array";
  case '"': return "a string";
  case 't': case 'f': return "a boolean";
  case 'n': return "null";
  default: return "a number"; /* or not JSON, which skip_value says */
  }
}


/* Moves past the literal 'word' (true, false or null), or fails. */
static int skip_literal(scanner *s, const char *word)
{
  size_t length = strlen(word);

  if ((size_t)(s->end - s->p) < length || memcmp(s->p, word, length) != 0)
    return fail(s, s->p, "expected a JSON value");
  s->p += length;
  return 0;
}


/* Whether the next byte is a decimal digit. */
static int at_digit(const scanner *s)
{
  return s->p < s->end && *s->p >= '0' && *s->p <= '9';
}


/* Moves past a number, as strict JSON spells them, or fails. */
static int skip_number(scanner *s)
{
  const char *start = s->p;

  if (s->p < s->end && *s->p == '-')
    s->p++;
  if (!at_digit(s))
    return fail(s, start, "expected a JSON value");
  if (*s->p++ != '0')
    while (at_digit(s))
      s->p++;
  if (s->p < s->end && *s->p == '.') {
    s->p++;
    if (!at_digit(s))
      return fail(s, start, "a number with no digits after its point");
    while (at_digit(s))
      s->p++;
  }
  if (s->p < s->end && (*s->p == 'e' || *s->p == 'E')) {
    s->p++;
    if (s->p < s->end && (*s->p == '+' || *s->p == '-'))
      s->p++;
    if (!at_digit(s))
      return fail(s, start, "a number with no digits in its exponent");
    while (at_digit(s))
      s->p++;
  }
  return 0;
}


/*
** Reads an object at s->p, calling 'member' for each member with s->p
** at its value (white space skipped); the callback must read the value.
*/
static int each_member(scanner *s, member_fn member, void *context)
{
  span key;

  s->p++; /* '{' */
  if (next_is(s, '}')) {
    s->p++;
    return 0;
  }
  for (;;) {
    if (!next_is(s, '"'))
      return fail(s, s->p, "expected a string key in an object");
    if (scan_string(s, &key) < 0)
      return -1;
    if (!next_is(s, ':'))
      return fail(s, s->p, "expected ':' after a key");
    s->p++;
    skip_space(s);
    if (member(s, &key, context) < 0)
      return -1;
    if (next_is(s, '}')) {
      s->p++;
      return 0;
    }
    if (!next_is(s, ','))
      return fail(s, s->p, "expected ',' or '}' in an object");
    s->p++;
  }
}


/*
** Reads an array at s->p, calling 'element' for each element with s->p
** at it (white space skipped); the callback must read the element.
*/
static int each_element(scanner *s, element_fn element, void *context)
{
  size_t index = 0;

  s->p++; /* '[' */
  if (next_is(s, ']')) {
    s->p++;
    return 0;
  }
  for (;;) {
    skip_space(s);
    if (element(s, ++index, context) < 0)
      return -1;
    if (next_is(s, ']')) {
      s->p++;
      return 0;
    }
    if (!next_is(s, ','))
      return fail(s, s->p, "expected ',' or ']' in an array");
    s->p++;
  }
}


static int skip_value(scanner *s, int depth);


/* Skips a member's value; 'context' points at the depth. */
static int skip_member(scanner *s, const span *key, void *context)
{
  (void)key;
  return skip_value(s, *(int *)context);
}


/* Skips an element; 'context' points at the depth. */
static int skip_element(scanner *s, size_t index, void *context)
{
  (void)index;
  return skip_value(s, *(int *)context);
}


/*
** Moves past any JSON value at s->p, checking it; 'depth' is how deep
** it is nested in the body.
*/
static int skip_value(scanner *s, int depth)
{
  span ignored;
  int inner = depth + 1;

  if (s->p >= s->end)
    return fail(s, s->p, "expected a JSON value, found the end");
  switch (*s->p) {
  case '{':
  case '[':
    if (depth >= RESULTS_MAX_DEPTH)
      return fail(s, s->p, "nested more than %d deep", RESULTS_MAX_DEPTH);
    return *s->p == '{' ? each_member(s, skip_member, &inner)
                        : each_element(s, skip_element, &inner);
  case '"':
    return scan_string(s, &ignored);
  case 't':
    return skip_literal(s, "true");
  case 'f':
    return skip_literal(s, "false");
  case 'n':
    return skip_literal(s, "null");
  default:
    return skip_number(s);
  }
}


/*
** Fails because the value at s->p is not of the type 'wanted': says what
** it is instead, or what is wrong when it is not JSON at all.  'format'
** and what follows name the part of the response.
*/
static int wrong_type(scanner *s, const char *wanted, const char *format,
                      ...)
{
  const char *start = s->p, *type = type_name(s);
  char what[128];
  va_list arguments;

  if (skip_value(s, 0) < 0)
    return -1;
  va_start(arguments, format);
  vsnprintf(what, sizeof what, format, arguments);
  va_end(arguments);
  return fail(s, start, "%s is %s, not %s", what, type, wanted);
}


/*
** Whether the value at s->p is null (and moves past it), for the parts
** where null means the same as absent.
*/
static int take_null(scanner *s)
{
  if (s->end - s->p >= 4 && memcmp(s->p, "null", 4) == 0) {
    s->p += 4;
    return 1;
  }
  return 0;
}


/*
** The row and the cell being read (1-based), and where the cell's value
** goes: NULL in the header row, which is checked but not kept.
*/
typedef struct place {
  size_t row;
  size_t cell;
  int kept;
  span *value;
} place;


/* A member of one cell ({"VarCharValue": "..."}). */
static int datum_member(scanner *s, const span *key, void *context)
{
  place *where = context;
  span value;

  if (!key_is(s, key, "VarCharValue"))
    return skip_value(s, 6);
  if (take_null(s)) {
    if (where->value != NULL)
      where->value->length = 0; /* the last one counts: missing */
    return 0;
  }
  if (!at(s, '"'))
    return wrong_type(s, "a string", "ResultSet.Rows[%zu].Data[%zu]."
                      "VarCharValue", where->row, where->cell);
  if (scan_string(s, &value) < 0)
    return -1;
  if (where->value != NULL)
    *where->value = value; /* the last one counts, as for lua-cjson */
  return 0;
}


/*
** Reads a cell spelled the way Athena spells it, {"VarCharValue":"..."}
** with no white space, without the general object reader.  Returns 1
** when it did, 0 when the cell is spelled otherwise (nothing is read),
** -1 when the string is not valid.
*/
static int take_usual_datum(scanner *s, span *value)
{
  static const char opening[] = "{\"VarCharValue\":\"";
  const size_t length = sizeof opening - 2; /* up to the value's quote */
  const char *start = s->p;

  if ((size_t)(s->end - s->p) < sizeof opening
      || memcmp(s->p, opening, sizeof opening - 1) != 0)
    return 0;
  s->p += length;
  if (scan_string(s, value) < 0)
    return -1;
  if (at(s, '}')) {
    s->p++;
    return 1;
  }
  s->p = start; /* more members, or white space: read it the general way */
  return 0;
}


/* One cell of a row: an object, or null for a missing value. */
static int datum_element(scanner *s, size_t index, void *context)
{
  place *where = context;
  span value;
  int usual;

  where->cell = index;
  where->value = NULL;
  if (where->kept) {
    if (grow((void **)&s->cells, &s->cell_capacity, s->cell_count + 1,
             sizeof *s->cells) < 0)
      return fail(s, s->p, "out of memory");
    where->value = &s->cells[s->cell_count++];
    where->value->length = 0; /* missing until a VarCharValue says */
    where->value->plain = 1;
    s->rows[s->row_count - 1].count++;
  }
  if (take_null(s))
    return 0;
  usual = take_usual_datum(s, &value);
  if (usual != 0) {
    if (usual > 0 && where->value != NULL)
      *where->value = value;
    return usual > 0 ? 0 : -1;
  }
  if (!at(s, '{'))
    return wrong_type(s, "an object", "ResultSet.Rows[%zu].Data[%zu]",
                      where->row, index);
  return each_member(s, datum_member, where);
}


/* A member of one row ({"Data": [...]}). */
static int row_member(scanner *s, const span *key, void *context)
{
  place *where = context;

  if (!key_is(s, key, "Data"))
    return skip_value(s, 4);
  if (where->kept) { /* the last Data counts */
    row_cells *row = &s->rows[s->row_count - 1];
    s->cell_count = row->first;
    row->count = 0;
  }
  if (take_null(s))
    return 0;
  if (!at(s, '['))
    return wrong_type(s, "an array", "ResultSet.Rows[%zu].Data",
                      where->row);
  return each_element(s, datum_element, where);
}


/*
** One row.  The first row of the first page is the header row: it is
** checked and left out.
*/
static int row_element(scanner *s, size_t index, void *context)
{
  place where = {index, 0, !(s->first_page && index == 1), NULL};

  (void)context;
  if (!at(s, '{'))
    return wrong_type(s, "an object", "ResultSet.Rows[%zu]", index);
  if (where.kept) {
    if (grow((void **)&s->rows, &s->row_capacity, s->row_count + 1,
             sizeof *s->rows) < 0)
      return fail(s, s->p, "out of memory");
    s->rows[s->row_count].first = s->cell_count;
    s->rows[s->row_count].count = 0;
    s->row_count++;
  }
  return each_member(s, row_member, &where);
}


/* A member of one column's description: its Name is kept. */
static int column_member(scanner *s, const span *key, void *context)
{
  size_t index = *(size_t *)context;

  if (!key_is(s, key, "Name"))
    return skip_value(s, 5);
  if (!at(s, '"'))
    return wrong_type(s, "a string", "ResultSet.ResultSetMetadata."
                      "ColumnInfo[%zu].Name", index);
  return scan_string(s, &s->columns[index - 1]);
}


/* One column's description, which must have a Name. */
static int column_element(scanner *s, size_t index, void *context)
{
  const char *start = s->p;

  (void)context;
  if (!at(s, '{'))
    return wrong_type(s, "an object", "ResultSet.ResultSetMetadata."
                      "ColumnInfo[%zu]", index);
  if (grow((void **)&s->columns, &s->column_capacity, index,
           sizeof *s->columns) < 0)
    return fail(s, s->p, "out of memory");
  s->column_count = index;
  s->columns[index - 1].length = 0;
  if (each_member(s, column_member, &index) < 0)
    return -1;
  if (s->columns[index - 1].length == 0)
    return fail(s, start, "ResultSet.ResultSetMetadata.ColumnInfo[%zu] has "
                "no Name", index);
  return 0;
}


/* A member of ResultSetMetadata: ColumnInfo is read. */
static int metadata_member(scanner *s, const span *key, void *context)
{
  (void)context;
  if (!key_is(s, key, "ColumnInfo"))
    return skip_value(s, 3);
  s->column_count = 0; /* the last ColumnInfo counts */
  if (take_null(s))
    return 0;
  if (!at(s, '['))
    return wrong_type(s, "an array",
                      "ResultSet.ResultSetMetadata.ColumnInfo");
  return each_element(s, column_element, NULL);
}


/* A member of ResultSet: Rows and ResultSetMetadata are read. */
static int result_set_member(scanner *s, const span *key, void *context)
{
  (void)context;
  if (key_is(s, key, "Rows")) {
    s->row_count = s->cell_count = 0; /* the last Rows counts */
    if (take_null(s))
      return 0;
    if (!at(s, '['))
      return wrong_type(s, "an array", "ResultSet.Rows");
    return each_element(s, row_element, NULL);
  }
  if (key_is(s, key, "ResultSetMetadata")) {
    s->column_count = 0;
    if (take_null(s))
      return 0;
    if (!at(s, '{'))
      return wrong_type(s, "an object", "ResultSet.ResultSetMetadata");
    return each_member(s, metadata_member, NULL);
  }
  return skip_value(s, 2);
}


/* A member of the response: ResultSet and NextToken are read. */
static int response_member(scanner *s, const span *key, void *context)
{
  (void)context;
  if (key_is(s, key, "ResultSet")) {
    s->row_count = s->cell_count = s->column_count = 0;
    if (take_null(s))
      return 0;
    if (!at(s, '{'))
      return wrong_type(s, "an object", "ResultSet");
    return each_member(s, result_set_member, NULL);
  }
  if (key_is(s, key, "NextToken")) {
    s->has_token = 0;
    if (take_null(s))
      return 0;
    if (!at(s, '"'))
      return wrong_type(s, "a string", "NextToken");
    s->has_token = 1;
    return scan_string(s, &s->token);
  }
  return skip_value(s, 1);
}


/* The first step: checks the whole body and notes where things are. */
static int scan_response(scanner *s)
{
  skip_space(s);
  if (s->p == s->end)
    return fail(s, s->p, "the response is empty");
  if (!at(s, '{'))
    return wrong_type(s, "an object", "the response");
  if (each_member(s, response_member, NULL) < 0)
    return -1;
  skip_space(s);
  if (s->p != s->end)
    return fail(s, s->p, "text after the JSON object");
  return 0;
}


/*
** Adds a checked string to a buffer: decoded, or as lua-cjson writes it
** (a name, a key or the token; the cells go through build_row).
*/
static int add_string(results_buffer *b, const char *body,
                      const span *string, int encode)
{
  char *end;

  if (reserve(b, encode ? ENCODED_GROWTH * string->length
                        : string->length) < 0)
    return -1;
  end = convert_string(body + string->start, string->length,
                       b->data + b->length, encode);
  b->length = (size_t)(end - b->data);
  return 0;
}


/* Adds 'length' bytes to a buffer: 0, or -1. */
static int add_bytes(results_buffer *b, const char *bytes, size_t length)
{
  if (reserve(b, length) < 0)
    return -1;
  memcpy(b->data + b->length, bytes, length);
  b->length += length;
  return 0;
}


/*
** Writes one row's JSON object at the end of 'rows': each column's key
** prefix, '{"name":' or ',"name":' (from 'prefixes', the column's ending
** where prefix_ends says), then its value or null.  Returns 0, or -1 when
** memory is short.
*/
static int build_row(const scanner *s, const row_cells *row,
                     results_buffer *rows, const results_buffer *prefixes,
                     const size_t *prefix_ends)
{
  const span *cells = s->cells + row->first;
  size_t count = row->count < s->column_count ? row->count
                                              : s->column_count;
  size_t needed = prefixes->length + 4 * s->column_count + 2, from = 0, c;
  char *out;

  for (c = 0; c < count; c++) /* null, or the value as written */
    needed += cells[c].plain ? cells[c].length
                             : ENCODED_GROWTH * cells[c].length;
  if (reserve(rows, needed) < 0)
    return -1;
  out = rows->data + rows->length;
  if (s->column_count == 0)
    *out++ = '{';
  for (c = 0; c < s->column_count; c++) {
    memcpy(out, prefixes->data + from, prefix_ends[c] - from);
    out += prefix_ends[c] - from;
    from = prefix_ends[c];
    if (c >= count || cells[c].length == 0) {
      memcpy(out, "null", 4);
      out += 4;
    } else if (cells[c].plain) {
      memcpy(out, s->body + cells[c].start, cells[c].length);
      out += cells[c].length;
    } else {
      out = convert_string(s->body + cells[c].start, cells[c].length, out,
                           1);
    }
  }
  *out++ = '}';
  rows->length = (size_t)(out - rows->data);
  return 0;
}


/*
** The second step: the column names, the rows' JSON objects and the
** token, into the page; 'prefixes' and 'prefix_ends' (room for a size
** per column) are scratch space.  Returns 0, or -1 when memory is short.
*/
static int build_page(scanner *s, results_page *page,
                      results_buffer *prefixes, size_t *prefix_ends)
{
  size_t r, c;

  if (reserve(&page->names, 1) < 0 || reserve(&page->token, 1) < 0)
    return -1; /* never a NULL text, even when all are empty */
  for (c = 0; c < s->column_count; c++) {
    if (add_string(&page->names, s->body, &s->columns[c], 0) < 0
        || add_bytes(prefixes, c == 0 ? "{" : ",", 1) < 0
        || add_string(prefixes, s->body, &s->columns[c], 1) < 0
        || add_bytes(prefixes, ":", 1) < 0)
      return -1;
    page->name_ends[c] = page->names.length;
    prefix_ends[c] = prefixes->length;
  }
  page->column_count = s->column_count;
  if (reserve(&page->rows, (size_t)(s->end - s->body)) < 0)
    return -1;
  for (r = 0; r < s->row_count; r++) {
    if (build_row(s, &s->rows[r], &page->rows, prefixes, prefix_ends) < 0)
      return -1;
    page->row_ends[r] = page->rows.length;
  }
  page->row_count = s->row_count;
  page->has_token = s->has_token;
  if (s->has_token && add_string(&page->token, s->body, &s->token, 0) < 0)
    return -1;
  return 0;
}


/*
** Parses a body into a page (see results.h): the scan, then the build;
** the scratch space of both is released here, the page's on error.
*/
int results_parse(const char *body, size_t length, int first_page,
                  results_page *page)
{
  scanner s;
  results_buffer prefixes = {NULL, 0, 0};
  size_t *prefix_ends = NULL;
  int status = -1;

  results_free(page);
  if (length > SIZE_MAX / (2 * ENCODED_GROWTH)) { /* no size overflows */
    snprintf(page->error, RESULTS_ERROR_SIZE, "a page of %zu bytes is too "
             "large", length);
    return -1;
  }
  memset(&s, 0, sizeof s);
  s.body = s.p = body;
  s.end = body + length;
  s.first_page = first_page;
  s.error = page->error;
  if (scan_response(&s) < 0)
    goto done;
  page->name_ends = malloc((s.column_count + 1) * sizeof *page->name_ends);
  page->row_ends = malloc((s.row_count + 1) * sizeof *page->row_ends);
  prefix_ends = malloc((s.column_count + 1) * sizeof *prefix_ends);
  if (page->name_ends == NULL || page->row_ends == NULL
      || prefix_ends == NULL || build_page(&s, page, &prefixes,
                                           prefix_ends) < 0) {
    snprintf(page->error, RESULTS_ERROR_SIZE,
             "out of memory for a page of %zu bytes", length);
    goto done;
  }
  status = 0;
done:
  if (status < 0) {
    char message[RESULTS_ERROR_SIZE];

    memcpy(message, page->error, sizeof message);
    results_free(page);
    memcpy(page->error, message, sizeof message);
  }
  free(prefixes.data);
  free(prefix_ends);
  free(s.cells);
  free(s.rows);
  free(s.columns);
  return status;
}


/* Column 'index' of a page: its name, decoded, and its length. */
const char *results_column(const results_page *page, size_t index,
                           size_t *length)
{
  size_t start = index == 0 ? 0 : page->name_ends[index - 1];

  *length = page->name_ends[index] - start;
  return page->names.data + start;
}


/* Row 'index' of a page: its JSON object text and its length. */
const char *results_row(const results_page *page, size_t index,
                        size_t *length)
{
  size_t start = index == 0 ? 0 : page->row_ends[index - 1];

  *length = page->row_ends[index] - start;
  return page->rows.data + start;
}


/* Releases a page's buffers and zeroes it, error message included. */
void results_free(results_page *page)
{
  free(page->names.data);
  free(page->name_ends);
  free(page->rows.data);
  free(page->row_ends);
  free(page->token.data);
  memset(page, 0, sizeof *page);
}


/* __gc of a page: frees what an error left behind. */
static int page_gc(lua_State *L)
{
  results_free(luaL_checkudata(L, 1, PAGE_METATABLE));
  return 0;
}


/*
** page(body, first) -> { columns = {...}, rows = {...}, next_token = }
** or nil, message when the body is not a GetQueryResults response.
*/
static int results_page_lua(lua_State *L)
{
  size_t length, i, n;
  const char *body = luaL_checklstring(L, 1, &length);
  results_page *page;

  luaL_checktype(L, 2, LUA_TBOOLEAN);
  page = lua_newuserdatauv(L, sizeof *page, 0);
  memset(page, 0, sizeof *page);
  luaL_setmetatable(L, PAGE_METATABLE);
  if (results_parse(body, length, lua_toboolean(L, 2), page) < 0) {
    lua_pushnil(L);
    lua_pushstring(L, page->error);
    return 2;
  }
  lua_createtable(L, 0, 3);
  lua_createtable(L, (int)page->column_count, 0);
  for (i = 0; i < page->column_count; i++) {
    const char *name = results_column(page, i, &n);
    lua_pushlstring(L, name, n);
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  lua_setfield(L, -2, "columns");
  lua_createtable(L, (int)page->row_count, 0);
  for (i = 0; i < page->row_count; i++) {
    const char *row = results_row(page, i, &n);
    lua_pushlstring(L, row, n);
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  lua_setfield(L, -2, "rows");
  if (page->has_token) {
    lua_pushlstring(L, page->token.data, page->token.length);
    lua_setfield(L, -2, "next_token");
  }
  results_free(page); /* now, not at the next collection */
  return 1;
}


/* The module: page(), and the metatable that frees a page on error. */
int luaopen_host_results(lua_State *L)
{
  static const luaL_Reg functions[] = {
    {"page", results_page_lua},
    {NULL, NULL}
  };

  if (luaL_newmetatable(L, PAGE_METATABLE)) {
    lua_pushcfunction(L, page_gc);
    lua_setfield(L, -2, "__gc");
  }
  lua_pop(L, 1);
  luaL_newlib(L, functions);
  return 1;
}
