"""Exit codes every `customer-service` command shares."""

EXIT_OK = 0
EXIT_RUNTIME_FAILURE = 1
EXIT_BAD_CONFIG = 2
EXIT_START_FAILED = 3
