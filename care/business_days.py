"""Business days in the clinic's time zone: Monday to Friday, skipping the US federal
holidays (the ``holidays`` package, with the observed day when one falls on a weekend)
and the days the clinic closes (``ClinicHoliday``, edited in the admin).

Counting follows 45 CFR 149.610(b): a service on day S is scheduled "at least N
business days before" it when booked on a day B with ``add(B, N) <= S``, that is when
at least N business days lie after B up to and including S. "Within N business days
of B" is the end of the day ``add(B, N)``.
"""

from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

import holidays


@lru_cache(maxsize=1)
def _federal() -> holidays.HolidayBase:
    # Expands itself year by year as dates are looked up.
    return holidays.country_holidays("US")


@dataclass(frozen=True)
class BusinessCalendar:
    closed: frozenset[date]  # the clinic's own closures

    @classmethod
    def load(cls) -> "BusinessCalendar":
        """The calendar with the clinic's closures as they are now (one query)."""
        from care.models import ClinicHoliday

        return cls(frozenset(ClinicHoliday.objects.values_list("day", flat=True)))

    def is_business_day(self, day: date) -> bool:
        return day.weekday() < 5 and day not in _federal() and day not in self.closed

    def add(self, day: date, business_days: int) -> date:
        """The ``business_days``-th business day after ``day`` (``day`` itself may be
        a weekend or holiday: booking on a Saturday, 1 business day is Monday)."""
        if business_days < 0:
            raise ValueError("Count forward only; use previous() to go back.")
        current = day
        left = business_days
        while left:
            current += timedelta(days=1)
            if self.is_business_day(current):
                left -= 1
        return current

    def previous(self, day: date) -> date:
        """The last business day before ``day``."""
        current = day - timedelta(days=1)
        while not self.is_business_day(current):
            current -= timedelta(days=1)
        return current

    def count_after(self, start: date, end: date) -> int:
        """Business days d with start < d <= end (0 when end is not after start)."""
        count = 0
        current = start
        while current < end:
            current += timedelta(days=1)
            if self.is_business_day(current):
                count += 1
        return count
