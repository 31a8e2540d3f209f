"""The pilot filters (city, product, category, status, batch) as the address carries them, so a
filtered view can be shared: ``/pilots?city=3,4&status=in_implementation&batch=1``. Only values the
user is offered are taken (another city's id in the address is simply dropped)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from urllib.parse import urlencode

from tracker.core.json_types import Option

# RegistryFilters field → (address parameter, tracker.monitoring.registry.filter_options key)
PARAMETERS = {
    "city_ids": ("city", "cities"),
    "product_ids": ("product", "products"),
    "categories": ("category", "categories"),
    "statuses": ("status", "statuses"),
    "batch_numbers": ("batch", "batches"),
    "progress": ("progress", "progress"),
    "overdue": ("overdue", "overdue"),
}


def chosen_in_query(
    query: Mapping[str, object], options: Mapping[str, Sequence[Option]]
) -> dict[str, list[int | str]]:
    """Each filter's values from the address, as the dropdowns hold them (ids as numbers)."""
    chosen: dict[str, list[int | str]] = {}
    for key, (param, option_key) in PARAMETERS.items():
        offered = {str(o["value"]): o["value"] for o in options[option_key]}
        items = [v.strip() for v in str(query.get(param) or "").split(",") if v.strip()]
        values = [offered[v] for v in items if v in offered]
        if values:
            chosen[key] = values
    return chosen


def query_string(values: Mapping[str, object]) -> str:
    """The address parameters of the chosen filters ("" when none is set)."""
    pairs = [(param, ",".join(str(v) for v in chosen))
             for key, (param, _option_key) in PARAMETERS.items()
             if isinstance(chosen := values.get(key), list) and chosen]  # fmt: skip
    return "?" + urlencode(pairs, safe=",") if pairs else ""
