# The Vivier image: Python 3.11, the pinned stack of requirements.txt (Airflow 3.3 with the Celery,
# PostgreSQL, SMTP and standard providers) and the project installed editable in /opt/vivier, so that
# the dags/, plugins/, include/ and sql/ folders mounted by docker-compose.yaml override the copies
# baked in here. Every Airflow service and the preference centre run from this one image.
FROM python:3.11.14-slim-bookworm

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    AIRFLOW_HOME=/opt/airflow \
    AIRFLOW__CORE__DAGS_FOLDER=/opt/vivier/dags \
    AIRFLOW__CORE__PLUGINS_FOLDER=/opt/vivier/plugins \
    AIRFLOW__CORE__LOAD_EXAMPLES=False \
    PYTHONPATH=/opt/vivier/dags \
    VIVIER_DATA_DIR=/opt/vivier/data \
    GX_ANALYTICS_ENABLED=false

# One unprivileged user; group 0 owns the writable folders so any AIRFLOW_UID in group 0 can write.
RUN useradd --uid 50000 --gid 0 --create-home --home-dir /home/airflow airflow \
    && mkdir -p /opt/airflow/logs /opt/airflow/auth /opt/vivier/data \
    && chown -R 50000:0 /opt/airflow /opt/vivier \
    && chmod -R g+rwX /opt/airflow /opt/vivier

WORKDIR /opt/vivier

# The pinned stack first (its layer is reused until requirements.txt changes).
COPY requirements.txt ./
RUN pip install --no-cache-dir -r requirements.txt

COPY pyproject.toml README.md ./
COPY vivier ./vivier
COPY dags ./dags
COPY plugins ./plugins
COPY include ./include
COPY sql ./sql
RUN pip install --no-cache-dir --no-deps -e . \
    && chown -R 50000:0 /opt/vivier && chmod -R g+rwX /opt/vivier

USER 50000
EXPOSE 8080 8000
CMD ["airflow", "version"]
