"""Review dates: every page says when its facts were last checked, and is checked again in time."""

from __future__ import annotations

import calendar
import datetime
import os
import re

from ..model import WARNING, Diagnostic


def check_review_due(site, rendered, seeds, today: datetime.date | None = None):
    """Warn when `reviewed` is missing, in the future, or older than `review_months` (site.toml)."""
    config = site.config
    today = today or datetime.date.today()
    months = config.review_months
    for r in rendered:
        page = r.page
        if page.reviewed is None:
            yield Diagnostic(WARNING, "missing-reviewed", "no reviewed date: once a reviewer has checked the facts "
                             f"and sources, add `reviewed: {today.isoformat()}` to the front matter",
                             page.source, 1)
            continue
        line = front_matter_line(config, page, "reviewed")
        due = add_months(page.reviewed, months)
        if page.reviewed > today:
            yield Diagnostic(WARNING, "reviewed-in-future", f"reviewed {page.reviewed.isoformat()} is in the "
                             "future: write the date the review took place", page.source, line)
        elif due < today:
            yield Diagnostic(WARNING, "review-due", f"reviewed {page.reviewed.isoformat()} is more than {months} "
                             f"months ago (a review was due on {due.isoformat()}): check the facts and sources "
                             "again, then update `reviewed:`", page.source, line)


def add_months(day: datetime.date, months: int) -> datetime.date:
    """Return the same day `months` later, or the month's last day when it is shorter (Jan 31 -> Feb 28)."""
    year, month = divmod(day.month - 1 + months, 12)
    year += day.year
    return day.replace(year=year, month=month + 1, day=min(day.day, calendar.monthrange(year, month + 1)[1]))


def front_matter_line(config, page, key: str) -> int:
    """Return the line of `key:` in the page's front matter (1 when it cannot be found)."""
    try:
        with open(os.path.join(config.root, page.source), encoding="utf-8-sig") as f:
            head = f.read().split("\n", page.body_line)[: page.body_line]
    except OSError:
        return 1
    pattern = re.compile(rf"^{re.escape(key)}[ \t]*:")
    return next((number for number, text in enumerate(head, 1) if pattern.match(text)), 1)
