"""Email dispatch: sandboxed templates, the outbox (plan once, send once), SMTP delivery, feedback.

- ``templating``: recruiter-editable Jinja2 in a sandbox, language fallback, template versions;
  ``contexts``: the variables of each template and a synthetic persona per template;
- ``config``: ``include/dispatch/``; ``periods``: period keys; ``links``: preference-centre links;
- ``catalogue``: the content catalogue (``include/content/``) -> ``content_items``;
- ``selection``: offers and content per person; ``planning``: audiences -> jobs; ``rendering``:
  jobs -> frozen outbox rows (``render_worker`` processes for large batches); ``outbox``: batches
  and bulk writes;
- ``messages``: EmailMessage building; ``transports``: SMTP and .eml; ``delivery``: claim, check
  again, send, retry, record;
- ``feedback``: bounces and complaints; ``service``: the steps as the DAGs run them;
- ``preview``, ``sink`` (a local SMTP server), ``demo``, ``synthetic`` (test and benchmark data).
"""
