"""The FAQ knowledge base: entries, import, demo content and retrieval.

Callers answering customers use `app.knowledge.retrieval.search_faq` and
`best_answer`. This package imports nothing at load time: the first-run
step imports `demo` in processes whose metrics are not set up yet.
"""
