/*
** test_http.c: host.http against a small HTTP/1.1 server running in a
** thread of this process on 127.0.0.1, under valgrind.  The server
** counts the connections it accepts, so reuse can be checked where it
** happens.  Prints TAP lines.
*/
#define _POSIX_C_SOURCE 200809L

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <curl/curl.h>
#include <lauxlib.h>
#include <lualib.h>

#include "http.h"

#define MAX_CLIENTS 32
#define REQUEST_MAX 8192

typedef struct {
  int fd;
  size_t length;
  int hung;                      /* holding the connection, no answer */
  char data[REQUEST_MAX];
} test_connection;

static int listener = -1;
static int wake[2] = {-1, -1};
static int server_port;
static atomic_int accepted;
static test_connection connections[MAX_CLIENTS];
static int test_number;
static int failures;


/*
** Print one TAP line.
*/
static void ok(int condition, const char *name)
{
  test_number++;
  if (!condition)
    failures++;
  printf("%sok %d - %s\n", condition ? "" : "not ", test_number, name);
  fflush(stdout);
}


static void send_all(int fd, const char *data, size_t length)
{
  while (length > 0) {
    ssize_t sent = send(fd, data, length, MSG_NOSIGNAL);

    if (sent <= 0)
      return;
    data += sent;
    length -= (size_t)sent;
  }
}


/*
** Answer one complete request held in 'c'; returns 0 to keep the
** connection, -1 to close it.
*/
static int answer(test_connection *c, const char *path, const char *method,
                  const char *body, size_t body_length)
{
  char response[REQUEST_MAX + 256];
  const char *header, *end;
  int length;

  if (strcmp(path, "/hello") == 0) {
    length = snprintf(response, sizeof response,
                      "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n"
                      "X-Amzn-RequestId: req-1\r\nX-Twice: a\r\n"
                      "X-Twice: b\r\n\r\nhello");
  } else if (strcmp(path, "/echo") == 0) {
    header = strstr(c->data, "\r\nX-Test: ");
    header = header ? header + 10 : "";
    end = strstr(header, "\r\n");
    length = snprintf(response, sizeof response,
                      "HTTP/1.1 201 Created\r\nContent-Length: %d\r\n\r\n"
                      "%s %.*s %.*s",
                      (int)(strlen(method) + body_length + 2
                            + (end ? (size_t)(end - header) : 0)),
                      method, (int)body_length, body,
                      end ? (int)(end - header) : 0, header);
  } else if (strcmp(path, "/hang") == 0) {
    c->hung = 1;
    return 0;
  } else if (strcmp(path, "/drop") == 0) {
    return -1;
  } else {
    length = snprintf(response, sizeof response,
                      "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
  }
  send_all(c->fd, response, (size_t)length);
  return 0;
}


/*
** Handle the bytes gathered on a connection: answer every complete
** request.  Returns -1 when the connection should be closed.
*/
static int serve(test_connection *c)
{
  char method[16], path[256];
  char *end, *length_header, *body;
  size_t head, body_length, used;

  while ((end = strstr(c->data, "\r\n\r\n")) != NULL) {
    head = (size_t)(end - c->data) + 4;
    length_header = strstr(c->data, "\r\nContent-Length: ");
    body_length = length_header && length_header < end
                  ? strtoul(length_header + 18, NULL, 10) : 0;
    if (c->length < head + body_length)
      return 0; /* wait for the rest of the body */
    if (sscanf(c->data, "%15s %255s", method, path) != 2)
      return -1;
    body = c->data + head;
    if (answer(c, path, method, body, body_length) != 0)
      return -1;
    used = head + body_length;
    memmove(c->data, c->data + used, c->length - used + 1);
    c->length -= used;
  }
  return 0;
}


/*
** The server thread: accept, read, answer, until 'wake' is written.
*/
static void *server_main(void *unused)
{
  struct pollfd fds[MAX_CLIENTS + 2];
  int i, count;

  (void)unused;
  for (;;) {
    fds[0].fd = wake[0];
    fds[0].events = POLLIN;
    fds[1].fd = listener;
    fds[1].events = POLLIN;
    for (i = 0; i < MAX_CLIENTS; i++) {
      fds[i + 2].fd = connections[i].fd;
      fds[i + 2].events = POLLIN;
    }
    if (poll(fds, MAX_CLIENTS + 2, -1) < 0)
      continue;
    if (fds[0].revents)
      break;
    if (fds[1].revents & POLLIN) {
      int fd = accept(listener, NULL, NULL);

      for (i = 0; fd >= 0 && i < MAX_CLIENTS; i++)
        if (connections[i].fd < 0) {
          memset(&connections[i], 0, sizeof connections[i]);
          connections[i].fd = fd;
          atomic_fetch_add(&accepted, 1);
          break;
        }
      if (fd >= 0 && i == MAX_CLIENTS)
        close(fd);
    }
    for (i = 0; i < MAX_CLIENTS; i++) {
      test_connection *c = &connections[i];
      ssize_t got;

      if (c->fd < 0 || !(fds[i + 2].revents & (POLLIN | POLLHUP)))
        continue;
      got = recv(c->fd, c->data + c->length,
                 sizeof c->data - c->length - 1, 0);
      if (got > 0) {
        c->length += (size_t)got;
        c->data[c->length] = '\0';
      }
      count = got > 0 ? serve(c) : -1;
      if (count != 0) {
        close(c->fd);
        c->fd = -1;
      }
    }
  }
  for (i = 0; i < MAX_CLIENTS; i++)
    if (connections[i].fd >= 0)
      close(connections[i].fd);
  return NULL;
}


/*
** Listen on an ephemeral loopback port.  Returns 0 or -1.
*/
static int start_listener(void)
{
  struct sockaddr_in address;
  socklen_t size = sizeof address;
  int i;

  for (i = 0; i < MAX_CLIENTS; i++)
    connections[i].fd = -1;
  listener = socket(AF_INET, SOCK_STREAM, 0);
  memset(&address, 0, sizeof address);
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (listener < 0
      || bind(listener, (struct sockaddr *)&address, sizeof address) != 0
      || listen(listener, 64) != 0
      || getsockname(listener, (struct sockaddr *)&address, &size) != 0
      || pipe(wake) != 0)
    return -1;
  server_port = ntohs(address.sin_port);
  return 0;
}


/* accepted() in Lua: connections the server has accepted so far. */
static int lua_accepted(lua_State *L)
{
  lua_pushinteger(L, atomic_load(&accepted));
  return 1;
}


/* check(condition, name) in Lua: one TAP line. */
static int lua_check(lua_State *L)
{
  ok(lua_toboolean(L, 1), luaL_checkstring(L, 2));
  return 0;
}


/*
** Run one Lua chunk; a Lua error is a failed test named after it.
*/
static void run_lua(lua_State *L, const char *name, const char *chunk)
{
  if (luaL_dostring(L, chunk) != LUA_OK) {
    char line[512];

    snprintf(line, sizeof line, "%s: %s", name, lua_tostring(L, -1));
    ok(0, line);
    lua_pop(L, 1);
  }
}


static void test_plain_http_rule(void)
{
  ok(http_plain_allowed("127.0.0.1") && http_plain_allowed("127.9.8.7"),
     "plain http is allowed for 127.0.0.0/8");
  ok(http_plain_allowed("localhost") && http_plain_allowed("[::1]")
     && http_plain_allowed("::1") && http_plain_allowed("[0:0::1]"),
     "plain http is allowed for localhost and ::1, with or without "
     "brackets");
  ok(http_plain_allowed("169.254.169.254")
     && http_plain_allowed("169.254.170.2")
     && http_plain_allowed("169.254.170.23")
     && http_plain_allowed("[fd00:ec2::254]")
     && http_plain_allowed("fd00:ec2::23"),
     "plain http is allowed for the metadata and container addresses");
  ok(!http_plain_allowed("10.0.0.1") && !http_plain_allowed("example.com")
     && !http_plain_allowed("169.254.169.253")
     && !http_plain_allowed("") && !http_plain_allowed("[]")
     && !http_plain_allowed("127.0.0.1.example.com"),
     "plain http is refused for any other host");
}


static const char *const lua_tests =
  "local http = require('host.http')\n"
  "local base = 'http://127.0.0.1:' .. PORT\n"
  "local client = http.new{ concurrency = 4, timeout = 5 }\n"
  "local r = client:perform{ { url = base .. '/hello' } }[1]\n"
  "check(r.status == 200 and r.body == 'hello',"
  " 'a GET returns the status and the body')\n"
  "check(r.headers['x-amzn-requestid'] == 'req-1'"
  " and r.headers['x-twice'] == 'a, b',"
  " 'header names are lower-cased and repeats joined')\n"
  "r = client:perform{ { method = 'POST', url = base .. '/echo',"
  " body = 'a=1', headers = { { 'X-Test', 'yes' } } } }[1]\n"
  "check(r.status == 201 and r.body == 'POST a=1 yes',"
  " 'a POST sends its body and headers')\n"
  "r = client:perform{ { method = 'PUT', url = base .. '/echo' } }[1]\n"
  "check(r.body == 'PUT  ', 'a PUT without a body sends an empty one')\n"
  "local before, connects = accepted(), 0\n"
  "for _ = 1, 20 do\n"
  "  connects = connects + client:perform{ { url = base .. '/hello' } }"
  "[1].connects\n"
  "end\n"
  "check(accepted() - before == 0 and connects == 0,"
  " '20 sequential requests reuse the open connection')\n"
  "local fresh = http.new{ concurrency = 4 }\n"
  "local many = {}\n"
  "for i = 1, 20 do many[i] = { url = base .. '/hello' } end\n"
  "before, connects = accepted(), 0\n"
  "local all = fresh:perform(many)\n"
  "local good = 0\n"
  "for i = 1, 20 do\n"
  "  connects = connects + all[i].connects\n"
  "  if all[i].status == 200 then good = good + 1 end\n"
  "end\n"
  "check(good == 20, '20 concurrent requests all succeed')\n"
  "check(accepted() - before == 4 and connects == 4,"
  " 'with concurrency 4 they open exactly 4 connections')\n"
  "fresh:close()\n"
  "r = client:perform{ { url = base .. '/hang', timeout = 0.3 } }[1]\n"
  "check(r.kind == 'timeout' and r.status == nil"
  " and r.error:find('timed out talking to', 1, true) == 1,"
  " 'a hung server gives a timeout')\n"
  "r = client:perform{ { url = base .. '/drop' } }[1]\n"
  "check(r.kind == 'reset', 'a dropped connection gives a reset')\n"
  "r = client:perform{ { url = 'http://127.0.0.1:1/' } }[1]\n"
  "check(r.kind == 'refused' and r.error:find('127.0.0.1:1', 1, true),"
  " 'a closed port gives refused, naming it')\n"
  "local okay, err = pcall(client.perform, client,"
  " { { url = base .. '/hello' }, { url = 'http://example.com/x?s=1' } })\n"
  "check(not okay and err == 'http.perform: request 2: plain http:// is"
  " allowed only for loopback hosts and the instance-metadata and"
  " container-credentials addresses, not for example.com: use https://',"
  " 'plain http to another host is an error without the query')\n"
  "okay, err = pcall(client.perform, client, { { url = base,"
  " headers = { { 'X-Bad', 'a\\r\\nX-Injected: 1' } } } })\n"
  "check(not okay and err:find('one-line value', 1, true),"
  " 'a header value with a line break is refused')\n"
  "local strict = http.new{ ca_file = '/nonexistent/ca.pem' }\n"
  "okay, err = pcall(strict.perform, strict,"
  " { { url = 'https://127.0.0.1:1/' } })\n"
  "check(not okay and err:find('ca_file names the CA bundle"
  " \"/nonexistent/ca.pem\", which cannot be read', 1, true),"
  " 'an unreadable CA bundle is a clear error')\n"
  "check(http.ca_bundle('/nonexistent/ca.pem') == nil,"
  " 'ca_bundle reports an unreadable bundle')\n"
  "strict = nil\n"
  "check(#client:perform{} == 0, 'an empty list gives an empty list')\n"
  "client:close()\n"
  "okay, err = pcall(client.perform, client, {})\n"
  "check(err == 'http: the client is closed', 'a closed client refuses')\n"
  "do local scoped <close> = http.new{} end\n"
  "collectgarbage()\n";


int main(void)
{
  pthread_t server;
  lua_State *L;

  printf("# host.http\n");
  test_plain_http_rule();
  if (start_listener() != 0
      || pthread_create(&server, NULL, server_main, NULL) != 0) {
    ok(0, "the test server starts");
    return 1;
  }
  L = luaL_newstate();
  luaL_openlibs(L);
  luaL_requiref(L, "host.http", luaopen_host_http, 0);
  lua_pop(L, 1);
  lua_pushinteger(L, server_port);
  lua_setglobal(L, "PORT");
  lua_register(L, "accepted", lua_accepted);
  lua_register(L, "check", lua_check);
  run_lua(L, "host.http", lua_tests);
  lua_close(L);
  curl_global_cleanup(); /* balances luaopen_host_http */
  if (write(wake[1], "x", 1) != 1)
    ok(0, "the test server stops");
  pthread_join(server, NULL);
  close(listener);
  close(wake[0]);
  close(wake[1]);
  printf("1..%d\n", test_number);
  return failures == 0 ? 0 : 1;
}
