"""The LangGraph triage agent: state and context, the wiring (graph.py), one module per node, and what
the nodes decide with (policy, routing, SLA, the LLM factory, prompt loader, trained classifier)."""
