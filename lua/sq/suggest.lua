-- "Did you mean ...?" for a misspelt name: the closest of some candidates.
local suggest = {}

-- Edit distance between two short strings.
function suggest.distance(a, b)
  local previous = {}
  for j = 0, #b do
    previous[j] = j
  end
  for i = 1, #a do
    local current = { [0] = i }
    for j = 1, #b do
      local cost = a:sub(i, i) == b:sub(j, j) and 0 or 1
      current[j] = math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
    end
    previous = current
  end
  return previous[#b]
end

-- The candidate closest to word, at most max_distance edits away (default
-- 2), or nil.
function suggest.closest(word, candidates, max_distance)
  local best, best_distance = nil, (max_distance or 2) + 1
  for _, candidate in ipairs(candidates) do
    local d = suggest.distance(word, candidate)
    if d < best_distance then
      best, best_distance = candidate, d
    end
  end
  return best
end

return suggest
