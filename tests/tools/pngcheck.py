#!/usr/bin/python3
# pngcheck.py FILE - a PNG that is not blank: it decodes (zlib, the PNG
# filters) and more than 1 % of its pixels differ from the most common one
# (the page's background), in more than 8 colours. Prints what it found.
import collections
import struct
import sys
import zlib


def paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    return a if pa <= pb and pa <= pc else b if pb <= pc else c


def main():
    data = open(sys.argv[1], "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        sys.exit("not a PNG")
    pos, idat, hdr = 8, b"", None
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            hdr = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    w, h, depth, ctype = hdr[0], hdr[1], hdr[2], hdr[3]
    if depth != 8 or ctype not in (2, 6):
        sys.exit("unexpected PNG format: depth %d, colour type %d" % (depth, ctype))
    bpp = 3 if ctype == 2 else 4
    raw = zlib.decompress(idat)
    stride = w * bpp
    prev = bytearray(stride)
    counts = collections.Counter()
    for y in range(h):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for x in range(stride):
            a = line[x - bpp] if x >= bpp else 0
            b, c = prev[x], prev[x - bpp] if x >= bpp else 0
            if f == 1:
                line[x] = (line[x] + a) & 255
            elif f == 2:
                line[x] = (line[x] + b) & 255
            elif f == 3:
                line[x] = (line[x] + (a + b) // 2) & 255
            elif f == 4:
                line[x] = (line[x] + paeth(a, b, c)) & 255
        if y % 4 == 0:  # every 4th row is plenty
            for x in range(0, stride, bpp * 2):
                counts[bytes(line[x:x + 3])] += 1
        prev = line
    total = sum(counts.values())
    top, n = counts.most_common(1)[0]
    other = 1 - n / total
    print("= screenshot %dx%d: %d colours, %.1f %% of the pixels differ from the background #%s"
          % (w, h, len(counts), 100 * other, top.hex()))
    if other < 0.01 or len(counts) <= 8:
        sys.exit("the screenshot looks blank")


main()
