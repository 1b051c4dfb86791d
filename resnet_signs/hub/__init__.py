"""The course on a shared JupyterHub: the hub administrator's configuration (:mod:`.config`) and the
feedback-on-submit service (:mod:`.watch`, whose grading runs in :mod:`.worker`; submissions are
found by :mod:`.inbound`)."""
