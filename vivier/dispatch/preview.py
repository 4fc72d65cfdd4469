"""Preview a template for a synthetic persona: ``vivier preview TEMPLATE [--lang fr] [--out FOLDER]``.

Writes ``<template>.<lang>.eml`` (the whole message, HTML and text, as it would be sent: open it in
a mail client) and ``<template>.<lang>.html`` (the HTML part, for a browser) for each language
asked (``--lang all``: every language the template exists in). Rendering happens in the same
sandbox as real sends, so a template that previews is a template that sends.
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from pathlib import Path

from vivier.dispatch.config import DispatchConfig, default_config
from vivier.dispatch.contexts import sample_context
from vivier.dispatch.messages import MessageBuilder, OutgoingMessage, make_message_id
from vivier.dispatch.templating import TEMPLATES_DIR, TemplateCatalogue, TemplateProblem


def preview(
    template: str,
    language: str,
    out: Path,
    *,
    templates_dir: Path = TEMPLATES_DIR,
    config: DispatchConfig | None = None,
) -> list[Path]:
    """Render ``template`` in ``language`` (``all``: each language) for a synthetic persona; returns the files."""
    config = config or default_config()
    catalogue = TemplateCatalogue(templates_dir, config.fallback_languages)
    languages = catalogue.languages(template) if language == "all" else [language]
    if not languages:
        raise TemplateProblem(f"template {template!r} not found in {templates_dir}")
    builder = MessageBuilder(config.sender_name, config.sender_address)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for wanted in languages:
        compiled = catalogue.get(template, wanted)
        context = sample_context(template, compiled.language, config)
        rendered = compiled.render(context)
        message = OutgoingMessage(
            message_id=make_message_id("preview", template, 0, config.message_id_domain),
            recipient="preview@example.test",
            recipient_name=context["person"]["full_name"],
            subject=rendered.subject,
            body_text=rendered.text,
            body_html=rendered.html,
            language=compiled.language,
            headers={"List-Unsubscribe": f"<{context['links']['unsubscribe']}>"} if context["bulk"] else {},
        )
        stem = f"{template}.{compiled.language}"
        eml, html = out / f"{stem}.eml", out / f"{stem}.html"
        eml.write_bytes(builder.to_bytes(message, datetime.now(UTC)))
        html.write_text(rendered.html, encoding="utf-8")
        written += [eml, html]
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="vivier preview", description=__doc__.split("\n")[0])
    parser.add_argument("template", nargs="?", help="template name (omit to list them)")
    parser.add_argument("--lang", default="all", help="fr, en, de, it, or all (default)")
    parser.add_argument("--out", type=Path, default=Path("data/preview"), help="output folder (default data/preview)")
    parser.add_argument("--templates", type=Path, default=TEMPLATES_DIR, help="templates folder")
    args = parser.parse_args(argv)
    catalogue = TemplateCatalogue(args.templates)
    if not args.template:
        for name in catalogue.names:
            print(f"{name}: {', '.join(catalogue.languages(name))}")
        return 0
    try:
        files = preview(args.template, args.lang, args.out, templates_dir=args.templates)
    except (TemplateProblem, KeyError) as error:
        print(f"cannot preview: {error}")
        return 1
    for path in files:
        print(path)
    return 0
