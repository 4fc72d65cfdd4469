"""Skills taxonomy, skill tagger, ESCO importer, job family / seniority / age band."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest
import yaml

from vivier.tagging import (
    AGE_BANDS,
    SENIORITY_LEVELS,
    JobFamilies,
    SkillMatcher,
    SkillTaxonomy,
    TaxonomyError,
    age_band,
    job_family,
    seniority,
)
from vivier.tagging.esco import build_taxonomy, esco_id, lang_from_path, merge_into, read_esco
from vivier.tagging.esco import main as esco_main
from vivier.tagging.normalize import fold_token
from vivier.tagging.taxonomy import DEFAULT_PATH, LANGUAGES

ESCO_DIR = Path(__file__).parent / "fixtures" / "esco"


@pytest.fixture(scope="module")
def taxonomy() -> SkillTaxonomy:
    return SkillTaxonomy.load()


@pytest.fixture(scope="module")
def matcher(taxonomy: SkillTaxonomy) -> SkillMatcher:
    return SkillMatcher(taxonomy)


@pytest.fixture(scope="module")
def families() -> JobFamilies:
    return JobFamilies.load()


def skills_of(matcher: SkillMatcher, text: str) -> set[str]:
    return set(matcher.skills_of(text))


# ---------------------------------------------------------------------------- shipped taxonomy
def test_shipped_taxonomy_is_complete(taxonomy: SkillTaxonomy) -> None:
    assert 150 <= len(taxonomy) <= 260
    assert taxonomy.missing_labels() == {}
    for skill in taxonomy:
        assert skill.branch and all(part for part in skill.branch.split("."))
        assert set(LANGUAGES) <= set(skill.labels)
    # Design choice: no alias key names two skills (the loader refuses it under "error").
    assert taxonomy.alias_conflicts == "error"
    assert taxonomy.conflicts() == {}
    keys = [e.key for e in taxonomy.alias_entries()]
    assert len(keys) == len(set(keys))
    roots = {s.branch.split(".")[0] for s in taxonomy}
    for root in (
        "software",
        "data",
        "devops",
        "product",
        "project",
        "design",
        "sales",
        "marketing",
        "finance",
        "hr",
        "support",
        "logistics",
        "health",
        "legal",
        "languages",
        "soft_skills",
    ):
        assert root in roots, root
    for lang_skill in ("english", "french", "german", "italian", "spanish"):
        assert taxonomy.branch(lang_skill) == "languages"


def test_label_fallback_and_branches(taxonomy: SkillTaxonomy) -> None:
    assert taxonomy.label("accounting", "fr") == "Comptabilité"
    assert taxonomy.label("accounting", "de") == "Buchhaltung"
    assert taxonomy.label("accounting", "es") == "Accounting"  # English fallback
    assert "cpp" in taxonomy.branches["software.languages"]
    assert {"react", "dotnet"} <= set(taxonomy.skills_in_branch("software"))
    frame = taxonomy.frame("it")
    assert list(frame.columns) == ["skill_id", "branch", "branch_root", "label"]
    assert len(frame) == len(taxonomy)


def test_env_override_and_conflict_detection(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    doc = {
        "skills": [
            {"id": "a", "branch": "x", "label": {"en": "Alpha"}, "aliases": ["Shared"]},
            {"id": "b", "branch": "x", "label": {"en": "Beta"}, "aliases": ["shared"]},
        ]
    }
    path = tmp_path / "t.yaml"
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    monkeypatch.setenv("VIVIER_TAXONOMY", str(path))
    with pytest.raises(TaxonomyError, match="shared"):
        SkillTaxonomy.load()
    doc["alias_conflicts"] = "drop"
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    tax = SkillTaxonomy.load()
    assert tax.conflicts() == {"shared": ["a", "b"]}
    m = SkillMatcher(tax)
    assert m.skills_of("Alpha | shared") == ["a"]  # the shared key names nothing
    monkeypatch.delenv("VIVIER_TAXONOMY")
    assert SkillTaxonomy.load().source == DEFAULT_PATH


def test_bad_taxonomy_rejected() -> None:
    with pytest.raises(TaxonomyError):
        SkillTaxonomy.from_dict({"skills": [{"id": "Bad-Id", "branch": "x", "label": {"en": "x"}}]})
    with pytest.raises(TaxonomyError):
        SkillTaxonomy.from_dict({"skills": [{"id": "ok", "label": {"en": "x"}}]})


# ---------------------------------------------------------------------------- matcher
def test_js_javascript_java_distinguished(matcher: SkillMatcher) -> None:
    assert skills_of(matcher, "JS") == {"javascript"}
    assert skills_of(matcher, "javascript") == {"javascript"}
    assert skills_of(matcher, "Java") == {"java"}
    assert skills_of(matcher, "JavaScript, TypeScript") == {"javascript", "typescript"}
    assert skills_of(matcher, "Java Script") == {"javascript"}  # longest match wins
    assert skills_of(matcher, "Java and JavaScript") == {"java", "javascript"}


def test_symbols_survive(matcher: SkillMatcher) -> None:
    assert skills_of(matcher, "C++") == {"cpp"}
    assert skills_of(matcher, "C#") == {"csharp"}
    assert skills_of(matcher, ".NET") == {"dotnet"}
    assert skills_of(matcher, "Node.js") == {"nodejs"}
    assert skills_of(matcher, "5 years of C++ and C# on .NET Core, Node.js.") == {"cpp", "csharp", "dotnet", "nodejs"}
    assert skills_of(matcher, "ASP.NET") == {"dotnet"}
    assert skills_of(matcher, "C plus plus") == {"cpp"}
    assert skills_of(matcher, "CI/CD, PL/SQL") == {"ci_cd", "sql"}


def test_c_only_standalone(matcher: SkillMatcher) -> None:
    assert skills_of(matcher, "I got a c in maths") == set()
    assert skills_of(matcher, "C is a language I like") == set()
    assert skills_of(matcher, "C, C++, Python") == {"c", "cpp", "python"}
    assert skills_of(matcher, "C/C++") == {"c", "cpp"}


def test_accents_and_case_folded(matcher: SkillMatcher) -> None:
    for text in ("COMPTABILITÉ", "comptabilite", "Comptabilité", "comptabilités", "Comptabilite\u0301"):
        assert skills_of(matcher, text) == {"accounting"}, text


def test_multilingual_wordings_same_id(matcher: SkillMatcher) -> None:
    for text in ("Gestion de projet", "Projektmanagement", "gestione progetti", "Project management"):
        assert skills_of(matcher, text) == {"project_management"}, text
    for text in ("Comptabilité", "Buchhaltung", "contabilità", "Accounting"):
        assert skills_of(matcher, text) == {"accounting"}, text
    for text in ("Négociation commerciale", "Verhandlungsführung", "negoziazione", "Negotiation"):
        assert skills_of(matcher, text) == {"negotiation"}, text
    assert skills_of(matcher, "Anglais courant, allemand, italiano, Spanisch") == {
        "english",
        "german",
        "italian",
        "spanish",
    }


def test_plurals_and_feminine_forms(matcher: SkillMatcher) -> None:
    assert skills_of(matcher, "Databases") == skills_of(matcher, "database") == {"databases"}
    assert skills_of(matcher, "microservice") == {"microservices"}
    assert skills_of(matcher, "Tests unitaires") == skills_of(matcher, "test unitaire") == {"software_testing"}
    assert fold_token("Développeuses") == fold_token("développeur") == "developpeur"
    assert fold_token("Entwicklerin") == "entwickler"
    assert fold_token("réseaux") == "reseau"
    assert fold_token("anglais") == "anglais" and fold_token("aws") == "aws" and fold_token("node.js") == "node.js"


def test_ambiguous_aliases_need_context(matcher: SkillMatcher) -> None:
    # "CV" is a résumé in French, never a skill.
    assert skills_of(matcher, "J'ai envoyé mon CV et ma lettre") == set()
    # Go: a list cell, not prose.
    assert skills_of(matcher, "Python | Go | Docker") == {"python", "go", "docker"}
    assert "go" in skills_of(matcher, "Go")
    assert skills_of(matcher, "Je go au bureau") == set()
    assert skills_of(matcher, "ready to go") == set()
    assert "go" in skills_of(matcher, "Golang microservices")
    # R only standalone.
    assert skills_of(matcher, "R") == {"r_language"}
    assert skills_of(matcher, "Python, R, SQL") == {"python", "r_language", "sql"}
    assert skills_of(matcher, "R and Python") == {"python"}
    # Case-sensitive: "AI" yes, French "ai" no.
    assert skills_of(matcher, "Experience in AI and NLP") == {"artificial_intelligence", "nlp"}
    assert skills_of(matcher, "j'ai travaillé en équipe") == set()
    assert skills_of(matcher, "I excel at negotiation") == {"negotiation"}
    assert skills_of(matcher, "Excel, Word") == {"excel", "word"}


def test_extract_long_format(matcher: SkillMatcher) -> None:
    texts = pd.Series(
        ["Python, python, PYTHON | SQL", None, "JS | JavaScript", "Python, python, PYTHON | SQL", "", "nothing here"],
        index=["p1", "p2", "p3", "p4", "p5", "p6"],
    )
    out = matcher.extract(texts)
    assert list(out.columns) == ["row", "skill_id", "matched_alias"]
    got = list(zip(out["row"], out["skill_id"].astype(str), strict=True))
    assert got == [("p1", "python"), ("p1", "sql"), ("p3", "javascript"), ("p4", "python"), ("p4", "sql")]
    assert not out.duplicated(["row", "skill_id"]).any()
    assert out.loc[out["row"] == "p3", "matched_alias"].tolist() == ["JS"]  # first alias met is reported


def test_extract_preserves_index_labels(matcher: SkillMatcher) -> None:
    texts = pd.Series(["Docker", "Kubernetes, Docker", "Docker"], index=[10, 7, 10])
    out = matcher.extract(texts)
    assert out["row"].tolist() == [10, 7, 7, 10]
    assert out["skill_id"].astype(str).tolist() == ["docker", "kubernetes", "docker", "docker"]
    assert matcher.extract(pd.Series([], dtype=object)).empty
    assert matcher.extract(pd.Series([None, float("nan")])).empty


def test_extract_newlines_are_separators(matcher: SkillMatcher) -> None:
    assert skills_of(matcher, "Python\nGo\r\nR") == {"python", "go", "r_language"}
    assert skills_of(matcher, "Scala - Go - Rust") == {"scala", "go", "rust"}


# ---------------------------------------------------------------------------- ESCO
def test_esco_read_fixture() -> None:
    assert lang_from_path("skills_fr.csv") == "fr"
    assert esco_id("http://data.europa.eu/esco/skill/0a1f0c2d-1111-4000-8000-000000000001") == (
        "esco_0a1f0c2d_1111_4000_8000_000000000001"
    )
    esco = read_esco(sorted(ESCO_DIR.glob("skills_*.csv")))
    assert set(esco["lang"]) == {"en", "fr", "de"}
    assert not esco["preferred"].eq("Fortran").any()  # obsolete concept skipped
    java = esco[(esco["lang"] == "en") & esco["uri"].str.endswith("0001")].iloc[0]
    assert java["alt"] == ["Java", "Java SE", "Java EE development"]
    assert java["hidden"] == ["Jave"]


def test_esco_build_taxonomy() -> None:
    esco = read_esco(sorted(ESCO_DIR.glob("skills_*.csv")))
    tax = build_taxonomy(esco)
    sid = "esco_0a1f0c2d_1111_4000_8000_000000000002"
    assert tax.label(sid, "fr") == "comptabilité" and tax.label(sid, "de") == "Buchhaltung"
    assert tax.label(sid, "it") == "accounting"  # English fallback
    assert tax.branch(sid) == "esco.knowledge.cross_sector"
    assert tax.alias_conflicts == "drop" and "js" in tax.conflicts()  # shared by two concepts
    m = SkillMatcher(tax)
    assert m.skills_of("compta, Java-Programmierung") == [sid, "esco_0a1f0c2d_1111_4000_8000_000000000001"]
    assert m.skills_of("JS") == []  # dropped: ambiguous between two concepts


def test_esco_merge_and_cli(tmp_path: Path, taxonomy: SkillTaxonomy) -> None:
    esco = read_esco(sorted(ESCO_DIR.glob("skills_*.csv")))
    merged, report = merge_into(taxonomy, esco)
    assert set(report.linked) == {"java", "accounting", "english", "javascript"}
    assert report.unlinked == 3
    assert merged["accounting"].esco_uri.endswith("0002")
    assert "compta" in [a.text for a in merged["accounting"].aliases]
    assert "Jave" not in [a.text for a in merged["java"].aliases]  # hidden labels only on request
    assert SkillMatcher(merged).skills_of("compta") == ["accounting"]
    assert merged.conflicts() == {}

    out = tmp_path / "esco_skills.yaml"
    csvs = [str(p) for p in sorted(ESCO_DIR.glob("skills_*.csv"))]
    assert esco_main([arg for c in csvs for arg in ("--csv", c)] + ["--out", str(out)]) == 0
    loaded = SkillTaxonomy.load(out)
    assert len(loaded) == 7 and loaded.alias_conflicts == "drop"
    out2 = tmp_path / "merged.yaml"
    assert (
        esco_main([arg for c in csvs for arg in ("--csv", c)] + ["--out", str(out2), "--merge", str(DEFAULT_PATH)]) == 0
    )
    assert "compta" in [a.text for a in SkillTaxonomy.load(out2)["accounting"].aliases]


# ---------------------------------------------------------------------------- profile
def test_job_families_file(families: JobFamilies, taxonomy: SkillTaxonomy) -> None:
    assert 10 <= len(families) <= 14
    for fam in families:
        assert set(LANGUAGES) <= set(fam.labels), fam.id
        assert fam.title_keywords and fam.skills
        unknown = [s for s in fam.skills if s not in taxonomy]
        assert not unknown, (fam.id, unknown)


def test_job_family_from_titles_then_skills(matcher: SkillMatcher, families: JobFamilies) -> None:
    titles = pd.Series(
        [
            "Développeuse Python",
            "Senior Software Engineer",
            "Entwicklerin",
            "sviluppatore web",
            "Data Engineer",
            "Ingénieur commercial",
            "Infirmière de nuit",
            "Comptable",
            "Consultant",
            "Consultant",
            None,
        ],
        index=list("abcdefghijk"),
    )
    skills = matcher.extract(pd.Series(["Comptabilité, Paie, SAP", "Python | Django | Docker"], index=["i", "j"]))
    fam = job_family(titles, skills, families=families)
    assert fam.index.equals(titles.index)
    assert fam.tolist() == [
        "software_engineering",
        "software_engineering",
        "software_engineering",
        "software_engineering",
        "data_analytics",
        "sales",
        "health_care",
        "finance_accounting",
        "finance_accounting",
        "software_engineering",
        "other",
    ]
    assert job_family(pd.Series(["Consultant"]), families=families).tolist() == ["other"]


def test_seniority() -> None:
    titles = pd.Series(
        [
            "Stagiaire développeur",
            "Développeur",
            "Dev",
            "Dev",
            "Dev",
            "Tech Lead",
            "Chef de projet",
            "Teamleiter Vertrieb",
            "responsabile amministrativo",
            "Senior accountant",
            "Junior PM",
            None,
        ]
    )
    years = pd.Series([None, 1, 3, 7, 12, 3, None, 2, None, None, 8, None])
    out = seniority(years, titles)
    assert out.tolist() == [
        "intern",
        "junior",
        "mid",
        "senior",
        "lead",
        "lead",
        "lead",
        "lead",
        "lead",
        "senior",
        "junior",
        "unknown",
    ]
    assert list(out.cat.categories) == list(SENIORITY_LEVELS)
    assert seniority(pd.Series([2.0, 5.0, 10.0, -3.0, float("nan")])).tolist() == [
        "mid",
        "senior",
        "lead",
        "unknown",
        "unknown",
    ]


def test_age_band() -> None:
    births = pd.Series(
        [
            "2007-03-14",
            "2007-03-15",
            "1990-06-01",
            "01/02/1985",
            date(1975, 1, 1),
            pd.Timestamp("1965-12-31"),
            "1950-01-01",
            None,
            "not a date",
        ],
        index=list("abcdefghi"),
    )
    out = age_band(births, as_of=date(2025, 3, 14))
    assert out.tolist() == ["18-24", "unknown", "25-34", "35-44", "45-54", "55+", "55+", "unknown", "unknown"]
    assert out.index.equals(births.index)
    assert list(out.cat.categories) == list(AGE_BANDS)
