"""The application. graph/ (the LangGraph agent), storage/ (one database), runtime/ (assembly, worker,
model process); settings, domain types and the error tree are shared by all three."""
