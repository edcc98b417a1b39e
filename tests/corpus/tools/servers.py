#!/usr/bin/env python3
"""Small target-side servers for the PortSentinel capture corpus.

Runs inside the TGT network namespace created by generate.sh and never talks
to anything but its clients there. All sockets are dual-stack (bound to ::
with IPV6_V6ONLY=0), so they answer on every IPv4 and IPv6 address of TGT.

  TCP 80    HTTP (serves the files of --www)
  TCP 22    accepts, sends an SSH banner, closes
  TCP 443   accepts, closes
  TCP 8080  accepts, closes
  UDP 53    minimal DNS responder: any query -> one A record (203.0.113.53)
  UDP 123   minimal NTP responder (mode 4 reply)
"""
import argparse
import functools
import http.server
import socket
import struct
import sys
import threading
import time


def dual_stack(kind):
    s = socket.socket(socket.AF_INET6, kind)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    return s


class HTTPServer(http.server.ThreadingHTTPServer):
    address_family = socket.AF_INET6
    request_queue_size = 1024
    daemon_threads = True

    def server_bind(self):
        self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        super().server_bind()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    server_version = "corpus-httpd/1.0"
    sys_version = ""

    def log_message(self, fmt, *args):  # keep the log small
        pass


def tcp_listener(port, banner=b""):
    s = dual_stack(socket.SOCK_STREAM)
    s.bind(("::", port))
    s.listen(1024)

    def loop():
        while True:
            try:
                c, _ = s.accept()
            except OSError:
                return
            try:
                if banner:
                    c.sendall(banner)
            except OSError:
                pass
            finally:
                c.close()

    threading.Thread(target=loop, daemon=True).start()


def dns_reply(q):
    if len(q) < 12:
        return None
    qid, flags, qdcount = struct.unpack("!HHH", q[:6])
    rd = flags & 0x0100
    opcode = flags & 0x7800
    if qdcount < 1 or opcode != 0:
        # e.g. nmap's UDP probe (opcode STATUS, no question): answer NOTIMP
        return struct.pack("!HHHHHH", qid, 0x8000 | opcode | rd | 4, 0, 0, 0, 0)
    # walk the first question name
    i = 12
    while i < len(q):
        n = q[i]
        if n == 0:
            i += 1
            break
        if n & 0xC0:
            return None
        i += 1 + n
    else:
        return None
    if i + 4 > len(q):
        return None
    question = q[12:i + 4]
    header = struct.pack("!HHHHHH", qid, 0x8400 | rd, 1, 1, 0, 0)  # QR AA, NOERROR
    answer = struct.pack("!HHHIH", 0xC00C, 1, 1, 60, 4) + socket.inet_aton("203.0.113.53")
    return header + question + answer


def ntp_reply(q):
    if len(q) < 48:
        return None
    now = time.time() + 2208988800
    ts = struct.pack("!II", int(now), int((now % 1) * 2**32))
    # LI=0 VN=4 Mode=4 (server), stratum 2, poll 6, precision -20
    head = struct.pack("!BBbb", (0 << 6) | (4 << 3) | 4, 2, 6, -20)
    root = struct.pack("!II", 0, 0) + socket.inet_aton("192.0.2.123")
    return head + root + ts + q[40:48] + ts + ts


def udp_responder(port, fn):
    s = dual_stack(socket.SOCK_DGRAM)
    s.bind(("::", port))

    def loop():
        while True:
            try:
                data, addr = s.recvfrom(4096)
                r = fn(data)
                if r:
                    s.sendto(r, addr)
            except Exception:  # never die on a malformed packet
                continue

    threading.Thread(target=loop, daemon=True).start()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--www", required=True)
    ap.add_argument("--ready", help="file to create once every socket is bound")
    a = ap.parse_args()
    tcp_listener(22, b"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n")
    tcp_listener(443)
    tcp_listener(8080)
    udp_responder(53, dns_reply)
    udp_responder(123, ntp_reply)
    httpd = HTTPServer(("::", 80), functools.partial(QuietHandler, directory=a.www))
    if a.ready:
        open(a.ready, "w").close()
    sys.stdout.flush()
    httpd.serve_forever()


if __name__ == "__main__":
    main()
