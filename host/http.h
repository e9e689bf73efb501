/*
** http.h: HTTP(S) over libcurl.
** Lua module "host.http":
**   http.new{ concurrency =, connect_timeout =, timeout =, ca_file =,
**             max_response_bytes = } -> client
**   client:perform{ { method =, url =, headers = { {name, value}, ... },
**                     body =, timeout = }, ... } -> responses
**   client:close()
**   http.ca_bundle([path]) -> path | nil, message
**   http.plain_http_allowed(host) -> boolean
** A response is { status =, headers = { [lower-case name] = value },
** body =, connects = } or { error =, kind =, connects = } where kind is
** "connect", "refused", "timeout", "tls", "reset" or "other".
*/
#ifndef SQ_HTTP_H
#define SQ_HTTP_H

#include <lua.h>

/* Non-zero when plain http:// may be used for 'host' (loopback, or the
** instance-metadata and container-credentials addresses).  IPv6
** addresses may come with or without their brackets. */
int http_plain_allowed(const char *host);

int luaopen_host_http(lua_State *L);

#endif
