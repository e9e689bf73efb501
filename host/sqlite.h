/*
** sqlite.h: the offline engine's database primitive.
** Lua module "host.sqlite": an in-memory SQLite database with the
** functions Athena has and SQLite lacks, a bulk JSON loader (plain or
** gzip files, JSON lines or CloudTrail's {"Records": [...]}) and cursors
** that hand rows back page by page.
*/
#ifndef SQ_SQLITE_H
#define SQ_SQLITE_H

#include <stddef.h>
#include <stdint.h>
#include <lua.h>

/*
** Parse a timestamp: YYYY-MM-DD, optionally followed by ' ' or 'T',
** HH:MM[:SS[.fraction]] and a zone (Z, UTC, +HH, +HH:MM, +HHMM).
** Sets *ms to epoch milliseconds in UTC; returns 0, or -1 if malformed.
*/
int sqlite_parse_timestamp(const char *text, size_t length, int64_t *ms);

/* Write epoch milliseconds as 'YYYY-MM-DD HH:MM:SS.mmm' (24 bytes). */
void sqlite_format_timestamp(int64_t ms, char out[32]);

/* Write a double the way Athena renders it (Java's Double.toString). */
void sqlite_format_double(double value, char out[40]);

int luaopen_host_sqlite(lua_State *L);

#endif
