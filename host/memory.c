/*
** memory.c: a hard bound on what Lua code may allocate.  Opening the
** module wraps the state's allocator, once per state.  While a limit is
** set, the wrapper counts the net bytes allocated since then and refuses
** any growth past the limit, so that Lua raises "not enough memory" in the
** very call that asked, however large the request.  A count hook cannot
** do this: one concatenation can take gigabytes between two checks.
**
** The wrapper only counts: every block is allocated, resized and freed
** by the original allocator, so a block never meets the wrong one.
*/
#include <stdint.h>

#include <lauxlib.h>

#include "memory.h"

#define METER_KEY "host.memory" /* registry field holding the meter */
#define METER_TYPE "host.memory.meter"


/*
** The bookkeeping of one state, a userdata anchored in the registry.
*/
typedef struct meter {
  lua_Alloc alloc;    /* the allocator the wrapper hands every call to */
  void *ud;           /* and its user data */
  int limited;        /* whether a limit is in effect */
  int refused;        /* whether growth was refused under this limit */
  lua_Integer limit;  /* bytes the state may grow by since the limit */
  lua_Integer used;   /* net bytes allocated since then, maybe negative */
} meter;


/*
** The allocator of a metered state.  Without a limit it only passes the
** call on; with one it refuses growth past the limit (Lua then collects
** garbage and tries again, or raises "not enough memory").  osize is a
** block size only when ptr is not NULL; otherwise it names a type.
*/
static void *metered_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
  meter *m = (meter *)ud;
  size_t old = ptr != NULL ? osize : 0;
  uint64_t room;
  void *block;

  if (!m->limited)
    return m->alloc(m->ud, ptr, osize, nsize);
  /* limit - used is in [0, 2^64): exact in unsigned 64-bit arithmetic */
  room = (uint64_t)m->limit - (uint64_t)m->used;
  if (nsize > old && (uint64_t)(nsize - old) > room) {
    m->refused = 1;
    return NULL;
  }
  block = m->alloc(m->ud, ptr, osize, nsize);
  if (block != NULL || nsize == 0) /* a failed call changed nothing */
    m->used += (lua_Integer)nsize - (lua_Integer)old;
  return block;
}


/*
** The meter of the state, the first upvalue of every module function.
*/
static meter *state_meter(lua_State *L)
{
  return (meter *)lua_touserdata(L, lua_upvalueindex(1));
}


/*
** limit(bytes): from now on the state may grow by at most bytes (net of
** what it frees meanwhile); limit(nil) removes the limit.
*/
static int memory_limit(lua_State *L)
{
  meter *m = state_meter(L);
  lua_Integer bytes;

  if (lua_isnil(L, 1)) {
    m->limited = 0;
    return 0;
  }
  bytes = luaL_checkinteger(L, 1);
  luaL_argcheck(L, bytes >= 0, 1, "a memory limit cannot be negative");
  m->limit = bytes;
  m->used = 0;
  m->refused = 0;
  m->limited = 1;
  return 0;
}


/*
** unlimit(): removes the limit.  Ignores its arguments, so that it can be
** the __close metamethod of a to-be-closed variable.
*/
static int memory_unlimit(lua_State *L)
{
  state_meter(L)->limited = 0;
  return 0;
}


/*
** used() -> the net bytes allocated since the limit was set, or nil
** when no limit is set.
*/
static int memory_used(lua_State *L)
{
  const meter *m = state_meter(L);

  if (m->limited)
    lua_pushinteger(L, m->used);
  else
    lua_pushnil(L);
  return 1;
}


/*
** refused() -> whether growth was refused since the limit was set
** (false when no limit is set).
*/
static int memory_refused(lua_State *L)
{
  const meter *m = state_meter(L);

  lua_pushboolean(L, m->limited && m->refused);
  return 1;
}


/*
** Finalizer of the meter, run when the state closes: gives the state back
** to the original allocator before the meter's own block is freed.
*/
static int meter_gc(lua_State *L)
{
  meter *m = (meter *)luaL_checkudata(L, 1, METER_TYPE);
  void *ud;

  m->limited = 0;
  if (lua_getallocf(L, &ud) == metered_alloc && ud == m)
    lua_setallocf(L, m->alloc, m->ud);
  return 0;
}


/*
** Pushes the meter of the state, creating it and wrapping the allocator
** the first time.  The meter's finalizer was set after that of package's
** C library table, so it runs first at close: the wrapper is gone before
** a library holding its code could be unloaded.
*/
static void push_meter(lua_State *L)
{
  meter *m;

  if (lua_getfield(L, LUA_REGISTRYINDEX, METER_KEY) == LUA_TUSERDATA)
    return; /* already wrapped */
  lua_pop(L, 1);
  m = (meter *)lua_newuserdatauv(L, sizeof *m, 0);
  m->alloc = lua_getallocf(L, &m->ud);
  m->limited = 0;
  m->refused = 0;
  m->limit = 0;
  m->used = 0;
  if (luaL_newmetatable(L, METER_TYPE)) {
    lua_pushcfunction(L, meter_gc);
    lua_setfield(L, -2, "__gc");
  }
  lua_setmetatable(L, -2);
  lua_pushvalue(L, -1);
  lua_setfield(L, LUA_REGISTRYINDEX, METER_KEY);
  lua_setallocf(L, metered_alloc, m);
}


/*
** The module table; each function holds the meter as its upvalue.
*/
int luaopen_host_memory(lua_State *L)
{
  static const luaL_Reg functions[] = {
    {"limit", memory_limit},
    {"unlimit", memory_unlimit},
    {"used", memory_used},
    {"refused", memory_refused},
    {NULL, NULL}
  };

  luaL_newlibtable(L, functions);
  push_meter(L);
  luaL_setfuncs(L, functions, 1);
  return 1;
}
