#!/usr/bin/env python3
"""Regenerates the malformed-audio corpus. Run from this folder: python3 make.py

Each file is a small valid 16-bit mono 48 kHz WAV with one thing broken (see README.md).
The random FLAC is seeded, so the corpus is reproducible byte for byte.
"""
import random
import struct


def chunk(cid, body, size=None):
    return cid + struct.pack("<I", len(body) if size is None else size) + body


def fmt(channels=1, rate=48000, bits=16, size=None):
    block = (channels * bits // 8) & 0xFFFF
    body = struct.pack("<HHIIHH", 1, channels, rate, rate * block, block, bits)
    return chunk(b"fmt ", body, size)


def riff(*chunks):
    body = b"WAVE" + b"".join(chunks)
    return b"RIFF" + struct.pack("<I", len(body)) + body


audio = bytes(range(200))  # 100 frames of 16-bit mono
files = {
    # The header declares 1000 frames of audio; the file ends after 100 of them.
    "truncated.wav": riff(fmt(), chunk(b"data", audio, size=2000)),
    "zero-channels.wav": riff(fmt(channels=0), chunk(b"data", audio)),
    "65535-channels.wav": riff(fmt(channels=65535), chunk(b"data", audio)),
    # A fmt chunk claiming 0 bytes, followed by the fields it should have covered.
    "fmt-size-0.wav": riff(chunk(b"fmt ", b"", size=0), chunk(b"data", audio)),
    "data-size-ffffffff.wav": riff(fmt(), chunk(b"data", audio, size=0xFFFFFFFF)),
    # A mono fmt, then a stereo one: ambiguous, so refused.
    "two-fmt.wav": riff(fmt(), fmt(channels=2), chunk(b"data", audio)),
    "data-size-0.wav": riff(fmt(), chunk(b"data", b"")),
    "not-a-wav.wav": b"This is a text file, not audio.\n",
    "empty.wav": b"",
    "random.flac": random.Random(7).randbytes(4096),
}
for name, data in files.items():
    with open(name, "wb") as f:
        f.write(data)
