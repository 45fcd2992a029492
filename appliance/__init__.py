"""The operations shell of the customer-service appliance."""

__version__ = "0.1.0"
