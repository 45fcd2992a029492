"""Readiness checks shared by `/health/ready` and `customer-service health`."""
