"""Prometheus metrics shared by every process of the appliance."""
