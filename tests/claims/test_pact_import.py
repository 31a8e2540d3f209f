"""PACT as suppliers send it: the PACT Data Exchange Protocol's own published examples (v2.x and
v3.0, tests/fixtures/pact/, copied unchanged) import with a credit code given for the company; the
protocol's invalid example is refused naming `updated`; every problem names the footprint, its id and
the PACT field, never a spreadsheet cell; the mapping is faithful (assurance false is no certification,
a verification makes a third-party label with its provider, the figure per one declared unit, every
PACT unit); Deprecated footprints and precedingPfIds link versions."""

from __future__ import annotations

import copy
import datetime as dt
import json
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.fixtures import FIXTURES
from tracker.claims.registry import import_claims
from tracker.claims.rules import claim_findings, claims_frame
from tracker.core.validation import ValidationFailed
from tracker.models import Certifier, Claim, ClaimImport, LabelType, Role

CODE = "91140400068288362P"  # a valid code (check character included); the examples carry none
OTHER_CODE = "91140100MA0K3B2C78"
PUBLISHED = {  # the seven the issue measured, and what each holds
    "pact/v2/list-footprints-response.json": 1,
    "pact/v2/get-footprint-response.json": 1,
    "pact/v3/list-footprints-response.json": 1,
    "pact/v3/example-1.json": 1,
    "pact/v3/example-2.json": 1,
    "pact/v3/example-3.json": 1,
    "pact/v3/example-4.json": 1,
}
ALSO_VALID = "pact/v3/get-footprint-response.json"  # a `data` object, with an empty verification
INVALID = ("pact/v2/invalid-response-all-properties.json", "pact/v3/invalid-response-all-properties.json")


def published(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def footprints(name: str) -> list[dict[str, Any]]:
    data = json.loads(published(name))
    found = data.get("data", data) if isinstance(data, dict) else data
    return copy.deepcopy(found if isinstance(found, list) else [found])


def as_file(*items: dict[str, Any]) -> bytes:
    return json.dumps({"data": list(items)}).encode()


def one_company(*items: dict[str, Any]) -> bytes:
    """Footprints of several examples as one company's file (the examples name five companies)."""
    return as_file(*[item | {"companyName": "My Corp"} for item in items])


def claim(db, key: str) -> Claim:  # type: ignore[no-untyped-def]
    """The latest version of a claim id."""
    return db.scalars(select(Claim).where(Claim.claim_key == key).order_by(Claim.version.desc())).first()


def count(db) -> int:  # type: ignore[no-untyped-def]
    return db.scalar(select(func.count()).select_from(Claim)) or 0


@pytest.fixture
def province(factory):  # type: ignore[no-untyped-def]
    return factory.user(Role.PROVINCE_STAFF, username="pact")


@pytest.mark.parametrize("name", [*PUBLISHED, ALSO_VALID])
def test_each_published_example_imports_with_a_credit_code(db, province, name: str) -> None:  # type: ignore[no-untyped-def]
    result = import_claims(
        db, province, published(name), name.rsplit("/", 1)[-1], city="长治", credit_code=CODE
    )
    assert (result.new, count(db)) == (PUBLISHED.get(name, 1), PUBLISHED.get(name, 1))
    (stored,) = db.scalars(select(Claim))
    (footprint,) = footprints(name)
    assert (stored.claim_key, stored.credit_code, stored.company_name, stored.source, stored.city.short_zh) == (
        footprint["id"], CODE, footprint["companyName"], "pact", "长治")  # fmt: skip
    assert stored.published_on == dt.date.fromisoformat(footprint["created"][:10]) and stored.is_current
    again = import_claims(db, province, published(name), "again.json", city="长治", credit_code=CODE)
    assert (again.new, again.new_versions, again.unchanged) == (0, 0, 1)


def test_the_seven_import_in_turn_and_the_rules_judge_them(db, province) -> None:  # type: ignore[no-untyped-def]
    results = [import_claims(db, province, published(name), name.rsplit("/", 1)[-1], city="长治", credit_code=CODE)
               for name in PUBLISHED]  # fmt: skip
    # The v2 list and get responses hold the same footprint, which the v3 list gives anew (one id).
    assert [(r.new, r.new_versions, r.unchanged) for r in results[:3]] == [(1, 0, 0), (0, 0, 1), (0, 1, 0)]
    keys = db.scalars(select(Claim.claim_key).where(Claim.is_current)).all()
    assert len(keys) == 5 and count(db) == 6
    assert claim(db, "91715e5e-fd0b-4d1c-8fab-76290c46e6ed").version == 2
    findings = claim_findings(claims_frame(db))
    assert "CERTIFIED_WITHOUT_CERTIFICATE" not in {
        f.rule_id for f in findings
    }  # PACT has no certificate number


def test_without_a_credit_code_the_refusal_names_the_footprint_and_field(db, province) -> None:  # type: ignore[no-untyped-def]
    name = "pact/v3/list-footprints-response.json"
    with pytest.raises(ValidationFailed) as refused:
        import_claims(db, province, published(name), "list.json", city="长治")
    (problem,) = refused.value.problems
    assert (problem.item, problem.item_id, problem.field) == ("data[0]", "91715e5e-fd0b-4d1c-8fab-76290c46e6ed",
                                                              "companyIds")  # fmt: skip
    text = problem.text("zh_CN")
    assert (
        text.startswith("data[0]（id 91715e5e-fd0b-4d1c-8fab-76290c46e6ed）的 companyIds：")
        and "--credit-code" in text
    )
    assert "第2行" not in text and "credit_code）列" not in text
    assert problem.text("en").startswith("data[0] (id 91715e5e-fd0b-4d1c-8fab-76290c46e6ed), companyIds: ")
    assert count(db) == 0


def test_a_registered_organisation_of_exactly_that_name_gives_the_code(db, province, factory) -> None:  # type: ignore[no-untyped-def]
    organisation = factory.organisation("长治", name="My Corp")
    db.flush()
    import_claims(db, province, published("pact/v2/list-footprints-response.json"), "v2.json", city="长治")
    assert claim(db, "91715e5e-fd0b-4d1c-8fab-76290c46e6ed").credit_code == organisation.credit_code
    with pytest.raises(ValidationFailed, match="Company 1"):  # another name: no code, refused
        import_claims(db, province, published("pact/v3/example-1.json"), "e1.json", city="长治")
    taiyuan = factory.user(Role.CITY_STAFF, city="太原")  # 长治's organisations are not 太原's to use
    with pytest.raises(ValidationFailed, match="未登记"):
        import_claims(db, taiyuan, published("pact/v3/list-footprints-response.json"), "v3.json", city="太原")


def test_a_credit_code_is_for_one_company_and_must_be_valid(db, province) -> None:  # type: ignore[no-untyped-def]
    two = as_file(*footprints("pact/v3/example-1.json"), *footprints("pact/v3/example-4.json"))
    with pytest.raises(ValidationFailed, match="一家企业") as refused:
        import_claims(db, province, two, "two.json", city="长治", credit_code=CODE)
    assert "Company 1" in refused.value.problems[0].message_zh
    with pytest.raises(ValidationFailed, match="无效"):
        import_claims(db, province, published("pact/v3/example-1.json"), "e1.json", city="长治",
                      credit_code="91140400068288362X")  # fmt: skip
    with pytest.raises(ValidationFailed, match="只能为 PACT JSON"):
        import_claims(db, province, b"claim_id\n", "claims.csv", credit_code=CODE)
    own = footprints("pact/v3/example-1.json")[0]
    own["companyIds"].append(f"urn:uscc:{OTHER_CODE}")
    with pytest.raises(ValidationFailed, match="不一致"):
        import_claims(db, province, as_file(own), "own.json", city="长治", credit_code=CODE)
    import_claims(db, province, as_file(own), "own.json", city="长治")  # the file's own code, no option
    assert claim(db, own["id"]).credit_code == OTHER_CODE


@pytest.mark.parametrize("name", INVALID)
def test_the_protocols_invalid_example_is_refused_naming_updated(db, province, name: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationFailed) as refused:
        import_claims(db, province, published(name), "invalid.json", city="长治", credit_code=CODE)
    (footprint,) = footprints(name)
    (problem,) = refused.value.problems
    assert (problem.item, problem.item_id, problem.field) == ("data[0]", footprint["id"], "updated")
    assert footprint["updated"] in problem.message_zh and "RFC 3339" in problem.message_en
    assert count(db) == 0


def test_assurance_false_is_no_certification(db, province) -> None:  # type: ignore[no-untyped-def]
    (footprint,) = footprints("pact/v2/list-footprints-response.json")
    assert footprint["pcf"]["assurance"] == {"assurance": False, "providerName": ""}
    import_claims(db, province, as_file(footprint), "v2.json", city="长治", credit_code=CODE)
    stored = claim(db, footprint["id"])
    assert (stored.label_type, stored.certifier, stored.certificate_issued) == (
        LabelType.SELF_DECLARED,
        None,
        None,
    )
    flagged = {f.rule_id for f in claim_findings(claims_frame(db))}
    assert not flagged & {"CERTIFIED_WITHOUT_CERTIFICATE", "VERIFIER_NOT_NAMED", "UNRECOGNISED_CERTIFIER"}


def test_a_v2_assurance_true_is_third_party_with_its_provider(db, province) -> None:  # type: ignore[no-untyped-def]
    (footprint,) = footprints("pact/v2/list-footprints-response.json")
    footprint["pcf"]["assurance"] = {"assurance": True, "providerName": "示例认证中心",
                                     "completedAt": "2022-02-01T00:00:00Z"}  # fmt: skip
    import_claims(db, province, as_file(footprint), "v2.json", city="长治", credit_code=CODE)
    stored = claim(db, footprint["id"])
    assert (stored.label_type, stored.certifier, stored.certificate_issued) == (
        LabelType.THIRD_PARTY, "示例认证中心", dt.date(2022, 2, 1))  # fmt: skip
    footprint["pcf"]["assurance"]["assurance"] = "yes"
    with pytest.raises(ValidationFailed) as refused:
        import_claims(db, province, as_file(footprint), "v2.json", city="长治", credit_code=CODE)
    assert [p.field for p in refused.value.problems] == ["pcf.assurance.assurance"]


def test_a_v3_verification_is_third_party_and_its_verifier_is_judged_not_a_certificate(db, province) -> None:  # type: ignore[no-untyped-def]
    (verified,) = footprints("pact/v3/example-3.json")
    (unnamed,) = footprints(ALSO_VALID)
    (auditor,) = footprints("pact/v3/invalid-response-all-properties.json")
    del auditor["updated"]  # what made the example invalid
    for footprint in (verified, unnamed, auditor):
        import_claims(db, province, as_file(footprint), "v3.json", city="长治", credit_code=CODE)
    shown = {key: (c.label_type, c.certifier, c.certificate_issued) for key in (verified["id"], unnamed["id"], auditor["id"])
             if (c := claim(db, key))}  # fmt: skip
    assert shown == {verified["id"]: (LabelType.THIRD_PARTY, "Auditor X", dt.date(2024, 1, 31)),
                     unnamed["id"]: (LabelType.THIRD_PARTY, None, None),
                     auditor["id"]: (LabelType.THIRD_PARTY, "My Auditor", dt.date(2024, 12, 8))}  # fmt: skip
    db.add(Certifier(name="Auditor X"))
    db.flush()
    by_rule: dict[str, set[str]] = {}
    for finding in claim_findings(claims_frame(db)):
        by_rule.setdefault(finding.rule_id, set()).add(db.get(Claim, finding.claim_id).claim_key)
    assert "CERTIFIED_WITHOUT_CERTIFICATE" not in by_rule
    assert by_rule["VERIFIER_NOT_NAMED"] == {unnamed["id"]}  # verified, but by nobody named
    assert by_rule["UNRECOGNISED_CERTIFIER"] == {auditor["id"]}  # My Auditor is not on the list


def test_the_figure_is_per_one_declared_unit_and_every_pact_unit_maps(db, province) -> None:  # type: ignore[no-untyped-def]
    (bottle,) = footprints("pact/v3/example-2.json")  # 5.14 kg CO2e for 12 liter
    (part,) = footprints("pact/v3/example-3.json")  # 77.0 per piece of 25 kg
    import_claims(db, province, one_company(bottle, part), "units.json", city="长治", credit_code=CODE)
    assert (claim(db, bottle["id"]).declared_unit, claim(db, bottle["id"]).footprint) == (
        "L",
        Decimal("0.4283"),
    )
    assert (claim(db, part["id"]).declared_unit, claim(db, part["id"]).footprint) == ("piece", Decimal(77))
    stored = {"liter": "L", "kilogram": "kg", "cubic meter": "m3", "kilowatt hour": "kWh", "megajoule": "MJ",
              "ton kilometer": "tkm", "square meter": "m2", "piece": "piece"}  # fmt: skip
    variants = []
    for number, unit in enumerate(stored):
        (footprint,) = footprints("pact/v3/example-4.json")
        footprint["id"], footprint["pcf"]["declaredUnitOfMeasurement"] = f"unit-{number}", unit
        variants.append(footprint)
    import_claims(db, province, as_file(*variants), "all-units.json", city="长治", credit_code=CODE)
    assert {claim(db, f["id"]).declared_unit for f in variants} == set(stored.values())


def test_an_unknown_unit_or_a_bad_amount_is_refused_by_its_field(db, province) -> None:  # type: ignore[no-untyped-def]
    (hour,) = footprints("pact/v3/example-4.json")
    hour["pcf"]["declaredUnitOfMeasurement"] = "hour"
    (zero,) = footprints("pact/v3/example-1.json")
    zero["pcf"]["declaredUnitAmount"] = "0"
    (negative,) = footprints("pact/v2/get-footprint-response.json")
    negative["pcf"]["pCfExcludingBiogenic"] = "-1.63"
    with pytest.raises(ValidationFailed) as refused:
        import_claims(
            db, province, one_company(hour, zero, negative), "bad.json", city="长治", credit_code=CODE
        )
    spots = [(p.item, p.field) for p in refused.value.problems]
    assert spots == [("data[0]", "pcf.declaredUnitOfMeasurement"), ("data[1]", "pcf.declaredUnitAmount"),
                     ("data[2]", "pcf.pCfExcludingBiogenic")]  # fmt: skip
    assert (
        "“hour”" in refused.value.problems[0].message_zh and "piece" in refused.value.problems[0].message_zh
    )
    assert all(p.row is None for p in refused.value.problems) and count(db) == 0


def test_timestamps_are_rfc_3339_and_the_period_end_is_exclusive(db, province) -> None:  # type: ignore[no-untyped-def]
    (footprint,) = footprints(
        "pact/v2/get-footprint-response.json"
    )  # 2021-01-01T00:00:00Z to 2022-01-01T00:00:00Z
    import_claims(db, province, as_file(footprint), "v2.json", city="长治", credit_code=CODE)
    stored = claim(db, footprint["id"])
    assert (stored.period_start, stored.period_end) == (dt.date(2021, 1, 1), dt.date(2021, 12, 31))
    bad = {"created": "2022-03-01", "validityPeriodEnd": "2024-12-31 00:00:00Z"}
    (broken,) = footprints("pact/v2/get-footprint-response.json")
    broken.update(bad)
    broken["pcf"]["referencePeriodStart"], broken["pcf"]["referencePeriodEnd"] = (
        "2021-02-30T00:00:00Z",
        20220101,
    )
    with pytest.raises(ValidationFailed) as refused:
        import_claims(db, province, as_file(broken), "v2.json", city="长治", credit_code=CODE)
    assert sorted(p.field for p in refused.value.problems) == [
        "created", "pcf.referencePeriodEnd", "pcf.referencePeriodStart", "validityPeriodEnd"]  # fmt: skip
    for stamp in ("2025-01-08T14:47:32+08:00", "2025-01-08t14:47:32.5z", "2016-12-31T23:59:60Z"):
        broken = footprints("pact/v3/example-1.json")[0]
        broken["created"] = stamp
        import_claims(db, province, as_file(broken), "ok.json", city="长治", credit_code=CODE, dry_run=True)


def test_a_deprecated_footprint_is_replaced_by_its_successor_in_the_same_file(db, province) -> None:  # type: ignore[no-untyped-def]
    (old,) = footprints("pact/v3/example-1.json")
    old["status"] = "Deprecated"
    new = copy.deepcopy(old) | {"id": "0b6c3a0e-2f7e-4f53-9a2d-5c1e8f0a7b11", "status": "Active",
                                "precedingPfIds": [old["id"]], "created": "2025-06-30T00:00:00Z"}  # fmt: skip
    new["pcf"]["pcfExcludingBiogenicUptake"] = "0.371"
    result = import_claims(db, province, as_file(old, new), "versions.json", city="长治", credit_code=CODE)
    assert (result.new, result.retired) == (2, 1) and "不再计为现行声明" in result.summary.zh
    before, after = claim(db, old["id"]), claim(db, new["id"])
    assert (before.is_current, before.superseded_by, before.pact_status) == (False, new["id"], "deprecated")
    assert (after.is_current, after.preceding, after.pact_status) == (True, old["id"], "active")
    assert list(claims_frame(db)["id"]) == [after.id]  # the rules judge the footprint in force only
    again = import_claims(db, province, as_file(old, new), "versions.json", city="长治", credit_code=CODE)
    assert (again.new, again.new_versions, again.unchanged, again.retired) == (0, 0, 2, 0)
    assert db.scalar(select(ClaimImport.retired).order_by(ClaimImport.id)) == 1


def test_a_later_footprint_retires_the_stored_one_it_names(db, province) -> None:  # type: ignore[no-untyped-def]
    (old,) = footprints("pact/v3/example-4.json")
    import_claims(db, province, as_file(old), "old.json", city="长治", credit_code=CODE)
    assert claim(db, old["id"]).is_current
    new = copy.deepcopy(old) | {
        "id": "5d7f0c61-1c1b-4f0e-8c43-0f7f3f6f9d22",
        "precedingPfIds": [old["id"], "never-seen"],
    }
    result = import_claims(db, province, as_file(new), "new.json", city="长治", credit_code=CODE)
    assert (result.new, result.retired) == (1, 1)
    assert (claim(db, old["id"]).is_current, claim(db, old["id"]).superseded_by) == (False, new["id"])
    assert claim(db, new["id"]).preceding == f"{old['id']} never-seen"
    unchanged = import_claims(db, province, as_file(old), "old.json", city="长治", credit_code=CODE)
    assert (unchanged.unchanged, claim(db, old["id"]).is_current) == (1, False)  # still replaced
    old["status"] = "Deprecated"  # the protocol's one allowed change: a new version, numbered after
    turned = import_claims(db, province, as_file(old), "old.json", city="长治", credit_code=CODE)
    assert (turned.new_versions, claim(db, old["id"]).version, claim(db, old["id"]).is_current) == (
        1,
        2,
        False,
    )
    assert db.scalar(select(func.count()).where(Claim.is_current)) == 1


def test_a_footprint_cannot_retire_another_companys_claim(db, province) -> None:  # type: ignore[no-untyped-def]
    (theirs,) = footprints("pact/v3/example-4.json")
    import_claims(db, province, as_file(theirs), "theirs.json", city="长治", credit_code=OTHER_CODE)
    (mine,) = footprints("pact/v3/example-1.json")
    mine["precedingPfIds"] = [theirs["id"]]
    with pytest.raises(ValidationFailed) as refused:
        import_claims(db, province, as_file(mine), "mine.json", city="长治", credit_code=CODE)
    (problem,) = refused.value.problems
    assert (problem.item, problem.field) == ("data[0]", "precedingPfIds") and OTHER_CODE in problem.message_zh
    assert claim(db, theirs["id"]).is_current and claim(db, mine["id"]) is None


def test_a_footprint_naming_itself_among_its_predecessors_stays_current(db, province) -> None:  # type: ignore[no-untyped-def]
    (footprint,) = footprints("pact/v3/example-2.json")
    assert footprint["id"] in footprint["precedingPfIds"]  # so published
    result = import_claims(db, province, as_file(footprint), "e2.json", city="长治", credit_code=CODE)
    assert claim(db, footprint["id"]).is_current and result.retired == 0
    assert any("precedingPfIds" in warning.en for warning in result.warnings)


def test_a_missing_city_is_said_once_and_other_problems_keep_their_footprint(db, province) -> None:  # type: ignore[no-untyped-def]
    first, second = footprints("pact/v3/example-1.json")[0], footprints("pact/v3/example-4.json")[0]
    second["id"] = first["id"]  # the same id twice
    second["companyName"] = ""
    with pytest.raises(ValidationFailed) as refused:
        import_claims(db, province, as_file(first, second), "two.json", credit_code=CODE)
    where = [(p.item, p.field) for p in refused.value.problems]
    assert where[0] == (None, "pact.city") and where.count((None, "pact.city")) == 1
    assert ("data[1]", "id") in where and ("data[1]", "companyName") in where
    assert refused.value.problems[0].text("zh_CN").startswith("所属城市（--city）：")
    assert all("行" not in p.where_zh() for p in refused.value.problems)


def test_the_cli_takes_the_credit_code_and_names_footprints_in_both_languages(cli_database: str) -> None:
    from click.testing import CliRunner

    from tracker_cli.main import cli

    run = CliRunner().invoke
    assert run(cli, ["users", "add", "pactcl", "--role", "province_staff"],
               input="Good-pass-2025\nGood-pass-2025\n").exit_code == 0  # fmt: skip
    listed = str(FIXTURES / "pact/v3/list-footprints-response.json")
    refused = run(cli, ["claims", "import", listed, "--city", "长治", "--as", "pactcl"])
    assert refused.exit_code != 0 and "第2行" not in refused.output
    assert "data[0]（id 91715e5e-fd0b-4d1c-8fab-76290c46e6ed）的 companyIds" in refused.output
    assert (
        "data[0] (id 91715e5e-fd0b-4d1c-8fab-76290c46e6ed), companyIds: holds no unified social credit code"
        in refused.output
    )
    invalid = str(FIXTURES / "pact/v3/invalid-response-all-properties.json")
    bad = run(cli, ["claims", "import", invalid, "--city", "长治", "--credit-code", CODE, "--as", "pactcl"])
    assert bad.exit_code != 0 and "的 updated：“2025-1-08T14:47:32Z”" in bad.output
    done = run(cli, ["claims", "import", listed, "--city", "长治", "--credit-code", CODE, "--as", "pactcl"])
    assert done.exit_code == 0 and "新增声明1条" in done.output and "1 new claims" in done.output
