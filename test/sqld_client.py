# sqld_client.py URL SQL — one statement to a libSQL server (sqld) over its
# HTTP API, as an application's client sends it. Prints each row, its
# values separated by tabs (NULL as "{}"), or "error: <message>" (and exits
# 0 either way: only a failure of the client itself exits otherwise).
# Used by libsql.test.

import json
import sys
import urllib.request


def main():
    url, sql = sys.argv[1], sys.argv[2]
    body = json.dumps({"statements": [sql]}).encode()
    req = urllib.request.Request(url, data=body,
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            out = json.load(r)
    except urllib.error.HTTPError as e:
        out = json.load(e)
    if isinstance(out, dict) and "error" in out:
        print("error: " + out["error"])
        return 0
    res = out[0]
    if "error" in res:
        err = res["error"]
        print("error: " + (err["message"] if isinstance(err, dict) else err))
        return 0
    for row in res["results"]["rows"]:
        print("\t".join("{}" if v is None else str(v) for v in row))
    return 0


if __name__ == "__main__":
    sys.exit(main())
