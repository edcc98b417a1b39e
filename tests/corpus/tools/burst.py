#!/usr/bin/env python3
"""Open N TCP connections at once to HOST:PORT, send one HTTP GET on each,
read the reply and close. Used for the benign-burst capture (inside the
SCAN namespace of generate.sh, towards the TGT namespace only)."""
import asyncio
import sys


async def one(host, port, i):
    r, w = await asyncio.wait_for(asyncio.open_connection(host, port), 10)
    w.write(f"GET /index.html?c={i} HTTP/1.0\r\nHost: {host}\r\n\r\n".encode())
    await w.drain()
    await asyncio.wait_for(r.read(), 10)
    w.close()
    await w.wait_closed()


async def main(host, port, n):
    res = await asyncio.gather(*(one(host, port, i) for i in range(n)), return_exceptions=True)
    bad = [r for r in res if isinstance(r, Exception)]
    print(f"burst: {n - len(bad)}/{n} connections ok")
    return 1 if bad else 0


if __name__ == "__main__":
    h, p, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    sys.exit(asyncio.run(main(h, p, n)))
