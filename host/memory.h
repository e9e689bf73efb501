/*
** memory.h: a hard bound on the memory of a Lua state.
** Lua module "host.memory": limit(bytes), unlimit(), used(), refused().
*/
#ifndef SQ_MEMORY_H
#define SQ_MEMORY_H

#include <lua.h>

int luaopen_host_memory(lua_State *L);

#endif
