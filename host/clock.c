/*
** clock.c: wall clock, ISO-8601 parse and format, calendar arithmetic.
** Everything is UTC: no function here consults the local time zone, so
** TZ has no effect on any result.
*/
#define _POSIX_C_SOURCE 200809L

#include <ctype.h>
#include <errno.h>
#include <string.h>
#include <time.h>

#include <lauxlib.h>

#include "clock.h"

#define ISO_LENGTH 20 /* strlen("2020-02-13T22:06:20Z") */
#define FORMAT_MAX 512


/*
** Days since the epoch for a civil date (Howard Hinnant's algorithm,
** valid for every year of the proleptic Gregorian calendar).
*/
int64_t clock_days_from_civil(int64_t year, unsigned month, unsigned day)
{
  int64_t era;
  unsigned year_of_era, day_of_year, day_of_era;

  year -= month <= 2;
  era = (year >= 0 ? year : year - 399) / 400;
  year_of_era = (unsigned)(year - era * 400);
  day_of_year = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
  day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100
               + day_of_year;
  return era * 146097 + (int64_t)day_of_era - 719468;
}


static int is_leap_year(int year)
{
  return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}


static int days_in_month(int year, int month)
{
  static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month == 2 && is_leap_year(year) ? 29 : days[month - 1];
}


/*
** Read a run of exactly 'width' decimal digits at 'text'.
*/
static int read_digits(const char *text, int width, int *value)
{
  int i;

  *value = 0;
  for (i = 0; i < width; i++) {
    if (!isdigit((unsigned char)text[i]))
      return -1;
    *value = *value * 10 + (text[i] - '0');
  }
  return 0;
}


int clock_parse_iso(const char *text, int64_t *epoch)
{
  int year, month, day, hour, minute, second;

  if (strlen(text) != ISO_LENGTH)
    return -1;
  if (text[4] != '-' || text[7] != '-' || text[10] != 'T'
      || text[13] != ':' || text[16] != ':' || text[19] != 'Z')
    return -1;
  if (read_digits(text, 4, &year) || read_digits(text + 5, 2, &month)
      || read_digits(text + 8, 2, &day) || read_digits(text + 11, 2, &hour)
      || read_digits(text + 14, 2, &minute)
      || read_digits(text + 17, 2, &second))
    return -1;
  if (month < 1 || month > 12 || day < 1
      || day > days_in_month(year, month) || hour > 23 || minute > 59
      || second > 59)
    return -1;
  *epoch = clock_days_from_civil(year, (unsigned)month, (unsigned)day)
           * 86400 + hour * 3600 + minute * 60 + second;
  return 0;
}


/*
** now() -> integer epoch seconds, from the wall clock.
*/
static int clock_now(lua_State *L)
{
  lua_pushinteger(L, (lua_Integer)time(NULL));
  return 1;
}


/*
** parse(text) -> epoch | nil, message
*/
static int clock_parse(lua_State *L)
{
  const char *text = luaL_checkstring(L, 1);
  int64_t epoch;

  if (clock_parse_iso(text, &epoch) != 0) {
    luaL_pushfail(L);
    lua_pushfstring(L, "invalid clock \"%s\": expected YYYY-MM-DDTHH:MM:SSZ"
                    " (for example 2020-02-13T22:06:20Z)", text);
    return 2;
  }
  lua_pushinteger(L, (lua_Integer)epoch);
  return 1;
}


/*
** format(epoch, pattern) -> string, formatted with strftime in UTC.
*/
static int clock_format(lua_State *L)
{
  time_t epoch = (time_t)luaL_checkinteger(L, 1);
  const char *pattern = luaL_checkstring(L, 2);
  char out[FORMAT_MAX];
  struct tm tm;
  size_t length;

  if (gmtime_r(&epoch, &tm) == NULL)
    return luaL_error(L, "clock.format: epoch %I out of range",
                      (lua_Integer)epoch);
  if (pattern[0] == '\0') {
    lua_pushliteral(L, "");
    return 1;
  }
  length = strftime(out, sizeof out, pattern, &tm);
  if (length == 0)
    return luaL_error(L, "clock.format: pattern \"%s\" gives an empty or "
                      "over-long result", pattern);
  lua_pushlstring(L, out, length);
  return 1;
}


/*
** iso(epoch) -> "YYYY-MM-DDTHH:MM:SSZ"
*/
static int clock_iso(lua_State *L)
{
  lua_settop(L, 1);
  lua_pushliteral(L, "%Y-%m-%dT%H:%M:%SZ");
  return clock_format(L);
}


/*
** add(epoch, amount, unit) -> epoch; unit is seconds, minutes, hours or
** days (default seconds).  A negative amount subtracts.
*/
static int clock_add(lua_State *L)
{
  static const char *const units[] = {"seconds", "minutes", "hours", "days",
                                      NULL};
  static const lua_Integer factor[] = {1, 60, 3600, 86400};
  lua_Integer epoch = luaL_checkinteger(L, 1);
  lua_Integer amount = luaL_checkinteger(L, 2);
  int unit = luaL_checkoption(L, 3, "seconds", units);

  lua_pushinteger(L, epoch + amount * factor[unit]);
  return 1;
}


/*
** monotonic() -> seconds as a float, for measuring durations.
*/
static int clock_monotonic(lua_State *L)
{
  struct timespec now;

  clock_gettime(CLOCK_MONOTONIC, &now);
  lua_pushnumber(L, (lua_Number)now.tv_sec + now.tv_nsec / 1e9);
  return 1;
}


/*
** sleep(seconds): fractional seconds allowed; resumes after signals.
*/
static int clock_sleep(lua_State *L)
{
  lua_Number seconds = luaL_checknumber(L, 1);
  struct timespec wait;

  if (seconds <= 0)
    return 0;
  wait.tv_sec = (time_t)seconds;
  wait.tv_nsec = (long)((seconds - (lua_Number)wait.tv_sec) * 1e9);
  while (nanosleep(&wait, &wait) != 0 && errno == EINTR)
    ; /* keep sleeping for what is left */
  return 0;
}


int luaopen_host_clock(lua_State *L)
{
  static const luaL_Reg functions[] = {
    {"now", clock_now},
    {"parse", clock_parse},
    {"format", clock_format},
    {"iso", clock_iso},
    {"add", clock_add},
    {"monotonic", clock_monotonic},
    {"sleep", clock_sleep},
    {NULL, NULL}
  };

  luaL_newlib(L, functions);
  return 1;
}
