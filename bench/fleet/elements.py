#!/usr/bin/env python3
"""Prints, for each network namespace named, when each IPv4 address first appears as a new element
of PortSentinel's hosts4 set: one line "NS ADDRESS NANOSECONDS" (CLOCK_MONOTONIC, one clock for
every namespace), as `nft monitor new elements` reports it there. Runs until killed."""
import re
import signal
import subprocess
import sys
import threading
import time

ADDRESS = re.compile(r"\b\d{1,3}(?:\.\d{1,3}){3}\b")
lock = threading.Lock()
monitors = []


def follow(namespace):
    monitor = subprocess.Popen(["ip", "netns", "exec", namespace, "nft", "monitor", "new", "elements"],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, bufsize=1)
    monitors.append(monitor)
    seen = set()
    for line in monitor.stdout:
        now = time.monotonic_ns()
        if " hosts4 " not in line:
            continue
        fresh = [a for a in ADDRESS.findall(line) if a not in seen]
        seen.update(fresh)
        with lock:
            for address in fresh:
                sys.stdout.write(f"{namespace} {address} {now}\n")
            sys.stdout.flush()


def stop(*_):
    for monitor in monitors:
        monitor.terminate()
    sys.exit(0)


signal.signal(signal.SIGTERM, stop)
threads = [threading.Thread(target=follow, args=(ns,), daemon=True) for ns in sys.argv[1:]]
for t in threads:
    t.start()
print("ready", flush=True)
for t in threads:
    t.join()
