"""The orchestrator: phases, approval gates, resume."""
