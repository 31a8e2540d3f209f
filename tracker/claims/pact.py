"""PACT ProductFootprints as suppliers send them (the WBCSD PACT Data Exchange Protocol, v2.x and
v3.0; docs/DOMAIN.md §9) read as rows of the exchange format, so that ``registry`` checks and imports
them like a spreadsheet, while every problem is located by footprint and PACT field (``data[2]（id …）的
pcf.declaredUnitOfMeasurement``), never by a spreadsheet cell the file does not have.

Mapped faithfully: the footprint per one declared unit (the PACT figure is for ``declaredUnitAmount``
units), every PACT declared unit, a v2 ``assurance`` only when it says ``true``, a v3 ``verification``
(its provider as the certifier, its completion as the certificate date), timestamps only when they
are RFC 3339 date-times, the reference period's end as exclusive, and the version links
(``status``, ``precedingPfIds``) for the registry to keep. What PACT has no field for (a city, often a
unified social credit code) comes from the caller: the city and credit code given with the import,
or the registered organisation whose name is exactly ``companyName``.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from tracker.claims.exchange import REQUIRED, normalise_unit
from tracker.core.creditcode import validate_credit_code
from tracker.core.json_types import JsonRow
from tracker.core.messages import Joined, Listed, Message
from tracker.core.validation import FIELD_LABELS, Problem, ValidationFailed

# Every PACT DeclaredUnit (v2: the first seven; v3 adds piece) as stored, and the short spellings
# files written before the protocol fixed its names use.
PACT_UNITS = {"liter": "L", "kilogram": "kg", "cubic meter": "m3", "kilowatt hour": "kWh", "megajoule": "MJ",
              "ton kilometer": "tkm", "square meter": "m2", "piece": "piece",
              "kg": "kg", "l": "L", "kwh": "kWh", "m3": "m3", "t": "t", "ton": "t", "metric ton": "t", "tonne": "t"}  # fmt: skip
SHOWN_UNITS = "liter、kilogram、cubic meter、kilowatt hour、megajoule、ton kilometer、square meter、piece"
HEADER = [*REQUIRED, "model", "certifier", "certificate_issued"]
CITY, CREDIT_CODE = "pact.city", "pact.credit_code"  # no PACT fields: given with the import
FIELD_LABELS[CITY] = ("所属城市（--city）", "city (--city)")
FIELD_LABELS[CREDIT_CODE] = ("统一社会信用代码（--credit-code）", "credit code (--credit-code)")
SELF_DECLARED, THIRD_PARTY = "自我声明", "第三方认证"
ACTIVE, DEPRECATED = "active", "deprecated"
ROOT = "ProductFootprint"  # the place of a file that is one footprint
MODEL_LENGTH = 200  # exchange.TEXTS["model"]: a longer productDescription is cut, not refused

_STAMP = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})", re.IGNORECASE
)
_DECIMAL = re.compile(r"-?\d+(\.\d+)?")
_CODE = re.compile(r"[0-9A-Z]{18}")


@dataclass
class PactFile:
    """A PACT file read: the exchange rows (header first, then one per footprint), per footprint its
    place in the file, its id and the PACT field each exchange column came from, the reader's own
    problems and the version links (status, precedingPfIds)."""

    rows: list[list[str]] = field(default_factory=lambda: [list(HEADER)])
    places: list[str] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)
    sources: list[dict[str, str]] = field(default_factory=list)
    found: list[tuple[int, Problem]] = field(default_factory=list)  # (footprint, problem); -1: the file
    covered: set[tuple[int, str]] = field(default_factory=set)  # (footprint, column) already judged
    status: list[str] = field(default_factory=list)
    preceding: list[list[str]] = field(default_factory=list)
    warnings: list[Message] = field(default_factory=list)

    def at(self, index: int, pact_field: str, message: Message) -> Problem:
        """A problem of footprint ``index`` located by its place, id and PACT field."""
        return Problem(pact_field, message, item=self.places[index], item_id=self.ids[index] or None)

    def located(
        self, problems: list[Problem], more: list[tuple[int, Problem]] | None = None
    ) -> list[Problem]:
        """The checker's problems (row and exchange column) moved onto footprints and PACT fields,
        with the reader's own and ``more``, in footprint order; one judged by the reader already is
        dropped, and one about the city (the same for every footprint) is said once."""
        placed = [*self.found, *(more or [])]
        said: set[Message] = set()
        for problem in problems:
            index = problem.row - 2 if problem.row is not None else -1
            if not 0 <= index < len(self.places):
                placed.append((-1, problem))
            elif (index, problem.field) not in self.covered:
                source = self.sources[index].get(problem.field, problem.field)
                if source != CITY:
                    placed.append((index, self.at(index, source, problem.message)))
                elif problem.message not in said:
                    said.add(problem.message)
                    placed.append((-1, Problem(CITY, problem.message)))
        return [problem for _, problem in sorted(placed, key=lambda item: item[0])]


def pact_rows(content: bytes, city: str | None) -> list[list[str]]:
    """The footprints as exchange rows only (``read_pact`` has their places and problems too)."""
    return read_pact(content, city=city).rows


def read_pact(content: bytes, *, city: str | None, credit_code: str | None = None,
              organisations: Mapping[str, str] | None = None) -> PactFile:  # fmt: skip
    """Read a PACT file: a ``data`` list or object (a list-footprints or get-footprint response), a
    list of ProductFootprints or one. ``credit_code`` is the code of a one-company file whose
    ``companyIds`` hold none; ``organisations`` the registered codes by exact organisation name.
    Refuses at once what is no PACT file at all; every other problem is kept in ``found``."""
    footprints, prefix, wrapped = _footprints(content)
    pact = PactFile()
    option = _credit_option(pact, credit_code, footprints)
    if not city:
        pact.found.append((-1, Problem(CITY, Message("PACT 文件不含城市：请指定这些声明所属的城市"))))
    for index, footprint in enumerate(footprints):
        pact.places.append(
            f"{prefix}[{index}]" if prefix is not None else ROOT if wrapped is None else "data"
        )
        pact.ids.append(given if isinstance(given := footprint.get("id"), str) else "")
        _Footprint(pact, index, footprint).read(city or "", option, organisations or {})
    _repeated_ids(pact)
    return pact


def _footprints(content: bytes) -> tuple[list[JsonRow], str | None, bool | None]:
    """The file's ProductFootprints, the path of their list (``data``, or "" for a bare list; None
    for a single footprint) and whether a single one is under ``data`` (None: the file is the footprint)."""
    try:
        data = json.loads(content.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ValidationFailed([Problem("file", Message("不是有效的 JSON 文件"))]) from None
    except RecursionError:  # nesting deeper than the interpreter's stack: no footprint looks so
        raise ValidationFailed(
            [Problem("file", Message("JSON 嵌套层数过多，不是 ProductFootprint 文件"))]
        ) from None
    wrapped = isinstance(data, dict) and "data" in data
    found = data["data"] if wrapped else data
    if isinstance(found, dict) and ("pcf" in found or "id" in found):
        return [found], None, wrapped or None
    if not isinstance(found, list) or not all(isinstance(f, dict) for f in found):
        raise ValidationFailed([Problem("file", Message("JSON 应为 ProductFootprint 列表"))])
    return found, "data" if wrapped else "", True


def _credit_option(pact: PactFile, credit_code: str | None, footprints: list[JsonRow]) -> str:
    """The credit code given with the import, checked: a valid code, for a file of one company."""
    if not credit_code:
        return ""
    check = validate_credit_code(credit_code)
    if not check.valid:
        pact.found.append((-1, Problem(CREDIT_CODE, Message(
            "统一社会信用代码“{value}”无效：{errors}", value=credit_code, errors=Joined(check.problems)))))  # fmt: skip
    names = sorted({str(f.get("companyName") or "").strip() for f in footprints} - {""})
    if len(names) > 1:
        pact.found.append((-1, Problem(CREDIT_CODE, Message(
            "统一社会信用代码只能为一家企业的文件指定，此文件含{count}家企业：{names}",
            count=len(names), names=Listed(names)))))  # fmt: skip
    return check.code


def _repeated_ids(pact: PactFile) -> None:
    first: dict[str, int] = {}
    for index, key in enumerate(pact.ids):
        if key and key in first:
            pact.found.append(
                (index, pact.at(index, "id", Message("与{place}的 id 相同", place=pact.places[first[key]])))
            )
            pact.covered.add((index, "claim_id"))
        first.setdefault(key, index)


class _Footprint:
    """One ProductFootprint being read into an exchange row: its values, the PACT field each came
    from, and what is wrong with it (kept in the file's ``found``)."""

    def __init__(self, pact: PactFile, index: int, raw: JsonRow) -> None:
        self.pact, self.index, self.raw = pact, index, raw
        self.pcf: JsonRow = pcf if isinstance(pcf := raw.get("pcf"), dict) else {}
        self.v2 = str(raw.get("specVersion") or "").startswith(("1.", "2."))
        self.values: dict[str, str] = dict.fromkeys(HEADER, "")
        self.sources: dict[str, str] = {"claim_id": "id", "company_name": "companyName", "credit_code": "companyIds",
                                        "city": CITY, "published_on": "created", "boundary": "partialFullPcf"}  # fmt: skip

    def problem(self, pact_field: str, message: Message, column: str | None = None) -> None:
        """A problem of this footprint at ``pact_field``; ``column``: the exchange column it decides
        (the checker's own problem there is then dropped)."""
        self.pact.found.append((self.index, self.pact.at(self.index, pact_field, message)))
        if column is not None:
            self.pact.covered.add((self.index, column))

    def read(self, city: str, option: str, organisations: Mapping[str, str]) -> None:
        if not isinstance(self.raw.get("pcf"), dict):
            self.problem("pcf", Message("缺少 pcf（CarbonFootprint）对象"))
        if not city:
            self.pact.covered.add((self.index, "city"))  # said once for the file
        values = self.values
        values.update(claim_id=self.text("id", "claim_id"), company_name=self.text("companyName", "company_name"),
                      city=city, boundary=self.boundary(), published_on=self.day("created", "published_on"))  # fmt: skip
        values["credit_code"] = self.credit_code(option, organisations)
        values["product"] = self.first_text(
            self.raw, "product", "productNameCompany", "productName", "productDescription"
        )
        values["model"] = self.text("productDescription", "model")[:MODEL_LENGTH]
        values["standard"] = self.standards()
        values["declared_unit"], values["footprint_kgco2e"] = self.declared_unit(), self.per_declared_unit()
        values["period_start"], values["period_end"] = self.period()
        values["label_type"], values["certifier"], values["certificate_issued"] = self.verification()
        for name in ("updated", "validityPeriodStart", "validityPeriodEnd"):
            self.stamp(self.raw.get(name), name)
        self.pact.rows.append([values[name] for name in HEADER])
        self.pact.sources.append(self.sources)
        self.pact.status.append(self.status())
        self.pact.preceding.append(self.preceding())

    # --- values ------------------------------------------------------------------------------------

    def text(self, name: str, column: str, within: JsonRow | None = None, path: str | None = None) -> str:
        """A text value (a number as its digits); anything else is a problem."""
        value = (self.raw if within is None else within).get(name)
        pact_field = path or name
        self.sources[column] = pact_field
        if value is None or isinstance(value, str):
            return value or ""
        if isinstance(value, int | float) and not isinstance(value, bool):
            return str(value)
        self.problem(pact_field, Message("应为文本"), column)
        return ""

    def first_text(self, within: JsonRow, column: str, *names: str) -> str:
        """The first of ``names`` that holds a value (the preferred name first)."""
        name = next((n for n in names if within.get(n) not in (None, "")), names[0])
        return self.text(name, column, within)

    def credit_code(self, option: str, organisations: Mapping[str, str]) -> str:
        """The unified social credit code: an 18-character last segment of a ``companyIds`` URN, else
        the code given with the import, else the registered organisation named ``companyName``."""
        ids = self.raw.get("companyIds")
        if ids is not None and not isinstance(ids, list):
            self.problem("companyIds", Message("应为 URN 列表"), "credit_code")
            return ""
        found = [s for urn in ids or [] if isinstance(urn, str) and _CODE.fullmatch(s := urn.rsplit(":", 1)[-1].strip().upper())]  # fmt: skip
        if found and option and found[0] != option:
            self.problem("companyIds", Message("其中的统一社会信用代码{found}与指定的{given}不一致", found=found[0], given=option), "credit_code")  # fmt: skip
        name = self.values["company_name"].strip()
        code = (found[0] if found else "") or option or organisations.get(name, "")
        if not code:
            self.problem("companyIds", Message(
                "没有统一社会信用代码（如 urn:uscc:911404…），企业“{name}”也未登记：请为这家企业的文件指定统一社会信用代码（--credit-code），或先登记该企业",
                name=name), "credit_code")  # fmt: skip
        return code

    def boundary(self) -> str:
        grave = str(self.raw.get("partialFullPcf") or "").lower() == "cradle-to-grave"
        return "cradle-to-grave" if grave else "cradle-to-gate"

    def standards(self) -> str:
        name = self.pcf_name("crossSectoralStandards", "crossSectoralStandardsUsed")
        self.sources["standard"] = f"pcf.{name}"
        value = self.pcf.get(name)
        if value is None:
            return ""
        if not isinstance(value, list) or not all(isinstance(s, str) for s in value):
            self.problem(f"pcf.{name}", Message("应为文本列表"), "standard")
            return ""
        return "; ".join(s.strip() for s in value if s.strip())

    def declared_unit(self) -> str:
        name = self.pcf_name("declaredUnitOfMeasurement", "declaredUnit")
        text = self.text(name, "declared_unit", self.pcf, f"pcf.{name}").strip()
        unit = PACT_UNITS.get(text.lower()) or normalise_unit(text)  # or a unit of the exchange format (kWp)
        if text and unit is None:
            self.problem(f"pcf.{name}", Message("“{value}”不是可识别的 PACT 申报单位（{shown}）", value=text, shown=SHOWN_UNITS), "declared_unit")  # fmt: skip
        return unit or ""

    def per_declared_unit(self) -> str:
        """The footprint per one declared unit: the PACT figure is for ``declaredUnitAmount`` units."""
        name = next((n for n in ("pcfExcludingBiogenicUptake", "pCfExcludingBiogenic", "pcfExcludingBiogenic")
                     if n in self.pcf), "pCfExcludingBiogenic" if self.v2 else "pcfExcludingBiogenicUptake")  # fmt: skip
        self.sources["footprint_kgco2e"] = f"pcf.{name}"
        value = self.decimal(name, "footprint_kgco2e")
        amount_name = self.pcf_name("declaredUnitAmount", "unitaryProductAmount")
        amount = self.decimal(amount_name, "footprint_kgco2e") if amount_name in self.pcf else Decimal(1)
        if amount is not None and amount <= 0:
            self.problem(
                f"pcf.{amount_name}", Message("“{value}”应大于 0", value=_plain(amount)), "footprint_kgco2e"
            )
        mass = (
            self.decimal("productMassPerDeclaredUnit", None)
            if "productMassPerDeclaredUnit" in self.pcf
            else None
        )
        if mass is not None and mass < 0:
            self.problem(
                "pcf.productMassPerDeclaredUnit", Message("“{value}”为负数，此项不能为负", value=_plain(mass))
            )
        if value is None or amount is None or amount <= 0:
            return ""
        return _plain(value / amount)

    def pcf_name(self, v3: str, v2: str) -> str:
        """The name this footprint uses for a field renamed in v3 (the v2 one in a v2 file by default)."""
        if v3 in self.pcf or v2 in self.pcf:
            return v3 if v3 in self.pcf else v2
        return v2 if self.v2 else v3

    def decimal(self, name: str, column: str | None) -> Decimal | None:
        """A PACT Decimal (a string such as "0.123"; a JSON number as some v2.0 files send)."""
        value = self.pcf.get(name)
        if value is None or value == "":
            return None
        number = _decimal(value)
        if number is None:
            self.problem(f"pcf.{name}", Message("“{value}”不是 PACT 的十进制数（应如 \"0.123\"）", value=str(value)), column)  # fmt: skip
        return number

    def period(self) -> tuple[str, str]:
        """The reference period: its first day, and its last (the PACT end is exclusive: an end at
        midnight means the day before). v3 files may give it as ``referencePeriod`` {start, end}."""
        block = self.pcf.get("referencePeriod")
        if isinstance(block, dict) and "referencePeriodStart" not in self.pcf:
            self.sources.update(
                period_start="pcf.referencePeriod.start", period_end="pcf.referencePeriod.end"
            )
            start, end = block.get("start"), block.get("end")
        else:
            self.sources.update(period_start="pcf.referencePeriodStart", period_end="pcf.referencePeriodEnd")
            start, end = self.pcf.get("referencePeriodStart"), self.pcf.get("referencePeriodEnd")
        first = self.stamp(start, self.sources["period_start"], "period_start")
        last = self.stamp(end, self.sources["period_end"], "period_end")
        if last is not None and last.time() == dt.time(0):
            last -= dt.timedelta(days=1)
        return (first.date().isoformat() if first else ""), (last.date().isoformat() if last else "")

    def day(self, name: str, column: str) -> str:
        stamp = self.stamp(self.raw.get(name), name, column)
        return stamp.date().isoformat() if stamp else ""

    def stamp(self, value: object, pact_field: str, column: str | None = None) -> dt.datetime | None:
        """A PACT DateTime (RFC 3339: 2025-01-08T14:47:32Z), as written; a problem when it is none."""
        if value is None or value == "":
            return None
        stamp = _stamp(value) if isinstance(value, str) else None
        if stamp is None:
            self.problem(pact_field, Message("“{value}”不是 RFC 3339 时间（应如 2025-01-08T14:47:32Z）", value=str(value)), column)  # fmt: skip
        return stamp

    def verification(self) -> tuple[str, str, str]:
        """Label type, certifier and certificate date: a v3 ``verification`` (its presence means
        verified) or a v2 ``assurance`` that says ``"assurance": true`` make the label third-party
        verified by ``providerName`` as of ``completedAt``; ``"assurance": false`` is no verification."""
        name = "verification" if "verification" in self.pcf else "assurance"
        block, path = self.pcf.get(name), f"pcf.{name}"
        self.sources.update(
            label_type=path, certifier=f"{path}.providerName", certificate_issued=f"{path}.completedAt"
        )
        if block is None:
            return SELF_DECLARED, "", ""
        if not isinstance(block, dict):
            self.problem(path, Message("应为对象"), "label_type")
            return SELF_DECLARED, "", ""
        assured = block.get("assurance", True) if name == "assurance" else True
        if not isinstance(assured, bool):
            self.problem(f"{path}.assurance", Message("应为 true 或 false"), "label_type")
            return SELF_DECLARED, "", ""
        if not assured:
            return SELF_DECLARED, "", ""
        provider = self.text("providerName", "certifier", block, f"{path}.providerName").strip()
        completed = self.stamp(block.get("completedAt"), f"{path}.completedAt", "certificate_issued")
        return THIRD_PARTY, provider, completed.date().isoformat() if completed else ""

    # --- versions ----------------------------------------------------------------------------------

    def status(self) -> str:
        value = self.raw.get("status")
        if value is None:
            return ACTIVE
        if isinstance(value, str) and value.strip().lower() in (ACTIVE, DEPRECATED):
            return value.strip().lower()
        self.problem("status", Message("“{value}”不是 PACT 的状态（Active 或 Deprecated）", value=str(value)))
        return ACTIVE

    def preceding(self) -> list[str]:
        """The ids of the footprints this one replaces (``precedingPfIds``), without its own."""
        value = self.raw.get("precedingPfIds")
        if value is None:
            return []
        if not isinstance(value, list) or not all(
            isinstance(v, str) and 0 < len(v.strip()) <= 64 for v in value
        ):
            self.problem("precedingPfIds", Message("应为 id 列表（每个不超过64个字符）"))
            return []
        own = self.pact.ids[self.index]
        if own and own in (v.strip() for v in value):
            place = self.pact.places[self.index]
            self.pact.warnings.append(
                Message("{place}（id {own}）的 precedingPfIds 含有其自身的 id，已忽略", place=place, own=own)
            )
        return list(dict.fromkeys(v.strip() for v in value if v.strip() != own))


def _stamp(text: str) -> dt.datetime | None:
    """An RFC 3339 date-time as written (its wall-clock time, the offset dropped); None when the text
    is none: ``2025-1-08T14:47:32Z``, a date alone, a time without a zone, February 30."""
    match = _STAMP.fullmatch(text.strip())
    if match is None:
        return None
    year, month, day, hour, minute, second = (int(part) for part in match.groups()[:6])
    fraction, zone = match.group(7), match.group(8)
    if zone.upper() != "Z" and (int(zone[1:3]) > 23 or int(zone[4:6]) > 59):
        return None
    micro = int((fraction[1:] + "000000")[:6]) if fraction else 0
    try:  # a leap second (23:59:60) is the last second of its day
        return dt.datetime(year, month, day, hour, minute, 59 if second == 60 else second, micro)
    except ValueError:
        return None


def _decimal(value: object) -> Decimal | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and not _DECIMAL.fullmatch(value.strip()):
        return None
    if not isinstance(value, str | int | float):
        return None
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _plain(number: Decimal) -> str:
    """A decimal in plain digits (no exponent), trailing zeros dropped."""
    text = format(number.normalize(), "f")
    return text if text != "-0" else "0"
