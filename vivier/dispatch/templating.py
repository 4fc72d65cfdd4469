"""Recruiter-editable email templates, rendered in a Jinja2 sandbox.

Layout of ``include/templates/``: one folder per template, and per language two files::

    <template>/<lang>.txt    blocks ``subject`` (one line) and ``body`` (the plain-text part)
    <template>/<lang>.html   the HTML part (autoescaped), usually ``{% extends "_layout/base.html" %}``

Templates are untrusted input: they run in an ``ImmutableSandboxedEnvironment`` (no attribute
tricks, no mutation of the data they are given), with ``StrictUndefined`` (a misspelt variable
fails instead of printing nothing), autoescape for HTML, and a loader confined to the templates
folder. Nothing else is reachable from a template: no environment variables, no files, no config.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from jinja2 import FileSystemLoader, StrictUndefined, Template, TemplateError, meta, select_autoescape
from jinja2.sandbox import ImmutableSandboxedEnvironment

from vivier.paths import INCLUDE_DIR

TEMPLATES_DIR = INCLUDE_DIR / "templates"
LANGUAGES = ("fr", "en", "de", "it")
DEFAULT_FALLBACK = ("en", "fr")
TEXT_BLOCKS = ("subject", "body")


class TemplateProblem(ValueError):
    """A template is missing, malformed, or fails to render (the message names template and language only)."""


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


def one_line(value: str) -> str:
    """Whitespace (line breaks, Unicode line and paragraph separators included) collapsed to single spaces."""
    return " ".join(value.split())


_DICT_ATTRIBUTES = frozenset(dir(dict))


class EmailSandbox(ImmutableSandboxedEnvironment):
    """The immutable sandbox, with a shortcut for what templates read most: a key of a plain dict.

    ``person.first_name`` on a dict first looks for a Python attribute ``first_name``, fails, then
    takes the item: the shortcut takes the item at once when the name is no attribute of ``dict``
    (so ``section.items`` is still the method, as in the stock sandbox) and falls back to the
    sandbox's own lookup otherwise. Same result, same checks, without raising and catching an
    AttributeError at every variable."""

    def getattr(self, obj: Any, attribute: str) -> Any:
        if type(obj) is dict and attribute not in _DICT_ATTRIBUTES:
            try:
                return obj[attribute]
            except KeyError:
                pass
        return super().getattr(obj, attribute)


def sandbox(templates_dir: Path = TEMPLATES_DIR) -> ImmutableSandboxedEnvironment:
    """The sandboxed environment every email template is rendered in."""
    env = EmailSandbox(
        loader=FileSystemLoader(str(templates_dir), encoding="utf-8"),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False, default=False),
        undefined=StrictUndefined,
        auto_reload=False,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    # only harmless helpers stay reachable (no lipsum/cycler/joiner)
    env.globals = {"range": range, "namespace": env.globals["namespace"]}
    return env


@dataclass
class CompiledTemplate:
    """One template in one language: subject and text from ``<lang>.txt``, HTML from ``<lang>.html``."""

    name: str
    language: str
    version: str
    text: Template
    html: Template

    def render(self, context: Mapping[str, Any]) -> Rendered:
        try:
            text_context = self.text.new_context(dict(context))
            subject = one_line("".join(self.text.blocks["subject"](text_context)))
            body = "".join(self.text.blocks["body"](text_context)).strip("\n") + "\n"
            html = self.html.render(context)
        except TemplateError as error:
            raise TemplateProblem(
                f"template {self.name}/{self.language}: {error.__class__.__name__}: {error}"
            ) from None
        return Rendered(subject=subject, text=body, html=html)


class TemplateCatalogue:
    """The templates of a folder, compiled once, with language fallback and a version per template."""

    def __init__(self, templates_dir: Path = TEMPLATES_DIR, fallback: Sequence[str] = DEFAULT_FALLBACK) -> None:
        self.templates_dir = Path(templates_dir)
        self.fallback = tuple(fallback)
        self.env = sandbox(self.templates_dir)
        self._compiled: dict[tuple[str, str], CompiledTemplate] = {}
        self._languages: dict[str, list[str]] = {}
        self._resolved: dict[tuple[str, str | None], str] = {}

    def languages(self, name: str) -> list[str]:
        """Languages the template exists in (both the .txt and the .html file)."""
        if name not in self._languages:
            folder = self.templates_dir / name
            self._languages[name] = sorted(
                p.stem
                for p in folder.glob("*.txt")
                if (folder / f"{p.stem}.html").is_file() and not p.stem.startswith("_")
            )
        return self._languages[name]

    @cached_property
    def names(self) -> list[str]:
        return sorted(
            p.name
            for p in self.templates_dir.iterdir()
            if p.is_dir() and not p.name.startswith(("_", ".")) and any(p.glob("*.txt"))
        )

    def resolve_language(self, name: str, language: str | None) -> str:
        """The person's language when the template has it, else the first fallback it has."""
        key = (name, language)
        if key not in self._resolved:
            available = self.languages(name)
            if not available:
                raise TemplateProblem(f"template {name!r} not found in {self.templates_dir}")
            candidates = [c for c in (language, *self.fallback) if c in available]
            self._resolved[key] = candidates[0] if candidates else available[0]
        return self._resolved[key]

    def get(self, name: str, language: str | None) -> CompiledTemplate:
        """The compiled template for ``language`` (after fallback)."""
        resolved = self.resolve_language(name, language)
        key = (name, resolved)
        if key not in self._compiled:
            self._compiled[key] = self._compile(name, resolved)
        return self._compiled[key]

    def _compile(self, name: str, language: str) -> CompiledTemplate:
        text_name, html_name = f"{name}/{language}.txt", f"{name}/{language}.html"
        try:
            text, html = self.env.get_template(text_name), self.env.get_template(html_name)
            version = self.version_of([text_name, html_name])
        except TemplateError as error:
            raise TemplateProblem(f"template {name}/{language}: {error.__class__.__name__}: {error}") from None
        missing = [block for block in TEXT_BLOCKS if block not in text.blocks]
        if missing:
            raise TemplateProblem(f"template {text_name} must define the blocks {', '.join(missing)}")
        return CompiledTemplate(name, language, version, text, html)

    def version_of(self, names: Iterable[str]) -> str:
        """Short hash of the sources of ``names`` and every template they extend, include or import."""
        seen: dict[str, str] = {}
        pending = list(names)
        while pending:
            current = pending.pop()
            if current in seen:
                continue
            source, _, _ = self.env.loader.get_source(self.env, current)
            seen[current] = source
            for referenced in meta.find_referenced_templates(self.env.parse(source)):
                if referenced:
                    pending.append(referenced)
        digest = hashlib.sha256()
        for template_name in sorted(seen):
            digest.update(template_name.encode() + b"\0" + seen[template_name].encode() + b"\0")
        return digest.hexdigest()[:12]
