"""Helpers the tests share: waiting on conditions, running the appliance."""
