std = "lua54"
max_line_length = 100
files["spec"] = { std = "+busted" }
files["scheduled_queries"] = { std = "min", read_globals = { "query" } }
exclude_files = { "spec/servers/node_modules" }
