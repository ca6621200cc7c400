"""Days since 1970-01-01 -> the proleptic Gregorian (year, month, day), in a numba kernel.

H. Hinnant's ``civil_from_days``: exact for every int64 day count whose year fits, negative days
included (floor division). The text encoders of both protocol surfaces write dates with it
(pgwire's timestamps, InfluxQL's JSON times).
"""

from __future__ import annotations

from numba import njit


@njit(cache=True, nogil=True)
def civil(days: int) -> tuple[int, int, int]:
    z = days + 719_468
    era = z // 146_097
    doe = z - era * 146_097
    yoe = (doe - doe // 1460 + doe // 36_524 - doe // 146_096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    day = doy - (153 * mp + 2) // 5 + 1
    month = mp + 3 if mp < 10 else mp - 9
    year = yoe + era * 400 + (1 if month <= 2 else 0)
    return year, month, day
