"""Conversations, messages, answers and handoff to agents."""
