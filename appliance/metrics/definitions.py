"""Metrics that more than one process records.

Import this module only after `prepare_metrics_dir` has exported
PROMETHEUS_MULTIPROC_DIR: prometheus_client picks its storage at import.
Gauges that describe processes and the host are not here: they are read at
scrape time by `appliance.metrics.collectors`.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram, disable_created_metrics

# Multiprocess mode never exposes `_created` series; a process without the
# shared folder (tests, one-off tools) must show the same page.
disable_created_metrics()

JOB_RUNS = Counter(
    "customer_service_job_runs_total",
    "Scheduled job runs by job and outcome.",
    ["job", "outcome"],
)
JOB_DURATION = Histogram(
    "customer_service_job_duration_seconds",
    "Time a scheduled job took.",
    ["job"],
    buckets=(0.01, 0.1, 0.5, 1, 5, 15, 60, 300, 1800),
)

# Counted by the scheduler, the one process that sends alerts.
ALERT_WEBHOOK_DELIVERIES = Counter(
    "customer_service_alert_webhook_deliveries_total",
    "Alerts posted to ALERT_WEBHOOK_URL, by outcome: delivered or failed.",
    ["outcome"],
)

HTTP_REQUESTS = Counter(
    "customer_service_http_requests_total",
    "HTTP requests answered, by method, route template and status code.",
    ["method", "route", "status"],
)
# Cheap routes answer in about a millisecond; chat completions stream for
# tens of seconds, so the buckets span both.
HTTP_REQUEST_DURATION = Histogram(
    "customer_service_http_request_duration_seconds",
    "Time from request start to the end of the response body.",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
HTTP_REQUESTS_IN_FLIGHT = Gauge(
    "customer_service_http_requests_in_flight",
    "HTTP requests being answered right now, over all live workers.",
    multiprocess_mode="livesum",
)
FAQ_LOOKUPS = Counter(
    "customer_service_faq_lookups_total",
    "Customer questions looked up in the FAQ, by outcome: hit or miss.",
    ["outcome"],
)
WORKER_RESTARTS = Counter(
    "customer_service_worker_restarts_total",
    "Unplanned restarts of a supervised program (crash or hang).",
    ["program"],
)

CHAT_MESSAGES = Counter(
    "customer_service_chat_messages_total",
    "Chat messages stored, by sender: customer, assistant, agent or system.",
    ["sender"],
)
CHAT_HANDOFFS = Counter(
    "customer_service_chat_handoffs_total",
    "Conversations handed to a person, by reason.",
    ["reason"],
)
CHAT_FEED_QUERIES = Counter(
    "customer_service_chat_feed_queries_total",
    "Queries the per-worker message feed ran to deliver live events.",
)

MODEL_REQUESTS = Counter(
    "customer_service_model_requests_total",
    "Model provider attempts, by provider and outcome.",
    ["provider", "outcome"],
)
# A streamed answer takes seconds to a minute; the first token should come
# within a second or two.
MODEL_REQUEST_DURATION = Histogram(
    "customer_service_model_request_duration_seconds",
    "Time a model provider attempt took, from request to last token or failure.",
    ["provider"],
    buckets=(0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120),
)
MODEL_TIME_TO_FIRST_TOKEN = Histogram(
    "customer_service_model_time_to_first_token_seconds",
    "Time from a model request to its first streamed token.",
    ["provider"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30),
)
MODEL_TOKENS = Counter(
    "customer_service_model_tokens_total",
    "Tokens sent to and received from model providers, by direction.",
    ["provider", "direction"],
)
MODEL_FALLBACKS = Counter(
    "customer_service_model_fallbacks_total",
    "Replies that moved on from a provider to the next one.",
    ["provider"],
)

UPLOADS_ACCEPTED = Counter(
    "customer_service_uploads_accepted_total",
    "Images customers uploaded that were re-encoded and stored.",
)
UPLOADS_REJECTED = Counter(
    "customer_service_uploads_rejected_total",
    "Uploads refused, by reason: too_large, bad_type, bomb, undecodable, empty.",
    ["reason"],
)
