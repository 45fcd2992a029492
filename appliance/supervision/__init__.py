"""Run and watch the API workers and the scheduler under supervisord."""
