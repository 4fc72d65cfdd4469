"""docker-compose.yaml, Dockerfile and .env.example checked without Docker (Docker cannot run here).

The compose file is interpolated the way ``docker compose`` does it (``${VAR}``, ``${VAR:-default}``,
``${VAR:?error}``, ``$$``) with the values of ``.env.example`` (secrets filled as docs/docker.md says),
then every reference is checked: services, volumes, files, variables, pinned images, connections.
"""

from __future__ import annotations

import json
import re
import secrets

import pytest
import yaml

from tests.conftest import REPO_ROOT

COMPOSE = REPO_ROOT / "docker-compose.yaml"
DOCKERFILE = REPO_ROOT / "Dockerfile"
ENV_EXAMPLE = REPO_ROOT / ".env.example"
DOCKER_DOC = REPO_ROOT / "docs" / "docker.md"
VARIABLE = re.compile(r"\$(?:\$|\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\})")
AIRFLOW_SERVICES = {
    "airflow-apiserver": "api-server",
    "airflow-scheduler": "scheduler",
    "airflow-dag-processor": "dag-processor",
    "airflow-triggerer": "triggerer",
    "airflow-worker": "celery worker",
}
VERSION_TAG = re.compile(r"^v?\d+\.\d+(\.\d+)?")


class MissingVariable(KeyError):
    pass


def interpolate(text: str, env: dict[str, str]) -> str:
    """Compose's variable substitution (the subset the file uses)."""

    def replace(match: re.Match) -> str:
        if match.group(0) == "$$":
            return "$"
        name, op, arg = match.group("name", "op", "arg")
        value = env.get(name)
        if op in (":-", "-"):
            return value if value or (op == "-" and value is not None) else arg
        if op in (":?", "?") and (value is None or (op == ":?" and not value)):
            raise MissingVariable(f"{name}: {arg}")
        if value is None:
            raise MissingVariable(name)
        return value

    return VARIABLE.sub(replace, text)


def referenced_variables(text: str) -> dict[str, str | None]:
    """Variable name -> its operator (None, ':-', ':?'...) for every ``${...}`` in ``text``."""
    return {m.group("name"): m.group("op") for m in VARIABLE.finditer(text) if m.group("name")}


def env_example() -> dict[str, str]:
    values = {}
    for line in ENV_EXAMPLE.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    return values


def filled_env() -> dict[str, str]:
    """.env.example with its empty secrets filled (as step 2 of docs/docker.md does)."""
    import base64

    env = env_example()
    for name in required_secrets():
        env[name] = (
            base64.urlsafe_b64encode(secrets.token_bytes(32)).decode() if "FERNET" in name else secrets.token_hex(24)
        )
    return env


def required_secrets() -> list[str]:
    """Variables the compose file refuses to run without (``${VAR:?...}``)."""
    return sorted(n for n, op in referenced_variables(COMPOSE.read_text()).items() if op in (":?", "?"))


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(interpolate(COMPOSE.read_text(), filled_env()))


def service_environment(service: dict) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {k: str(v) for k, v in env.items()}


def test_every_variable_is_in_env_example_and_secrets_are_required() -> None:
    example = env_example()
    referenced = referenced_variables(COMPOSE.read_text())
    assert set(referenced) <= set(example), f"not in .env.example: {sorted(set(referenced) - set(example))}"
    assert set(example) <= set(referenced), f"unused in docker-compose.yaml: {sorted(set(example) - set(referenced))}"
    secrets_needed = required_secrets()
    assert {"POSTGRES_PASSWORD", "AIRFLOW_FERNET_KEY", "AIRFLOW_JWT_SECRET", "VIVIER_TOKEN_KEYS"} <= set(secrets_needed)
    assert all(example[name] == "" for name in secrets_needed), "no secret value is shipped in .env.example"
    with pytest.raises(MissingVariable):
        interpolate(COMPOSE.read_text(), example)  # compose refuses to start before the secrets are set


def test_docs_fill_every_secret_and_keep_the_smtp_switches_opposite() -> None:
    guide = DOCKER_DOC.read_text()
    for name in required_secrets():
        assert name in guide, f"docs/docker.md does not say how to set {name}"
    example = env_example()
    assert {example["SMTP_STARTTLS"], example["SMTP_DISABLE_TLS"]} == {"true", "false"}


def test_services_of_the_celery_deployment_are_all_there(compose: dict) -> None:
    services = compose["services"]
    expected = {"postgres", "redis", "airflow-init", "mailpit", "preference-centre", *AIRFLOW_SERVICES}
    assert expected <= set(services)
    for name, subcommand in AIRFLOW_SERVICES.items():
        command = " ".join(services[name]["command"])
        assert command == f"airflow {subcommand}", name
        env = service_environment(services[name])
        assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
        assert env["AIRFLOW__CELERY__BROKER_URL"].startswith("redis://redis:")
        assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://airflow-apiserver:8080/execution/"
        assert "@postgres:5432/" in env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
    init = " ".join(services["airflow-init"]["command"])
    assert "airflow db migrate" in init and "vivier_airflow.crm migrate" in init, "the init runs both migrations"
    assert "mailpit" in services and 8025 in {int(p.split(":")[-1]) for p in services["mailpit"]["ports"]}


def test_depends_on_names_existing_services_with_valid_conditions(compose: dict) -> None:
    services = compose["services"]
    for name, service in services.items():
        depends = service.get("depends_on") or {}
        for other, rule in depends.items() if isinstance(depends, dict) else ((d, {}) for d in depends):
            assert other in services, f"{name} depends on unknown service {other}"
            condition = (rule or {}).get("condition", "service_started")
            assert condition in ("service_started", "service_healthy", "service_completed_successfully")
            if condition == "service_healthy":
                assert "healthcheck" in services[other], f"{name} waits for {other} to be healthy: it has no check"


def test_volumes_are_declared_and_bind_mounts_exist(compose: dict) -> None:
    declared = set(compose.get("volumes") or {})
    used = set()
    for name, service in compose["services"].items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith((".", "/")):
                assert (REPO_ROOT / source).exists(), f"{name} mounts {source}, which does not exist"
            else:
                assert source in declared, f"{name} uses undeclared volume {source}"
                used.add(source)
    assert used == declared, f"declared but unused volumes: {declared - used}"
    mounted = {v.split(":")[1] for v in compose["services"]["airflow-worker"]["volumes"]}
    assert {"/opt/vivier/dags", "/opt/vivier/plugins", "/opt/vivier/include", "/opt/vivier/sql"} <= mounted


def test_images_are_pinned_and_the_build_context_is_there(compose: dict) -> None:
    for name, service in compose["services"].items():
        image = service.get("image")
        assert image, f"{name} names no image"
        repository, _, tag = image.rpartition(":")
        assert repository and VERSION_TAG.match(tag), f"{name}: image {image} is not pinned to a version"
        if "build" in service:
            context = service["build"] if isinstance(service["build"], str) else service["build"]["context"]
            assert (REPO_ROOT / context / "Dockerfile").is_file()
    bases = re.findall(r"^FROM\s+(\S+)", DOCKERFILE.read_text(), flags=re.MULTILINE)
    assert bases and all(VERSION_TAG.match(b.rpartition(":")[2]) for b in bases), bases


def test_dockerfile_copies_existing_files_and_installs_the_pins() -> None:
    text = DOCKERFILE.read_text()
    ignored = {line.strip() for line in (REPO_ROOT / ".dockerignore").read_text().splitlines()}
    sources = [s for line in re.findall(r"^COPY\s+(.+)$", text, flags=re.MULTILINE) for s in line.split()[:-1]]
    assert sources
    for source in sources:
        assert (REPO_ROOT / source).exists(), f"Dockerfile copies {source}, which does not exist"
        assert source not in ignored, f".dockerignore hides {source} from the build"
    assert "pip install --no-cache-dir -r requirements.txt" in text
    assert ".env" in ignored and ".venv" in ignored and "data" in ignored
    pins = (REPO_ROOT / "requirements.txt").read_text()
    for package in ("apache-airflow-providers-celery==", "celery==", "redis==", "psycopg2-binary==", "uvicorn=="):
        assert f"\n{package}" in pins, f"{package} is not pinned in requirements.txt"


def test_connections_parse_and_point_at_the_compose_services(compose: dict) -> None:
    from vivier.db import crm_url_from_connection

    env = service_environment(compose["services"]["airflow-worker"])
    crm = json.loads(env["AIRFLOW_CONN_CRM_DB"])
    url = crm_url_from_connection(
        crm["conn_type"], **{k: crm.get(k) for k in ("host", "port", "login", "password", "schema")}
    )
    assert url.startswith("postgresql+psycopg://vivier:") and url.endswith("@postgres:5432/crm")
    smtp = json.loads(env["AIRFLOW_CONN_SMTP_DEFAULT"])
    assert (smtp["host"], smtp["port"]) == ("mailpit", 1025) and smtp["extra"]["disable_tls"] is True
    centre = json.loads(env["AIRFLOW_CONN_PREFERENCE_CENTRE"])
    assert centre["host"] == "http://localhost:8000" and centre["password"]
    assert env["AIRFLOW_VAR_VIVIER_SUPPRESSION_KEY"]
    assert env["AIRFLOW__CORE__FERNET_KEY"]
    from cryptography.fernet import Fernet

    Fernet(env["AIRFLOW__CORE__FERNET_KEY"].encode())  # a valid key


def test_preference_centre_runs_the_app_factory_on_the_crm(compose: dict) -> None:
    service = compose["services"]["preference-centre"]
    command = service["command"]
    target = command[command.index("--factory") + 1]
    module, _, factory = target.partition(":")
    assert (REPO_ROOT / (module.replace(".", "/") + ".py")).is_file()
    assert f"def {factory}(" in (REPO_ROOT / (module.replace(".", "/") + ".py")).read_text()
    env = service_environment(service)
    assert env["VIVIER_CRM_URL"].startswith("postgresql+psycopg://") and env["VIVIER_CRM_URL"].endswith("/crm")
    assert {"VIVIER_TOKEN_KEYS", "VIVIER_PREFERENCE_BASE_URL"} <= set(env)
    worker_env = service_environment(compose["services"]["airflow-worker"])
    assert json.loads(worker_env["AIRFLOW_CONN_PREFERENCE_CENTRE"])["password"] == env["VIVIER_TOKEN_KEYS"]


def test_init_script_is_valid_bash_with_valid_python(compose: dict) -> None:
    import subprocess

    command = compose["services"]["airflow-init"]["command"]
    assert command[0] == "bash" and command[-2] == "-c"
    script = command[-1]
    checked = subprocess.run(["bash", "-n", "-c", script], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr
    for snippet in re.findall(r"<<'PY'\n(.*?)\nPY\n", script, flags=re.DOTALL):
        compile(snippet, "airflow-init", "exec")


def test_airflow_commands_exist_in_the_pinned_airflow(compose: dict) -> None:
    from airflow.cli.cli_parser import get_parser

    parser = get_parser()
    commands = [s["command"][1:] for s in compose["services"].values() if s.get("command", [""])[0] == "airflow"]
    assert len(commands) >= 6
    for args in commands:
        subcommands = [a for a in args if not a.startswith("-")][:2]
        try:
            parser.parse_args([*subcommands, "--help"])
        except SystemExit as exc:  # --help exits 0; an unknown command exits 2
            assert exc.code == 0, f"airflow {' '.join(subcommands)} is not a command"
