"""CRC-32/MPEG-2 (ISO/IEC 13818-1 Annex A): polynomial 0x04C11DB7, initial value 0xFFFFFFFF, no bit
reflection, no final XOR. A section whose CRC is computed over all its bytes, CRC included, gives 0."""

from __future__ import annotations


def _table() -> tuple[int, ...]:
    table = []
    for byte in range(256):
        crc = byte << 24
        for _ in range(8):
            crc = ((crc << 1) ^ 0x04C11DB7) if crc & 0x80000000 else (crc << 1)
        table.append(crc & 0xFFFFFFFF)
    return tuple(table)


_TABLE = _table()


def crc32_mpeg2(data: bytes | bytearray | memoryview, crc: int = 0xFFFFFFFF) -> int:
    table = _TABLE
    for byte in bytes(data):
        crc = ((crc << 8) & 0xFFFFFFFF) ^ table[(crc >> 24) ^ byte]
    return crc
