"""Slugs for URLs and heading ids that keep Spanish words apart."""

import re
import unicodedata
from functools import lru_cache


@lru_cache(maxsize=4096)  # folder names and headings ("Sources", "What to do") repeat on every page
def slugify(value: str, separator: str = "-") -> str:
    """Return an ASCII slug; ñ becomes 'ny' so that 'Año' and 'Ano' stay distinct."""
    value = value.replace("ñ", "ny").replace("Ñ", "ny")
    value = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode("ascii")
    value = re.sub(r"[^\w\s-]", "", value).strip().lower()
    return re.sub(rf"[{re.escape(separator)}\s_]+", separator, value).strip(separator)
