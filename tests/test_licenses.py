"""The licence catalogue: every Hub identifier is known, the answers users rely on are right."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from hftui.hub.cards.licenses import FAMILIES, LICENSES, NO_LICENSE, LicenseTerms, license_terms

_ROW = re.compile(r"^\|\s*(?P<name>[^|]+?)\s*\|\s*`(?P<id>[^`]+)`\s*\|")
_ANSWERS = {"yes", "no", "conditional", "unknown"}
_BADGES = {"permissive", "copyleft", "non-commercial", "restricted", "custom", "none", "unknown"}


def hub_license_table(realworld: Path) -> dict[str, str]:
    """The identifier column (and full names) of the Hub's licence table, between its region comments."""
    text = (realworld / "spec" / "repositories-licenses.md").read_text(encoding="utf-8")
    region = text.split("<!-- region licenses -->", 1)[1].split("<!-- endregion -->", 1)[0]
    rows = {}
    for line in region.splitlines():
        if match := _ROW.match(line):
            rows[match["id"]] = match["name"]
    return rows


def test_every_hub_identifier_is_in_the_catalogue(realworld: Path) -> None:
    table = hub_license_table(realworld)
    assert len(table) > 70, "the spec table was not parsed"
    assert set(table) - set(LICENSES) == set(), "identifiers missing from the catalogue"
    assert set(LICENSES) - set(table) == set(), "catalogue identifiers the Hub does not list"
    for license_id, full_name in table.items():
        terms = LICENSES[license_id]
        assert terms.license_id == license_id
        # "unknown" is the author saying the licence is unknown: the one entry whose family honestly is too.
        assert terms.family != "unknown" or license_id == "unknown", license_id
        # The spec escapes Markdown and uses typographic dashes; the catalogue writes plain text.
        expected = full_name.replace("\\*", "*").replace("\u2013", "-")
        assert terms.name == expected, license_id


def test_catalogue_entries_are_well_formed() -> None:
    for license_id, terms in LICENSES.items():
        assert license_id == license_id.lower() == terms.license_id
        assert terms.family in FAMILIES
        assert terms.badge in _BADGES
        answers = (
            terms.commercial_use,
            terms.attribution_required,
            terms.share_modifications,
            terms.use_restrictions,
        )
        assert set(answers) <= _ANSWERS, license_id
        assert terms.summary.strip() and terms.summary.endswith("."), license_id
        assert "  " not in terms.summary, license_id
        assert terms.link is None or terms.link.startswith("https://"), license_id


def test_families_agree_with_their_answers() -> None:
    for license_id, terms in LICENSES.items():
        if terms.family == "non-commercial":
            assert terms.commercial_use == "no", license_id
        if terms.family == "public-domain":
            assert (terms.commercial_use, terms.attribution_required) == ("yes", "no"), license_id
        if terms.family == "permissive":
            assert terms.commercial_use == "yes", license_id
            assert terms.use_restrictions == "no", license_id
        if terms.family == "copyleft":
            assert terms.share_modifications == "yes", license_id
        if terms.family == "custom" and license_id not in {"other", "cc"}:
            assert terms.commercial_use == "conditional" and terms.use_restrictions == "yes", license_id


def test_answers_users_decide_on() -> None:
    apache = license_terms("apache-2.0")
    assert (apache.family, apache.commercial_use, apache.badge) == ("permissive", "yes", "permissive")
    assert apache.name == "Apache license 2.0" and apache.link

    non_commercial = license_terms("cc-by-nc-4.0")
    assert (non_commercial.family, non_commercial.commercial_use, non_commercial.badge) == (
        "non-commercial",
        "no",
        "non-commercial",
    )
    no_derivatives = license_terms("cc-by-nc-nd-4.0")
    assert no_derivatives.family == "non-commercial" and "no derivatives" in no_derivatives.summary
    assert license_terms("cc-by-nd-4.0").badge == "restricted"
    share_alike = license_terms("cc-by-sa-4.0")
    assert share_alike.share_modifications == "yes" and "share-alike" in share_alike.summary

    gpl = license_terms("gpl-3.0")
    assert (gpl.family, gpl.share_modifications, gpl.badge) == ("copyleft", "yes", "copyleft")
    assert license_terms("lgpl-2.1").family == license_terms("mpl-2.0").family == "weak-copyleft"
    assert "network" in license_terms("agpl-3.0").summary

    openrail = license_terms("openrail")
    assert (openrail.family, openrail.use_restrictions, openrail.badge) == (
        "use-restricted",
        "yes",
        "restricted",
    )
    for rail in ("bigscience-openrail-m", "creativeml-openrail-m", "bigcode-openrail-m", "openrail++"):
        assert license_terms(rail).use_restrictions == "yes"
        assert "same use restrictions" in license_terms(rail).summary

    llama = license_terms("llama3.1")
    assert (llama.family, llama.commercial_use, llama.use_restrictions) == ("custom", "conditional", "yes")
    assert "700 million monthly active users" in llama.summary and "Acceptable Use Policy" in llama.summary
    assert "European Union" in license_terms("llama3.2").summary
    assert license_terms("gemma").commercial_use == "conditional"

    for public_domain in ("cc0-1.0", "unlicense", "pddl"):
        assert license_terms(public_domain).family == "public-domain"
        assert license_terms(public_domain).badge == "permissive"
    assert license_terms("deepfloyd-if-license").commercial_use == "no"


def test_lookup_ignores_case_and_spaces() -> None:
    assert license_terms("Apache-2.0") is LICENSES["apache-2.0"]
    assert license_terms("  MIT ") is LICENSES["mit"]
    assert license_terms("LLAMA3.1").license_id == "llama3.1"


def test_other_carries_the_cards_name_and_link() -> None:
    terms = license_terms("other", license_name="coqui-public-model-license", license_link="https://coqui.ai/cpml")
    assert (terms.license_id, terms.family, terms.badge) == ("other", "custom", "custom")
    assert terms.name == "coqui-public-model-license"
    assert terms.link == "https://coqui.ai/cpml"
    assert "coqui-public-model-license" in terms.summary and "https://coqui.ai/cpml" in terms.summary
    assert terms.commercial_use == "unknown"

    plain_other = license_terms("Other")
    assert plain_other.name == "Other" and plain_other.link is None and "LICENSE file" in plain_other.summary
    # A card that names and links its own licence without `license: other` still has a licence.
    assert license_terms(None, license_name="my licence").license_id == "other"


def test_no_licence_means_all_rights_reserved() -> None:
    expected = (
        "No licence is given: by default all rights are reserved by the author; you may not reuse, modify "
        "or distribute it without permission."
    )
    for missing in (None, "", "   ", []):
        terms = license_terms(missing)
        assert terms is NO_LICENSE
        assert (terms.license_id, terms.family, terms.badge, terms.summary) == (
            "none",
            "none",
            "none",
            expected,
        )


def test_identifier_not_in_the_catalogue_is_unknown_and_says_so() -> None:
    terms = license_terms("Made-Up-1.0")
    assert (terms.license_id, terms.family, terms.badge) == ("made-up-1.0", "unknown", "unknown")
    assert '"Made-Up-1.0"' in terms.summary and "not one of the Hub's licence identifiers" in terms.summary
    assert {terms.commercial_use, terms.attribution_required} == {"unknown"}
    # The Hub's own "unknown" is the author's statement, a different sentence from an unrecognised id.
    assert "marked the licence as unknown" in license_terms("unknown").summary


def test_a_list_uses_the_first_and_names_the_others() -> None:
    terms = license_terms(["CC-BY-SA-3.0", "gfdl-1.3-or-later", ""])
    assert terms.license_id == "cc-by-sa-3.0" and terms.family == "copyleft"
    assert terms.summary.endswith("The card also names gfdl-1.3-or-later; check which licence applies to what.")
    assert LICENSES["cc-by-sa-3.0"].summary in terms.summary
    assert license_terms(["", "mit"]).license_id == "mit"


def test_values_yaml_did_not_leave_as_text() -> None:
    assert license_terms(2.0).family == "unknown"  # type: ignore[arg-type]
    assert license_terms(True) is NO_LICENSE  # type: ignore[arg-type]
    assert license_terms([{"name": "mit"}]) is NO_LICENSE  # type: ignore[list-item]


def test_terms_are_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        LICENSES["mit"].family = "copyleft"  # type: ignore[misc]
    assert isinstance(LICENSES["mit"], LicenseTerms)


def test_pipeline_tag_catalogue_is_the_hubs_task_list(realworld: Path) -> None:
    import re

    from hftui.hub.pipeline_tags import MODALITIES, PIPELINE_TAGS_BY_ID

    text = (realworld / "spec" / "pipelines.ts").read_text(encoding="utf-8")
    body = text[text.index("export const PIPELINE_DATA") :]
    hub = {
        match.group(1): (match.group(2), re.search(r'^\t\tmodality: "([a-z]+)"', match.group(3), re.M).group(1))
        for match in re.finditer(r'^\t"?([a-z0-9-]+)"?: \{\n\t\tname: "([^"]+)",(.*?)^\t\}', body, re.M | re.S)
    }
    assert len(hub) > 50
    assert {tag: (task.name, task.modality) for tag, task in PIPELINE_TAGS_BY_ID.items()} == hub
    assert {task.modality for task in PIPELINE_TAGS_BY_ID.values()} <= set(MODALITIES)
