/*
** runtime.h: the Lambda Runtime API client.
** Lua module "host.runtime":
**   runtime.client([api]) -> client   api is "host:port", by default
**                                     $AWS_LAMBDA_RUNTIME_API
**   client:next() -> body, info       blocks until an invocation arrives;
**                                     info = { request_id, deadline_ms,
**                                     remaining_ms (deadline_ms less the
**                                     wall clock on arrival), trace_id,
**                                     function_arn,
**                                     client_context, cognito_identity };
**                                     sets or clears _X_AMZN_TRACE_ID
**   client:respond(id, body) -> true
**   client:fail(id, type, message) -> true
**   client:init_error(type, message) -> true
**   client:close()
** Every call returns nil, message when the Runtime API cannot be reached
** or refuses the request.
*/
#ifndef SQ_RUNTIME_H
#define SQ_RUNTIME_H

#include <lua.h>

int luaopen_host_runtime(lua_State *L);

#endif
