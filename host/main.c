/*
** main.c: the StreamQuery host.
** Opens a Lua state, registers the C primitives, finds the project root,
** puts lua/ on the module path and hands the arguments to the Lua command
** line (module sq.cli).  This is the only file that knows every primitive.
*/
#define _POSIX_C_SOURCE 200809L

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "clock.h"
#include "fs.h"
#include "http.h"
#include "kinesis.h"
#include "memory.h"
#include "results.h"
#include "runtime.h"
#include "sigv4.h"
#include "sqlite.h"

#define PROGRAM "streamquery"


/*
** The primitives, each preloaded under its module name so that
** require "host.clock" finds it without touching the file system.
*/
static const luaL_Reg primitives[] = {
  {"host.clock", luaopen_host_clock},
  {"host.fs", luaopen_host_fs},
  {"host.http", luaopen_host_http},
  {"host.kinesis", luaopen_host_kinesis},
  {"host.memory", luaopen_host_memory},
  {"host.results", luaopen_host_results},
  {"host.runtime", luaopen_host_runtime},
  {"host.sigv4", luaopen_host_sigv4},
  {"host.sqlite", luaopen_host_sqlite},
  {NULL, NULL}
};


static void preload_primitives(lua_State *L)
{
  const luaL_Reg *p;

  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
  for (p = primitives; p->name != NULL; p++) {
    lua_pushcfunction(L, p->func);
    lua_setfield(L, -2, p->name);
  }
  lua_pop(L, 1); /* remove preload table */
}


/*
** Find the project root: --root DIR, else STREAMQUERY_ROOT, else the
** folder above the one holding the executable (bin/..).  Writes into
** 'root' and returns 0, or -1 when nothing could be found.
*/
static int find_root(int argc, char **argv, char *root, size_t size)
{
  char exe[PATH_MAX];
  const char *env;
  ssize_t length;
  char *slash;
  int i;

  for (i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--root") == 0 && i + 1 < argc) {
      snprintf(root, size, "%s", argv[i + 1]);
      return 0;
    }
    if (strncmp(argv[i], "--root=", 7) == 0) {
      snprintf(root, size, "%s", argv[i] + 7);
      return 0;
    }
  }
  env = getenv("STREAMQUERY_ROOT");
  if (env != NULL && env[0] != '\0') {
    snprintf(root, size, "%s", env);
    return 0;
  }
  length = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (length <= 0)
    return -1;
  exe[length] = '\0';
  for (i = 0; i < 2; i++) { /* strip the file name, then bin/ */
    slash = strrchr(exe, '/');
    if (slash == NULL)
      return -1;
    *slash = '\0';
  }
  snprintf(root, size, "%s", exe[0] != '\0' ? exe : "/");
  return 0;
}


/*
** Put ROOT/lua on package.path and ROOT/lib on package.cpath, in front
** of the defaults, so that the project's modules win.
*/
static void set_module_paths(lua_State *L, const char *root)
{
  lua_getglobal(L, "package");
  lua_pushfstring(L, "%s/lua/?.lua;%s/lua/?/init.lua;", root, root);
  lua_getfield(L, -2, "path");
  lua_concat(L, 2);
  lua_setfield(L, -2, "path");
  lua_pushfstring(L, "%s/lib/?.so;", root);
  lua_getfield(L, -2, "cpath");
  lua_concat(L, 2);
  lua_setfield(L, -2, "cpath");
  lua_pop(L, 1); /* remove package */
}


/*
** Message handler: keep the message, and stash a traceback in the
** registry so that main can print it when debugging is on.
*/
static int message_handler(lua_State *L)
{
  const char *message = lua_tostring(L, 1);

  if (message == NULL) {
    if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING)
      message = lua_tostring(L, -1);
    else
      message = lua_pushfstring(L, "(error object is a %s value)",
                                luaL_typename(L, 1));
  }
  luaL_traceback(L, L, NULL, 1);
  lua_setfield(L, LUA_REGISTRYINDEX, "host.traceback");
  lua_pushstring(L, message);
  return 1;
}


static int debugging(int argc, char **argv)
{
  const char *level = getenv("LOGGER_LEVEL");
  int i;

  for (i = 1; i < argc; i++)
    if (strcmp(argv[i], "--debug") == 0)
      return 1;
  if (level == NULL)
    level = getenv("STREAMQUERY_LOG_LEVEL");
  return level != NULL && strcmp(level, "debug") == 0;
}


/*
** Runs sq.cli.main(args, root) and returns the exit status it gives.
*/
static int run_cli(lua_State *L, int argc, char **argv, const char *root)
{
  int i, status;

  lua_pushcfunction(L, message_handler);
  lua_getglobal(L, "require");
  lua_pushliteral(L, "sq.cli");
  if (lua_pcall(L, 1, 1, 1) != LUA_OK)
    return -1;
  lua_getfield(L, -1, "main");
  lua_createtable(L, argc, 0);
  for (i = 1; i < argc; i++) {
    lua_pushstring(L, argv[i]);
    lua_rawseti(L, -2, i);
  }
  lua_pushstring(L, root);
  if (lua_pcall(L, 2, 1, 1) != LUA_OK)
    return -1;
  status = (int)luaL_optinteger(L, -1, 0);
  return status;
}


int main(int argc, char **argv)
{
  char root[PATH_MAX];
  lua_State *L;
  int status;

  if (find_root(argc, argv, root, sizeof root) != 0) {
    fprintf(stderr, PROGRAM ": cannot find the project root; "
            "pass --root DIR or set STREAMQUERY_ROOT\n");
    return 2;
  }
  L = luaL_newstate();
  if (L == NULL) {
    fprintf(stderr, PROGRAM ": cannot create the Lua state: out of memory\n");
    return 2;
  }
  luaL_openlibs(L);
  preload_primitives(L);
  set_module_paths(L, root);
  status = run_cli(L, argc, argv, root);
  if (status < 0) {
    fprintf(stderr, PROGRAM ": error: %s\n", lua_tostring(L, -1));
    if (debugging(argc, argv)) {
      lua_getfield(L, LUA_REGISTRYINDEX, "host.traceback");
      fprintf(stderr, "%s\n", lua_tostring(L, -1));
    }
    status = 2;
  }
  lua_close(L);
  return status;
}
