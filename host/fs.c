/*
** fs.c: the regular files under a folder, for the query loader and the
** offline engine.  Lua has no portable way to list a folder, and the
** Lambda image has neither LuaFileSystem nor find(1).
*/
#include <dirent.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include <lauxlib.h>

#include "fs.h"

#define MAX_DEPTH 16 /* deeper than this is a symbolic link loop */


/*
** Whether a name starts with one of the characters of 'skip'.
*/
static int skipped(const char *name, const char *skip)
{
  return name[0] != '\0' && strchr(skip, name[0]) != NULL;
}


/*
** Appends to the list at the top of the stack the regular files under
** base/dir as { path = "dir/name", size = n }.  Returns 0, or -1 with an
** error message pushed when the tree is too deep.
*/
static int list_files(lua_State *L, const char *base, const char *dir,
                      const char *skip, int depth)
{
  char path[4096], relative[4096];
  struct dirent *entry;
  struct stat st;
  DIR *d;
  int status = 0;

  if (depth > MAX_DEPTH) {
    lua_pushfstring(L, "%s/%s: folders nested more than %d deep (a symbolic "
                    "link loop?)", base, dir, MAX_DEPTH);
    return -1;
  }
  snprintf(path, sizeof path, "%s%s%s", base, dir[0] ? "/" : "", dir);
  d = opendir(path);
  if (d == NULL)
    return 0; /* vanished or unreadable: nothing to list */
  while (status == 0 && (entry = readdir(d)) != NULL) {
    if (strcmp(entry->d_name, ".") == 0 || strcmp(entry->d_name, "..") == 0
        || skipped(entry->d_name, skip))
      continue;
    if (snprintf(relative, sizeof relative, "%s%s%s", dir, dir[0] ? "/" : "",
                 entry->d_name) >= (int)sizeof relative
        || snprintf(path, sizeof path, "%s/%s", base, relative)
           >= (int)sizeof path
        || stat(path, &st) != 0)
      continue; /* too long, or gone meanwhile */
    if (S_ISDIR(st.st_mode)) {
      status = list_files(L, base, relative, skip, depth + 1);
    } else if (S_ISREG(st.st_mode)) {
      lua_createtable(L, 0, 2);
      lua_pushstring(L, relative);
      lua_setfield(L, -2, "path");
      lua_pushinteger(L, (lua_Integer)st.st_size);
      lua_setfield(L, -2, "size");
      lua_rawseti(L, -2, (lua_Integer)luaL_len(L, -2) + 1);
    }
  }
  closedir(d);
  return status;
}


/*
** files(dir [, skip]) -> { { path = "a/b.lua", size = n }, ... } in no
** particular order, or nil and a message when dir is not a readable
** folder.  Files and folders whose names start with a character of 'skip'
** (default ".") are left out.
*/
static int fs_files(lua_State *L)
{
  const char *dir = luaL_checkstring(L, 1);
  const char *skip = luaL_optstring(L, 2, ".");
  DIR *d = opendir(dir);

  if (d == NULL) {
    luaL_pushfail(L);
    lua_pushfstring(L, "cannot open the folder: %s", strerror(errno));
    return 2;
  }
  closedir(d);
  lua_newtable(L);
  if (list_files(L, dir, "", skip, 0) != 0) {
    luaL_pushfail(L);
    lua_insert(L, -2);
    return 2;
  }
  return 1;
}


int luaopen_host_fs(lua_State *L)
{
  static const luaL_Reg functions[] = {
    {"files", fs_files},
    {NULL, NULL}
  };

  luaL_newlib(L, functions);
  return 1;
}
