"""Unified social credit codes (GB 32100-2015)."""

from __future__ import annotations

import csv

import pytest

from tests.fixtures import FIXTURES
from tracker.core.creditcode import check_character, validate_credit_code

VALID = "91140400068288362P"  # from the labelled claims sample (a clean claim)


def test_a_valid_code_passes() -> None:
    result = validate_credit_code(VALID)
    assert result.valid and result.warnings == []


def test_a_wrong_check_character_is_an_error_naming_the_right_one() -> None:
    result = validate_credit_code(VALID[:-1] + "Q")
    assert not result.valid
    assert "校验位错误" in result.errors[0] and "P" in result.errors[0]


@pytest.mark.parametrize("code", [VALID[:-1], VALID + "0", "", "9114"])
def test_wrong_length_is_an_error(code: str) -> None:
    result = validate_credit_code(code)
    assert not result.valid and "长度应为18位" in result.errors[0]


def test_lowercase_and_spaces_are_normalised_not_refused() -> None:
    result = validate_credit_code(" 91140400 068288362p\u3000")
    assert result.valid and result.code == VALID


@pytest.mark.parametrize("letter", ["I", "O", "S", "V", "Z"])
def test_letters_the_standard_never_uses_are_errors(letter: str) -> None:
    result = validate_credit_code(VALID[:10] + letter + VALID[11:])
    assert not result.valid and "不允许的字符" in result.errors[0]


def test_check_character_zero_case() -> None:
    # When the weighted sum is a multiple of 31 the check character is 0, not 31.
    first17 = next(
        f"9114040006828{n:04d}" for n in range(10000) if check_character(f"9114040006828{n:04d}") == "0"
    )
    assert validate_credit_code(first17 + "0").valid


def test_division_code_of_another_city_is_a_warning_not_an_error() -> None:
    result = validate_credit_code(VALID, city_code="140100")  # registered in 长治, stated as 太原
    assert result.valid
    assert any("与所填城市" in w for w in result.warnings)


def test_division_code_in_the_stated_city_and_provincial_registration_give_no_warning() -> None:
    assert validate_credit_code(VALID, city_code="140400").warnings == []
    first17 = "91140000068288362"
    provincial = first17 + check_character(first17)
    assert validate_credit_code(provincial, city_code="140400").warnings == []


def test_the_labelled_sample_agrees_with_the_validator() -> None:
    labels = {
        r["claim_id"]: r["issue"] for r in csv.DictReader((FIXTURES / "claims_sample_labels.csv").open())
    }
    for row in csv.DictReader((FIXTURES / "claims_sample.csv").open(encoding="utf-8")):
        planted = labels.get(row["claim_id"]) == "invalid_credit_code"
        assert validate_credit_code(row["credit_code"]).valid is not planted, row["claim_id"]


def test_registering_an_organisation_normalises_the_code_and_warns_on_another_city(db) -> None:  # type: ignore[no-untyped-def]
    from tracker.lifecycle.organisations import register_organisation
    from tracker.models import OrganisationKind

    org, warnings = register_organisation(
        db,
        name="示例太原登记长治企业",
        credit_code=VALID.lower(),
        city="太原",
        kind=OrganisationKind.ENTERPRISE,
    )
    assert org.credit_code == VALID
    assert len(warnings) == 1 and "与所填城市" in warnings[0].zh


@pytest.mark.parametrize(
    ("code", "message"), [(VALID[:-1] + "Q", "校验位错误"), (VALID[:10], "长度应为18位")]
)
def test_an_invalid_code_is_refused_and_nothing_is_written(db, code: str, message: str) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import func, select

    from tracker.core.errors import TrackerError
    from tracker.lifecycle.organisations import register_organisation
    from tracker.models import Organisation, OrganisationKind

    before = db.scalar(select(func.count()).select_from(Organisation))
    with pytest.raises(TrackerError, match=message):
        register_organisation(
            db, name="示例", credit_code=code, city="长治", kind=OrganisationKind.ENTERPRISE
        )
    with pytest.raises(TrackerError, match=message):
        Organisation(name="示例", credit_code=code, city_id=1, kind=OrganisationKind.ENTERPRISE)
    assert db.scalar(select(func.count()).select_from(Organisation)) == before


def test_a_code_cannot_be_registered_twice(db) -> None:  # type: ignore[no-untyped-def]
    from tracker.core.errors import TrackerError
    from tracker.lifecycle.organisations import register_organisation
    from tracker.models import OrganisationKind

    register_organisation(db, name="示例甲", credit_code=VALID, city="长治", kind=OrganisationKind.ENTERPRISE)
    with pytest.raises(TrackerError, match="已登记"):
        register_organisation(
            db, name="示例乙", credit_code=VALID, city="长治", kind=OrganisationKind.ENTERPRISE
        )
