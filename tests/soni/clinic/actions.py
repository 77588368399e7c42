"""Deterministic actions of the clinic test domain: 13:00 is always taken (lunch)."""

import zlib


async def check_availability(date, time):
    return {"free": time != "13:00"}


async def book(specialty, date, time, patient):
    digest = zlib.crc32(f"{specialty}|{date}|{time}|{patient}".encode()) % 10000
    return {"reference": f"APT-{digest:04d}"}


async def cancel_booking(booking_ref):
    return None
