"""Airflow-side helpers shared by the DAG files (connections, engines, defaults).

This folder is listed in ``dags/.airflowignore``: the DAG processor does not parse it for DAGs,
but DAG files import it (the dags folder is on ``sys.path``). Domain logic stays in ``vivier``.
"""
