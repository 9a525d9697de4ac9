"""The licence catalogue: what each Hub licence identifier lets a user do, in plain words.

Every identifier of the Hub's licence list (hub-docs `repositories-licenses.md`) is written here as data,
because the app ships without that page. The answers are a reader's guide, not legal advice: each
summary names the nuance that most often decides whether a model may be used.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

Answer = Literal["yes", "no", "conditional", "unknown"]

FAMILIES = (
    "permissive",
    "copyleft",
    "weak-copyleft",
    "non-commercial",
    "use-restricted",
    "custom",
    "public-domain",
    "none",
    "unknown",
)

# The table column shows a word, never a colour, so that it survives any theme and a screen reader.
_BADGES = {
    "permissive": "permissive",
    "public-domain": "permissive",
    "copyleft": "copyleft",
    "weak-copyleft": "copyleft",
    "non-commercial": "non-commercial",
    "use-restricted": "restricted",
    "custom": "custom",
    "none": "none",
    "unknown": "unknown",
}


@dataclass(frozen=True)
class LicenseTerms:
    """What a licence allows: four short answers, a family, and a summary a user can act on.

    `share_modifications` asks whether modified versions you distribute must carry the same terms;
    "conditional" means the summary says what applies (for example, no modified versions at all).
    `use_restrictions` asks whether the licence forbids particular uses (RAIL, acceptable use policies,
    research-only grants).
    """

    license_id: str
    name: str
    family: str
    commercial_use: Answer
    attribution_required: Answer
    share_modifications: Answer
    use_restrictions: Answer
    summary: str
    link: str | None = None

    @property
    def badge(self) -> str:
        """A short word for a table column (permissive, copyleft, non-commercial, restricted, custom, ...)."""
        return _BADGES.get(self.family, "unknown")


def _cc(path: str) -> str:
    return f"https://creativecommons.org/{path}/"


def _spdx(identifier: str) -> str:
    return f"https://spdx.org/licenses/{identifier}.html"


_OPENRAIL_PASS_ON = (
    "anyone you pass the model or a derivative on to must be bound by the same use restrictions, "
    "and you must give them a copy of the licence."
)
_LLAMA_31_TERMS = (
    "If you share the model, a derivative, or a product built on it, include the licence and show "
    '"Built with Llama"; a model you create or improve with it or its outputs and then share must have '
    'a name beginning with "Llama". Use must follow Meta\'s Acceptable Use Policy.'
)
_LLAMA_EU_MULTIMODAL = (
    " That policy also withholds the rights to its multimodal (vision) models from individuals living in, "
    "and companies based in, the European Union; end users of products built on them are not affected."
)


def _mau_clause(version: str) -> str:
    return (
        f"Meta's community licence for {version}: you may use, modify and share the model, also "
        "commercially, but a company whose products had more than 700 million monthly active users on the "
        "release date must ask Meta for a separate licence."
    )


def _catalogue(*entries: LicenseTerms) -> dict[str, LicenseTerms]:
    return {entry.license_id: entry for entry in entries}


# Positional columns: id, name, family, commercial use, attribution required, share modifications alike,
# use restrictions, summary, link.
LICENSES: dict[str, LicenseTerms] = _catalogue(
    # Permissive software and content licences.
    LicenseTerms(
        "apache-2.0",
        "Apache license 2.0",
        "permissive",
        "yes",
        "yes",
        "no",
        "no",
        "Permissive: you may use, modify and share it, also commercially, if you keep the licence and "
        "copyright notices and mark files you changed. It also grants a patent licence.",
        "https://www.apache.org/licenses/LICENSE-2.0",
    ),
    LicenseTerms(
        "mit",
        "MIT",
        "permissive",
        "yes",
        "yes",
        "no",
        "no",
        "Permissive: you may use, modify and share it, also commercially, if you keep the copyright notice "
        "and licence text with copies.",
        _spdx("MIT"),
    ),
    LicenseTerms(
        "afl-3.0",
        "Academic Free License v3.0",
        "permissive",
        "yes",
        "yes",
        "no",
        "no",
        "Permissive: you may use, modify and share it, also commercially, if you keep the copyright and "
        "licence notices and mark your changes. It includes a patent licence.",
        _spdx("AFL-3.0"),
    ),
    LicenseTerms(
        "artistic-2.0",
        "Artistic license 2.0",
        "permissive",
        "yes",
        "yes",
        "conditional",
        "no",
        "You may use, modify and share it, also commercially. A modified version you distribute must be made "
        "freely available, or renamed so it cannot be mistaken for the original, or come with the original.",
        _spdx("Artistic-2.0"),
    ),
    LicenseTerms(
        "bsl-1.0",
        "Boost Software License 1.0",
        "permissive",
        "yes",
        "conditional",
        "no",
        "no",
        "Permissive: you may use, modify and share it, also commercially. Copies in source form must keep "
        "the licence text; compiled or machine-readable forms need not.",
        _spdx("BSL-1.0"),
    ),
    LicenseTerms(
        "bsd",
        "BSD license family",
        "permissive",
        "yes",
        "yes",
        "no",
        "no",
        "One of the BSD licences (the variant is not given): permissive, so you may use, modify and share "
        "it, also commercially, if you keep the copyright notice and licence text. Most variants also forbid "
        "using the authors' names to promote your product.",
        None,
    ),
    LicenseTerms(
        "bsd-2-clause",
        'BSD 2-clause "Simplified" license',
        "permissive",
        "yes",
        "yes",
        "no",
        "no",
        "Permissive: you may use, modify and share it, also commercially, if you keep the copyright notice "
        "and licence text with copies.",
        _spdx("BSD-2-Clause"),
    ),
    LicenseTerms(
        "bsd-3-clause",
        'BSD 3-clause "New" or "Revised" license',
        "permissive",
        "yes",
        "yes",
        "no",
        "no",
        "Permissive: you may use, modify and share it, also commercially, if you keep the copyright notice "
        "and licence text; you may not use the authors' names to promote your product.",
        _spdx("BSD-3-Clause"),
    ),
    LicenseTerms(
        "bsd-3-clause-clear",
        "BSD 3-clause Clear license",
        "permissive",
        "yes",
        "yes",
        "no",
        "no",
        "Permissive like BSD 3-clause (keep the notice, do not use the authors' names to promote your "
        "product), but it states plainly that no patent rights are granted.",
        _spdx("BSD-3-Clause-Clear"),
    ),
    LicenseTerms(
        "ecl-2.0",
        "Educational Community License v2.0",
        "permissive",
        "yes",
        "yes",
        "no",
        "no",
        "Permissive, based on Apache 2.0: you may use, modify and share it, also commercially, if you keep "
        "the licence and notices; its patent grant is narrower than Apache's.",
        _spdx("ECL-2.0"),
    ),
    LicenseTerms(
        "isc",
        "ISC",
        "permissive",
        "yes",
        "yes",
        "no",
        "no",
        "Permissive: you may use, modify and share it, also commercially, if you keep the copyright notice "
        "and licence text with copies.",
        _spdx("ISC"),
    ),
    LicenseTerms(
        "ncsa",
        "University of Illinois/NCSA Open Source License",
        "permissive",
        "yes",
        "yes",
        "no",
        "no",
        "Permissive: you may use, modify and share it, also commercially, if you keep the copyright notice "
        "and licence text; you may not use the authors' names to promote your product.",
        _spdx("NCSA"),
    ),
    LicenseTerms(
        "postgresql",
        "PostgreSQL License",
        "permissive",
        "yes",
        "yes",
        "no",
        "no",
        "Permissive: you may use, modify and share it, also commercially, if you keep the copyright notice "
        "and licence text with copies.",
        _spdx("PostgreSQL"),
    ),
    LicenseTerms(
        "zlib",
        "zLib License",
        "permissive",
        "yes",
        "conditional",
        "no",
        "no",
        "Permissive: you may use, modify and share it, also commercially. Do not claim you wrote the "
        "original, mark altered versions as such, and keep the notice in source copies; credit in your "
        "product is appreciated but not required.",
        _spdx("Zlib"),
    ),
    LicenseTerms(
        "wtfpl",
        "Do What The F*ck You Want To Public License",
        "permissive",
        "yes",
        "no",
        "no",
        "no",
        "You may do anything with it, with no conditions at all.",
        _spdx("WTFPL"),
    ),
    LicenseTerms(
        "apple-ascl",
        "Apple Sample Code license",
        "permissive",
        "yes",
        "conditional",
        "no",
        "no",
        "Permissive: you may use, modify and share it, also commercially. Unmodified copies must keep "
        "Apple's notice, Apple's name may not promote your product, and no patent rights are granted.",
        "https://developer.apple.com/support/downloads/terms/apple-sample-code/Apple-Sample-Code-License.pdf",
    ),
    LicenseTerms(
        "lppl-1.3c",
        "LaTeX Project Public License v1.3c",
        "permissive",
        "yes",
        "yes",
        "conditional",
        "no",
        "You may use, modify and share it, also commercially. A modified version you share must say clearly "
        "that it is modified (usually under a new name), list its changes, and come with the original or a "
        "way to get it.",
        _spdx("LPPL-1.3c"),
    ),
    LicenseTerms(
        "openmdw-1.0",
        "Open Model, Data & Weights License Agreement",
        "permissive",
        "yes",
        "yes",
        "no",
        "no",
        "A permissive licence written for AI models: you may use, modify and share the model, its weights, "
        "data and code, also commercially, with no restrictions on use; keep the licence and notices with "
        "copies.",
        "https://openmdw.ai/license/1-0/",
    ),
    LicenseTerms(
        "openmdw-1.1",
        "Open Model, Data & Weights License Agreement v1.1",
        "permissive",
        "yes",
        "yes",
        "no",
        "no",
        "A permissive licence written for AI models: you may use, modify and share the model, its weights, "
        "data and code, also commercially, with no restrictions on use; keep the licence and notices with "
        "copies.",
        "https://openmdw.ai/license/1-1/",
    ),
    # Creative Commons and data licences.
    LicenseTerms(
        "cc",
        "Creative Commons license family",
        "custom",
        "unknown",
        "unknown",
        "unknown",
        "no",
        "One of the Creative Commons licences, without saying which: they range from public domain (CC0) to "
        "attribution, share-alike, non-commercial and no-derivatives terms. Find the exact licence before "
        "relying on it.",
        "https://creativecommons.org/licenses/",
    ),
    LicenseTerms(
        "cc-by-2.0",
        "Creative Commons Attribution 2.0",
        "permissive",
        "yes",
        "yes",
        "no",
        "no",
        "You may use, adapt and share it, also commercially, if you credit the author, link the licence and "
        "say what you changed.",
        _cc("licenses/by/2.0"),
    ),
    LicenseTerms(
        "cc-by-2.5",
        "Creative Commons Attribution 2.5",
        "permissive",
        "yes",
        "yes",
        "no",
        "no",
        "You may use, adapt and share it, also commercially, if you credit the author, link the licence and "
        "say what you changed.",
        _cc("licenses/by/2.5"),
    ),
    LicenseTerms(
        "cc-by-3.0",
        "Creative Commons Attribution 3.0",
        "permissive",
        "yes",
        "yes",
        "no",
        "no",
        "You may use, adapt and share it, also commercially, if you credit the author, link the licence and "
        "say what you changed.",
        _cc("licenses/by/3.0"),
    ),
    LicenseTerms(
        "cc-by-4.0",
        "Creative Commons Attribution 4.0",
        "permissive",
        "yes",
        "yes",
        "no",
        "no",
        "You may use, adapt and share it, also commercially, if you credit the author, link the licence and "
        "say what you changed.",
        _cc("licenses/by/4.0"),
    ),
    LicenseTerms(
        "cc-by-sa-3.0",
        "Creative Commons Attribution Share Alike 3.0",
        "copyleft",
        "yes",
        "yes",
        "yes",
        "no",
        "You may use, adapt and share it, also commercially, if you credit the author; share-alike: "
        "adaptations you share must be under the same or a compatible licence.",
        _cc("licenses/by-sa/3.0"),
    ),
    LicenseTerms(
        "cc-by-sa-4.0",
        "Creative Commons Attribution Share Alike 4.0",
        "copyleft",
        "yes",
        "yes",
        "yes",
        "no",
        "You may use, adapt and share it, also commercially, if you credit the author; share-alike: "
        "adaptations you share must be under the same or a compatible licence.",
        _cc("licenses/by-sa/4.0"),
    ),
    LicenseTerms(
        "cc-by-nc-2.0",
        "Creative Commons Attribution Non Commercial 2.0",
        "non-commercial",
        "no",
        "yes",
        "no",
        "no",
        "Non-commercial only: you may use, adapt and share it if you credit the author, but not for "
        "commercial purposes.",
        _cc("licenses/by-nc/2.0"),
    ),
    LicenseTerms(
        "cc-by-nc-3.0",
        "Creative Commons Attribution Non Commercial 3.0",
        "non-commercial",
        "no",
        "yes",
        "no",
        "no",
        "Non-commercial only: you may use, adapt and share it if you credit the author, but not for "
        "commercial purposes.",
        _cc("licenses/by-nc/3.0"),
    ),
    LicenseTerms(
        "cc-by-nc-4.0",
        "Creative Commons Attribution Non Commercial 4.0",
        "non-commercial",
        "no",
        "yes",
        "no",
        "no",
        "Non-commercial only: you may use, adapt and share it if you credit the author, but not for "
        "commercial purposes.",
        _cc("licenses/by-nc/4.0"),
    ),
    LicenseTerms(
        "cc-by-nd-4.0",
        "Creative Commons Attribution No Derivatives 4.0",
        "use-restricted",
        "yes",
        "yes",
        "conditional",
        "no",
        "You may use and share it unchanged, also commercially, if you credit the author; no derivatives: "
        "you may not share modified versions, such as a fine-tuned model.",
        _cc("licenses/by-nd/4.0"),
    ),
    LicenseTerms(
        "cc-by-nc-nd-3.0",
        "Creative Commons Attribution Non Commercial No Derivatives 3.0",
        "non-commercial",
        "no",
        "yes",
        "conditional",
        "no",
        "Non-commercial only, and no derivatives: you may share it unchanged with credit to the author, but "
        "not commercially, and you may not share modified versions such as a fine-tuned model.",
        _cc("licenses/by-nc-nd/3.0"),
    ),
    LicenseTerms(
        "cc-by-nc-nd-4.0",
        "Creative Commons Attribution Non Commercial No Derivatives 4.0",
        "non-commercial",
        "no",
        "yes",
        "conditional",
        "no",
        "Non-commercial only, and no derivatives: you may share it unchanged with credit to the author, but "
        "not commercially, and you may not share modified versions such as a fine-tuned model.",
        _cc("licenses/by-nc-nd/4.0"),
    ),
    LicenseTerms(
        "cc-by-nc-sa-2.0",
        "Creative Commons Attribution Non Commercial Share Alike 2.0",
        "non-commercial",
        "no",
        "yes",
        "yes",
        "no",
        "Non-commercial only: you may use, adapt and share it with credit to the author, not commercially; "
        "share-alike: adaptations you share must be under the same licence.",
        _cc("licenses/by-nc-sa/2.0"),
    ),
    LicenseTerms(
        "cc-by-nc-sa-3.0",
        "Creative Commons Attribution Non Commercial Share Alike 3.0",
        "non-commercial",
        "no",
        "yes",
        "yes",
        "no",
        "Non-commercial only: you may use, adapt and share it with credit to the author, not commercially; "
        "share-alike: adaptations you share must be under the same licence.",
        _cc("licenses/by-nc-sa/3.0"),
    ),
    LicenseTerms(
        "cc-by-nc-sa-4.0",
        "Creative Commons Attribution Non Commercial Share Alike 4.0",
        "non-commercial",
        "no",
        "yes",
        "yes",
        "no",
        "Non-commercial only: you may use, adapt and share it with credit to the author, not commercially; "
        "share-alike: adaptations you share must be under the same licence.",
        _cc("licenses/by-nc-sa/4.0"),
    ),
    LicenseTerms(
        "cdla-sharing-1.0",
        "Community Data License Agreement - Sharing, Version 1.0",
        "copyleft",
        "yes",
        "yes",
        "yes",
        "no",
        "A share-alike data licence: you may use and share the data, also commercially, but data you publish "
        "from it (modified or not) must be under the same agreement with its notices. Results such as "
        "trained models are not restricted.",
        "https://cdla.dev/sharing-1-0/",
    ),
    LicenseTerms(
        "cdla-permissive-1.0",
        "Community Data License Agreement - Permissive, Version 1.0",
        "permissive",
        "yes",
        "yes",
        "no",
        "no",
        "A permissive data licence: you may use, modify and share the data, also commercially, if you keep "
        "its notices when you share it. Results such as trained models are not restricted.",
        "https://cdla.dev/permissive-1-0/",
    ),
    LicenseTerms(
        "cdla-permissive-2.0",
        "Community Data License Agreement - Permissive, Version 2.0",
        "permissive",
        "yes",
        "no",
        "no",
        "no",
        "A permissive data licence: you may use, modify and share the data, also commercially; when you "
        "share it, include the licence text or a link to it. Results such as trained models are not "
        "restricted.",
        "https://cdla.dev/permissive-2-0/",
    ),
    LicenseTerms(
        "c-uda",
        "Computational Use of Data Agreement",
        "use-restricted",
        "yes",
        "yes",
        "conditional",
        "yes",
        "A data licence for computational use only (analysis by a computer, such as training a model); "
        "results such as trained models are not restricted. If you share the data itself, pass it on under "
        "this agreement with its notices.",
        "https://github.com/microsoft/Computational-Use-of-Data-Agreement",
    ),
    LicenseTerms(
        "etalab-2.0",
        "Etalab Open License 2.0",
        "permissive",
        "yes",
        "yes",
        "no",
        "no",
        "The French government's open licence: you may reuse, adapt and share it, also commercially, if you "
        "credit the source and the date it was last updated.",
        _spdx("etalab-2.0"),
    ),
    LicenseTerms(
        "odc-by",
        "Open Data Commons License Attribution family",
        "permissive",
        "yes",
        "yes",
        "no",
        "no",
        "A permissive database licence: you may use, adapt and share the data, also commercially, if you "
        "credit the source and keep its licence notices.",
        "https://opendatacommons.org/licenses/by/",
    ),
    LicenseTerms(
        "odbl",
        "Open Database License family",
        "copyleft",
        "yes",
        "yes",
        "yes",
        "no",
        "A share-alike database licence: you may use and share the data, also commercially, with credit; an "
        "adapted database you share must stay under the ODbL. Works produced from it (such as results) only "
        "need a notice.",
        "https://opendatacommons.org/licenses/odbl/",
    ),
    LicenseTerms(
        "ofl-1.1",
        "SIL Open Font License 1.1",
        "weak-copyleft",
        "conditional",
        "yes",
        "yes",
        "no",
        "A font licence: you may use, embed, modify and bundle the fonts, also in commercial products, but "
        "not sell them on their own; modified fonts must stay under the OFL and drop any reserved font "
        "names.",
        _spdx("OFL-1.1"),
    ),
    # Public domain dedications.
    LicenseTerms(
        "cc0-1.0",
        "Creative Commons Zero v1.0 Universal",
        "public-domain",
        "yes",
        "no",
        "no",
        "no",
        "Public domain dedication: the author waives all rights as far as the law allows, so you may do "
        "anything with it, with no credit required. It grants no patent or trademark rights.",
        _cc("publicdomain/zero/1.0"),
    ),
    LicenseTerms(
        "unlicense",
        "The Unlicense",
        "public-domain",
        "yes",
        "no",
        "no",
        "no",
        "Public domain dedication: you may do anything with it, with no conditions and no credit required.",
        _spdx("Unlicense"),
    ),
    LicenseTerms(
        "pddl",
        "Open Data Commons Public Domain Dedication and License",
        "public-domain",
        "yes",
        "no",
        "no",
        "no",
        "Public domain dedication for data: you may do anything with it, with no conditions and no credit required.",
        _spdx("PDDL-1.0"),
    ),
    # Copyleft licences.
    LicenseTerms(
        "gpl",
        "GNU General Public License family",
        "copyleft",
        "yes",
        "yes",
        "yes",
        "no",
        "One of the GNU GPL licences (the version is not given): you may use, modify and share it, also "
        "commercially, but anything you distribute that includes or is based on it must be released under "
        "the GPL with its source.",
        "https://www.gnu.org/licenses/gpl.html",
    ),
    LicenseTerms(
        "gpl-2.0",
        "GNU General Public License v2.0",
        "copyleft",
        "yes",
        "yes",
        "yes",
        "no",
        "Copyleft: you may use, modify and share it, also commercially, but anything you distribute that "
        "includes or is based on it must be released under the GPL 2.0 with its source.",
        _spdx("GPL-2.0-only"),
    ),
    LicenseTerms(
        "gpl-3.0",
        "GNU General Public License v3.0",
        "copyleft",
        "yes",
        "yes",
        "yes",
        "no",
        "Copyleft: you may use, modify and share it, also commercially, but anything you distribute that "
        "includes or is based on it must be released under the GPL 3.0 with its source. It includes a patent "
        "licence.",
        _spdx("GPL-3.0-only"),
    ),
    LicenseTerms(
        "agpl-3.0",
        "GNU Affero General Public License v3.0",
        "copyleft",
        "yes",
        "yes",
        "yes",
        "no",
        "Strong copyleft: like the GPL 3.0, and also if users interact with a modified version over a "
        "network (for example as a hosted service), you must offer them its source under the AGPL.",
        _spdx("AGPL-3.0-only"),
    ),
    LicenseTerms(
        "gfdl",
        "GNU Free Documentation License family",
        "copyleft",
        "yes",
        "yes",
        "yes",
        "no",
        "A copyleft licence for documentation: you may copy, modify and share it, also commercially, but "
        "modified versions must be released under the GFDL with credit, and invariant sections must be kept.",
        "https://www.gnu.org/licenses/fdl.html",
    ),
    LicenseTerms(
        "eupl-1.1",
        "European Union Public License 1.1",
        "copyleft",
        "yes",
        "yes",
        "yes",
        "no",
        "Copyleft: you may use, modify and share it, also commercially, but modified versions you distribute "
        "or offer online must be released with source under the EUPL (or a listed compatible licence).",
        _spdx("EUPL-1.1"),
    ),
    LicenseTerms(
        "eupl-1.2",
        "European Union Public License 1.2",
        "copyleft",
        "yes",
        "yes",
        "yes",
        "no",
        "Copyleft: you may use, modify and share it, also commercially, but modified versions you distribute "
        "or offer online must be released with source under the EUPL (or a listed compatible licence).",
        _spdx("EUPL-1.2"),
    ),
    LicenseTerms(
        "osl-3.0",
        "Open Software License 3.0",
        "copyleft",
        "yes",
        "yes",
        "yes",
        "no",
        "Copyleft: you may use, modify and share it, also commercially, but modified versions you "
        "distribute, or deploy for others to use over a network, must be released with source under the OSL "
        "3.0.",
        _spdx("OSL-3.0"),
    ),
    # Weak copyleft: changes to the covered files stay open, larger works may use other terms.
    LicenseTerms(
        "lgpl",
        "GNU Lesser General Public License family",
        "weak-copyleft",
        "yes",
        "yes",
        "yes",
        "no",
        "One of the GNU LGPL licences (the version is not given): you may use it, also commercially, inside "
        "software under other terms, but changes to the LGPL-covered part must be released under the LGPL.",
        "https://www.gnu.org/licenses/lgpl.html",
    ),
    LicenseTerms(
        "lgpl-2.1",
        "GNU Lesser General Public License v2.1",
        "weak-copyleft",
        "yes",
        "yes",
        "yes",
        "no",
        "Weak copyleft: you may use it, also commercially, inside software under other terms, but changes to "
        "the LGPL-covered part must be released under the LGPL with source.",
        _spdx("LGPL-2.1-only"),
    ),
    LicenseTerms(
        "lgpl-3.0",
        "GNU Lesser General Public License v3.0",
        "weak-copyleft",
        "yes",
        "yes",
        "yes",
        "no",
        "Weak copyleft: you may use it, also commercially, inside software under other terms, but changes to "
        "the LGPL-covered part must be released under the LGPL with source.",
        _spdx("LGPL-3.0-only"),
    ),
    LicenseTerms(
        "lgpl-lr",
        "Lesser General Public License For Linguistic Resources",
        "weak-copyleft",
        "yes",
        "yes",
        "yes",
        "no",
        "Weak copyleft for linguistic resources (dictionaries, corpora): you may use them, also "
        "commercially, in works under other terms, but modified versions of the resource must stay under "
        "this licence.",
        _spdx("LGPLLR"),
    ),
    LicenseTerms(
        "mpl-2.0",
        "Mozilla Public License 2.0",
        "weak-copyleft",
        "yes",
        "yes",
        "yes",
        "no",
        "File-level copyleft: you may use it, also commercially, inside works under other terms, but changed "
        "MPL files must stay under the MPL and their source be available.",
        _spdx("MPL-2.0"),
    ),
    LicenseTerms(
        "epl-1.0",
        "Eclipse Public License 1.0",
        "weak-copyleft",
        "yes",
        "yes",
        "yes",
        "no",
        "Weak copyleft: you may use it, also commercially, alongside code under other terms, but changes to "
        "EPL-covered code you distribute must be released under the EPL with source.",
        _spdx("EPL-1.0"),
    ),
    LicenseTerms(
        "epl-2.0",
        "Eclipse Public License 2.0",
        "weak-copyleft",
        "yes",
        "yes",
        "yes",
        "no",
        "Weak copyleft: you may use it, also commercially, alongside code under other terms, but changes to "
        "EPL-covered code you distribute must be released under the EPL with source.",
        _spdx("EPL-2.0"),
    ),
    LicenseTerms(
        "ms-pl",
        "Microsoft Public License",
        "weak-copyleft",
        "yes",
        "yes",
        "conditional",
        "no",
        "You may use, modify and share it, also commercially, keeping its notices; source copies you share "
        "must be under the Ms-PL, compiled copies under a licence that complies with it.",
        _spdx("MS-PL"),
    ),
    # Responsible AI licences: open use, minus a list of forbidden uses that travels with every copy.
    LicenseTerms(
        "openrail",
        "OpenRAIL license family",
        "use-restricted",
        "yes",
        "yes",
        "conditional",
        "yes",
        "A Responsible AI Licence: you may use, modify and share the model, also commercially, but not for "
        "the "
        "uses the licence forbids; " + _OPENRAIL_PASS_ON,
        "https://huggingface.co/blog/open_rail",
    ),
    LicenseTerms(
        "bigscience-openrail-m",
        "BigScience OpenRAIL-M",
        "use-restricted",
        "yes",
        "yes",
        "conditional",
        "yes",
        "A Responsible AI Licence: you may use, modify and share the model, also commercially, but not for "
        "the "
        "uses listed in its attachment (such as harming people or disinformation); " + _OPENRAIL_PASS_ON,
        "https://bigscience.huggingface.co/blog/bigscience-openrail-m",
    ),
    LicenseTerms(
        "creativeml-openrail-m",
        "CreativeML OpenRAIL-M",
        "use-restricted",
        "yes",
        "yes",
        "conditional",
        "yes",
        "Stable Diffusion's Responsible AI Licence: you may use, modify and share the model and use the "
        "images "
        "it makes, also commercially, but not for the uses listed in its attachment; " + _OPENRAIL_PASS_ON,
        "https://huggingface.co/spaces/CompVis/stable-diffusion-license",
    ),
    LicenseTerms(
        "bigscience-bloom-rail-1.0",
        "BigScience BLOOM RAIL 1.0",
        "use-restricted",
        "yes",
        "yes",
        "conditional",
        "yes",
        "BLOOM's Responsible AI Licence: you may use, modify and share the model, also commercially, but not "
        "for the uses listed in its attachment; " + _OPENRAIL_PASS_ON,
        "https://huggingface.co/spaces/bigscience/license",
    ),
    LicenseTerms(
        "bigcode-openrail-m",
        "BigCode Open RAIL-M v1",
        "use-restricted",
        "yes",
        "yes",
        "conditional",
        "yes",
        "BigCode's Responsible AI Licence: you may use, modify and share the model, also commercially, but "
        "not "
        "for the uses listed in its attachment; " + _OPENRAIL_PASS_ON,
        "https://www.bigcode-project.org/docs/pages/bigcode-openrail",
    ),
    LicenseTerms(
        "openrail++",
        "Open Rail++-M License",
        "use-restricted",
        "yes",
        "yes",
        "conditional",
        "yes",
        "A Responsible AI Licence (used by Stable Diffusion XL): you may use, modify and share the model and "
        "its outputs, also commercially, but not for the uses listed in its attachment; " + _OPENRAIL_PASS_ON,
        "https://huggingface.co/stabilityai/stable-diffusion-xl-base-1.0/blob/main/LICENSE.md",
    ),
    # Research-only licences.
    LicenseTerms(
        "deepfloyd-if-license",
        "DeepFloyd IF Research License Agreement",
        "non-commercial",
        "no",
        "unknown",
        "unknown",
        "yes",
        "Stability AI's research licence for DeepFloyd IF: a personal, revocable licence to use, modify and "
        "share the model for non-commercial research only. Commercial use is not allowed.",
        None,
    ),
    LicenseTerms(
        "fair-noncommercial-research-license",
        "FAIR Noncommercial Research License",
        "non-commercial",
        "no",
        "unknown",
        "unknown",
        "yes",
        "Meta FAIR's licence for research releases: the model may be used, modified and shared for "
        "non-commercial research only. Commercial use is not allowed.",
        "https://huggingface.co/facebook/fair-noncommercial-research-license/blob/main/LICENSE",
    ),
    LicenseTerms(
        "h-research",
        "H Research License",
        "non-commercial",
        "no",
        "unknown",
        "unknown",
        "yes",
        "H Company's research licence: the model is licensed for research and other non-commercial use; "
        "commercial use needs a separate agreement with H Company.",
        "https://huggingface.co/Hcompany/Holo1-3B/blob/main/LICENSE",
    ),
    LicenseTerms(
        "intel-research",
        "Intel Research Use License Agreement",
        "non-commercial",
        "no",
        "unknown",
        "unknown",
        "yes",
        "Intel's research use licence: the model may be used for research only, not commercially.",
        "https://huggingface.co/OpenVINO/Llama-3.1-8B-Instruct-FastDraft-150M-int8-ov/blob/main/LICENSE.md",
    ),
    LicenseTerms(
        "apple-amlr",
        "Apple Model License for Research",
        "non-commercial",
        "no",
        "unknown",
        "unknown",
        "yes",
        "Apple's licence for research models: the model may be used, modified and shared for non-commercial "
        "research only, not in products or services.",
        "https://huggingface.co/apple/deeplabv3-mobilevit-small/blob/main/LICENSE",
    ),
    # Community licences of model makers: broad use, with conditions and an acceptable use policy.
    LicenseTerms(
        "llama2",
        "Llama 2 Community License Agreement",
        "custom",
        "conditional",
        "yes",
        "conditional",
        "yes",
        _mau_clause("Llama 2")
        + " If you share it, include the licence and Meta's copyright notice; use must follow Meta's "
        "Acceptable Use Policy, and Llama 2 or its outputs may not be used to improve other large language "
        "models.",
        "https://huggingface.co/meta-llama/Llama-2-7b-chat-hf/blob/main/LICENSE.txt",
    ),
    LicenseTerms(
        "llama3",
        "Llama 3 Community License Agreement",
        "custom",
        "conditional",
        "yes",
        "conditional",
        "yes",
        _mau_clause("Llama 3") + " If you share it or a product built on it, include the licence and show "
        '"Built with Meta Llama 3"; derived models\' names must begin with "Llama 3". Use must follow '
        "Meta's Acceptable Use Policy, and Llama 3 or its outputs may not be used to improve other large "
        "language models.",
        "https://huggingface.co/meta-llama/Meta-Llama-3-8B/blob/main/LICENSE",
    ),
    LicenseTerms(
        "llama3.1",
        "Llama 3.1 Community License Agreement",
        "custom",
        "conditional",
        "yes",
        "conditional",
        "yes",
        _mau_clause("Llama 3.1") + " " + _LLAMA_31_TERMS,
        "https://huggingface.co/meta-llama/Meta-Llama-3.1-70B-Instruct/blob/main/LICENSE",
    ),
    LicenseTerms(
        "llama3.2",
        "Llama 3.2 Community License Agreement",
        "custom",
        "conditional",
        "yes",
        "conditional",
        "yes",
        _mau_clause("Llama 3.2") + " " + _LLAMA_31_TERMS + _LLAMA_EU_MULTIMODAL,
        "https://huggingface.co/meta-llama/Llama-3.2-1B/blob/main/LICENSE.txt",
    ),
    LicenseTerms(
        "llama3.3",
        "Llama 3.3 Community License Agreement",
        "custom",
        "conditional",
        "yes",
        "conditional",
        "yes",
        _mau_clause("Llama 3.3") + " " + _LLAMA_31_TERMS,
        "https://huggingface.co/meta-llama/Llama-3.3-70B-Instruct/blob/main/LICENSE",
    ),
    LicenseTerms(
        "llama4",
        "Llama 4 Community License Agreement",
        "custom",
        "conditional",
        "yes",
        "conditional",
        "yes",
        _mau_clause("Llama 4") + " " + _LLAMA_31_TERMS + _LLAMA_EU_MULTIMODAL,
        "https://huggingface.co/meta-llama/Llama-4-Scout-17B-16E-Instruct/blob/main/LICENSE",
    ),
    LicenseTerms(
        "gemma",
        "Gemma Terms of Use",
        "custom",
        "conditional",
        "yes",
        "conditional",
        "yes",
        "Google's terms for Gemma: you may use, modify and share the model, also commercially, but not for "
        "the uses in Google's Prohibited Use Policy; anyone you share it or a derivative with must be bound "
        "by the same restrictions, and you must pass on the terms. Google may restrict use it believes "
        "breaks them.",
        "https://ai.google.dev/gemma/terms",
    ),
    LicenseTerms(
        "grok2-community",
        "Grok 2 Community License Agreement",
        "custom",
        "conditional",
        "unknown",
        "unknown",
        "yes",
        "xAI's community licence for Grok 2: use is allowed under its conditions and xAI's Acceptable Use "
        "Policy, commercial use only within the limits it sets, and the model or its outputs may not be used "
        "to train or improve other AI models (fine-tuning Grok 2 itself is allowed). Read it before relying "
        "on it.",
        "https://huggingface.co/xai-org/grok-2/blob/main/LICENSE",
    ),
    # Placeholders of the Hub list.
    LicenseTerms(
        "other",
        "Other",
        "custom",
        "unknown",
        "unknown",
        "unknown",
        "unknown",
        "A licence of the author's own, not one of the Hub's standard licences: hftui cannot say what it "
        "allows. Read its text (usually the repository's LICENSE file) before using the model.",
        None,
    ),
    # The author chose the Hub's "unknown": the one identifier whose family is honestly unknown.
    LicenseTerms(
        "unknown",
        "Unknown",
        "unknown",
        "unknown",
        "unknown",
        "unknown",
        "unknown",
        "The author marked the licence as unknown: nobody has said what you may do with it, so assume no "
        "permission beyond what the law allows and check the original source before reuse.",
        None,
    ),
)

NO_LICENSE = LicenseTerms(
    license_id="none",
    name="No licence",
    family="none",
    commercial_use="no",
    attribution_required="unknown",
    share_modifications="unknown",
    use_restrictions="unknown",
    summary=(
        "No licence is given: by default all rights are reserved by the author; you may not reuse, modify "
        "or distribute it without permission."
    ),
)


def _identifiers(value: object) -> list[str]:
    """The non-empty identifiers in a card's licence value, in order (a single value or a list)."""
    values = value if isinstance(value, list | tuple) else [value]
    found: list[str] = []
    for item in values:
        # YAML turns some identifiers into numbers or booleans; anything else is not an identifier.
        if isinstance(item, str | int | float) and not isinstance(item, bool) and str(item).strip():
            found.append(str(item).strip())
    return found


def _other(name: str | None, link: str | None) -> LicenseTerms:
    where = f"at {link}" if link else "usually in the repository's LICENSE file"
    called = f' ("{name}")' if name else ""
    return replace(
        LICENSES["other"],
        name=name or LICENSES["other"].name,
        link=link,
        summary=(
            f"A licence of the author's own{called}, not one of the Hub's standard licences: hftui cannot "
            f"say what it allows. Read its text ({where}) before using the model."
        ),
    )


def _unrecognised(raw: str, name: str | None, link: str | None) -> LicenseTerms:
    return LicenseTerms(
        license_id=raw.lower(),
        name=name or raw,
        family="unknown",
        commercial_use="unknown",
        attribution_required="unknown",
        share_modifications="unknown",
        use_restrictions="unknown",
        summary=(
            f'The card names the licence "{raw}", which is not one of the Hub\'s licence identifiers, so '
            "hftui cannot say what it allows. Read the card or the repository's licence file before use."
        ),
        link=link,
    )


def license_terms(
    license_id: str | list[str] | None,
    *,
    license_name: str | None = None,
    license_link: str | None = None,
) -> LicenseTerms:
    """The terms for a card's `license` value (case-insensitive); a list uses its first and names the rest.

    `license_name` and `license_link` describe a licence of the author's own (`license: other`).
    """
    name = license_name.strip() if isinstance(license_name, str) and license_name.strip() else None
    link = license_link.strip() if isinstance(license_link, str) and license_link.strip() else None
    identifiers = _identifiers(license_id)
    if not identifiers:
        # A card that names and links its own licence without `license: other` still has one.
        return _other(name, link) if name or link else NO_LICENSE
    first, others = identifiers[0], identifiers[1:]
    key = first.lower()
    if key == "other":
        terms = _other(name, link)
    elif key in LICENSES:
        terms = LICENSES[key]
    else:
        terms = _unrecognised(first, name, link)
    if others:
        listed = ", ".join(others)
        terms = replace(
            terms,
            summary=f"{terms.summary} The card also names {listed}; check which licence applies to what.",
        )
    return terms
