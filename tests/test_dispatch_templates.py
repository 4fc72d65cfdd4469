"""Recruiter-editable templates: the sandbox holds, mistakes fail loudly, every shipped template
renders in every language, versions follow the sources, and the preview command works."""

from __future__ import annotations

from pathlib import Path

import pytest
from jinja2.exceptions import SecurityError

from vivier.dispatch.config import default_config
from vivier.dispatch.contexts import format_date, sample_context
from vivier.dispatch.preview import main as preview_main
from vivier.dispatch.templating import LANGUAGES, TEMPLATES_DIR, TemplateCatalogue, TemplateProblem, one_line

SHIPPED = ["rejection_personal", "rejection_short", "job_offers_digest", "content_digest", "consent_renewal"]


def write_template(folder: Path, name: str, text: str, html: str, language: str = "en") -> None:
    (folder / name).mkdir(parents=True, exist_ok=True)
    (folder / name / f"{language}.txt").write_text(text, encoding="utf-8")
    (folder / name / f"{language}.html").write_text(html, encoding="utf-8")


def catalogue_with(tmp_path: Path, text: str, html: str = "<p>{{ who }}</p>") -> TemplateCatalogue:
    write_template(tmp_path, "t", text, html)
    return TemplateCatalogue(tmp_path)


def test_every_shipped_template_renders_in_every_language_for_a_synthetic_persona() -> None:
    config = default_config()
    catalogue = TemplateCatalogue()
    assert sorted(catalogue.names) == sorted(SHIPPED)
    for name in SHIPPED:
        assert catalogue.languages(name) == sorted(LANGUAGES)
        for language in LANGUAGES:
            rendered = catalogue.get(name, language).render(sample_context(name, language, config))
            assert rendered.subject and "\n" not in rendered.subject
            assert rendered.text.strip() and rendered.html.lstrip().startswith("<!DOCTYPE html>")
            assert f'<html lang="{language}">' in rendered.html
            assert "{{" not in rendered.text and "{%" not in rendered.html


def test_bulk_templates_carry_unsubscribe_and_preference_links_and_transactional_ones_do_not() -> None:
    config = default_config()
    catalogue = TemplateCatalogue()
    digest = catalogue.get("job_offers_digest", "fr").render(sample_context("job_offers_digest", "fr", config))
    assert "preferences/unsubscribe/TOKEN" in digest.text and "preferences/unsubscribe/TOKEN" in digest.html
    assert "preferences/manage/TOKEN" in digest.html
    rejection = catalogue.get("rejection_personal", "de").render(sample_context("rejection_personal", "de", config))
    assert "unsubscribe" not in rejection.text and "preferences/join/TOKEN" in rejection.html
    assert "Power BI" in rejection.text, "the recorded reasons are in the personal version"


def test_html_is_autoescaped_and_text_is_not(tmp_path: Path) -> None:
    catalogue = catalogue_with(
        tmp_path, "{% block subject %}Hi {{ who }}{% endblock %}{% block body %}{{ who }}{% endblock %}"
    )
    rendered = catalogue.get("t", "en").render({"who": "<b>Tom & Jerry</b>"})
    assert rendered.html == "<p>&lt;b&gt;Tom &amp; Jerry&lt;/b&gt;</p>"
    assert rendered.text == "<b>Tom & Jerry</b>\n" and rendered.subject == "Hi <b>Tom & Jerry</b>"


@pytest.mark.parametrize(
    "attack",
    [
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ who.__class__.__init__.__globals__ }}",
        "{{ range.__self__ }}",
        "{% set x = items.append(1) %}",
        "{{ items.clear() }}",
    ],
)
def test_the_sandbox_refuses_attribute_tricks_and_mutation(tmp_path: Path, attack: str) -> None:
    catalogue = catalogue_with(
        tmp_path, "{% block subject %}s{% endblock %}{% block body %}" + attack + "{% endblock %}"
    )
    with pytest.raises((TemplateProblem, SecurityError)):
        catalogue.get("t", "en").render({"who": "x", "items": [1, 2]})


def test_nothing_outside_the_context_is_reachable(tmp_path: Path) -> None:
    body = "{{ config }}{{ environ }}{{ os }}{{ lipsum }}"
    catalogue = catalogue_with(tmp_path, "{% block subject %}s{% endblock %}{% block body %}" + body + "{% endblock %}")
    with pytest.raises(TemplateProblem, match="UndefinedError"):
        catalogue.get("t", "en").render({"who": "x"})
    (tmp_path / "secret.txt").parent.mkdir(exist_ok=True)
    escape = catalogue_with(
        tmp_path, "{% block subject %}s{% endblock %}{% block body %}{% include '../../etc/passwd' %}{% endblock %}"
    )
    with pytest.raises(TemplateProblem):
        escape.get("t", "en").render({"who": "x"})


def test_a_misspelt_variable_fails_instead_of_printing_nothing(tmp_path: Path) -> None:
    catalogue = catalogue_with(
        tmp_path, "{% block subject %}Hi {{ persn.name }}{% endblock %}{% block body %}b{% endblock %}"
    )
    with pytest.raises(TemplateProblem, match="t/en: UndefinedError"):
        catalogue.get("t", "en").render({"person": {"name": "x"}})


def test_a_text_template_without_the_subject_block_is_refused(tmp_path: Path) -> None:
    catalogue = catalogue_with(tmp_path, "{% block body %}b{% endblock %}")
    with pytest.raises(TemplateProblem, match="subject"):
        catalogue.get("t", "en")


def test_language_fallback_and_versions_follow_every_source(tmp_path: Path) -> None:
    (tmp_path / "_partials").mkdir()
    (tmp_path / "_partials" / "foot.txt").write_text("-- foot", encoding="utf-8")
    text = "{% block subject %}s{% endblock %}{% block body %}b{% include '_partials/foot.txt' %}{% endblock %}"
    write_template(tmp_path, "t", text, "<p>en</p>", "en")
    write_template(tmp_path, "t", text, "<p>fr</p>", "fr")
    catalogue = TemplateCatalogue(tmp_path, fallback=("en", "fr"))
    assert catalogue.get("t", "de").language == "en", "no German version: the first fallback"
    assert catalogue.get("t", "fr").language == "fr" and catalogue.get("t", None).language == "en"
    before = catalogue.get("t", "en").version
    assert before != catalogue.get("t", "fr").version
    (tmp_path / "_partials" / "foot.txt").write_text("-- changed foot", encoding="utf-8")
    assert TemplateCatalogue(tmp_path).get("t", "en").version != before, "an edited partial changes the version"


def test_subjects_are_one_line_whatever_the_template_or_data_do() -> None:
    assert one_line(" Votre\u2028candidature\r\nchez   X\x0c ") == "Votre candidature chez X"


def test_dates_are_written_in_the_person_s_language() -> None:
    assert format_date("2026-12-10T07:30:00Z", "fr", with_time=True) == "10 décembre 2026, 08:30"
    assert format_date("2026-12-10T07:30:00Z", "de") == "10. Dezember 2026"
    assert format_date(None, "it") == ""


def test_preview_writes_an_eml_and_an_html_file_per_language(tmp_path: Path, capsys) -> None:
    assert preview_main(["rejection_short", "--lang", "all", "--out", str(tmp_path)]) == 0
    written = sorted(p.name for p in tmp_path.iterdir())
    assert written == sorted(f"rejection_short.{lang}.{ext}" for lang in LANGUAGES for ext in ("eml", "html"))
    assert b"Subject:" in (tmp_path / "rejection_short.it.eml").read_bytes()
    assert preview_main([]) == 0 and "content_digest" in capsys.readouterr().out
    assert preview_main(["no_such_template", "--out", str(tmp_path)]) == 1
    assert TEMPLATES_DIR.is_dir()


def test_the_dict_shortcut_renders_what_the_stock_sandbox_renders(tmp_path: Path) -> None:
    from jinja2 import StrictUndefined, select_autoescape
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    config = default_config()
    catalogue = TemplateCatalogue()
    stock = ImmutableSandboxedEnvironment(
        loader=catalogue.env.loader,
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False, default=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    stock.globals = dict(catalogue.env.globals)
    for name in SHIPPED:
        for language in LANGUAGES:
            context = sample_context(name, language, config)
            for part in ("txt", "html"):
                path = f"{name}/{language}.{part}"
                assert catalogue.env.get_template(path).render(context) == stock.get_template(path).render(context)
    # a dict's own methods are still methods, and a missing key is still undefined
    catalogue = catalogue_with(
        tmp_path,
        "{% block subject %}s{% endblock %}{% block body %}{{ d.items() | list }} {{ d.get('a') }}{% endblock %}",
        "{{ d.missing }}",
    )
    text = catalogue.env.get_template("t/en.txt")
    assert text.render(d={"a": 1, "items": 2}) == "s[('a', 1), ('items', 2)] 1"
    with pytest.raises(TemplateProblem, match="UndefinedError"):
        catalogue.get("t", "en").render({"d": {"a": 1}})
