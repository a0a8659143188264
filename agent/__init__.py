"""The LangGraph triage agent: state, nodes, policy, LLM factory."""
