"""Job offers from the ATSs: find the job files, read them, validate, tag skills, load.

from vivier.offers.pipeline import ingest_job_inbox      # all steps in one process
files, counts = ingest_job_inbox(engine, inbox, work_dir=..., as_of=..., run_id=...)
"""
