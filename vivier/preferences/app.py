"""The preference centre: a small FastAPI app (Airflow plugin or ``uvicorn --factory``).

Pages (every link carries a signed token, see ``vivier.preferences.tokens``):

- ``/unsubscribe/{token}``: GET shows a page with a button; POST with ``List-Unsubscribe=One-Click``
  (RFC 8058, form-encoded or multipart, no cookie) withdraws at once;
- ``/manage/{token}``: purposes, frequency per purpose, language;
- ``/join/{token}`` (invitation from the rejection email) and ``/join`` (by email address): choose
  purposes -> 'requested' events and a confirmation link handed to the sender (double opt-in);
- ``/confirm/{token}``: GET shows a button, POST confirms (replays change nothing);
- ``/data/{token}``: "send me my data" / "forget me" -> rows of ``gdpr_requests``.

GETs never change consent (link scanners prefetch them); a GET of a page the person opens to act
(manage, join, data) counts as their contact ('click'), a form they submit as 'form'.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import jinja2
import sqlalchemy as sa
from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from vivier.consent.purposes import PURPOSES, frequencies
from vivier.preferences import service
from vivier.preferences.links import ALL_PURPOSES, CONFIRM_PATH, REQUEST_PATH, UNSUBSCRIBE_PATH, page_url
from vivier.preferences.mail import ConfirmationMail, Sender, sender_from_env
from vivier.preferences.texts import (
    EMAIL_LANGUAGES,
    PAGE_LANGUAGES,
    TEMPLATES_DIR,
    choose_language,
    consent_texts,
    messages,
)
from vivier.preferences.tokens import (
    CONFIRM,
    DEFAULT_MAX_AGE,
    DEMO_TOKEN_KEY,
    JOIN,
    PREFERENCES,
    REQUEST,
    UNSUBSCRIBE,
    ExpiredToken,
    InvalidToken,
    TokenPayload,
    TokenSigner,
    parse_keys,
)

log = logging.getLogger(__name__)

ANONYMOUS_JOIN_WINDOW = timedelta(minutes=10)
MAX_USER_AGENT = 512
SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex, nofollow",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
}


@dataclass(frozen=True)
class CentreSettings:
    """Where the CRM database is, the token keys (newest first) and the public base URL of the pages."""

    crm_url: str
    keys: list[str]
    base_url: str | None = None
    max_age: Mapping[str, timedelta] = field(default_factory=lambda: dict(DEFAULT_MAX_AGE))
    # the key of the suppression list's email hashes, so that data requests keep the hash too
    suppression_key: bytes | None = None


def _days(variable: str, default: timedelta) -> timedelta:
    value = os.environ.get(variable)
    return timedelta(days=float(value)) if value else default


def settings_from_env(
    crm_url: str | None = None, keys: list[str] | None = None, base_url: str | None = None
) -> CentreSettings:
    """Arguments first, else VIVIER_CRM_URL, VIVIER_TOKEN_KEYS, VIVIER_PREFERENCE_BASE_URL,
    VIVIER_CONFIRM_TOKEN_DAYS (7), VIVIER_PREFERENCES_TOKEN_DAYS (90) and VIVIER_SUPPRESSION_KEY."""
    from vivier.db import default_crm_url

    keys = list(keys) if keys else parse_keys(os.environ.get("VIVIER_TOKEN_KEYS"))
    if not keys:
        log.warning(
            "VIVIER_TOKEN_KEYS is not set: the preference centre signs its links with the PUBLIC DEMO KEY. "
            "Anyone can forge its links. Set VIVIER_TOKEN_KEYS before real people use it."
        )
        keys = [DEMO_TOKEN_KEY]
    max_age = dict(DEFAULT_MAX_AGE)
    max_age[CONFIRM] = _days("VIVIER_CONFIRM_TOKEN_DAYS", max_age[CONFIRM])
    max_age[PREFERENCES] = _days("VIVIER_PREFERENCES_TOKEN_DAYS", max_age[PREFERENCES])
    return CentreSettings(
        crm_url=crm_url or os.environ.get("VIVIER_CRM_URL") or default_crm_url(),
        keys=keys,
        base_url=base_url or os.environ.get("VIVIER_PREFERENCE_BASE_URL") or None,
        max_age=max_age,
        suppression_key=os.environ.get("VIVIER_SUPPRESSION_KEY", "").encode("utf-8") or None,
    )


class PageError(Exception):
    """Answer with the error page ``kind`` ('invalid' or 'expired') and ``status``."""

    def __init__(self, status: int, kind: str = "invalid") -> None:
        super().__init__(kind)
        self.status, self.kind = status, kind


class _Runtime:
    """Settings, engine and signer, built on first use (so the Airflow plugin imports cheaply)."""

    def __init__(self, load: Callable[[], CentreSettings], clock: Callable[[], datetime]) -> None:
        self._load, self._clock = load, clock
        self._lock = threading.Lock()
        self._built: tuple[CentreSettings, sa.Engine, TokenSigner] | None = None

    def get(self) -> tuple[CentreSettings, sa.Engine, TokenSigner]:
        with self._lock:
            if self._built is None:
                from vivier.db import ensure_current, make_engine

                settings = self._load()
                engine = make_engine(settings.crm_url)
                ensure_current(engine)
                signer = TokenSigner(settings.keys, clock=lambda: self._clock().timestamp())
                self._built = (settings, engine, signer)
            return self._built


def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _evidence(request: Request) -> service.Evidence:
    agent = request.headers.get("user-agent")
    return service.Evidence(
        ip=request.client.host if request.client else None,
        user_agent=agent[:MAX_USER_AGENT] if agent else None,
    )


def build_app(
    load_settings: Callable[[], CentreSettings],
    *,
    sender: Sender | None = None,
    clock: Callable[[], datetime] | None = None,
) -> FastAPI:
    """The app; ``load_settings`` runs once, at the first request."""
    clock = clock or (lambda: datetime.now(UTC))
    runtime = _Runtime(load_settings, clock)
    mail_sender = sender or sender_from_env()
    templates = _environment()
    app = FastAPI(title="Vivier preference centre", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.runtime = runtime
    app.state.sender = mail_sender

    @app.middleware("http")
    async def security_headers(request: Request, call_next):
        response = await call_next(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    def language(request: Request, person_language: str | None = None) -> str:
        return choose_language(
            request.query_params.get("lang"), person_language, request.headers.get("accept-language")
        )

    def render(name: str, lang: str, status: int = 200, **context: Any) -> HTMLResponse:
        values = {
            "lang": lang,
            "t": messages()[lang],
            "text": consent_texts()[lang],
            "page_languages": PAGE_LANGUAGES,
            "purposes": PURPOSES,
            "frequencies": frequencies(),
            "email_languages": EMAIL_LANGUAGES,
        }
        page = templates.get_template(name).render({**values, **context})
        return HTMLResponse(page, status_code=status)

    @app.exception_handler(PageError)
    async def page_error(request: Request, exc: PageError) -> Response:
        return render("error.html", language(request), exc.status, kind=exc.kind)

    @app.exception_handler(HTTPException)
    async def not_found(request: Request, exc: HTTPException) -> Response:
        if exc.status_code == 404:  # a truncated link lands here: same page as a bad token
            return render("error.html", language(request), 404, kind="invalid")
        return await http_exception_handler(request, exc)

    def verify(purpose: str, token: str) -> TokenPayload:
        settings, _, signer = runtime.get()
        try:
            return signer.verify(purpose, token, settings.max_age.get(purpose))
        except ExpiredToken as exc:
            raise PageError(410, "expired") from exc
        except InvalidToken as exc:
            raise PageError(404, "invalid") from exc

    def in_transaction(work: Callable[[sa.Connection], Any]) -> Any:
        _, engine, _ = runtime.get()
        with engine.begin() as connection:
            return work(connection)

    def read(work: Callable[[sa.Connection], Any]) -> Any:
        _, engine, _ = runtime.get()
        with engine.connect() as connection:
            return work(connection)

    def send_confirmation(person_id: int, email: str, purposes: list[str], event_id: int, lang: str, base: str):
        settings, _, signer = runtime.get()
        url = page_url(base, CONFIRM_PATH, signer.sign(CONFIRM, person_id, u=purposes, r=event_id))
        words, text = messages()[lang], consent_texts()[lang]
        body = words["confirm_email_body"].format(
            purposes=", ".join(text.purposes[p].label for p in purposes),
            days=int(settings.max_age[CONFIRM].total_seconds() // 86400),
            url=url,
        )
        mail = ConfirmationMail(person_id, email, words["confirm_email_subject"], body, url, lang)
        mail_sender.send(mail)

    def public_base(request: Request) -> str:
        settings, _, _ = runtime.get()
        if settings.base_url:
            return settings.base_url
        log.warning("no base URL configured: confirmation links use the request's own host")
        return str(request.base_url)

    # --- health -------------------------------------------------------------------------------

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> JSONResponse:
        read(lambda connection: connection.execute(sa.text("SELECT 1")).scalar())
        return JSONResponse({"status": "ok"})

    # --- unsubscribe (RFC 8058) ---------------------------------------------------------------

    @app.get("/unsubscribe/{token}")
    async def unsubscribe_page(request: Request, token: str) -> Response:
        payload = await run_in_threadpool(verify, UNSUBSCRIBE, token)
        purpose = str(payload.extra.get("u", ALL_PURPOSES))
        person_language = await run_in_threadpool(
            read, lambda connection: service.person_language(connection, payload.person_id)
        )
        lang = language(request, person_language)
        text = consent_texts()[lang]
        label = text.purposes[purpose].label if purpose in text.purposes else purpose
        return render("unsubscribe.html", lang, purpose=purpose, purpose_label=label)

    @app.post("/unsubscribe/{token}")
    async def unsubscribe_now(request: Request, token: str) -> Response:
        form = await request.form()
        if form.get("List-Unsubscribe") != "One-Click":
            raise PageError(400, "invalid")
        payload = await run_in_threadpool(verify, UNSUBSCRIBE, token)
        purpose = str(payload.extra.get("u", ALL_PURPOSES))
        evidence, at = _evidence(request), clock()

        def work(connection: sa.Connection) -> tuple[list[str], str | None]:
            withdrawn = service.unsubscribe(connection, payload.person_id, purpose, at, evidence)
            return withdrawn or [], service.person_language(connection, payload.person_id)

        withdrawn, person_language = await run_in_threadpool(in_transaction, work)
        log.info("one-click unsubscribe of person %s (%s): %d withdrawn", payload.person_id, purpose, len(withdrawn))
        return render("unsubscribed.html", language(request, person_language), withdrawn=withdrawn)

    # --- preferences ----------------------------------------------------------------------------

    def manage_links(person_id: int) -> dict[str, str]:
        _, _, signer = runtime.get()
        return {
            "data_link": f"../{REQUEST_PATH}/{signer.sign(REQUEST, person_id)}",
            "unsubscribe_all_link": f"../{UNSUBSCRIBE_PATH}/{signer.sign(UNSUBSCRIBE, person_id, u=ALL_PURPOSES)}",
        }

    @app.get("/manage/{token}")
    async def manage_page(request: Request, token: str) -> Response:
        payload = await run_in_threadpool(verify, PREFERENCES, token)
        at = clock()

        def work(connection: sa.Connection) -> service.PersonSettings | None:
            if not service.record_click(connection, payload.person_id, at):
                return None
            return service.load_settings(connection, payload.person_id, at)

        settings = await run_in_threadpool(in_transaction, work)
        if settings is None:
            raise PageError(404)
        lang = language(request, settings.language)
        return render("manage.html", lang, settings=settings, **manage_links(payload.person_id))

    @app.post("/manage/{token}")
    async def manage_save(request: Request, token: str) -> Response:
        form = await request.form()
        payload = await run_in_threadpool(verify, PREFERENCES, token)
        consents = [value for value in form.getlist("consent") if value in PURPOSES]
        wanted_frequencies = {p: str(form.get(f"frequency_{p}") or "") for p in PURPOSES}
        chosen_language = str(form.get("language") or "") or None
        evidence, at = _evidence(request), clock()

        def work(connection: sa.Connection) -> service.PreferenceChanges | None:
            # the consent text the person read: the page's language before this change
            shown = consent_texts()[language(request, service.person_language(connection, payload.person_id))]
            return service.update_preferences(
                connection, payload.person_id, consents, wanted_frequencies, chosen_language, at, evidence, shown
            )

        changes = await run_in_threadpool(in_transaction, work)
        if changes is None:
            raise PageError(404)
        return render("saved.html", language(request, chosen_language), changes=changes)

    # --- join (double opt-in) -----------------------------------------------------------------

    def join_page(lang: str, status: int = 200, **context: Any) -> HTMLResponse:
        context = {"anonymous": False, "active": frozenset(), "chosen": (), "email": "", "error": None, **context}
        return render("join.html", lang, status, **context)

    @app.get("/join/{token}")
    async def join_invited(request: Request, token: str) -> Response:
        payload = await run_in_threadpool(verify, JOIN, token)
        at = clock()

        def work(connection: sa.Connection) -> service.PersonSettings | None:
            if not service.record_click(connection, payload.person_id, at):
                return None
            return service.load_settings(connection, payload.person_id, at)

        settings = await run_in_threadpool(in_transaction, work)
        if settings is None:
            raise PageError(404)
        return join_page(language(request, settings.language), active=settings.active)

    @app.post("/join/{token}")
    async def join_invited_submit(request: Request, token: str) -> Response:
        form = await request.form()
        payload = await run_in_threadpool(verify, JOIN, token)
        chosen = [p for p in PURPOSES if p in form.getlist("purpose")]
        evidence, at = _evidence(request), clock()
        person_language = await run_in_threadpool(
            read, lambda connection: service.person_language(connection, payload.person_id)
        )
        lang = language(request, person_language)
        if not chosen:
            return join_page(lang, 400, error="join_none_chosen")
        text = consent_texts()[lang]

        def work(connection: sa.Connection) -> tuple[int | None, str | None]:
            event_id = service.request_join(
                connection, payload.person_id, chosen, at, evidence, text, person_acted=True
            )
            return event_id, service.person_email(connection, payload.person_id)

        event_id, email = await run_in_threadpool(in_transaction, work)
        if event_id is None or not email:
            raise PageError(404)
        base = public_base(request)
        await run_in_threadpool(send_confirmation, payload.person_id, email, chosen, event_id, lang, base)
        return render("join_sent.html", lang, anonymous=False)

    @app.get("/")
    @app.get("/join")
    async def join_anonymous(request: Request) -> Response:
        return join_page(language(request), anonymous=True)

    @app.post("/")
    @app.post("/join")
    async def join_anonymous_submit(request: Request) -> Response:
        """Same answer whether or not the address is known: the page never tells who is in the CRM."""
        form = await request.form()
        email = str(form.get("email") or "")[:320]
        chosen = [p for p in PURPOSES if p in form.getlist("purpose")]
        lang = language(request)
        if not chosen:
            return join_page(lang, 400, anonymous=True, email=email, error="join_none_chosen")
        evidence, at, text = _evidence(request), clock(), consent_texts()[lang]

        def work(connection: sa.Connection) -> tuple[int, int] | None:
            person_id = service.find_person_by_email(connection, email)
            if person_id is None or service.recently_requested(connection, person_id, at, ANONYMOUS_JOIN_WINDOW):
                return None
            event_id = service.request_join(connection, person_id, chosen, at, evidence, text, person_acted=False)
            return None if event_id is None else (person_id, event_id)

        found = await run_in_threadpool(in_transaction, work)
        if found is not None:
            person_id, event_id = found
            base, address = public_base(request), email.strip().lower()
            await run_in_threadpool(send_confirmation, person_id, address, chosen, event_id, lang, base)
        return render("join_sent.html", lang, anonymous=True)

    # --- confirmation ---------------------------------------------------------------------------

    def confirm_payload(token: str) -> tuple[TokenPayload, list[str], int]:
        payload = verify(CONFIRM, token)
        purposes, event_id = payload.extra.get("u"), payload.extra.get("r")
        if not isinstance(purposes, list) or not isinstance(event_id, int):
            raise PageError(404)
        return payload, [p for p in PURPOSES if p in purposes], event_id

    @app.get("/confirm/{token}")
    async def confirm_page(request: Request, token: str) -> Response:
        payload, purposes, _ = await run_in_threadpool(confirm_payload, token)
        person_language = await run_in_threadpool(
            read, lambda connection: service.person_language(connection, payload.person_id)
        )
        return render("confirm.html", language(request, person_language), requested=purposes)

    @app.post("/confirm/{token}")
    async def confirm_now(request: Request, token: str) -> Response:
        await request.form()
        payload, purposes, event_id = await run_in_threadpool(confirm_payload, token)
        evidence, at = _evidence(request), clock()

        def work(connection: sa.Connection) -> tuple[service.ConfirmOutcome | None, str | None]:
            outcome = service.confirm_join(connection, payload.person_id, purposes, event_id, at, evidence)
            return outcome, service.person_language(connection, payload.person_id)

        outcome, person_language = await run_in_threadpool(in_transaction, work)
        if outcome is None:
            raise PageError(404)
        kind = "confirmed" if outcome.confirmed else "already_confirmed" if outcome.already else "stale"
        return render("confirmed.html", language(request, person_language), kind=kind, outcome=outcome)

    # --- data-subject requests ------------------------------------------------------------------

    @app.get("/data/{token}")
    async def data_page(request: Request, token: str) -> Response:
        payload = await run_in_threadpool(verify, REQUEST, token)
        at = clock()

        def work(connection: sa.Connection) -> tuple[bool, str | None]:
            known = service.record_click(connection, payload.person_id, at)
            return known, service.person_language(connection, payload.person_id)

        known, person_language = await run_in_threadpool(in_transaction, work)
        if not known:
            raise PageError(404)
        return render("data.html", language(request, person_language), error=None)

    @app.post("/data/{token}")
    async def data_request(request: Request, token: str) -> Response:
        form = await request.form()
        payload = await run_in_threadpool(verify, REQUEST, token)
        kind = str(form.get("kind") or "")
        if kind not in service.REQUEST_KINDS:
            raise PageError(400)
        person_language = await run_in_threadpool(
            read, lambda connection: service.person_language(connection, payload.person_id)
        )
        lang = language(request, person_language)
        if kind == "erasure" and form.get("confirm_erasure") != "yes":
            return render("data.html", lang, 400, error="erasure_needs_confirmation")
        at, key = clock(), runtime.get()[0].suppression_key
        created = await run_in_threadpool(
            in_transaction, lambda connection: service.create_data_request(connection, payload.person_id, kind, at, key)
        )
        if created is None:
            raise PageError(404)
        log.info("data-subject request %s (%s) for person %s", created.request_id, kind, payload.person_id)
        return render("request_received.html", lang, data_request=created, due_date=created.due_at.date().isoformat())

    return app


def create_app(
    crm_url: str | None = None,
    keys: list[str] | None = None,
    base_url: str | None = None,
    *,
    sender: Sender | None = None,
    clock: Callable[[], datetime] | None = None,
    token_max_age: Mapping[str, timedelta] | None = None,
) -> FastAPI:
    """The preference centre; without arguments it reads VIVIER_CRM_URL, VIVIER_TOKEN_KEYS and
    VIVIER_PREFERENCE_BASE_URL (``uvicorn --factory vivier.preferences.app:create_app``)."""

    def load() -> CentreSettings:
        settings = settings_from_env(crm_url, keys, base_url)
        if token_max_age:
            settings = dataclasses.replace(settings, max_age={**settings.max_age, **token_max_age})
        return settings

    return build_app(load, sender=sender, clock=clock)
