/*
** results.h: Athena GetQueryResults pages turned into the rows' JSON
** objects, in one scan of the response body.
** Lua module "host.results":
**   page(body, first) -> { columns = { name, ... }, rows = { json, ... },
**                          next_token = string | nil } | nil, message
** 'first' says whether the page is the first of its result, whose first
** row is the header row and is left out.  Each row is the JSON object
** text {"col1":"value",...,"colN":null}: keys in column order, a missing
** value as null, strings written byte for byte as lua-cjson writes them.
*/
#ifndef SQ_RESULTS_H
#define SQ_RESULTS_H

#include <stddef.h>

#include <lua.h>

#define RESULTS_MAX_DEPTH 1000 /* nesting a body may have, as lua-cjson */
#define RESULTS_ERROR_SIZE 256


/* Bytes that grow as needed; 'data' is owned. */
typedef struct results_buffer {
  char *data;
  size_t length;
  size_t capacity;
} results_buffer;


/*
** One page, parsed.  Texts lie one after another in a buffer; text i
** ends where its *_ends[i] says and starts where text i - 1 ends.
** Start from a zeroed struct; results_free releases everything.
*/
typedef struct results_page {
  results_buffer names;   /* the column names, decoded */
  size_t *name_ends;
  size_t column_count;
  results_buffer rows;    /* each data row's JSON object text */
  size_t *row_ends;
  size_t row_count;
  results_buffer token;   /* the NextToken, decoded, when has_token */
  int has_token;
  char error[RESULTS_ERROR_SIZE]; /* why results_parse failed */
} results_page;


/*
** Parses a GetQueryResults response body into 'page'.  Returns 0, or -1
** with page->error saying what is wrong and where (invalid JSON, a part
** of the wrong type, no memory).
*/
int results_parse(const char *body, size_t length, int first_page,
                  results_page *page);

/* Column 'index' (0-based) of a parsed page, and its length. */
const char *results_column(const results_page *page, size_t index,
                           size_t *length);

/* Row 'index' (0-based) of a parsed page, and its length. */
const char *results_row(const results_page *page, size_t index,
                        size_t *length);

/* Releases what a page holds and zeroes it; safe to call twice. */
void results_free(results_page *page);

int luaopen_host_results(lua_State *L);

#endif
