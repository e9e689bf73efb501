/*
** clock.h: the clock primitive, UTC only.
** Lua module "host.clock": now, parse, format, add, iso, monotonic, sleep.
*/
#ifndef SQ_CLOCK_H
#define SQ_CLOCK_H

#include <stdint.h>
#include <lua.h>

/* Parse exactly YYYY-MM-DDTHH:MM:SSZ into epoch seconds; 0 on success. */
int clock_parse_iso(const char *text, int64_t *epoch);

/* Days since 1970-01-01 for a proleptic Gregorian date. */
int64_t clock_days_from_civil(int64_t year, unsigned month, unsigned day);

int luaopen_host_clock(lua_State *L);

#endif
