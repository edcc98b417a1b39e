#!/usr/bin/env python3
"""Reads a capture taken in the target during a SYN scan (bench/live/reaction.sh) and prints, in
milliseconds, the time from the scanner's first probe to the probe after which the target
answered no more: the one that made the kernel guard hold the scanner (the hold is made while that
probe is processed, microseconds after its capture). Prints "-" when every probe was answered."""
import struct
import sys

SCANNER = bytes([198, 51, 100, 1])


def packets(path):
    with open(path, "rb") as f:
        header = f.read(24)
        magic = struct.unpack("<I", header[:4])[0]
        order = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
        nano = struct.unpack(order + "I", header[:4])[0] == 0xA1B23C4D
        link = struct.unpack(order + "I", header[20:24])[0]
        offset = {1: 14, 113: 16, 276: 20}[link]  # Ethernet, Linux SLL, SLL2
        while record := f.read(16):
            sec, frac, caplen, _ = struct.unpack(order + "IIII", record)
            data = f.read(caplen)
            yield sec + frac / (1e9 if nano else 1e6), data[offset:]


def main(path):
    first = None
    syns = []  # (time, port) of the scanner's probes
    answered = set()  # ports the target answered (SYN-ACK or RST)
    for time, ip in packets(path):
        if len(ip) < 40 or ip[0] >> 4 != 4 or ip[9] != 6:
            continue
        tcp = ip[(ip[0] & 15) * 4:]
        sport, dport = struct.unpack(">HH", tcp[:4])
        flags = tcp[13]
        if ip[12:16] == SCANNER and flags & 0x02:
            first = first if first is not None else time
            syns.append((time, dport))
        elif ip[16:20] == SCANNER and flags & 0x14:
            answered.add(sport)
    # The hold comes with the first probe to a port never answered.
    for time, port in syns:
        if port not in answered:
            print(f"{(time - first) * 1000:.3f}")
            return
    print("-")


main(sys.argv[1])
