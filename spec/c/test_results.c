/*
** test_results.c: host.results, which turns a GetQueryResults body into
** the rows' JSON objects, on bodies written here: escapes, nulls, key
** order, extra keys, the header row, empty results and malformed bodies.
** TAP output.  Bodies are written with ' for " so that they stay
** readable; none needs a real apostrophe.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lualib.h>

#include "results.h"

#define FIRST 1 /* the first page of a result: its first row is a header */
#define LATER 0

static int test_number;
static int failures;


/* Prints one TAP line. */
static void ok(int condition, const char *name)
{
  test_number++;
  if (!condition)
    failures++;
  printf("%sok %d - %s\n", condition ? "" : "not ", test_number, name);
  fflush(stdout);
}


/* 'text' with every ' turned into ", in memory the caller frees. */
static char *quoted(const char *text)
{
  size_t length = strlen(text), i;
  char *body = malloc(length + 1);

  if (body == NULL)
    abort();
  for (i = 0; i <= length; i++)
    body[i] = text[i] == '\'' ? '"' : text[i];
  return body;
}


/*
** The page's column names joined by '|', its rows joined by newlines and
** its token (or "(none)"), in memory the caller frees.
*/
static char *describe(const results_page *page)
{
  size_t size = page->names.length + page->rows.length
                + page->token.length + page->column_count
                + page->row_count + 32, i, n, used = 0;
  char *text = malloc(size);

  if (text == NULL)
    abort();
  for (i = 0; i < page->column_count; i++) {
    const char *name = results_column(page, i, &n);
    used += (size_t)snprintf(text + used, size - used, "%s%.*s",
                             i > 0 ? "|" : "", (int)n, name);
  }
  used += (size_t)snprintf(text + used, size - used, "\n");
  for (i = 0; i < page->row_count; i++) {
    const char *row = results_row(page, i, &n);
    used += (size_t)snprintf(text + used, size - used, "%.*s\n", (int)n,
                             row);
  }
  if (page->has_token)
    snprintf(text + used, size - used, "token %.*s",
             (int)page->token.length, page->token.data);
  else
    snprintf(text + used, size - used, "(none)");
  return text;
}


/*
** Parses 'body' (with ' for ") and checks what comes out: the column
** names joined by '|', a newline, each row and a newline, then
** "token T" or "(none)".  'expected' is written with ' for " too.
*/
static void expect_page(const char *name, const char *body, int first,
                        const char *expected)
{
  char *json = quoted(body), *want = quoted(expected), *got = NULL;
  results_page page;
  int status;

  memset(&page, 0, sizeof page);
  status = results_parse(json, strlen(json), first, &page);
  if (status == 0)
    got = describe(&page);
  ok(status == 0 && strcmp(got, want) == 0, name);
  if (status != 0)
    printf("# failed: %s\n", page.error);
  else if (strcmp(got, want) != 0)
    printf("# expected:\n%s\n# got:\n%s\n", want, got);
  results_free(&page);
  free(got);
  free(want);
  free(json);
}


/* Parses 'body' as it is (no ' turned into ") and expects 'message'. */
static void expect_error_raw(const char *name, const char *body,
                             size_t length, const char *message)
{
  results_page page;
  int status;

  memset(&page, 0, sizeof page);
  status = results_parse(body, length, FIRST, &page);
  ok(status == -1 && strcmp(page.error, message) == 0
     && page.row_count == 0 && page.rows.data == NULL, name);
  if (status != -1 || strcmp(page.error, message) != 0)
    printf("# expected: %s\n# got: %s\n", message,
           status == 0 ? "success" : page.error);
  results_free(&page);
}


/* Parses 'body' (with ' for ") and expects it to fail with 'message'. */
static void expect_error(const char *name, const char *body,
                         const char *message)
{
  char *json = quoted(body);

  expect_error_raw(name, json, strlen(json), message);
  free(json);
}


static void test_rows(void)
{
  expect_page("the first page leaves out its header row",
    "{'ResultSet':{'Rows':[{'Data':[{'VarCharValue':'user'},"
    "{'VarCharValue':'n'}]},{'Data':[{'VarCharValue':'bob'},"
    "{'VarCharValue':'1'}]},{'Data':[{'VarCharValue':'sally'},"
    "{'VarCharValue':'22'}]}],'ResultSetMetadata':{'ColumnInfo':"
    "[{'Name':'user','Type':'varchar'},{'Name':'n','Type':'bigint'}]}},"
    "'NextToken':'AbC+/=','UpdateCount':0}", FIRST,
    "user|n\n{'user':'bob','n':'1'}\n{'user':'sally','n':'22'}\n"
    "token AbC+/=");
  expect_page("a later page keeps its first row",
    "{'ResultSet':{'Rows':[{'Data':[{'VarCharValue':'bob'}]}],"
    "'ResultSetMetadata':{'ColumnInfo':[{'Name':'user'}]}}}", LATER,
    "user\n{'user':'bob'}\n(none)");
  expect_page("a missing value is null: {}, a null cell, a null "
    "VarCharValue, a short row",
    "{'ResultSet':{'ResultSetMetadata':{'ColumnInfo':[{'Name':'a'},"
    "{'Name':'b'},{'Name':'c'}]},'Rows':[{'Data':[{},null,"
    "{'VarCharValue':null}]},{'Data':[{'VarCharValue':'x'}]},{'Data':[]},"
    "{'Data':null},{}]}}", LATER,
    "a|b|c\n{'a':null,'b':null,'c':null}\n{'a':'x','b':null,'c':null}\n"
    "{'a':null,'b':null,'c':null}\n{'a':null,'b':null,'c':null}\n"
    "{'a':null,'b':null,'c':null}\n(none)");
  expect_page("cells past the last column are left out",
    "{'ResultSet':{'ResultSetMetadata':{'ColumnInfo':[{'Name':'a'}]},"
    "'Rows':[{'Data':[{'VarCharValue':'1'},{'VarCharValue':'2'}]}]}}",
    LATER, "a\n{'a':'1'}\n(none)");
  expect_page("an empty string is a value, not null",
    "{'ResultSet':{'ResultSetMetadata':{'ColumnInfo':[{'Name':'a'}]},"
    "'Rows':[{'Data':[{'VarCharValue':''}]}]}}", LATER,
    "a\n{'a':''}\n(none)");
  expect_page("keys come in column order, whatever the order of the body",
    "{'NextToken':'t','ResultSet':{'ResultSetMetadata':{'ColumnInfo':"
    "[{'Type':'varchar','Name':'z'},{'Label':'a','Name':'a'}]},"
    "'Rows':[{'Data':[{'VarCharValue':'h1'},{'VarCharValue':'h2'}]},"
    "{'Data':[{'VarCharValue':'1'},{'VarCharValue':'2'}]}]}}", FIRST,
    "z|a\n{'z':'1','a':'2'}\ntoken t");
  expect_page("two columns of the same name keep both values",
    "{'ResultSet':{'ResultSetMetadata':{'ColumnInfo':[{'Name':'a'},"
    "{'Name':'a'}]},'Rows':[{'Data':[{'VarCharValue':'1'},"
    "{'VarCharValue':'2'}]}]}}", LATER, "a|a\n{'a':'1','a':'2'}\n(none)");
}


static void test_layout(void)
{
  expect_page("white space anywhere is allowed",
    " \n{ 'ResultSet' :\t{\r\n  'Rows' : [ { 'Data' : [ { 'VarCharValue' "
    ": 'v' } , { } ] } ] ,\n  'ResultSetMetadata' : { 'ColumnInfo' : [ {"
    " 'Name' : 'a' } , { 'Name' : 'b' } ] } } , 'NextToken' : null }\n\n",
    LATER, "a|b\n{'a':'v','b':null}\n(none)");
  expect_page("extra keys of every type are skipped at every level",
    "{'Extra':{'x':[1,-2.5e+3,true,false,null,{'y':'}]'}]},"
    "'ResultSet':{'More':[[],{}],'ResultSetMetadata':{'Other':0,"
    "'ColumnInfo':[{'Name':'a','Precision':2147483647,'Scale':0,"
    "'Nullable':'UNKNOWN','CaseSensitive':true}]},'Rows':[{'Meta':"
    "{'Data':'not this'},'Data':[{'Type':'x','VarCharValue':'v',"
    "'More':[1E5,0.5]}]}]},'UpdateCount':0}", LATER,
    "a\n{'a':'v'}\n(none)");
  expect_page("escaped spellings of the keys are the same keys",
    "{'Result\\u0053et':{'\\u0052ows':[{'D\\u0061ta':[{'VarChar"
    "\\u0056alue':'v'}]}],'ResultSetMetadata':{'ColumnInfo':[{'N\\u0061me'"
    ":'a'}]}},'Next\\u0054oken':'t'}", LATER, "a\n{'a':'v'}\ntoken t");
  expect_page("the last of two same keys counts, as for lua-cjson",
    "{'NextToken':'t','NextToken':null,'ResultSet':{'ResultSetMetadata':"
    "{'ColumnInfo':[{'Name':'x','Name':'a'}]},'Rows':[{'Data':"
    "[{'VarCharValue':'v','VarCharValue':'w'},{}],'Data':[{'VarCharValue'"
    ":'1','VarCharValue':null}]}]}}", LATER, "a\n{'a':null}\n(none)");
  expect_page("a later ResultSet replaces an earlier one",
    "{'ResultSet':{'ResultSetMetadata':{'ColumnInfo':[{'Name':'a'}]},"
    "'Rows':[{'Data':[{'VarCharValue':'1'}]}]},'ResultSet':{'Rows':"
    "[{'Data':[{'VarCharValue':'2'}]}]}}", LATER, "\n{}\n(none)");
}


static void test_escapes(void)
{
  expect_page("'/' and an escaped '/' are written as lua-cjson does: \\/",
    "{'ResultSet':{'ResultSetMetadata':{'ColumnInfo':[{'Name':'a/b'}]},"
    "'Rows':[{'Data':[{'VarCharValue':'http://x\\/y'}]}]}}", LATER,
    "a/b\n{'a\\/b':'http:\\/\\/x\\/y'}\n(none)");
  expect_page("named escapes stay as they are",
    "{'ResultSet':{'ResultSetMetadata':{'ColumnInfo':[{'Name':'a'}]},"
    "'Rows':[{'Data':[{'VarCharValue':'q\\'b\\\\s\\bb\\ff\\nn\\rr\\tt'}]}]}}",
    LATER, "a\n{'a':'q\\'b\\\\s\\bb\\ff\\nn\\rr\\tt'}\n(none)");
  expect_page("\\u escapes of ASCII become the character or its named "
    "escape",
    "{'ResultSet':{'ResultSetMetadata':{'ColumnInfo':[{'Name':'a'}]},"
    "'Rows':[{'Data':[{'VarCharValue':'\\u0041\\u002F\\u0022\\u005c"
    "\\u0008\\u0009\\u000A\\u000c\\u000D'}]}]}}", LATER,
    "a\n{'a':'A\\/\\'\\\\\\b\\t\\n\\f\\r'}\n(none)");
  expect_page("other control characters and DEL are lower-case \\u00XX",
    "{'ResultSet':{'ResultSetMetadata':{'ColumnInfo':[{'Name':'a'}]},"
    "'Rows':[{'Data':[{'VarCharValue':'\\u0000\\u0001\\u000B\\u001F"
    "\\u007F\x7f'}]}]}}", LATER,
    "a\n{'a':'\\u0000\\u0001\\u000b\\u001f\\u007f\\u007f'}\n(none)");
  expect_page("\\u escapes past ASCII become UTF-8; UTF-8 stays as it is",
    "{'ResultSet':{'ResultSetMetadata':{'ColumnInfo':[{'Name':'a'}]},"
    "'Rows':[{'Data':[{'VarCharValue':'\\u00e9\\u00C9\\u20ac\\uFFFF"
    "\\ud83d\\ude00\\uD800\\uDC00 \xc3\xa9\xf0\x9f\x98\x80'}]}]}}", LATER,
    "a\n{'a':'\xc3\xa9\xc3\x89\xe2\x82\xac\xef\xbf\xbf\xf0\x9f\x98\x80"
    "\xf0\x90\x80\x80 \xc3\xa9\xf0\x9f\x98\x80'}\n(none)");
  expect_page("column names and the token are decoded",
    "{'ResultSet':{'ResultSetMetadata':{'ColumnInfo':[{'Name':"
    "'\\u00e9\\t\\'x\\''}]},'Rows':[{'Data':[{'VarCharValue':'1'}]}]},"
    "'NextToken':'a\\/b\\u002bc'}", LATER,
    "\xc3\xa9\t'x'\n{'\xc3\xa9\\t\\'x\\'':'1'}\ntoken a/b+c");
}


static void test_empty(void)
{
  expect_page("a first page with only its header row has no rows",
    "{'ResultSet':{'Rows':[{'Data':[{'VarCharValue':'a'}]}],"
    "'ResultSetMetadata':{'ColumnInfo':[{'Name':'a'}]}}}", FIRST,
    "a\n(none)");
  expect_page("an empty Rows has no rows",
    "{'ResultSet':{'Rows':[],'ResultSetMetadata':{'ColumnInfo':"
    "[{'Name':'a'}]}}}", FIRST, "a\n(none)");
  expect_page("an empty object has no columns, rows or token", "{}", FIRST,
    "\n(none)");
  expect_page("a null ResultSet is none",
    "{'ResultSet':null,'NextToken':''}", FIRST, "\ntoken ");
  expect_page("rows with no columns are empty objects",
    "{'ResultSet':{'Rows':[{'Data':[{'VarCharValue':'1'}]},{}]}}", LATER,
    "\n{}\n{}\n(none)");
}


static void test_malformed(void)
{
  static char deep[2 * RESULTS_MAX_DEPTH + 40];
  size_t i;

  expect_error("an empty body", "", "the response is empty (at byte 1)");
  expect_error("white space only", "  \n",
               "the response is empty (at byte 4)");
  expect_error("an array", "[{'ResultSet':{}}]",
               "the response is an array, not an object (at byte 1)");
  expect_error("HTML", "<html>", "expected a JSON value (at byte 1)");
  expect_error("a body cut short", "{'ResultSet':{'Rows':[",
               "expected a JSON value, found the end (at byte 23)");
  expect_error("text after the object", "{} {}",
               "text after the JSON object (at byte 4)");
  expect_error("a string that never ends", "{'NextToken':'abc",
               "a string that never ends (at byte 14)");
  expect_error("an unknown escape", "{'NextToken':'a\\x'}",
               "an unknown escape in a string (at byte 16)");
  expect_error("a short \\u escape", "{'NextToken':'\\u12'}",
               "\\u needs four hexadecimal digits (at byte 15)");
  expect_error("a lone high surrogate", "{'NextToken':'\\ud83d!'}",
               "a high surrogate \\u escape with no low one (at byte 15)");
  expect_error("a high surrogate and no low one",
               "{'NextToken':'\\ud83d\\u0041'}",
               "a high surrogate \\u escape with no low one (at byte 15)");
  expect_error("a lone low surrogate", "{'NextToken':'\\ude00'}",
               "a low surrogate \\u escape with no high one (at byte 15)");
  expect_error("a raw control character in a string",
               "{'NextToken':'a\tb'}", "a control character in a string "
               "(JSON wants it escaped) (at byte 16)");
  expect_error("a missing colon", "{'ResultSet' {}}",
               "expected ':' after a key (at byte 14)");
  expect_error("a missing comma", "{'a':1 'b':2}",
               "expected ',' or '}' in an object (at byte 8)");
  expect_error("a trailing comma in an array", "{'a':[1,]}",
               "expected a JSON value (at byte 9)");
  expect_error("a key that is not a string", "{a:1}",
               "expected a string key in an object (at byte 2)");
  expect_error("a number with a leading zero", "{'a':01}",
               "expected ',' or '}' in an object (at byte 7)");
  expect_error("a number with no fraction digits", "{'a':1.}",
               "a number with no digits after its point (at byte 6)");
  expect_error("a number with no exponent digits", "{'a':1e+}",
               "a number with no digits in its exponent (at byte 6)");
  expect_error("a word that is not a literal", "{'a':tru}",
               "expected a JSON value (at byte 6)");
  expect_error("a VarCharValue that is a number",
               "{'ResultSet':{'Rows':[{'Data':[{'VarCharValue':12}]}]}}",
               "ResultSet.Rows[1].Data[1].VarCharValue is a number, not a "
               "string (at byte 48)");
  expect_error("a VarCharValue in the header row that is a boolean",
               "{'ResultSet':{'Rows':[{'Data':[{},{'VarCharValue':true}]}]}}",
               "ResultSet.Rows[1].Data[2].VarCharValue is a boolean, not a "
               "string (at byte 51)");
  expect_error("a cell that is a string",
               "{'ResultSet':{'Rows':[{},{'Data':['x']}]}}",
               "ResultSet.Rows[2].Data[1] is a string, not an object "
               "(at byte 35)");
  expect_error("Data that is an object",
               "{'ResultSet':{'Rows':[{'Data':{}}]}}",
               "ResultSet.Rows[1].Data is an object, not an array "
               "(at byte 31)");
  expect_error("a row that is null", "{'ResultSet':{'Rows':[null]}}",
               "ResultSet.Rows[1] is null, not an object (at byte 23)");
  expect_error("Rows that is a string", "{'ResultSet':{'Rows':'x'}}",
               "ResultSet.Rows is a string, not an array (at byte 22)");
  expect_error("a ResultSet that is an array", "{'ResultSet':[]}",
               "ResultSet is an array, not an object (at byte 14)");
  expect_error("ColumnInfo that is an object",
               "{'ResultSet':{'ResultSetMetadata':{'ColumnInfo':{}}}}",
               "ResultSet.ResultSetMetadata.ColumnInfo is an object, not an "
               "array (at byte 49)");
  expect_error("a column with no Name",
               "{'ResultSet':{'ResultSetMetadata':{'ColumnInfo':[{'Name':"
               "'a'},{'Label':'b'}]}}}",
               "ResultSet.ResultSetMetadata.ColumnInfo[2] has no Name "
               "(at byte 63)");
  expect_error("a Name that is a number",
               "{'ResultSet':{'ResultSetMetadata':{'ColumnInfo':[{'Name':1}]"
               "}}}", "ResultSet.ResultSetMetadata.ColumnInfo[1].Name is a "
               "number, not a string (at byte 58)");
  expect_error("a NextToken that is a number", "{'NextToken':5}",
               "NextToken is a number, not a string (at byte 14)");
  expect_error("a wrong type that is not JSON either",
               "{'ResultSet':{'Rows':[{'Data':[{'VarCharValue':x}]}]}}",
               "expected a JSON value (at byte 48)");
  expect_error_raw("a NUL byte in a string", "{\"NextToken\":\"a\0\"}", 19,
                   "a control character in a string (JSON wants it "
                   "escaped) (at byte 16)");
  strcpy(deep, "{\"a\":");
  for (i = 0; i < RESULTS_MAX_DEPTH; i++)
    strcat(deep, "[");
  expect_error_raw("nesting past the limit", deep, strlen(deep),
                   "nested more than 1000 deep (at byte 1005)");
}


/* A page of 1,000 rows of 10 columns, as the benchmark reads. */
static void test_large_page(void)
{
  static const char last_row[] = "{\"c1\":\"r1000c1\",\"c2\":\"r1000c2\","
    "\"c3\":\"r1000c3\",\"c4\":\"r1000c4\",\"c5\":\"r1000c5\",\"c6\":"
    "\"r1000c6\",\"c7\":\"r1000c7\",\"c8\":\"r1000c8\",\"c9\":\"r1000c9\","
    "\"c10\":\"r1000c10\"}";
  size_t size = 1024 * 1024, used = 0, n;
  char *body = malloc(size);
  const char *row;
  results_page page;
  int r, c, status;

  if (body == NULL)
    abort();
  used += (size_t)snprintf(body + used, size - used, "{\"ResultSet\":"
                           "{\"Rows\":[");
  for (r = 0; r <= 1000; r++) {
    used += (size_t)snprintf(body + used, size - used, "%s{\"Data\":[",
                             r > 0 ? "," : "");
    for (c = 1; c <= 10; c++)
      used += (size_t)snprintf(body + used, size - used,
                               "%s{\"VarCharValue\":\"r%dc%d\"}",
                               c > 1 ? "," : "", r, c);
    used += (size_t)snprintf(body + used, size - used, "]}");
  }
  used += (size_t)snprintf(body + used, size - used, "],\"ResultSetMetadata\""
                           ":{\"ColumnInfo\":[");
  for (c = 1; c <= 10; c++)
    used += (size_t)snprintf(body + used, size - used, "%s{\"Name\":\"c%d\"}",
                             c > 1 ? "," : "", c);
  used += (size_t)snprintf(body + used, size - used, "]}}}");
  memset(&page, 0, sizeof page);
  status = results_parse(body, used, FIRST, &page);
  ok(status == 0 && page.row_count == 1000 && page.column_count == 10,
     "a page of 1,000 rows of 10 columns has 1,000 rows");
  row = status == 0 ? results_row(&page, 999, &n) : "";
  ok(status == 0 && n == strlen(last_row) && memcmp(row, last_row, n) == 0,
     "its last row is complete");
  ok(results_parse("{}", 2, FIRST, &page) == 0 && page.row_count == 0,
     "a page parsed again forgets the rows of the last one");
  results_free(&page);
  results_free(&page);
  free(body);
}


/* check(condition, name) in Lua: one TAP line. */
static int lua_check(lua_State *L)
{
  ok(lua_toboolean(L, 1), luaL_checkstring(L, 2));
  return 0;
}


static const char *lua_tests =
  "local results = require('host.results')\n"
  "local body = '{\"ResultSet\":{\"Rows\":[{\"Data\":[{\"VarCharValue\":"
  "\"a\"}]},{\"Data\":[{\"VarCharValue\":\"x\"}]}],\"ResultSetMetadata\":"
  "{\"ColumnInfo\":[{\"Name\":\"a\"}]}},\"NextToken\":\"t\"}'\n"
  "local page = results.page(body, true)\n"
  "check(#page.columns == 1 and page.columns[1] == 'a'\n"
  "  and #page.rows == 1 and page.rows[1] == '{\"a\":\"x\"}'\n"
  "  and page.next_token == 't', 'page() gives columns, rows and token')\n"
  "page = results.page(body, false)\n"
  "check(#page.rows == 2 and page.rows[1] == '{\"a\":\"a\"}',\n"
  "  'page() keeps the first row of a later page')\n"
  "page = results.page('{}', true)\n"
  "check(next(page.columns) == nil and next(page.rows) == nil\n"
  "  and page.next_token == nil, 'page() of {} is empty, with no token')\n"
  "local none, message = results.page('{\"NextToken\":1}', true)\n"
  "check(none == nil and message ==\n"
  "  'NextToken is a number, not a string (at byte 14)',\n"
  "  'page() returns nil and a message for a bad body')\n"
  "local fine, err = pcall(results.page, '{}')\n"
  "check(not fine and err:find('boolean expected', 1, true),\n"
  "  'page() wants to be told whether the page is the first')\n"
  "fine, err = pcall(results.page, nil, true)\n"
  "check(not fine and err:find('string expected', 1, true),\n"
  "  'page() wants the body as a string')\n";


int main(void)
{
  lua_State *L;

  printf("# host.results\n");
  test_rows();
  test_layout();
  test_escapes();
  test_empty();
  test_malformed();
  test_large_page();
  L = luaL_newstate();
  luaL_openlibs(L);
  luaL_requiref(L, "host.results", luaopen_host_results, 0);
  lua_pop(L, 1);
  lua_register(L, "check", lua_check);
  if (luaL_dostring(L, lua_tests) != LUA_OK) {
    printf("# %s\n", lua_tostring(L, -1));
    ok(0, "the Lua tests of host.results run");
  }
  lua_close(L);
  printf("1..%d\n", test_number);
  return failures == 0 ? 0 : 1;
}
