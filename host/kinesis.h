/*
** kinesis.h: Kinesis PutRecords request building.
** Lua module "host.kinesis": requests(stream, datas, keys [, indices]).
*/
#ifndef SQ_KINESIS_H
#define SQ_KINESIS_H

#include <lua.h>

#define KINESIS_MAX_RECORDS 500
#define KINESIS_MAX_REQUEST_BYTES (5 * 1024 * 1024)
#define KINESIS_MAX_RECORD_BYTES (1024 * 1024)
#define KINESIS_MAX_KEY_BYTES 256

int luaopen_host_kinesis(lua_State *L);

#endif
