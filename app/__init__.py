"""The customer-service product: API, models, AI answers, web UI."""
