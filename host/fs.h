/*
** fs.h: listing files.
** Lua module "host.fs": files(dir [, skip]).
*/
#ifndef SQ_FS_H
#define SQ_FS_H

#include <lua.h>

int luaopen_host_fs(lua_State *L);

#endif
