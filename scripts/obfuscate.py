#!/usr/bin/env python3
"""Prints the obfuscated API key and timestamp for a legacy-API login: obfuscate.py <12-character key>."""
import sys, time

key = sys.argv[1]
ts = str(int(time.time() * 1000))
high = ts[-6:]
low = str(int(high) >> 1).zfill(6)
print("".join(key[int(d)] for d in high) + "".join(key[int(d) + 2] for d in low), ts)
