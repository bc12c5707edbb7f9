# python3 under both tools (leaks.sh): a short workload of the
# interpreter's own (imports, dicts, lists, a json round trip, a class).
import json, re, collections
d = {str(i): [i] * (i % 7) for i in range(5000)}
s = json.dumps(d)
assert json.loads(s)["42"] == [42] * 0
c = collections.Counter(re.findall(r"\d+", s))
class Box:
    def __init__(self, v): self.v = v
boxes = [Box(i) for i in range(1000)]
print(len(c), len(boxes))
# A known leak: 10 chunks from libc's malloc through ctypes, whose
# addresses survive only as Python ints (30-bit digits, no pointer word).
import ctypes
libc = ctypes.CDLL(None)
libc.malloc.restype = ctypes.c_void_p
lost = [libc.malloc(1000 + i) for i in range(10)]
